"""Evaluation of metric alarms: the slot grid, operators, percentiles, bands, reasons, data."""

from __future__ import annotations

import json
from typing import Any

import pytest

from heron.monitor.alarms import reason as texts
from heron.monitor.alarms.evaluate import (
    compile_alarm,
    evaluate_metric_alarm,
    evaluation_interval_s,
    evaluation_window,
    needed_samples,
)

T = 1_795_780_800_000  # 2026-11-27T12:00:00Z, a minute boundary
ARN = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:a"


def make(**extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "AlarmName": "a",
        "AlarmArn": ARN,
        "StateValue": "INSUFFICIENT_DATA",
        "StateReason": texts.INITIAL_REASON,
        "MetricName": "Duration",
        "Namespace": "Heron/Test",
        "Statistic": "Average",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
    }
    base.update(extra)
    return base


def test_clock_constant_is_on_a_minute() -> None:
    assert T % 60_000 == 0


@pytest.mark.parametrize(
    ("now", "period", "n", "expected"),
    [
        # E = floor(T, 60 s); R = N + max(2, N // 3)
        (T + 40_000, 60, 1, (T - 3 * 60_000, T, 60)),
        (T + 59_999, 300, 3, (T - 5 * 300_000, T, 300)),
        (T, 60, 9, (T - 12 * 60_000, T, 60)),
        # high resolution: E = floor(T, 10 s)
        (T + 25_500, 10, 3, (T + 20_000 - 5 * 10_000, T + 20_000, 10)),
        (T + 25_500, 30, 1, (T + 20_000 - 3 * 30_000, T + 20_000, 30)),
    ],
)
def test_evaluation_window(now: int, period: int, n: int, expected: tuple[int, int, int]) -> None:
    assert evaluation_window(make(Period=period, EvaluationPeriods=n), now) == expected


def test_evaluation_window_range_override() -> None:
    assert evaluation_window(make(EvaluationPeriods=3), T, evaluation_range=7)[0] == T - 7 * 60_000


@pytest.mark.parametrize(
    ("period", "n", "seconds"),
    [(10, 5, 10), (20, 1, 10), (60, 1, 60), (3600, 24, 60), (3600, 25, 3600)],
)
def test_evaluation_interval(period: int, n: int, seconds: int) -> None:
    assert evaluation_interval_s(make(Period=period, EvaluationPeriods=n)) == seconds


def test_the_in_progress_minute_is_never_evaluated() -> None:
    # A breaching point at T + 10 s (current minute) is outside the window evaluated at T + 50 s.
    result = evaluate_metric_alarm(make(), [(T + 10_000, 5.0)], now_ms=T + 50_000)
    assert result.state == "INSUFFICIENT_DATA"
    result = evaluate_metric_alarm(make(), [(T - 60_000, 5.0)], now_ms=T + 50_000)
    assert result.state == "ALARM"


def test_slot_boundaries_are_start_inclusive_end_exclusive() -> None:
    a = make(EvaluationPeriods=1, Period=300)
    # newest slot covers [T - 300 s, T)
    assert evaluate_metric_alarm(a, [(T - 300_000, 5.0)], now_ms=T).state == "ALARM"
    # a point exactly at T - 300 s - 1 ms belongs to the next-older slot, still in range (R = 3)
    older = evaluate_metric_alarm(a, [(T - 300_001, 5.0)], now_ms=T)
    assert older.state == "ALARM"
    assert older.reason_data["startDate"] == texts.iso_timestamp(T - 600_000)
    # beyond the range: missing
    assert evaluate_metric_alarm(a, [(T - 900_001, 5.0)], now_ms=T).state == "INSUFFICIENT_DATA"


def test_nan_is_no_datapoint() -> None:
    assert evaluate_metric_alarm(make(), [(T - 60_000, float("nan"))], now_ms=T).state == (
        "INSUFFICIENT_DATA"
    )


@pytest.mark.parametrize(
    ("operator", "value", "alarm"),
    [
        ("GreaterThanThreshold", 10.0, False),
        ("GreaterThanThreshold", 10.5, True),
        ("GreaterThanOrEqualToThreshold", 10.0, True),
        ("LessThanThreshold", 10.0, False),
        ("LessThanThreshold", 9.9, True),
        ("LessThanOrEqualToThreshold", 10.0, True),
        ("LessThanOrEqualToThreshold", 10.1, False),
    ],
)
def test_static_operators(operator: str, value: float, alarm: bool) -> None:
    a = make(ComparisonOperator=operator, Threshold=10.0)
    state = evaluate_metric_alarm(a, [(T - 60_000, value)], now_ms=T).state
    assert state == ("ALARM" if alarm else "OK")


@pytest.mark.parametrize(
    ("operator", "value", "alarm"),
    [
        ("LessThanLowerOrGreaterThanUpperThreshold", 0.5, True),
        ("LessThanLowerOrGreaterThanUpperThreshold", 1.0, False),
        ("LessThanLowerOrGreaterThanUpperThreshold", 5.5, True),
        ("LessThanLowerThreshold", 5.5, False),
        ("LessThanLowerThreshold", 0.9, True),
        ("GreaterThanUpperThreshold", 5.0, False),
        ("GreaterThanUpperThreshold", 5.01, True),
    ],
)
def test_band_operators_compare_with_the_given_band(
    operator: str, value: float, alarm: bool
) -> None:
    a = make(
        ComparisonOperator=operator,
        ThresholdMetricId="ad1",
        Threshold=None,
        Statistic=None,
        Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "M"},
                                        "Period": 60, "Stat": "Sum"}, "ReturnData": True},
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True},
        ],
    )  # fmt: skip
    bands = [(T - 60_000, 1.0, 5.0)]
    result = evaluate_metric_alarm(a, [(T - 60_000, value)], now_ms=T, bands=bands)
    assert result.state == ("ALARM" if alarm else "OK")
    data = result.reason_data
    assert "threshold" not in data
    assert (data["recentLowerThresholds"], data["recentUpperThresholds"]) == ([1.0], [5.0])
    assert result.reason.startswith("Thresholds Crossed: ")


def test_band_operator_without_a_band_is_missing_data() -> None:
    a = make(ComparisonOperator="GreaterThanUpperThreshold", ThresholdMetricId="ad1", Metrics=[])
    assert evaluate_metric_alarm(a, [(T - 60_000, 9.0)], now_ms=T).state == "INSUFFICIENT_DATA"


@pytest.mark.parametrize(
    ("percentile", "needed"),
    [(99.0, 1000), (95.0, 200), (90.0, 100), (50.0, 20), (10.0, 100), (25.0, 40), (99.9, 10000)],
)
def test_needed_samples(percentile: float, needed: float) -> None:
    assert needed_samples(percentile) == needed


def _p99(ignore: bool, state: str = "OK") -> dict[str, Any]:
    extra: dict[str, Any] = {"EvaluateLowSampleCountPercentile": "ignore"} if ignore else {}
    return make(Statistic=None, ExtendedStatistic="p99", StateValue=state, StateReason="old",
                Threshold=100.0, **extra)  # fmt: skip


def test_low_sample_count_percentile_ignore_withholds_the_evaluation() -> None:
    points = [(T - 60_000, 500.0)]
    low = evaluate_metric_alarm(_p99(True), points, now_ms=T, sample_counts=[(T - 60_000, 999)])
    assert (low.state, low.changed, low.skipped, low.reason) == ("OK", False, True, "old")
    enough = evaluate_metric_alarm(_p99(True), points, now_ms=T, sample_counts=[(T - 60_000, 1000)])
    assert (enough.state, enough.changed, enough.skipped) == ("ALARM", True, False)


def test_low_sample_count_percentile_evaluate_is_the_default() -> None:
    points, counts = [(T - 60_000, 500.0)], [(T - 60_000, 3)]
    for alarm in (_p99(False), {**_p99(False), "EvaluateLowSampleCountPercentile": "evaluate"}):
        result = evaluate_metric_alarm(alarm, points, now_ms=T, sample_counts=counts)
        assert (result.state, result.skipped) == ("ALARM", False)
    assert compile_alarm(_p99(False)).min_samples is None
    assert compile_alarm(_p99(True)).min_samples == 1000


def test_low_sample_rule_does_not_apply_to_basic_statistics() -> None:
    a = make(EvaluateLowSampleCountPercentile="ignore", Threshold=1.0, StateValue="OK")
    result = evaluate_metric_alarm(
        a, [(T - 60_000, 5.0)], now_ms=T, sample_counts=[(T - 60_000, 1)]
    )
    assert result.state == "ALARM"


def test_math_alarm_uses_the_returned_query_period_and_omits_statistic() -> None:
    a = make(
        Statistic=None, Period=None, MetricName=None, Namespace=None,
        Metrics=[
            {"Id": "e", "MetricStat": {"Metric": {"Namespace": "N", "MetricName": "E"},
                                       "Period": 300, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "rate", "Expression": "100 * e", "ReturnData": True},
        ],
    )  # fmt: skip
    assert evaluation_window(a, T)[2] == 300
    result = evaluate_metric_alarm(a, [(T - 300_000, 2.0)], now_ms=T)
    assert result.state == "ALARM"
    assert "statistic" not in result.reason_data
    assert result.reason_data["period"] == 300


def test_single_period_breach_reason_and_data_exact() -> None:
    a = make(Unit="Milliseconds", Threshold=21.0)
    result = evaluate_metric_alarm(
        a, [(T - 60_000, 21.5)], now_ms=T + 5_123, sample_counts=[(T - 60_000, 4.0)]
    )
    stamp = texts.reason_timestamp(T - 60_000)
    assert result.reason == (
        f"Threshold Crossed: 1 datapoint [21.5 ({stamp})] was greater than the threshold (21.0)."
    )
    query, slot = texts.iso_timestamp(T + 5_123), texts.iso_timestamp(T - 60_000)
    assert texts.to_json(result.reason_data) == (
        f'{{"version":"1.0","queryDate":"{query}","startDate":"{slot}","unit":"Milliseconds",'
        '"statistic":"Average","period":60,"recentDatapoints":[21.5],"threshold":21.0,'
        f'"evaluatedDatapoints":[{{"timestamp":"{slot}","sampleCount":4.0,"value":21.5}}]}}'
    )


def test_m_of_n_reason_lists_crossing_points_newest_first() -> None:
    a = make(
        EvaluationPeriods=3, Threshold=30.0, ComparisonOperator="GreaterThanOrEqualToThreshold"
    )
    pts = [(T - 180_000, 1390.0), (T - 120_000, 1226.0), (T - 60_000, 1141.0)]
    result = evaluate_metric_alarm(a, pts, now_ms=T)
    s = [texts.reason_timestamp(T - k * 60_000) for k in (1, 2, 3)]
    assert result.reason == (
        f"Threshold Crossed: 3 out of the last 3 datapoints [1141.0 ({s[0]}), 1226.0 ({s[1]}), "
        f"1390.0 ({s[2]})] were greater than or equal to the threshold (30.0) "
        "(minimum 3 datapoints for OK -> ALARM transition)."
    )
    assert result.reason_data["recentDatapoints"] == [1390.0, 1226.0, 1141.0]


def test_recovery_reason_counts_non_breaching_points() -> None:
    a = make(EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=50.0, StateValue="ALARM")
    pts = [(T - 180_000, 99.0), (T - 120_000, 1.0), (T - 60_000, 2.0)]
    result = evaluate_metric_alarm(a, pts, now_ms=T)
    assert (result.state, result.changed) == ("OK", True)
    assert result.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [2.0 (")
    assert result.reason.endswith(
        "were not greater than the threshold (50.0) (minimum 2 datapoints for ALARM -> OK transition)."
    )


def test_all_missing_reasons() -> None:
    insufficient = evaluate_metric_alarm(make(EvaluationPeriods=3, StateValue="OK"), [], now_ms=T)
    assert insufficient.reason == "Insufficient Data: 3 datapoints were unknown."
    assert insufficient.reason_data["evaluatedDatapoints"] == []
    one = evaluate_metric_alarm(make(StateValue="OK"), [], now_ms=T)
    assert one.reason == "Insufficient Data: 1 datapoint was unknown."
    breaching = evaluate_metric_alarm(
        make(EvaluationPeriods=2, TreatMissingData="breaching"), [], now_ms=T
    )
    assert breaching.reason == (
        "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints "
        "were treated as [Breaching]."
    )
    assert breaching.reason_data["evaluatedDatapoints"] == [
        {"timestamp": texts.iso_timestamp(T - 60_000)},
        {"timestamp": texts.iso_timestamp(T - 120_000)},
    ]
    assert breaching.reason_data["recentDatapoints"] == []
    ok = evaluate_metric_alarm(make(TreatMissingData="notBreaching"), [], now_ms=T)
    assert ok.reason.endswith("1 missing datapoint was treated as [NonBreaching].")


def test_partly_missing_reason_names_the_treated_points() -> None:
    a = make(EvaluationPeriods=3, TreatMissingData="breaching", Threshold=10.0)
    result = evaluate_metric_alarm(a, [(T - 60_000, 20.0)], now_ms=T)
    assert result.state == "ALARM"
    assert result.reason.startswith("Threshold Crossed: 1 out of the last 3 datapoints [20.0 (")
    assert "and 2 missing datapoints were treated as [Breaching]" in result.reason
    evaluated = result.reason_data["evaluatedDatapoints"]
    assert [("value" in e) for e in evaluated] == [True, False, False]


def test_reason_is_built_lazily_and_once() -> None:
    result = evaluate_metric_alarm(make(), [(T - 60_000, 1.0)], now_ms=T)
    assert result._build is not None  # nothing formatted yet
    first = result.reason
    assert result._build is None and result.reason is first


def test_kept_state_repeats_the_stored_reason_and_data() -> None:
    stored = {"version": "1.0", "x": 1}
    a = make(StateValue="ALARM", StateReason="stored", StateReasonData=json.dumps(stored),
             TreatMissingData="ignore")  # fmt: skip
    result = evaluate_metric_alarm(a, [], now_ms=T)
    assert (result.state, result.changed, result.reason, result.reason_data) == (
        "ALARM",
        False,
        "stored",
        stored,
    )


def test_compiled_configuration_is_cached_by_value() -> None:
    assert compile_alarm(make()) is compile_alarm(make())
    assert compile_alarm(make(Threshold=1.0)) is not compile_alarm(make())


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (21.0, "21.0"), (0.0666851903306472, "0.0666851903306472"), (1e7, "1.0E7"),
        (12345678.9, "1.23456789E7"), (0.001, "0.001"), (0.0001, "1.0E-4"), (-2.5, "-2.5"),
        (0.0, "0.0"), (99.50160229693434, "99.50160229693434"), (1e21, "1.0E21"),
    ],
)  # fmt: skip
def test_java_double(value: float, text: str) -> None:
    assert texts.java_double(value) == text


def test_timestamp_formats() -> None:
    ms = 1_795_780_800_123  # 2026-11-27T12:00:00.123Z
    assert texts.iso_timestamp(ms) == "2026-11-27T12:00:00.123+0000"
    assert texts.reason_timestamp(ms) == "27/11/26 12:00:00"
    assert texts.long_timestamp(1_658_505_465_394) == "Friday 22 July, 2022 15:57:45 UTC"
