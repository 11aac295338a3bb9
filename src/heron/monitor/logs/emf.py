"""Embedded Metric Format extraction: EMF log lines in, datapoints out, never an exception.

A line is EMF when it (after an optional Lambda ``<time>\\t<request id>\\t<level>\\t`` prefix) is
one JSON object with a root ``_aws`` member. Each ``CloudWatchMetrics`` directive is validated on
its own (namespace, ≤ 30 keys per dimension set naming root string members, ≤ 100 metric
definitions with valid Unit and StorageResolution, values numeric or arrays of ≤ 100 numbers);
an invalid directive yields nothing and is counted (``EMFValidationErrors``), a line that is not
JSON is counted (``EMFParsingErrors``), and the log event itself is always kept by the caller.
Every dimension set times metric definition makes one metric; arrays stay arrays.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from heron.monitor.logs.samples import SampleBatch
from heron.telemetry.emf import STANDARD_UNITS
from heron.types import Dimensions

#: Most dimension keys one dimension set may carry.
MAX_DIMENSION_KEYS = 30
#: Most metric definitions one directive may carry.
MAX_METRICS = 100
#: Most values one metric member may carry as an array.
MAX_VALUES = 100
#: Longest dimension value CloudWatch accepts.
MAX_DIMENSION_VALUE = 1024
#: How far back / ahead of now an EMF timestamp may lie (PutMetricData's window).
MAX_PAST_MS = 14 * 24 * 3600 * 1000
MAX_FUTURE_MS = 2 * 3600 * 1000

#: Every EMF line holds this text (a cheap test before parsing).
MARKER = '"_aws"'
_isfinite = math.isfinite
_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


class _Invalid(Exception):
    """A directive (or the ``_aws`` object) breaks the EMF specification."""


@dataclass
class EmfStats:
    """Counters: documents seen, datapoints produced, and the two AWS/Logs error counts."""

    documents: int = 0
    datapoints: int = 0
    parsing_errors: int = 0
    validation_errors: int = 0
    out_of_window: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counters under CloudWatch's names where it has them."""
        return {
            "EMFDocuments": self.documents,
            "EMFDatapoints": self.datapoints,
            "EMFParsingErrors": self.parsing_errors,
            "EMFValidationErrors": self.validation_errors,
            "EMFOutOfWindow": self.out_of_window,
        }


def _valid_namespace(ns: Any) -> bool:
    return (
        type(ns) is str
        and 0 < len(ns) <= 255
        and ns.isascii()
        and ns[0] != ":"
        and not ns.startswith("AWS/")
    )


#: A validated directive: (namespace, dimension-key sets, metric names, batch slot).
_Plan = tuple[str, tuple[tuple[str, ...], ...], tuple[str, ...], int]


class EmfExtractor:
    """Extracts EMF metrics from log events into its SampleBatch, counting what it rejects.

    The batch is bound at construction because cached directive plans refer to its slots;
    callers ``extract`` lines and then ``batch.flush(sink)``.
    """

    def __init__(self, batch: SampleBatch | None = None) -> None:
        self.batch = batch if batch is not None else SampleBatch()
        self.stats = EmfStats()
        # Directive lists repeat across lines (only values change), so each distinct one is
        # validated once and cached by its serialized form; invalid ones cache as None.
        self._plans: dict[bytes, tuple[_Plan | None, ...]] = {}

    def extract(self, events: Iterable[tuple[int, str]], *, now_ms: int) -> None:
        """Add the datapoints of every EMF line in ``events`` (timestamp ms, message) to batch."""
        batch = self.batch
        lo, hi = now_ms - MAX_PAST_MS, now_ms + MAX_FUTURE_MS
        plans = self._plans
        rows = batch.rows
        stats = self.stats
        documents = datapoints = 0
        for event_ts, message in events:
            if MARKER not in message:
                continue
            # The common line: one JSON object, one cached valid directive, numbers only, an
            # int Timestamp in the window. Anything else takes extract_line's general path.
            if message[0] == "{":
                try:
                    doc = _loads(message)
                except _JSONDecodeError:
                    stats.parsing_errors += 1
                    continue
                if type(doc) is dict:
                    aws = doc.get("_aws")
                    if type(aws) is dict:
                        directives = aws.get("CloudWatchMetrics")
                        ts = aws.get("Timestamp", event_ts)
                        if type(directives) is list and type(ts) is int and lo <= ts <= hi:
                            try:
                                found = plans.get(_dumps(directives))
                            except Exception:  # e.g. nested deeper than orjson writes
                                found = None
                            if found is not None and len(found) == 1 and found[0] is not None:
                                added = _numbers_row(found[0], doc, ts, rows)
                                if added:
                                    documents += 1
                                    datapoints += added
                                    continue
                self.extract_line(message, event_ts, batch, lo, hi)
            else:
                self.extract_line(message, event_ts, batch, lo, hi)
        stats.documents += documents
        stats.datapoints += datapoints

    def extract_line(
        self, message: str, event_ts: int, batch: SampleBatch, lo: int, hi: int
    ) -> None:
        """Handle one line that mentions ``_aws`` (never raises)."""
        start = message.find("{")
        if start < 0 or (start > 0 and message[start - 1] not in "\t "):
            return
        try:
            doc = _loads(message[start:] if start else message)
        except _JSONDecodeError:
            self.stats.parsing_errors += 1
            return
        if type(doc) is not dict or "_aws" not in doc:
            return
        self.stats.documents += 1
        try:
            self._document(doc, event_ts, batch, lo, hi)
        except _Invalid:
            self.stats.validation_errors += 1
        except Exception:  # a malformed document must never stop ingestion
            self.stats.validation_errors += 1

    def _document(
        self, doc: dict[str, Any], event_ts: int, batch: SampleBatch, lo: int, hi: int
    ) -> None:
        aws = doc["_aws"]
        if type(aws) is not dict:
            raise _Invalid
        directives = aws.get("CloudWatchMetrics")
        if type(directives) is not list:
            raise _Invalid
        ts = aws.get("Timestamp", event_ts)
        if type(ts) is not int:
            if type(ts) is float and ts.is_integer():
                ts = int(ts)
            else:
                raise _Invalid
        if not lo <= ts <= hi:
            self.stats.out_of_window += 1
            return
        key = _dumps(directives)
        plans = self._plans.get(key)
        if plans is None:
            plans = tuple(_plan(d, batch) for d in directives)
            if len(self._plans) < 10_000:
                self._plans[key] = plans
        invalid = False
        for plan in plans:
            if plan is None or not self._apply(plan, doc, ts, batch):
                invalid = True
        if invalid:
            raise _Invalid

    def _apply(self, plan: _Plan, doc: dict[str, Any], ts: int, batch: SampleBatch) -> bool:
        """Add one directive's datapoints; False (nothing added) when the values are invalid."""
        _ns, dimsets, names, slot = plan
        get = doc.get
        all_dims: list[Dimensions] = []
        for keys in dimsets:
            pairs: list[tuple[str, str]] = []
            for k in keys:
                v = get(k)
                if type(v) is not str or not 0 < len(v) <= MAX_DIMENSION_VALUE:
                    return False
                pairs.append((k, v))
            all_dims.append(tuple(pairs))
        row: tuple[Any, ...] = tuple([get(name) for name in names])
        count = 0
        for value in row:
            t = type(value)
            if t is float or t is int:
                if not _isfinite(value):
                    return False
                count += 1
            elif t is list:
                if len(value) > MAX_VALUES:
                    return False
                for v in value:
                    tv = type(v)
                    if (tv is not float and tv is not int) or not _isfinite(v):
                        return False
                count += len(value)
            elif value is not None:  # a declared metric without a member reports nothing
                return False
        add_row = batch.add_row
        for dims in all_dims:
            add_row(slot, dims, ts, row)
        self.stats.datapoints += count * len(all_dims)
        return True


def _numbers_row(
    plan: _Plan, doc: dict[str, Any], ts: int, rows: dict[Any, list[tuple[Any, ...]]]
) -> int:
    """The fast path of ``_apply`` for one directive whose members are all finite numbers:
    datapoints added, or 0 (nothing added) to leave the line to the general path."""
    _ns, dimsets, names, slot = plan
    get = doc.get
    row: tuple[Any, ...] = tuple([get(name) for name in names])
    for value in row:
        t = type(value)
        if (t is not float and t is not int) or value - value:  # x - x is 0 when finite
            return 0
    second = ts - ts % 1000
    keys_found: list[tuple[int, Dimensions, int]] = []
    for keys in dimsets:
        pairs: list[tuple[str, str]] = []
        for k in keys:
            v = get(k)
            if type(v) is not str or not 0 < len(v) <= MAX_DIMENSION_VALUE:
                return 0
            pairs.append((k, v))
        keys_found.append((slot, tuple(pairs), second))
    for key in keys_found:
        found = rows.get(key)
        if found is None:
            rows[key] = [row]
        else:
            found.append(row)
    return len(row) * len(keys_found)


def _plan(d: Any, batch: SampleBatch) -> _Plan | None:
    """Validate a directive's static parts once; None when it breaks the specification."""
    if type(d) is not dict:
        return None
    ns: Any = d.get("Namespace")
    dimsets = d.get("Dimensions")
    metrics = d.get("Metrics")
    if not _valid_namespace(ns) or type(dimsets) is not list or type(metrics) is not list:
        return None
    if len(metrics) > MAX_METRICS:
        return None
    keysets: list[tuple[str, ...]] = []
    for ds in dimsets:
        if type(ds) is not list or len(ds) > MAX_DIMENSION_KEYS:
            return None
        if not all(type(k) is str and 0 < len(k) <= 250 for k in ds):
            return None
        keysets.append(tuple(sorted(set(ds))))
    if not keysets:
        keysets.append(())  # no dimension sets: one metric without dimensions
    descs: list[tuple[str, str, str, int]] = []
    for m in metrics:
        if type(m) is not dict:
            return None
        name, unit, res = m.get("Name"), m.get("Unit", "None"), m.get("StorageResolution", 60)
        if type(name) is not str or not 0 < len(name) <= 1024:
            return None
        if unit not in STANDARD_UNITS or type(res) is not int or res not in (1, 60):
            return None
        descs.append((ns, name, unit, res))
    return ns, tuple(keysets), tuple(d[1] for d in descs), batch.slot(tuple(descs))
