"""Service specs: the routing metadata kept in Heron equals botocore's, and models load on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from heron.awsapi.models import SUPPORTED_SERVICES, model_metadata, service_spec


@pytest.mark.parametrize("name", SUPPORTED_SERVICES)
def test_kept_metadata_equals_botocores_model(name: str) -> None:
    assert service_spec(name) == model_metadata(name)


def test_unsupported_service_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="unsupported AWS service 'ec2'"):
        service_spec("ec2")


def test_operations_come_from_the_model() -> None:
    spec = service_spec("logs")
    assert spec.operation("PutLogEvents").input_shape.name == "PutLogEventsRequest"
    assert spec.operation("NoSuchOperation") is None


_BUILD_MONITOR = """
import sys
from pathlib import Path
from heron.monitor.service import Monitor

monitor = Monitor(Path(sys.argv[1]), decode_workers=0)
print(" ".join(sorted(name for name in ("botocore", "httpx", "trio") if name in sys.modules)))
monitor.aws.specs["cloudwatch"].operation("PutMetricData")
print("botocore" in sys.modules)
monitor.close()
"""


def test_a_monitor_loads_botocore_and_httpx_only_when_first_needed(tmp_path: Path) -> None:
    # Each costs an idle `heron up` several MiB; a fresh interpreter shows what construction loads.
    done = subprocess.run(
        [sys.executable, "-c", _BUILD_MONITOR, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == ["", "True"]


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
