"""Issue 4 alarm figures: evaluations per second per core, and breach -> state change latency.

1. Evaluations/s per core (target >= 50,000), on one thread:
   (a) the pure decision, ``evaluate_metric_alarm`` over 5 fetched datapoints per alarm;
   (b) a whole scheduler round (``AlarmScheduler.tick``) over 10,000 alarms in a real
       ``AlarmStore`` watching 1,000 series of a real ``MetricStore`` (10 alarms per series,
       different thresholds/statistics/periods): fetch, decide, record. (b) is the figure.
2. Breach -> state change, p99 (target <= 2 s after the period closes): the scheduler runs on the
   real clock (``AlarmScheduler.run``) with 10,000 background alarms; 20 high-resolution alarms
   (Period 10) get a breaching or a healthy datapoint each period, so they flip every period.
   Latency = the state change's StateUpdatedTimestamp minus the end of the period that decided it.

    .venv/bin/python bench/alarms_evaluation.py [--duration 45]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from heron.monitor.alarms.evaluate import evaluate_metric_alarm
from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.alarms.validate import validate_put_metric_alarm
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.topics import TopicStore
from heron.types import Sample

EVAL_TARGET = 50_000
LATENCY_TARGET_S = 2.0
REGION, ACCOUNT = "us-east-1", "000000000000"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
SERIES = 1_000
ALARMS = 10_000


def alarm_request(i: int, *, period: int = 60, name: str | None = None) -> dict[str, Any]:
    """A PutMetricAlarm request: alarm ``i`` watches series ``i % SERIES``."""
    series = i % SERIES
    request: dict[str, Any] = {
        "AlarmName": name or f"bench-{i:05d}",
        "Namespace": "Bench",
        "MetricName": f"m{series % 10}",
        "Dimensions": [{"Name": "FunctionName", "Value": f"fn{series // 10:03d}"}],
        "Period": period,
        "EvaluationPeriods": 1 + i % 3,
        "Threshold": float(i % 50),
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": ("missing", "notBreaching", "breaching", "ignore")[i % 4],
        "AlarmActions": [TOPIC],
    }
    if i % 7 == 0:
        request["ExtendedStatistic"] = "p99"
    else:
        request["Statistic"] = ("Sum", "Average", "Maximum")[i % 3]
    return request


def load_alarms(store: AlarmStore, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        config = validate_put_metric_alarm(alarm_request(i), region=REGION, account_id=ACCOUNT)
        store.put_alarm(config)


def fill_series(metrics: MetricStore, now: float, minutes: int = 8, ahead: int = 5) -> None:
    """One sample per series and 10 s from ``minutes`` before ``now`` to ``ahead`` after it (so
    the timed rounds see the same data and few transitions)."""
    batch = []
    for series in range(SERIES):
        dims = (("FunctionName", f"fn{series // 10:03d}"),)
        for t in range(int(now) - 60 * minutes, int(now) + 60 * ahead, 10):
            batch.append(Sample("Bench", f"m{series % 10}", dims, t * 1000, (float(t % 60),)))
    metrics.put_samples(batch)
    metrics.flush()


def pure_rate(seconds: float = 3.0) -> float:
    """Pure evaluations per second on one thread."""
    now_ms = 1_700_000_400_000
    alarms = []
    for i in range(1000):
        config = validate_put_metric_alarm(alarm_request(i), region=REGION, account_id=ACCOUNT)
        config.update(StateValue="OK", StateReason="", AlarmConfigurationUpdatedTimestamp=0.0)
        alarms.append(config)
    points = [(now_ms - 60_000 * (k + 1), float(k * 7 % 40)) for k in range(5)][::-1]
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for alarm in alarms:
            evaluate_metric_alarm(alarm, points, now_ms=now_ms)
        done += len(alarms)
    return done / (time.perf_counter() - started)


def round_rate(data_dir: Path) -> tuple[float, float, int]:
    """(evaluations/s, seconds per round, transitions) of full scheduler rounds."""
    now = float(int(time.time()) // 60 * 60)
    alarms = AlarmStore(data_dir)
    metrics = MetricStore(data_dir)
    topics = TopicStore(data_dir / "notify.db", region=REGION, account_id=ACCOUNT)
    load_alarms(alarms, ALARMS)
    fill_series(metrics, now)
    scheduler = AlarmScheduler(alarms, metrics, topics, lambda: now)
    # The first round moves every alarm out of INSUFFICIENT_DATA (10,000 transitions, each a
    # committed state change, history item and SNS message): timed apart from steady rounds.
    started = time.perf_counter()
    first_changes = len(scheduler.tick(now + 1))
    first = time.perf_counter() - started
    rounds, changes, total = 3, 0, 0.0
    for r in range(1, rounds + 1):
        at = now + 60 * r + 1
        before = scheduler.evaluations
        started = time.perf_counter()
        changes += len(scheduler.tick(at))
        total += time.perf_counter() - started
        assert scheduler.evaluations - before == ALARMS
    alarms.close()
    metrics.close()
    topics.close()
    print(
        f"first round: {first:.2f} s for {ALARMS:,} evaluations and {first_changes:,} transitions"
        f" ({first_changes / first:,.0f} transitions/s)"
    )
    return ALARMS * rounds / total, total / rounds, changes


def breach_latency(data_dir: Path, duration_s: float) -> list[float]:
    """Seconds from period end to the recorded state change, for every flip."""
    alarms = AlarmStore(data_dir)
    metrics = MetricStore(data_dir)
    topics = TopicStore(data_dir / "notify.db", region=REGION, account_id=ACCOUNT)
    load_alarms(alarms, ALARMS)
    fill_series(metrics, time.time())
    watched = [f"flip-{k:02d}" for k in range(20)]
    for k, name in enumerate(watched):
        request = {
            **alarm_request(k, period=10, name=name),
            "Statistic": "Maximum",
            "EvaluationPeriods": 1,
            "Threshold": 5.0,
            "TreatMissingData": "notBreaching",
            "Namespace": "Flip",
            "MetricName": name,
            "Dimensions": [],
        }
        request.pop("ExtendedStatistic", None)
        alarms.put_alarm(validate_put_metric_alarm(request, region=REGION, account_id=ACCOUNT))
    scheduler = AlarmScheduler(alarms, metrics, topics, time.time)
    scheduler.tick(time.time())  # settle the background alarms' first transitions
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(scheduler.run(stop),))
    runner.start()
    decided: dict[str, list[float]] = {}  # alarm -> period ends after which its state flips
    deadline = time.time() + duration_s
    while time.time() < deadline:
        period_start = int(time.time()) // 10 * 10
        breaching = (period_start // 10) % 2 == 0
        time.sleep(max(0.0, period_start + 3 - time.time()))  # the datapoint is not in the future
        metrics.put_samples(
            [
                Sample(
                    "Flip",
                    name,
                    (),
                    (period_start + 2) * 1000,
                    (9.0 if breaching else 1.0,),
                    storage_resolution=1,  # high resolution: 10 s periods need 1 s buckets
                )
                for name in watched
            ]
        )
        for name in watched:
            decided.setdefault(name, []).append(period_start + 10.0)
        time.sleep(max(0.0, period_start + 10 - time.time()))
    loop.call_soon_threadsafe(stop.set)
    runner.join(30)
    latencies: list[float] = []
    from heron.monitor.alarms.history_log import HistoryQuery

    for name in watched:
        ends = decided[name]
        for _, item in alarms.history(HistoryQuery(name=name, kind="StateUpdate")):
            changed = float(item["Timestamp"])
            closed = [e for e in ends if e <= changed]
            if closed and "Initial" not in item["HistorySummary"]:
                latencies.append(changed - max(closed))
    alarms.close()
    metrics.close()
    topics.close()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=45.0, help="latency run, seconds")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}; one thread per figure")
    pure = pure_rate()
    print(f"pure evaluate_metric_alarm: {pure:,.0f} evaluations/s")
    with tempfile.TemporaryDirectory() as tmp:
        rate, per_round, changes = round_rate(Path(tmp))
    print(
        f"scheduler rounds over {ALARMS:,} alarms / {SERIES:,} series: {rate:,.0f} evaluations/s"
        f" ({per_round * 1000:.0f} ms per round, {changes} transitions recorded)"
    )
    verdict = "PASS" if rate >= EVAL_TARGET else "MISS"
    print(
        f"FIGURE alarm_evaluations_per_core: {rate:,.0f}/s (target >= {EVAL_TARGET:,}/s) "
        f"{verdict} -- whole scheduler round over {ALARMS:,} alarms on one thread; pure decision "
        f"{pure:,.0f}/s"
    )
    with tempfile.TemporaryDirectory() as tmp:
        latencies = breach_latency(Path(tmp), args.duration)
    if not latencies:
        print("FIGURE alarm_breach_to_state_p99: none (target <= 2 s) MISS -- no transitions")
        return 1
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    verdict = "PASS" if p99 <= LATENCY_TARGET_S else "MISS"
    print(
        f"FIGURE alarm_breach_to_state_p99: {p99:.2f} s (target <= {LATENCY_TARGET_S:g} s) "
        f"{verdict} -- {len(latencies)} transitions of 20 Period-10 alarms beside {ALARMS:,} "
        f"others; median {statistics.median(latencies):.2f} s, max {latencies[-1]:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
