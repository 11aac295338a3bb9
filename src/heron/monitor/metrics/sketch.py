"""The percentile sketch: DDSketch-style logarithmic buckets with a bounded relative error.

A positive value ``x`` lands in bucket ``k = ceil(log(x) / log(gamma))`` with
``gamma = (1 + alpha) / (1 - alpha)``, i.e. bucket ``k`` covers ``(gamma**(k-1), gamma**k]``.
The bucket is represented by ``2 * gamma**k / (gamma + 1)``, which is within a factor ``alpha``
of every value in it: for any ``x`` in bucket ``k``, ``|rep(k) - x| <= alpha * x``.
Zero has its own bucket (``ZERO_KEY``, represented by ``0.0`` exactly). Negative values are not
bucketed: the cell that saw one is flagged and percentiles are refused, as CloudWatch refuses
them.

Accuracy bound (what the tests check against numpy on raw data): with the default
``alpha = 0.01``, a nearest-rank percentile ``pNN`` returned from the sketch is within 1 %
relative error of the exact nearest-rank sample value (``numpy.percentile(...,
method="inverted_cdf")``), whatever the distribution and however many buckets were merged.
Percentile-bounded trimmed/winsorized means and sums (``TM``/``WM``/``TS``/``IQM`` with ``%``
bounds) are exact in which samples they include (ranks are exact counts) and within 1 % in the
values they average; ``TC``/``PR`` with ``%`` bounds are exact. With absolute bounds a sample
within 1 % of a bound may be counted on the wrong side of it. Answers are clamped to the
period's exact Minimum/Maximum, so ``p0``/``p100`` are exact.

Sketches merge exactly (add counts per key), so any period built from stored buckets has the
same guarantee as one built from raw values. Keys fit in int32: the full double range
(5e-324 .. 2**360) spans about -37,700 .. 12,600.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

#: Default relative accuracy of percentile answers.
ALPHA = 0.01
#: Ratio between consecutive bucket bounds.
GAMMA = (1 + ALPHA) / (1 - ALPHA)
_LN_GAMMA = math.log(GAMMA)
#: The bucket key of exact zeros (sorts before every other key).
ZERO_KEY = -(2**31)

F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]


def bincount(index: npt.NDArray[np.integer[Any]], weights: F64, length: int) -> F64:
    """``np.bincount`` with weights: the per-index sums as float64."""
    out: F64 = np.bincount(index, weights=weights, minlength=length).astype(np.float64, copy=False)
    return out


def keys_of(values: F64) -> I32:
    """Bucket keys of non-negative ``values`` (zeros map to ``ZERO_KEY``)."""
    out = np.full(values.shape, ZERO_KEY, dtype=np.int32)
    pos = values > 0
    if pos.any():
        out[pos] = np.ceil(np.log(values[pos]) / _LN_GAMMA).astype(np.int32)
    return out


def key_of(value: float) -> int:
    """Bucket key of one non-negative value."""
    if value <= 0:
        return ZERO_KEY
    return math.ceil(math.log(value) / _LN_GAMMA)


def values_of(keys: I32 | I64) -> F64:
    """Representative value of each bucket key (``0.0`` for ``ZERO_KEY``)."""
    k = keys.astype(np.float64)
    out = 2.0 * np.exp(k * _LN_GAMMA) / (GAMMA + 1.0)
    out[keys == ZERO_KEY] = 0.0
    return out


#: On-disk layout of a cell's sketch: packed (key, count) records, keys ascending.
RECORD = np.dtype([("k", "<i4"), ("c", "<f8")])


def encode(keys: I32, counts: F64) -> bytes:
    """Serialize one cell's sketch (keys ascending) for storage."""
    out = np.empty(len(keys), RECORD)
    out["k"] = keys
    out["c"] = counts
    return out.tobytes()


def decode(blob: bytes) -> tuple[I32, F64]:
    """Inverse of ``encode`` (also decodes several encoded sketches joined end to end)."""
    rec = np.frombuffer(blob, RECORD)
    return rec["k"].astype(np.int32), rec["c"].astype(np.float64)


def merge_blobs(a: bytes | None, b: bytes | None) -> bytes:
    """Merge two encoded sketches (the SQLite upsert calls this when a cell already exists)."""
    if not a:
        return b or b""
    if not b:
        return a
    ka, ca = decode(a)
    kb, cb = decode(b)
    keys = np.concatenate([ka, kb])
    counts = np.concatenate([ca, cb])
    uk, inv = np.unique(keys, return_inverse=True)
    return encode(uk.astype(np.int32), bincount(inv, counts, len(uk)))


def reduce_sorted(group_keys: I64, counts: F64) -> tuple[I64, F64]:
    """Sum ``counts`` over runs of equal ``group_keys`` (already sorted ascending)."""
    if len(group_keys) == 0:
        return group_keys, counts
    starts = np.flatnonzero(np.concatenate(([True], group_keys[1:] != group_keys[:-1])))
    return group_keys[starts], np.add.reduceat(counts, starts)


def reduce_unsorted(group_keys: I64, counts: F64) -> tuple[I64, F64]:
    """Sort by ``group_keys`` (stable, cheap on pre-sorted runs) and sum equal keys."""
    order = np.argsort(group_keys, kind="stable")
    return reduce_sorted(group_keys[order], counts[order])
