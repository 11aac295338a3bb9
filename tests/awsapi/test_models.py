"""Service specs: the routing metadata kept in Heron equals botocore's, and models load on demand."""

from __future__ import annotations

import logging
import subprocess
import sys

import orjson
import pytest

from heron.awsapi.models import SUPPORTED_SERVICES, service_spec, spec_from_model

from .conftest import LiveAws


@pytest.mark.parametrize("name", SUPPORTED_SERVICES)
def test_kept_metadata_equals_botocores_model(name: str) -> None:
    assert service_spec(name) == spec_from_model(name)


def test_unsupported_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unsupported AWS service 'ec2'"):
        service_spec("ec2")


def test_operations_come_from_the_model() -> None:
    spec = service_spec("logs")
    assert spec.operation("PutLogEvents").input_shape.name == "PutLogEventsRequest"
    assert spec.operation("NoSuchOperation") is None


_FIRST_REQUEST = """
import asyncio, json, sys, threading

importers = []


class Spy:
    # Notes the thread that imports botocore; finds nothing itself, so the import goes on.
    def find_spec(self, name, path=None, target=None):
        if name == "botocore":
            importers.append(threading.current_thread() is threading.main_thread())
        return None


sys.meta_path.insert(0, Spy())
from heron.awsapi.app import create_aws_app
from heron.awsapi.credentials import Credentials

given = json.loads(sys.argv[1])
app = create_aws_app(
    {"logs": {"DescribeLogGroups": lambda request: {"logGroups": []}}},
    Credentials(given["key"], given["secret"]),
)
print(app.specs["logs"].model_loaded)
sent = []


async def main():
    body = given["body"].encode()
    scope = {
        "type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in given["headers"].items()],
    }
    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}
    async def send(message):
        sent.append(message)
    await app(scope, receive, send)


asyncio.run(main())
print(sent[0]["status"], importers, app.specs["logs"].model_loaded)
"""


def test_a_services_first_request_loads_its_model_off_the_event_loop() -> None:
    # The model takes 70 ms or so to import and parse; the gateway shares this event loop.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials as BotoCredentials

    from heron.awsapi.credentials import new_credentials

    creds = new_credentials()
    body = "{}"
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:4566/",
        data=body.encode(),
        headers={
            "x-amz-target": "Logs_20140328.DescribeLogGroups",
            "content-type": "application/x-amz-json-1.1",
        },
    )
    boto = BotoCredentials(creds.access_key_id, creds.secret_access_key)
    SigV4Auth(boto, "logs", creds.region).add_auth(request)
    given = {
        "key": creds.access_key_id,
        "secret": creds.secret_access_key,
        "body": body,
        "headers": {"host": "127.0.0.1:4566", **dict(request.headers.items())},
    }
    done = subprocess.run(
        [sys.executable, "-c", _FIRST_REQUEST, orjson.dumps(given).decode()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == ["False", "200 [False] True"], done.stderr


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_refusals_before_a_model_loads_neither_load_it_nor_change_their_codes(
    aws: LiveAws, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    # A GET (405) or an unsigned POST (403) is refused before the model is needed; answering it
    # must not import botocore on the event loop for an unauthenticated caller.
    import httpx

    from heron.awsapi import models

    def refusal() -> tuple[int, str, str]:
        target = {"X-Amz-Target": "GraniteServiceVersion20100801.PutMetricData"}
        response = httpx.request(method, aws.url + "/", headers=target, content=b"{}")
        return (
            response.status_code,
            response.headers["x-amzn-query-error"],
            response.json()["__type"],
        )

    service_spec("cloudwatch").model  # noqa: B018 - loaded: the answer to compare with
    loaded = refusal()
    monkeypatch.setattr(models, "_models", {})
    models._query_codes.cache_clear()  # built from the model, so a kept copy would hide a load
    assert refusal() == loaded
    assert models._models == {}
    assert loaded[0] == (405 if method == "GET" else 403)


def test_a_model_that_moved_the_routing_metadata_is_reported(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from dataclasses import replace

    from heron.awsapi import models

    monkeypatch.setattr(models, "_models", {})
    monkeypatch.setitem(models._SPECS, "logs", replace(service_spec("logs"), json_version="1.0"))
    with caplog.at_level(logging.WARNING, logger="heron.awsapi.models"):
        assert service_spec("logs").operation("PutLogEvents") is not None
    assert "logs model differs from Heron's routing metadata" in caplog.text
    assert "json_version='1.1'" in caplog.text
