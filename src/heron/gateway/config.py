"""The gateway's settings: API ids, stages, AWS limits and local switches, with AWS's defaults."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from heron.errors import ConfigError

KIB = 1024
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Everything the gateway needs to know besides the functions; defaults are AWS's quotas.

    Identity:
        ``http_api_id`` / ``ws_api_id``: the ``apiId`` in events, metrics and logs.
        ``http_stage``: ``"$default"`` (no path prefix) or a named stage that prefixes every path.
        ``ws_stage``: the WebSocket stage name (WebSocket APIs have no ``$default`` stage).
        ``account_id`` / ``region``: used in ``accountId`` and authorizer ``routeArn``.
        ``domain_name``: the ``domainName`` in events; ``None`` takes the request's Host header.
    HTTP API limits:
        ``throttle_rate`` / ``throttle_burst``: the stage's token bucket (requests/s, bucket size).
        ``http_integration_timeout_s``: 30 s on AWS; past it the client gets 503.
        ``payload_limit_bytes``: 10 MB request body; over it the client gets 413.
        ``header_limit_bytes``: 10,240 bytes of request line plus headers; over it, 431.
    Lambda authorizer (HTTP routes of functions declared ``authorized``):
        ``authorizer_function``: the function to call; ``authorizer_cache_ttl_s``: result caching
        per identity-source value (0 disables); ``authorizer_cache_size``: entries kept at most;
        ``authorizer_timeout_s``: AWS allows an authorizer 10 s.
    WebSocket API:
        ``ws_path``: where clients connect; ``ws_integration_timeout_s``: 29 s on AWS.
        ``ws_frame_limit_bytes`` (32 KB) and ``ws_message_limit_bytes`` (128 KB): over them the
        socket is closed with 1009. ``ws_idle_timeout_s`` (10 min) and ``ws_max_connection_s``
        (2 h): past them the socket is closed with 1001 "Going away".
        ``ws_new_connections_per_s``: account-wide rate of new connections (500/s); over it, 429.
        ``drop_disconnect_events``: never invoke ``$disconnect`` (AWS only tries its best), so
        tests can exercise GoneException (410) cleanup.
    @connections API:
        ``management_key``: the shared secret requests must carry in ``x-heron-management-key``
        (a fresh random key unless given).
    Fault injection:
        ``fault_injection``: honour the ``x-heron-inject-latency-ms`` request header (as sent by
        ``heron load --inject-latency-ms``) by delaying the integration, at most 10 s. Off by
        default, since a header that slows the server is a denial-of-service aid.
    Telemetry:
        ``http_access_log_group`` / ``ws_access_log_group``: CloudWatch Logs groups for access logs.
        ``http_detailed_metrics``: also emit route-level HTTP metrics (ApiId, Method, Resource,
        Stage), off by default as on AWS. ``ws_detailed_metrics``: route-level WebSocket metrics
        (ApiId, Stage, Route). ``telemetry_flush_interval_s``: how often buffered records go to
        the sink. ``gauge_interval_s``: how often ActiveConnections is re-emitted when unchanged.
    """

    http_api_id: str = "local-http"
    ws_api_id: str = "local-ws"
    http_stage: str = "$default"
    ws_stage: str = "local"
    account_id: str = "000000000000"
    region: str = "us-east-1"
    domain_name: str | None = None

    throttle_rate: float = 1000.0
    throttle_burst: int = 2000
    http_integration_timeout_s: float = 30.0
    payload_limit_bytes: int = 10 * MIB
    header_limit_bytes: int = 10_240

    authorizer_function: str = "authorizer"
    authorizer_cache_ttl_s: float = 300.0
    authorizer_cache_size: int = 10_000
    authorizer_timeout_s: float = 10.0

    ws_path: str = "/ws"
    ws_integration_timeout_s: float = 29.0
    ws_frame_limit_bytes: int = 32 * KIB
    ws_message_limit_bytes: int = 128 * KIB
    ws_idle_timeout_s: float = 600.0
    ws_max_connection_s: float = 7200.0
    ws_new_connections_per_s: float = 500.0
    drop_disconnect_events: bool = False

    fault_injection: bool = False

    management_key: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    http_access_log_group: str = "/aws/apigateway/local-http/access"
    ws_access_log_group: str = "/aws/apigateway/local-ws/access"
    http_detailed_metrics: bool = False
    ws_detailed_metrics: bool = True
    telemetry_flush_interval_s: float = 0.25
    gauge_interval_s: float = 60.0

    def __post_init__(self) -> None:
        positive = {
            "throttle_rate": self.throttle_rate,
            "throttle_burst": self.throttle_burst,
            "http_integration_timeout_s": self.http_integration_timeout_s,
            "payload_limit_bytes": self.payload_limit_bytes,
            "header_limit_bytes": self.header_limit_bytes,
            "authorizer_timeout_s": self.authorizer_timeout_s,
            "ws_integration_timeout_s": self.ws_integration_timeout_s,
            "ws_frame_limit_bytes": self.ws_frame_limit_bytes,
            "ws_message_limit_bytes": self.ws_message_limit_bytes,
            "ws_idle_timeout_s": self.ws_idle_timeout_s,
            "ws_max_connection_s": self.ws_max_connection_s,
            "ws_new_connections_per_s": self.ws_new_connections_per_s,
            "telemetry_flush_interval_s": self.telemetry_flush_interval_s,
            "gauge_interval_s": self.gauge_interval_s,
            "authorizer_cache_size": self.authorizer_cache_size,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"gateway setting {name} must be positive, got {value!r}")
        if self.authorizer_cache_ttl_s < 0:
            raise ConfigError("gateway setting authorizer_cache_ttl_s must not be negative")
        if not self.ws_path.startswith("/"):
            raise ConfigError(f"gateway setting ws_path must start with '/', got {self.ws_path!r}")
        if not self.management_key:
            raise ConfigError("gateway setting management_key must not be empty")
        for name, stage in (("http_stage", self.http_stage), ("ws_stage", self.ws_stage)):
            if not stage or "/" in stage:
                raise ConfigError(f"gateway setting {name} must be a non-empty name without '/'")
        if self.ws_stage == "$default":
            raise ConfigError("WebSocket APIs have no $default stage; name ws_stage")

    @property
    def http_path_prefix(self) -> str:
        """The path prefix a named HTTP stage adds (``"/prod"``); empty for ``$default``."""
        return "" if self.http_stage == "$default" else f"/{self.http_stage}"
