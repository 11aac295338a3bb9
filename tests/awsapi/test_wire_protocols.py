"""CloudWatch over JSON 1.0, Query and RPC v2 CBOR, and Logs over JSON 1.1, through real boto3."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from heron.awsapi.app import is_aws_request

from .conftest import LiveAws

PROTOCOLS = ["json", "query", "smithy-rpc-v2-cbor"]
T0 = datetime(2024, 5, 6, 7, 8, 9, 123000, tzinfo=UTC)
T1 = datetime(2024, 5, 6, 8, 0, 0, tzinfo=UTC)

METRIC_DATA: list[dict[str, Any]] = [
    {
        "MetricName": "Latency",
        "Dimensions": [{"Name": "Function", "Value": "send"}, {"Name": "Stage", "Value": "prod"}],
        "Timestamp": T0,
        "Values": [1.5, 2.25, 1e-9],
        "Counts": [1.0, 3.0, 2.0],
        "Unit": "Milliseconds",
        "StorageResolution": 1,
    },
    {
        "MetricName": "Errors",
        "StatisticValues": {"SampleCount": 4.0, "Sum": 2.0, "Minimum": 0.0, "Maximum": 1.0},
    },
    {"MetricName": "Plain", "Value": -3.5, "Dimensions": []},
]
EXPECTED_DATA: list[dict[str, Any]] = [
    {**METRIC_DATA[0], "Timestamp": T0.timestamp()},
    METRIC_DATA[1],
    METRIC_DATA[2],
]


def test_default_boto3_client_speaks_json_1_0(aws: LiveAws) -> None:
    client = aws.client("cloudwatch")
    assert client.meta.service_model.resolved_protocol == "json"
    targets: list[Any] = []
    client.meta.events.register(
        "before-send", lambda request, **_: targets.append(request.headers["X-Amz-Target"])
    )
    client.list_metrics()
    assert [_text(t) for t in targets] == ["GraniteServiceVersion20100801.ListMetrics"]


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_put_metric_data_decodes_identically(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol)
    assert client.meta.service_model.resolved_protocol == protocol
    client.put_metric_data(Namespace="Heron/Test", MetricData=METRIC_DATA)
    assert aws.ops.last("PutMetricData") == {"Namespace": "Heron/Test", "MetricData": EXPECTED_DATA}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_entity_maps_decode(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol)
    entity = {"KeyAttributes": {"Type": "Service", "Name": "send"}, "Attributes": {"a": "b"}}
    client.put_metric_data(
        Namespace="N",
        EntityMetricData=[{"Entity": entity, "MetricData": [{"MetricName": "M", "Value": 1.0}]}],
        StrictEntityValidation=True,
    )
    request = aws.ops.last("PutMetricData")
    assert request["EntityMetricData"][0]["Entity"] == entity
    assert request["StrictEntityValidation"] is True


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_large_put_metric_data_is_gzipped_and_accepted(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol)
    encodings: list[str | None] = []
    client.meta.events.register(
        "before-send",
        lambda request, **_: encodings.append(request.headers.get("Content-Encoding")),
    )
    data = [{"MetricName": f"m{i}", "Value": float(i), "Unit": "Count"} for i in range(1000)]
    client.put_metric_data(Namespace="Big", MetricData=data)
    assert [_text(e or "") for e in encodings] == ["gzip"]
    assert aws.ops.last("PutMetricData")["MetricData"] == data


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_list_metrics_output(aws: LiveAws, protocol: str) -> None:
    response = aws.client("cloudwatch", protocol).list_metrics(Namespace="Heron")
    assert response["Metrics"] == [
        {
            "Namespace": "Heron",
            "MetricName": "Latency",
            "Dimensions": [{"Name": "Function", "Value": "send"}],
        }
    ]
    assert response["NextToken"] == "page-2"
    assert response["ResponseMetadata"]["RequestId"]
    assert aws.ops.last("ListMetrics") == {"Namespace": "Heron"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_get_metric_data_timestamps_round_trip(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol)
    response = client.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q1",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "Heron",
                        "MetricName": "Latency",
                        "Dimensions": [{"Name": "Function", "Value": "send"}],
                    },
                    "Period": 60,
                    "Stat": "p99",
                },
                "ReturnData": True,
            }
        ],
        StartTime=T0,
        EndTime=T1,
        MaxDatapoints=100,
        LabelOptions={"Timezone": "+0130"},
    )
    request = aws.ops.last("GetMetricData")
    assert request["StartTime"] == T0.timestamp()
    assert request["EndTime"] == T1.timestamp()
    assert request["MaxDatapoints"] == 100
    assert request["MetricDataQueries"][0]["MetricStat"]["Period"] == 60
    assert request["MetricDataQueries"][0]["ReturnData"] is True
    result = response["MetricDataResults"][0]
    assert [t.astimezone(UTC) for t in result["Timestamps"]] == [T0, T1]
    assert result["Values"][0] == 1.5
    # Non-finite doubles travel as "NaN" in JSON (Smithy); botocore's JSON parser leaves the string.
    assert str(result["Values"][1]) in ("nan", "NaN")
    assert result["StatusCode"] == "Complete"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_statistics_and_blob_outputs(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol)
    response = client.get_metric_statistics(
        Namespace="Heron",
        MetricName="Calls",
        StartTime=T0,
        EndTime=T1,
        Period=300,
        Statistics=["Sum", "SampleCount"],
    )
    point = response["Datapoints"][0]
    assert point["Timestamp"].astimezone(UTC) == T0
    assert (point["Sum"], point["SampleCount"], point["Unit"]) == (3.0, 2.0, "Count")
    image = client.get_metric_widget_image(MetricWidget="{}")
    assert image["MetricWidgetImage"] == b"\x89PNG\r\n\x00\xff"


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize(
    ("names", "code", "status", "modelled"),
    [
        (["bad"], "InvalidParameterValue", 400, "InvalidParameterValueException"),
        (["missing"], "ResourceNotFound", 404, "ResourceNotFoundException"),
    ],
)
def test_operation_errors_as_boto3_sees_them(
    aws: LiveAws, protocol: str, names: list[str], code: str, status: int, modelled: str
) -> None:
    client = aws.client("cloudwatch", protocol)
    with pytest.raises(ClientError) as info:
        client.delete_alarms(AlarmNames=names)
    error = info.value.response["Error"]
    assert error["Code"] == code
    assert error["Message"] == "The alarm is wrong."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    if protocol == "query":
        assert error["Type"] == "Sender"
    else:
        assert error["QueryErrorCode"] == modelled
        assert error["Type"] == "Sender"
    # The modelled exception class is what boto3 raises, whichever protocol carried it.
    assert type(info.value).__name__ in (modelled, code)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_handler_crash_is_internal_failure_without_traceback(
    aws: LiveAws, protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ClientError) as info:
        aws.client("cloudwatch", protocol).delete_alarms(AlarmNames=["boom"])
    response = info.value.response
    assert response["Error"]["Code"] == "InternalFailure"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert "handler bug" not in str(response) and "Traceback" not in str(response)
    assert "handler bug" in caplog.text


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unimplemented_operation(aws: LiveAws, protocol: str) -> None:
    with pytest.raises(ClientError) as info:
        aws.client("cloudwatch", protocol).describe_alarms()
    assert info.value.response["Error"]["Code"] == "NotImplemented"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501


def test_logs_json_1_1(aws: LiveAws) -> None:
    logs = aws.client("logs")
    seen: list[Any] = []
    logs.meta.events.register("before-send", lambda request, **_: seen.append(request.headers))
    events = [{"timestamp": 1_700_000_000_000 + i, "message": f"line {i} \u00e9"} for i in range(3)]
    response = logs.put_log_events(
        logGroupName="/aws/lambda/f", logStreamName="s", logEvents=events
    )
    assert response["nextSequenceToken"] == "1"
    assert aws.ops.last("PutLogEvents") == {
        "logGroupName": "/aws/lambda/f",
        "logStreamName": "s",
        "logEvents": events,
    }
    assert _text(seen[0]["Content-Type"]) == "application/x-amz-json-1.1"
    got = logs.get_log_events(logGroupName="g", logStreamName="s", startFromHead=True, limit=5)
    assert got["events"][0] == {"timestamp": 1_700_000_000_123, "message": "hi", "ingestionTime": 1}
    assert aws.ops.last("GetLogEvents") == {
        "logGroupName": "g",
        "logStreamName": "s",
        "startFromHead": True,
        "limit": 5,
    }


def test_logs_error_has_no_query_code(aws: LiveAws) -> None:
    logs = aws.client("logs")
    with pytest.raises(logs.exceptions.ResourceNotFoundException) as info:
        logs.describe_log_groups()
    error = info.value.response["Error"]
    assert error["Code"] == "ResourceNotFoundException"
    assert error["Message"] == "The specified log group does not exist."
    assert "QueryErrorCode" not in error
    assert "x-amzn-query-error" not in info.value.response["ResponseMetadata"]["HTTPHeaders"]


def test_is_aws_request_routing_helper() -> None:
    def scope(path: str, headers: list[tuple[bytes, bytes]], qs: bytes = b"") -> dict[str, Any]:
        return {"type": "http", "path": path, "headers": headers, "query_string": qs}

    assert is_aws_request(scope("/", [(b"x-amz-target", b"Logs_20140328.X")]))
    assert is_aws_request(scope("/service/GraniteServiceVersion20100801/operation/X", []))
    assert is_aws_request(scope("/", [], b"Action=ListMetrics"))
    assert is_aws_request(scope("/", [(b"content-type", b"application/x-www-form-urlencoded")]))
    assert not is_aws_request(scope("/", []))
    assert not is_aws_request(scope("/dashboard", [(b"x-amz-target", b"X.Y")]))
    assert not is_aws_request({"type": "websocket", "path": "/"})
