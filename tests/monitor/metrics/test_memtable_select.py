"""``MemTable.select`` finds each series by binary search; a plain scan is the reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from heron.monitor.metrics.ingest import SampleBatch, aggregate, unpack_cell_key
from heron.monitor.metrics.memtable import MemTable
from heron.monitor.metrics.model import UNIT_SLOTS

puts = st.lists(
    st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 600), st.floats(0, 9)),
        min_size=1,
        max_size=12,
    ),
    max_size=6,
)


wanted_series = st.lists(
    st.builds(lambda mid, unit: mid * UNIT_SLOTS + unit, st.integers(0, 6), st.integers(0, 4)),
    max_size=6,
)


@given(puts, wanted_series, st.integers(0, 600), st.integers(0, 600))
def test_select_equals_a_scan_of_every_cell(
    batches: list[list[tuple[int, int, int, float]]], series: list[int], t0: int, t1: int
) -> None:
    mem = MemTable()
    for rows in batches:
        batch = SampleBatch()
        for metric, unit, second, value in rows:
            batch.add_value(f"m{metric}", unit, second * 1000, 0, value)
        ids = np.asarray([int(k[1:]) for k in batch.keys], np.int64)
        mem.apply(aggregate(batch, lambda _, ids=ids: ids))
        wanted = np.asarray(series, np.int64)
        got_series, got = mem.select(wanted, t0, t1)
        # The reference: every row in row order whose series is wanted and start in the window.
        sid, _, t = unpack_cell_key(mem.cell[: mem.size])
        rows = np.flatnonzero(np.isin(sid, wanted) & (t >= t0) & (t < t1))
        assert got_series.tolist() == sid[rows].tolist()
        assert got.t.tolist() == t[rows].tolist()
        assert got.s.tolist() == mem.s[rows].tolist()
        assert np.diff(got.offsets).sum() == len(got.keys)
