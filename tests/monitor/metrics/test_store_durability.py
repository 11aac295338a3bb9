"""Durability: every acknowledged put survives kill -9; concurrent puts share commits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from store_helpers import METRIC, NOW, open_store, sample

from heron.monitor.contracts import MetricId
from heron.monitor.metrics.store import MetricStore

CHILD = Path(__file__).with_name("durability_child.py")


def test_acknowledged_datapoints_survive_kill_minus_nine(tmp_path: Path) -> None:
    threads = 4
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    child = subprocess.Popen(
        [sys.executable, str(CHILD), str(tmp_path), str(threads)],
        stdout=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    acked = dict.fromkeys(range(threads), 0)
    assert child.stdout is not None
    deadline = time.monotonic() + 20
    while sum(acked.values()) < 1500 and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        w, i = map(int, line.split())
        acked[w] = max(acked[w], i)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert sum(acked.values()) >= 1500, "the child did not get going"
    store = MetricStore(tmp_path)
    now_ms = int(time.time() * 1000)
    for w in range(threads):
        metric = MetricId("Kill", f"W{w}", (("Thread", str(w)),))
        got = store.statistics(
            metric, start_ms=now_ms - 3_600_000, end_ms=now_ms + 3_600_000, period_s=7200,
            statistics=["SampleCount", "Sum"],
        )  # fmt: skip
        count = sum(p["SampleCount"] for p in got)
        # Values 1..k were put in order; every acknowledged one (and maybe one more) is there.
        assert count >= acked[w]
        assert sum(p["Sum"] for p in got) == count * (count + 1) / 2


def test_concurrent_puts_are_all_stored_and_share_transactions(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    t0 = int(NOW * 1000) - 60_000
    per_thread, threads = 200, 8
    commits = 0
    original = store._db.append

    def counting_append(*args: object, **kwargs: object) -> int:
        nonlocal commits
        commits += 1
        return original(*args, **kwargs)  # type: ignore[arg-type]

    store._db.append = counting_append  # type: ignore[method-assign]

    def worker() -> None:
        for _ in range(per_thread):
            store.put_samples([sample([1.0], t0)])

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    _, vs = store.series(
        METRIC, start_ms=t0, end_ms=t0 + 60_000, period_s=60, statistic="SampleCount"
    )
    assert vs == [per_thread * threads]
    assert commits < per_thread * threads  # some puts rode along in another's transaction
    store.close()
    reopened = open_store(tmp_path)
    _, vs = reopened.series(
        METRIC, start_ms=t0, end_ms=t0 + 60_000, period_s=60, statistic="SampleCount"
    )
    assert vs == [per_thread * threads]


def test_journal_replay_and_flush_give_the_same_answers(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    t0 = int(NOW * 1000) - 120_000
    store.put_samples([sample([float(i) for i in range(100)], t0)])
    store.flush()
    store.put_samples([sample([float(i) for i in range(100, 150)], t0 + 1000)])
    before = store.series(METRIC, start_ms=t0, end_ms=t0 + 60_000, period_s=60, statistic="p50")
    # No close: reopen from the journal (second put) plus merged cells (first put).
    reopened = open_store(tmp_path)
    after = reopened.series(METRIC, start_ms=t0, end_ms=t0 + 60_000, period_s=60, statistic="p50")
    assert before == after
    _, count = reopened.series(
        METRIC, start_ms=t0, end_ms=t0 + 60_000, period_s=60, statistic="SampleCount"
    )
    assert count == [150.0]
