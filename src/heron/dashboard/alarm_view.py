"""The alarm list and the alarms' effect on the tiles (pure functions over DescribeAlarms dicts).

A metric alarm whose dimensions (or its metric math's) name one of the dashboard's resources (``FunctionName``,
``TableName`` or ``ApiId``) turns that resource's tile red while it is in ALARM; dimensionless
alarms (the seed's account-wide ones) only appear in the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.dashboard.alarm_detail import watched_metrics
from heron.dashboard.layout import DashboardConfig

ALARM_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}


def _since_ms(alarm: dict[str, Any]) -> int | None:
    since = alarm.get("StateTransitionedTimestamp") or alarm.get("StateUpdatedTimestamp")
    return None if since is None else int(float(since) * 1000)


def alarm_rows(alarms: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Name, state and since when (epoch ms), ALARM first; reasons only where not OK."""
    rows: list[dict[str, Any]] = []
    for a in alarms:
        state = str(a.get("StateValue", "INSUFFICIENT_DATA"))
        row: dict[str, Any] = {
            "name": str(a.get("AlarmName", "")),
            "state": state,
            "since": _since_ms(a),
        }
        if state != "OK":
            row["reason"] = str(a.get("StateReason", ""))
        rows.append(row)
    rows.sort(key=lambda r: (ALARM_ORDER.get(str(r["state"]), 3), str(r["name"])))
    return rows


def alarm_summary(alarms: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The alarm panel: how many alarms are in each state, and the rows."""
    counts = {"ALARM": 0, "INSUFFICIENT_DATA": 0, "OK": 0}
    for a in alarms:
        state = str(a.get("StateValue", "INSUFFICIENT_DATA"))
        counts[state] = counts.get(state, 0) + 1
    return {"counts": counts, "rows": alarm_rows(alarms)}


def tile_for_alarm(alarm: dict[str, Any], config: DashboardConfig) -> str | None:
    """The tile id a metric alarm watches, from its (or its metric math's) dimensions."""
    for watched in watched_metrics(alarm):
        tile = _tile_for_dims(dict(watched.dims), config)
        if tile is not None:
            return tile
    return None


def _tile_for_dims(dims: dict[str, str], config: DashboardConfig) -> str | None:
    if "FunctionName" in dims and any(f.name == dims["FunctionName"] for f in config.functions):
        return f"function:{dims['FunctionName']}"
    if "TableName" in dims and dims["TableName"] in config.tables:
        return f"table:{dims['TableName']}"
    if dims.get("ApiId") == config.http_api_id:
        return "api:http"
    if dims.get("ApiId") == config.ws_api_id:
        return "api:websocket"
    return None


def overlay_alarms(
    tiles: list[dict[str, Any]], alarms: Sequence[dict[str, Any]], config: DashboardConfig
) -> None:
    """Turn the tile of every resource with an alarm in ALARM red, naming the alarm (in place)."""
    by_id = {t["id"]: t for t in tiles}
    for alarm in alarms:
        if alarm.get("StateValue") != "ALARM":
            continue
        tile = by_id.get(tile_for_alarm(alarm, config) or "")
        if tile is None:
            continue
        tile["level"] = "alarm"
        tile["reasons"] = [f"alarm {alarm.get('AlarmName')}", *tile["reasons"]]
