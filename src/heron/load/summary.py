"""What a load run measured: counts, status classes, latency percentiles and errors by kind.

``Recorder`` collects raw samples while the run goes on; ``Recorder.summarize`` freezes them into a
``LoadSummary`` that renders as a table (``format_summary``) or a JSON-able dict (``as_dict``).
Percentiles come from the raw, sorted samples: a run holds at most tens of thousands of them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

#: How many recent latencies the live progress line's p99 looks at.
RECENT_WINDOW = 2000


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0 to 100) of ascending values, interpolating linearly between ranks.

    This is the same definition as numpy's default (``linear``); an empty sequence gives NaN.
    """
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile must be between 0 and 100, got {q}")
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q / 100.0
    lower = math.floor(position)
    upper = math.ceil(position)
    fraction = position - lower
    return sorted_values[lower] + (sorted_values[upper] - sorted_values[lower]) * fraction


def status_class(status: int) -> str:
    """Name the class of an HTTP status code: ``"2xx"`` … ``"5xx"``."""
    return f"{status // 100}xx"


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Percentiles of one set of latency samples, in milliseconds."""

    count: int = 0
    p50_ms: float = math.nan
    p90_ms: float = math.nan
    p99_ms: float = math.nan
    max_ms: float = math.nan
    mean_ms: float = math.nan

    @classmethod
    def of(cls, samples_s: Iterable[float]) -> LatencyStats:
        """Compute the stats of latency samples given in seconds."""
        values = sorted(s * 1000.0 for s in samples_s)
        if not values:
            return cls()
        return cls(
            count=len(values),
            p50_ms=percentile(values, 50),
            p90_ms=percentile(values, 90),
            p99_ms=percentile(values, 99),
            max_ms=values[-1],
            mean_ms=sum(values) / len(values),
        )


@dataclass(frozen=True, slots=True)
class OperationStats:
    """One operation's outcome counts (by status class, or ``"error"`` for no response) and latency."""

    count: int
    by_status: dict[str, int]
    latency: LatencyStats


@dataclass(frozen=True, slots=True)
class LoadSummary:
    """The result of one load run, ready to print or serialise."""

    base_url: str
    users: int
    ws_pairs: int
    target_rate: float
    duration_s: float
    elapsed_s: float
    setup_s: float
    scheduled: int
    skipped: int
    operations: dict[str, OperationStats]
    ws_sent: int
    ws_delivered: int
    ws_latency: LatencyStats
    errors: dict[str, int]
    expected_errors: int
    notes: tuple[str, ...] = field(default=())

    @property
    def completed(self) -> int:
        """Operations that finished during the timed phase (sign-up excluded)."""
        return sum(s.count for name, s in self.operations.items() if name != "signup")

    @property
    def throughput(self) -> float:
        """Achieved operations per second over the timed phase."""
        return self.completed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def error_count(self) -> int:
        """Unexpected errors: everything in ``errors`` (deliberate bad requests are not counted)."""
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-able dict (NaN percentiles become ``None``)."""
        data: dict[str, Any] = _jsonable(asdict(self))
        data["notes"] = list(self.notes)
        data["completed"] = self.completed
        data["throughput"] = round(self.throughput, 3)
        data["error_count"] = self.error_count
        return data


def _jsonable(value: Any) -> Any:
    # Microsecond precision is plenty for milliseconds and seconds; NaN is not JSON.
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 3)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class Recorder:
    """Collects raw outcomes while a run goes on; cheap to call from many tasks of one loop."""

    def __init__(self, *, keep_samples: bool = True) -> None:
        """Start empty; ``keep_samples=False`` keeps counts and recent latencies only, so a
        never-ending run (demo traffic) stays small."""
        self.keep_samples = keep_samples
        self.latencies: dict[str, list[float]] = {}
        self.statuses: dict[str, dict[str, int]] = {}
        self.errors: dict[str, int] = {}
        self.expected_errors = 0
        self.ws_sent = 0
        self.ws_latencies: list[float] = []
        self.ws_delivered_count = 0
        self.recent: deque[float] = deque(maxlen=RECENT_WINDOW)
        self.completed = 0

    def record(
        self, operation: str, outcome: str, latency_s: float, *, error: str | None = None
    ) -> None:
        """Record one finished operation: its outcome (``"2xx"``… or ``"error"``) and latency.

        ``error`` names an unexpected failure's kind (``"http_500"``, ``"timeout"``…); pass
        ``"expected"`` for a deliberate bad request that was rejected as it should be.
        """
        samples = self.latencies.setdefault(operation, [])
        if self.keep_samples:
            samples.append(latency_s)
        by_status = self.statuses.setdefault(operation, {})
        by_status[outcome] = by_status.get(outcome, 0) + 1
        if operation != "signup":
            self.completed += 1
            self.recent.append(latency_s)
        if error == "expected":
            self.expected_errors += 1
        elif error is not None:
            self.error(error)

    def error(self, kind: str) -> None:
        """Count one unexpected error of a kind that is not tied to a single request."""
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def ws_delivered(self, latency_s: float) -> None:
        """Record one WebSocket message's end-to-end latency (send → recipient frame)."""
        self.ws_delivered_count += 1
        if self.keep_samples:
            self.ws_latencies.append(latency_s)

    @property
    def error_count(self) -> int:
        """Unexpected errors so far."""
        return sum(self.errors.values())

    def recent_p99_ms(self) -> float:
        """The p99 of the most recent latencies, for the progress line."""
        return percentile(sorted(self.recent), 99) * 1000.0

    def summarize(self, **run: Any) -> LoadSummary:
        """Freeze the samples into a ``LoadSummary``; ``run`` supplies the run-level fields."""
        operations = {
            name: OperationStats(
                count=sum(self.statuses[name].values()),
                by_status=dict(sorted(self.statuses[name].items())),
                latency=LatencyStats.of(samples),
            )
            for name, samples in sorted(self.latencies.items())
        }
        return LoadSummary(
            operations=operations,
            ws_sent=self.ws_sent,
            ws_delivered=self.ws_delivered_count,
            ws_latency=LatencyStats.of(self.ws_latencies),
            errors=dict(sorted(self.errors.items())),
            expected_errors=self.expected_errors,
            **run,
        )


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def format_summary(summary: LoadSummary) -> str:
    """Render a summary as a readable multi-line report with one table row per operation."""
    s = summary
    lines = [
        f"Load against {s.base_url}: {s.users} users ({s.ws_pairs} WebSocket pairs), "
        f"target {s.target_rate:g} ops/s for {s.duration_s:g} s",
        f"Completed {s.completed:,} ops in {s.elapsed_s:.1f} s = {s.throughput:.1f} ops/s "
        f"(scheduled {s.scheduled:,}, skipped {s.skipped:,} at the in-flight cap; "
        f"setup {s.setup_s:.1f} s)",
        "",
        f"{'operation':<20}{'count':>8}  {'ok':>6}{'4xx':>6}{'5xx':>6}{'error':>6}"
        f"{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}",
    ]
    for name, op in s.operations.items():
        by = op.by_status
        lat = op.latency
        ok = by.get("2xx", 0) + by.get("3xx", 0) + by.get("delivered", 0)
        lines.append(
            f"{name:<20}{op.count:>8,}  {ok:>6}{by.get('4xx', 0):>6}"
            f"{by.get('5xx', 0):>6}{by.get('error', 0):>6}"
            f"{_ms(lat.p50_ms):>9}{_ms(lat.p90_ms):>9}{_ms(lat.p99_ms):>9}{_ms(lat.max_ms):>9}"
        )
    lines.append("")
    if s.ws_sent:
        w = s.ws_latency
        lines.append(
            f"WebSocket messages: {s.ws_delivered:,}/{s.ws_sent:,} delivered; latency ms "
            f"p50 {_ms(w.p50_ms)}  p90 {_ms(w.p90_ms)}  p99 {_ms(w.p99_ms)}  max {_ms(w.max_ms)}"
        )
    lines.append(f"Deliberate bad requests rejected as expected: {s.expected_errors:,}")
    if s.errors:
        kinds = ", ".join(f"{kind} {n:,}" for kind, n in s.errors.items())
        lines.append(f"Unexpected errors: {s.error_count:,} ({kinds})")
    else:
        lines.append("Unexpected errors: 0")
    lines.extend(f"Note: {note}" for note in s.notes)
    return "\n".join(lines)
