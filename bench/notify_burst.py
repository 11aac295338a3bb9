"""Issue 5: a burst of 1,000 alarms in one second, delivered with no loss and within rate limits.

A real ``heron up`` routes the ``alerts`` topic to a Slack incoming webhook (Slack's default
limit, 1 message/s per webhook) and an SNS-style HTTP webhook (no limit, ``confirm = false``),
both served by the receiver process (``notify_common.Receiver``). 1,000 alarms (PutMetricAlarm,
Period 10 on 1,000 high-resolution series, ``TreatMissingData = ignore``) are created; one
PutMetricData of 1,000 breaching datums then sends all of them to ALARM in the scheduler round
that closes the period: a burst of 1,000 state changes, each published to ``alerts``.

Checked, not timed: the webhook receives every one of the 1,000 alarms exactly once (by name and
by SNS MessageId); the Slack webhook's messages account for all 1,000 (a backlog is coalesced
into digests that say how many alerts they carry) and are never closer together than the
configured rate allows; nothing is left queued or dead-lettered in the outbox. Printed: how long
the burst took to happen and to be delivered.

    .venv/bin/python bench/notify_burst.py [--alarms 1000]
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import time

import _harness as h
from notify_common import (
    ALERTS_TOPIC,
    Receiver,
    alerts_in,
    heron_with_notify,
    hook_and_slack_config,
    state_change_epoch,
)

RATE_PER_S = 1.0


def main() -> None:
    """Run the burst and print the checks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=1000)
    parser.add_argument("--bound-s", type=float, default=90.0)
    args = parser.parse_args()
    h.header("notify: a burst of alarms, delivered with no loss and within rate limits")
    receiver = Receiver()
    config = hook_and_slack_config(receiver, "burst", slack=f"rate_per_s = {RATE_PER_S:g}")
    try:
        with heron_with_notify(config) as heron:
            cw = heron.cloudwatch()
            names = [f"burst-{i:04d}" for i in range(args.alarms)]
            began = time.perf_counter()
            for i, name in enumerate(names):
                cw.put_metric_alarm(
                    AlarmName=name, Namespace="Bench", MetricName="burst",
                    Dimensions=[{"Name": "Id", "Value": str(i)}], Statistic="Maximum",
                    Period=10, EvaluationPeriods=1, Threshold=0.0,
                    ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
                    AlarmActions=[ALERTS_TOPIC],
                )  # fmt: skip
            print(f"created {len(names)} alarms in {time.perf_counter() - began:.1f} s")
            # Put the datums early in a period, so the period closes with every one inside it.
            while time.time() % 10 > 3:
                time.sleep(0.1)
            cw.put_metric_data(
                Namespace="Bench",
                MetricData=[
                    {"MetricName": "burst", "Dimensions": [{"Name": "Id", "Value": str(i)}],
                     "Value": 1.0, "StorageResolution": 1}
                    for i in range(len(names))
                ],
            )  # fmt: skip
            put_at = time.time()
            deadline = time.monotonic() + args.bound_s
            while time.monotonic() < deadline:
                time.sleep(1.0)
                records = receiver.records()
                hooked = {r.get("alarm") for r in records if r["path"] == "/hook"}
                slack = sum(alerts_in(r.get("text", "")) for r in records if r["path"] != "/hook")
                if len(hooked & set(names)) == len(names) and slack >= len(names):
                    break
            time.sleep(2.0)  # anything sent twice would arrive now
            records = receiver.records()
            db = sqlite3.connect(f"file:{heron.data_dir / 'notify.db'}?mode=ro", uri=True)
            statuses = db.execute(
                "SELECT channel, status, COUNT(*) FROM nt_outbox GROUP BY channel, status"
            ).fetchall()
            db.close()
    finally:
        receiver.close()

    hook = [r for r in records if r["path"] == "/hook" and r.get("state") == "ALARM"]
    slack = [r for r in records if r["path"].startswith("/services/")]
    hook_names = [r["alarm"] for r in hook]
    changes = sorted(state_change_epoch(r["changed"]) for r in hook)
    lost = set(names) - set(hook_names)
    dup_names = len(hook_names) - len(set(hook_names))
    dup_ids = len(hook) - len({r["message_id"] for r in hook})
    slack_alerts = sum(alerts_in(r.get("text", "")) for r in slack)
    gaps = [b["t"] - a["t"] for a, b in itertools.pairwise(slack)]
    min_gap = min(gaps) if gaps else float("inf")
    print(f"outbox rows by channel and status: {statuses}")
    if changes:
        print(
            f"the {len(changes)} state changes spanned {changes[-1] - changes[0]:.2f} s "
            f"(first {changes[0] - put_at:.1f} s after PutMetricData)"
        )
        print(f"webhook: last delivery {max(r['t'] for r in hook) - changes[0]:.2f} s after the"
              " first state change")  # fmt: skip
    print(f"webhook: {len(set(hook_names) & set(names))}/{len(names)} alarms, {len(lost)} lost, "
          f"{dup_names} duplicate names, {dup_ids} duplicate MessageIds")  # fmt: skip
    print(f"slack:   {len(slack)} messages carrying {slack_alerts} alerts; "
          f"texts: {[r.get('text', '')[:60] for r in slack][:6]}")  # fmt: skip
    print(
        f"slack:   gaps between messages {[round(g, 3) for g in gaps]} s (limit {1 / RATE_PER_S:g} s)"
    )
    stuck = [s for s in statuses if s[1] in ("queued", "deferred", "dead")]
    within = min_gap >= (1 / RATE_PER_S) * 0.95  # 5 %: the limiter's clock vs the wire's
    ok = not lost and not dup_names and not dup_ids and slack_alerts == len(names) and not stuck
    spread = changes[-1] - changes[0] if changes else float("nan")
    h.figure(
        "notify_burst_no_loss",
        f"{len(set(hook_names) & set(names))}/{len(names)} delivered, {len(lost)} lost, "
        f"{dup_names + dup_ids} duplicates; slack {len(slack)} msgs for {slack_alerts} alerts",
        "no loss, within rate limits",
        ok and within,
        f"burst spanned {spread:.2f} s; slack min gap {min_gap:.3f} s",
    )


if __name__ == "__main__":
    main()
