"""EMF extraction in another process: what the log store sends out, and what comes back.

A large write's EMF lines can be extracted by a decode worker (``heron.awsapi.decode_pool``)
while this process commits the events and runs the metric filters. The worker runs the same
``EmfExtractor`` and answers with its datapoints column-wise plus its statistics, which the
store adds to its own. Nothing here decides a result the in-process path would not: if no
worker answers, the store extracts the lines itself.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import astuple
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from heron.monitor.logs.chunks import offsets, unpack_stamps
from heron.monitor.logs.emf import MARKER, EmfExtractor, EmfStats
from heron.monitor.metrics.ingest import SampleBatch as ColumnBatch
from heron.monitor.metrics.key_index import KeysSent

#: Writes with at least this many EMF lines are worth sending to a worker.
OFFLOAD_FROM_LINES = 500


class EmfAnswer(NamedTuple):
    """Workers' extraction: the datapoints (their metric ids and columns; None when there are
    none) and the statistics to add to the store's."""

    mids: npt.NDArray[np.int64] | None
    batch: ColumnBatch | None
    stats: tuple[int, ...]


#: A chunk's packed events as sent: (timestamps blob, lengths blob, text); see ``chunks``.
PackedEvents = tuple[bytes, bytes, str]


@runtime_checkable
class ResolvingSink(Protocol):
    """A metric sink that stores rows by metric id (the metric store): workers need one."""

    def metric_ids(self, keys: list[str]) -> npt.NDArray[np.int64]:
        """The ids of ``keys``, registering new ones."""

    def put_resolved_batch(self, mids: npt.NDArray[np.int64], batch: ColumnBatch) -> None:
        """Store ``batch`` whose rows have the metric ids ``mids``."""


class EmfOffload(Protocol):
    """Somewhere to extract EMF lines off this process (the decode pool)."""

    def start_emf(self, chunks: list[PackedEvents], now_ms: int) -> object | None:
        """Hand the chunks' events to workers; a ticket, or None when none can take them."""

    def finish_emf(
        self, ticket: object, metric_ids: Callable[[list[str]], npt.NDArray[np.int64]]
    ) -> EmfAnswer | None:
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


#: The columns of a ``ColumnBatch`` besides its keys, and how a worker packs them.
_PACKED = (
    ("units", "B"),
    ("times_ms", "q"),
    ("levels", "B"),
    ("lengths", "q"),
    ("values", "d"),
    ("counts", "d"),
    ("stat_sets", "d"),
)
_DTYPES = {"B": np.uint8, "q": np.int64, "d": np.float64}


def extract_answer(
    extractor: EmfExtractor, events: list[tuple[int, str]], now_ms: int, keys: KeysSent
) -> tuple[Any, ...]:
    """Extract ``events`` as the store would; the answer a worker sends: (statistics, and when
    there are datapoints their keys indexed by ``keys`` and their packed columns)."""
    stats = extractor.stats = EmfStats()
    out: list[ColumnBatch] = []
    try:
        extractor.extract(events, now_ms=now_ms)
        extractor.batch.flush_columns(out.append)
    except Exception:  # as the store's own extraction: counted, never raised
        stats.validation_errors += 1
        extractor.batch.flush(None)
        out.clear()
    if not out:
        return (astuple(stats),)
    batch = out[0]
    packed = [array(code, getattr(batch, name)).tobytes() for name, code in _PACKED]
    return (astuple(stats), *keys.index(batch.keys), *packed)


def resolve_answer(
    answer: tuple[Any, ...], mids_of: Callable[[bool, list[str], bytes], npt.NDArray[np.int64]]
) -> EmfAnswer:
    """The parent's side of ``extract_answer``: ``mids_of`` turns the key part into ids."""
    stats = tuple(answer[0])
    if len(answer) == 1:
        return EmfAnswer(None, None, stats)
    _, reset, new, rows, *packed = answer
    mids = mids_of(reset, new, rows)
    batch = ColumnBatch()
    for (name, code), blob in zip(_PACKED, packed, strict=True):
        setattr(batch, name, np.frombuffer(blob, _DTYPES[code]))
    return EmfAnswer(mids, batch, stats)


def merge_answers(answers: list[EmfAnswer]) -> EmfAnswer:
    """One answer for lines split among several workers."""
    with_rows = [a for a in answers if a.mids is not None and a.batch is not None]
    stats = tuple(sum(values) for values in zip(*(a.stats for a in answers), strict=True))
    if not with_rows:
        return EmfAnswer(None, None, stats)
    batch = ColumnBatch()
    for name, _ in _PACKED:
        setattr(batch, name, np.concatenate([getattr(a.batch, name) for a in with_rows]))
    mids = np.concatenate([a.mids for a in with_rows if a.mids is not None])
    return EmfAnswer(mids, batch, stats)


def add_answer(stats: EmfStats, answer: EmfAnswer) -> None:
    """Add workers' statistics to the store's."""
    for name, value in zip(EmfStats.__dataclass_fields__, answer.stats, strict=True):
        setattr(stats, name, getattr(stats, name) + value)
