"""Cost analysis against hand-computed values (the reference's illustrative month, §4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from heron.dashboard.history.costs import (
    MONTH_S,
    ApiUsage,
    FunctionUsage,
    Prices,
    TableUsage,
    api_costs,
    cost_report,
    function_cost,
    table_cost,
)
from heron.settings import SETTINGS, load_settings

P = Prices()
DAY_S = 86400.0


def test_function_cost_is_requests_plus_gb_seconds() -> None:
    # 1.1 M invocations of 100 ms at 256 MB: 110,000 s x 0.25 GB = 27,500 GB-s.
    line = function_cost(FunctionUsage("sendMessage", 256, 1_100_000, 110_000_000.0), P)
    assert line.parts[0][:2] == ("requests", 1_100_000)
    assert line.parts[0][2] == pytest.approx(0.22)
    assert line.parts[1][1] == pytest.approx(27_500.0)
    assert line.parts[1][2] == pytest.approx(27_500 * 0.0000166667)  # 0.45833425
    assert line.cost == pytest.approx(0.67833425)


def test_init_duration_is_billed_too() -> None:
    # 2,000 ms of INIT at 1,024 MB = 2 GB-s.
    line = function_cost(FunctionUsage("getUser", 1024, 0, 0.0, 2000.0), P)
    assert line.cost == pytest.approx(2 * 0.0000166667)


def test_api_costs_count_messages_both_ways_and_connection_minutes() -> None:
    http, ws = api_costs(ApiUsage(100_000, 1_000_000, 5_000_000, 14_400_000), P)
    assert http.cost == pytest.approx(0.10)
    assert ws.parts[0][:2] == ("messages", 6_000_000) and ws.parts[0][2] == pytest.approx(6.00)
    assert ws.parts[1][:2] == ("connection-minutes", 14_400_000)
    assert ws.parts[1][2] == pytest.approx(3.60)
    assert ws.cost == pytest.approx(9.60)


def test_on_demand_and_provisioned_tables() -> None:
    on_demand = table_cost(TableUsage("Messages", 500_000, 6_000_000), P, DAY_S)
    assert on_demand.cost == pytest.approx(0.0625 + 3.75)
    # 5 RCU + 5 WCU for 24 h = 120 unit-hours each; 10 GB for 24 h of a 730 h month.
    prov = table_cost(TableUsage("Users", 0, 0, (5, 5), 10.0), P, DAY_S)
    parts = {what: cost for what, _, cost in prov.parts}
    assert parts["RCU-hours"] == pytest.approx(120 * 0.00013)
    assert parts["WCU-hours"] == pytest.approx(120 * 0.00065)
    assert parts["storage GB-months"] == pytest.approx(10 * 24 / 730 * 0.25)
    assert prov.cost == pytest.approx(0.0156 + 0.078 + 10 * 24 / 730 * 0.25)


def test_report_totals_per_message_and_monthly_projection() -> None:
    report = cost_report(
        [FunctionUsage("sendMessage", 256, 1_100_000, 110_000_000.0)],
        ApiUsage(100_000, 1_000_000, 5_000_000, 14_400_000),
        [TableUsage("Messages", 500_000, 6_000_000)],
        1_000_000,
        P,
        DAY_S,
    )
    total = 0.67833425 + 0.10 + 9.60 + 3.8125
    assert report.total == pytest.approx(total)
    assert report.per_message == pytest.approx(total / 1_000_000)
    body = report.as_json(P)
    assert body["monthly"] == pytest.approx(total * 730 / 24)
    assert body["byKind"]["api"]["cost"] == pytest.approx(9.70)
    assert MONTH_S == 730 * 3600
    with pytest.raises(ValueError):
        cost_report([], ApiUsage(0, 0, 0, 0), [], 0, P, 0)
    empty = cost_report([], ApiUsage(0, 0, 0, 0), [], 0, P, DAY_S)
    assert empty.per_message is None and empty.total == 0


def test_prices_come_from_settings_and_default_to_the_list_prices(tmp_path: Path) -> None:
    defaults = {s.name: s.default for s in SETTINGS if s.name.startswith("price_")}
    assert len(defaults) == len(P.as_json())
    for name, value in defaults.items():
        assert getattr(P, name.removeprefix("price_")) == value
    config = tmp_path / "heron.toml"
    config.write_text("price_lambda_gb_second = 0.0000133334\n")
    settings = load_settings(config, environ={"HERON_PRICE_WS_MESSAGES_PER_MILLION": "0.8"})
    prices = Prices.from_settings(settings.values)
    assert prices.lambda_gb_second == 0.0000133334
    assert prices.ws_messages_per_million == 0.8
    assert prices.http_requests_per_million == 1.0
