"""Issue 4 figure: metric ingest throughput with 10,000 alarms loaded vs none (drop <= 10 %).

One process, as in ``heron up``: a writer thread puts sample batches into a real ``MetricStore``
(1,000 series, 10 values per sample, the telemetry sink's shape) as fast as it can, while the
alarm scheduler runs on the real clock in an event loop thread. Run A has no alarms; run B has
10,000 alarms in a real ``AlarmStore`` on the same series (9,000 standard, evaluated every
minute, and 1,000 high-resolution Period-10 alarms, every 10 s). Each run lasts ``--duration``
seconds (default 65, so run B includes a whole-minute round of all 10,000). Datapoints/s are
compared; A and B alternate twice and the medians are used.

    .venv/bin/python bench/alarms_ingest.py [--duration 65]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from alarms_evaluation import ACCOUNT, ALARMS, REGION, SERIES, alarm_request

from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.alarms.validate import validate_put_metric_alarm
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.topics import TopicStore
from heron.types import Sample

DROP_TARGET = 0.10
VALUES = 10


def batch_at(second: int) -> list[Sample]:
    """One second of telemetry: a 10-value sample for each of the 1,000 series."""
    return [
        Sample(
            "Bench",
            f"m{series % 10}",
            (("FunctionName", f"fn{series // 10:03d}"),),
            second * 1000,
            tuple(float((series + k) % 40) for k in range(VALUES)),
        )
        for series in range(SERIES)
    ]


def run(data_dir: Path, alarms_loaded: int, duration_s: float) -> tuple[float, int]:
    """(datapoints/s ingested, evaluations done) over ``duration_s``."""
    alarms = AlarmStore(data_dir)
    metrics = MetricStore(data_dir)
    topics = TopicStore(data_dir / "notify.db", region=REGION, account_id=ACCOUNT)
    for i in range(alarms_loaded):
        period = 10 if i % 10 == 0 else 60
        request = alarm_request(i, period=period)
        alarms.put_alarm(validate_put_metric_alarm(request, region=REGION, account_id=ACCOUNT))
    scheduler = AlarmScheduler(alarms, metrics, topics, time.time)
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    runner = threading.Thread(target=loop.run_until_complete, args=(scheduler.run(stop),))
    runner.start()
    batches = {s: batch_at(s) for s in range(60)}  # built once: the figure is the store's cost
    started = time.perf_counter()
    written = 0
    while time.perf_counter() - started < duration_s:
        now = int(time.time())
        batch = batches[now % 60]
        metrics.put_samples([Sample(*_with_time(s, now)) for s in batch])
        written += len(batch) * VALUES
    elapsed = time.perf_counter() - started
    loop.call_soon_threadsafe(stop.set)
    runner.join(60)
    evaluations = scheduler.evaluations
    alarms.close()
    metrics.close()
    topics.close()
    return written / elapsed, evaluations


def _with_time(sample: Sample, second: int) -> tuple[object, ...]:
    return (
        sample.namespace,
        sample.name,
        sample.dimensions,
        second * 1000,
        sample.values,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=65.0, help="seconds per run")
    args = parser.parse_args()
    none: list[float] = []
    loaded: list[float] = []
    for _ in range(2):
        for count, into in ((0, none), (ALARMS, loaded)):
            with tempfile.TemporaryDirectory() as tmp:
                rate, evaluations = run(Path(tmp), count, args.duration)
            into.append(rate)
            print(
                f"{count:>6,} alarms: {rate:,.0f} datapoints/s ({evaluations:,} evaluations)",
                flush=True,
            )
    base, with_alarms = statistics.median(none), statistics.median(loaded)
    drop = 1 - with_alarms / base
    verdict = "PASS" if drop <= DROP_TARGET else "MISS"
    print(
        f"FIGURE alarm_ingest_drop: {drop * 100:.1f} % (target <= {DROP_TARGET * 100:.0f} %) "
        f"{verdict} -- median {with_alarms:,.0f} datapoints/s with {ALARMS:,} alarms vs "
        f"{base:,.0f} with none, {args.duration:g} s runs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
