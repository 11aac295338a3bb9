"""SNS API subscriptions that deliver: boto3 against the real monitor port (AWS API + the public
notify routes), the real notifier, and real HTTP receivers that play the subscribed endpoints."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from heron.gateway.server import ServerHandle, serve
from heron.monitor.app import Readiness, create_monitor_app
from heron.monitor.service import Monitor
from heron.up import public_notify_routes

from .conftest import NO_RETRIES


def _notify_support() -> Any:
    """The notifier tests' helpers (a Slack-like HTTP receiver, alarm messages), by path:
    tests/monitor is not a package, so a relative import cannot reach it."""
    import importlib.util

    path = Path(__file__).parents[1] / "monitor" / "notify" / "support.py"
    spec = importlib.util.spec_from_file_location("heron_notify_test_support", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_support = _notify_support()
Receiver, alarm_body = _support.Receiver, _support.alarm_body

REGION, ACCOUNT = "us-east-1", "123456789012"


class Live:
    """A Monitor served on a free port, and a boto3 SNS client for it."""

    def __init__(self, data_dir: Path, notify: dict[str, Any] | None = None) -> None:
        with socket.socket() as s:  # the port goes into public_url, so pick it first
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.monitor = Monitor(
            data_dir, region=REGION, account_id=ACCOUNT,
            notify={"public_url": self.url, **(notify or {})},
        )  # fmt: skip
        app = create_monitor_app(
            Readiness(()), aws=self.monitor.aws, routes=public_notify_routes(self.monitor)
        )
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        self.handle: ServerHandle | None = None

        def run() -> None:
            asyncio.set_event_loop(self.loop)

            async def main() -> None:
                self.handle = await serve(app, "127.0.0.1", self.port)
                started.set()
                await self.handle.wait()

            self.loop.run_until_complete(main())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert started.wait(10)
        creds = self.monitor.credentials
        self.sns: Any = boto3.client(
            "sns", endpoint_url=self.url, region_name=REGION, config=NO_RETRIES,
            aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
        )  # fmt: skip

    def tick(self) -> None:
        self.monitor.notifier.tick(time.time())

    def close(self) -> None:
        assert self.handle is not None
        asyncio.run_coroutine_threadsafe(self.handle.stop(), self.loop).result(10)
        self.thread.join(10)
        self.monitor.close()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    running = Live(tmp_path)
    yield running
    running.close()


@pytest.fixture
def hook() -> Iterator[Any]:
    r = Receiver()
    yield r
    r.close()


def _publish(live: Live, topic: str, name: str, state: str = "ALARM") -> None:
    old = "OK" if state == "ALARM" else "ALARM"
    live.sns.publish(TopicArn=topic, Message=alarm_body(name, state, old, time.time()),
                     Subject=f"{state}: {name}")  # fmt: skip
    live.tick()


def test_http_subscription_is_pending_until_the_subscribe_url_is_fetched(
    live: Live, hook: Any
) -> None:
    topic = live.sns.create_topic(Name="alerts")["TopicArn"]
    answer = live.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
    assert answer["SubscriptionArn"] == "pending confirmation"
    (listed,) = live.sns.list_subscriptions()["Subscriptions"]
    assert listed["SubscriptionArn"] == "PendingConfirmation"
    assert (
        live.sns.get_topic_attributes(TopicArn=topic)["Attributes"]["SubscriptionsPending"] == "1"
    )

    live.tick()  # the notifier sends the SubscriptionConfirmation
    ((_, headers, body),) = hook.requests
    assert headers["x-amz-sns-message-type"] == "SubscriptionConfirmation"
    envelope = json.loads(body) if isinstance(body, str) else body
    assert envelope["Type"] == "SubscriptionConfirmation" and envelope["TopicArn"] == topic
    assert envelope["SubscribeURL"].startswith(live.url + "/notify/confirm?")

    _publish(live, topic, "LambdaErrors")
    assert len(hook.requests) == 1  # a pending subscription receives nothing

    confirmed = httpx.get(envelope["SubscribeURL"], timeout=10)  # unsigned, as on AWS
    assert confirmed.status_code == 200
    sub_arn = confirmed.text.split("<SubscriptionArn>")[1].split("<")[0]
    assert sub_arn.startswith(topic + ":")
    attributes = live.sns.get_subscription_attributes(SubscriptionArn=sub_arn)["Attributes"]
    assert attributes["PendingConfirmation"] == "false"
    assert attributes["Endpoint"] == hook.url and attributes["Protocol"] == "http"

    _publish(live, topic, "HighLatency")
    (_, headers, body) = hook.requests[-1]
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-subscription-arn"] == sub_arn
    message = json.loads(body["Message"])
    assert message["AlarmName"] == "HighLatency" and body["TopicArn"] == topic
    assert len(hook.requests) == 2

    gone = httpx.get(body["UnsubscribeURL"], timeout=10)  # unsigned, as on AWS
    assert gone.status_code == 200
    assert live.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    assert httpx.get(body["UnsubscribeURL"], timeout=10).status_code == 404
    _publish(live, topic, "Throttles")
    assert len(hook.requests) == 2


def test_confirmation_is_retried_only_after_a_failure_and_48_hours_unconfirmed_deletes(
    live: Live,
) -> None:
    hook = Receiver(script=[(500, "busy", {})])  # the first confirmation fails
    try:
        topic = live.sns.create_topic(Name="alerts")["TopicArn"]
        live.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
        start = time.time()

        def confirmations() -> int:
            return sum(
                h["x-amz-sns-message-type"] == "SubscriptionConfirmation"
                for _, h, _ in hook.requests
            )

        live.monitor.notifier.tick(start)
        live.monitor.notifier.tick(start + 100)
        assert confirmations() == 1  # failed; retried after CONFIRM_RETRY_S, not at once
        live.monitor.notifier.tick(start + 301)
        assert confirmations() == 2  # accepted (200) this time
        live.monitor.notifier.tick(start + 3600)
        assert confirmations() == 2  # an accepted confirmation is not sent again
        # Subscribing again while pending asks again, under the same subscription.
        live.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url)
        live.monitor.notifier.tick(start + 3601)
        assert confirmations() == 3
        (listed,) = live.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
        assert listed["SubscriptionArn"] == "PendingConfirmation"
        # Never confirmed: gone 48 hours after it was made, as on SNS.
        live.monitor.notifier.tick(start + 47 * 3600)
        assert len(live.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1
        live.monitor.notifier.tick(start + 48 * 3600 + 1)
        assert live.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
        assert confirmations() == 3
    finally:
        hook.close()


def test_confirm_subscription_raw_delivery_and_unsubscribe(live: Live, hook: Any) -> None:
    topic = live.sns.create_topic(Name="ops")["TopicArn"]  # no business-hours window
    arn = live.sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=hook.url,
                             ReturnSubscriptionArn=True)["SubscriptionArn"]  # fmt: skip
    live.tick()
    token = hook.requests[0][2]["Token"]
    with pytest.raises(ClientError) as bad:
        live.sns.confirm_subscription(TopicArn=topic, Token="not-the-token")
    assert bad.value.response["Error"]["Code"] == "InvalidParameter"
    assert live.sns.confirm_subscription(TopicArn=topic, Token=token)["SubscriptionArn"] == arn

    live.sns.set_subscription_attributes(
        SubscriptionArn=arn, AttributeName="RawMessageDelivery", AttributeValue="true"
    )
    got = live.sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
    assert got["RawMessageDelivery"] == "true"
    live.sns.publish(TopicArn=topic, Message="disk nearly full", Subject="disk")
    live.tick()
    (_, headers, body) = hook.requests[-1]
    assert body == "disk nearly full"  # raw: the message itself, no envelope
    assert headers["x-amz-sns-subscription-arn"] == arn

    live.sns.unsubscribe(SubscriptionArn=arn)
    before = len(hook.requests)
    live.sns.publish(TopicArn=topic, Message="after unsubscribe", Subject="later")
    live.tick()
    assert len(hook.requests) == before
    assert live.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    with pytest.raises(live.sns.exceptions.NotFoundException):
        live.sns.unsubscribe(SubscriptionArn=arn)


def test_subscription_errors_change_nothing(live: Live, hook: Any) -> None:
    topic = live.sns.create_topic(Name="alerts")["TopicArn"]
    email = live.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    assert email["SubscriptionArn"].startswith(topic + ":")  # email is confirmed at once
    with pytest.raises(ClientError) as raw:
        live.sns.set_subscription_attributes(
            SubscriptionArn=email["SubscriptionArn"], AttributeName="RawMessageDelivery",
            AttributeValue="true",
        )  # fmt: skip
    assert raw.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as name:
        live.sns.set_subscription_attributes(
            SubscriptionArn=email["SubscriptionArn"], AttributeName="FilterPolicy",
            AttributeValue="{}",
        )  # fmt: skip
    assert "AttributeName" in name.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as malformed:
        live.sns.get_subscription_attributes(SubscriptionArn="not-an-arn")
    assert malformed.value.response["Error"]["Message"] == "Invalid parameter: SubscriptionArn"
    with pytest.raises(live.sns.exceptions.NotFoundException):
        live.sns.get_subscription_attributes(SubscriptionArn=f"{topic}:no-such-subscription")
    with pytest.raises(ClientError) as slack:
        live.sns.subscribe(TopicArn=topic, Protocol="slack", Endpoint="ftp://hooks.example.com")
    assert slack.value.response["Error"]["Code"] == "InvalidParameter"
    attrs = live.sns.get_subscription_attributes(SubscriptionArn=email["SubscriptionArn"])
    assert attrs["Attributes"]["RawMessageDelivery"] == "false"
    assert httpx.get(f"{live.url}/notify/confirm?Token=forged", timeout=10).status_code == 400


def test_slack_and_email_subscriptions_deliver(live: Live, hook: Any, tmp_path: Path) -> None:
    topic = live.sns.create_topic(Name="alerts")["TopicArn"]
    slack = live.sns.subscribe(TopicArn=topic, Protocol="slack", Endpoint=hook.url)
    email = live.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
    _publish(live, topic, "LambdaErrors")
    ((_, _, card),) = hook.requests  # confirmed at once: a Block Kit card, no handshake
    assert card["text"] == "[CRITICAL] LambdaErrors is in ALARM"
    assert any(b["type"] == "actions" for b in card["blocks"])  # with the signed links
    rows = {r.channel: r.status for r in live.monitor.notifier.ctx.outbox.for_alarm("LambdaErrors")}
    assert rows[f"sub:{slack['SubscriptionArn']}"] == "delivered"
    assert rows[f"sub:{email['SubscriptionArn']}"] == "delivered"  # no SMTP channel: the inbox
    inbox = live.monitor.notifier.ctx.db.all("SELECT title FROM nt_inbox")
    assert ("[CRITICAL] LambdaErrors is in ALARM",) in inbox


def test_insufficient_data_actions_reach_the_notifier_as_no_data(live: Live) -> None:
    creds = live.monitor.credentials
    cw: Any = boto3.client(
        "cloudwatch", endpoint_url=live.url, region_name=REGION, config=NO_RETRIES,
        aws_access_key_id=creds.access_key_id, aws_secret_access_key=creds.secret_access_key,
    )  # fmt: skip
    topic = live.sns.create_topic(Name="alerts")["TopicArn"]
    cw.put_metric_alarm(
        AlarmName="QueueDepth", Namespace="Heron", MetricName="Depth", Statistic="Maximum",
        Period=60, EvaluationPeriods=1, Threshold=10, ComparisonOperator="GreaterThanThreshold",
        AlarmActions=[topic], InsufficientDataActions=[topic],
    )  # fmt: skip
    cw.set_alarm_state(AlarmName="QueueDepth", StateValue="ALARM", StateReason="test")
    cw.set_alarm_state(AlarmName="QueueDepth", StateValue="INSUFFICIENT_DATA", StateReason="gap")
    live.tick()
    kinds = [r.notice.kind.value for r in live.monitor.notifier.ctx.outbox.for_alarm("QueueDepth")]
    assert kinds == ["alert", "no-data"]
    incident = live.monitor.notifier.ctx.incidents.active_for("QueueDepth")
    assert incident is not None and incident.status == "open"  # no data does not resolve it


def test_the_monitor_port_serves_only_the_public_notify_routes(live: Live) -> None:
    paths = {r.path for r in public_notify_routes(live.monitor)}
    assert paths == {"/notify/confirm", "/notify/unsubscribe", "/notify/link/{id}/{action}"}
    assert httpx.get(f"{live.url}/notify/incidents", timeout=10).status_code != 200
    forged = httpx.post(f"{live.url}/notify/link/1/ack?e=9999999999&sig=00", timeout=10)
    assert forged.status_code == 403


def test_email_subscriptions_go_through_the_configured_smtp_server(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    received: list[tuple[list[str], bytes]] = []

    class Box:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append((list(envelope.rcpt_tos), envelope.content))
            return "250 Message accepted"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    controller = Controller(Box(), hostname="127.0.0.1", port=port)
    controller.start()
    mail = {"protocol": "email", "host": "127.0.0.1", "port": port, "from": "heron@example.com",
            "to": ["team@example.com"]}  # fmt: skip
    live = Live(tmp_path, {"channels": {"mail": mail}})
    try:
        topic = live.sns.create_topic(Name="alerts")["TopicArn"]
        live.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="ops@example.com")
        live.sns.subscribe(TopicArn=topic, Protocol="email-json", Endpoint="bot@example.com")
        _publish(live, topic, "LambdaErrors")
        # The subscribers only: the mail channel itself is not routed.
        by_rcpt = {tuple(rcpt): content for rcpt, content in received}
        assert set(by_rcpt) == {("ops@example.com",), ("bot@example.com",)}
        plain = by_rcpt[("ops@example.com",)]
        assert b"Subject: [CRITICAL] LambdaErrors is in ALARM" in plain
        assert b"/notify/link/1/ack?" in plain  # the signed links come along
        mail = email.message_from_bytes(by_rcpt[("bot@example.com",)], policy=email.policy.default)
        envelope = json.loads(mail.get_content())  # type: ignore[attr-defined]
        assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic
        assert json.loads(envelope["Message"])["AlarmName"] == "LambdaErrors"
    finally:
        live.close()
        controller.stop()


def test_oncall_subscription_pages_whoever_is_on_call(tmp_path: Path) -> None:
    schedule = {"layers": [{"users": ["alice"], "rotation": "weekly", "start": "2020-01-06"}]}
    live = Live(tmp_path, {"oncall": {"primary": schedule}})
    try:
        topic = live.sns.create_topic(Name="alerts")["TopicArn"]
        for endpoint, why in (("ghost", "no on-call schedule named 'ghost'"),
                              ("two words", "an on-call schedule name")):  # fmt: skip
            with pytest.raises(ClientError) as bad:
                live.sns.subscribe(TopicArn=topic, Protocol="oncall", Endpoint=endpoint)
            assert bad.value.response["Error"]["Code"] == "InvalidParameter"
            assert why in bad.value.response["Error"]["Message"]
        assert live.sns.list_subscriptions()["Subscriptions"] == []  # nothing was stored
        arn = live.sns.subscribe(TopicArn=topic, Protocol="oncall", Endpoint="primary")
        assert arn["SubscriptionArn"].startswith(topic + ":")  # confirmed at once
        _publish(live, topic, "LambdaErrors")
        inbox = live.monitor.notifier.ctx.db.all("SELECT recipient, title FROM nt_inbox")
        # The route's own channel (the inbox, for the team) and the page to alice (her contact
        # is the inbox too).
        assert sorted(inbox) == [("alice", "[CRITICAL] LambdaErrors is in ALARM"),
                                 ("team", "[CRITICAL] LambdaErrors is in ALARM")]  # fmt: skip
        incident = live.monitor.notifier.ctx.incidents.active_for("LambdaErrors")
        assert incident is not None and incident.next_escalation is not None  # it escalates
    finally:
        live.close()
