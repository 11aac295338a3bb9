"""PutMetricAlarm and PutCompositeAlarm input validation, returning the normalized configuration.

``validate_put_metric_alarm`` and ``validate_put_composite_alarm`` check a request (botocore
input shape) as CloudWatch does and return the configuration part of the botocore
``MetricAlarm`` / ``CompositeAlarm`` output shape (no state keys, no timestamps, no Tags: the
store adds those; read tags with ``validate_fields.tags``). Bad input raises AwsError; nothing
is returned half-checked. Messages marked [AWS-observed] are AWS's words; the others are
[Inferred] in AWS's phrasing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from heron.awsapi.errors import AwsError, validation_error
from heron.monitor.alarms import validate_fields as f
from heron.monitor.alarms.composite import check_rule
from heron.monitor.alarms.evaluate import BAND_OPERATORS, STATIC_OPERATORS
from heron.monitor.alarms.missing_data import TREATMENTS
from heron.monitor.metrics import model
from heron.monitor.metrics.metric_queries import plan_queries

#: Statistic enum in the order AWS lists it in its constraint message [AWS-observed via LocalStack].
_STATISTIC_ENUM = ("Maximum", "SampleCount", "Sum", "Minimum", "Average")
_UNITS = (*model.UNITS[1:], "None")
_OPERATORS = STATIC_OPERATORS + BAND_OPERATORS
_SINGLE_METRIC = (
    "Namespace", "MetricName", "Dimensions", "Period", "Unit", "Statistic", "ExtendedStatistic",
)  # fmt: skip
_UNSUPPORTED = ("EvaluationCriteria", "EvaluationInterval", "WarmUpConfiguration")
MAX_METRICS = 20
MAX_METRIC_STATS = 10
MAX_EXPRESSIONS = 10

_PCT10_90 = r"(?:[1-8]\d(?:\.\d{1,10})?|90(?:\.0{1,10})?)"
_PCT = r"(?:\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)"
_ABS = r"-?\d+(?:\.\d+)?"
#: ExtendedStatistic forms PutMetricAlarm accepts [AWS-doc]: pNN, tmNN, tcNN, tsNN, wmNN, IQM,
#: PR(n:m) with absolute bounds, and TC/TM/TS/WM(X%:X%) with X between 10 and 90 inclusive.
_EXTENDED = re.compile(
    rf"^(?:p{_PCT}|(?:tm|tc|ts|wm){_PCT}|IQM"
    rf"|PR\((?:{_ABS}:(?:{_ABS})?|:{_ABS})\)"
    rf"|(?:TC|TM|TS|WM)\({_PCT10_90}%:{_PCT10_90}%\))$"
)
_ARN_PREFIX = "arn:aws:cloudwatch"


def alarm_arn(region: str, account_id: str, name: str) -> str:
    """The ARN of alarm ``name``."""
    return f"{_ARN_PREFIX}:{region}:{account_id}:alarm:{name}"


def is_valid_alarm_period(period: int) -> bool:
    """Alarm periods: 10, 20, 30 or any multiple of 60 [AWS-doc]."""
    return period in (10, 20, 30) or (period >= 60 and period % 60 == 0)


def _period_error() -> AwsError:
    # LocalStack's wording of AWS's message, with the 20 s period AWS added since [Inferred].
    return validation_error("Period must be 10, 20, 30 or a multiple of 60")


def _common(
    request: Mapping[str, Any], *, region: str, account_id: str, kinds: tuple[str, ...]
) -> dict[str, Any]:
    name = f.alarm_name(request.get("AlarmName"))
    out: dict[str, Any] = {"AlarmName": name, "AlarmArn": alarm_arn(region, account_id, name)}
    description = request.get("AlarmDescription")
    if description is not None:
        out["AlarmDescription"] = f.string(
            description, "AlarmDescription", "alarmDescription", 0, 1024
        )
    enabled = request.get("ActionsEnabled")
    out["ActionsEnabled"] = True if enabled is None else f.boolean(enabled, "ActionsEnabled")
    for member, path in f.ACTION_LISTS:
        out[member] = f.actions(request.get(member), member, path, region=region, kinds=kinds)
    f.tags(request.get("Tags"))
    return out


def _dimensions(raw: Any) -> list[dict[str, str]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise f.invalid(f"The value {raw} for parameter Dimensions is invalid.")
    if len(raw) > model.MAX_DIMENSIONS:
        raise f.constraint(
            "Value at 'dimensions' failed to satisfy constraint: Member must have length "
            f"less than or equal to {model.MAX_DIMENSIONS}"
        )
    out: list[dict[str, str]] = []
    names: set[str] = set()
    for i, dim in enumerate(raw, 1):
        if not isinstance(dim, dict):
            raise f.invalid(f"The value {dim} for parameter Dimensions.member.{i} is invalid.")
        for member in ("Name", "Value"):
            if dim.get(member) is None:
                raise f.not_null(f"dimensions.{i}.member.{member.lower()}")
        dim_name = f.string(
            dim["Name"], f"Dimensions.member.{i}.Name", f"dimensions.{i}.member.name", 1, 255
        )
        value = f.string(
            dim["Value"], f"Dimensions.member.{i}.Value", f"dimensions.{i}.member.value", 1, 1024
        )
        if dim_name in names:
            raise f.invalid(f"The dimension {dim_name} is duplicated in parameter Dimensions.")
        names.add(dim_name)
        out.append({"Name": dim_name, "Value": value})
    return out


def _single_metric(request: Mapping[str, Any], out: dict[str, Any]) -> int:
    """Check the single-metric members into ``out``; return the period."""
    for member in ("MetricName", "Namespace", "Period"):
        if request.get(member) is None:
            raise validation_error(f"{member} must not be null")  # [AWS-observed] for MetricName
    out["MetricName"] = f.string(request["MetricName"], "MetricName", "metricName", 1, 255)
    namespace = f.string(request["Namespace"], "Namespace", "namespace", 1, 255)
    if namespace.startswith(":"):
        raise f.constraint(
            f"Value '{namespace}' at 'namespace' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [^:].*"
        )
    out["Namespace"] = namespace
    statistic, extended = request.get("Statistic"), request.get("ExtendedStatistic")
    if statistic is not None and extended is not None:
        raise f.combination("Exactly one of Statistic or ExtendedStatistic must be specified.")
    if statistic is None and extended is None:
        raise validation_error("Exactly one of Statistic or ExtendedStatistic must be specified.")
    if statistic is not None:
        if statistic not in _STATISTIC_ENUM:
            raise f.constraint(
                f"Value '{statistic}' at 'statistic' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(_STATISTIC_ENUM)}]"
            )
        out["Statistic"] = statistic
    else:
        if not isinstance(extended, str) or _EXTENDED.match(extended) is None:
            # [AWS-observed]
            raise f.invalid(
                f"The value {extended} for parameter ExtendedStatistic is not supported."
            )
        out["ExtendedStatistic"] = extended
    out["Dimensions"] = _dimensions(request.get("Dimensions"))
    period = f.integer(request["Period"], "Period", "period", 1)
    if not is_valid_alarm_period(period):
        raise _period_error()
    out["Period"] = period
    unit = request.get("Unit")
    if unit is not None:
        if unit not in _UNITS:
            raise f.constraint(
                f"Value '{unit}' at 'unit' failed to satisfy constraint: "
                f"Member must satisfy enum value set: [{', '.join(_UNITS)}]"
            )
        out["Unit"] = unit
    return period


def _metrics(request: Mapping[str, Any], out: dict[str, Any]) -> int:
    """Check a metric-math / anomaly alarm's Metrics into ``out``; return the watched period."""
    for member in _SINGLE_METRIC:
        if request.get(member) is not None:  # [AWS-observed] for Statistic and Unit
            raise validation_error(f"{member} should not be set if list of Metrics is set.")
    raw = request["Metrics"]
    if not isinstance(raw, list) or not all(isinstance(q, dict) for q in raw):
        raise f.invalid(f"The value {raw} for parameter Metrics is invalid.")
    if len(raw) > MAX_METRICS:
        raise f.invalid(f"The collection Metrics must not have a size greater than {MAX_METRICS}.")
    if sum(1 for q in raw if q.get("MetricStat") is not None) > MAX_METRIC_STATS:
        raise f.invalid(
            f"The collection Metrics must not contain more than {MAX_METRIC_STATS} metrics."
        )
    if sum(1 for q in raw if q.get("Expression") is not None) > MAX_EXPRESSIONS:
        raise f.invalid(
            f"The collection Metrics must not contain more than {MAX_EXPRESSIONS} expressions."
        )
    try:
        plan = plan_queries(raw)
    except AwsError as exc:  # same checks as GetMetricData, worded for this member
        raise AwsError(
            exc.code,
            exc.message.replace("MetricDataQueries", "Metrics"),
            status=exc.status,
            sender=exc.sender,
            query_code=exc.query_code,
        ) from None
    band_id = request.get("ThresholdMetricId")
    returned = [q for q in plan.queries if q.return_data and q.id != band_id]
    if len(returned) != 1:  # [AWS-observed]
        raise validation_error("Exactly one element of the metrics list should return data.")
    periods = {q.period_s for q in plan.queries if q.metric_stat is not None}
    if len(periods) > 1:
        raise validation_error("All metrics in the Metrics list must have the same period.")
    if band_id is not None:
        band = plan.by_id().get(band_id)
        if band is None or not (band.expression or "").lstrip().startswith(
            "ANOMALY_DETECTION_BAND"
        ):
            raise validation_error(
                f"ThresholdMetricId {band_id} must be the Id of an ANOMALY_DETECTION_BAND "
                "expression in Metrics."
            )
    watched = returned[0]
    period = watched.period_s or (periods.pop() if periods else None)
    if period is None:
        raise validation_error("The expression that the alarm watches must have a Period.")
    for q in plan.queries:
        if q.period_s is not None and not is_valid_alarm_period(q.period_s):
            raise _period_error()
    out["Dimensions"] = []
    out["Metrics"] = [dict(q) for q in raw]
    return period


def validate_put_metric_alarm(
    request: Mapping[str, Any], *, region: str, account_id: str
) -> dict[str, Any]:
    """Validate a PutMetricAlarm request; return the alarm's configuration (MetricAlarm shape)."""
    out = _common(request, region=region, account_id=account_id, kinds=f.METRIC_ALARM_ACTIONS)
    for member in _UNSUPPORTED:
        if request.get(member) is not None:
            raise f.invalid(f"Heron does not support {member} (PromQL alarms) yet.")
    if request.get("ActionConfiguration") is not None:
        raise f.invalid("Heron does not support ActionConfiguration yet.")
    window = request.get("EvaluationWindow")
    if window is not None and (not isinstance(window, dict) or set(window) != {"SlidingWindow"}):
        raise f.invalid(
            "Heron supports only EvaluationWindow SlidingWindow (the default); "
            "WallClockWindow is not supported yet."
        )
    operator = request.get("ComparisonOperator")
    if operator is None:
        raise f.missing("ComparisonOperator")
    if operator not in _OPERATORS:
        raise f.constraint(
            f"Value '{operator}' at 'comparisonOperator' failed to satisfy constraint: "
            f"Member must satisfy enum value set: [{', '.join(_OPERATORS)}]"
        )
    if request.get("EvaluationPeriods") is None:
        raise f.missing("EvaluationPeriods")
    n = f.integer(request["EvaluationPeriods"], "EvaluationPeriods", "evaluationPeriods", 1)
    m = request.get("DatapointsToAlarm")
    if m is not None:
        m = f.integer(m, "DatapointsToAlarm", "datapointsToAlarm", 1)
        if m > n:  # [AWS-observed]
            raise validation_error(
                "DatapointsToAlarm must be less than or equal to EvaluationPeriods"
            )
    treat = request.get("TreatMissingData")
    if treat is not None:
        f.string(treat, "TreatMissingData", "treatMissingData", 1, 255)
        if treat not in TREATMENTS:  # LocalStack's wording [AWS-observed there]
            raise validation_error(
                f"The value {treat} is not supported for TreatMissingData parameter. "
                "Supported values are [breaching, notBreaching, ignore, missing]."
            )
    low = request.get("EvaluateLowSampleCountPercentile")
    if low is not None:
        f.string(
            low, "EvaluateLowSampleCountPercentile", "evaluateLowSampleCountPercentile", 1, 255
        )
        if low not in ("evaluate", "ignore"):  # [AWS-observed via moto]
            raise validation_error(
                f"Option {low} is not supported. Supported options for parameter "
                "EvaluateLowSampleCountPercentile are evaluate and ignore."
            )
    threshold, band_id = request.get("Threshold"), request.get("ThresholdMetricId")
    if threshold is not None and band_id is not None:  # [AWS-observed]
        raise validation_error("Threshold and ThresholdMetricId cannot both be set")
    if band_id is not None:
        f.string(band_id, "ThresholdMetricId", "thresholdMetricId", 1, 255)
        if request.get("Metrics") is None:
            raise validation_error("ThresholdMetricId can only be used with Metrics.")
        if operator not in BAND_OPERATORS:
            raise validation_error(
                f"ComparisonOperator {operator} cannot be used with ThresholdMetricId; use "
                "LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold or "
                "GreaterThanUpperThreshold."
            )
    elif operator in BAND_OPERATORS:
        raise validation_error(f"ComparisonOperator {operator} requires ThresholdMetricId.")
    elif threshold is None:
        raise f.missing("Threshold")
    if request.get("Metrics") is not None:
        period = _metrics(request, out)
    else:
        period = _single_metric(request, out)
    limit = 86_400 if period < 3600 else 604_800
    if period * n > limit:
        raise validation_error(
            f"Period ({period}) multiplied by EvaluationPeriods ({n}) must not exceed "
            f"{limit} seconds."
        )
    out["EvaluationPeriods"] = n
    if m is not None:
        out["DatapointsToAlarm"] = m
    if threshold is not None:
        out["Threshold"] = f.number(threshold, "Threshold")
    out["ComparisonOperator"] = operator
    if treat is not None:
        out["TreatMissingData"] = treat
    if low is not None:
        out["EvaluateLowSampleCountPercentile"] = low
    if band_id is not None:
        out["ThresholdMetricId"] = band_id
    if window is not None:
        out["EvaluationWindow"] = {"SlidingWindow": {}}
    return _ordered(out, _METRIC_ALARM_ORDER)


_METRIC_ALARM_ORDER = (
    "AlarmName", "AlarmArn", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
    "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
    "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
    "ComparisonOperator", "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics",
    "ThresholdMetricId", "EvaluationWindow",
)  # fmt: skip
_COMPOSITE_ORDER = (
    "ActionsEnabled", "AlarmActions", "AlarmArn", "AlarmDescription", "AlarmName", "AlarmRule",
    "InsufficientDataActions", "OKActions", "ActionsSuppressor", "ActionsSuppressorWaitPeriod",
    "ActionsSuppressorExtensionPeriod",
)  # fmt: skip


def _ordered(values: dict[str, Any], order: tuple[str, ...]) -> dict[str, Any]:
    return {k: values[k] for k in order if k in values}


def validate_put_composite_alarm(
    request: Mapping[str, Any],
    *,
    region: str,
    account_id: str,
    existing: Mapping[str, Mapping[str, Any]],
    allow_cycles: bool = False,
) -> dict[str, Any]:
    """Validate a PutCompositeAlarm request against the ``existing`` alarms (name -> alarm).

    Every alarm the rule names must exist (or be this alarm); a rule that would close a cycle
    of composites is refused unless ``allow_cycles`` (AWS itself lets cycles exist and stops
    evaluating at them [AWS-doc]; Heron refuses them by default).
    """
    out = _common(request, region=region, account_id=account_id, kinds=f.COMPOSITE_ALARM_ACTIONS)
    if request.get("ActionConfiguration") is not None:
        raise f.invalid("Heron does not support ActionConfiguration yet.")
    rule = request.get("AlarmRule")
    if rule is None:
        raise f.not_null("alarmRule")
    if not isinstance(rule, str):
        raise f.invalid(f"The value {rule} for parameter AlarmRule is invalid.")
    if not rule:
        raise f.constraint(
            "Value '' at 'alarmRule' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    check_rule(
        out["AlarmName"], rule, existing, region=region, account_id=account_id,
        allow_cycles=allow_cycles,
    )  # fmt: skip
    out["AlarmRule"] = rule
    suppressor = request.get("ActionsSuppressor")
    wait = request.get("ActionsSuppressorWaitPeriod")
    extension = request.get("ActionsSuppressorExtensionPeriod")
    if suppressor is not None:
        text = f.string(suppressor, "ActionsSuppressor", "actionsSuppressor", 1, 1600)
        target = text.rpartition(":alarm:")[2] if text.startswith("arn:") else text
        if target not in existing:
            raise validation_error(f"The ActionsSuppressor alarm {text} does not exist.")
        for member, value in (
            ("ActionsSuppressorWaitPeriod", wait),
            ("ActionsSuppressorExtensionPeriod", extension),
        ):
            if value is None:
                raise validation_error(f"{member} must be set when ActionsSuppressor is set.")
            out[member] = f.integer(value, member, member[0].lower() + member[1:], 0)
        out["ActionsSuppressor"] = text
    elif wait is not None or extension is not None:
        raise validation_error(
            "ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod can only be set "
            "with ActionsSuppressor."
        )
    return _ordered(out, _COMPOSITE_ORDER)
