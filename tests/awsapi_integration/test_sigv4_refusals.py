"""Requests not signed with the instance's key are refused as AWS refuses them, per protocol."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from awsapi_integration.live_monitor import PROTOCOLS, LiveMonitor, error_of

SIGNATURE_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. Check your "
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
)
UNSIGNED_CONFIG = Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1})


def refused(call: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as info:
        call()
    return error_of(info.value)


@pytest.fixture
def skewed(live: LiveMonitor) -> Iterator[None]:
    """The server's signature clock 20 minutes ahead of the client's (beyond the 15 allowed)."""
    live.monitor.aws.clock = lambda: time.time() + 20 * 60
    yield
    live.monitor.aws.clock = time.time


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_cloudwatch_refuses_bad_and_missing_signatures(live: LiveMonitor, protocol: str) -> None:
    ns = f"Unsigned/{protocol}"
    datum = [{"MetricName": "Sneaky", "Value": 1.0}]
    wrong = live.client("cloudwatch", protocol, secret="x" * 40)
    assert refused(lambda: wrong.put_metric_data(Namespace=ns, MetricData=datum)) == (
        "SignatureDoesNotMatch", SIGNATURE_MESSAGE, 403,
    )  # fmt: skip
    stranger = live.client("cloudwatch", protocol, key="AKIAHERONSOMEONEELSE")
    assert refused(lambda: stranger.put_metric_data(Namespace=ns, MetricData=datum)) == (
        "InvalidClientTokenId", "The security token included in the request is invalid.", 403,
    )  # fmt: skip
    unsigned = live.client("cloudwatch", protocol, config=UNSIGNED_CONFIG)
    code, message, status = refused(
        lambda: unsigned.put_metric_data(Namespace=ns, MetricData=datum)
    )
    assert (code, status) == ("MissingAuthenticationToken", 403)
    assert message == (
        "Request is missing Authentication Token"
        if protocol == "query"
        else "Missing Authentication Token"
    )
    # Reads are refused too, and none of the refused puts left anything behind.
    assert refused(lambda: unsigned.list_metrics())[0] == "MissingAuthenticationToken"
    assert live.client("cloudwatch", protocol).list_metrics(Namespace=ns)["Metrics"] == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.usefixtures("skewed")
def test_cloudwatch_refuses_a_signature_outside_the_clock_window(
    live: LiveMonitor, protocol: str
) -> None:
    code, message, status = refused(lambda: live.client("cloudwatch", protocol).list_metrics())
    assert (code, status) == ("SignatureDoesNotMatch", 403)
    assert message.startswith("Signature expired:")


def test_logs_refuses_bad_and_missing_signatures(live: LiveMonitor) -> None:
    group = "/unsigned/never"
    wrong = live.client("logs", secret="y" * 40)
    assert refused(lambda: wrong.create_log_group(logGroupName=group)) == (
        "InvalidSignatureException", SIGNATURE_MESSAGE, 403,
    )  # fmt: skip
    stranger = live.client("logs", key="AKIAHERONSOMEONEELSE")
    assert refused(lambda: stranger.create_log_group(logGroupName=group)) == (
        "UnrecognizedClientException", "The security token included in the request is invalid.",
        403,
    )  # fmt: skip
    unsigned = live.client("logs", config=UNSIGNED_CONFIG)
    assert refused(lambda: unsigned.create_log_group(logGroupName=group)) == (
        "MissingAuthenticationTokenException", "Missing Authentication Token", 403,
    )  # fmt: skip
    assert live.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
