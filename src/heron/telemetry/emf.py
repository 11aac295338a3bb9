"""CloudWatch Embedded Metric Format (EMF): buffer metrics in a handler, print one JSON line per flush.

A flushed line looks like what CloudWatch extracts metrics from::

    {"_aws": {"Timestamp": 1793873702000,
              "CloudWatchMetrics": [{"Namespace": "Heron",
                                     "Dimensions": [["FunctionName"]],
                                     "Metrics": [{"Name": "MessagesSent", "Unit": "Count"}]}]},
     "FunctionName": "sendMessage", "MessagesSent": 1}

Everything is validated when it is added (not when flushed), so a bad metric fails at the line
that added it, and a flushed document is always one CloudWatch accepts.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from heron.types import Clock

#: CloudWatch's StandardUnit values; EMF rejects any other unit.
STANDARD_UNITS: frozenset[str] = frozenset(
    {
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    }
)
#: Most metric definitions one EMF directive may carry.
MAX_METRICS = 100
#: Most dimension keys one dimension set may carry.
MAX_DIMENSIONS = 30
#: Most values one metric may carry as an array in one document.
MAX_VALUES_PER_METRIC = 100
#: The namespace Heron's own application metrics live in.
HERON_NAMESPACE = "Heron"

_RESERVED_KEYS = frozenset({"_aws"})


class EmfValidationError(ValueError):
    """A metric, dimension, unit or namespace that CloudWatch would reject; nothing was added."""


def validate_namespace(namespace: str) -> str:
    """Return ``namespace`` if CloudWatch accepts it as a custom namespace, else raise."""
    if not isinstance(namespace, str) or not 1 <= len(namespace) <= 255:
        raise EmfValidationError("namespace must be a string of 1-255 characters")
    if not namespace.isascii() or namespace.startswith(":"):
        raise EmfValidationError(f"namespace {namespace!r} must be ASCII and not start with ':'")
    if namespace.startswith("AWS/"):
        raise EmfValidationError(f"namespace {namespace!r}: AWS/ is reserved for AWS services")
    return namespace


def validate_unit(unit: str) -> str:
    """Return ``unit`` if it is one of CloudWatch's standard units, else raise."""
    if unit not in STANDARD_UNITS:
        raise EmfValidationError(f"unit {unit!r} is not a CloudWatch unit")
    return unit


def _validate_key(kind: str, name: str, limit: int) -> None:
    if not isinstance(name, str) or not 1 <= len(name) <= limit:
        raise EmfValidationError(f"{kind} name must be a string of 1-{limit} characters")
    if not name.isascii() or name.startswith(":"):
        raise EmfValidationError(f"{kind} name {name!r} must be ASCII and not start with ':'")
    if name in _RESERVED_KEYS:
        raise EmfValidationError(f"{kind} name {name!r} is reserved")


def _validate_value(name: str, value: float) -> float:
    # bool is an int subclass; a True "value" is almost always a bug at the call site.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EmfValidationError(f"metric {name!r} value must be a number, got {value!r}")
    if not math.isfinite(value):
        raise EmfValidationError(f"metric {name!r} value must be finite, got {value!r}")
    return value


class MetricsWriter:
    """Buffers metrics for one namespace and dimension set; ``flush`` prints one EMF line.

    Example::

        metrics = MetricsWriter("Heron", dimensions={"FunctionName": "sendMessage"})
        metrics.add_metric("MessagesSent", "Count", 1)
        metrics.flush()
    """

    def __init__(
        self,
        namespace: str = HERON_NAMESPACE,
        *,
        dimensions: Mapping[str, str] | None = None,
        include_aggregate: bool = False,
        stream: TextIO | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.namespace = validate_namespace(namespace)
        self._dimensions: dict[str, str] = {}
        self._metrics: dict[str, tuple[str, int, list[float]]] = {}
        self._metadata: dict[str, Any] = {}
        self._include_aggregate = include_aggregate
        self._stream = stream
        self._clock = clock
        for name, value in (dimensions or {}).items():
            self.add_dimension(name, value)

    @property
    def metric_count(self) -> int:
        """How many distinct metrics are buffered."""
        return len(self._metrics)

    def add_dimension(self, name: str, value: str) -> None:
        """Add a dimension (kept across flushes, like Powertools' default dimensions)."""
        _validate_key("dimension", name, 250)
        if not isinstance(value, str) or not 1 <= len(value) <= 1024:
            raise EmfValidationError(f"dimension {name!r} value must be a string of 1-1024 chars")
        if name in self._metrics or name in self._metadata:
            raise EmfValidationError(f"dimension {name!r} clashes with a metric or metadata key")
        if name not in self._dimensions and len(self._dimensions) >= MAX_DIMENSIONS:
            raise EmfValidationError(f"at most {MAX_DIMENSIONS} dimensions per dimension set")
        self._dimensions[name] = value

    def add_metadata(self, key: str, value: Any) -> None:
        """Add a top-level key that is searchable in logs but not a metric or dimension."""
        _validate_key("metadata", key, 1024)
        if key in self._metrics or key in self._dimensions:
            raise EmfValidationError(f"metadata {key!r} clashes with a metric or dimension")
        self._metadata[key] = value

    def add_metric(self, name: str, unit: str, value: float, *, resolution: int = 60) -> None:
        """Add one value of a metric; a 101st distinct metric flushes the first hundred first."""
        _validate_key("metric", name, 255)
        validate_unit(unit)
        _validate_value(name, value)
        if resolution not in (1, 60):
            raise EmfValidationError(f"metric {name!r} resolution must be 1 or 60")
        if name in self._dimensions or name in self._metadata:
            raise EmfValidationError(f"metric {name!r} clashes with a dimension or metadata key")
        existing = self._metrics.get(name)
        if existing is not None:
            if (existing[0], existing[1]) != (unit, resolution):
                raise EmfValidationError(
                    f"metric {name!r} was added as {existing[0]}/{existing[1]}s, "
                    f"not {unit}/{resolution}s"
                )
            if len(existing[2]) >= MAX_VALUES_PER_METRIC:
                self.flush()
                self._metrics[name] = (unit, resolution, [value])
                return
            existing[2].append(value)
            return
        if len(self._metrics) >= MAX_METRICS:
            self.flush()
        self._metrics[name] = (unit, resolution, [value])

    def serialize(self, timestamp_ms: int | None = None) -> dict[str, Any]:
        """Return the EMF document for what is buffered (raises when nothing is)."""
        if not self._metrics:
            raise EmfValidationError("no metrics to serialize")
        dimension_sets: list[list[str]] = [list(self._dimensions)]
        if self._include_aggregate and self._dimensions:
            dimension_sets.append([])
        definitions: list[dict[str, Any]] = []
        document: dict[str, Any] = {}
        for name, (unit, resolution, values) in self._metrics.items():
            definition: dict[str, Any] = {"Name": name, "Unit": unit}
            # Standard resolution is the default, so like Powertools we leave it out.
            if resolution == 1:
                definition["StorageResolution"] = 1
            definitions.append(definition)
            document[name] = values[0] if len(values) == 1 else list(values)
        stamp = int(self._clock() * 1000) if timestamp_ms is None else timestamp_ms
        return {
            "_aws": {
                "Timestamp": stamp,
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": dimension_sets,
                        "Metrics": definitions,
                    }
                ],
            },
            **self._dimensions,
            **self._metadata,
            **document,
        }

    def flush(self) -> dict[str, Any] | None:
        """Print the buffered metrics as one JSON line and clear them; None when there were none."""
        if not self._metrics:
            return None
        document = self.serialize()
        line = json.dumps(document, separators=(",", ":"), default=str)
        # Resolve stdout at write time so a runtime (or pytest) that swaps sys.stdout sees the line.
        stream = self._stream if self._stream is not None else sys.stdout
        stream.write(line + "\n")
        stream.flush()
        self._metrics.clear()
        self._metadata.clear()
        return document

    def clear(self) -> None:
        """Drop buffered metrics and metadata without printing them."""
        self._metrics.clear()
        self._metadata.clear()


def is_emf_document(document: Mapping[str, Any]) -> bool:
    """Whether ``document`` has the shape CloudWatch treats as EMF (a root ``_aws`` directive)."""
    aws = document.get("_aws")
    return isinstance(aws, Mapping) and isinstance(aws.get("CloudWatchMetrics"), Sequence)
