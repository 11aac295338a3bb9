"""Block encoding round-trips, and the canonical order reads merge blocks and rows into."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from heron.monitor.metrics.cell_codec import BLOCK_S, block_rows, canonical, decode_blocks
from heron.monitor.metrics.periods import CellSet

cells_strategy = st.lists(
    st.tuples(
        st.integers(1, 4),  # series
        st.integers(0, 4 * BLOCK_S),  # start second
        st.floats(1, 50),  # count
        st.floats(-1e6, 1e6),  # sum
        st.lists(st.tuples(st.integers(-3000, 3000), st.floats(0.5, 9)), max_size=4),
        st.integers(0, 3),  # flags
    ),
    max_size=60,
    unique_by=lambda c: (c[0], c[1]),
)


def build(
    cells: list[tuple[int, int, float, float, list[tuple[int, float]], int]],
) -> tuple[np.ndarray, CellSet]:
    """(series, CellSet) sorted by series then start."""
    cells = sorted(cells, key=lambda c: (c[0], c[1]))
    sizes = [len(c[4]) for c in cells]
    return np.asarray([c[0] for c in cells], np.int64), CellSet(
        np.asarray([c[1] for c in cells], np.int64),
        np.asarray([c[2] for c in cells]),
        np.asarray([c[3] for c in cells]),
        np.asarray([c[3] - 1 for c in cells]),
        np.asarray([c[3] + 1 for c in cells]),
        np.asarray([c[5] for c in cells], np.uint8),
        np.concatenate(([0], np.cumsum(sizes, dtype=np.int64))),
        np.asarray([k for c in cells for k, _ in c[4]], np.int32),
        np.asarray([n for c in cells for _, n in c[4]], np.float64),
    )


def same(a: CellSet, b: CellSet) -> bool:
    """Every column equal."""
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in CellSet.__slots__)


@given(cells_strategy)
def test_blocks_round_trip_one_per_series_and_hour(
    cells: list[tuple[int, int, float, float, list[tuple[int, float]], int]],
) -> None:
    series, cellset = build(cells)
    rows = block_rows(series, 1, cellset)
    assert len(rows) == len({(s, t // BLOCK_S) for s, t, *_ in cells})
    assert all(level == 1 and start % BLOCK_S == 0 for _, start, level, _, _ in rows)
    per_block, decoded = decode_blocks([r[3] for r in rows], [r[4] for r in rows])
    assert same(decoded, cellset)
    assert np.array_equal(np.repeat([r[0] for r in rows], per_block), series)
    _, without = decode_blocks([r[3] for r in rows], None)
    assert np.array_equal(without.s, cellset.s) and len(without.keys) == 0


def test_canonical_orders_by_series_start_level_and_keeps_blocks_first_at_ties() -> None:
    f = np.asarray
    cells = CellSet(
        f([120, 60, 60, 0, 60], np.int64), f([1.0, 2, 3, 4, 5]), f([1.0, 2, 3, 4, 5]),
        f([0.0] * 5), f([9.0] * 5), np.zeros(5, np.uint8),
        f([0, 1, 1, 2, 2, 3], np.int64), f([7, 8, 9], np.int32), f([1.0, 1, 1]),
    )  # fmt: skip
    series = f([2, 1, 1, 2, 2], np.int64)
    levels = f([1, 1, 1, 1, 0], np.int64)  # the third cell: a late row tied with the second
    out_series, out_levels, out = canonical(series, levels, cells)
    assert out_series.tolist() == [1, 1, 2, 2, 2]
    assert out.t.tolist() == [60, 60, 0, 60, 120]
    assert out_levels.tolist() == [1, 1, 1, 0, 1]
    assert out.n.tolist() == [2.0, 3.0, 4.0, 5.0, 1.0]  # the tie keeps its first-read order
    assert out.keys.tolist() == [8, 9, 7]  # sketches travel with their cells
    already, _, same_cells = canonical(out_series, out_levels, out)
    assert same_cells is out and already is out_series
