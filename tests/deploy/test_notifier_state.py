"""The deployed notifier's state outlives its execution environment (S3 on a moto server).

Every invocation here is a cold start: a fresh state directory (Lambda's ``/tmp``) and no cached
notifier, so whatever the next invocation knows came from the state bucket. Deliveries go to a
real local HTTP server standing in for Slack and a webhook; acks arrive as HTTP API events
through the signed links the Slack message carried.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from heron.deploy import notifier_handler
from heron.deploy.notifier_handler import (
    CONFIG_ENV,
    PUBLIC_URL_ENV,
    STATE_ENV,
    TOPIC_ENV,
    handle,
)
from heron.deploy.notifier_state import (
    BUCKET_ENV,
    ENDPOINT_ENV,
    LINK_KEY,
    STATE_KEY,
    DurableState,
    StaleStateError,
    StateError,
    generation_of,
)
from heron.monitor.notify.db import NotifyDB

from .conftest import REGION, client
from .test_notifier_handler import ALERTS_ARN, NOW, WARNINGS_ARN, alarm_body, sns_event

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"
ALARM = "heron-prod-LambdaErrors"
ESCALATION = "is still in ALARM"


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[str, str]]

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        self.received.append((self.path, self.rfile.read(length).decode()))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    received: list[tuple[str, str]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def s3(endpoint: str) -> Any:
    return client("s3", endpoint)


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"heron-state-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    return name


@pytest.fixture
def cold(
    tmp_path: Path, endpoint: str, bucket: str, receiver: tuple[str, list[Any]]
) -> Iterator[Any]:
    """``cold(event, now)``: one invocation in a brand-new execution environment."""
    base, _ = receiver
    config = {
        "channels": {
            "team-slack": {"protocol": "slack", "url": "${SLACK_URL}"},
            "bob-hook": {"protocol": "http", "url": "${BOB_URL}", "confirm": False},
        },
        "people": {"alice": {"contacts": ["team-slack"]}, "bob": {"contacts": ["bob-hook"]}},
        "escalation": {"levels": ["user:alice", "user:bob"], "after_min": 5},
        "routes": {"alerts": {"channels": ["oncall"]}},
    }
    count = iter(range(1, 1000))

    def invoke(event: dict[str, Any], now: float) -> dict[str, Any]:
        notifier_handler.close_all()  # Lambda recycled the environment: nothing in memory
        environ = {
            STATE_ENV: str(tmp_path / f"env-{next(count)}"),  # ... and a fresh /tmp
            CONFIG_ENV: json.dumps(config),
            TOPIC_ENV["alerts"]: ALERTS_ARN,
            TOPIC_ENV["warnings"]: WARNINGS_ARN,
            BUCKET_ENV: bucket,
            ENDPOINT_ENV: endpoint,
            "AWS_REGION": REGION,
            PUBLIC_URL_ENV: API_URL,
            "SLACK_URL": f"{base}/slack",
            "BOB_URL": f"{base}/bob",
        }
        return handle(event, environ, now)

    yield invoke
    notifier_handler.close_all()


def api_event(method: str, url: str) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) request for ``url``, as Lambda receives it."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    route = f"{method} /notify/link/{{id}}/{{action}}"
    return {
        "version": "2.0",
        "routeKey": route,
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "headers": {"host": parts.netloc, "user-agent": "pytest"},
        "pathParameters": {"id": segments[-2], "action": segments[-1]},
        "requestContext": {
            "domainName": parts.netloc,
            "routeKey": route,
            "stage": "$default",
            "http": {"method": method, "path": parts.path, "sourceIp": "203.0.113.9"},
        },
        "isBase64Encoded": False,
    }


def pages(received: list[tuple[str, str]], path: str) -> list[str]:
    return [body for p, body in received if p == path]


def saved_state(s3: Any, bucket: str, tmp_path: Path) -> NotifyDB:
    path = tmp_path / "downloaded.db"
    path.write_bytes(s3.get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read())
    return NotifyDB(path, readonly=True)


@pytest.mark.usefixtures("aws_env")
def test_an_incident_opened_in_one_environment_escalates_in_the_next(
    cold: Any, receiver: tuple[str, list[tuple[str, str]]], s3: Any, bucket: str, tmp_path: Path
) -> None:
    _, received = receiver
    alarm = sns_event("m-1", ALERTS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5))
    assert cold(alarm, NOW) == {"accepted": 1}
    assert len(pages(received, "/slack")) == 1 and pages(received, "/bob") == []
    # A tick before the escalation is due changes nothing that matters and pages nobody.
    cold({"source": "aws.events"}, NOW + 60)
    assert pages(received, "/bob") == []
    # Five minutes unacknowledged: a new environment, knowing only S3, pages the next level.
    assert cold({"source": "aws.events"}, NOW + 6 * 60) == {"accepted": 0}
    (page,) = pages(received, "/bob")
    assert ESCALATION in page and ALARM in page
    # SNS redelivering the first message to yet another environment is still recognised.
    assert cold(alarm, NOW + 7 * 60) == {"accepted": 0}
    db = saved_state(s3, bucket, tmp_path)
    try:
        (row,) = db.all("SELECT alarm, status, level FROM nt_incidents")
    finally:
        db.close()
    assert row == (ALARM, "open", 1)


@pytest.mark.usefixtures("aws_env")
def test_an_ack_through_the_signed_link_stops_the_escalation(
    cold: Any, receiver: tuple[str, list[tuple[str, str]]], s3: Any, bucket: str, tmp_path: Path
) -> None:
    _, received = receiver
    cold(sns_event("m-1", ALERTS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5)), NOW)
    (slack,) = pages(received, "/slack")
    # The Slack card carries links to the deployed HTTP API, signed with the stack's key.
    links = re.findall(r"https://[^\"\s]+/notify/link/\d+/\w+\?[^\"\s]+", slack)
    ack = next(url for url in links if "/ack?" in url)
    assert ack.startswith(f"{API_URL}/notify/link/1/ack?")
    assert s3.get_object(Bucket=bucket, Key=LINK_KEY)["Body"].read().strip()

    forged = ack.replace("sig=", "sig=00")
    assert cold(api_event("POST", forged), NOW + 60)["statusCode"] == 403
    shown = cold(api_event("GET", ack), NOW + 60)  # a prefetch or unfurl: asks, does nothing
    assert shown["statusCode"] == 200 and "<form method='post'" in shown["body"]
    done = cold(api_event("POST", ack), NOW + 120)
    assert done["statusCode"] == 200 and "acknowledged" in done["body"]
    assert done["headers"]["cache-control"] == "no-store"

    cold({"source": "aws.events"}, NOW + 6 * 60)
    cold({"source": "aws.events"}, NOW + 12 * 60)
    assert pages(received, "/bob") == []  # the ack was durable: nobody else was paged
    db = saved_state(s3, bucket, tmp_path)
    try:
        (row,) = db.all("SELECT status, acked_by FROM nt_incidents")
    finally:
        db.close()
    assert row[0] == "acknowledged" and "203.0.113.9" in row[1]


@pytest.mark.usefixtures("aws_env")
def test_a_stale_writer_is_refused_and_the_newer_state_kept(
    cold: Any, s3: Any, bucket: str, tmp_path: Path
) -> None:
    cold(sns_event("m-1", ALERTS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5)), NOW)
    # A writer restores generation 1 ...
    stale = DurableState(s3, bucket, tmp_path / "stale")
    stale.directory.mkdir()
    fetched = stale.fetch()
    assert fetched is not None
    stale.install(fetched)
    assert stale.generation == 1
    db = NotifyDB(stale.db_path)
    stale.begin()
    # ... meanwhile another environment saves generation 2 ...
    other = alarm_body("heron-prod-HighLatency", "ALARM", "OK", NOW + 50)
    assert cold(sns_event("m-2", ALERTS_ARN, other), NOW + 60) == {"accepted": 1}
    # ... so the first writer's save is refused, not allowed to overwrite the newer incident.
    db.execute("INSERT INTO nt_processed VALUES ('m-stale', ?)", (NOW,))
    db.close()
    with pytest.raises(StaleStateError, match="another writer"):
        stale.save()
    kept = saved_state(s3, bucket, tmp_path)
    try:
        ids = {r[0] for r in kept.all("SELECT message_id FROM nt_processed")}
    finally:
        kept.close()
    assert ids == {"m-1", "m-2"}
    assert generation_of(tmp_path / "downloaded.db") == 2
    # It now distrusts its copy: the next fetch brings generation 2.
    again = stale.fetch()
    assert again is not None and again.body is not None
    stale.install(again)
    assert stale.generation == 2


@pytest.mark.usefixtures("aws_env")
def test_nothing_is_written_when_nothing_changed(cold: Any, s3: Any, bucket: str) -> None:
    cold(sns_event("m-1", WARNINGS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5)), NOW)
    before = s3.head_object(Bucket=bucket, Key=STATE_KEY)["ETag"]
    # SNS redelivery of a known message: the dedup mark answers; the ledger notes it.
    cold(sns_event("m-1", WARNINGS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5)), NOW + 1)
    after = s3.head_object(Bucket=bucket, Key=STATE_KEY)["ETag"]
    assert after != before
    # A warm environment (same /tmp, same process) ticking with nothing due leaves it alone.
    (env,) = notifier_handler._cached.values()
    assert handle({"source": "aws.events"}, env.environ, NOW + 2) == {"accepted": 0}
    assert s3.head_object(Bucket=bucket, Key=STATE_KEY)["ETag"] == after


@pytest.mark.usefixtures("aws_env")
def test_a_state_object_that_is_not_sqlite_fails_loudly_and_is_left_alone(
    cold: Any, s3: Any, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key=STATE_KEY, Body=b"not a database")
    with pytest.raises(StateError, match="not a SQLite database"):
        cold(sns_event("m-1", ALERTS_ARN, alarm_body(ALARM, "ALARM", "OK", NOW - 5)), NOW)
    assert s3.get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read() == b"not a database"


@pytest.mark.usefixtures("aws_env")
def test_a_corrupt_database_behind_the_sqlite_header_is_refused_too(
    cold: Any, s3: Any, bucket: str
) -> None:
    broken = b"SQLite format 3\x00" + b"\xff" * 4000
    s3.put_object(Bucket=bucket, Key=STATE_KEY, Body=broken)
    with pytest.raises(StateError, match="unreadable"):
        cold({"source": "aws.events"}, NOW)
    assert s3.get_object(Bucket=bucket, Key=STATE_KEY)["Body"].read() == broken
