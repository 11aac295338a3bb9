"""CloudWatch's refusals as boto3 raises them over JSON 1.0, Query and Smithy RPC v2 CBOR.

Whatever the protocol, boto3 must report the same Query-style ``Error.Code`` (CloudWatch is
awsQueryCompatible), AWS's message and HTTP status; a refused PutMetricData stores nothing, not
even the valid datums before the bad one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from awsapi_integration.live_monitor import PROTOCOLS, LiveMonitor, error_of

MINUTE = 60
#: The modelled exception each Query code stands for (JSON and CBOR bodies carry this name).
MODELLED = {
    "InvalidParameterValue": "InvalidParameterValueException",
    "InvalidParameterCombination": "InvalidParameterCombinationException",
    "MissingParameter": "MissingRequiredParameterException",
    "ValidationError": "ValidationException",
    "InvalidNextToken": "InvalidNextToken",
}


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    """The wire protocol the test's CloudWatch client speaks."""
    return str(request.param)


@pytest.fixture
def cw(live: LiveMonitor, protocol: str) -> Any:
    """A CloudWatch client forced to ``protocol``."""
    return live.client("cloudwatch", protocol)


def refused(call: Callable[[], Any], protocol: str) -> tuple[str, str, int]:
    """Run a call that must fail; check the protocol-independent error envelope."""
    with pytest.raises(ClientError) as info:
        call()
    response = info.value.response
    code, message, status = error_of(info.value)
    assert response["Error"]["Type"] == "Sender"
    assert response["ResponseMetadata"]["RequestId"]
    if protocol != "query":
        # JSON and CBOR carry the modelled name; botocore keeps it beside the Query code.
        assert response["Error"]["QueryErrorCode"] == MODELLED[code]
    return code, message, status


def now_s() -> int:
    return int(time.time())


def datum(name: str = "Good", **extra: Any) -> dict[str, Any]:
    return {"MetricName": name, "Value": 1.0, **extra}


# (case id, MetricData beyond one valid datum, Query code, message)
PUT_REFUSALS: list[tuple[str, list[dict[str, Any]], str, str]] = [
    (
        "nan",
        [{"MetricName": "Bad", "Value": float("nan")}],
        "InvalidParameterValue",
        "The value NaN for parameter MetricData.member.2.Value is invalid.",
    ),
    (
        "infinity",
        [{"MetricName": "Bad", "Values": [1.0, float("inf")]}],
        "InvalidParameterValue",
        "The value Infinity for parameter MetricData.member.2.Values.member.2 is invalid.",
    ),
    (
        "value-and-values",
        [{"MetricName": "Bad", "Value": 1.0, "Values": [1.0]}],
        "InvalidParameterCombination",
        "The parameters MetricData.member.2.Value and MetricData.member.2.Values are mutually "
        "exclusive and you have specified both.",
    ),
    (
        "value-and-statistic-values",
        [{"MetricName": "Bad", "Value": 1.0,
          "StatisticValues": {"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}],
        "InvalidParameterCombination",
        "The parameters MetricData.member.2.Value and MetricData.member.2.StatisticValues are "
        "mutually exclusive and you have specified both.",
    ),
    (
        "values-counts-size",
        [{"MetricName": "Bad", "Values": [1.0, 2.0], "Counts": [1.0]}],
        "InvalidParameterValue",
        "The parameters MetricData.member.2.Values and MetricData.member.2.Counts must be of the "
        "same size.",
    ),
    (
        "too-many-dimensions",
        [{"MetricName": "Bad", "Value": 1.0,
          "Dimensions": [{"Name": f"d{i}", "Value": "v"} for i in range(31)]}],
        "ValidationError",
        "1 validation error detected: Value at 'metricData.2.member.dimensions' failed to "
        "satisfy constraint: Member must have length less than or equal to 30",
    ),
    (
        "bad-unit",
        [{"MetricName": "Bad", "Value": 1.0, "Unit": "Parsecs"}],
        "ValidationError",
        "1 validation error detected: Value 'Parsecs' at 'metricData.2.member.unit' failed to "
        "satisfy constraint: Member must satisfy enum value set: [",
    ),
    (
        "too-old",
        [{"MetricName": "Bad", "Value": 1.0, "Timestamp": time.time() - 15 * 86400}],
        "InvalidParameterValue",
        "The parameter MetricData.member.2.Timestamp must specify a time within the past two "
        "weeks.",
    ),
    (
        "too-far-ahead",
        [{"MetricName": "Bad", "Value": 1.0, "Timestamp": time.time() + 3 * 3600}],
        "InvalidParameterValue",
        "The parameter MetricData.member.2.Timestamp must specify a time no more than two hours "
        "in the future.",
    ),
    (
        "too-many-datums",
        [datum(f"Many{i}") for i in range(1000)],
        "InvalidParameterValue",
        "The collection MetricData must not have a size greater than 1000.",
    ),
    (
        "storage-resolution",
        [{"MetricName": "Bad", "Value": 1.0, "StorageResolution": 5}],
        "InvalidParameterValue",
        "The value 5 for parameter MetricData.member.2.StorageResolution is invalid.",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("bad", "code", "message"),
    [case[1:] for case in PUT_REFUSALS],
    ids=[case[0] for case in PUT_REFUSALS],
)
def test_refused_put_metric_data_stores_nothing(
    cw: Any, protocol: str, bad: list[dict[str, Any]], code: str, message: str,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    ns = f"Refused/{request.node.callspec.id}"
    got_code, got_message, status = refused(
        lambda: cw.put_metric_data(Namespace=ns, MetricData=[datum(), *bad]), protocol
    )
    assert (got_code, status) == (code, 400)
    assert got_message.startswith(message) if message.endswith("[") else got_message == message
    # No trace of the request: neither the valid first datum nor the bad one.
    assert cw.list_metrics(Namespace=ns)["Metrics"] == []
    stats = cw.get_metric_statistics(
        Namespace=ns, MetricName="Good", StartTime=now_s() - 3600, EndTime=now_s() + 60,
        Period=3600, Statistics=["SampleCount"],
    )  # fmt: skip
    assert stats["Datapoints"] == []


def test_reserved_namespace_and_missing_metric_data(cw: Any, protocol: str) -> None:
    assert refused(
        lambda: cw.put_metric_data(Namespace="AWS/Lambda", MetricData=[datum()]), protocol
    ) == ("InvalidParameterValue", "The value AWS/Lambda for parameter Namespace is invalid.", 400)
    assert refused(lambda: cw.put_metric_data(Namespace="Empty", MetricData=[]), protocol) == (
        "MissingParameter", "The parameter MetricData is required.", 400,
    )  # fmt: skip


def _statistics(cw: Any, **overrides: Any) -> Any:
    now = now_s()
    args: dict[str, Any] = {
        "Namespace": "Errors", "MetricName": "M", "StartTime": now - 600, "EndTime": now,
        "Period": MINUTE, "Statistics": ["Sum"],
    }  # fmt: skip
    args.update(overrides)
    return cw.get_metric_statistics(**{k: v for k, v in args.items() if v is not None})


def test_get_metric_statistics_refusals(cw: Any, protocol: str) -> None:
    now = now_s()
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"StartTime": now, "EndTime": now},
         ("InvalidParameterValue",
          "The parameter StartTime must be less than the parameter EndTime.")),
        ({"StartTime": now, "EndTime": now - 60},
         ("InvalidParameterValue",
          "The parameter StartTime must be less than the parameter EndTime.")),
        ({"StartTime": now - 86400 - 60, "EndTime": now, "Period": 60},
         ("InvalidParameterCombination",
          "You have requested up to 1441 datapoints, which exceeds the limit of 1440. You may "
          "reduce the datapoints requested by increasing Period, or decreasing the time range.")),
        ({"Statistics": ["Median"]},
         ("ValidationError",
          "1 validation error detected: Value '[Median]' at 'statistics' failed to satisfy "
          "constraint: Member must satisfy constraint: [Member must satisfy enum value set: "
          "[SampleCount, Average, Sum, Minimum, Maximum]]")),
        ({"Statistics": None, "ExtendedStatistics": ["p101"]},
         ("InvalidParameterValue",
          "The value p101 for parameter ExtendedStatistics is not supported.")),
        ({"ExtendedStatistics": ["p99"]},
         ("InvalidParameterCombination",
          "Must specify either Statistics or ExtendedStatistics, but not both.")),
        ({"Period": 45},
         ("InvalidParameterValue", "The parameter Period must be a multiple of 60.")),
    ]  # fmt: skip
    for overrides, (code, message) in cases:
        assert refused(lambda o=overrides: _statistics(cw, **o), protocol) == (code, message, 400)
    # 1,440 datapoints exactly is allowed.
    assert _statistics(cw, StartTime=now - 86400, EndTime=now)["Datapoints"] == []


def _query(expression: str, ns: str = "Errors") -> list[dict[str, Any]]:
    return [
        {"Id": "m1", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "M"},
                                    "Period": MINUTE, "Stat": "Sum"}},
        {"Id": "e1", "Expression": expression},
    ]  # fmt: skip


def test_get_metric_data_refusals(cw: Any, protocol: str) -> None:
    now = now_s()
    window = {"StartTime": now - 600, "EndTime": now}
    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({"MetricDataQueries": _query("m1 +")},
         ("ValidationError", "Error in expression 'e1': Invalid syntax")),
        ({"MetricDataQueries": _query("m9 * 2")},
         ("ValidationError", "Error in expression 'e1': Unrecognized metric identifier: m9")),
        ({"MetricDataQueries": _query("FROB(m1)")},
         ("ValidationError", "Error in expression 'e1': Unrecognized function: FROB")),
        ({"MetricDataQueries": [{**_query("")[0], "MetricStat": {
            **_query("")[0]["MetricStat"], "Stat": "Median"}}]},
         ("ValidationError",
          "The value for parameter MetricDataQueries.member.1.MetricStat.Stat is not a valid "
          "statistic.")),
        ({"MetricDataQueries": _query("m1 * 2"), "StartTime": now, "EndTime": now - 60},
         ("InvalidParameterValue",
          "The parameter StartTime must be less than the parameter EndTime.")),
        ({"MetricDataQueries": _query("m1 * 2"), "NextToken": "not-a-token"},
         ("InvalidNextToken", "The NextToken is not valid.")),
    ]  # fmt: skip
    for overrides, (code, message) in cases:
        args = {**window, **overrides}
        assert refused(lambda a=args: cw.get_metric_data(**a), protocol) == (code, message, 400)


def test_list_metrics_refusals(cw: Any, protocol: str) -> None:
    assert refused(lambda: cw.list_metrics(NextToken="@@@"), protocol) == (
        "InvalidParameterValue", "The value @@@ for parameter NextToken is invalid.", 400,
    )  # fmt: skip
    assert refused(lambda: cw.list_metrics(RecentlyActive="PT1H"), protocol) == (
        "ValidationError",
        "1 validation error detected: Value 'PT1H' at 'recentlyActive' failed to satisfy "
        "constraint: Member must satisfy enum value set: [PT3H]",
        400,
    )
