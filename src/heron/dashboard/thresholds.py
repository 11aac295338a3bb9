"""The seed's thresholds and the tile colour decisions built on them (pure functions).

Until alarms drive the tiles, each tile's colour comes from its headline numbers over the last
five minutes: red when a number is past the seed's threshold, amber when it is within
``WARN_FRACTION`` of it (or a count the seed alarms on is above zero), green otherwise, grey
when the resource had no traffic at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

#: A number at or above this share of its threshold turns a tile amber.
WARN_FRACTION = 0.8

# --- the seed's thresholds ("Monitoring Metrics" and "CloudWatch Alarms") -----------------
LAMBDA_ERROR_RATE_PCT = 1.0
LAMBDA_DURATION_MS = 25_000.0
LAMBDA_MEMORY_PCT = 80.0
LAMBDA_CONCURRENCY_PCT = 80.0
LAMBDA_COLD_START_RATE_PCT = 20.0
API_ERROR_RATE_PCT = 5.0
API_LATENCY_MS = 1_000.0
API_REQUESTS_PER_S = 1_000.0
WS_CONNECTIONS = 10_000.0
WS_MESSAGE_LATENCY_MS = 100.0
WS_CONNECTION_ERRORS_5MIN = 10.0
TABLE_LATENCY_MS = 100.0
TABLE_ERROR_RATE_PCT = 1.0
TABLE_CAPACITY_PCT = 80.0


class Level(StrEnum):
    """A tile's colour, ordered from best to worst by ``rank``."""

    IDLE = "idle"
    OK = "ok"
    WARN = "warn"
    ALARM = "alarm"

    @property
    def rank(self) -> int:
        """Severity order: idle < ok < warn < alarm."""
        return _RANK[self]


_RANK = {Level.IDLE: 0, Level.OK: 1, Level.WARN: 2, Level.ALARM: 3}


@dataclass(frozen=True, slots=True)
class Check:
    """One headline number held against a threshold, with the level it earned and why."""

    name: str
    value: float | None
    threshold: float
    level: Level

    def reason(self) -> str:
        """A short human explanation, e.g. ``error rate 2.5 > 1``."""
        if self.value is None:
            return f"{self.name}: no data"
        if self.level is Level.ALARM:
            return f"{self.name} {self.value:.4g} > {self.threshold:g}"
        return f"{self.name} {self.value:.4g}, near {self.threshold:g}"


def level_for(
    value: float | None, threshold: float, *, warn_fraction: float = WARN_FRACTION
) -> Level:
    """Red past the threshold, amber from ``warn_fraction`` of it, green below, idle without data."""
    if value is None:
        return Level.IDLE
    if value > threshold:
        return Level.ALARM
    if value >= threshold * warn_fraction:
        return Level.WARN
    return Level.OK


def check(name: str, value: float | None, threshold: float) -> Check:
    """A ``Check`` of ``value`` against ``threshold``."""
    return Check(name, value, threshold, level_for(value, threshold))


def worst(checks: Iterable[Check], *, active: bool) -> Level:
    """The tile's level: the worst check, or idle when the resource saw no traffic."""
    if not active:
        return Level.IDLE
    level = Level.OK
    for c in checks:
        if c.level.rank > level.rank:
            level = c.level
    return level


def _pct(part: float | None, whole: float | None) -> float | None:
    if not whole:
        return None
    return 100.0 * (part or 0.0) / whole


def function_checks(n: Mapping[str, float | None], concurrency_limit: int) -> list[Check]:
    """A function's checks: error rate, p99 duration, memory and concurrency (seed thresholds).

    ``n`` holds ``invocations``, ``errors``, ``p99`` (ms), ``memory`` (percent of allocated) and
    ``concurrency`` (peak concurrent executions) over the window.
    """
    checks = [
        check("error rate %", _pct(n.get("errors"), n.get("invocations")), LAMBDA_ERROR_RATE_PCT),
        check("p99 duration ms", n.get("p99"), LAMBDA_DURATION_MS),
        check("memory %", n.get("memory"), LAMBDA_MEMORY_PCT),
    ]
    if concurrency_limit > 0:
        share = _pct(n.get("concurrency"), float(concurrency_limit))
        checks.append(check("concurrency % of limit", share, LAMBDA_CONCURRENCY_PCT))
    if (n.get("errors") or 0) > 0 and checks[0].level is Level.OK:
        # The seed's LambdaErrors alarm fires on any error; below the 1 % rate that is a warning.
        checks[0] = Check(checks[0].name, checks[0].value, checks[0].threshold, Level.WARN)
    return checks


def http_api_checks(n: Mapping[str, float | None], window_s: float) -> list[Check]:
    """The HTTP API's checks: 5xx rate, average latency and request rate (seed thresholds).

    ``n`` holds ``requests``, ``5xx`` and ``latency`` (average ms) over a ``window_s`` window.
    """
    rate = (n.get("requests") or 0.0) / window_s if window_s > 0 else None
    return [
        check("5xx rate %", _pct(n.get("5xx"), n.get("requests")), API_ERROR_RATE_PCT),
        check("latency ms", n.get("latency"), API_LATENCY_MS),
        check("requests/s", rate, API_REQUESTS_PER_S),
    ]


def websocket_api_checks(n: Mapping[str, float | None]) -> list[Check]:
    """The WebSocket API's checks: connections, message latency p99 and connection errors.

    ``n`` holds ``connections`` (peak active), ``latency`` (p99 message latency, ms) and
    ``errors`` (connection errors in the five-minute window, the seed's WebSocketErrors alarm).
    """
    errors = check("connection errors", n.get("errors"), WS_CONNECTION_ERRORS_5MIN)
    if (n.get("errors") or 0) > 0 and errors.level is Level.OK:
        errors = Check(errors.name, errors.value, errors.threshold, Level.WARN)
    return [
        check("active connections", n.get("connections"), WS_CONNECTIONS),
        check("message latency ms", n.get("latency"), WS_MESSAGE_LATENCY_MS),
        errors,
    ]


def table_checks(n: Mapping[str, float | None]) -> list[Check]:
    """A table's checks: request latency and error rate (throttles + system errors).

    ``n`` holds ``latency`` (the slowest operation's average, ms), ``requests`` and ``errors``.
    """
    return [
        check("latency ms", n.get("latency"), TABLE_LATENCY_MS),
        check("error rate %", _pct(n.get("errors"), n.get("requests")), TABLE_ERROR_RATE_PCT),
    ]
