"""Events stored in chunks read back as one row per event would: a model test with hypothesis.

Writes go through ``ingest`` (several streams per call, timestamps out of order, equal
timestamps, spans wider than one chunk), then every read pages through the store with small
limits and tokens and must give what a plain sorted list of the events gives.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from heron.monitor.logs.chunks import CHUNK_EVENTS, CHUNK_SPAN_MS
from heron.monitor.logs.patterns import compile_pattern
from heron.monitor.logs.store import InvalidRequest, LogStore
from heron.monitor.logs.store_sql import StoredEvent
from heron.types import LogEvent

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)
STREAMS = ("s0", "s1", "s2")
PATTERNS = (None, "ERROR", '{ $.level = "ERROR" }', "-INFO")

messages = st.sampled_from(
    [
        "ERROR disk full",
        "INFO fine",
        '{"level":"ERROR","n":1}',
        '{"level":"INFO"}',
        '{"level":"\\u0045RROR"}',  # escapes spell the literals: only the parser sees them
        '{"\\u006cevel":"\\u0045RROR"}',
        "x ERRO",
        "R",
        "héron ERROR ✓",
    ]
)
# Offsets (ms before NOW): mostly close together (equal timestamps, overlapping chunks),
# sometimes far apart (a stream's batch split into chunks by span).
offsets = st.one_of(st.integers(0, 40), st.integers(0, 5 * CHUNK_SPAN_MS))
writes = st.lists(
    st.lists(st.tuples(st.sampled_from(STREAMS), offsets, messages), min_size=1, max_size=25),
    min_size=1,
    max_size=6,
)


def reference(batches: list[list[tuple[str, int, str]]]) -> dict[str, list[tuple[int, str]]]:
    """Each stream's events in (timestamp, arrival) order."""
    out: dict[str, list[tuple[int, str]]] = {s: [] for s in STREAMS}
    for batch in batches:
        for stream, offset, message in batch:
            out[stream].append((NOW - offset, message))
    return {s: sorted(evs, key=lambda e: e[0]) for s, evs in out.items()}


def load(tmp: str, batches: list[list[tuple[str, int, str]]]) -> LogStore:
    store = LogStore(Path(tmp) / "logs.db", clock=lambda: NOW_S)
    for batch in batches:
        events = [LogEvent("g", stream, NOW - offset, m) for stream, offset, m in batch]
        assert store.ingest(events) == len(batch)
    return store


def pages_forward(
    store: LogStore, stream: str, limit: int, start: int | None, end: int | None
) -> list[StoredEvent]:
    got: list[StoredEvent] = []
    page = store.get_events(
        "g", stream, start_ms=start, end_ms=end, limit=limit, start_from_head=True
    )
    while page.events:
        got += page.events
        page = store.get_events(
            "g", stream, start_ms=start, end_ms=end, limit=limit, token=page.forward_token
        )
    return got


def pages_backward(
    store: LogStore, stream: str, limit: int, start: int | None, end: int | None
) -> list[StoredEvent]:
    got: list[StoredEvent] = []
    page = store.get_events("g", stream, start_ms=start, end_ms=end, limit=limit)
    while page.events:
        got = page.events + got
        page = store.get_events(
            "g", stream, start_ms=start, end_ms=end, limit=limit, token=page.backward_token
        )
    return got


window = st.one_of(st.none(), st.integers(NOW - 5 * CHUNK_SPAN_MS, NOW + 1))


@settings(max_examples=120, deadline=None)
@given(writes, st.integers(1, 7), window, window)
@example([[("s0", 0, "INFO fine")] * 3, [("s0", 0, "ERROR disk full")]], 1, None, None)
def test_get_events_pages_match_a_sorted_list(
    batches: list[list[tuple[str, int, str]]], limit: int, start: int | None, end: int | None
) -> None:
    expected = reference(batches)
    with tempfile.TemporaryDirectory() as tmp:
        store = load(tmp, batches)
        for stream in STREAMS:
            if not expected[stream]:
                continue
            want = [
                e
                for e in expected[stream]
                if (start is None or e[0] >= start) and (end is None or e[0] < end)
            ]
            for read in (pages_forward, pages_backward):
                got = read(store, stream, limit, start, end)
                assert [(e.timestamp_ms, e.message) for e in got] == want, read.__name__
                assert [(e.timestamp_ms, e.event_id) for e in got] == sorted(
                    {(e.timestamp_ms, e.event_id) for e in got}
                )
        store.close()


@settings(max_examples=120, deadline=None)
@given(
    writes,
    st.sampled_from(PATTERNS),
    st.integers(1, 7),
    st.integers(1, 30),
    window,
    window,
    st.one_of(st.none(), st.sets(st.sampled_from(STREAMS), min_size=1)),
)
def test_filter_pages_match_a_sorted_list(
    batches: list[list[tuple[str, int, str]]],
    source: str | None,
    limit: int,
    budget: int,
    start: int | None,
    end: int | None,
    only: set[str] | None,
) -> None:
    expected = reference(batches)
    pattern = None if source is None else compile_pattern(source)
    with tempfile.TemporaryDirectory() as tmp:
        store = load(tmp, batches)
        got: list[StoredEvent] = []
        token: str | None = None
        for _ in range(10_000):
            page = store.filter_events(
                "g",
                pattern=pattern,
                stream_names=None if only is None else sorted(only),
                start_ms=start,
                end_ms=end,
                limit=limit,
                token=token,
                scan_budget=budget,
            )
            got += page.events
            token = page.next_token
            if token is None:
                break
        store.close()
    keys = [(e.timestamp_ms, e.event_id) for e in got]
    assert keys == sorted(set(keys))  # ascending, nothing twice
    for stream in STREAMS:
        want = [
            m
            for ts, m in expected[stream]
            if (only is None or stream in only)
            and (start is None or ts >= start)
            and (end is None or ts <= end)
            and (pattern is None or pattern.matches(m))
        ]
        assert [e.message for e in got if e.stream == stream] == want


def test_a_stream_batch_larger_than_a_chunk_pages_through(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    count = CHUNK_EVENTS * 2 + 5
    assert store.ingest([LogEvent("g", "s", NOW - 1000 + i % 7, f"m{i}") for i in range(count)])
    chunks = store._db.execute("SELECT count(*), sum(count) FROM log_chunks").fetchone()
    assert chunks == (3, count)
    got = pages_forward(store, "s", 10_000, None, None)
    assert len(got) == count and len({e.event_id for e in got}) == count
    assert [e.message for e in got] == [
        f"m{i}" for i in sorted(range(count), key=lambda i: (i % 7, i))
    ]
    store.close()


def test_retention_deletes_chunks_whose_events_are_all_expired(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    day = 86_400_000
    store.ingest([LogEvent("g", "s", NOW - 3 * day, "old"), LogEvent("g", "s", NOW, "new")])
    store.ingest([LogEvent("g", "s", NOW - day + 1000 - i, f"edge{i}") for i in range(2)])
    store.set_retention("g", 1)
    # The edge chunk reaches past the cutoff: it stays whole until its newest event expires.
    assert store.expire(NOW) == 1
    assert [e.message for e in store.get_events("g", "s", start_from_head=True).events] == [
        "edge1",
        "edge0",
        "new",
    ]
    assert store.expire(NOW + 2000) == 2
    assert store.streams("g")[0].stored_bytes == len("new")
    store.close()


def test_a_data_dir_with_one_row_per_event_is_moved_into_chunks(tmp_path: Path) -> None:
    path = tmp_path / "logs.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE log_groups (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            created_ms INTEGER NOT NULL, retention_days INTEGER,
            stored_bytes INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE log_streams (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL,
            name TEXT NOT NULL, created_ms INTEGER NOT NULL, first_event_ms INTEGER,
            last_event_ms INTEGER, last_ingestion_ms INTEGER,
            stored_bytes INTEGER NOT NULL DEFAULT 0, UNIQUE (group_id, name));
        CREATE TABLE log_events (id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL,
            stream_id INTEGER NOT NULL, ts INTEGER NOT NULL, ingest_ms INTEGER NOT NULL,
            message TEXT NOT NULL);
        CREATE INDEX log_events_group_ts ON log_events (group_id, ts);
        INSERT INTO log_groups VALUES (1, 'g', 0, NULL, 9);
        INSERT INTO log_streams VALUES (1, 1, 'a', 0, NULL, NULL, NULL, 6);
        INSERT INTO log_streams VALUES (2, 1, 'b', 0, NULL, NULL, NULL, 3);
        """
    )
    rows = [
        (1, 1, NOW - 5, NOW - 100, "a1"),
        (2, 2, NOW - 4, NOW - 100, "b1"),
        (3, 1, NOW - 9, NOW - 200, "a0"),
        (4, 1, NOW - 5, NOW - 100, "a2"),
    ]
    db.executemany("INSERT INTO log_events VALUES (?, 1, ?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    store = LogStore(path, clock=lambda: NOW_S)
    events = store.filter_events("g").events
    assert [e.message for e in events] == ["a0", "a1", "a2", "b1"]
    assert [e.ingestion_ms for e in events] == [NOW - 200, NOW - 100, NOW - 100, NOW - 100]
    assert [e.message for e in store.get_events("g", "a", start_from_head=True).events] == [
        "a0",
        "a1",
        "a2",
    ]
    tables = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "log_events" not in tables
    store.close()


def test_an_empty_quoted_term_matches_every_line(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    store.ingest([LogEvent("g", "s", NOW, "hello"), LogEvent("g", "s", NOW + 1, "world")])
    for source in ('""', '"" ""'):
        page = store.filter_events("g", pattern=compile_pattern(source))
        assert [e.message for e in page.events] == ["hello", "world"]
    store.close()


def test_a_stream_created_during_a_scan_is_named(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    count = 700  # one chunk each: the scan fetches them a few at a time, between its steps
    for i in range(count):
        store.ingest([LogEvent("g", "s", NOW - 100_000 + i * 100, f"m{i}")])
    scan = store.scan_events(["g"], 0, 2**60)
    assert next(scan)[1:] == ("s", NOW - 100_000, NOW, "m0")
    store.ingest([LogEvent("g", "new", NOW, "late")])
    rest = list(scan)
    assert len(rest) == count and rest[-1][1] == "new" and rest[-1][4] == "late"
    store.close()


def test_timestamps_beyond_64_bits_are_skipped_and_the_store_stays_usable(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    assert store.ingest([LogEvent("g", "s", 2**63, "too late"), LogEvent("g", "s", NOW, "ok")]) == 1
    store.put_events("g", "s", [(NOW + 1, "after")])
    got = store.get_events("g", "s", start_from_head=True).events
    assert [e.message for e in got] == ["ok", "after"]
    store.close()


def test_a_token_with_numbers_beyond_64_bits_is_invalid(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    store.ingest([LogEvent("g", "s", NOW, "x")])
    with pytest.raises(InvalidRequest, match="nextToken"):
        store.filter_events("g", token="n/99999999999999999999/00000000000000000001")
    with pytest.raises(InvalidRequest, match="nextToken"):
        store.get_events("g", "s", token="f/00000000000000000001/99999999999999999999")
    store.close()
