"""The monitor as one object: its stores, their housekeeping and the AWS-compatible API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from heron.awsapi.alarm_ops import alarm_operations
from heron.awsapi.app import AwsApp, create_aws_app
from heron.awsapi.cloudwatch_ops import cloudwatch_operations
from heron.awsapi.credentials import Credentials, load_or_create_credentials
from heron.awsapi.decode_pool import DecodePool, default_size
from heron.awsapi.logs_ops import logs_operations
from heron.awsapi.put_metric_data import MetricWriter
from heron.awsapi.sns_ops import sns_operations
from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.seed import AlarmLoader, AlarmSource, LoadReport
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.logs.store import LogStore
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.config import load_notify_config
from heron.monitor.notify.notifier import Notifier
from heron.monitor.notify.topics import TopicStore
from heron.monitor.telemetry_sink import MonitorSink
from heron.types import Clock
from heron.wakeups import delay_on_grid

log = logging.getLogger(__name__)

#: How often metric roll-ups and log retention run (CloudWatch's own jobs run on similar scales).
HOUSEKEEPING_INTERVAL_S = 60.0


class Monitor:
    """Metric, log, alarm and topic stores, the sink and scheduler that feed them, and the AWS API."""

    def __init__(
        self,
        data_dir: Path,
        *,
        region: str = "us-east-1",
        account_id: str = "000000000000",
        clock: Clock = time.time,
        time_scale: float = 1.0,
        signature_clock: Clock | None = None,
        notify: Mapping[str, Any] | None = None,
        decode_workers: int = -1,
    ):
        """``clock`` is Heron time (``time_scale`` times real time, see ``heron.monitor.timescale``);
        request signatures are checked against ``signature_clock`` (default ``clock``), which
        must be real time whenever the scale is not 1. ``notify`` is heron.toml's ``[notify]``
        table (docs/notify.md), validated here so a bad channel or schedule stops startup.
        ``decode_workers`` is the decode pool's size (-1: ``decode_pool.default_size()``)."""
        notify_config = load_notify_config(notify)
        self.clock = clock
        self.metrics = MetricStore(data_dir, clock=clock)
        self.logs = LogStore(data_dir / "logs.db", clock=clock, sink=self.metrics)
        self.sink = MonitorSink(self.logs, self.metrics)
        self.alarms = AlarmStore(data_dir, clock=clock)
        self.topics = TopicStore(
            data_dir / "notify.db", region=region, account_id=account_id, clock=clock
        )
        self.notifier = Notifier(self.topics, notify_config, data_dir / "notify.db", clock=clock)
        self.scheduler = AlarmScheduler(
            self.alarms, self.metrics, self.topics, clock, time_scale=time_scale
        )
        self.credentials: Credentials = load_or_create_credentials(data_dir, region=region)
        alarm_ops = alarm_operations(
            self.alarms,
            self.scheduler,
            self.topics,
            clock=clock,
            region=region,
            account_id=account_id,
        )
        self.alarm_operations = alarm_ops
        self.region, self.account_id = region, account_id
        size = default_size() if decode_workers < 0 else decode_workers
        self.decode_pool = DecodePool(size) if size else None
        self.logs.emf_offload = self.decode_pool
        writer = MetricWriter(self.metrics, clock, self.decode_pool)
        self.aws: AwsApp = create_aws_app(
            {
                "cloudwatch": {
                    **cloudwatch_operations(self.metrics, clock=clock, writer=writer),
                    **alarm_ops,
                },
                "logs": logs_operations(self.logs, clock=clock, region=region),
                "sns": sns_operations(
                    self.topics,
                    region=region,
                    account_id=account_id,
                    schedules=tuple(notify_config.schedules),
                ),
            },
            self.credentials,
            region=region,
            clock=signature_clock or clock,
            raw_handlers={("cloudwatch", "PutMetricData"): writer.put_raw},
        )

    def load_alarms(
        self, sources: Sequence[AlarmSource], *, ok_notifications: bool = True
    ) -> LoadReport:
        """Load alarm files / the catalogue through the PutMetricAlarm path (idempotent).

        Raises AlarmFileError, changing nothing, when any definition is invalid.
        """
        loader = AlarmLoader(
            self.alarms,
            self.alarm_operations,
            region=self.region,
            account_id=self.account_id,
            logs=self.logs,
        )
        return loader.load(sources, ok_notifications=ok_notifications)

    def housekeeping(self) -> None:
        """Roll metric buckets up, expire old data, drop log events past retention, and reap
        decode workers that left after idling."""
        now_ms = int(self.clock() * 1000)
        self.metrics.compact(now_ms)
        self.logs.expire(now_ms)
        if self.decode_pool is not None:
            self.decode_pool.reap()

    async def run_housekeeping(self, stop: asyncio.Event) -> None:
        """Run ``housekeeping`` every minute until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay_on_grid(HOUSEKEEPING_INTERVAL_S))
            if stop.is_set():
                return
            try:
                await asyncio.to_thread(self.housekeeping)
            except Exception:  # the next round retries; the monitor must keep serving
                log.exception("monitor housekeeping failed")

    def close(self) -> None:
        """Store what the sink holds, then close both stores."""
        if self.decode_pool is not None:
            self.decode_pool.close()
        self.sink.close()
        self.metrics.close()
        self.logs.close()
        self.alarms.close()
        self.notifier.close()
        self.topics.close()

    def info(self) -> dict[str, Any]:
        """What ``/health`` reports about the monitor."""
        return {"awsAccessKeyId": self.credentials.access_key_id}
