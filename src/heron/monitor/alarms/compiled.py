"""An alarm configuration parsed once for evaluation: ``CompiledAlarm`` and its cache.

``compile_alarm`` reads the members evaluation needs (N, M, operator, threshold, period,
statistic, unit, TreatMissingData with the DynamoDB rule, the low-sample-count percentile rule)
and caches the result by those values, so evaluating an alarm never re-parses it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heron.monitor.alarms.missing_data import default_range

STATIC_OPERATORS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
BAND_OPERATORS = (
    "LessThanLowerOrGreaterThanUpperThreshold",
    "LessThanLowerThreshold",
    "GreaterThanUpperThreshold",
)
_OP_CODES = {name: i for i, name in enumerate(STATIC_OPERATORS + BAND_OPERATORS)}
OP_GE, OP_GT, OP_LT, OP_LE, OP_OUTSIDE, OP_BELOW, OP_ABOVE = range(7)
_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class CompiledAlarm:
    """What evaluation needs from a metric alarm's configuration, parsed once."""

    evaluation_periods: int
    datapoints_to_alarm: int
    treat_missing: str  # effective: AWS/DynamoDB alarms always "ignore"
    operator: str
    op_code: int
    threshold: float
    period_s: int
    grid_ms: int
    range_slots: int
    statistic: str | None  # for StateReasonData (single-metric alarms only)
    unit: str | None
    min_samples: float | None  # set when EvaluateLowSampleCountPercentile is "ignore"

    @property
    def anomaly(self) -> bool:
        """Whether the alarm compares against an anomaly band."""
        return self.op_code >= OP_OUTSIDE


def needed_samples(percentile: float) -> float:
    """Samples a period needs before a pNN is meaningful: 10/(1-p) above p50, 10/p below [AWS-doc].

    p0 and p100 (minimum and maximum) are meaningful with one sample [Inferred].
    """
    if percentile <= 0.0 or percentile >= 100.0:
        return 1.0
    if percentile >= 50.0:
        return round(1000.0 / (100.0 - percentile), 6)
    return round(1000.0 / percentile, 6)


def _returned_query(alarm: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The Metrics entry the alarm watches (ReturnData true, not the ThresholdMetricId band)."""
    band_id = alarm.get("ThresholdMetricId")
    for query in alarm.get("Metrics") or ():
        if query.get("ReturnData", True) is not False and query.get("Id") != band_id:
            found: Mapping[str, Any] = query
            return found
    return None


def _math_period(alarm: Mapping[str, Any]) -> int:
    query = _returned_query(alarm)
    if query is not None:
        stat = query.get("MetricStat")
        if stat and stat.get("Period"):
            return int(stat["Period"])
        if query.get("Period"):
            return int(query["Period"])
    for query in alarm.get("Metrics") or ():
        stat = query.get("MetricStat")
        if stat and stat.get("Period"):
            return int(stat["Period"])
    return 60


def _percentile_of(statistic: str | None) -> float | None:
    if statistic and statistic[0] == "p":
        try:
            return float(statistic[1:])
        except ValueError:
            return None
    return None


def _compile(alarm: Mapping[str, Any]) -> CompiledAlarm:
    n = int(alarm["EvaluationPeriods"])
    m = int(alarm.get("DatapointsToAlarm") or n)
    operator = str(alarm["ComparisonOperator"])
    metrics = alarm.get("Metrics")
    if metrics:
        period = _math_period(alarm)
        query = _returned_query(alarm)
        stat = query.get("MetricStat") if query else None
        watched = str(stat["Stat"]) if stat else None
        statistic = None  # AWS omits "statistic" from math alarms' StateReasonData
        unit = None
    else:
        period = int(alarm["Period"])
        watched = alarm.get("Statistic") or alarm.get("ExtendedStatistic")
        statistic = watched
        unit = alarm.get("Unit")
    treat = alarm.get("TreatMissingData") or "missing"
    if alarm.get("Namespace") == "AWS/DynamoDB" or any(
        ((q.get("MetricStat") or {}).get("Metric") or {}).get("Namespace") == "AWS/DynamoDB"
        for q in metrics or ()
    ):
        treat = "ignore"  # [AWS-doc] DynamoDB alarms keep their state when data is missing
    min_samples = None
    percentile = _percentile_of(watched)
    if percentile is not None and alarm.get("EvaluateLowSampleCountPercentile") == "ignore":
        min_samples = needed_samples(percentile)
    return CompiledAlarm(
        evaluation_periods=n,
        datapoints_to_alarm=m,
        treat_missing=treat,
        operator=operator,
        op_code=_OP_CODES[operator],
        threshold=float(alarm.get("Threshold") or 0.0),
        period_s=period,
        grid_ms=10_000 if period < 60 else 60_000,
        range_slots=default_range(n),
        statistic=statistic,
        unit=unit,
        min_samples=min_samples,
    )


_cache: dict[tuple[Any, ...], CompiledAlarm] = {}


def compile_alarm(alarm: Mapping[str, Any]) -> CompiledAlarm:
    """The parsed configuration of ``alarm`` (cached by the configuration values it reads)."""
    metrics = alarm.get("Metrics")
    key = (
        alarm.get("EvaluationPeriods"),
        alarm.get("DatapointsToAlarm"),
        alarm.get("ComparisonOperator"),
        alarm.get("Threshold"),
        alarm.get("Period"),
        alarm.get("Statistic"),
        alarm.get("ExtendedStatistic"),
        alarm.get("Unit"),
        alarm.get("Namespace"),
        alarm.get("TreatMissingData"),
        alarm.get("EvaluateLowSampleCountPercentile"),
        alarm.get("ThresholdMetricId"),
        json.dumps(metrics, sort_keys=True) if metrics else None,
    )
    compiled = _cache.get(key)
    if compiled is None:
        if len(_cache) >= _CACHE_LIMIT:
            _cache.clear()
        compiled = _cache[key] = _compile(alarm)
    return compiled
