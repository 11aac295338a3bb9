"""CloudWatch metric operations: validation (exact code and message, nothing stored) and results."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heron.awsapi.cloudwatch_ops import cloudwatch_operations
from heron.awsapi.errors import AwsError
from heron.monitor.metrics.store import MetricStore

NOW = 1_700_000_040.0
Ops = dict[str, Callable[[dict[str, Any]], dict[str, Any]]]


@pytest.fixture
def store(tmp_path: Path) -> MetricStore:
    return MetricStore(tmp_path, clock=lambda: NOW)


@pytest.fixture
def ops(store: MetricStore) -> Ops:
    return cloudwatch_operations(store, clock=lambda: NOW)


def put(ops: Ops, *data: dict[str, Any], namespace: str = "App") -> dict[str, Any]:
    return ops["PutMetricData"]({"Namespace": namespace, "MetricData": list(data)})


def datum(**fields: Any) -> dict[str, Any]:
    return {"MetricName": "Latency", "Timestamp": NOW - 30, **fields}


def stats_request(**fields: Any) -> dict[str, Any]:
    return {
        "Namespace": "App", "MetricName": "Latency", "StartTime": NOW - 600, "EndTime": NOW,
        "Period": 60, "Statistics": ["Sum"], **fields,
    }  # fmt: skip


def total(ops: Ops) -> float:
    got = ops["GetMetricStatistics"](stats_request(StartTime=NOW - 3 * 86400, Period=86400 * 3))
    return sum(p["Sum"] for p in got["Datapoints"])


#: Query-protocol code -> the modelled exception name (the JSON/CBOR ``__type``).
EXCEPTION_NAMES = {
    "InvalidParameterCombination": "InvalidParameterCombinationException",
    "InvalidParameterValue": "InvalidParameterValueException",
    "MissingParameter": "MissingRequiredParameterException",
    "ValidationError": "ValidationException",
}
P = "MetricData.member.2"
PUT_ERRORS = [
    ([datum(Value=1, Values=[1.0])], "InvalidParameterCombination",
     f"The parameters {P}.Value and {P}.Values are mutually exclusive and you have specified both."),
    ([datum(Value=1, StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1})],
     "InvalidParameterCombination",
     f"The parameters {P}.Value and {P}.StatisticValues are mutually exclusive and you have specified both."),
    ([datum(Values=[1.0, 2.0], Counts=[1, 2, 3])], "InvalidParameterValue",
     f"The parameters {P}.Values and {P}.Counts must be of the same size."),
    ([datum(Value=float("nan"))], "InvalidParameterValue", f"The value NaN for parameter {P}.Value is invalid."),
    ([datum(Value=float("inf"))], "InvalidParameterValue", f"The value Infinity for parameter {P}.Value is invalid."),
    ([datum(Values=[1.0, float("-inf")])], "InvalidParameterValue",
     f"The value -Infinity for parameter {P}.Values.member.2 is invalid."),
    ([datum(Value=2.0**361)], "InvalidParameterValue", f"The value {2.0**361!r} for parameter {P}.Value is invalid."),
    ([datum(Values=[1.0] * 151)], "InvalidParameterValue",
     f"The collection {P}.Values must not have a size greater than 150."),
    ([datum(Value=1, Dimensions=[{"Name": f"d{i}", "Value": "v"} for i in range(31)])], "ValidationError",
     "1 validation error detected: Value at 'metricData.2.member.dimensions' failed to satisfy "
     "constraint: Member must have length less than or equal to 30"),
    ([datum(Value=1, Timestamp=NOW - 15 * 86400)], "InvalidParameterValue",
     f"The parameter {P}.Timestamp must specify a time within the past two weeks."),
    ([datum(Value=1, Timestamp=NOW + 3 * 3600)], "InvalidParameterValue",
     f"The parameter {P}.Timestamp must specify a time no more than two hours in the future."),
    ([datum(Value=1, Unit="Furlongs")], "ValidationError",
     "1 validation error detected: Value 'Furlongs' at 'metricData.2.member.unit' failed to satisfy "
     "constraint: Member must satisfy enum value set: [Seconds, Microseconds, Milliseconds, Bytes, "
     "Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, Kilobits, Megabits, Gigabits, Terabits, "
     "Percent, Count, Bytes/Second, Kilobytes/Second, Megabytes/Second, Gigabytes/Second, "
     "Terabytes/Second, Bits/Second, Kilobits/Second, Megabits/Second, Gigabits/Second, "
     "Terabits/Second, Count/Second, None]"),
    ([datum(Value=1, StorageResolution=30)], "InvalidParameterValue",
     f"The value 30 for parameter {P}.StorageResolution is invalid."),
    ([{"Value": 1}], "MissingParameter", f"The parameter {P}.MetricName is required."),
    ([datum(StatisticValues={"SampleCount": 1, "Sum": 1, "Minimum": 1})], "MissingParameter",
     f"The parameter {P}.StatisticValues.Maximum is required."),
    ([datum(Value=1, Dimensions=[{"Name": "A"}])], "MissingParameter",
     f"The parameter {P}.Dimensions.member.1.Value is required."),
    ([datum(Value=1, MetricName="x" * 256)], "ValidationError",
     f"1 validation error detected: Value '{'x' * 256}' at 'metricData.2.member.metricName' failed "
     "to satisfy constraint: Member must have length less than or equal to 255"),
]  # fmt: skip


@pytest.mark.parametrize(("data", "code", "message"), PUT_ERRORS)
def test_put_metric_data_errors_store_nothing(
    ops: Ops, data: list[dict[str, Any]], code: str, message: str
) -> None:
    with pytest.raises(AwsError) as err:
        put(ops, datum(Value=5.0), *data)  # the valid first datum must not be stored either
    assert (err.value.query_code or err.value.code) == code
    assert err.value.message == message
    assert err.value.code == EXCEPTION_NAMES[code]
    assert total(ops) == 0


@pytest.mark.parametrize(
    ("request_", "code", "message"),
    [
        ({"MetricData": [datum(Value=1)]}, "MissingParameter", "The parameter Namespace is required."),
        ({"Namespace": "App", "MetricData": []}, "MissingParameter", "The parameter MetricData is required."),
        ({"Namespace": "AWS/Lambda", "MetricData": [datum(Value=1)]}, "InvalidParameterValue",
         "The value AWS/Lambda for parameter Namespace is invalid."),
        ({"Namespace": "App", "MetricData": [datum(Value=1)] * 1001}, "InvalidParameterValue",
         "The collection MetricData must not have a size greater than 1000."),
    ],
)  # fmt: skip
def test_put_metric_data_request_errors(
    ops: Ops, request_: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(AwsError) as err:
        ops["PutMetricData"](request_)
    assert err.value.query_code == code and err.value.message == message
    assert total(ops) == 0


def test_errors_carry_the_modelled_exception_name(ops: Ops) -> None:
    with pytest.raises(AwsError) as err:
        put(ops, datum(Value=1, Values=[1.0]))
    assert err.value.code == "InvalidParameterCombinationException"
    assert err.value.query_code == "InvalidParameterCombination"
    assert err.value.status == 400 and err.value.sender


def test_put_values_counts_and_statistic_sets(ops: Ops) -> None:
    put(
        ops,
        datum(Values=[1.0, 2.0, 3.0], Counts=[1, 1, 8], Unit="Milliseconds"),
        datum(
            StatisticValues={"SampleCount": 10, "Sum": 40, "Minimum": 4, "Maximum": 4},
            Unit="Milliseconds",
        ),
        datum(Value=100.0, Unit="Milliseconds", StorageResolution=1),
    )
    got = ops["GetMetricStatistics"](
        stats_request(Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
    )
    assert got["Label"] == "Latency"
    [point] = got["Datapoints"]
    assert point == {
        "Timestamp": NOW - 60, "Unit": "Milliseconds", "SampleCount": 21.0, "Sum": 167.0,
        "Average": 167.0 / 21, "Minimum": 1.0, "Maximum": 100.0,
    }  # fmt: skip
    ext = ops["GetMetricStatistics"](
        stats_request(Statistics=None, ExtendedStatistics=["p50", "p99"])
    )
    assert ext["Datapoints"][0]["ExtendedStatistics"] == {
        "p50": pytest.approx(4.0, rel=0.01), "p99": 100.0,  # rank 11 of 21 is a 4
    }  # fmt: skip


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"StartTime": NOW, "EndTime": NOW - 60}, "InvalidParameterValue",
         "The parameter StartTime must be less than the parameter EndTime."),
        ({"StartTime": NOW - 86400 * 2, "Period": 60}, "InvalidParameterCombination",
         "You have requested up to 2880 datapoints, which exceeds the limit of 1440. You may reduce "
         "the datapoints requested by increasing Period, or decreasing the time range."),
        ({"ExtendedStatistics": ["p99"]}, "InvalidParameterCombination",
         "Must specify either Statistics or ExtendedStatistics, but not both."),
        ({"Statistics": []}, "InvalidParameterCombination",
         "Must specify either Statistics or ExtendedStatistics."),
        ({"Statistics": None, "ExtendedStatistics": ["TM(1:2)"]}, "InvalidParameterValue",
         "The value TM(1:2) for parameter ExtendedStatistics is not supported."),
        ({"Statistics": ["Median"]}, "ValidationError",
         "1 validation error detected: Value '[Median]' at 'statistics' failed to satisfy constraint: "
         "Member must satisfy constraint: [Member must satisfy enum value set: "
         "[SampleCount, Average, Sum, Minimum, Maximum]]"),
        ({"Period": 45}, "InvalidParameterValue", "The parameter Period must be a multiple of 60."),
        ({"Period": None}, "MissingParameter", "The parameter Period is required."),
    ],
)  # fmt: skip
def test_get_metric_statistics_errors(
    ops: Ops, fields: dict[str, Any], code: str, message: str
) -> None:
    with pytest.raises(AwsError) as err:
        ops["GetMetricStatistics"](stats_request(**fields))
    assert err.value.query_code == code
    assert err.value.message == message


def test_list_metrics_filters_and_pages(ops: Ops) -> None:
    for chunk in range(3):
        put(ops, *[
            datum(MetricName=f"M{i:04d}", Value=1, Dimensions=[{"Name": "Shard", "Value": str(i % 2)}])
            for i in range(chunk * 400, chunk * 400 + 400)
        ])  # fmt: skip
    put(ops, datum(Value=1), namespace="Other")
    first = ops["ListMetrics"]({"Namespace": "App"})
    assert len(first["Metrics"]) == 500 and "NextToken" in first
    second = ops["ListMetrics"]({"Namespace": "App", "NextToken": first["NextToken"]})
    third = ops["ListMetrics"]({"Namespace": "App", "NextToken": second["NextToken"]})
    assert "NextToken" not in third
    names = [m["MetricName"] for page in (first, second, third) for m in page["Metrics"]]
    assert names == [f"M{i:04d}" for i in range(1200)]
    shard = ops["ListMetrics"]({"Dimensions": [{"Name": "Shard", "Value": "1"}], "NextToken": None})
    assert len(shard["Metrics"]) == 500
    other = ops["ListMetrics"]({"Namespace": "Other", "RecentlyActive": "PT3H"})
    assert other == {"Metrics": [{"Namespace": "Other", "MetricName": "Latency", "Dimensions": []}]}
    with pytest.raises(AwsError) as err:
        ops["ListMetrics"]({"RecentlyActive": "PT1H"})
    assert err.value.query_code == "ValidationError"
    with pytest.raises(AwsError) as err:
        ops["ListMetrics"]({"NextToken": "%%%"})
    assert err.value.query_code == "InvalidParameterValue"


def test_get_metric_data_fetches_metric_stats_from_the_store(ops: Ops) -> None:
    put(ops, datum(Values=[1.0, 2.0, 3.0]), datum(Value=10.0, Timestamp=NOW - 90))
    got = ops["GetMetricData"]({
        "MetricDataQueries": [
            {"Id": "m1", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"},
                                        "Period": 60, "Stat": "Sum"}},
            {"Id": "m2", "MetricStat": {"Metric": {"Namespace": "App", "MetricName": "Latency"},
                                        "Period": 60, "Stat": "Maximum"}},
        ],
        "StartTime": NOW - 600, "EndTime": NOW, "ScanBy": "TimestampAscending",
    })  # fmt: skip
    results = {r["Id"]: r for r in got["MetricDataResults"]}
    assert results["m1"]["Timestamps"] == [NOW - 120, NOW - 60]
    assert results["m1"]["Values"] == [10.0, 6.0]
    assert results["m2"]["Values"] == [10.0, 3.0]


def test_get_metric_data_uses_the_injected_planner(store: MetricStore) -> None:
    seen: list[tuple[int, int]] = []

    def stand_in(request: dict[str, Any], fetch: Any, now_ms: int) -> dict[str, Any]:
        q = request["MetricDataQueries"][0]
        ts, vs = fetch(
            q["MetricStat"], int(request["StartTime"] * 1000), int(request["EndTime"] * 1000)
        )
        seen.append((now_ms, len(vs)))
        return {
            "MetricDataResults": [
                {"Id": q["Id"], "Timestamps": [t / 1000 for t in ts], "Values": list(vs)}
            ]
        }

    ops = cloudwatch_operations(store, clock=lambda: NOW, metric_data=stand_in)
    put(ops, datum(Value=3.0))
    query = {
        "Id": "a",
        "MetricStat": {
            "Metric": {"Namespace": "App", "MetricName": "Latency"},
            "Period": 60,
            "Stat": "p50",
        },
    }
    got = ops["GetMetricData"](
        {"MetricDataQueries": [query], "StartTime": NOW - 600, "EndTime": NOW}
    )
    assert got["MetricDataResults"][0]["Values"] == [pytest.approx(3.0, rel=0.01)]
    assert seen == [(int(NOW * 1000), 1)]
    bad = {**query, "MetricStat": {**query["MetricStat"], "Stat": "p101"}}
    with pytest.raises(AwsError) as err:
        ops["GetMetricData"]({"MetricDataQueries": [bad], "StartTime": NOW - 600, "EndTime": NOW})
    assert err.value.query_code == "InvalidParameterValue"


def test_a_remembered_identity_behaves_as_a_validated_one(ops: Ops, store: MetricStore) -> None:
    # The writer remembers identities it validated; repeats must store to the same series, in
    # any dimension order, and an invalid identity must fail every time, not only the first.
    dims = [{"Name": "Stage", "Value": "prod"}, {"Name": "Fn", "Value": "a"}]
    for _ in range(3):
        put(ops, datum(Value=1.0, Dimensions=dims), datum(Value=2.0, Dimensions=dims[::-1]))
    listed = ops["ListMetrics"]({"Namespace": "App"})["Metrics"]
    assert [sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in listed] == [
        [("Fn", "a"), ("Stage", "prod")]
    ]
    got = ops["GetMetricStatistics"](stats_request(Dimensions=dims))
    assert sum(p["Sum"] for p in got["Datapoints"]) == 9.0
    twice = [{"Name": "Fn", "Value": "a"}, {"Name": "Fn", "Value": "b"}]
    for _ in range(2):
        with pytest.raises(AwsError) as err:
            put(ops, datum(Value=1.0, Dimensions=twice))
        assert err.value.query_code == "InvalidParameterValue"
    # An identity too long to remember is validated every time, and stored all the same.
    long_dims = [{"Name": "Fn", "Value": "v" * 1000}]
    for _ in range(2):
        put(ops, datum(Value=1.0, Dimensions=long_dims))
    got = ops["GetMetricStatistics"](stats_request(Dimensions=long_dims))
    assert sum(p["Sum"] for p in got["Datapoints"]) == 2.0
    # A remembered identity with a member the fast path does not take goes the full way.
    put(ops, datum(Value=4.0, Dimensions=dims, StorageResolution=1))
    got = ops["GetMetricStatistics"](stats_request(Dimensions=dims))
    assert sum(p["Sum"] for p in got["Datapoints"]) == 13.0


_names = st.sampled_from(["Fn", "Stage", ":aws", "", "é", "x" * 256])
_values = st.sampled_from(["a", "", "b" * 1025, "prod", 7])
_dims = st.lists(st.fixed_dictionaries({"Name": _names, "Value": _values}), max_size=4)


def _outcome(ops: Ops, dims: list[dict[str, Any]]) -> str:
    try:
        put(ops, datum(Value=1.0, Dimensions=dims))
    except AwsError as exc:
        return f"{exc.query_code}: {exc.message}"
    return "ok"


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dims=_dims)
def test_a_repeated_identity_gets_the_answer_a_fresh_writer_gives(
    tmp_path: Path, dims: list[dict[str, Any]]
) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as scratch:
        store = MetricStore(scratch, clock=lambda: NOW)
        fresh = cloudwatch_operations(store, clock=lambda: NOW)
        first = _outcome(fresh, dims)
        assert _outcome(fresh, dims) == first  # the second time, from the memo if valid
        store.close()
