"""The metric store: CloudWatch's data model, aggregated at ingest, durable on SQLite.

``MetricStore`` implements ``MetricSink`` and ``MetricQueries``. A put is aggregated with numpy
into per-cell deltas (``ingest``), appended to the SQLite journal and only then applied to the
in-memory cells (``memtable``); concurrent puts from many threads share one transaction (group
commit) and each returns once its data is committed, so an acknowledged datapoint survives
``kill -9`` (WAL; ``synchronous=NORMAL`` protects against process death, ``FULL`` also against
power loss). A flush merges the in-memory cells into the ``cells`` table and trims the journal;
``compact`` also rolls cells up and drops expired ones on CloudWatch's schedule. Queries merge
stored and in-memory cells into periods and evaluate statistics over them (``periods``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.monitor.contracts import MetricId, Sample
from heron.monitor.metrics import compaction, model, retention, sketch
from heron.monitor.metrics.cell_codec import cell_rows
from heron.monitor.metrics.db import MetricDB
from heron.monitor.metrics.index import MetricIndex
from heron.monitor.metrics.ingest import Delta, SampleBatch, aggregate, unpack_cell_key
from heron.monitor.metrics.memtable import MemTable
from heron.monitor.metrics.periods import CellSet, PeriodView
from heron.monitor.metrics.series_batch import Read, evaluate, gather
from heron.monitor.metrics.statistics import Statistic, parse_statistic
from heron.types import Clock

#: ListMetrics hides metrics without data for this long.
LIST_VISIBLE_S = 14 * retention.DAY

#: One ``series`` query: (metric, start_ms, end_ms, period_s, statistic, unit or None).
SeriesRequest = tuple[MetricId, int, int, int, str, str | None]


class MetricStore:
    """CloudWatch-model metric storage and queries under ``<data_dir>/metrics.db``."""

    def __init__(
        self,
        data_dir: Path | str,
        *,
        clock: Clock = time.time,
        synchronous: str = "NORMAL",
        flush_cells: int = 200_000,
        flush_interval_s: float = 30.0,
    ) -> None:
        self._clock = clock
        self._db = MetricDB(Path(data_dir) / "metrics.db", synchronous=synchronous)
        self._index = MetricIndex()
        self._mem = MemTable()
        self._lock = threading.RLock()  # index, memtable, reader connection
        self._write_lock = threading.Lock()  # the writer role: group-commit leader, flush, compact
        self._queue_lock = threading.Lock()
        self._queue: list[Delta] = []
        self._unpersisted: list[tuple[int, str]] = []
        self._journal_upto = 0
        self._flush_cells = flush_cells
        self._flush_interval_s = flush_interval_s
        self._last_flush = clock()
        self._load()

    def _load(self) -> None:
        for mid, key, units, seen in self._db.metrics():
            self._index.restore(mid, key, units, seen)
        for jid, at, blob in self._db.journal():
            delta = Delta.decode(blob)
            self._mem.apply(delta)
            self._index.touch(np.unique(delta.cells >> 36), at)
            self._journal_upto = jid

    # -- ingestion -------------------------------------------------------------------------

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Store validated samples; returns once they are committed."""
        batch = SampleBatch()
        for x in samples:
            key = model.metric_key(x.namespace, x.name, x.dimensions)
            unit = model.UNIT_CODES[x.unit]
            level = retention.level_for_resolution(x.storage_resolution)
            if x.values:
                batch.add_values(key, unit, x.timestamp_ms, level, x.values, x.counts or None)
            elif x.statistic_set is not None:
                batch.add_statistic_set(key, unit, x.timestamp_ms, level, x.statistic_set)
        self.put_batch(batch)

    def put_batch(self, batch: SampleBatch) -> None:
        """Store a column-wise batch (the fast path); returns once it is committed."""
        if len(batch):
            self.put_resolved_batch(self.metric_ids(batch.keys), batch)

    def metric_ids(self, keys: list[str]) -> np.ndarray:
        """The ids of metric keys, registering new ones (persisted with the next write)."""
        with self._lock:
            return self._metric_ids(keys)

    def put_resolved(
        self, mids: np.ndarray, units: np.ndarray, times_ms: np.ndarray, values: np.ndarray
    ) -> None:
        """Store plain standard-resolution values whose metric ids are known (``metric_ids``);
        returns once they are committed."""
        if len(values):
            self.put_resolved_batch(mids, SampleBatch.of_arrays(units, times_ms, values, 1))

    def put_resolved_batch(self, mids: np.ndarray, batch: SampleBatch) -> None:
        """Store a column-wise batch whose rows have the metric ids ``mids`` (its keys are not
        read); returns once it is committed."""
        if len(mids):
            self._commit(aggregate(batch, lambda _: mids))

    def _metric_ids(self, keys: list[str]) -> np.ndarray:
        ids = self._index.ids(keys)
        if None in ids:
            for i, found in enumerate(ids):
                if found is None:
                    before = len(self._index)
                    ids[i] = mid = self._index.add(keys[i])
                    if mid >= before:
                        self._unpersisted.append((mid, keys[i]))
        return np.asarray(ids, np.int64)

    def _commit(self, delta: Delta) -> None:
        with self._queue_lock:
            self._queue.append(delta)
        with self._write_lock:
            if not delta.done:
                self._lead()
            if self._flush_due():
                self._flush_locked()
        if delta.error is not None:
            raise delta.error

    def _lead(self) -> None:
        """As group-commit leader: write every queued delta in one transaction, then apply."""
        with self._queue_lock:
            group, self._queue = self._queue, []
        with self._lock:
            new, self._unpersisted = self._unpersisted, []
        now = self._clock()
        try:
            last = self._db.append([d.encode() for d in group], new, int(now))
        except BaseException as exc:
            with self._lock:
                self._unpersisted = new + self._unpersisted
            for d in group:
                d.error, d.done = exc, True
            return
        with self._lock:
            for d in group:
                self._mem.apply(d)
                self._index.touch(np.unique(d.cells >> 36), int(now))
            self._journal_upto = last
        for d in group:
            d.done = True

    # -- flush, roll-up, retention ---------------------------------------------------------

    def _flush_due(self) -> bool:
        if not self._mem.size:
            return False
        return (
            self._mem.size >= self._flush_cells
            or self._mem.bucket_count >= 8 * self._flush_cells
            or self._clock() - self._last_flush >= self._flush_interval_s
        )

    def flush(self) -> None:
        """Merge in-memory cells into the database and trim the journal."""
        with self._write_lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        self._last_flush = self._clock()
        with self._lock:
            if not self._mem.size:
                return
            packed, cells = self._mem.drain()
            upto = self._journal_upto
            series, levels, _ = unpack_cell_key(packed)
            mids = np.unique(series // model.UNIT_SLOTS).tolist()
            states = [(mid, *self._index.state(mid)) for mid in mids]
        rows = cell_rows(series, levels, cells)
        # Stage the upserts outside the state lock (readers keep their snapshot), then commit
        # and drop the memory copy atomically with respect to queries: nothing counted twice.
        self._db.stage_merge(rows, states, upto)
        with self._lock:
            try:
                self._db.commit()
            except BaseException:
                self._db.rollback()
                raise
            self._mem.clear()

    def compact(self, now_ms: int | None = None) -> None:
        """Flush, roll expired cells up a level, seal finished hours into blocks, and drop
        cells past 455 days (``compaction``)."""
        now_s = int(self._clock() if now_ms is None else now_ms / 1000)
        with self._write_lock:
            self._flush_locked()
        compaction.compact(self._db, self._write_lock, now_s)

    def close(self) -> None:
        """Flush and close the database."""
        with self._write_lock:
            self._flush_locked()
            self._db.close()

    # -- queries ---------------------------------------------------------------------------

    def _series_ids(self, metric: MetricId, unit: str | None) -> list[tuple[int, int]]:
        """(series id, unit code) pairs of a metric, all units or just ``unit``."""
        mid = self._index.get(model.metric_key(metric.namespace, metric.name, metric.dimensions))
        if mid is None:
            return []
        if unit is None:
            codes = self._index.units(mid)
        else:
            code = model.UNIT_CODES.get(unit)
            codes = [] if code is None else [code]
        return [(mid * model.UNIT_SLOTS + c, c) for c in codes]

    def _cells(self, series: list[int], t0: int, t1: int, *, sketches: bool = True) -> CellSet:
        parts = [self._db.read(sid, t0, t1, sketches=sketches) for sid in series]
        _, mem = self._mem.select(np.asarray(series, np.int64), t0, t1)
        return CellSet.concat([*parts, mem])

    def _window(self, start_ms: int, end_ms: int, period_s: int) -> tuple[int, int] | None:
        now_s = int(self._clock())
        start_s = start_ms // 1000
        if period_s <= 0 or not retention.period_allowed(period_s, start_s, now_s):
            return None
        t0 = retention.round_start(start_ms, period_s, now_s)
        t1 = retention.end_second(end_ms)
        return (t0, t1) if t1 > t0 else None

    def series(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistic: str,
        unit: str | None = None,
    ) -> tuple[list[int], list[float]]:
        """One statistic per period with data (period-start ms ascending, values).

        Without ``unit`` all units of the metric are merged. Raises ``StatisticError`` (a
        ``ValueError``) for a statistic CloudWatch would not accept.
        """
        ts, values = self.series_arrays(
            metric, start_ms=start_ms, end_ms=end_ms, period_s=period_s, statistic=statistic,
            unit=unit,
        )  # fmt: skip
        return ts.tolist(), values.tolist()

    def series_arrays(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistic: str,
        unit: str | None = None,
    ) -> tuple[sketch.I64, sketch.F64]:
        """``series`` as numpy arrays, for callers that compute on them (GetMetricData)."""
        stat = parse_statistic(statistic)
        window = self._window(start_ms, end_ms, period_s)
        if window is None:
            return np.empty(0, np.int64), np.empty(0, np.float64)
        with self._lock:
            sids = [sid for sid, _ in self._series_ids(metric, unit)]
            # The basic statistics need no sketches: reading them would be half the cost.
            cells = self._cells(sids, *window, sketches=not stat.basic) if sids else CellSet.empty()
        view = PeriodView(cells, window[0], period_s)
        values = view.evaluate(stat)
        ok = ~np.isnan(values)
        return view.timestamps_s[ok] * 1000, values[ok]

    def series_many(self, requests: Sequence[SeriesRequest]) -> list[tuple[list[int], list[float]]]:
        """``series`` for many requests at once, in request order, with identical answers.

        Requests sharing a period are read with one database query and one in-memory scan, and
        evaluated with one vectorized pass per statistic. Raises ``StatisticError`` for the
        first statistic CloudWatch would not accept, before reading anything.
        """
        # A round names a handful of statistics thousands of times: parse each once, in order.
        parsed = {text: parse_statistic(text) for text in dict.fromkeys(r[4] for r in requests)}
        stats = [parsed[r[4]] for r in requests]
        out: list[tuple[list[int], list[float]]] = [([], []) for _ in requests]
        by_period: dict[int, list[tuple[int, Read]]] = {}
        with self._lock:
            for i, (metric, start_ms, end_ms, period_s, _, unit) in enumerate(requests):
                window = self._window(start_ms, end_ms, period_s)
                sids = [sid for sid, _ in self._series_ids(metric, unit)] if window else []
                if window and sids:
                    read = Read(sids, window[0], window[1], stats[i])
                    by_period.setdefault(period_s, []).append((i, read))
            gathered = []
            for period_s, members in by_period.items():
                reads = [read for _, read in members]
                every = sorted({sid for read in reads for sid in read.sids})
                t0, t1 = min(r.t0 for r in reads), max(r.t1 for r in reads)
                sketches = any(not read.stat.basic for read in reads)
                stored = self._db.read_many(every, t0, t1, sketches=sketches)
                memory = self._mem.select(np.asarray(every, np.int64), t0, t1)
                gathered.append((period_s, members, gather(reads, stored, memory)))
        for period_s, members, (cells, owner) in gathered:
            results = evaluate([read for _, read in members], period_s, cells, owner)
            for (i, _), result in zip(members, results, strict=True):
                out[i] = result
        return out

    def statistics(
        self,
        metric: MetricId,
        *,
        start_ms: int,
        end_ms: int,
        period_s: int,
        statistics: Sequence[str],
        unit: str | None = None,
    ) -> list[dict[str, Any]]:
        """GetMetricStatistics datapoints, one per period per unit.

        Each is ``{"Timestamp": ms, "Unit": u, "<Basic>": v, "ExtendedStatistics": {...}}``;
        an extended statistic that is unavailable (negative values, unbucketed statistic sets,
        empty range) is left out.
        """
        stats: list[Statistic] = [parse_statistic(s) for s in statistics]
        window = self._window(start_ms, end_ms, period_s)
        if window is None:
            return []
        with self._lock:
            pairs = self._series_ids(metric, unit)
            per_unit = [(code, self._cells([sid], *window)) for sid, code in pairs]
        out: list[dict[str, Any]] = []
        for code, cells in per_unit:
            view = PeriodView(cells, window[0], period_s)
            if not len(view):
                continue
            columns = [(s, view.evaluate(s).tolist()) for s in stats]
            for i, ts in enumerate(view.timestamps_s.tolist()):
                point: dict[str, Any] = {"Timestamp": ts * 1000, "Unit": model.UNITS[code]}
                extended: dict[str, float] = {}
                for stat, values in columns:
                    v = values[i]
                    if v != v:  # NaN: not available for this period
                        continue
                    if stat.basic:
                        point[stat.name] = v
                    else:
                        extended[stat.name] = v
                if extended:
                    point["ExtendedStatistics"] = extended
                out.append(point)
        return out

    def list_metrics(
        self,
        *,
        namespace: str | None = None,
        name: str | None = None,
        dimension_filters: Sequence[tuple[str, str | None]] = (),
        active_since_ms: int | None = None,
        after: MetricId | None = None,
        limit: int | None = None,
    ) -> list[MetricId]:
        """Metrics matching the filters, sorted; ``after``/``limit`` page through them.

        Metrics without data for two weeks are hidden, as ListMetrics hides them.
        """
        now_s = int(self._clock())
        seen_since = now_s - LIST_VISIBLE_S
        if active_since_ms is not None:
            seen_since = max(seen_since, active_since_ms // 1000)
        after_key = (
            None
            if after is None
            else model.metric_key(after.namespace, after.name, after.dimensions)
        )
        with self._lock:
            keys = self._index.select(
                namespace=namespace,
                name=name,
                dimension_filters=dimension_filters,
                seen_since_s=seen_since,
                after=after_key,
                limit=limit,
            )
        return [MetricId(*model.parse_key(k)) for k in keys]
