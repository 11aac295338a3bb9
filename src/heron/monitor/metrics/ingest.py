"""Ingestion: collect datums column-wise and aggregate them into per-cell deltas with numpy.

``SampleBatch`` is the fast entry point (EMF extraction and PutMetricData append to it; no object
per datapoint); ``aggregate`` turns a batch into a ``Delta`` — one row per touched cell
(SampleCount, Sum, Minimum, Maximum, flags) plus the cells' sketch buckets — which is what gets
journaled, applied to memory and later merged into stored cells.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from heron.monitor.metrics import sketch
from heron.monitor.metrics.model import UNIT_SLOTS
from heron.monitor.metrics.periods import FLAG_NEGATIVE, FLAG_UNBUCKETED, U8

_OFFSET = np.int64(2**31)
_HEADER = struct.Struct("<qq")


def cell_key(series: sketch.I64, level: sketch.I64, t: sketch.I64) -> sketch.I64:
    """Pack (series id, storage level, cell start second) into one sortable int64."""
    return (series << 36) | (level << 33) | t


def unpack_cell_key(keys: sketch.I64) -> tuple[sketch.I64, sketch.I64, sketch.I64]:
    """Inverse of ``cell_key``: (series, level, t)."""
    return keys >> 36, (keys >> 33) & 7, keys & ((1 << 33) - 1)


class SampleBatch:
    """Datums of one put, column-wise: metric key, unit code, time, level and values."""

    __slots__ = ("counts", "keys", "lengths", "levels", "stat_sets", "times_ms", "units", "values")

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.units: list[int] = []
        self.times_ms: list[int] = []
        self.levels: list[int] = []
        self.lengths: list[int] = []
        self.values: list[float] = []
        self.counts: list[float] = []
        self.stat_sets: list[float] = []

    def __len__(self) -> int:
        return len(self.keys)

    def columns(self) -> tuple[list[Any], ...]:
        """Every column, in ``__slots__`` order (for sending to another process)."""
        return tuple(getattr(self, name) for name in self.__slots__)

    @classmethod
    def from_columns(cls, columns: tuple[list[Any], ...]) -> SampleBatch:
        """Inverse of ``columns``."""
        batch = cls()
        for name, column in zip(cls.__slots__, columns, strict=True):
            setattr(batch, name, column)
        return batch

    @classmethod
    def of_arrays(cls, units: Any, times_ms: Any, values: Any, level: int) -> SampleBatch:
        """Plain values given as numpy arrays, for ``aggregate`` with metric ids known already
        (``keys`` stays empty: its ``metric_ids`` argument ignores it)."""
        batch = cls()
        n = len(values)
        batch.units, batch.times_ms, batch.values = units, times_ms, values
        batch.levels = np.full(n, level, np.int64)  # type: ignore[assignment]
        batch.lengths = np.ones(n, np.int64)  # type: ignore[assignment]
        batch.counts = np.ones(n, np.float64)  # type: ignore[assignment]
        return batch

    @classmethod
    def of_values(
        cls,
        keys: list[str],
        units: list[int],
        times_ms: list[int],
        values: list[float],
        level: int,
    ) -> SampleBatch:
        """A batch of plain values, one per key (the lists are taken over, not copied)."""
        batch = cls()
        n = len(keys)
        batch.keys, batch.units, batch.times_ms, batch.values = keys, units, times_ms, values
        batch.levels = [level] * n
        batch.lengths = [1] * n
        batch.counts = [1.0] * n
        return batch

    def add_value(self, key: str, unit: int, timestamp_ms: int, level: int, value: float) -> None:
        """One plain ``Value``."""
        self.keys.append(key)
        self.units.append(unit)
        self.times_ms.append(timestamp_ms)
        self.levels.append(level)
        self.lengths.append(1)
        self.values.append(value)
        self.counts.append(1.0)

    def add_values(
        self,
        key: str,
        unit: int,
        timestamp_ms: int,
        level: int,
        values: Sequence[float],
        counts: Sequence[float] | None = None,
    ) -> None:
        """A ``Values`` array with optional ``Counts`` (same length; default 1 each)."""
        self.keys.append(key)
        self.units.append(unit)
        self.times_ms.append(timestamp_ms)
        self.levels.append(level)
        self.lengths.append(len(values))
        self.values.extend(values)
        self.counts.extend(counts if counts is not None else [1.0] * len(values))

    def add_statistic_set(
        self,
        key: str,
        unit: int,
        timestamp_ms: int,
        level: int,
        stats: tuple[float, float, float, float],
    ) -> None:
        """A statistic set: (SampleCount, Sum, Minimum, Maximum)."""
        self.keys.append(key)
        self.units.append(unit)
        self.times_ms.append(timestamp_ms)
        self.levels.append(level)
        self.lengths.append(-1)
        self.stat_sets.extend(stats)


@dataclass(slots=True)
class Delta:
    """Aggregated state of one batch: per-cell stats plus sketch buckets keyed by cell index."""

    cells: sketch.I64
    n: sketch.F64
    s: sketch.F64
    mn: sketch.F64
    mx: sketch.F64
    flags: U8
    #: (cell index << 32 | key + 2**31), sorted; with the bucket counts.
    buckets: sketch.I64
    bucket_counts: sketch.F64
    new_metrics: list[tuple[int, str]] = field(default_factory=list)
    done: bool = False
    error: BaseException | None = None

    def encode(self) -> bytes:
        """Serialize for the journal."""
        parts = [_HEADER.pack(len(self.cells), len(self.buckets))]
        parts += [a.tobytes() for a in (self.cells, self.n, self.s, self.mn, self.mx)]
        parts += [self.flags.tobytes(), self.buckets.tobytes(), self.bucket_counts.tobytes()]
        return b"".join(parts)

    @staticmethod
    def decode(blob: bytes) -> Delta:
        """Inverse of ``encode``."""
        m, k = _HEADER.unpack_from(blob)
        pos = _HEADER.size

        def take(dtype: type, count: int) -> np.ndarray:
            nonlocal pos
            arr: np.ndarray[Any, Any] = np.frombuffer(
                blob, dtype=dtype, count=count, offset=pos
            ).copy()
            pos += arr.nbytes
            return arr

        cells = take(np.int64, m)
        n, s, mn, mx = (take(np.float64, m) for _ in range(4))
        flags = take(np.uint8, m)
        return Delta(cells, n, s, mn, mx, flags, take(np.int64, k), take(np.float64, k))


def aggregate(batch: SampleBatch, metric_ids: Callable[[list[str]], sketch.I64]) -> Delta:
    """Aggregate ``batch`` into per-cell state; ``metric_ids`` maps keys to metric ids."""
    mids = metric_ids(batch.keys)
    series = mids * UNIT_SLOTS + np.asarray(batch.units, np.int64)
    levels = np.asarray(batch.levels, np.int64)
    t = np.asarray(batch.times_ms, np.int64) // 1000
    t -= np.where(levels == 0, 0, t % 60)
    keys = cell_key(series, levels, t)
    lengths = np.asarray(batch.lengths, np.int64)
    plain = lengths >= 0
    v_keys = np.repeat(keys[plain], lengths[plain])
    s_keys = keys[~plain]
    values = np.asarray(batch.values, np.float64)
    counts = np.asarray(batch.counts, np.float64)
    sets = np.asarray(batch.stat_sets, np.float64).reshape(-1, 4)

    cells, inv = np.unique(np.concatenate([v_keys, s_keys]), return_inverse=True)
    inv_v, inv_s = inv[: len(v_keys)], inv[len(v_keys) :]
    m = len(cells)
    n = sketch.bincount(inv_v, counts, m) + sketch.bincount(inv_s, sets[:, 0], m)
    s = sketch.bincount(inv_v, values * counts, m) + sketch.bincount(inv_s, sets[:, 1], m)
    mn = np.full(m, np.inf)
    np.minimum.at(mn, inv_v, values)
    np.minimum.at(mn, inv_s, sets[:, 2])
    mx = np.full(m, -np.inf)
    np.maximum.at(mx, inv_v, values)
    np.maximum.at(mx, inv_s, sets[:, 3])
    flags = np.zeros(m, np.uint8)
    negative = values < 0
    flags[inv_v[negative]] |= FLAG_NEGATIVE
    flags[inv_s[sets[:, 2] < 0]] |= FLAG_NEGATIVE
    single = sets[:, 2] == sets[:, 3]
    flags[inv_s[~single]] |= FLAG_UNBUCKETED

    # Sketch buckets: every non-negative value, and statistic sets of identical values.
    ok_s = single & (sets[:, 2] >= 0)
    b_cell = np.concatenate([inv_v[~negative], inv_s[ok_s]]).astype(np.int64)
    b_key = np.concatenate([sketch.keys_of(values[~negative]), sketch.keys_of(sets[ok_s, 2])])
    b_count = np.concatenate([counts[~negative], sets[ok_s, 0]])
    combined = (b_cell << 32) | (b_key.astype(np.int64) + _OFFSET)
    buckets, bucket_counts = sketch.reduce_unsorted(combined, b_count)
    return Delta(cells, n, s, mn, mx, flags, buckets, bucket_counts)
