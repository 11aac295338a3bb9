"""The shared vocabulary every layer of Heron speaks: events, items, log events, datums, clocks.

Nothing here imports from the rest of the package; everything else may import from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: A Lambda event (API Gateway HTTP API v2.0 or WebSocket shape) as a plain JSON object.
Event = dict[str, Any]
#: A table item: a JSON-compatible mapping of attribute names to values.
Item = dict[str, Any]
#: A table key: the partition key attribute and, for tables with one, the sort key attribute.
Key = dict[str, Any]
#: A function returning the current time in seconds since the epoch; injected so tests control time.
Clock = Callable[[], float]
#: Metric dimensions as sorted (name, value) pairs, so equal dimension sets compare and hash equal.
Dimensions = tuple[tuple[str, str], ...]


# Not frozen: about five are built per request on the event loop, and a frozen dataclass takes
# 3.6 times as long to construct (0.56 against 0.15 µs). Nothing changes one once it is made.
@dataclass(slots=True)
class LogEvent:
    """One log line bound for a CloudWatch Logs group and stream (treat it as immutable)."""

    group: str
    stream: str
    timestamp_ms: int
    message: str


@dataclass(frozen=True, slots=True)
class MetricDatum:
    """One CloudWatch metric datapoint: namespace, name, dimensions, value, unit and time."""

    namespace: str
    name: str
    value: float
    unit: str = "None"
    dimensions: Dimensions = ()
    timestamp_ms: int = 0
    storage_resolution: int = 60

    @staticmethod
    def dims(mapping: Mapping[str, str]) -> Dimensions:
        """Turn a dimension mapping into the canonical sorted tuple form."""
        return tuple(sorted((str(k), str(v)) for k, v in mapping.items()))


@dataclass(frozen=True, slots=True)
class Sample:
    """One CloudWatch datum: a single value, a Values/Counts array, or a statistic set.

    ``values`` holds one value for a plain ``Value``; ``counts`` is empty when every value counts
    once; ``statistic_set`` is (SampleCount, Sum, Minimum, Maximum) and then ``values`` is empty.
    """

    namespace: str
    name: str
    dimensions: Dimensions
    timestamp_ms: int
    values: tuple[float, ...] = ()
    counts: tuple[float, ...] = ()
    statistic_set: tuple[float, float, float, float] | None = None
    unit: str = "None"
    storage_resolution: int = 60


class TelemetrySink(Protocol):
    """Where the application side sends its telemetry: the one contract with the monitor."""

    def put_log_events(self, events: Sequence[LogEvent]) -> None:
        """Accept log events (durable once ``flush`` returns; sinks group-commit in the background)."""

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        """Accept metric datums (durable once ``flush`` returns)."""

    def put_samples(self, samples: Sequence[Sample]) -> None:
        """Accept aggregated samples (e.g. one Values/Counts array per series and second)."""

    def flush(self) -> None:
        """Make everything accepted so far durable."""

    def close(self) -> None:
        """Flush and release resources."""


@dataclass(frozen=True, slots=True)
class FunctionSpec:
    """A Lambda function as declared in configuration: code, sizing and the routes it serves.

    ``http_routes`` are HTTP API route keys such as ``"GET /users/{userId}"``; ``ws_routes`` are
    WebSocket route keys such as ``"$connect"`` or ``"sendMessage"``. ``authorized`` says whether
    the HTTP routes sit behind the Lambda authorizer.
    """

    name: str
    handler: str
    memory_mb: int = 128
    timeout_s: float = 3.0
    reserved_concurrency: int | None = None
    provisioned_concurrency: int = 0
    http_routes: tuple[str, ...] = ()
    ws_routes: tuple[str, ...] = ()
    authorized: bool = True
    environment: tuple[tuple[str, str], ...] = field(default=())
