"""The active-alerts panel's pure parts: form rules, who is paged, ordering; and what alarms
watch (annotations, tiles, the alarm page's condition and graph queries)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heron.dashboard import alarm_detail as ad
from heron.dashboard.alarm_view import tile_for_alarm
from heron.dashboard.alerts import (
    FieldError,
    panel,
    parse_duration,
    parse_incident_id,
    parse_silence,
    silence_row,
)
from heron.dashboard.layout import DashboardConfig, charts
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.incidents import Incident
from heron.monitor.notify.model import Alert, Severity
from heron.monitor.notify.silences import Silence

NOW = 1_800_000_000.0
CONFIG = DashboardConfig()


def test_durations_take_units_and_bare_minutes_within_bounds() -> None:
    assert parse_duration("30m", "d", 60, 86400) == 1800
    assert parse_duration("2h", "d", 60, 86400) == 7200
    assert parse_duration(" 1D ", "d", 60, 86400) == 86400
    assert parse_duration("90s", "d", 60, 86400) == 90
    assert parse_duration("15", "d", 60, 86400) == 900  # bare number: minutes
    for bad in ("", "soon", "-5m", "5 minutes", "1y"):
        with pytest.raises(FieldError) as exc:
            parse_duration(bad, "duration", 60, 86400)
        assert exc.value.field == "duration"
    with pytest.raises(FieldError, match="between 1m and 1d"):
        parse_duration("2d", "duration", 60, 86400)
    with pytest.raises(FieldError, match="between"):
        parse_duration("30s", "duration", 60, 86400)


def test_silence_form_names_the_bad_field() -> None:
    ok = parse_silence({"pattern": " createUser-* ", "duration": "2h", "comment": " deploy "})
    assert (ok.pattern, ok.duration_s, ok.comment) == ("createUser-*", 7200.0, "deploy")
    cases = [
        ({"duration": "1h", "comment": "x"}, "pattern"),
        ({"pattern": "a;drop", "duration": "1h", "comment": "x"}, "pattern"),
        ({"pattern": "a" * 256, "duration": "1h", "comment": "x"}, "pattern"),
        ({"pattern": "a", "duration": "1000d", "comment": "x"}, "duration"),
        ({"pattern": "a", "duration": "1h", "comment": "  "}, "comment"),
        ({"pattern": "a", "duration": "1h", "comment": "x" * 501}, "comment"),
    ]
    for form, field in cases:
        with pytest.raises(FieldError) as exc:
            parse_silence(form)
        assert exc.value.field == field, form
    assert parse_incident_id("42") == 42
    for bad in ("0x1", "-1", "abc", "1" * 13):
        with pytest.raises(FieldError):
            parse_incident_id(bad)


def incident(
    ident: int, alarm: str, severity: Severity, status: str, opened: float, **kw: Any
) -> Incident:
    alert = Alert(
        id=f"m-{ident}", topic="alerts", topic_arn="arn:aws:sns:us-east-1:0:alerts", alarm=alarm,
        state="ALARM", old_state="OK", severity=severity, reason="Threshold Crossed", at=opened,
    )  # fmt: skip
    values: dict[str, Any] = dict(
        id=ident, alarm=alarm, severity=severity, status=status, opened=opened, updated=opened,
        alert=alert, thread="", level=0, loop=0, next_escalation=None, snoozed_until=None,
        acked_by=None, resolved=None, note=None, promoted=False, targets=(),
    )  # fmt: skip
    values.update(kw)
    return Incident(**values)


def test_panel_orders_open_critical_first_and_drops_resolved() -> None:
    cfg = load_notify_config({}, {})
    rows = panel(
        [
            incident(1, "old-warning", Severity.WARNING, "open", NOW - 500),
            incident(2, "acked", Severity.CRITICAL, "acknowledged", NOW - 50, acked_by="ann"),
            incident(3, "new-critical", Severity.CRITICAL, "open", NOW - 10),
            incident(4, "old-critical", Severity.CRITICAL, "open", NOW - 900),
            incident(5, "gone", Severity.CRITICAL, "resolved", NOW - 5, resolved=NOW),
        ],
        [],
        cfg,
        NOW,
        {"new-critical": "function:getUser"},
    )
    assert [r["alarm"] for r in rows["incidents"]] == [
        "new-critical", "old-critical", "old-warning", "acked",
    ]  # fmt: skip
    assert rows["counts"] == {"open": 3, "acknowledged": 1, "snoozed": 0}
    first = rows["incidents"][0]
    assert first["since"] == int((NOW - 10) * 1000)
    assert first["tile"] == "function:getUser"
    assert first["paged"]["person"] is None and first["paged"]["level"] == 1


def test_paged_names_the_on_call_person_of_the_current_level() -> None:
    cfg = load_notify_config(
        {
            "oncall": {
                "primary": {
                    "layers": [
                        {"users": ["alice", "bob"], "rotation": "daily", "start": "2026-01-01",
                         "handoff": "09:00"},
                    ],
                },
            },
            "escalation": {"levels": ["primary", "user:manager"], "after_min": 10},
        },
        {},
    )  # fmt: skip
    at_level_1 = panel([incident(1, "a", Severity.CRITICAL, "open", NOW)], [], cfg, NOW)
    paged = at_level_1["incidents"][0]["paged"]
    assert paged["person"] in ("alice", "bob") and paged["levels"] == 2 and paged["level"] == 1
    assert "primary" in paged["via"]
    at_level_2 = panel([incident(1, "a", Severity.CRITICAL, "open", NOW, level=1)], [], cfg, NOW)
    assert at_level_2["incidents"][0]["paged"]["person"] == "manager"


def test_silence_status_follows_time() -> None:
    s = Silence(7, "createUser-*", NOW - 60, NOW + 60, "deploy", "dashboard")
    assert silence_row(s, NOW)["status"] == "active"
    assert silence_row(s, NOW - 120)["status"] == "pending"
    assert silence_row(s, NOW + 60)["status"] == "expired"
    assert silence_row(s, NOW)["ends"] == int((NOW + 60) * 1000)


def fn_dims(name: str) -> list[dict[str, str]]:
    return [{"Name": "FunctionName", "Value": name}]


ERROR_RATE = {
    "AlarmName": "createUser-ErrorRate",
    "Metrics": [
        {"Id": "errors", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum", "Metric": {
            "Namespace": "AWS/Lambda", "MetricName": "Errors", "Dimensions": fn_dims("createUser")}}},
        {"Id": "invocations", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum",
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                       "Dimensions": fn_dims("createUser")}}},
        {"Id": "result", "Expression": "100 * FILL(errors, 0) / invocations", "ReturnData": True},
    ],
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
}  # fmt: skip
LAMBDA_ERRORS = {
    "AlarmName": "LambdaErrors",
    "Namespace": "AWS/Lambda",
    "MetricName": "Errors",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
}


def test_metric_math_alarms_name_their_tile_and_watched_metrics() -> None:
    assert tile_for_alarm(ERROR_RATE, CONFIG) == "function:createUser"
    watched = ad.watched_metrics(ERROR_RATE)
    assert [w.name for w in watched] == ["Errors", "Invocations"]
    assert ad.watched_metrics({"AlarmName": "c", "AlarmRule": "ALARM(a)"}) == []


def test_alarms_annotate_the_graphs_of_the_metrics_they_watch() -> None:
    watchers = ad.chart_watchers(charts(CONFIG), [ERROR_RATE, LAMBDA_ERRORS])
    # The dimensionless seed alarm watches every function's Errors; the catalogue one its own.
    assert watchers["function-error-rate"] == {"createUser-ErrorRate", "LambdaErrors"}
    assert watchers["function-invocations"] == {"createUser-ErrorRate"}
    assert "duration-createUser" not in watchers
    assert "http-latency" not in watchers
    assert not ad.covers(ad.watched_metrics(ERROR_RATE)[0], "AWS/Lambda", "Errors", [])

    def update(name: str, t: float, old: str, new: str) -> dict[str, Any]:
        data = {
            "oldState": {"stateValue": old},
            "newState": {"stateValue": new, "stateReason": "Threshold Crossed"},
        }
        return {"AlarmName": name, "Timestamp": t, "HistoryItemType": "StateUpdate",
                "HistorySummary": f"Alarm updated from {old} to {new}",
                "HistoryData": json.dumps(data)}  # fmt: skip

    items = [
        update("LambdaErrors", NOW + 5, "ALARM", "OK"),
        update("createUser-ErrorRate", NOW, "OK", "ALARM"),
        {"AlarmName": "LambdaErrors", "Timestamp": NOW, "HistoryItemType": "ConfigurationUpdate",
         "HistorySummary": "Alarm updated", "HistoryData": "{}"},
    ]  # fmt: skip
    marks = ad.markers_by_chart(items, watchers)
    assert [(m["alarm"], m["old"], m["state"]) for m in marks["function-error-rate"]] == [
        ("createUser-ErrorRate", "OK", "ALARM"),
        ("LambdaErrors", "ALARM", "OK"),
    ]
    assert marks["function-error-rate"][0]["t"] == int(NOW * 1000)
    assert [m["alarm"] for m in marks["function-invocations"]] == ["createUser-ErrorRate"]


def test_condition_period_and_graph_queries() -> None:
    assert ad.condition(LAMBDA_ERRORS) == "Sum of AWS/Lambda Errors > 0 for 1 of 1 periods of 300 s"
    assert ad.condition(ERROR_RATE) == (
        "100 * FILL(errors, 0) / invocations > 1 for 1 of 1 periods of 300 s"
    )
    assert ad.condition({"AlarmRule": "ALARM(a) OR ALARM(b)"}) == "rule ALARM(a) OR ALARM(b)"
    assert ad.alarm_period(ERROR_RATE) == 300
    assert ad.graph_period(300, 3600) == 300
    # 30 days at 300 s is 8,640 points: the period grows to a whole multiple of the alarm's.
    assert ad.graph_period(300, 30 * 86400) == 300 * 6
    queries = ad.graph_queries(ERROR_RATE, 1800)
    assert [q.get("MetricStat", {}).get("Period") for q in queries] == [1800, 1800, None]
    assert ERROR_RATE["Metrics"][0]["MetricStat"]["Period"] == 300  # not changed in place
    [simple] = ad.graph_queries(LAMBDA_ERRORS, 300)
    assert simple["MetricStat"]["Stat"] == "Sum" and simple["MetricStat"]["Period"] == 300
    assert ad.thresholds(LAMBDA_ERRORS) == [{"value": 0.0, "label": "threshold > 0"}]
    assert ad.thresholds({"AlarmRule": "x"}) == []
