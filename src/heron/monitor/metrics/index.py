"""The metric index: every known metric's key, dense integer id, units seen and last activity.

Kept compact for a million series: one interned key string and one dict slot per metric; the
per-metric state (units bitmask, last-seen second) lives in numpy columns indexed by id.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

import numpy as np

from heron.monitor.metrics import model


class MetricIndex:
    """Maps metric keys to dense ids and back; answers ListMetrics-style selections."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._keys: list[str] = []
        self._units = np.zeros(1024, np.uint32)
        self._last_seen = np.zeros(1024, np.int64)
        self._sorted: list[str] | None = None

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, key: str) -> int | None:
        """The id of ``key``, or None when the metric is unknown."""
        return self._ids.get(key)

    def ids(self, keys: list[str]) -> list[int | None]:
        """``get`` of every key (one C-level pass: this runs for every stored datapoint)."""
        return list(map(self._ids.get, keys))

    def key(self, metric_id: int) -> str:
        """The key of a metric id."""
        return self._keys[metric_id]

    def add(self, key: str) -> int:
        """The id of ``key``, registering it if new."""
        found = self._ids.get(key)
        if found is not None:
            return found
        metric_id = len(self._keys)
        self._ids[key] = metric_id
        self._keys.append(key)
        if metric_id >= len(self._units):
            self._units = np.resize(self._units, 2 * len(self._units))
            self._last_seen = np.resize(self._last_seen, 2 * len(self._last_seen))
            self._units[metric_id:] = 0
            self._last_seen[metric_id:] = 0
        self._sorted = None
        return metric_id

    def restore(self, metric_id: int, key: str, units: int, last_seen_s: int) -> None:
        """Re-register a persisted metric under its original id (ids are dense from 0)."""
        if metric_id != len(self._keys):
            raise ValueError(f"metric ids must be restored densely, got {metric_id}")
        self.add(key)
        self._units[metric_id] = units
        self._last_seen[metric_id] = last_seen_s

    def touch(self, series_ids: np.ndarray, now_s: int) -> None:
        """Record that ``series_ids`` (metric id * UNIT_SLOTS + unit code) got data at ``now_s``."""
        mids = series_ids // model.UNIT_SLOTS
        bits = np.left_shift(np.uint32(1), (series_ids % model.UNIT_SLOTS).astype(np.uint32))
        np.bitwise_or.at(self._units, mids, bits)
        self._last_seen[mids] = np.maximum(self._last_seen[mids], now_s)

    def units(self, metric_id: int) -> list[int]:
        """Unit codes ever stored for a metric."""
        mask = int(self._units[metric_id])
        return [code for code in range(len(model.UNITS)) if mask >> code & 1]

    def state(self, metric_id: int) -> tuple[int, int]:
        """(units bitmask, last-seen second) of a metric, for persistence."""
        return int(self._units[metric_id]), int(self._last_seen[metric_id])

    def select(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        dimension_filters: Iterable[tuple[str, str | None]] = (),
        seen_since_s: int | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[str]:
        """Keys (sorted) of metrics matching the filters, starting after key ``after``."""
        if self._sorted is None:
            self._sorted = sorted(self._keys)
        keys = self._sorted
        prefix = model.key_prefix(namespace, name)
        lo = bisect.bisect_left(keys, prefix)
        if after is not None and after >= prefix:
            lo = bisect.bisect_right(keys, after)
        filters = tuple(dimension_filters)
        out: list[str] = []
        ids, seen = self._ids, self._last_seen
        for i in range(lo, len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            if not model.key_matches(key, name, filters):
                continue
            if seen_since_s is not None and seen[ids[key]] < seen_since_s:
                continue
            out.append(key)
            if limit is not None and len(out) >= limit:
                break
        return out
