"""Capacity forecasts: least squares, the prediction interval and crossing dates, by hand."""

from __future__ import annotations

import math

import pytest

from heron.dashboard.history.forecast import (
    HOUR_S,
    fit_line,
    forecast,
    hourly_maxima,
    t_quantile_975,
)

T0 = 1_800_000_000  # an hour boundary (500,000 hours)


def test_fit_line_matches_the_hand_computed_regression() -> None:
    # t̄ = 2, ȳ = 2.6, Sxx = 10, Sxy = 9 -> slope 0.9, intercept 0.8; residuals
    # 0.2, 0.3, -0.6, -0.5, 0.6 -> SSE 1.10, s = sqrt(1.1 / 3).
    fit = fit_line([0, 1, 2, 3, 4], [1, 2, 2, 3, 5])
    assert fit.slope == pytest.approx(0.9)
    assert fit.intercept == pytest.approx(0.8)
    assert fit.sxx == pytest.approx(10.0)
    assert fit.residual_se == pytest.approx(0.605530, abs=1e-6)
    # At t = 7: 1 + 1/5 + (7 - 2)^2 / 10 = 3.7; t(0.975, 3) = 3.182.
    assert fit.predict(7) == pytest.approx(7.1)
    assert fit.half_width(7) == pytest.approx(3.182 * 0.605530 * math.sqrt(3.7), abs=1e-5)
    assert fit.half_width(7) == pytest.approx(3.7063, abs=1e-3)


def test_fit_line_refuses_too_few_or_simultaneous_points() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        fit_line([0, 1], [1, 2])
    with pytest.raises(ValueError, match="different times"):
        fit_line([5, 5, 5], [1, 2, 3])


def test_t_quantiles_come_from_the_table_then_the_expansion() -> None:
    assert t_quantile_975(1) == 12.706
    assert t_quantile_975(3) == 3.182
    assert t_quantile_975(30) == 2.042
    assert t_quantile_975(60) == pytest.approx(2.0003, abs=2e-4)
    assert t_quantile_975(1000) == pytest.approx(1.9623, abs=2e-4)
    with pytest.raises(ValueError):
        t_quantile_975(0)


def test_hourly_maxima_keep_each_hours_peak() -> None:
    # A 30-minute grid from T0: hours T0 (slots 0, 1) and T0+1h (slots 2, 3).
    assert hourly_maxima(T0, 1800, [3.0, 7.0, None, 2.0]) == [(T0, 7.0), (T0 + HOUR_S, 2.0)]


def test_a_perfect_trend_crosses_exactly_when_the_line_does() -> None:
    # y = 100 + 10 h for hours 0..23; the limit 1,000 is reached at h = 90 (66 h after now).
    hourly = [(T0 + h * HOUR_S, 100.0 + 10 * h) for h in range(24)]
    now = T0 + 24 * HOUR_S
    f = forecast(hourly, 1000.0, now, 7 * 86400)
    assert f.status == "crossing"
    assert f.crossing == T0 + 90 * HOUR_S
    assert f.earliest == f.latest == f.crossing  # no scatter, no uncertainty
    assert f.slope_per_day == pytest.approx(240.0)
    assert f.predicted_at_horizon == pytest.approx(100 + 10 * (24 + 168))
    assert "2.8 days" in f.message
    assert f.as_json()["crossing"] == (T0 + 90 * HOUR_S) * 1000


def test_scatter_widens_the_crossing_into_earliest_and_latest() -> None:
    noise = [12, -9, 4, -15, 8, -3, 10, -6, 1, -11, 14, -2] * 2
    hourly = [(T0 + h * HOUR_S, 100.0 + 10 * h + noise[h]) for h in range(24)]
    f = forecast(hourly, 1000.0, T0 + 24 * HOUR_S, 30 * 86400)
    assert f.status == "crossing"
    assert f.earliest is not None and f.crossing is not None and f.latest is not None
    assert f.earliest < f.crossing < f.latest
    assert f.interval_at_horizon is not None
    low, high = f.interval_at_horizon
    assert low < f.predicted_at_horizon < high  # type: ignore[operator]


def test_a_flat_metric_is_clear_and_short_histories_are_insufficient() -> None:
    flat = [(T0 + h * HOUR_S, 50.0 + (h % 2)) for h in range(48)]
    f = forecast(flat, 10_000.0, T0 + 48 * HOUR_S, 90 * 86400)
    assert f.status == "clear" and f.crossing is None
    assert f.message == "not expected to reach the limit within 90 days"
    short = forecast(flat[:3], 10_000.0, T0, 86400)
    assert short.status == "insufficient" and short.crossing is None and short.points == 3


def test_a_metric_already_over_its_limit_says_so() -> None:
    hourly = [(T0 + h * HOUR_S, 900.0 + 20 * h) for h in range(8)]
    now = T0 + 8 * HOUR_S
    f = forecast(hourly, 1000.0, now, 86400)
    assert f.status == "over" and f.crossing == now and f.current == 1040.0
