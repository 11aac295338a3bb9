"""The overview's status tiles: each resource's headline numbers and colour over the last minutes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from heron.dashboard import thresholds as th
from heron.dashboard.layout import (
    APIGW,
    DDB,
    HERON,
    DashboardConfig,
    api_dims,
    fn_dims,
    lam,
    table_dims,
    table_query,
)
from heron.dashboard.queries import Evaluator, Query, Series, make_grid, rounded

#: The tiles look at this much recent data (the seed's alarms use five-minute periods).
TILE_WINDOW_S = 300

Numbers = dict[str, float | None]


@dataclass(frozen=True, slots=True)
class Headline:
    """One number a tile computes; ``shown`` ones are displayed, the rest only colour it."""

    key: str
    label: str
    unit: str
    series: Series
    shown: bool = True


@dataclass(frozen=True, slots=True)
class TileSpec:
    """A resource tile: its headlines and the pure function that turns them into checks."""

    id: str
    kind: str
    name: str
    headlines: tuple[Headline, ...]
    checks: Callable[[Numbers], list[th.Check]]
    activity: str  # the headline whose presence means the resource saw traffic


def _one(q: Query) -> Series:
    return Series("", (q,))


def _table(name: str, table: str) -> Query:
    return Query(DDB, name, table_dims(table), "Sum")


def tile_specs(config: DashboardConfig) -> list[TileSpec]:
    """The twelve tiles: six functions, the two APIs, the four tables."""
    specs: list[TileSpec] = []
    limit = config.account_concurrency
    for f in config.functions:
        n = f.name
        specs.append(
            TileSpec(
                f"function:{n}",
                "function",
                n,
                (
                    Headline("invocations", "invocations", "", _one(lam("Invocations", n, "Sum"))),
                    Headline("errors", "errors", "", _one(lam("Errors", n, "Sum"))),
                    Headline("p99", "p99 duration", "ms", _one(lam("Duration", n, "p99"))),
                    Headline("memory", "memory", "%", _one(lam("MemoryUsed", n, "Maximum")), False),
                    Headline(
                        "concurrency",
                        "concurrency",
                        "",
                        _one(lam("ConcurrentExecutions", n, "Maximum")),
                        False,
                    ),
                ),
                partial(th.function_checks, concurrency_limit=limit),
                "invocations",
            )
        )
    http, ws = api_dims(config.http_api_id), api_dims(config.ws_api_id)
    specs.append(
        TileSpec(
            "api:http",
            "http",
            "HTTP API",
            (
                Headline("requests", "requests", "", _one(Query(APIGW, "Count", http, "Sum"))),
                Headline("5xx", "5xx", "", _one(Query(APIGW, "5xx", http, "Sum"))),
                Headline(
                    "latency", "avg latency", "ms", _one(Query(APIGW, "Latency", http, "Average"))
                ),
            ),
            lambda v: th.http_api_checks(v, TILE_WINDOW_S),
            "requests",
        )
    )
    send = fn_dims("sendMessage")
    specs.append(
        TileSpec(
            "api:websocket",
            "websocket",
            "WebSocket API",
            (
                Headline(
                    "connections",
                    "connections",
                    "",
                    _one(Query(APIGW, "ActiveConnections", ws, "Maximum")),
                ),
                Headline("messages", "messages", "", _one(Query(APIGW, "MessageCount", ws, "Sum"))),
                Headline(
                    "latency",
                    "p99 msg latency",
                    "ms",
                    _one(Query(HERON, "MessageLatency", send, "p99")),
                ),
                Headline(
                    "errors",
                    "connection errors",
                    "",
                    _one(Query(APIGW, "ConnectionErrors", ws, "Sum")),
                    False,
                ),
            ),
            th.websocket_api_checks,
            "connections",
        )
    )
    for t in config.tables:
        specs.append(
            TileSpec(
                f"table:{t}",
                "table",
                t,
                (
                    Headline(
                        "rcu", "RCU consumed", "", _one(_table("ConsumedReadCapacityUnits", t))
                    ),
                    Headline(
                        "wcu", "WCU consumed", "", _one(_table("ConsumedWriteCapacityUnits", t))
                    ),
                    Headline(
                        "latency",
                        "latency",
                        "ms",
                        _one(table_query("SuccessfulRequestLatency", t, "Average")),
                    ),
                    Headline(
                        "requests",
                        "requests",
                        "",
                        _one(table_query("SuccessfulRequestLatency", t, "SampleCount")),
                        False,
                    ),
                    Headline(
                        "errors",
                        "errors",
                        "",
                        Series(
                            "",
                            (
                                table_query("ThrottledRequests", t, "Sum"),
                                table_query("SystemErrors", t, "Sum"),
                            ),
                            "sum",
                        ),
                        False,
                    ),
                ),
                th.table_checks,
                "requests",
            )
        )
    return specs


def tile_payload(spec: TileSpec, numbers: Mapping[str, float | None]) -> dict[str, Any]:
    """A tile as the page draws it: level, the shown numbers and the reasons for its colour."""
    checks = spec.checks(dict(numbers))
    active = bool(numbers.get(spec.activity))
    level = th.worst(checks, active=active)
    return {
        "id": spec.id,
        "kind": spec.kind,
        "name": spec.name,
        "level": level.value,
        "numbers": [
            {"key": h.key, "label": h.label, "unit": h.unit, "value": _round(numbers.get(h.key))}
            for h in spec.headlines
            if h.shown
        ],
        "reasons": [c.reason() for c in checks if c.level.rank >= th.Level.WARN.rank],
    }


def _round(value: float | None) -> float | None:
    return None if value is None else rounded([value])[0]


def compute_tiles(evaluator: Evaluator, specs: list[TileSpec], now_ms: int) -> list[dict[str, Any]]:
    """Every tile's payload from the last ``TILE_WINDOW_S`` seconds, in one batched read."""
    # One period longer than the window, so the store answers with a single datapoint.
    grid = make_grid(now_ms - TILE_WINDOW_S * 1000, now_ms, 3600, now_ms // 1000)
    series = [h.series for s in specs for h in s.headlines]
    values = evaluator.evaluate(series, grid)
    out: list[dict[str, Any]] = []
    i = 0
    for spec in specs:
        numbers: Numbers = {}
        for h in spec.headlines:
            col = values[i]
            numbers[h.key] = col[0] if col else None
            i += 1
        out.append(tile_payload(spec, numbers))
    return out
