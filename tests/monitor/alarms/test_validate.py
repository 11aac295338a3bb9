"""PutMetricAlarm / PutCompositeAlarm validation: normalized output and AWS's errors."""

from __future__ import annotations

from typing import Any

import pytest

from heron.awsapi.errors import AwsError
from heron.monitor.alarms.validate import (
    validate_put_composite_alarm,
    validate_put_metric_alarm,
)

REGION, ACCOUNT = "us-east-1", "123456789012"
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"


def base(**changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "AlarmName": "LambdaErrors",
        "MetricName": "Errors",
        "Namespace": "AWS/Lambda",
        "Statistic": "Sum",
        "Dimensions": [{"Name": "FunctionName", "Value": "send"}],
        "Period": 60,
        "EvaluationPeriods": 5,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "AlarmActions": [TOPIC],
    }
    for key, value in changes.items():
        if value is None:
            request.pop(key, None)
        else:
            request[key] = value
    return request


def check(request: dict[str, Any]) -> dict[str, Any]:
    return validate_put_metric_alarm(request, region=REGION, account_id=ACCOUNT)


def fails(request: dict[str, Any]) -> AwsError:
    with pytest.raises(AwsError) as caught:
        check(request)
    return caught.value


def test_minimal_alarm_is_normalized_in_describe_alarms_shape() -> None:
    out = check(base())
    assert list(out) == [
        "AlarmName", "AlarmArn", "ActionsEnabled", "OKActions", "AlarmActions",
        "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "Dimensions", "Period",
        "EvaluationPeriods", "Threshold", "ComparisonOperator",
    ]  # fmt: skip
    assert out["AlarmArn"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:LambdaErrors"
    assert out["ActionsEnabled"] is True
    assert (out["OKActions"], out["InsufficientDataActions"]) == ([], [])
    assert out["Threshold"] == 1.0 and isinstance(out["Threshold"], float)
    # Members left unset stay absent (AWS omits DatapointsToAlarm, TreatMissingData, ...).
    assert "DatapointsToAlarm" not in out and "TreatMissingData" not in out


def test_optional_members_are_kept() -> None:
    out = check(base(DatapointsToAlarm=3, TreatMissingData="notBreaching", Unit="Count",
                     AlarmDescription="d", ActionsEnabled=False, ExtendedStatistic="p99",
                     Statistic=None, EvaluateLowSampleCountPercentile="ignore",
                     Tags=[{"Key": "severity", "Value": "critical"}]))  # fmt: skip
    assert out["DatapointsToAlarm"] == 3 and out["TreatMissingData"] == "notBreaching"
    assert out["ExtendedStatistic"] == "p99" and "Statistic" not in out
    assert out["ActionsEnabled"] is False and "Tags" not in out


@pytest.mark.parametrize("period", [10, 20, 30, 60, 120, 3600])
def test_valid_periods(period: int) -> None:
    assert check(base(Period=period, EvaluationPeriods=1))["Period"] == period


@pytest.mark.parametrize(
    "stat",
    ["p0", "p99", "p99.9", "p100", "p99.1234567891", "tm90", "tc90", "ts90", "wm90", "IQM",
     "PR(10:300)", "PR(:300)", "TM(10%:90%)", "TC(25%:75%)", "TS(10%:10%)", "WM(40.5%:90%)"],
)  # fmt: skip
def test_extended_statistic_grammar_accepts(stat: str) -> None:
    assert check(base(Statistic=None, ExtendedStatistic=stat))["ExtendedStatistic"] == stat


@pytest.mark.parametrize(
    "stat", ["90", "p101", "P99", "TM(5%:90%)", "TM(10%:95%)", "tm", "IQR", "TM(:90%)", "pp9"]
)
def test_extended_statistic_grammar_rejects(stat: str) -> None:
    error = fails(base(Statistic=None, ExtendedStatistic=stat))
    assert (error.code, error.query_code) == (
        "InvalidParameterValueException",
        "InvalidParameterValue",
    )
    assert error.message == f"The value {stat} for parameter ExtendedStatistic is not supported."


@pytest.mark.parametrize(
    ("changes", "query_code", "message"),
    [
        ({"AlarmName": None}, "ValidationError",
         "1 validation error detected: Value null at 'alarmName' failed to satisfy constraint: "
         "Member must not be null"),
        ({"AlarmName": "x" * 256}, "ValidationError", None),
        ({"AlarmName": "bad\x07name"}, "InvalidParameterValue", None),
        ({"ComparisonOperator": "Bigger"}, "ValidationError", None),
        ({"ComparisonOperator": None}, "MissingParameter",
         "The parameter ComparisonOperator is required."),
        ({"EvaluationPeriods": None}, "MissingParameter", None),
        ({"EvaluationPeriods": 0}, "ValidationError",
         "1 validation error detected: Value '0' at 'evaluationPeriods' failed to satisfy "
         "constraint: Member must have value greater than or equal to 1"),
        ({"DatapointsToAlarm": 6}, "ValidationError",
         "DatapointsToAlarm must be less than or equal to EvaluationPeriods"),
        ({"Threshold": None}, "MissingParameter", "The parameter Threshold is required."),
        ({"Statistic": None}, "ValidationError",
         "Exactly one of Statistic or ExtendedStatistic must be specified."),
        ({"ExtendedStatistic": "p99"}, "InvalidParameterCombination",
         "Exactly one of Statistic or ExtendedStatistic must be specified."),
        ({"Statistic": "Mean"}, "ValidationError",
         "1 validation error detected: Value 'Mean' at 'statistic' failed to satisfy constraint: "
         "Member must satisfy enum value set: [Maximum, SampleCount, Sum, Minimum, Average]"),
        ({"Period": 45}, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        ({"Period": 90}, "ValidationError", "Period must be 10, 20, 30 or a multiple of 60"),
        ({"Period": 60, "EvaluationPeriods": 1441}, "ValidationError",
         "Period (60) multiplied by EvaluationPeriods (1441) must not exceed 86400 seconds."),
        ({"Period": 3600, "EvaluationPeriods": 169}, "ValidationError", None),
        ({"MetricName": None}, "ValidationError", "MetricName must not be null"),
        ({"Namespace": ":x"}, "ValidationError", None),
        ({"Unit": "Parsecs"}, "ValidationError", None),
        ({"TreatMissingData": "sometimes"}, "ValidationError",
         "The value sometimes is not supported for TreatMissingData parameter. Supported values "
         "are [breaching, notBreaching, ignore, missing]."),
        ({"EvaluateLowSampleCountPercentile": "unknown"}, "ValidationError",
         "Option unknown is not supported. Supported options for parameter "
         "EvaluateLowSampleCountPercentile are evaluate and ignore."),
        ({"Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}, "ValidationError", None),
        ({"Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}]},
         "InvalidParameterValue", None),
        ({"AlarmActions": [TOPIC] * 6}, "ValidationError", None),
        ({"OKActions": ["arn:aws:sns:us-east-1:123:short-account"]}, "ValidationError",
         "Invalid arn syntax: arn:aws:sns:us-east-1:123:short-account"),
        ({"OKActions": [f"arn:aws:sns:eu-west-1:{ACCOUNT}:t"]}, "ValidationError",
         "Invalid region eu-west-1 specified. Only us-east-1 is supported."),
        ({"Threshold": float("nan")}, "InvalidParameterValue", None),
        ({"ComparisonOperator": "GreaterThanUpperThreshold"}, "ValidationError",
         "ComparisonOperator GreaterThanUpperThreshold requires ThresholdMetricId."),
        ({"Tags": [{"Key": f"k{i}", "Value": ""} for i in range(51)]}, "LimitExceeded", None),
        ({"EvaluationCriteria": {"PromQLCriteria": {}}}, "InvalidParameterValue", None),
        ({"EvaluationWindow": {"WallClockWindow": {"Timezone": "UTC"}}}, "InvalidParameterValue", None),
    ],
)  # fmt: skip
def test_bad_input(changes: dict[str, Any], query_code: str, message: str | None) -> None:
    error = fails(base(**changes))
    assert error.query_code == query_code
    if message is not None:
        assert error.message == message


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify",
        f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:notify:live",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts.fifo",
        f"arn:aws:automate:{REGION}:ec2:reboot",
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:opsitem:3#CATEGORY=Availability",
    ],
)
def test_action_arns_accepted(arn: str) -> None:
    assert check(base(OKActions=[arn, arn]))["OKActions"] == [arn]


def _math(**changes: Any) -> dict[str, Any]:
    metric = {"Namespace": "AWS/Lambda", "MetricName": "Errors"}
    removed = {"MetricName": None, "Namespace": None, "Statistic": None, "Dimensions": None,
               "Period": None}  # fmt: skip
    return base(
        **{**removed, **changes},
        Metrics=[
            {"Id": "errors", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
             "ReturnData": False},
            {"Id": "invocations", "MetricStat": {"Metric": {**metric, "MetricName": "Invocations"},
                                                 "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "rate", "Expression": "100 * FILL(errors, 0) / invocations", "ReturnData": True},
        ],
    )  # fmt: skip


def test_metric_math_alarm() -> None:
    out = check(_math())
    assert "MetricName" not in out and "Period" not in out and out["Dimensions"] == []
    assert [q["Id"] for q in out["Metrics"]] == ["errors", "invocations", "rate"]


def test_metric_math_errors() -> None:
    assert fails(_math(Statistic="Sum")).message == (
        "Statistic should not be set if list of Metrics is set."
    )
    assert fails(_math(Unit="Count")).message == "Unit should not be set if list of Metrics is set."
    two = _math()
    two["Metrics"][0]["ReturnData"] = True
    assert fails(two).message == "Exactly one element of the metrics list should return data."
    bad = _math()
    bad["Metrics"][2]["Expression"] = "100 * nothing"
    assert (
        fails(bad).message == "Error in expression 'rate': Unrecognized metric identifier: nothing"
    )
    bad_id = _math()
    bad_id["Metrics"][0]["Id"] = "Bad"
    assert fails(bad_id).message == (  # GetMetricData's check, worded for Metrics
        "The value Bad for parameter Metrics.member.1.Id is not matching the expected pattern "
        "^[a-z][a-zA-Z0-9_]*$."
    )
    mixed = _math()
    mixed["Metrics"][1]["MetricStat"]["Period"] = 300
    assert fails(mixed).query_code == "ValidationError"
    many = _math()
    many["Metrics"] = [{"Id": f"m{i}", "Expression": "1"} for i in range(21)]
    assert fails(many).query_code == "InvalidParameterValue"


def test_anomaly_alarm() -> None:
    metric = {"Namespace": "AWS/ApiGateway", "MetricName": "Count"}
    request = base(
        MetricName=None, Namespace=None, Statistic=None, Dimensions=None, Period=None,
        Threshold=None, ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold",
        ThresholdMetricId="ad1",
        Metrics=[
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"},
             "ReturnData": True},
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)", "ReturnData": True},
        ],
    )  # fmt: skip
    assert check(request)["ThresholdMetricId"] == "ad1"
    assert fails({**request, "Threshold": 1.0}).message == (
        "Threshold and ThresholdMetricId cannot both be set"
    )
    assert fails({**request, "ComparisonOperator": "GreaterThanThreshold"}).query_code == (
        "ValidationError"
    )
    assert fails({**request, "ThresholdMetricId": "m1"}).query_code == "ValidationError"


def composite(existing: dict[str, Any], **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"AlarmName": "c", "AlarmRule": "ALARM(LambdaErrors)", **changes}
    return validate_put_composite_alarm(
        request, region=REGION, account_id=ACCOUNT, existing=existing
    )


def test_composite_alarm() -> None:
    existing = {"LambdaErrors": check(base())}
    out = composite(existing, AlarmActions=[TOPIC])
    assert out["AlarmRule"] == "ALARM(LambdaErrors)" and out["AlarmActions"] == [TOPIC]
    assert out["AlarmArn"].endswith(":alarm:c")
    with pytest.raises(AwsError, match="do not exist"):
        composite(existing, AlarmRule="ALARM(Other)")
    with pytest.raises(AwsError, match="Unsupported token 'OR' at char 23"):
        composite(existing, AlarmRule="ALARM(LambdaErrors) OR OR")
    with pytest.raises(AwsError, match="Member must not be null"):
        composite(existing, AlarmRule=None)
    with pytest.raises(AwsError, match="Invalid arn syntax"):
        composite(existing, AlarmActions=[f"arn:aws:automate:{REGION}:ec2:reboot"])
    with pytest.raises(AwsError, match="must be set when ActionsSuppressor"):
        composite(existing, ActionsSuppressor="LambdaErrors")
    out = composite(existing, ActionsSuppressor="LambdaErrors", ActionsSuppressorWaitPeriod=60,
                    ActionsSuppressorExtensionPeriod=60)  # fmt: skip
    assert out["ActionsSuppressor"] == "LambdaErrors"


def test_composite_cycle_is_refused() -> None:
    existing = {
        "LambdaErrors": check(base()),
        "b": {"AlarmName": "b", "AlarmRule": "ALARM(c) OR ALARM(LambdaErrors)"},
    }
    with pytest.raises(AwsError, match="cycle: c -> b -> c"):
        composite(existing, AlarmRule="ALARM(b)")
