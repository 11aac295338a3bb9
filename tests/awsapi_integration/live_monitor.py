"""A real ``Monitor`` serving its AWS API under uvicorn, and boto3 clients forced to a protocol.

The server runs on its own thread and event loop so the synchronous boto3 clients can be called
from plain test functions. A client is forced to a CloudWatch wire protocol (``json``, ``query``
or ``smithy-rpc-v2-cbor``) by giving botocore a copy of its own service model that lists only
that protocol, the technique tests/awsapi/conftest.py uses with fake operations.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.loaders import create_loader

from awsapi.threaded_server import serving_in_thread
from heron.monitor.service import Monitor

#: CloudWatch's three wire protocols as botocore names them.
PROTOCOLS = ("json", "query", "smithy-rpc-v2-cbor")
NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


@dataclass
class OffsetClock:
    """Wall time plus an offset, so a test can make the stores believe they run in the past."""

    offset: float = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def forced_models(root: Path, service: str, protocol: str) -> Path:
    """A botocore data directory whose ``service`` model speaks only ``protocol``."""
    base = root / f"{service}-{protocol}"
    loader = create_loader()
    model = loader.load_service_model(service, "service-2")
    target = base / service / model["metadata"]["apiVersion"] / "service-2.json"
    if not target.exists():
        model["metadata"]["protocol"] = protocol
        model["metadata"]["protocols"] = [protocol]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(model))
    return base


@dataclass
class LiveMonitor:
    """A running Monitor: its URL, data directory, object and store clock, plus clients."""

    url: str
    data_dir: Path
    monitor: Monitor
    clock: OffsetClock
    models_dir: Path
    _clients: dict[tuple[str, str | None], Any] = field(default_factory=dict)

    def client(
        self,
        service: str,
        protocol: str | None = None,
        *,
        key: str | None = None,
        secret: str | None = None,
        config: Config | None = None,
    ) -> Any:
        """A boto3 client for ``service`` signed with the Monitor's key (or ``key``/``secret``).

        Clients with the default key and configuration are cached (building one costs ~0.2 s).
        """
        plain = key is None and secret is None and config is None
        if plain and (service, protocol) in self._clients:
            return self._clients[service, protocol]
        session = botocore.session.get_session()
        if protocol is not None:
            path = forced_models(self.models_dir, service, protocol)
            session.set_config_variable("data_path", str(path))
        creds = self.monitor.credentials
        client = boto3.session.Session(botocore_session=session).client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=key or creds.access_key_id,
            aws_secret_access_key=secret or creds.secret_access_key,
            config=config or NO_RETRIES,
        )
        if plain:
            self._clients[service, protocol] = client
        return client


def error_of(exc: ClientError) -> tuple[str, str, int]:
    """(Error.Code, Error.Message, HTTP status) of a refused call, as boto3 reports them."""
    err = exc.response["Error"]
    return err["Code"], err["Message"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


@contextmanager
def running_monitor(data_dir: Path, models_dir: Path) -> Iterator[LiveMonitor]:
    """Start ``Monitor(data_dir)`` with its ``aws`` app on a free port; close both on exit."""
    clock = OffsetClock()
    # One decode worker whatever the machine, so large JSON PutMetricData always can use it.
    monitor = Monitor(data_dir, clock=clock, decode_workers=1)
    # Signatures are checked against the real time even while a test moves the stores' clock
    # (a request signed "now" must not look four hours early).
    monitor.aws.clock = time.time
    try:
        with serving_in_thread(monitor.aws, "monitor-aws-api") as handle:
            yield LiveMonitor(handle.url, data_dir, monitor, clock, models_dir)
    finally:
        monitor.close()
