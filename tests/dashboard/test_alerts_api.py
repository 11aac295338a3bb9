"""The alerting endpoints over real stores: a real alarm store, topic store and notifier (SQLite
files in a temporary directory), the metric store, and the dashboard's HTTP app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from heron.dashboard.app import Dashboard
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore
from heron.types import MetricDatum, Sample

from .helpers import CREDS, START, FakeClock, form_token, sign_in

ARN = "arn:aws:cloudwatch:us-east-1:000000000000:alarm:"
ERROR_RATE: dict[str, Any] = {
    "AlarmName": "getUser-ErrorRate",
    "AlarmArn": ARN + "getUser-ErrorRate",
    "Metrics": [
        {"Id": "errors", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum",
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Errors",
                       "Dimensions": [{"Name": "FunctionName", "Value": "getUser"}]}}},
        {"Id": "invocations", "ReturnData": False, "MetricStat": {"Period": 300, "Stat": "Sum",
            "Metric": {"Namespace": "AWS/Lambda", "MetricName": "Invocations",
                       "Dimensions": [{"Name": "FunctionName", "Value": "getUser"}]}}},
        {"Id": "result", "Expression": "100 * FILL(errors, 0) / invocations", "ReturnData": True},
    ],
    "EvaluationPeriods": 1,
    "Threshold": 1.0,
    "ComparisonOperator": "GreaterThanThreshold",
    "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:alerts"],
}  # fmt: skip
LAMBDA_ERRORS: dict[str, Any] = {
    "AlarmName": "LambdaErrors",
    "AlarmArn": ARN + "LambdaErrors",
    "Namespace": "AWS/Lambda",
    "MetricName": "Errors",
    "Statistic": "Sum",
    "Period": 300,
    "EvaluationPeriods": 1,
    "Threshold": 0,
    "ComparisonOperator": "GreaterThanThreshold",
}


@dataclass
class Alerting:
    """The stores, the notifier and the dashboard over them."""

    clock: FakeClock
    metrics: MetricStore
    alarms: AlarmStore
    topics: TopicStore
    notifier: Notifier
    dashboard: Dashboard

    def fire(self, name: str, state: str = "ALARM", old: str = "OK") -> None:
        """Publish the alarm message CloudWatch would, and let the notifier take it."""
        stamp = datetime.fromtimestamp(self.clock.now, UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
        body = {
            "AlarmName": name, "NewStateValue": state, "OldStateValue": old,
            "NewStateReason": "Threshold Crossed: 1 datapoint [5.0] was greater than 1.0",
            "StateChangeTime": stamp, "Region": "US East (N. Virginia)",
            "AlarmArn": ARN + name, "AWSAccountId": "000000000000",
            "Trigger": {"MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "SUM",
                        "Dimensions": [], "Period": 300, "EvaluationPeriods": 1,
                        "ComparisonOperator": "GreaterThanThreshold", "Threshold": 1.0},
        }  # fmt: skip
        self.topics.publish(
            self.topics.topic_arn("alerts"), json.dumps(body), subject=f"{state}: {name}"
        )
        self.notifier.tick(self.clock.now)


@pytest.fixture
def alerting(tmp_path: Path) -> Iterator[Alerting]:
    clock = FakeClock()
    metrics = MetricStore(tmp_path, clock=clock)
    logs = LogStore(tmp_path / "logs.db", clock=clock, sink=metrics)
    alarms = AlarmStore(tmp_path, clock=clock)
    topics = TopicStore(tmp_path / "notify.db", clock=clock)
    notifier = Notifier(topics, load_notify_config({}, {}), tmp_path / "notify.db", clock=clock)
    dashboard = Dashboard(
        metrics=metrics, logs=logs, credentials=CREDS, alarms=alarms, notify=notifier.ctx,
        clock=clock, session_clock=clock,
    )  # fmt: skip
    yield Alerting(clock, metrics, alarms, topics, notifier, dashboard)
    notifier.close()
    topics.close()
    alarms.close()
    logs.close()
    metrics.close()


@pytest.fixture
async def web(alerting: Alerting) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=alerting.dashboard.routes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://monitor") as c:
        yield c
    await alerting.dashboard.close()


async def test_an_incident_shows_in_the_panel_and_the_live_snapshot(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    alerting.alarms.put_alarm(ERROR_RATE)
    alerting.alarms.set_state("getUser-ErrorRate", "ALARM", "Threshold Crossed", None)
    alerting.fire("getUser-ErrorRate")
    await sign_in(web)
    body = (await web.get("/dashboard/api/alerts")).json()
    [row] = body["incidents"]
    assert row["alarm"] == "getUser-ErrorRate"
    assert (row["severity"], row["status"]) == ("critical", "open")
    assert row["since"] == int(START * 1000)
    assert row["tile"] == "function:getUser"
    assert row["paged"]["targets"] == ["inbox"]
    snap = alerting.dashboard.snapshot()
    assert snap["alerts"]["incidents"][0]["id"] == row["id"]
    tile = next(t for t in snap["tiles"] if t["id"] == "function:getUser")
    assert tile["level"] == "alarm"  # the metric-math alarm names its function


async def _lambda_errors_incident(web: httpx.AsyncClient, alerting: Alerting) -> tuple[str, str]:
    """Fire LambdaErrors and sign in; return the CSRF token and the incident's API URL."""
    alerting.fire("LambdaErrors")
    csrf = await sign_in(web)
    [row] = (await web.get("/dashboard/api/alerts")).json()["incidents"]
    return csrf, f"/dashboard/api/incidents/{row['id']}"


async def test_acknowledge_snooze_resolve_go_through_notify_and_the_ledger(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    csrf, url = await _lambda_errors_incident(web, alerting)
    headers = {"X-CSRF-Token": csrf}
    acked = await web.post(url + "/ack", headers=headers)
    assert acked.status_code == 200, acked.text
    assert acked.json()["status"] == "acknowledged"
    assert acked.json()["acknowledgedBy"] == "dashboard"
    alerting.clock.now += 10
    snoozed = await web.post(url + "/snooze", data={"duration": "1h"}, headers=headers)
    assert snoozed.json()["status"] == "snoozed"
    assert snoozed.json()["snoozedUntil"] == int((START + 10 + 3600) * 1000)
    resolved = await web.post(url + "/resolve", data={"csrf_token": csrf})  # form field works too
    assert resolved.json()["status"] == "resolved"
    assert (await web.get("/dashboard/api/alerts")).json()["incidents"] == []
    again = await web.post(url + "/ack", headers=headers)
    assert again.status_code == 409 and "resolved" in again.json()["message"]
    reasons = [e.reason for e in alerting.notifier.ctx.ledger.entries("LambdaErrors")]
    assert "acknowledged" in reasons and "snoozed" in reasons and "changed by hand" in reasons
    details = [e.detail for e in alerting.notifier.ctx.ledger.entries("LambdaErrors")]
    assert "by dashboard" in details


async def test_bad_actions_are_refused_and_change_nothing(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    csrf, url = await _lambda_errors_incident(web, alerting)
    forged = await web.post(url + "/ack", headers={"X-CSRF-Token": "forged"})
    assert forged.status_code == 403 and forged.json()["error"] == "BadCsrfToken"
    missing = await web.post(url + "/resolve")
    assert missing.status_code == 403
    headers = {"X-CSRF-Token": csrf}
    cases = [
        (url + "/snooze", {"duration": "forever"}, 400, "duration"),
        (url + "/snooze", {"duration": "30d"}, 400, "duration"),
        (url + "/snooze", {}, 400, "duration"),
        ("/dashboard/api/incidents/abc/ack", {}, 400, "id"),
    ]
    for path, data, status, field in cases:
        response = await web.post(path, data=data, headers=headers)
        assert response.status_code == status, (path, data, response.text)
        assert response.json()["field"] == field
    unknown = await web.post("/dashboard/api/incidents/999/ack", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["error"] == "UnknownIncident"
    assert "#999" in unknown.json()["message"]
    action = await web.post(url + "/escalate", headers=headers)
    assert action.status_code == 404
    [after] = (await web.get("/dashboard/api/alerts")).json()["incidents"]
    assert after["status"] == "open"


async def test_silences_are_created_listed_and_expired(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    csrf = await sign_in(web)
    headers = {"X-CSRF-Token": csrf}
    bad = await web.post(
        "/dashboard/api/silences", data={"pattern": "x", "duration": "2h"}, headers=headers
    )
    assert bad.status_code == 400 and bad.json()["field"] == "comment"
    assert alerting.notifier.ctx.silences.all() == []
    created = await web.post(
        "/dashboard/api/silences",
        data={"pattern": "getUser-*", "duration": "2h", "comment": "deploying getUser"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    silence = created.json()
    assert silence["status"] == "active"
    assert silence["ends"] - silence["starts"] == 7_200_000
    assert silence["createdBy"] == "dashboard"
    # A silenced alarm opens no incident.
    alerting.fire("getUser-ErrorRate")
    panel = (await web.get("/dashboard/api/alerts")).json()
    assert panel["incidents"] == []
    assert [s["pattern"] for s in panel["silences"]] == ["getUser-*"]
    forged = await web.post(f"/dashboard/api/silences/{silence['id']}/expire")
    assert forged.status_code == 403
    expired = await web.post(f"/dashboard/api/silences/{silence['id']}/expire", headers=headers)
    assert expired.status_code == 200 and expired.json()["status"] == "expired"
    assert (await web.get("/dashboard/api/alerts")).json()["silences"] == []
    twice = await web.post(f"/dashboard/api/silences/{silence['id']}/expire", headers=headers)
    assert twice.status_code == 404 and twice.json()["error"] == "UnknownSilence"


async def test_alarm_state_changes_annotate_the_graphs_they_watch(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    alerting.alarms.put_alarm(ERROR_RATE)
    alerting.alarms.set_state("getUser-ErrorRate", "ALARM", "Threshold Crossed", None)
    alerting.clock.now += 120
    alerting.alarms.set_state("getUser-ErrorRate", "OK", "Threshold Crossed", None)
    # A start-up INSUFFICIENT_DATA -> OK is not worth a marker on a busy overview graph...
    alerting.alarms.put_alarm(LAMBDA_ERRORS)
    alerting.alarms.set_state("LambdaErrors", "OK", "Threshold Crossed", None)
    await sign_in(web)
    body = (await web.get("/dashboard/api/annotations?range=1h")).json()["annotations"]
    assert {m["alarm"] for m in body["function-error-rate"]} == {"getUser-ErrorRate"}
    # ...but the alarm's own page shows every change.
    page = (await web.get("/dashboard/api/alarms/LambdaErrors?range=1h")).json()
    assert [(a["old"], a["state"]) for a in page["annotations"]] == [("INSUFFICIENT_DATA", "OK")]
    marks = body["function-error-rate"]
    assert [(m["old"], m["state"]) for m in marks] == [
        ("INSUFFICIENT_DATA", "ALARM"),
        ("ALARM", "OK"),
    ]
    assert marks[1]["t"] - marks[0]["t"] == 120_000
    assert "duration-getUser" not in body
    bad = await web.get("/dashboard/api/annotations?range=2y")
    assert bad.status_code == 400 and bad.json()["error"] == "BadRange"


def put_errors(alerting: Alerting, errors: int, invocations: int, ago_s: float) -> None:
    dims = MetricDatum.dims({"FunctionName": "getUser"})
    at = int((alerting.clock.now - ago_s) * 1000)
    alerting.metrics.put_samples(
        [
            Sample("AWS/Lambda", "Errors", dims, at, values=(float(errors),), unit="Count"),
            Sample("AWS/Lambda", "Invocations", dims, at, values=(float(invocations),),
                   unit="Count"),
        ]
    )  # fmt: skip


async def test_alarm_page_has_definition_graph_history_and_incident(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    alerting.alarms.put_alarm(ERROR_RATE)
    put_errors(alerting, 5, 50, ago_s=400)
    alerting.alarms.set_state("getUser-ErrorRate", "ALARM", "Threshold Crossed", None)
    alerting.fire("getUser-ErrorRate")
    await sign_in(web)
    page = await web.get("/dashboard/alarms/getUser-ErrorRate")
    assert page.status_code == 200 and 'content="getUser-ErrorRate"' in page.text
    data = (await web.get("/dashboard/api/alarms/getUser-ErrorRate?range=1h")).json()
    assert data["state"] == "ALARM" and data["tile"] == "function:getUser"
    assert data["condition"].startswith("100 * FILL(errors, 0) / invocations > 1 for 1 of 1")
    assert data["definition"]["Threshold"] == 1.0 and "StateValue" not in data["definition"]
    assert data["thresholds"] == [{"value": 1.0, "label": "threshold > 1"}]
    graph = data["graph"]
    assert graph["period"] == 300
    assert [v for v in graph["values"][0] if v is not None] == [10.0]  # 5 of 50 failed
    assert [h["type"] for h in data["history"]] == ["StateUpdate", "ConfigurationUpdate"]
    assert data["history"][0]["state"] == "ALARM"
    assert [a["state"] for a in data["annotations"]] == ["ALARM"]
    assert data["incident"]["status"] == "open"
    simple = dict(LAMBDA_ERRORS)
    alerting.alarms.put_alarm(simple)
    plain = (await web.get("/dashboard/api/alarms/LambdaErrors?range=15m")).json()
    assert plain["condition"] == "Sum of AWS/Lambda Errors > 0 for 1 of 1 periods of 300 s"
    assert plain["graph"]["series"] == ["Errors"]


async def test_unknown_alarms_and_pages_are_clear_404s_and_sessions_expire(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    await sign_in(web)
    api = await web.get("/dashboard/api/alarms/Nope")
    assert api.status_code == 404 and api.json()["error"] == "UnknownAlarm"
    page = await web.get("/dashboard/alarms/Nope", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "There is no alarm named \u201cNope\u201d." in page.text
    other = await web.get("/dashboard/whatever", headers={"Accept": "text/html"})
    assert other.status_code == 404 and "no dashboard page at /dashboard/whatever" in other.text
    # After the idle timeout: pages send the browser to sign in, the API answers 401.
    alerting.clock.now += 2 * 3600
    expired = await web.get("/dashboard/alarms/LambdaErrors", follow_redirects=False)
    assert expired.status_code == 303
    assert expired.headers["location"] == "/dashboard/login?expired=1"
    gone = await web.get("/dashboard/api/alerts")
    assert gone.status_code == 401 and gone.json()["error"] == "NotSignedIn"


async def test_inbox_and_explain(web: httpx.AsyncClient, alerting: Alerting) -> None:
    alerting.fire("LambdaErrors")
    alerting.clock.now += 60
    alerting.fire("LambdaErrors", "OK", "ALARM")
    await sign_in(web)
    items = (await web.get("/dashboard/api/inbox?limit=10")).json()["items"]
    assert [i["alarm"] for i in items] == ["LambdaErrors", "LambdaErrors"]
    assert items[0]["at"] > items[1]["at"]  # newest first
    assert "LambdaErrors" in items[1]["title"]
    explained = (await web.get("/dashboard/api/explain?what=LambdaErrors")).json()
    assert len(explained["alerts"]) == 2
    opening = explained["alerts"][0]
    stages = [e["stage"] for e in opening["entries"]]
    assert stages[0] == "observe" and "incident" in stages
    assert any(e["kind"] == "delivered" for e in opening["entries"])
    [delivery] = opening["deliveries"]
    assert delivery["channel"] == "inbox" and delivery["status"] == "delivered"
    assert delivery["attempts"] >= 1
    by_id = (await web.get(f"/dashboard/api/explain?what=%23{delivery['id']}")).json()
    assert [a["alertId"] for a in by_id["alerts"]] == [opening["alertId"]]
    # The same alarm again while open is deduplicated, and explain says so.
    alerting.clock.now += 60
    alerting.fire("LambdaErrors")
    alerting.fire("LambdaErrors")
    kinds = {
        e["kind"]
        for a in (await web.get("/dashboard/api/explain?what=LambdaErrors")).json()["alerts"]
        for e in a["entries"]
    }
    assert "deduplicated" in kinds
    for query, status, field in (("", 400, "what"), ("x" * 300, 400, "what")):
        bad = await web.get("/dashboard/api/explain", params={"what": query})
        assert bad.status_code == status and bad.json()["field"] == field
    nothing = await web.get("/dashboard/api/explain?what=NoSuchAlarm")
    assert nothing.status_code == 404 and "NoSuchAlarm" in nothing.json()["message"]
    limit = await web.get("/dashboard/api/inbox?limit=5000")
    assert limit.status_code == 400


async def test_notify_page_renders_and_login_page_csrf_is_per_session(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    await sign_in(web)
    page = await web.get("/dashboard/notify")
    assert page.status_code == 200 and "explain-form" in page.text
    assert form_token(page.text)
    assert page.headers["content-security-policy"].startswith("default-src 'self'")


async def test_every_alerting_post_needs_the_session_csrf_token(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    alerting.fire("LambdaErrors")
    await sign_in(web)
    [row] = (await web.get("/dashboard/api/alerts")).json()["incidents"]
    silence = alerting.notifier.ctx.silences.add(
        "x", START, START + 3600, comment="c", created_by="t", now=START
    )
    posts = [
        f"/dashboard/api/incidents/{row['id']}/ack",
        f"/dashboard/api/incidents/{row['id']}/snooze",
        f"/dashboard/api/incidents/{row['id']}/resolve",
        "/dashboard/api/silences",
        f"/dashboard/api/silences/{silence.id}/expire",
    ]
    for path in posts:
        for headers in ({}, {"X-CSRF-Token": "forged"}):
            response = await web.post(
                path, data={"duration": "1h", "pattern": "y", "comment": "c"}, headers=headers
            )
            assert response.status_code == 403, (path, headers, response.text)
    [after] = (await web.get("/dashboard/api/alerts")).json()["incidents"]
    assert after["status"] == "open"
    assert [s.pattern for s in alerting.notifier.ctx.silences.current(START)] == ["x"]


async def test_a_composite_alarm_page_has_its_rule_and_no_graph(
    web: httpx.AsyncClient, alerting: Alerting
) -> None:
    alerting.alarms.put_alarm(
        {
            "AlarmName": "Site/Down",
            "AlarmArn": ARN + "Site/Down",
            "AlarmRule": 'ALARM("LambdaErrors") OR ALARM("getUser-ErrorRate")',
        }
    )
    await sign_in(web)
    page = await web.get("/dashboard/alarms/Site/Down")  # a name with a slash
    assert page.status_code == 200 and 'content="Site/Down"' in page.text
    data = (await web.get("/dashboard/api/alarms/Site%2FDown")).json()
    assert data["condition"] == 'rule ALARM("LambdaErrors") OR ALARM("getUser-ErrorRate")'
    assert data["graph"] is None and data["thresholds"] == [] and data["tile"] is None
    assert [h["type"] for h in data["history"]] == ["ConfigurationUpdate"]
