"""Issue 5: alarm state change -> first byte at a local webhook receiver, p99 for critical.

A real ``heron up`` routes the ``alerts`` topic to two local destinations served by the receiver
process (``notify_common.Receiver``): an SNS-style HTTP webhook (``protocol = "http"``, no rate
limit, ``confirm = false``) and a Slack incoming webhook (``protocol = "slack"``, Slack's default
1 message/s). ``--samples`` alarms are created with PutMetricAlarm (``AlarmActions`` = alerts, on
a metric that never gets data); then, one at a time and ``--spacing`` seconds apart (more than
Slack's 1 s so its rate limit is not what gets measured), SetAlarmState puts one of them in ALARM
and the time until the first byte of its notification reaches each receiver is taken:

- from the client's clock just before the SetAlarmState call (what an operator would see), and
- from the alarm's ``StateChangeTime`` in the delivered message (state committed -> first byte).

Target: p99 <= 250 ms (the webhook is the figure; Slack is printed beside it).

    .venv/bin/python bench/notify_latency.py [--samples 100] [--spacing 1.1]
"""

from __future__ import annotations

import argparse
import time

import _harness as h
from notify_common import (
    ALERTS_TOPIC,
    Receiver,
    heron_with_notify,
    hook_and_slack_config,
    state_change_epoch,
)

TARGET_MS = 250.0


def main() -> None:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--spacing", type=float, default=1.1)
    args = parser.parse_args()
    h.header("notify: state change -> first byte at a local webhook (critical)")
    receiver = Receiver()
    try:
        config = hook_and_slack_config(
            receiver, "bench", notify='public_url = "http://127.0.0.1:{monitor_port}"'
        )
        with heron_with_notify(config) as heron:
            cw = heron.cloudwatch()
            names = [f"bench-latency-{i:04d}" for i in range(args.samples)]
            for name in names:
                cw.put_metric_alarm(
                    AlarmName=name, Namespace="Bench", MetricName="never", Statistic="Sum",
                    Period=60, EvaluationPeriods=1, Threshold=1.0,
                    ComparisonOperator="GreaterThanThreshold", AlarmActions=[ALERTS_TOPIC],
                )  # fmt: skip
            time.sleep(1.0)
            sent: dict[str, float] = {}
            for name in names:
                started = time.time()
                sent[name] = started
                cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="bench")
                time.sleep(max(0.0, args.spacing - (time.time() - started)))
            time.sleep(3.0)
            records = receiver.records()
    finally:
        receiver.close()

    hook_client, hook_commit, slack_client = [], [], []
    seen: set[str] = set()
    for rec in records:
        if rec["path"] == "/hook" and rec.get("state") == "ALARM" and rec["alarm"] in sent:
            if rec["alarm"] in seen:
                continue  # only the first byte of the first delivery counts
            seen.add(rec["alarm"])
            hook_client.append((rec["t"] - sent[rec["alarm"]]) * 1000)
            hook_commit.append((rec["t"] - state_change_epoch(rec["changed"])) * 1000)
        elif rec["path"].startswith("/services/"):
            name = next((n for n in sent if n in rec.get("text", "")), None)
            if name is not None:
                slack_client.append((rec["t"] - sent[name]) * 1000)
    missing = len(sent) - len(hook_client)

    def line(values: list[float]) -> str:
        if not values:
            return "no samples"
        return (
            f"p50 {h.percentile(values, 50):.1f} ms, p99 {h.percentile(values, 99):.1f} ms, "
            f"max {max(values):.1f} ms ({len(values)} samples)"
        )

    print(f"webhook, from SetAlarmState call: {line(hook_client)}")
    print(f"webhook, from StateChangeTime:    {line(hook_commit)}")
    print(f"slack,   from SetAlarmState call: {line(slack_client)}")
    p99 = h.percentile(hook_client, 99) if hook_client else float("inf")
    h.figure(
        "notify_state_change_to_first_byte_p99",
        f"{p99:.1f} ms",
        f"<= {TARGET_MS:g} ms",
        p99 <= TARGET_MS and missing == 0,
        f"webhook, {len(hook_client)} of {len(sent)} delivered; slack p99 "
        f"{h.percentile(slack_client, 99) if slack_client else float('nan'):.1f} ms",
    )


if __name__ == "__main__":
    main()
