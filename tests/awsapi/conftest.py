"""A real uvicorn server running the AWS API with fake operations, and boto3 clients for it.

The server runs in its own thread and event loop so the (synchronous) boto3 clients can be called
straight from plain test functions. ``client(service, protocol)`` builds a boto3 client forced to a
wire protocol by giving botocore a copy of its own service model that lists only that protocol.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.loaders import create_loader

from heron.awsapi.app import create_aws_app
from heron.awsapi.credentials import Credentials, new_credentials
from heron.awsapi.errors import AwsError

from .threaded_server import serving_in_thread

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass
class FakeClock:
    """Wall time plus an offset the tests move to make signatures look stale."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


@dataclass
class FakeOps:
    """Operation handlers that record what they were given and answer fixed shapes."""

    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def last(self, name: str) -> dict[str, Any]:
        return next(req for op, req in reversed(self.calls) if op == name)

    def _record(self, name: str, result: dict[str, Any] | None = None) -> Callable[..., Any]:
        def handler(request: dict[str, Any]) -> dict[str, Any]:
            self.calls.append((name, request))
            return result if result is not None else {}

        return handler

    def cloudwatch(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        def get_metric_data(request: dict[str, Any]) -> dict[str, Any]:
            self.calls.append(("GetMetricData", request))
            return {
                "MetricDataResults": [
                    {
                        "Id": q["Id"],
                        "Label": q.get("Label", q["Id"]),
                        "Timestamps": [request["StartTime"], request["EndTime"]],
                        "Values": [1.5, float("nan")],
                        "StatusCode": "Complete",
                    }
                    for q in request["MetricDataQueries"]
                ],
                "Messages": [],
            }

        def get_metric_statistics(request: dict[str, Any]) -> dict[str, Any]:
            self.calls.append(("GetMetricStatistics", request))
            return {
                "Label": request["MetricName"],
                "Datapoints": [
                    {
                        "Timestamp": request["StartTime"],
                        "Sum": 3.0,
                        "SampleCount": 2.0,
                        "Unit": "Count",
                    }
                ],
            }

        def delete_alarms(request: dict[str, Any]) -> dict[str, Any]:
            if request["AlarmNames"] == ["boom"]:
                raise RuntimeError("handler bug")
            raise AwsError(
                "ResourceNotFoundException"
                if request["AlarmNames"] == ["missing"]
                else "InvalidParameterValueException",
                "The alarm is wrong.",
                status=404 if request["AlarmNames"] == ["missing"] else 400,
                query_code="ResourceNotFound"
                if request["AlarmNames"] == ["missing"]
                else "InvalidParameterValue",
            )

        return {
            "PutMetricData": self._record("PutMetricData"),
            "ListMetrics": self._record(
                "ListMetrics",
                {
                    "Metrics": [
                        {
                            "Namespace": "Heron",
                            "MetricName": "Latency",
                            "Dimensions": [{"Name": "Function", "Value": "send"}],
                        }
                    ],
                    "NextToken": "page-2",
                },
            ),
            "GetMetricData": get_metric_data,
            "GetMetricStatistics": get_metric_statistics,
            "GetMetricWidgetImage": self._record(
                "GetMetricWidgetImage", {"MetricWidgetImage": b"\x89PNG\r\n\x00\xff"}
            ),
            "DeleteAlarms": delete_alarms,
        }

    def logs(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        def describe_log_groups(request: dict[str, Any]) -> dict[str, Any]:
            raise AwsError("ResourceNotFoundException", "The specified log group does not exist.")

        return {
            "PutLogEvents": self._record("PutLogEvents", {"nextSequenceToken": "1"}),
            "GetLogEvents": self._record(
                "GetLogEvents",
                {
                    "events": [
                        {"timestamp": 1_700_000_000_123, "message": "hi", "ingestionTime": 1}
                    ],
                    "nextForwardToken": "f/1",
                    "nextBackwardToken": "b/1",
                },
            ),
            "DescribeLogGroups": describe_log_groups,
        }


@dataclass
class LiveAws:
    """The running server, its key pair, clock and recorded calls, plus a client factory."""

    url: str
    credentials: Credentials
    clock: FakeClock
    ops: FakeOps
    models_dir: Path

    def client(
        self,
        service: str,
        protocol: str | None = None,
        *,
        key: str | None = None,
        secret: str | None = None,
        config: Config | None = None,
    ) -> Any:
        """A boto3 client for ``service``; ``protocol`` forces json / query / smithy-rpc-v2-cbor."""
        session = botocore.session.get_session()
        if protocol is not None:
            session.set_config_variable(
                "data_path", str(forced_models(self.models_dir, service, protocol))
            )
        return boto3.session.Session(botocore_session=session).client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key or self.credentials.access_key_id,
            aws_secret_access_key=secret or self.credentials.secret_access_key,
            config=config or NO_RETRIES,
        )


def forced_models(root: Path, service: str, protocol: str) -> Path:
    """A botocore data directory whose ``service`` model speaks only ``protocol``."""
    base = root / f"{service}-{protocol}"
    loader = create_loader()
    model = loader.load_service_model(service, "service-2")
    version = model["metadata"]["apiVersion"]
    target = base / service / version / "service-2.json"
    if not target.exists():
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(model))
    return base


@pytest.fixture(scope="session")
def live_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveAws]:
    """One server for the whole test session (the fakes record; tests read the latest call)."""
    credentials = new_credentials()
    clock = FakeClock()
    ops = FakeOps()
    app = create_aws_app(
        {"cloudwatch": ops.cloudwatch(), "logs": ops.logs()}, credentials, clock=clock
    )
    with serving_in_thread(app, "aws-api-server") as handle:
        yield LiveAws(handle.url, credentials, clock, ops, tmp_path_factory.mktemp("models"))


@pytest.fixture
def aws(live_aws: LiveAws) -> Iterator[LiveAws]:
    """The live server with the clock reset after each test."""
    yield live_aws
    live_aws.clock.offset = 0.0


def signed_post(
    live: LiveAws,
    service: str,
    body: bytes,
    headers: dict[str, str],
    *,
    path: str = "/",
    secret: str | None = None,
) -> Any:
    """POST ``body`` signed with SigV4 exactly as botocore signs, sent with httpx."""
    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    request = AWSRequest(method="POST", url=live.url + path, data=body, headers=headers)
    creds = BotoCredentials(
        live.credentials.access_key_id, secret or live.credentials.secret_access_key
    )
    SigV4Auth(creds, service, "us-east-1").add_auth(request)
    return httpx.post(
        live.url + path, content=body, headers=dict(request.headers.items()), timeout=10
    )
