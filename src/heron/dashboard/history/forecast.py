"""Capacity forecasts: a least-squares linear trend with a 95 % prediction interval (pure).

Method. The input is one value per hour: the hour's maximum (peak connections, peak concurrency,
the busiest minute's request or capacity rate), because capacity runs out at the peak, not on
average. A straight line ``y = a + b·t`` is fitted by ordinary least squares. For a future hour
``t`` the 95 % prediction interval for that hour's peak is

    ŷ(t) ± t₀.₉₇₅,ₙ₋₂ · s · √(1 + 1/n + (t - t̄)² / Sxx)

with ``s`` the residual standard error, ``Sxx = Σ(tᵢ - t̄)²`` and Student's t quantile for
``n - 2`` degrees of freedom. The expected crossing is the first hour where ŷ reaches the
threshold; the interval's upper bound gives the earliest plausible crossing and its lower bound
the latest. Crossings beyond ``horizon`` are reported as "not within the horizon".
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

HOUR_S = 3600
#: At least this many hourly points are needed for a fit with a meaningful interval.
MIN_POINTS = 6

# Student's t 0.975 quantiles for 1..30 degrees of freedom (standard tables).
_T975 = (
    12.706,
    4.303,
    3.182,
    2.776,
    2.571,
    2.447,
    2.365,
    2.306,
    2.262,
    2.228,
    2.201,
    2.179,
    2.160,
    2.145,
    2.131,
    2.120,
    2.110,
    2.101,
    2.093,
    2.086,
    2.080,
    2.074,
    2.069,
    2.064,
    2.060,
    2.056,
    2.052,
    2.048,
    2.045,
    2.042,
)
_Z975 = 1.959964


def t_quantile_975(df: int) -> float:
    """Student's t 97.5 % quantile for ``df`` degrees of freedom (table to 30, then expansion)."""
    if df < 1:
        raise ValueError("degrees of freedom must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    # Cornish-Fisher expansion around the normal quantile; within 1e-4 of the exact value here.
    z = _Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)


@dataclass(frozen=True, slots=True)
class Fit:
    """A least-squares line over (t, y) points and what the prediction interval needs."""

    intercept: float
    slope: float
    n: int
    t_mean: float
    sxx: float
    residual_se: float

    def predict(self, t: float) -> float:
        """The line's value at ``t``."""
        return self.intercept + self.slope * t

    def half_width(self, t: float) -> float:
        """Half the 95 % prediction interval for one new observation at ``t``."""
        spread = 1 + 1 / self.n + (t - self.t_mean) ** 2 / self.sxx
        return t_quantile_975(self.n - 2) * self.residual_se * math.sqrt(spread)


def fit_line(ts: Sequence[float], ys: Sequence[float]) -> Fit:
    """Ordinary least squares of ``ys`` on ``ts``; ValueError with fewer than 3 distinct times."""
    n = len(ts)
    if n != len(ys):
        raise ValueError("times and values differ in length")
    if n < 3:
        raise ValueError("a trend needs at least 3 points")
    t_mean = sum(ts) / n
    y_mean = sum(ys) / n
    sxx = sum((t - t_mean) ** 2 for t in ts)
    if sxx == 0:
        raise ValueError("a trend needs points at different times")
    sxy = sum((t - t_mean) * (y - y_mean) for t, y in zip(ts, ys, strict=True))
    slope = sxy / sxx
    intercept = y_mean - slope * t_mean
    sse = sum((y - (intercept + slope * t)) ** 2 for t, y in zip(ts, ys, strict=True))
    return Fit(intercept, slope, n, t_mean, sxx, math.sqrt(sse / (n - 2)))


def hourly_maxima(
    start_s: int, period_s: int, values: Sequence[float | None]
) -> list[tuple[int, float]]:
    """Values on a grid (slot i starts at ``start_s + i·period_s``) as (hour start, max) pairs."""
    hours: dict[int, float] = {}
    for i, v in enumerate(values):
        if v is None:
            continue
        hour = (start_s + i * period_s) // HOUR_S * HOUR_S
        cur = hours.get(hour)
        hours[hour] = v if cur is None else max(cur, v)
    return sorted(hours.items())


def _first_crossing(
    fn: Callable[[float], float], threshold: float, t_from: float, t_to: float, step: float
) -> float | None:
    """The first time in [t_from, t_to], in steps of ``step``, where ``fn(t) >= threshold``."""
    t = t_from
    while t <= t_to:
        if fn(t) >= threshold:
            return t
        t += step
    return None


@dataclass(frozen=True, slots=True)
class Forecast:
    """One metric's forecast against its limit (times in epoch seconds)."""

    points: int
    slope_per_day: float | None
    current: float | None
    predicted_at_horizon: float | None
    interval_at_horizon: tuple[float, float] | None
    crossing: float | None
    earliest: float | None
    latest: float | None
    status: str
    message: str

    def as_json(self) -> dict[str, object]:
        """The forecast for the page (times in epoch ms)."""

        def ms(t: float | None) -> int | None:
            return None if t is None else int(t * 1000)

        return {
            "points": self.points,
            "slopePerDay": self.slope_per_day,
            "current": self.current,
            "predictedAtHorizon": self.predicted_at_horizon,
            "intervalAtHorizon": list(self.interval_at_horizon)
            if self.interval_at_horizon
            else None,
            "crossing": ms(self.crossing),
            "earliest": ms(self.earliest),
            "latest": ms(self.latest),
            "status": self.status,
            "message": self.message,
        }


def forecast(
    hourly: Sequence[tuple[int, float]], threshold: float, now_s: float, horizon_s: float
) -> Forecast:
    """Fit hourly maxima and find when the trend (and its interval) reaches ``threshold``.

    ``status`` is ``insufficient`` (fewer than MIN_POINTS hours), ``over`` (the last hour is
    already at or over the threshold), ``crossing`` (the expected crossing is within the
    horizon) or ``clear`` (it is not; ``earliest`` may still fall inside when the interval does).
    """
    n = len(hourly)
    last = hourly[-1][1] if hourly else None
    if n < MIN_POINTS:
        return Forecast(
            n,
            None,
            last,
            None,
            None,
            None,
            None,
            None,
            "insufficient",
            f"needs at least {MIN_POINTS} hours of data, has {n}",
        )
    ts = [float(t) for t, _ in hourly]
    fit = fit_line(ts, [v for _, v in hourly])
    end = now_s + horizon_s
    at_end = fit.predict(end)
    hw = fit.half_width(end)
    slope_day = fit.slope * 86400
    if last is not None and last >= threshold:
        return Forecast(
            n,
            slope_day,
            last,
            at_end,
            (at_end - hw, at_end + hw),
            now_s,
            now_s,
            now_s,
            "over",
            "already at or over the limit",
        )
    step = float(HOUR_S)
    start = float(now_s)
    crossing = _first_crossing(fit.predict, threshold, start, end, step)
    earliest = _first_crossing(
        lambda t: fit.predict(t) + fit.half_width(t), threshold, start, end, step
    )
    latest = _first_crossing(
        lambda t: fit.predict(t) - fit.half_width(t), threshold, start, end, step
    )
    days = horizon_s / 86400
    if crossing is None:
        message = f"not expected to reach the limit within {days:g} days"
        status = "clear"
    else:
        message = f"expected to reach the limit in {(crossing - now_s) / 86400:.1f} days"
        status = "crossing"
    return Forecast(
        n,
        slope_day,
        last,
        at_end,
        (at_end - hw, at_end + hw),
        crossing,
        earliest,
        latest,
        status,
        message,
    )
