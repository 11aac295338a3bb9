"""A real uvicorn server serving CloudWatch (metrics + alarms) and SNS over real stores.

Used by the alarm and SNS operation tests: boto3 clients talk to it exactly as to AWS.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.awsapi.alarm_ops import alarm_operations
from heron.awsapi.app import create_aws_app
from heron.awsapi.cloudwatch_ops import cloudwatch_operations
from heron.awsapi.credentials import new_credentials
from heron.awsapi.sns_ops import sns_operations
from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.topics import TopicStore

from .conftest import FakeClock, FakeOps, LiveAws
from .threaded_server import serving_in_thread

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class AlarmApi:
    """The server's stores and scheduler, plus boto3 clients for it."""

    live: LiveAws
    alarms: AlarmStore
    metrics: MetricStore
    topics: TopicStore
    scheduler: AlarmScheduler

    def client(self, service: str, protocol: str | None = None) -> Any:
        """A boto3 client (``protocol`` forces json / query / smithy-rpc-v2-cbor)."""
        return self.live.client(service, protocol)


@contextmanager
def alarm_api(data_dir: Path, models_dir: Path) -> Iterator[AlarmApi]:
    """Start the server on a free port; stop it and close the stores afterwards."""
    clock = time.time
    credentials = new_credentials()
    metrics = MetricStore(data_dir, clock=clock)
    alarms = AlarmStore(data_dir, clock=clock)
    topics = TopicStore(data_dir / "notify.db", region=REGION, account_id=ACCOUNT, clock=clock)
    scheduler = AlarmScheduler(alarms, metrics, topics, clock)
    cloudwatch = {
        **cloudwatch_operations(metrics, clock=clock),
        **alarm_operations(
            alarms, scheduler, topics, clock=clock, region=REGION, account_id=ACCOUNT
        ),
    }
    app = create_aws_app(
        {
            "cloudwatch": cloudwatch,
            "sns": sns_operations(topics, region=REGION, account_id=ACCOUNT),
        },
        credentials,
        region=REGION,
    )
    try:
        with serving_in_thread(app, "alarm-api-server") as handle:
            live = LiveAws(handle.url, credentials, FakeClock(), FakeOps(), models_dir)
            yield AlarmApi(live, alarms, metrics, topics, scheduler)
    finally:
        alarms.close()
        metrics.close()
        topics.close()
