"""Cost analysis: usage over a window priced with a configurable price table (pure functions).

Formulas (list prices, before free tiers; ``docs/settings.md`` names the price settings):

* function = invocations x request price + GB-seconds x GB-s price, where GB-seconds are
  (sum of Duration + sum of InitDuration) / 1000 x memory MB / 1024 — INIT is billed since
  August 2025; the 1 ms round-up per invocation is below the metrics' resolution and ignored;
* HTTP API = requests x request price;
* WebSocket API = (messages received + messages sent) x message price + connection-minutes x
  minute price;
* table, on demand = RRU x read price + WRU x write price; provisioned = RCU-hours x RCU-hour
  price + WCU-hours x WCU-hour price; plus GB-months of storage x storage price;
* per message = everything / messages sent through ``sendMessage``;
* monthly projection = window cost x (730 hours / window hours), AWS's billing month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

#: AWS bills a month as 730 hours.
MONTH_S = 730 * 3600
MILLION = 1_000_000.0


@dataclass(frozen=True, slots=True)
class Prices:
    """Unit prices in USD; defaults are AWS us-east-1 list prices (reference §4)."""

    lambda_requests_per_million: float = 0.20
    lambda_gb_second: float = 0.0000166667
    http_requests_per_million: float = 1.00
    ws_messages_per_million: float = 1.00
    ws_connection_minutes_per_million: float = 0.25
    ddb_read_request_units_per_million: float = 0.125
    ddb_write_request_units_per_million: float = 0.625
    ddb_rcu_hour: float = 0.00013
    ddb_wcu_hour: float = 0.00065
    ddb_storage_gb_month: float = 0.25

    @staticmethod
    def setting_name(field_name: str) -> str:
        """The setting that overrides a price, e.g. ``price_lambda_gb_second``."""
        return "price_" + field_name

    @classmethod
    def from_settings(cls, values: Mapping[str, Any]) -> Prices:
        """The price table from resolved settings (missing names keep their defaults)."""
        given: dict[str, float] = {}
        for f in fields(cls):
            key = cls.setting_name(f.name)
            if key in values:
                given[f.name] = float(values[key])
        return cls(**given)

    def as_json(self) -> dict[str, float]:
        """Every price by field name."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FunctionUsage:
    """A function's usage over the window."""

    name: str
    memory_mb: int
    invocations: float
    duration_ms: float
    init_ms: float = 0.0


@dataclass(frozen=True, slots=True)
class TableUsage:
    """A table's usage over the window; ``provisioned`` is (RCU, WCU) or None for on demand."""

    name: str
    read_units: float
    write_units: float
    provisioned: tuple[int, int] | None = None
    storage_gb: float = 0.0


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """The APIs' usage over the window."""

    http_requests: float
    ws_messages_in: float
    ws_messages_out: float
    ws_connection_minutes: float


@dataclass(frozen=True, slots=True)
class CostLine:
    """One priced resource: its total, the parts it is made of and their quantities."""

    kind: str
    name: str
    cost: float
    parts: tuple[tuple[str, float, float], ...]  # (what, quantity, cost)

    def as_json(self, scale: float) -> dict[str, Any]:
        """The line with its monthly projection (``scale`` = month / window)."""
        return {
            "kind": self.kind,
            "name": self.name,
            "cost": self.cost,
            "monthly": self.cost * scale,
            "parts": [{"what": w, "quantity": q, "cost": c} for w, q, c in self.parts],
        }


def function_cost(u: FunctionUsage, p: Prices) -> CostLine:
    """Requests plus GB-seconds (duration and INIT) at the configured prices."""
    gb_s = (u.duration_ms + u.init_ms) / 1000 * u.memory_mb / 1024
    requests = u.invocations * p.lambda_requests_per_million / MILLION
    compute = gb_s * p.lambda_gb_second
    return CostLine(
        "function",
        u.name,
        requests + compute,
        (("requests", u.invocations, requests), ("GB-seconds", gb_s, compute)),
    )


def api_costs(u: ApiUsage, p: Prices) -> list[CostLine]:
    """The HTTP API (requests) and the WebSocket API (messages both ways + connection-minutes)."""
    http = u.http_requests * p.http_requests_per_million / MILLION
    messages = u.ws_messages_in + u.ws_messages_out
    msg_cost = messages * p.ws_messages_per_million / MILLION
    minutes = u.ws_connection_minutes * p.ws_connection_minutes_per_million / MILLION
    return [
        CostLine("api", "HTTP API", http, (("requests", u.http_requests, http),)),
        CostLine(
            "api",
            "WebSocket API",
            msg_cost + minutes,
            (
                ("messages", messages, msg_cost),
                ("connection-minutes", u.ws_connection_minutes, minutes),
            ),
        ),
    ]


def table_cost(u: TableUsage, p: Prices, window_s: float) -> CostLine:
    """On-demand request units or provisioned unit-hours, plus storage for the window."""
    storage_gb_months = u.storage_gb * window_s / MONTH_S
    storage = storage_gb_months * p.ddb_storage_gb_month
    parts: list[tuple[str, float, float]]
    if u.provisioned is None:
        reads = u.read_units * p.ddb_read_request_units_per_million / MILLION
        writes = u.write_units * p.ddb_write_request_units_per_million / MILLION
        parts = [
            ("read request units", u.read_units, reads),
            ("write request units", u.write_units, writes),
        ]
    else:
        hours = window_s / 3600
        rcu_h, wcu_h = u.provisioned[0] * hours, u.provisioned[1] * hours
        parts = [
            ("RCU-hours", rcu_h, rcu_h * p.ddb_rcu_hour),
            ("WCU-hours", wcu_h, wcu_h * p.ddb_wcu_hour),
        ]
    parts.append(("storage GB-months", storage_gb_months, storage))
    return CostLine("table", u.name, sum(c for _, _, c in parts), tuple(parts))


@dataclass(frozen=True, slots=True)
class CostReport:
    """Every cost line over a window, the total, the cost per message and the projections."""

    window_s: float
    lines: tuple[CostLine, ...]
    messages: float

    @property
    def total(self) -> float:
        """The window's total cost."""
        return sum(line.cost for line in self.lines)

    @property
    def month_scale(self) -> float:
        """How many windows make a 730-hour month."""
        return MONTH_S / self.window_s

    @property
    def per_message(self) -> float | None:
        """Total cost / messages sent (None without messages)."""
        return self.total / self.messages if self.messages > 0 else None

    def as_json(self, prices: Prices) -> dict[str, Any]:
        """The report for the page."""
        scale = self.month_scale
        by_kind: dict[str, float] = {}
        for line in self.lines:
            by_kind[line.kind] = by_kind.get(line.kind, 0.0) + line.cost
        return {
            "windowSeconds": self.window_s,
            "total": self.total,
            "monthly": self.total * scale,
            "byKind": {k: {"cost": v, "monthly": v * scale} for k, v in by_kind.items()},
            "messages": self.messages,
            "perMessage": self.per_message,
            "lines": [line.as_json(scale) for line in self.lines],
            "prices": prices.as_json(),
        }


def cost_report(
    functions: Sequence[FunctionUsage],
    api: ApiUsage,
    tables: Sequence[TableUsage],
    messages: float,
    prices: Prices,
    window_s: float,
) -> CostReport:
    """Price every resource's usage over a ``window_s``-second window."""
    if window_s <= 0:
        raise ValueError("the cost window must be longer than zero")
    lines = [function_cost(f, prices) for f in functions]
    lines += api_costs(api, prices)
    lines += [table_cost(t, prices, window_s) for t in tables]
    return CostReport(window_s, tuple(lines), messages)
