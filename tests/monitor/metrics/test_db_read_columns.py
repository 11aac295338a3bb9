"""Reads for the basic statistics skip the sketch blobs and keep every other column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from store_helpers import NOW, FakeClock, open_store, sample

from heron.monitor.metrics.db import MetricDB


def test_reads_without_sketches_keep_the_summary_columns(tmp_path: Path) -> None:
    store = open_store(tmp_path, FakeClock())
    store.put_samples(
        [sample([float(i), float(i * 2)], int((NOW - 600 + i * 60) * 1000)) for i in range(5)]
    )
    store.flush()
    store.close()
    db = MetricDB(tmp_path / "metrics.db")
    series = [sid for sid, *_ in db.metrics()]
    full_sids, full = db.read_many(series, 0, int(NOW) + 60)
    bare_sids, bare = db.read_many(series, 0, int(NOW) + 60, sketches=False)
    one = db.read(series[0], 0, int(NOW) + 60, sketches=False)
    db.close()
    assert len(full) == 5 and len(full.keys) > 0
    assert np.array_equal(full_sids, bare_sids)
    for column in ("t", "n", "s", "mn", "mx", "flags"):
        assert np.array_equal(getattr(full, column), getattr(bare, column))
        assert np.array_equal(getattr(full, column), getattr(one, column))
    assert len(bare.keys) == 0 and np.array_equal(bare.offsets, np.zeros(6, np.int64))
