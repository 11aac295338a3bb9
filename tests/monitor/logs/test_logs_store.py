"""The SQLite log store: PutLogEvents rules, paging, filtering, retention, ingest, durability."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from heron.monitor.contracts import Sample
from heron.monitor.logs.patterns import compile_pattern
from heron.monitor.logs.put_rules import MAX_AGE_MS, MAX_FUTURE_MS, check_batch
from heron.monitor.logs.store import AlreadyExists, InvalidRequest, LogStore, NotFound
from heron.types import LogEvent

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)


class ListSink:
    def __init__(self) -> None:
        self.samples: list[Sample] = []

    def put_samples(self, samples: list[Sample]) -> None:
        self.samples.extend(samples)


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def store(tmp_path: Path, sink: ListSink) -> LogStore:
    s = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S, sink=sink)
    s.create_group("g")
    s.create_stream("g", "a")
    s.create_stream("g", "b")
    return s


def test_batch_rules_reject_whole_batches() -> None:
    with pytest.raises(ValueError, match="chronological order"):
        check_batch([2, 1], ["x", "y"], now_ms=NOW, retention_days=None)
    with pytest.raises(ValueError, match="cannot span more than 24 hours"):
        check_batch([NOW - 25 * 3_600_000, NOW], ["x", "y"], now_ms=NOW, retention_days=None)
    with pytest.raises(
        ValueError, match=r"^Upload too large: 1048577 bytes exceeds limit of 1048576$"
    ):
        check_batch([NOW, NOW], ["x" * 1_048_524, "y"], now_ms=NOW, retention_days=None)
    ok = check_batch([NOW, NOW], ["x" * 1_048_523, "y"], now_ms=NOW, retention_days=None)
    assert (ok.start, ok.end) == (0, 2)
    with pytest.raises(ValueError, match="10000"):
        check_batch([NOW] * 10_001, ["x"] * 10_001, now_ms=NOW, retention_days=None)


def test_batch_rules_report_rejected_ranges() -> None:
    old = NOW - MAX_AGE_MS - 1
    d = check_batch([old, old, old + 3_600_000], ["a", "b", "c"], now_ms=NOW, retention_days=None)
    assert (d.start, d.end) == (2, 3) and d.rejected_info() == {"tooOldLogEventEndIndex": 2}
    d = check_batch([NOW, NOW + MAX_FUTURE_MS + 1], ["a", "b"], now_ms=NOW, retention_days=None)
    assert (d.start, d.end) == (0, 1) and d.rejected_info() == {"tooNewLogEventStartIndex": 1}
    d = check_batch(
        [NOW - 25 * 3_600_000, NOW - 20 * 3_600_000], ["a", "b"], now_ms=NOW, retention_days=1
    )
    assert (d.start, d.end) == (1, 2) and d.rejected_info() == {"expiredLogEventEndIndex": 1}


def test_put_stores_only_acceptable_events(store: LogStore) -> None:
    result = store.put_events(
        "g", "a", [(NOW - 1000, "one"), (NOW, "two"), (NOW + MAX_FUTURE_MS + 5, "late")]
    )
    assert result.accepted == 2 and result.decision.too_new_start == 2
    assert [e.message for e in store.get_events("g", "a", start_from_head=True).events] == [
        "one",
        "two",
    ]
    info = store.streams("g", "a")[0]
    assert (info.first_event_ms, info.last_event_ms, info.last_ingestion_ms, info.stored_bytes) == (
        NOW - 1000,
        NOW,
        NOW,
        6,
    )
    assert store.group("g").stored_bytes == 6


def test_bad_batch_changes_nothing(store: LogStore) -> None:
    with pytest.raises(InvalidRequest):
        store.put_events("g", "a", [(NOW, "x"), (NOW - 1, "y")])
    assert store.get_events("g", "a").events == []
    with pytest.raises(NotFound, match=r"The specified log stream does not exist\."):
        store.put_events("g", "nope", [(NOW, "x")])
    with pytest.raises(NotFound, match=r"The specified log group does not exist\."):
        store.put_events("nope", "a", [(NOW, "x")])


def test_create_twice_and_delete(store: LogStore) -> None:
    with pytest.raises(AlreadyExists):
        store.create_group("g")
    with pytest.raises(AlreadyExists):
        store.create_stream("g", "a")
    store.put_events("g", "a", [(NOW, "x")])
    store.delete_group("g")
    with pytest.raises(NotFound):
        store.group("g")
    store.create_group("g")
    assert store.streams("g") == []


def test_get_events_pages_both_ways(store: LogStore) -> None:
    store.put_events("g", "a", [(NOW - 100 + i, f"m{i}") for i in range(10)])
    tail = store.get_events("g", "a", limit=3)
    assert [e.message for e in tail.events] == ["m7", "m8", "m9"]
    back = store.get_events("g", "a", limit=3, token=tail.backward_token)
    assert [e.message for e in back.events] == ["m4", "m5", "m6"]
    head = store.get_events("g", "a", limit=4, start_from_head=True)
    fwd = store.get_events("g", "a", limit=4, token=head.forward_token)
    assert [e.message for e in fwd.events] == ["m4", "m5", "m6", "m7"]
    end = store.get_events("g", "a", token=tail.forward_token)
    assert end.events == [] and end.forward_token == tail.forward_token
    window = store.get_events("g", "a", start_ms=NOW - 98, end_ms=NOW - 95, start_from_head=True)
    assert [e.message for e in window.events] == ["m2", "m3", "m4"]
    with pytest.raises(InvalidRequest, match="nextToken"):
        store.get_events("g", "a", token="garbage")


def test_filter_interleaves_streams_and_pages(store: LogStore) -> None:
    store.put_events(
        "g", "a", [(NOW - 10, "ERROR a1"), (NOW - 5, "INFO a2"), (NOW - 1, "ERROR a3")]
    )
    store.put_events("g", "b", [(NOW - 7, "ERROR b1"), (NOW - 3, '{"level": "ERROR"}')])
    got = store.filter_events("g", pattern=compile_pattern("ERROR"))
    assert [(e.stream, e.message) for e in got.events] == [
        ("a", "ERROR a1"),
        ("b", "ERROR b1"),
        ("b", '{"level": "ERROR"}'),
        ("a", "ERROR a3"),
    ]
    first = store.filter_events("g", pattern=compile_pattern("ERROR"), limit=2)
    assert len(first.events) == 2 and first.next_token
    rest = store.filter_events("g", pattern=compile_pattern("ERROR"), token=first.next_token)
    assert [e.message for e in rest.events] == ['{"level": "ERROR"}', "ERROR a3"]
    json_only = store.filter_events("g", pattern=compile_pattern('{ $.level = "ERROR" }'))
    assert [e.message for e in json_only.events] == ['{"level": "ERROR"}']
    assert [
        e.message for e in store.filter_events("g", stream_names=["b"], end_ms=NOW - 7).events
    ] == ["ERROR b1"]
    assert [
        e.stream for e in store.filter_events("g", stream_prefix="a", start_ms=NOW - 5).events
    ] == ["a", "a"]


def test_retention_expires_old_events(store: LogStore) -> None:
    store.put_events("g", "a", [(NOW - 3 * 86_400_000, "old"), (NOW - 3 * 86_400_000 + 10, "old2")])
    store.put_events("g", "a", [(NOW, "new")])
    store.set_retention("g", 1)
    assert store.expire(NOW) == 2
    assert [e.message for e in store.get_events("g", "a").events] == ["new"]
    assert store.group("g").stored_bytes == 3 and store.group("g").retention_days == 1


def test_ingest_auto_creates_and_extracts_metrics(store: LogStore, sink: ListSink) -> None:
    emf = (
        '{"_aws":{"Timestamp":'
        + str(NOW)
        + ',"CloudWatchMetrics":[{"Namespace":"Heron","Dimensions":[["F"]],'
        '"Metrics":[{"Name":"Sent","Unit":"Count"}]}]},"F":"send","Sent":2}'
    )
    n = store.ingest(
        [
            LogEvent("/aws/lambda/send", "2024/01/01/[$LATEST]x", NOW, emf),
            LogEvent("/aws/lambda/send", "2024/01/01/[$LATEST]x", NOW, ""),
            LogEvent("/aws/lambda/send", "2024/01/01/[$LATEST]x", NOW, '{"_aws": broken'),
        ]
    )
    assert n == 2
    assert [s.values for s in sink.samples] == [(2,)]
    assert store.emf.stats.parsing_errors == 1
    assert [g.name for g in store.groups("/aws/")] == ["/aws/lambda/send"]


def test_metric_filters_apply_on_put(store: LogStore, sink: ListSink) -> None:
    store.put_metric_filter(
        "g",
        "errors",
        "ERROR",
        [{"metricName": "Errors", "metricNamespace": "App", "metricValue": "1", "defaultValue": 0}],
    )
    store.put_events("g", "a", [(NOW, "ERROR x"), (NOW, "fine")])
    assert sorted(v for s in sink.samples for v in s.values) == [0.0, 1.0]
    assert store.group("g").metric_filter_count == 1
    store.delete_metric_filter("g", "errors")
    with pytest.raises(NotFound):
        store.delete_metric_filter("g", "errors")


CHILD = textwrap.dedent(
    """
    import sys, time
    from heron.monitor.logs.store import LogStore
    store = LogStore(sys.argv[1], clock=time.time)
    store.create_group("g"); store.create_stream("g", "s")
    i = 0
    while True:
        now = int(time.time() * 1000)
        store.put_events("g", "s", [(now, f"event-{i}-{j}") for j in range(5)])
        print(i, flush=True)
        i += 1
    """
)


def test_acknowledged_events_survive_kill_9(tmp_path: Path) -> None:
    db = tmp_path / "logs.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert proc.stdout is not None
    acked = -1
    for line in proc.stdout:
        acked = int(line)
        if acked >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    store = LogStore(db, clock=lambda: NOW_S)
    messages = {e.message for e in store.filter_events("g").events}
    missing = [
        f"event-{i}-{j}"
        for i in range(acked + 1)
        for j in range(5)
        if f"event-{i}-{j}" not in messages
    ]
    assert missing == []
