"""Writing the log store: chunks committed on a helper thread while metrics are extracted.

The commit of a large batch (writing its pages to the WAL) is SQLite work during which the
sqlite3 module releases the GIL; extracting its metrics (metric filters, EMF) is Python. So the
commit runs on a helper thread while the caller extracts, and the two overlap on two cores.
Only the commit moves: a helper running every statement would wait for the GIL after each one
(up to the 5 ms switch interval while the caller runs Python), longer than it saves. Metrics
reach the sink only after the commit succeeded, and a write returns only once it is committed,
so an acknowledged event survives ``kill -9``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from heron.monitor.contracts import MetricSink
from heron.monitor.logs.chunks import PackedChunk, pack
from heron.monitor.logs.emf import MARKER, EmfExtractor
from heron.monitor.logs.emf_offload import (
    OFFLOAD_FROM_LINES,
    EmfOffload,
    ResolvingSink,
    add_answer,
)
from heron.monitor.logs.metric_filters import MetricFilter, apply_filters
from heron.monitor.logs.samples import SampleBatch
from heron.monitor.logs.store_sql import INSERT_CHUNK
from heron.monitor.wal_checkpointer import WalCheckpointer

#: Batches with fewer events commit on the caller's thread: a handoff would cost more than
#: the overlap saves.
OVERLAP_FROM_EVENTS = 256

#: One event: (timestamp ms, message).
Event = tuple[int, str]
#: Events to store: per group id, per stream id, (timestamp, message) events.
WritePlan = list[tuple[int, dict[int, list[Event]]]]
#: EMF extraction handed to workers for a committed write: (ticket, plan, now), or None.
Pending = tuple[object, WritePlan, int] | None
#: One statement and its parameters.
_Statement = tuple[str, tuple[Any, ...]]


class EventWrites:
    """The log store's write path; the store provides the connection, lock, batch and sink."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    _batch: SampleBatch
    emf: EmfExtractor
    sink: MetricSink | None
    _committer: ThreadPoolExecutor | None = None
    #: Where large writes' EMF lines are extracted (decode workers), if anywhere.
    emf_offload: EmfOffload | None = None
    _checkpointer: WalCheckpointer | None

    def _group_filters(self, gid: int) -> list[MetricFilter]:
        raise NotImplementedError

    def _store(
        self, plan: WritePlan, now: int, *, offload: bool = False, ordered: bool = False
    ) -> tuple[int, Pending]:
        """Insert ``plan`` and commit the transaction the caller began, extracting its metrics
        meanwhile; returns how many events were stored, and (with ``offload``) EMF extraction
        handed to workers, which the caller finishes with ``_finish_pending`` *after* releasing
        the store's lock; ``ordered`` says each stream's events are in time order already. A
        failed commit is rolled back and raised; the caller rolls back after any other
        failure."""
        statements, chunks, count, size = self._statements(plan, now, ordered)
        filters = [self._group_filters(gid) for gid, _ in plan]  # reads before the handoff
        for sql, args in statements:
            self._db.execute(sql, args)
        ticket = self._start_emf(chunks, now) if offload else None
        try:
            if count < OVERLAP_FROM_EVENTS:
                _commit(self._db)
                self._extract(plan, filters, now, emf=ticket is None)
            else:
                if self._committer is None:
                    self._committer = ThreadPoolExecutor(1, thread_name_prefix="heron-logs-commit")
                done: Future[None] = self._committer.submit(_commit, self._db)
                try:
                    self._extract(plan, filters, now, emf=ticket is None)
                finally:
                    failure = done.exception()
                if failure is not None:
                    self._batch.flush(None)  # nothing stored: no metrics either
                    raise failure
        except BaseException:
            if ticket is not None and self.emf_offload is not None:
                assert isinstance(self.sink, ResolvingSink)  # tickets are handed out only then
                self.emf_offload.finish_emf(ticket, self.sink.metric_ids)  # and discarded
            raise
        self._committed(size)
        self._send()
        return count, (None if ticket is None else (ticket, plan, now))

    def _start_emf(self, chunks: list[PackedChunk], now: int) -> object | None:
        """Hand a large write's EMF lines to workers when there are any: a ticket, or None."""
        if self.emf_offload is None or not isinstance(self.sink, ResolvingSink):
            return None
        if sum(chunk.count for chunk in chunks if MARKER in chunk.text) < OFFLOAD_FROM_LINES:
            return None
        packed = [(chunk.stamps, chunk.lengths, chunk.text) for chunk in chunks]
        return self.emf_offload.start_emf(packed, now)

    def _finish_pending(self, pending: Pending) -> None:
        """Send what the workers extracted for a committed write (without the store's lock:
        other writes proceed meanwhile); if they failed, extract its lines here."""
        if pending is None or self.emf_offload is None:
            return
        ticket, plan, now = pending
        sink = self.sink
        assert isinstance(sink, ResolvingSink)  # _start_emf hands out tickets only then
        answer = self.emf_offload.finish_emf(ticket, sink.metric_ids)
        with self._lock:
            if answer is None:  # the filters ran at commit: only EMF is left to do here
                self._extract(plan, [[] for _ in plan], now, emf=True)
                self._send()
                return
            add_answer(self.emf.stats, answer)
        if answer.mids is not None and answer.batch is not None:
            try:
                sink.put_resolved_batch(answer.mids, answer.batch)
            except Exception:
                with self._lock:
                    self.emf.stats.validation_errors += 1

    def _statements(
        self, plan: WritePlan, now: int, ordered: bool
    ) -> tuple[list[_Statement], list[PackedChunk], int, int]:
        """The inserts and summary updates for ``plan`` (packing sorts each stream's events),
        the chunks, the number of events and their size in bytes."""
        statements: list[_Statement] = []
        chunks: list[PackedChunk] = []
        count = total = 0
        for gid, per_stream in plan:
            group_bytes = 0
            for sid, events in per_stream.items():
                if not events:
                    continue
                size = 0
                first, last = events[0][0], events[0][0]
                for chunk in pack(events, ordered=ordered):
                    chunks.append(chunk)
                    statements.append((INSERT_CHUNK, (gid, sid, now, *chunk.columns())))
                    size += chunk.size
                    first, last = min(first, chunk.first_ts), max(last, chunk.last_ts)
                statements.append(
                    (
                        "UPDATE log_streams SET stored_bytes=stored_bytes+?,"
                        " last_ingestion_ms=?, first_event_ms=min(coalesce(first_event_ms, ?), ?),"
                        " last_event_ms=max(coalesce(last_event_ms, ?), ?) WHERE id=?",
                        (size, now, first, first, last, last, sid),
                    )
                )
                group_bytes += size
                count += len(events)
            total += group_bytes
            statements.append(
                ("UPDATE log_groups SET stored_bytes=stored_bytes+? WHERE id=?", (group_bytes, gid))
            )
        return statements, chunks, count, total

    def _extract(
        self, plan: WritePlan, filters: list[list[MetricFilter]], now: int, *, emf: bool
    ) -> None:
        """Run metric filters and (unless a worker does) EMF into the batch; extraction never
        fails a write."""
        try:
            for (_gid, per_stream), group_filters in zip(plan, filters, strict=True):
                events = [ev for evs in per_stream.values() for ev in evs]
                if not events:
                    continue
                if group_filters:
                    apply_filters(group_filters, events, self._batch)
                if emf:
                    self.emf.extract(events, now_ms=now)
        except Exception:
            self.emf.stats.validation_errors += 1
            self._batch.flush(None)

    def _send(self) -> None:
        """Hand the batch's metrics to the sink (column-wise when it is a metric store)."""
        try:
            put_batch: Callable[..., None] | None = getattr(self.sink, "put_batch", None)
            if put_batch is not None:
                self._batch.flush_columns(put_batch)
            else:
                self._batch.flush(self.sink)
        except Exception:
            self.emf.stats.validation_errors += 1
            self._batch.flush(None)

    def _committed(self, size: int) -> None:
        if self._checkpointer is not None:
            self._checkpointer.nudge(size)

    def _stop_committer(self) -> None:
        if self._committer is not None:
            self._committer.shutdown(wait=True)
            self._committer = None


def _commit(db: sqlite3.Connection) -> None:
    """COMMIT the open transaction, or ROLLBACK and raise."""
    try:
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
