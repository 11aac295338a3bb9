"""Performance optimization advice from a window's numbers (pure functions).

* slowest functions and routes: ranked by p99 latency, then average;
* cold-start hot spots: functions whose cold-start rate is past the seed's 20 %, or whose INIT
  time is a large share of their total time;
* memory right-sizing from Max Memory Used: the smallest size (64 MB steps, 128-10,240 MB)
  that keeps the peak at or under ``TARGET_UTILISATION`` of it — below the seed's 80 % alarm
  with room for growth — and what that changes in GB-second cost;
* noisiest alarms: state changes in the window, whether they flapped (more than
  ``FLAP_CHANGES`` changes in ``FLAP_WINDOW_S``, the notify default), and the incidents' mean
  time to acknowledge and to resolve.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from heron.dashboard.thresholds import LAMBDA_COLD_START_RATE_PCT, LAMBDA_MEMORY_PCT

#: The share of the allocated memory a right-sized function's peak may use.
TARGET_UTILISATION = 0.70
MEMORY_STEP_MB = 64
MIN_MEMORY_MB, MAX_MEMORY_MB = 128, 10_240
#: INIT time above this share of a function's total time makes it a cold-start hot spot.
INIT_SHARE_PCT = 10.0
FLAP_CHANGES = 4
FLAP_WINDOW_S = 600.0


@dataclass(frozen=True, slots=True)
class Latency:
    """A function's or route's latency over the window."""

    name: str
    p99: float | None
    average: float | None
    count: float


def slowest(items: Sequence[Latency], limit: int = 10) -> list[dict[str, Any]]:
    """Items with traffic, slowest first (p99, then average)."""
    busy = [i for i in items if i.count > 0 and (i.p99 is not None or i.average is not None)]
    busy.sort(key=lambda i: (-(i.p99 or 0.0), -(i.average or 0.0), i.name))
    return [
        {"name": i.name, "p99": i.p99, "average": i.average, "count": i.count} for i in busy[:limit]
    ]


@dataclass(frozen=True, slots=True)
class ColdStarts:
    """A function's cold starts over the window."""

    name: str
    invocations: float
    cold_starts: float
    init_ms: float
    duration_ms: float


def cold_start_hotspots(items: Sequence[ColdStarts]) -> list[dict[str, Any]]:
    """Every function with cold starts, worst rate first, flagged when past the limits."""
    out: list[dict[str, Any]] = []
    for i in items:
        if i.invocations <= 0 or i.cold_starts <= 0:
            continue
        rate = 100.0 * i.cold_starts / i.invocations
        total = i.init_ms + i.duration_ms
        init_share = 100.0 * i.init_ms / total if total > 0 else 0.0
        reasons = []
        if rate > LAMBDA_COLD_START_RATE_PCT:
            reasons.append(f"cold-start rate {rate:.1f} % > {LAMBDA_COLD_START_RATE_PCT:g} %")
        if init_share > INIT_SHARE_PCT:
            reasons.append(f"INIT is {init_share:.1f} % of its time")
        out.append(
            {
                "name": i.name,
                "invocations": i.invocations,
                "coldStarts": i.cold_starts,
                "rate": rate,
                "averageInitMs": i.init_ms / i.cold_starts,
                "initShare": init_share,
                "hotSpot": bool(reasons),
                "reasons": reasons,
            }
        )
    out.sort(key=lambda r: (-r["rate"], r["name"]))
    return out


def recommended_memory(peak_mb: float) -> int:
    """The smallest 64 MB step (128-10,240) keeping ``peak_mb`` within TARGET_UTILISATION."""
    need = peak_mb / TARGET_UTILISATION
    size = math.ceil(need / MEMORY_STEP_MB) * MEMORY_STEP_MB
    return max(MIN_MEMORY_MB, min(MAX_MEMORY_MB, size))


@dataclass(frozen=True, slots=True)
class MemoryUse:
    """A function's allocation, peak Max Memory Used and billed time over the window."""

    name: str
    memory_mb: int
    peak_mb: float | None
    billed_ms: float


def right_size(m: MemoryUse, gb_second_price: float, month_scale: float) -> dict[str, Any] | None:
    """Advice for one function (None without a peak): decrease, increase or keep, with cost.

    Increase when the peak is past the seed's 80 % alarm; decrease when a smaller size still
    keeps the peak within TARGET_UTILISATION. The cost effect assumes the same billed time —
    less memory also means less CPU, so a CPU-bound function may run longer.
    """
    if m.peak_mb is None:
        return None
    used_pct = 100.0 * m.peak_mb / m.memory_mb
    rec = recommended_memory(m.peak_mb)
    if used_pct > LAMBDA_MEMORY_PCT:
        action = "increase"
    elif rec < m.memory_mb:
        action = "decrease"
    else:
        action, rec = "keep", m.memory_mb
    delta_gb_s = m.billed_ms / 1000 * (rec - m.memory_mb) / 1024
    delta = delta_gb_s * gb_second_price
    return {
        "name": m.name,
        "memoryMb": m.memory_mb,
        "peakMb": m.peak_mb,
        "peakPct": used_pct,
        "action": action,
        "recommendedMb": rec,
        "costDelta": delta,
        "monthlyCostDelta": delta * month_scale,
    }


@dataclass(frozen=True, slots=True)
class StateChange:
    """One alarm state change."""

    alarm: str
    at: float
    state: str


@dataclass(frozen=True, slots=True)
class IncidentTimes:
    """When an incident opened and (if ever) was acknowledged and resolved."""

    alarm: str
    opened: float
    acked: float | None
    resolved: float | None


def flapped(times: Sequence[float]) -> bool:
    """Whether more than FLAP_CHANGES changes fall within any FLAP_WINDOW_S window."""
    ts = sorted(times)
    lo = 0
    for hi, t in enumerate(ts):
        while t - ts[lo] > FLAP_WINDOW_S:
            lo += 1
        if hi - lo + 1 > FLAP_CHANGES:
            return True
    return False


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def noisiest_alarms(
    changes: Sequence[StateChange], incidents: Sequence[IncidentTimes], limit: int = 10
) -> list[dict[str, Any]]:
    """Alarms that fired or paged, by state changes in the window (most first), with flapping
    and response times."""
    by_alarm: dict[str, list[StateChange]] = {}
    for c in changes:
        by_alarm.setdefault(c.alarm, []).append(c)
    inc: dict[str, list[IncidentTimes]] = {}
    for i in incidents:
        inc.setdefault(i.alarm, []).append(i)
    out: list[dict[str, Any]] = []
    for alarm in set(by_alarm) | set(inc):
        cs = by_alarm.get(alarm, [])
        mine = inc.get(alarm, [])
        if not mine and not any(c.state == "ALARM" for c in cs):
            continue  # settling into OK (e.g. after start-up) is not noise
        out.append(
            {
                "alarm": alarm,
                "changes": len(cs),
                "toAlarm": sum(1 for c in cs if c.state == "ALARM"),
                "flapping": flapped([c.at for c in cs]),
                "incidents": len(mine),
                "meanTimeToAckS": _mean([i.acked - i.opened for i in mine if i.acked is not None]),
                "meanTimeToResolveS": _mean(
                    [i.resolved - i.opened for i in mine if i.resolved is not None]
                ),
            }
        )
    out.sort(key=lambda r: (-r["changes"], -r["incidents"], r["alarm"]))
    return out[:limit]
