"""Shared helpers for the metric store tests: a store with a settable clock, and exact references."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from heron.monitor.contracts import MetricId, Sample
from heron.monitor.metrics.store import MetricStore

#: 2023-11-14T22:13:20Z — a minute boundary, so period grids are easy to reason about.
NOW = 1_700_000_040.0
METRIC = MetricId("App", "Latency", (("Function", "f"),))


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def open_store(path: Path, clock: FakeClock | None = None, **kwargs: object) -> MetricStore:
    """A store under ``path`` on ``clock``."""
    return MetricStore(path, clock=clock or FakeClock(), **kwargs)  # type: ignore[arg-type]


def sample(
    values: Sequence[float],
    timestamp_ms: int,
    *,
    metric: MetricId = METRIC,
    counts: Sequence[float] = (),
    unit: str = "None",
    resolution: int = 60,
) -> Sample:
    """A Values/Counts sample of ``metric``."""
    return Sample(
        metric.namespace, metric.name, metric.dimensions, timestamp_ms,
        tuple(values), tuple(counts), None, unit, resolution,
    )  # fmt: skip


def _fl(x: float) -> int:
    return math.floor(x + 1e-9 * max(1.0, abs(x)))


def ref_percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (numpy's ``inverted_cdf``), written out."""
    s = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(s) - 1e-9 * max(1.0, len(s))))
    return s[min(rank, len(s)) - 1]


def ref_rank_range(values: Sequence[float], low: float, high: float) -> dict[str, float | None]:
    """TM/WM/TC/TS/PR with percent bounds on raw values: ranks j with low% n < j <= high% n."""
    s = sorted(values)
    n = len(s)
    lo, hi = _fl(low / 100 * n), _fl(high / 100 * n)
    kept = s[lo:hi]
    out: dict[str, float | None] = {"TC": float(len(kept)), "TS": float(sum(kept))}
    out["TM"] = sum(kept) / len(kept) if kept else None
    out["PR"] = 100.0 * len(kept) / n
    out["WM"] = (sum(kept) + lo * s[lo] + (n - hi) * s[hi - 1]) / n if kept else None
    return out


def ref_value_range(values: Sequence[float], low: float, high: float) -> dict[str, float | None]:
    """TM/WM/TC/TS/PR with absolute bounds on raw values: low < v <= high."""
    kept = [v for v in values if low < v <= high]
    n = len(values)
    return {
        "TC": float(len(kept)),
        "TS": float(sum(kept)),
        "TM": sum(kept) / len(kept) if kept else None,
        "PR": 100.0 * len(kept) / n,
        "WM": sum(min(max(v, low), high) for v in values) / n,
    }
