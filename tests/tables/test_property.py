"""Property: any sequence of writes gives the same results on the memory and SQLite backends."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.errors import TableError
from heron.tables import CoreDatabase, open_database
from heron.tables.base import SortKeyCondition, attribute_not_exists, equals
from heron.tables.metrics import Recorder

from .fakes import SCHEMAS, START, FakeClock

partitions = st.sampled_from(["p", "q", 7])
sort_keys = st.one_of(
    st.sampled_from(["a", "b", "ab", "é", "Z"]), st.integers(-3, 3), st.sampled_from([0.5, 2.0])
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-1000, 1000),
    st.text(max_size=5),
    st.lists(st.integers(0, 3), max_size=3),
)
expiries = st.integers(-50, 150).map(lambda d: START + d)
attrs = st.fixed_dictionaries(
    {},
    optional={
        "x": values,
        "y": values,
        "player": st.sampled_from(["ann", "bob", 3]),
        "ttl": st.one_of(expiries, st.text(max_size=2)),
    },
)
conditions = st.one_of(
    st.none(),
    st.just(attribute_not_exists("game")),
    st.builds(equals, st.sampled_from(["x", "y"]), values),
)
operations = st.one_of(
    st.tuples(st.just("put"), partitions, sort_keys, attrs, conditions),
    st.tuples(st.just("delete"), partitions, sort_keys, conditions),
    st.tuples(st.just("update"), partitions, sort_keys, attrs, conditions),
    st.tuples(st.just("advance"), st.integers(0, 100)),
)


def apply(db: CoreDatabase, clock: FakeClock, op: tuple[Any, ...]) -> Any:
    """Run one operation and describe its result (value or error type)."""
    table = db.table("Scores")
    try:
        if op[0] == "put":
            item = {"game": op[1], "score": op[2], **op[3]}
            return table.put(item, condition=op[4])
        if op[0] == "delete":
            return table.delete({"game": op[1], "score": op[2]}, condition=op[3])
        if op[0] == "update":
            return table.update({"game": op[1], "score": op[2]}, op[3], condition=op[4])
        clock.advance(op[1])
        return None
    except TableError as exc:
        return type(exc).__name__


def snapshot(db: CoreDatabase) -> list[Any]:
    """Everything observable: partitions both ways, sort ranges, the GSI, a paged scan."""
    table = db.table("Scores")
    out: list[Any] = []
    for player in ("ann", "bob", 3):
        out.append(table.query(player, index="player-index", forward=False).items)
    for partition in ("p", "q", 7):
        out.append(table.query(partition).items)
        out.append(table.query(partition, forward=False, limit=3).items)
        out.append(table.query(partition, sort=SortKeyCondition("ge", 0)).items)
        out.append(table.query(partition, sort=SortKeyCondition("begins_with", "a")).items)
    start = None
    while True:
        page = table.scan(limit=4, start_key=start)
        out.append(page.items)
        if page.last_key is None:
            return out
        start = page.last_key


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(operations, max_size=25))
def test_memory_and_sqlite_agree(ops: list[tuple[Any, ...]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        clocks = [FakeClock(), FakeClock()]
        dbs = [
            open_database(backend, Path(tmp), SCHEMAS, clock=clock, recorder=Recorder())
            for backend, clock in zip(("memory", "sqlite"), clocks, strict=True)
        ]
        try:
            for op in ops:
                results = [apply(db, clock, op) for db, clock in zip(dbs, clocks, strict=True)]
                assert results[0] == results[1], op
            assert snapshot(dbs[0]) == snapshot(dbs[1])
            assert dbs[0].sweep_expired() == dbs[1].sweep_expired()
            assert snapshot(dbs[0]) == snapshot(dbs[1])
            units = [[(o.read_units, o.write_units) for o in db.recorder.drain()] for db in dbs]
            assert units[0] == units[1]
        finally:
            for db in dbs:
                db.close()
