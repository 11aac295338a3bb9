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
"""

from __future__ import annotations

from functools import lru_cache

from heron.types import Dimensions, MetricDatum

NAMESPACE = "AWS/ApiGateway"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
BYTES = "Bytes"


@lru_cache(maxsize=4096)
def _http_dims(
    api_id: str, stage: str, method: str, resource: str, detailed: bool
) -> tuple[Dimensions, ...]:
    dims = [
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


@lru_cache(maxsize=4096)
def _ws_dims(api_id: str, stage: str, route: str | None, detailed: bool) -> tuple[Dimensions, ...]:
    dims = [
        MetricDatum.dims({"ApiId": api_id}),
        MetricDatum.dims({"ApiId": api_id, "Stage": stage}),
    ]
    if detailed and route is not None:
        dims.append(MetricDatum.dims({"ApiId": api_id, "Route": route, "Stage": stage}))
    return tuple(dims)


def http_request_datums(
    *,
    api_id: str,
    stage: str,
    method: str,
    resource: str,
    status: int,
    latency_ms: float,
    integration_latency_ms: float | None,
    data_processed: int,
    throttled: bool,
    time_ms: int,
    detailed: bool = False,
) -> list[MetricDatum]:
    """All datums one HTTP request produces."""
    is4 = 1.0 if 400 <= status < 500 else 0.0
    is5 = 1.0 if status >= 500 else 0.0
    values: list[tuple[str, float, str]] = [
        ("Count", 1.0, COUNT),
        ("4xx", is4, COUNT),
        ("5xx", is5, COUNT),
        ("4XXError", is4, COUNT),
        ("5XXError", is5, COUNT),
        ("Latency", latency_ms, MILLISECONDS),
        ("DataProcessed", float(data_processed), BYTES),
        ("ThrottledRequests", 1.0 if throttled else 0.0, COUNT),
    ]
    if integration_latency_ms is not None:
        values.append(("IntegrationLatency", integration_latency_ms, MILLISECONDS))
    return [
        MetricDatum(NAMESPACE, name, value, unit, dims, time_ms)
        for dims in _http_dims(api_id, stage, method, resource or "-", detailed)
        for name, value, unit in values
    ]


def ws_datums(
    values: list[tuple[str, float]],
    *,
    api_id: str,
    stage: str,
    route: str | None,
    time_ms: int,
    detailed: bool = True,
) -> list[MetricDatum]:
    """Datums for one WebSocket event: ``values`` are (metric name, value) pairs."""
    return [
        MetricDatum(
            NAMESPACE,
            name,
            value,
            MILLISECONDS if name == "IntegrationLatency" else COUNT,
            dims,
            time_ms,
        )
        for dims in _ws_dims(api_id, stage, route, detailed)
        for name, value in values
    ]


def active_connections_datums(
    api_id: str, stage: str, count: int, time_ms: int
) -> list[MetricDatum]:
    """The Heron-local ``ActiveConnections`` gauge (AWS does not publish it)."""
    return [
        MetricDatum(NAMESPACE, "ActiveConnections", float(count), COUNT, dims, time_ms)
        for dims in _ws_dims(api_id, stage, None, False)
    ]
