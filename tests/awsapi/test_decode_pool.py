"""Decode workers are real child processes: they answer like the in-process path, start on
demand, leave when idle, and a dead one only costs the request a local decode."""

from __future__ import annotations

import gzip
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from heron.awsapi import decode_pool
from heron.awsapi.decode_pool import UNAVAILABLE, DecodePool, Unavailable
from heron.awsapi.plain_put import IdentityMemo, PlainPut, plain_body

from .metric_ids import Registry

NOW_MS = 1_764_000_000_000
LIMIT = 1 << 20


def body(count: int, *, name: str = "Latency") -> bytes:
    """A gzipped plain PutMetricData body of ``count`` datums."""
    datums = [
        {
            "MetricName": name,
            "Value": float(i),
            "Unit": "Milliseconds",
            "Timestamp": NOW_MS / 1000 - i,
            "Dimensions": [{"Name": "Shard", "Value": f"s{i % 7}"}],
        }
        for i in range(count)
    ]
    return gzip.compress(orjson.dumps({"Namespace": "App", "MetricData": datums}))


REGISTRY = Registry()


def decode(pool: DecodePool, raw: bytes, gzipped: bool = True) -> PlainPut | Unavailable | None:
    got = pool.decode(raw, gzipped, LIMIT, NOW_MS, REGISTRY)
    if got is None or isinstance(got, Unavailable):
        return got
    return REGISTRY.put(got)


def decode_when_ready(pool: DecodePool, raw: bytes) -> PlainPut | None:
    """The first answer a worker gives (the pool answers UNAVAILABLE while one starts)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = decode(pool, raw)
        if not isinstance(got, Unavailable):
            return got
        time.sleep(0.02)
    raise AssertionError("no decode worker answered within 30 s")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # A zombie still answers signal 0; its state says it is done.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().split(") ")[1][0] in "ZX"


def zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] == "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def pool() -> Iterator[DecodePool]:
    made = DecodePool(1, idle_s=30)
    yield made
    made.close()


def test_a_worker_answers_what_the_process_itself_would(pool: DecodePool) -> None:
    raw = body(1000)
    assert decode(pool, raw) is UNAVAILABLE  # none yet: one starts
    got = decode_when_ready(pool, raw)
    assert got == plain_body(raw, True, LIMIT, NOW_MS, IdentityMemo())
    assert (
        got is not None and len(got.keys) == 1000 and got.keys[3] == "App\x00Latency\x00Shard\x01s3"
    )
    [pid] = pool.pids()
    assert pid != os.getpid()
    # A request that is not plain is declined by the worker too: the generic path answers it.
    assert decode(pool, body(3, name="")) is None
    assert decode(pool, raw, gzipped=False) is None  # not gzip after all
    # Each key crossed the pipe once: the second answer asked for no new metric ids.
    asked = len(REGISTRY.asked)
    assert decode(pool, raw) == got and len(REGISTRY.asked) == asked
    assert pool.answered >= 4 and pool.pids() == [pid]


def test_a_killed_worker_costs_only_a_local_decode(pool: DecodePool) -> None:
    raw = body(50)
    decode_when_ready(pool, raw)
    [pid] = pool.pids()
    os.kill(pid, signal.SIGKILL)
    while not gone(pid):
        time.sleep(0.01)
    assert decode(pool, raw) is UNAVAILABLE
    assert decode_when_ready(pool, raw) == plain_body(raw, True, LIMIT, NOW_MS, IdentityMemo())
    assert pool.pids() not in ([], [pid])


def test_workers_leave_when_idle_and_come_back_on_demand() -> None:
    pool = DecodePool(1, idle_s=0.3)
    try:
        raw = body(10)
        decode_when_ready(pool, raw)
        [pid] = pool.pids()
        deadline = time.monotonic() + 10
        while not gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert gone(pid), "an idle worker should leave by itself"
        assert zombie(pid), "nothing has reaped it yet"
        assert pool.reap() == 1 and pool.pids() == []
        assert not os.path.exists(f"/proc/{pid}"), "reaped: no zombie left behind"
        assert pool.reap() == 0
        assert decode(pool, raw) is UNAVAILABLE
        assert decode_when_ready(pool, raw) is not None
    finally:
        pool.close()


def test_close_stops_the_workers() -> None:
    pool = DecodePool(2, idle_s=30)
    decode_when_ready(pool, body(10))
    pids = pool.pids()
    pool.close()
    assert pids and all(gone(pid) for pid in pids)
    assert decode(pool, body(10)) is UNAVAILABLE


def test_a_worker_that_cannot_start_wakes_whoever_waits_for_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class NeverStarts:
        def __init__(self, idle_s: float) -> None:
            time.sleep(0.3)
            raise decode_pool.WorkerGone("no ready frame")

    monkeypatch.setattr(decode_pool, "_Worker", NeverStarts)
    pool = DecodePool(1, idle_s=30)
    try:
        raw = body(10)
        assert decode(pool, raw) is UNAVAILABLE  # starts one
        started = time.monotonic()
        assert decode(pool, raw) is UNAVAILABLE  # waits for it, and is woken by its failure
        assert time.monotonic() - started < 5
        assert decode(pool, raw) is UNAVAILABLE  # no new start right after a failure
    finally:
        pool.close()


def test_workers_start_with_high_descriptors_and_a_hostile_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "heron").mkdir()
    (tmp_path / "heron" / "__init__.py").write_text("raise SystemExit('shadowed heron')\n")
    monkeypatch.chdir(tmp_path)  # python -m would put this first on sys.path without -P
    spare = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]  # pipes land past 1,023
    pool = DecodePool(1, idle_s=30)
    try:
        raw = body(20)
        assert decode_when_ready(pool, raw) == plain_body(raw, True, LIMIT, NOW_MS, IdentityMemo())
    finally:
        pool.close()
        for fd in spare:
            os.close(fd)


def test_a_stopped_worker_times_out_and_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode_pool, "ANSWER_TIMEOUT_S", 0.5)
    pool = DecodePool(1, idle_s=30)
    try:
        raw = body(20)
        decode_when_ready(pool, raw)
        [pid] = pool.pids()
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        assert decode(pool, raw) is UNAVAILABLE
        assert time.monotonic() - started < 5
        assert gone(pid)
        assert decode_when_ready(pool, raw) is not None
    finally:
        pool.close()


def test_a_failed_emf_handoff_replaces_the_workers_that_got_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pool = DecodePool(2, idle_s=30)
    try:
        deadline = time.monotonic() + 30
        while len(pool.pids()) < 2 and time.monotonic() < deadline:
            pool.finish_emf(pool.start_emf([], NOW_MS) or [], REGISTRY)
            time.sleep(0.05)
        _, second = pool._idle  # the test breaks one worker's pipe on purpose

        def broken_pipe(request: object) -> None:
            raise BrokenPipeError

        monkeypatch.setattr(second, "send", broken_pipe)
        before = set(pool.pids())
        assert pool.start_emf([], NOW_MS) is None
        assert not before & set(pool.pids())  # both replaced: neither answer was read
        raw = body(50, name="Fresh")
        assert decode_when_ready(pool, raw) == plain_body(raw, True, LIMIT, NOW_MS, IdentityMemo())
    finally:
        pool.close()
