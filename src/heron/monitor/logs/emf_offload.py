"""EMF extraction in another process: what the log store sends out, and what comes back.

A large write's EMF lines can be extracted by a decode worker (``heron.awsapi.decode_pool``)
while this process commits the events and runs the metric filters. The worker runs the same
``EmfExtractor`` and answers with its datapoints column-wise plus its statistics, which the
store adds to its own. Nothing here decides a result the in-process path would not: if no
worker answers, the store extracts the lines itself.
"""

from __future__ import annotations

from dataclasses import astuple
from typing import Any, NamedTuple, Protocol

from heron.monitor.logs.chunks import offsets, unpack_stamps
from heron.monitor.logs.emf import MARKER, EmfExtractor, EmfStats
from heron.monitor.metrics.ingest import SampleBatch as ColumnBatch

#: Writes with at least this many EMF lines are worth sending to a worker.
OFFLOAD_FROM_LINES = 500


class EmfAnswer(NamedTuple):
    """A worker's extraction: the datapoints' columns (None: no datapoints) and its stats."""

    columns: tuple[list[Any], ...] | None
    stats: tuple[int, ...]


#: A chunk's packed events as sent: (timestamps blob, lengths blob, text); see ``chunks``.
PackedEvents = tuple[bytes, bytes, str]


class EmfOffload(Protocol):
    """Somewhere to extract EMF lines off this process (the decode pool)."""

    def start_emf(self, chunks: list[PackedEvents], now_ms: int) -> object | None:
        """Hand the chunks' events to workers; a ticket, or None when none can take them."""

    def finish_emf(self, ticket: object) -> EmfAnswer | None:
        """The worker's answer for ``ticket`` (waits for it), or None when it failed."""


def events_part(chunks: list[PackedEvents], part: int, parts: int) -> list[tuple[int, str]]:
    """The ``part``-th of ``parts`` consecutive shares of the chunks' events, unpacked.

    Chunks travel packed (a few large strings are cheap to send; thousands of small ones are
    not), and the share is cut here, so every worker can be sent the same chunks.
    """
    total = sum(len(stamps) // 8 for stamps, _, _ in chunks)
    step = -(-total // parts)
    lo, hi = part * step, min(total, (part + 1) * step)
    out: list[tuple[int, str]] = []
    start = 0
    for stamps_blob, lengths_blob, text in chunks:
        count = len(stamps_blob) // 8
        a, b = max(lo, start) - start, min(hi, start + count) - start
        start += count
        if a >= b or MARKER not in text:
            continue
        stamps, ends = unpack_stamps(stamps_blob), offsets(lengths_blob)
        out.extend((stamps[i], text[ends[i] : ends[i + 1]]) for i in range(a, b))
    return out


def extract_answer(
    extractor: EmfExtractor, events: list[tuple[int, str]], now_ms: int
) -> EmfAnswer:
    """Extract ``events`` as the store would, and package the result (the worker's side)."""
    stats = extractor.stats = EmfStats()
    out: list[ColumnBatch] = []
    try:
        extractor.extract(events, now_ms=now_ms)
        extractor.batch.flush_columns(out.append)
    except Exception:  # as the store's own extraction: counted, never raised
        stats.validation_errors += 1
        extractor.batch.flush(None)
        out.clear()
    return EmfAnswer(out[0].columns() if out else None, astuple(stats))


def merge_answers(answers: list[EmfAnswer]) -> EmfAnswer:
    """One answer for lines split among several workers."""
    present = [a.columns for a in answers if a.columns is not None]
    columns = None
    if present:
        columns = tuple([v for cols in present for v in cols[i]] for i in range(len(present[0])))
    stats = tuple(sum(values) for values in zip(*(a.stats for a in answers), strict=True))
    return EmfAnswer(columns, stats)


def add_answer(stats: EmfStats, answer: EmfAnswer) -> ColumnBatch | None:
    """Add a worker's statistics to ``stats``; its datapoints as a batch for the metric store."""
    for name, value in zip(EmfStats.__dataclass_fields__, answer.stats, strict=True):
        setattr(stats, name, getattr(stats, name) + value)
    return None if answer.columns is None else ColumnBatch.from_columns(answer.columns)
