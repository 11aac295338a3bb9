"""SigV4 verification: unit checks against botocore's signer, and refusals as boto3 sees them."""

from __future__ import annotations

import time

import pytest
from botocore import UNSIGNED
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from heron.awsapi.credentials import Credentials
from heron.awsapi.sigv4 import AuthFailure, SignedRequest, canonical_uri, verify

from .conftest import NO_RETRIES, LiveAws

CREDS = Credentials("AKIAHERONTESTKEY0001", "s" * 40)
BODY = b'{"Namespace":"N"}'


def _signed(
    *, secret: str = CREDS.secret_access_key, service: str = "monitoring", presign: bool = False
) -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:4566/?a=b%20c&z=1",
        data=b"" if presign else BODY,
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "X.Y"},
    )
    boto = BotoCredentials(CREDS.access_key_id, secret)
    signer = (
        SigV4QueryAuth(boto, service, "us-east-1", 300)
        if presign
        else SigV4Auth(boto, service, "us-east-1")
    )
    signer.add_auth(request)
    prepared = request.prepare()
    path, _, query = prepared.url.partition("//")[2].partition("/")[2].partition("?")
    headers: dict[str, list[str]] = {}
    for name, value in prepared.headers.items():
        text = value.decode() if isinstance(value, bytes) else value
        headers.setdefault(name.lower(), []).append(text)
    headers["host"] = ["127.0.0.1:4566"]
    return SignedRequest("POST", "/" + path, query, headers, prepared.body or b"")


def test_botocore_signature_verifies() -> None:
    scope = verify(_signed(), CREDS, now=time.time(), services={"monitoring"}, region="us-east-1")
    assert (scope.service, scope.region) == ("monitoring", "us-east-1")


def test_presigned_query_form_verifies() -> None:
    request = _signed(presign=True)
    assert "X-Amz-Signature=" in request.query_string
    verify(request, CREDS, now=time.time(), services={"monitoring"}, region="us-east-1")
    with pytest.raises(AuthFailure) as info:
        verify(request, CREDS, now=time.time() + 301, services={"monitoring"}, region="us-east-1")
    assert info.value.kind == "expired"


@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ("body", "signature"),
        ("secret", "signature"),
        ("key", "unknown_key"),
        ("service", "signature"),
        ("region", "signature"),
        ("late", "expired"),
        ("early", "expired"),
        ("unsigned", "missing"),
        ("garbled", "incomplete"),
    ],
)
def test_refusals(change: str, kind: str) -> None:
    request = _signed(secret="wrong" if change == "secret" else CREDS.secret_access_key)
    creds, now, services, region = CREDS, time.time(), {"monitoring"}, "us-east-1"
    if change == "body":
        request = SignedRequest(
            request.method, request.raw_path, request.query_string, request.headers, b"{}"
        )
    elif change == "key":
        creds = Credentials("AKIAHERONOTHERKEY001", CREDS.secret_access_key)
    elif change == "service":
        services = {"logs"}
    elif change == "region":
        region = "eu-west-1"
    elif change == "late":
        now += 16 * 60
    elif change == "early":
        now -= 16 * 60
    elif change in ("unsigned", "garbled"):
        headers = {k: v for k, v in request.headers.items() if k != "authorization"}
        if change == "garbled":
            headers["authorization"] = ["AWS4-HMAC-SHA256 Credential=onlyone"]
        request = SignedRequest(
            request.method, request.raw_path, request.query_string, headers, request.body
        )
    with pytest.raises(AuthFailure) as info:
        verify(request, creds, now=now, services=services, region=region)
    assert info.value.kind == kind
    if change == "late":
        assert info.value.message.startswith("Signature expired: ")
        assert info.value.message.endswith(" - 15 min.)")


def test_canonical_uri_normalizes_like_botocore() -> None:
    assert canonical_uri("/") == "/"
    assert canonical_uri("") == "/"
    assert canonical_uri("/a/./b/../c/") == "/a/c/"
    assert canonical_uri("/service/A/operation/B") == "/service/A/operation/B"
    assert canonical_uri("/a%20b") == "/a%20b"


CW_PROTOCOLS = ["json", "query", "smithy-rpc-v2-cbor"]


@pytest.mark.parametrize("protocol", CW_PROTOCOLS)
def test_unsigned_request_refused(aws: LiveAws, protocol: str) -> None:
    client = aws.client(
        "cloudwatch", protocol, config=NO_RETRIES.merge(Config(signature_version=UNSIGNED))
    )
    before = len(aws.ops.calls)
    with pytest.raises(ClientError) as info:
        client.list_metrics()
    assert info.value.response["Error"]["Code"] == "MissingAuthenticationToken"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert len(aws.ops.calls) == before


@pytest.mark.parametrize("protocol", CW_PROTOCOLS)
def test_wrong_secret_is_signature_does_not_match(aws: LiveAws, protocol: str) -> None:
    before = len(aws.ops.calls)
    client = aws.client("cloudwatch", protocol, secret="x" * 40)
    with pytest.raises(ClientError) as info:
        client.put_metric_data(Namespace="N", MetricData=[{"MetricName": "M", "Value": 1.0}])
    error = info.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["Message"].startswith("The request signature we calculated does not match")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert len(aws.ops.calls) == before  # nothing reached the operation


@pytest.mark.parametrize("protocol", CW_PROTOCOLS)
def test_unknown_key_is_invalid_client_token(aws: LiveAws, protocol: str) -> None:
    client = aws.client("cloudwatch", protocol, key="AKIAHERONUNKNOWN0000")
    with pytest.raises(ClientError) as info:
        client.list_metrics()
    error = info.value.response["Error"]
    assert error["Code"] == "InvalidClientTokenId"
    assert error["Message"] == "The security token included in the request is invalid."
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("protocol", CW_PROTOCOLS)
def test_stale_signature_refused(aws: LiveAws, protocol: str) -> None:
    aws.clock.offset = 20 * 60  # the server thinks it is 20 minutes later than the client
    with pytest.raises(ClientError) as info:
        aws.client("cloudwatch", protocol).list_metrics()
    error = info.value.response["Error"]
    assert error["Code"] == "SignatureDoesNotMatch"
    assert error["Message"].startswith("Signature expired: ")


def test_logs_refusals_use_json_service_codes(aws: LiveAws) -> None:
    cases = [
        (aws.client("logs", secret="y" * 40), "InvalidSignatureException"),
        (aws.client("logs", key="AKIAHERONUNKNOWN0000"), "UnrecognizedClientException"),
        (
            aws.client("logs", config=NO_RETRIES.merge(Config(signature_version=UNSIGNED))),
            "MissingAuthenticationTokenException",
        ),
    ]
    for client, code in cases:
        with pytest.raises(ClientError) as info:
            client.describe_log_groups()
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_logs_key_signed_for_cloudwatch_is_refused(aws: LiveAws) -> None:
    # A request addressed to Logs but signed for "monitoring" must not pass.
    from .conftest import signed_post

    response = signed_post(
        aws,
        "monitoring",
        b"{}",
        {
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    assert response.status_code == 403
    assert response.json()["__type"] == "InvalidSignatureException"
    assert "correct service: 'logs'" in response.json()["message"]
