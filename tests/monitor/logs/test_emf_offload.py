"""EMF lines extracted by decode workers give the metric store exactly what extracting them in
the store's own process gives, and a failed worker only moves the work back in process."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heron.awsapi.decode_pool import DecodePool
from heron.monitor.logs.chunks import pack
from heron.monitor.logs.emf import MARKER
from heron.monitor.logs.emf_offload import OFFLOAD_FROM_LINES, EmfAnswer, events_part
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)
STATS = ["SampleCount", "Sum", "Minimum", "Maximum", "p90"]


def lines(count: int, seed: int) -> list[tuple[int, str]]:
    """EMF documents (valid, invalid, out of the window), broken JSON and plain lines."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        ts = NOW - rng.randrange(0, 600_000)
        kind = rng.random()
        doc: dict[str, Any] = {
            "_aws": {
                "Timestamp": ts,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "App",
                        "Dimensions": [["Function", "Route"], ["Function"]],
                        "Metrics": [
                            {"Name": "Latency", "Unit": "Milliseconds"},
                            {"Name": "Sent", "Unit": "Count", "StorageResolution": 1},
                        ],
                    }
                ],
            },
            "Function": f"fn{i % 7}",
            "Route": f"/r{i % 3}",
            "Latency": round(rng.random() * 100, 3),
            "Sent": [1, 2] if i % 11 == 0 else 1,
        }
        if kind < 0.05:
            doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] = "AWS/Nope"  # invalid directive
        elif kind < 0.08:
            doc["_aws"]["Timestamp"] = NOW - 30 * 86_400_000  # outside the window
        text = json.dumps(doc)
        if 0.08 <= kind < 0.1:
            text = text[:-1]  # not JSON
        elif 0.1 <= kind < 0.15:
            text = f"plain line {i}"
        out.append((ts, text))
    return sorted(out, key=lambda e: e[0])  # PutLogEvents wants chronological order


def stored(metrics: MetricStore) -> dict[Any, Any]:
    found = {}
    for metric in metrics.list_metrics():
        for period in (1, 60):
            found[(metric, period)] = metrics.statistics(
                metric,
                start_ms=NOW - 700_000,
                end_ms=NOW + 60_000,
                period_s=period,
                statistics=STATS,
            )
    return found


def run(root: Path, offload: Any, batches: list[list[tuple[int, str]]]) -> tuple[Any, Any]:
    metrics = MetricStore(root, clock=lambda: NOW_S)
    logs = LogStore(root / "logs.db", clock=lambda: NOW_S, sink=metrics)
    logs.emf_offload = offload
    logs.create_group("g")
    logs.create_stream("g", "s")
    try:
        for batch in batches:
            logs.put_events("g", "s", batch)
        return stored(metrics), logs.emf.stats.as_dict()
    finally:
        logs.close()
        metrics.close()


def test_workers_extract_what_the_store_extracts_itself(tmp_path: Path) -> None:
    pool = DecodePool(2, idle_s=30)
    try:
        # Bring both workers up: a write that finds no idle worker starts one and extracts here.
        deadline = time.monotonic() + 30
        while len(pool.pids()) < 2 and time.monotonic() < deadline:
            pool.finish_emf(pool.start_emf([], NOW) or [], lambda keys: np.arange(len(keys)))
            time.sleep(0.05)
        assert len(pool.pids()) == 2
        batches = [lines(1_500, seed=1), lines(700, seed=2)]
        before = pool.answered
        with_workers = run(tmp_path / "workers", pool, batches)
        assert pool.answered == before + 4  # each write split between the two workers
    finally:
        pool.close()
    in_process = run(tmp_path / "here", None, batches)
    assert with_workers == in_process
    assert in_process[1]["EMFParsingErrors"] > 0 and in_process[1]["EMFValidationErrors"] > 0
    assert len(in_process[0]) > 20


class FailingOffload:
    """Takes the lines and then fails to answer, as a worker killed mid-request would."""

    def __init__(self) -> None:
        self.started = 0

    def start_emf(self, chunks: list[Any], now_ms: int) -> object | None:
        self.started += 1
        return object()

    def finish_emf(self, ticket: object, metric_ids: Any) -> EmfAnswer | None:
        return None


def test_a_failed_worker_leaves_the_lines_to_the_store(tmp_path: Path) -> None:
    batches = [lines(OFFLOAD_FROM_LINES + 10, seed=3)]
    failing = FailingOffload()
    assert run(tmp_path / "failing", failing, batches) == run(tmp_path / "here", None, batches)
    assert failing.started == 1


def test_small_writes_stay_in_process(tmp_path: Path) -> None:
    failing = FailingOffload()
    run(tmp_path / "small", failing, [lines(OFFLOAD_FROM_LINES - 1, seed=4)])
    assert failing.started == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(
            st.tuples(st.integers(0, 100_000), st.sampled_from(["x", f"{{{MARKER}:1}}", "é"])),
            max_size=30,
        ),
        max_size=4,
    ),
    st.integers(1, 3),
)
def test_parts_cover_the_emf_chunks_events_once_in_order(
    streams: list[list[tuple[int, str]]], parts: int
) -> None:
    packed, expected = [], []
    for events in streams:
        ordered = sorted(events, key=lambda e: e[0])
        start = 0
        for chunk in pack(list(events)):
            packed.append((chunk.stamps, chunk.lengths, chunk.text))
            own = ordered[start : start + chunk.count]
            start += chunk.count
            if any(MARKER in m for _, m in own):  # chunks without EMF lines are skipped
                expected.extend(own)
    joined = [e for p in range(parts) for e in events_part(packed, p, parts)]
    assert joined == expected
