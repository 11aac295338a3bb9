"""The alarm list and alarms turning tiles red (pure functions)."""

from __future__ import annotations

from typing import Any

from heron.dashboard.alarm_view import alarm_summary, overlay_alarms, tile_for_alarm
from heron.dashboard.layout import DashboardConfig

CONFIG = DashboardConfig()


def alarm(name: str, state: str, dims: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "StateValue": state,
        "StateReason": f"{name} reason",
        "StateTransitionedTimestamp": 1_800_000_000.5,
        "Namespace": "AWS/Lambda",
        "MetricName": "Errors",
        "Dimensions": [{"Name": k, "Value": v} for k, v in (dims or {}).items()],
    }


def test_rows_put_alarms_first_and_drop_reasons_of_ok_ones() -> None:
    panel = alarm_summary([alarm("b", "OK"), alarm("a", "INSUFFICIENT_DATA"), alarm("c", "ALARM")])
    assert [r["name"] for r in panel["rows"]] == ["c", "a", "b"]
    assert panel["counts"] == {"ALARM": 1, "INSUFFICIENT_DATA": 1, "OK": 1}
    assert panel["rows"][0]["since"] == 1_800_000_000_500
    assert "reason" not in panel["rows"][2]


def test_alarm_dimensions_name_their_tile() -> None:
    assert tile_for_alarm(alarm("x", "OK", {"FunctionName": "getUser"}), CONFIG) == (
        "function:getUser"
    )
    assert tile_for_alarm(alarm("x", "OK", {"TableName": "Users"}), CONFIG) == "table:Users"
    assert tile_for_alarm(alarm("x", "OK", {"ApiId": "local-ws"}), CONFIG) == "api:websocket"
    assert tile_for_alarm(alarm("x", "OK", {"FunctionName": "other"}), CONFIG) is None
    assert tile_for_alarm(alarm("x", "OK"), CONFIG) is None


def test_an_alarm_in_alarm_turns_its_tile_red() -> None:
    tiles = [
        {"id": "function:getUser", "level": "ok", "reasons": []},
        {"id": "table:Users", "level": "ok", "reasons": []},
    ]
    overlay_alarms(
        tiles,
        [
            alarm("GetUserErrors", "ALARM", {"FunctionName": "getUser"}),
            alarm("UsersLatency", "OK", {"TableName": "Users"}),
        ],
        CONFIG,
    )
    assert tiles[0]["level"] == "alarm" and tiles[0]["reasons"] == ["alarm GetUserErrors"]
    assert tiles[1]["level"] == "ok"
