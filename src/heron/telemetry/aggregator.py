"""Metrics aggregated at the source, as the CloudWatch agent does it: values per series and second.

A request's metric values are appended to lists keyed by (layout, second), with no object per
value, and ``drain`` turns each list into one Values/Counts ``Sample`` per series and second.
The store keeps nothing finer than one second, so nothing observable is lost, and the event loop
builds a handful of samples per second instead of dozens of datums per request.

A *series* is (namespace, name, dimensions, unit, storage resolution). A *layout* says where the
values of one ``add`` go, registered once and then used by id on the hot path:

* a scalar layout (``series``) takes one value and fans it out to one or more series — the same
  metric under several dimension sets, as AWS publishes ``Count`` under ``ApiId`` and
  ``ApiId, Stage``;
* a row layout (``layout``) takes a tuple with one entry per column, and each column fans out the
  same way; ``None`` in a row means "no value this time" (e.g. no ``IntegrationLatency`` for a
  request that never reached the integration).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from heron.types import Clock, Dimensions, Sample

#: A metric series: namespace, name, dimensions (sorted pairs), unit and storage resolution.
SeriesKey = tuple[str, str, Dimensions, str, int]
#: One entry per column of a row layout; None when the column has no value this time.
Row = tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where values go: per column, the series that receive the column's value."""

    columns: tuple[tuple[SeriesKey, ...], ...]
    scalar: bool


def series_key(
    namespace: str, name: str, dimensions: Dimensions, unit: str = "None", resolution: int = 60
) -> SeriesKey:
    """The identity of one series; raises ValueError for a resolution CloudWatch rejects."""
    if resolution not in (1, 60):
        raise ValueError(f"storage resolution must be 1 or 60, got {resolution!r}")
    return (namespace, name, dimensions, unit, resolution)


def collapse(values: list[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``values`` as a CloudWatch (Values, Counts) pair; Counts is empty when nothing repeats.

    Identical values collapse to one value with its count (0/1 error flags, ``Count`` = 1);
    mostly distinct values (latencies) stay as they are, in arrival order, as counting them
    would cost more than it saves.
    """
    n = len(values)
    first = values[0]
    if n == 1:
        return (first,), ()
    if values.count(first) == n:
        return (first,), (float(n),)
    counted = Counter(values)
    if len(counted) * 2 > n:
        return tuple(values), ()
    return tuple(counted), tuple(float(c) for c in counted.values())


class MetricAggregator:
    """Collects metric values per layout and second; ``drain`` returns them as Samples.

    Not thread-safe: it belongs to one event loop (the gateway's or the runtime's).
    """

    __slots__ = ("_clock", "_layout_ids", "_layouts", "_pending", "_series_ids", "_widths")

    def __init__(self, clock: Clock = time.time) -> None:
        self._clock = clock
        self._layouts: list[_Layout] = []
        self._layout_ids: dict[tuple[tuple[tuple[SeriesKey, ...], ...], bool], int] = {}
        self._series_ids: dict[SeriesKey, int] = {}
        # Per layout id: 0 for scalar layouts, else the row width (checked on every add).
        self._widths: list[int] = []
        # (layout id, second) -> bare values (scalar layouts) or rows (row layouts).
        self._pending: dict[tuple[int, int], list[Any]] = {}

    # -- registration (once per call site, not per value) ----------------------------------

    def series(self, *keys: SeriesKey) -> int:
        """Register a scalar layout: each value goes to every one of ``keys``; returns its id."""
        if not keys:
            raise ValueError("a scalar layout needs at least one series")
        return self._register((keys,), scalar=True)

    def layout(self, columns: Sequence[Sequence[SeriesKey]]) -> int:
        """Register a row layout: entry ``i`` of a row goes to every series in ``columns[i]``."""
        if not columns or any(not column for column in columns):
            raise ValueError("a row layout needs at least one column, each with a series")
        return self._register(tuple(tuple(column) for column in columns), scalar=False)

    def _register(self, columns: tuple[tuple[SeriesKey, ...], ...], *, scalar: bool) -> int:
        for column in columns:
            for key in column:
                series_key(*key)  # validates the resolution
        ident = (columns, scalar)
        found = self._layout_ids.get(ident)
        if found is None:
            found = self._layout_ids[ident] = len(self._layouts)
            self._layouts.append(_Layout(columns, scalar))
            self._widths.append(0 if scalar else len(columns))
        return found

    # -- the hot path ----------------------------------------------------------------------

    def add_value(self, layout_id: int, value: float, at: float) -> None:
        """Append one value of a scalar layout, in the second ``at`` (epoch seconds) falls in."""
        if self._widths[layout_id]:
            raise ValueError(f"layout {layout_id} takes rows, not single values")
        key = (layout_id, int(at))
        values = self._pending.get(key)
        if values is None:
            self._pending[key] = [value]
        else:
            values.append(value)

    def add_row(self, layout_id: int, row: Row, at: float) -> None:
        """Append one row of a row layout (one entry per column) in the second of ``at``."""
        if len(row) != self._widths[layout_id]:
            raise ValueError(
                f"layout {layout_id} takes rows of {self._widths[layout_id]} entries, got {row!r}"
            )
        key = (layout_id, int(at))
        rows = self._pending.get(key)
        if rows is None:
            self._pending[key] = [row]
        else:
            rows.append(row)

    def add(
        self,
        namespace: str,
        name: str,
        dimensions: Dimensions,
        value: float,
        unit: str = "None",
        resolution: int = 60,
        *,
        at: float | None = None,
    ) -> None:
        """Append one value of one series (at ``at``, default now); for the less hot paths."""
        key = (namespace, name, dimensions, unit, resolution)
        layout_id = self._series_ids.get(key)
        if layout_id is None:
            layout_id = self._series_ids[key] = self.series(key)
        self.add_value(layout_id, value, self._clock() if at is None else at)

    # -- flushing --------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        """How many (layout, second) lists hold values not yet drained."""
        return len(self._pending)

    def drain(self, now: float | None = None) -> list[Sample]:
        """Remove and return pending values as Samples, one per series and second.

        With ``now``, only seconds that have ended by then are drained (the current second keeps
        collecting, so a steady flush yields exactly one sample per series and second); without
        it everything is drained.
        """
        pending = self._pending
        if now is None:
            taken, self._pending = pending, {}
        else:
            cutoff = int(now)
            taken = {key: vals for key, vals in pending.items() if key[1] < cutoff}
            for key in taken:
                del pending[key]
        out: list[Sample] = []
        layouts = self._layouts
        for (layout_id, second), entries in taken.items():
            layout = layouts[layout_id]
            timestamp_ms = second * 1000
            columns: list[Any] = [entries] if layout.scalar else list(zip(*entries, strict=True))
            for targets, column in zip(layout.columns, columns, strict=True):
                present = [v for v in column if v is not None] if None in column else list(column)
                if not present:
                    continue
                values, counts = collapse(present)
                for namespace, name, dimensions, unit, resolution in targets:
                    out.append(
                        Sample(
                            namespace,
                            name,
                            dimensions,
                            timestamp_ms,
                            values,
                            counts,
                            None,
                            unit,
                            resolution,
                        )
                    )
        return out
