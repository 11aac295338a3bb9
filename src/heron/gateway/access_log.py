"""Access-log records in the seed's shapes, one JSON line per HTTP request or WebSocket event.

HTTP (group ``/aws/apigateway/local-http/access`` by default)::

    {"requestId", "ip", "caller", "requestTime", "httpMethod", "resourcePath", "status",
     "protocol", "responseLength", "integrationError"}

``caller`` is the authorizer context's ``userId`` (or ``"-"``), ``resourcePath`` the matched
route's path template (``"-"`` when no route matched), ``integrationError`` null or the reason
API Gateway would put in ``$context.integrationErrorMessage``.

WebSocket (group ``/aws/apigateway/local-ws/access`` by default)::

    {"requestId", "connectionId", "eventType", "timestamp", "status", "latency"}
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from heron.gateway.formats import clf_time, iso_time
from heron.types import LogEvent

# CLF has whole seconds, and under load many requests share one: format each second once.
_clf_second = lru_cache(maxsize=8)(clf_time)


def http_access_record(
    *,
    request_id: str,
    ip: str,
    caller: str | None,
    time_s: float,
    method: str,
    resource_path: str | None,
    status: int,
    protocol: str,
    response_length: int,
    integration_error: str | None,
) -> dict[str, Any]:
    """One HTTP access-log record in the seed's field order."""
    return {
        "requestId": request_id,
        "ip": ip,
        "caller": caller or "-",
        "requestTime": _clf_second(int(time_s)),
        "httpMethod": method,
        "resourcePath": resource_path or "-",
        "status": status,
        "protocol": protocol,
        "responseLength": response_length,
        "integrationError": integration_error,
    }


def ws_access_record(
    *,
    request_id: str,
    connection_id: str,
    event_type: str,
    time_s: float,
    status: int,
    latency_ms: float,
) -> dict[str, Any]:
    """One WebSocket access-log record (CONNECT, MESSAGE or DISCONNECT) in the seed's shape."""
    return {
        "requestId": request_id,
        "connectionId": connection_id,
        "eventType": event_type,
        "timestamp": iso_time(time_s),
        "status": status,
        "latency": round(latency_ms),
    }


def to_log_event(group: str, stream: str, time_s: float, record: dict[str, Any]) -> LogEvent:
    """Serialise a record as one JSON line bound for ``group``/``stream``."""
    return LogEvent(group, stream, int(time_s * 1000), orjson.dumps(record).decode())
