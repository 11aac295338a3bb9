"""Events go into SQLite as chunks of one stream's messages; every message comes back exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from heron.monitor.logs.store import LogStore
from heron.types import LogEvent

NOW_S = 1_800_000_000.0
NOW = int(NOW_S * 1000)

messages = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=80),
    st.sampled_from(['{"level":"ERROR","n":1}', "42", "null", "[1, 2]", '"quoted"', "a\tb\nc"]),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6), messages), max_size=40))
def test_ingested_events_read_back_exactly_in_order(
    events: list[tuple[int, int, str]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = LogStore(Path(tmp) / "logs.db", clock=lambda: NOW_S)
        stored = store.ingest(
            [LogEvent("g", f"s{stream}", NOW - age, text) for stream, age, text in events]
        )
        assert stored == len(events)
        for stream in range(3):
            expected = sorted(
                ((NOW - age, text) for s, age, text in events if s == stream), key=lambda e: e[0]
            )
            if not expected:
                continue
            page = store.get_events("g", f"s{stream}", start_from_head=True)
            got = [(e.timestamp_ms, e.message) for e in page.events]
            assert got == expected  # same order for equal timestamps: insertion order
            assert all(type(ts) is int and type(m) is str for ts, m in got)
            info = store.streams("g", prefix=f"s{stream}")[0]
            assert info.stored_bytes == sum(len(m.encode()) for _, m in expected)
        store.close()


def test_nul_non_ascii_and_a_lone_surrogate_in_one_batch(tmp_path: Path) -> None:
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    texts = ["a\x00b", "héron ✓ 𝄞", '{"q": "\\"quoted\\""}', "lone \ud800 surrogate", "plain"]
    assert store.ingest([LogEvent("g", "s", NOW + i, t) for i, t in enumerate(texts)]) == 5
    got = [e.message for e in store.get_events("g", "s", start_from_head=True).events]
    # Every message exactly, except that a lone surrogate (not storable as UTF-8) becomes "?".
    assert got == [*texts[:3], "lone ? surrogate", "plain"]
    assert store.streams("g")[0].stored_bytes == sum(len(t.encode()) for t in got)
    store.close()


def test_empty_messages_store_as_empty_strings(tmp_path: Path) -> None:
    # The API and the sink refuse empty messages before this point; the store itself must
    # still keep one as "" (SQLite's substr of an empty blob is NULL).
    store = LogStore(tmp_path / "logs.db", clock=lambda: NOW_S)
    store.create_group("g")
    store.create_stream("g", "s")
    store.put_events("g", "s", [(NOW, "")])
    store.put_events("g", "s", [(NOW + 1, ""), (NOW + 2, "x")])
    got = [e.message for e in store.get_events("g", "s", start_from_head=True).events]
    assert got == ["", "", "x"]
    store.close()
