"""API Gateway metrics (namespace ``AWS/ApiGateway``) for the HTTP and WebSocket APIs.

HTTP API, per request, with dimensions ``ApiId`` and ``ApiId, Stage`` (plus ``ApiId, Method,
Resource, Stage`` when detailed metrics are on): ``Count``, ``4xx``, ``5xx``, ``Latency``,
``IntegrationLatency`` (only when the integration was called) and ``DataProcessed``. Error metrics
are 0/1 samples, so Sum counts errors and Average is the error rate.

Also emitted although AWS does not publish them for HTTP APIs, so the seed's alarms work verbatim:
``4XXError`` and ``5XXError`` (REST API names; the seed's ``APIGateway5xxErrors`` alarm watches
``5XXError``) and ``ThrottledRequests`` (Heron-local, 1 for each request the stage throttled).

WebSocket API, with dimensions ``ApiId``, ``ApiId, Stage`` and ``ApiId, Stage, Route``:
``ConnectCount``, ``MessageCount``, ``IntegrationError``, ``ClientError``, ``ExecutionError``,
``IntegrationLatency`` as AWS documents them, plus Heron-local ones AWS does not publish:
``ConnectionErrors`` (rejected or failed connects; the seed's ``WebSocketErrors`` alarm watches
it), ``DisconnectCount`` and the ``ActiveConnections`` gauge (``ApiId`` and ``ApiId, Stage`` only).

Values go into a ``MetricAggregator`` (aggregated per series and second); the layouts — which
series under which dimension sets — are registered once per API, method/resource or route.
"""

from __future__ import annotations

from collections.abc import Iterable

from heron.telemetry.aggregator import MetricAggregator, Row, SeriesKey
from heron.types import Dimensions, MetricDatum

NAMESPACE = "AWS/ApiGateway"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
BYTES = "Bytes"

#: The HTTP API's per-request metrics and units, in the column order of ``http_row``.
HTTP_METRICS: tuple[tuple[str, str], ...] = (
    ("Count", COUNT),
    ("4xx", COUNT),
    ("5xx", COUNT),
    ("4XXError", COUNT),
    ("5XXError", COUNT),
    ("Latency", MILLISECONDS),
    ("DataProcessed", BYTES),
    ("ThrottledRequests", COUNT),
    ("IntegrationLatency", MILLISECONDS),
)


def http_dimension_sets(
    api_id: str, stage: str, method: str, resource: str, detailed: bool
) -> tuple[Dimensions, ...]:
    """The dimension sets every HTTP API metric is published under.

    The empty set (all APIs together) is Heron-local: AWS always sets ApiId, but the seed's alarms
    name no dimensions, and an alarm must watch a series that exists to ever fire.
    """
    dims: list[Dimensions] = [
        (),
        MetricDatum.dims({"ApiId": api_id}),
        MetricDatum.dims({"ApiId": api_id, "Stage": stage}),
    ]
    if detailed:
        dims.append(
            MetricDatum.dims(
                {"ApiId": api_id, "Method": method, "Resource": resource, "Stage": stage}
            )
        )
    return tuple(dims)


def ws_dimension_sets(
    api_id: str, stage: str, route: str | None, detailed: bool
) -> tuple[Dimensions, ...]:
    """The dimension sets a WebSocket API metric is published under (per route when detailed).

    As for HTTP, the empty set is Heron-local so the seed's dimensionless WebSocketErrors alarm
    watches real data.
    """
    dims: list[Dimensions] = [
        (),
        MetricDatum.dims({"ApiId": api_id}),
        MetricDatum.dims({"ApiId": api_id, "Stage": stage}),
    ]
    if detailed and route is not None:
        dims.append(MetricDatum.dims({"ApiId": api_id, "Route": route, "Stage": stage}))
    return tuple(dims)


def http_row(
    status: int,
    latency_ms: float,
    integration_latency_ms: float | None,
    data_processed: int,
    throttled: bool,
) -> Row:
    """One HTTP request's metric values in ``HTTP_METRICS`` order (None: not integrated)."""
    is4 = 1.0 if 400 <= status < 500 else 0.0
    is5 = 1.0 if status >= 500 else 0.0
    return (
        1.0,
        is4,
        is5,
        is4,
        is5,
        latency_ms,
        float(data_processed),
        1.0 if throttled else 0.0,
        integration_latency_ms,
    )


def ws_unit(name: str) -> str:
    """The unit of a WebSocket API metric."""
    return MILLISECONDS if name == "IntegrationLatency" else COUNT


class HttpMetrics:
    """Records HTTP API request metrics into an aggregator; one row per request."""

    __slots__ = ("_aggregator", "_api_id", "_detailed", "_layouts", "_stage")

    def __init__(
        self, aggregator: MetricAggregator, api_id: str, stage: str, *, detailed: bool = False
    ) -> None:
        self._aggregator = aggregator
        self._api_id = api_id
        self._stage = stage
        self._detailed = detailed
        self._layouts: dict[tuple[str, str], int] = {}

    def _layout(self, method: str, resource: str) -> int:
        key = (method, resource) if self._detailed else ("", "")
        found = self._layouts.get(key)
        if found is None:
            dims = http_dimension_sets(self._api_id, self._stage, method, resource, self._detailed)
            columns = [
                tuple((NAMESPACE, name, d, unit, 60) for d in dims) for name, unit in HTTP_METRICS
            ]
            found = self._layouts[key] = self._aggregator.layout(columns)
        return found

    def record(
        self,
        *,
        method: str,
        resource: str,
        status: int,
        latency_ms: float,
        integration_latency_ms: float | None,
        data_processed: int,
        throttled: bool,
        at: float,
    ) -> None:
        """Add one request's metrics in the second of ``at`` (epoch seconds)."""
        row = http_row(status, latency_ms, integration_latency_ms, data_processed, throttled)
        self._aggregator.add_row(self._layout(method, resource or "-"), row, at)


class WebSocketMetrics:
    """Records WebSocket API metrics into an aggregator; layouts cached per (metric, route)."""

    __slots__ = ("_aggregator", "_api_id", "_detailed", "_layouts", "_stage")

    def __init__(
        self, aggregator: MetricAggregator, api_id: str, stage: str, *, detailed: bool = True
    ) -> None:
        self._aggregator = aggregator
        self._api_id = api_id
        self._stage = stage
        self._detailed = detailed
        self._layouts: dict[tuple[str, str | None], int] = {}

    def _layout(self, name: str, route: str | None) -> int:
        found = self._layouts.get((name, route))
        if found is None:
            dims = ws_dimension_sets(self._api_id, self._stage, route, self._detailed)
            keys: list[SeriesKey] = [(NAMESPACE, name, d, ws_unit(name), 60) for d in dims]
            found = self._layouts[(name, route)] = self._aggregator.series(*keys)
        return found

    def record(self, route: str | None, values: Iterable[tuple[str, float]], at: float) -> None:
        """Add (metric name, value) pairs for one WebSocket event on ``route`` (None: unrouted)."""
        add = self._aggregator.add_value
        for name, value in values:
            add(self._layout(name, route), value, at)

    def active_connections(self, count: int, at: float) -> None:
        """The Heron-local ``ActiveConnections`` gauge (AWS does not publish it)."""
        # Route None: published under ApiId and ApiId, Stage only, however detailed the stage.
        self._aggregator.add_value(self._layout("ActiveConnections", None), float(count), at)
