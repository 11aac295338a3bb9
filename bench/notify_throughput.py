"""Issue 5: notifications per second through the pipeline to local receivers (target >= 1,000/s).

In process, on the real stores: a ``TopicStore`` and a ``Notifier`` over one SQLite file in a
temporary directory, delivering over HTTP to the receiver process (``notify_common.Receiver``).
``--alarms`` distinct alarms are published to the ``alerts`` topic as CloudWatch alarm messages
(OK -> ALARM); the ``alerts`` route sends each to ``--channels`` SNS-style HTTP webhooks
(``confirm = false``, no rate limit), so one alarm is ``--channels`` notifications. The notifier
runs as ``heron up`` runs it (``Notifier.run``: a tick on every publish, again at once while a
backlog remains, and at least every second; work in a thread), started once the whole backlog is
in the topic (so the publishing thread does not compete for the GIL with what is measured),
until every row is delivered. Each notification goes through every stage: intake (processed mark), observe,
silence, incident (opened), flapping, route, window, outbox row, delivery (HTTP POST, the
receiver's 200), the attempt recorded, and the ledger entries of each.

Figure: notifications/s from the notifier's start until every one is delivered (the receiver's
count is checked against it, with duplicates); also printed: publishing alone, and when the
last message was taken from the topic.

    .venv/bin/python bench/notify_throughput.py [--alarms 5000] [--channels 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import _harness as h
from notify_common import Receiver

from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.outbox import DELIVERED
from heron.monitor.notify.topics import TopicStore

TARGET = 1_000.0
ACCOUNT = "000000000000"


def alarm_message(name: str, now: float) -> str:
    """The CloudWatch alarm JSON SNS carries for an OK -> ALARM change of ``name``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    return json.dumps(
        {
            "AlarmName": name,
            "AlarmDescription": "bench",
            "AWSAccountId": ACCOUNT,
            "NewStateValue": "ALARM",
            "NewStateReason": "Threshold Crossed: bench",
            "StateChangeTime": stamp,
            "Region": "US East (N. Virginia)",
            "AlarmArn": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:{name}",
            "OldStateValue": "OK",
            "Trigger": {
                "MetricName": "Errors",
                "Namespace": "AWS/Lambda",
                "Statistic": "SUM",
                "Dimensions": [{"name": "FunctionName", "value": name}],
                "Period": 60,
                "EvaluationPeriods": 1,
                "ComparisonOperator": "GreaterThanThreshold",
                "Threshold": 0.0,
            },
        }
    )


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=2)
    parser.add_argument("--bound-s", type=float, default=120.0)
    args = parser.parse_args()
    h.header("notify: notifications/s through the pipeline to local receivers")
    receiver = Receiver()
    tmp = Path(tempfile.mkdtemp(prefix="heron-bench-notify-"))
    names = [f"hook{i}" for i in range(args.channels)]
    raw = {
        "channels": {
            n: {"protocol": "http", "url": f"{receiver.url}/{n}", "confirm": False} for n in names
        },
        "routes": {"alerts": {"channels": names}},
    }
    config = load_notify_config(raw, {})
    topics = TopicStore(tmp / "notify.db", account_id=ACCOUNT)
    notifier = Notifier(topics, config, tmp / "notify.db")
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(
        target=loop.run_until_complete, args=(notifier.run(stop),), daemon=True
    )
    try:
        arn = topics.topic_arn("alerts")
        expected = args.alarms * args.channels
        began = time.perf_counter()
        for i in range(args.alarms):
            name = f"bench-{i:06d}"
            topics.publish(arn, alarm_message(name, time.time()), subject=f"ALARM: {name}")
        publish_s = time.perf_counter() - began
        began = time.perf_counter()
        runner.start()  # Notifier.run, as `heron up` runs it
        queued_at: float | None = None
        deadline = began + args.bound_s
        delivered = 0
        while time.perf_counter() < deadline:
            time.sleep(0.02)
            if queued_at is None and not topics.pending(1):
                queued_at = time.perf_counter()
            delivered = notifier.ctx.db.one(
                "SELECT COUNT(*) FROM nt_outbox WHERE status=?", (DELIVERED,)
            )[0]
            if delivered >= expected:
                break
        total_s = time.perf_counter() - began
        records = receiver.records()
    finally:
        loop.call_soon_threadsafe(stop.set)
        runner.join(timeout=30)
        loop.close()
        notifier.close()
        topics.close()
        receiver.close()
    keys = [r["key"] for r in records]
    received, duplicates = len(keys), len(keys) - len(set(keys))
    rate = received / total_s
    pipeline_s = (queued_at - began) if queued_at else float("nan")
    print(f"published {args.alarms} alarm messages in {publish_s:.2f} s "
          f"({args.alarms / publish_s:,.0f}/s)")  # fmt: skip
    print(f"every message taken from the topic after {pipeline_s:.2f} s; "
          f"{expected} notifications delivered by the outbox: {delivered}")  # fmt: skip
    print(f"receiver got {received} requests ({duplicates} duplicates) in {total_s:.2f} s")
    h.figure(
        "notify_notifications_per_s",
        f"{rate:,.0f}/s",
        f">= {TARGET:,.0f}/s",
        rate >= TARGET and received == expected and duplicates == 0,
        f"{args.alarms} alarms x {args.channels} webhooks, in process, real HTTP to a receiver "
        f"process; {received}/{expected} received",
    )


if __name__ == "__main__":
    main()
