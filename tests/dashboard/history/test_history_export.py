"""``heron dashboard export``: a structurally valid CloudWatch dashboard body."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import orjson
import pytest

from heron.cli import main
from heron.dashboard.history.cloudwatch_export import GRID_COLUMNS, dashboard_body
from heron.dashboard.layout import SEED_FUNCTIONS, DashboardConfig

ID = re.compile(r"^[a-z][a-zA-Z0-9_]*$")
WIDGET_KEYS = {"type", "x", "y", "width", "height", "properties"}


def check_body(body: Any) -> None:
    """What PutDashboard accepts: widgets on a 24-column grid, metric rows, ids, annotations."""
    assert isinstance(body, dict) and set(body) == {"widgets"}
    cells: set[tuple[int, int]] = set()
    assert body["widgets"]
    for w in body["widgets"]:
        assert set(w) == WIDGET_KEYS, w
        assert w["type"] in ("metric", "text")
        for key in ("x", "y", "width", "height"):
            assert isinstance(w[key], int) and w[key] >= 0
        assert 1 <= w["width"] <= GRID_COLUMNS and 1 <= w["height"] <= 1000
        assert w["x"] + w["width"] <= GRID_COLUMNS
        mine = {
            (x, y)
            for x in range(w["x"], w["x"] + w["width"])
            for y in range(w["y"], w["y"] + w["height"])
        }
        assert not cells & mine, f"widget overlaps another: {w}"
        cells |= mine
        props = w["properties"]
        if w["type"] == "text":
            assert isinstance(props["markdown"], str) and props["markdown"]
            continue
        assert props["view"] == "timeSeries" and props["region"] == "eu-west-1"
        assert isinstance(props["stat"], str)
        assert props["period"] % 60 == 0
        ids: list[str] = []
        expressions: list[str] = []
        for row in props["metrics"]:
            assert isinstance(row, list) and row
            options = row[-1] if isinstance(row[-1], dict) else {}
            names = row[:-1] if options else row
            assert all(isinstance(x, str) for x in names)
            if "expression" in options:
                assert names == []
                expressions.append(options["expression"])
            else:
                assert len(names) >= 2 and len(names) % 2 == 0  # namespace, name, then pairs
            assert ID.match(options["id"]), options
            ids.append(options["id"])
        assert len(ids) == len(set(ids))
        for expr in expressions:
            for ref in re.findall(r"\b([me]\d+)\b", expr):
                assert ref in ids, (expr, ids)
        for line in props.get("annotations", {}).get("horizontal", []):
            assert isinstance(line["value"], float | int) and isinstance(line["label"], str)


def metric_widgets(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {w["properties"]["title"]: w for w in body["widgets"] if w["type"] == "metric"}


def test_the_body_is_valid_and_draws_the_seeds_thresholds() -> None:
    body = dashboard_body(DashboardConfig(), region="eu-west-1")
    check_body(body)
    widgets = metric_widgets(body)
    for fn in SEED_FUNCTIONS:
        duration = widgets[f"{fn} duration (ms)"]["properties"]
        assert [r[-1]["stat"] for r in duration["metrics"]] == ["p50", "p95", "p99"]
        assert duration["annotations"]["horizontal"][0]["value"] == 25_000
    error_rate = widgets["Function error rate (%)"]["properties"]
    assert error_rate["annotations"]["horizontal"][0]["value"] == 1.0
    first_expr = next(r[0] for r in error_rate["metrics"] if "expression" in r[0])
    assert first_expr["expression"] == "100*(m1)/m2"
    hidden = [r for r in error_rate["metrics"] if r[-1].get("visible") is False]
    assert hidden[0][:4] == ["AWS/Lambda", "Errors", "FunctionName", "createUser"]
    ws = widgets["WebSocket active connections (count)"]["properties"]
    assert ws["annotations"]["horizontal"][0]["value"] == 10_000
    assert (
        widgets["HTTP API error rate (%)"]["properties"]["annotations"]["horizontal"][0]["value"]
        == 5.0
    )


def test_heron_local_metrics_are_swapped_for_their_aws_equivalents() -> None:
    body = dashboard_body(DashboardConfig(), region="eu-west-1")
    widgets = metric_widgets(body)
    memory = widgets["Memory used (% of allocated) (%)"]["properties"]["metrics"]
    assert memory[0][:4] == ["LambdaInsights", "memory_utilization", "function_name", "createUser"]
    cold = widgets["Cold-start rate (%)"]["properties"]["metrics"]
    assert ["Heron/LogPatterns", "createUserColdStarts"] in [r[:-1] for r in cold]
    latency = widgets["Request latency (slowest operation, average) (ms)"]["properties"]
    expr = latency["metrics"][0][0]["expression"]
    assert expr.startswith("MAX(SEARCH('{AWS/DynamoDB,Operation,TableName} ")
    assert 'MetricName="SuccessfulRequestLatency" TableName="Users"' in expr
    notes = " ".join(w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text")
    assert "ActiveConnections" in notes


def test_cli_writes_the_body_to_a_file_and_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "dash.json"
    assert (
        main(
            [
                "dashboard",
                "export",
                "--out",
                str(out),
                "--region",
                "eu-west-1",
                "--http-api-id",
                "a1b2c3",
            ]
        )
        == 0
    )
    body = orjson.loads(out.read_bytes())
    check_body(body)
    http = metric_widgets(body)["HTTP API requests (count)"]["properties"]["metrics"]
    assert http[0][:4] == ["AWS/ApiGateway", "Count", "ApiId", "a1b2c3"]
    capsys.readouterr()
    assert main(["dashboard", "export", "--region", "eu-west-1"]) == 0
    check_body(orjson.loads(capsys.readouterr().out))
    assert main(["dashboard", "export", "--out", str(tmp_path / "no" / "such" / "x.json")]) == 1
    assert "cannot write" in capsys.readouterr().err
