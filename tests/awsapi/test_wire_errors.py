"""Bodies that cannot be read, wrong member types, unknown operations, size limits and gzip bombs."""

from __future__ import annotations

import gzip
import json
import os
import xml.etree.ElementTree as ET

import cbor2
import pytest

from .conftest import LiveAws, signed_post

CW_JSON = {"Content-Type": "application/x-amz-json-1.0"}
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
CBOR = {
    "Content-Type": "application/cbor",
    "Accept": "application/cbor",
    "Smithy-Protocol": "rpc-v2-cbor",
}
CBOR_PATH = "/service/GraniteServiceVersion20100801/operation/"


def _target(op: str) -> dict[str, str]:
    return {**CW_JSON, "X-Amz-Target": f"GraniteServiceVersion20100801.{op}"}


def test_unknown_json_operation(aws: LiveAws) -> None:
    response = signed_post(aws, "monitoring", b"{}", _target("NoSuchThing"))
    assert response.status_code == 400
    assert response.json()["__type"] == "UnknownOperationException"
    assert response.headers["x-amzn-requestid"]


def test_unknown_query_action(aws: LiveAws) -> None:
    response = signed_post(aws, "monitoring", b"Action=NoSuchThing&Version=2010-08-01", FORM)
    assert response.status_code == 400
    root = ET.fromstring(response.text)
    ns = {"cw": "http://monitoring.amazonaws.com/doc/2010-08-01/"}
    assert root.findtext("cw:Error/cw:Code", namespaces=ns) == "InvalidAction"
    assert root.findtext("cw:Error/cw:Type", namespaces=ns) == "Sender"
    assert root.findtext("cw:RequestId", namespaces=ns) == response.headers["x-amzn-requestid"]


def test_unknown_cbor_operation_and_headers(aws: LiveAws) -> None:
    response = signed_post(aws, "monitoring", cbor2.dumps({}), CBOR, path=CBOR_PATH + "Nope")
    assert response.status_code == 400
    assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert cbor2.loads(response.content)["__type"] == "UnknownOperationException"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (json.dumps({"Namespace": 5}).encode(), "can not be converted to a String"),
        (json.dumps({"MetricData": [{"MetricName": "M", "Value": "x"}]}).encode(), "a Double"),
        (json.dumps({"MetricData": {"MetricName": "M"}}).encode(), "a List"),
        (json.dumps([1]).encode(), "a Structure"),
    ],
)
def test_malformed_json_is_serialization_exception(
    aws: LiveAws, body: bytes, fragment: str
) -> None:
    before = len(aws.ops.calls)
    response = signed_post(aws, "monitoring", body, _target("PutMetricData"))
    assert response.status_code == 400
    assert response.json()["__type"] == "SerializationException"
    assert fragment in response.json()["message"]
    assert response.headers["x-amzn-query-error"] == "SerializationException;Sender"
    assert len(aws.ops.calls) == before


def test_special_doubles_reach_the_operation(aws: LiveAws) -> None:
    # The operation, not the wire layer, rejects NaN with AWS's message; it must receive it.
    body = json.dumps({"Namespace": "N", "MetricData": [{"MetricName": "M", "Value": "NaN"}]})
    response = signed_post(aws, "monitoring", body.encode(), _target("PutMetricData"))
    assert response.status_code == 200
    value = aws.ops.last("PutMetricData")["MetricData"][0]["Value"]
    assert value != value


def test_malformed_cbor(aws: LiveAws) -> None:
    response = signed_post(
        aws, "monitoring", b"\xff\x00garbage", CBOR, path=CBOR_PATH + "ListMetrics"
    )
    assert response.status_code == 400
    assert cbor2.loads(response.content)["__type"] == "SerializationException"


def test_query_wrong_type(aws: LiveAws) -> None:
    body = b"Action=PutMetricData&Version=2010-08-01&Namespace=N&MetricData.member.1.MetricName=M&MetricData.member.1.Value=abc"
    response = signed_post(aws, "monitoring", body, FORM)
    assert response.status_code == 400
    assert "<Code>InvalidParameterValue</Code>" in response.text
    assert "MetricData.member.1.Value" in response.text


def test_query_iso_timestamps_and_empty_list(aws: LiveAws) -> None:
    body = (
        b"Action=PutMetricData&Version=2010-08-01&Namespace=N"
        b"&MetricData.member.2.MetricName=B&MetricData.member.1.MetricName=A"
        b"&MetricData.member.1.Timestamp=2024-01-02T03%3A04%3A05Z&MetricData.member.1.Dimensions="
    )
    response = signed_post(aws, "monitoring", body, FORM)
    assert response.status_code == 200, response.text
    assert "<PutMetricDataResponse" in response.text
    assert aws.ops.last("PutMetricData")["MetricData"] == [
        {"MetricName": "A", "Timestamp": 1704164645.0, "Dimensions": []},
        {"MetricName": "B"},
    ]


def test_body_over_limit_is_413(aws: LiveAws) -> None:
    body = b'{"Namespace":"' + b"x" * (1024 * 1024) + b'"}'
    response = signed_post(aws, "monitoring", body, _target("PutMetricData"))
    assert response.status_code == 413
    assert response.json()["__type"] == "RequestEntityTooLarge"


def test_gzip_bomb_refused(aws: LiveAws) -> None:
    bomb = gzip.compress(b" " * (41 * 1024 * 1024))
    assert len(bomb) < 1024 * 1024
    headers = {**_target("PutMetricData"), "Content-Encoding": "gzip"}
    response = signed_post(aws, "monitoring", bomb, headers)
    assert response.status_code == 413


def test_gzip_signature_covers_compressed_bytes(aws: LiveAws) -> None:
    payload = json.dumps({"Namespace": "Z", "MetricData": [{"MetricName": "M", "Value": 2}]})
    headers = {**_target("PutMetricData"), "Content-Encoding": "gzip"}
    response = signed_post(aws, "monitoring", gzip.compress(payload.encode()), headers)
    assert response.status_code == 200, response.text
    assert aws.ops.last("PutMetricData") == {
        "Namespace": "Z",
        "MetricData": [{"MetricName": "M", "Value": 2.0}],
    }
    garbage = signed_post(aws, "monitoring", os.urandom(64), headers)
    assert garbage.status_code == 400
    assert garbage.json()["__type"] == "SerializationException"


def test_get_is_refused_for_json(aws: LiveAws) -> None:
    import httpx

    response = httpx.get(aws.url + "/", headers={"X-Amz-Target": "Logs_20140328.ListLogGroups"})
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/x-amz-json-1.1"
    assert "GET" in response.json()["message"]


@pytest.mark.parametrize("member", ["Value", "Timestamp"])
def test_cbor_bignum_beyond_a_double_is_serialization_exception(aws: LiveAws, member: str) -> None:
    datum = {"MetricName": "M", "Value": 1.0, member: 10**400}
    body = cbor2.dumps({"Namespace": "N", "MetricData": [datum]})
    before = len(aws.ops.calls)
    response = signed_post(aws, "monitoring", body, CBOR, path=CBOR_PATH + "PutMetricData")
    assert response.status_code == 400
    error = cbor2.loads(response.content)
    assert error["__type"] == "SerializationException"
    assert "out of range" in error["message"]
    assert len(aws.ops.calls) == before
