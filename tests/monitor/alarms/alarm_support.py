"""Shared pieces for the alarm store/scheduler/actions tests: a hand-moved clock, alarm configs
shaped like ``validate_put_metric_alarm``'s output, and the real stores under ``tmp_path``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from heron.monitor.alarms.scheduler import AlarmScheduler
from heron.monitor.alarms.store import AlarmStore
from heron.monitor.contracts import MetricId, Sample
from heron.monitor.metrics.store import MetricStore
from heron.monitor.notify.topics import TopicStore

REGION = "us-east-1"
ACCOUNT = "123456789012"
#: 2023-11-14T22:14:00Z, a minute boundary.
T0 = 1_700_000_040.0
ALERTS = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
WARNINGS = f"arn:aws:sns:{REGION}:{ACCOUNT}:warnings"
METRIC = MetricId("Heron", "Errors", (("FunctionName", "send"),))


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def alarm_arn(name: str) -> str:
    """The ARN of alarm ``name`` in the test region and account."""
    return f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"


def metric_alarm(name: str = "Errors", **overrides: Any) -> dict[str, Any]:
    """A validated metric-alarm configuration: Sum of METRIC over 60 s, > 0 in 1 of 1."""
    config: dict[str, Any] = {
        "AlarmName": name,
        "AlarmArn": alarm_arn(name),
        "ActionsEnabled": True,
        "OKActions": [ALERTS],
        "AlarmActions": [ALERTS],
        "InsufficientDataActions": [],
        "MetricName": METRIC.name,
        "Namespace": METRIC.namespace,
        "Statistic": "Sum",
        "Dimensions": [{"Name": k, "Value": v} for k, v in METRIC.dimensions],
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


def composite_alarm(name: str, rule: str, **overrides: Any) -> dict[str, Any]:
    """A validated composite-alarm configuration."""
    config: dict[str, Any] = {
        "AlarmName": name,
        "AlarmArn": alarm_arn(name),
        "AlarmRule": rule,
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": [WARNINGS],
        "InsufficientDataActions": [],
    }
    config.update(overrides)
    return config


def sample(value: float, at_s: float, metric: MetricId = METRIC, resolution: int = 60) -> Sample:
    """One plain datapoint of ``metric`` at ``at_s`` epoch seconds."""
    return Sample(
        metric.namespace,
        metric.name,
        metric.dimensions,
        int(at_s * 1000),
        (float(value),),
        storage_resolution=resolution,
    )


@dataclass
class World:
    """The real stores under one data directory, on one fake clock, and the scheduler."""

    clock: FakeClock
    alarms: AlarmStore
    metrics: MetricStore
    topics: TopicStore
    scheduler: AlarmScheduler

    def close(self) -> None:
        self.alarms.close()
        self.metrics.close()
        self.topics.close()


def open_world(data_dir: Path, clock: FakeClock | None = None, settle_s: float = 1.0) -> World:
    """Alarm, metric and topic stores under ``data_dir`` and a scheduler over them."""
    clock = clock or FakeClock()
    alarms = AlarmStore(data_dir, clock=clock)
    metrics = MetricStore(data_dir, clock=clock)
    topics = TopicStore(data_dir / "notify.db", region=REGION, account_id=ACCOUNT, clock=clock)
    scheduler = AlarmScheduler(alarms, metrics, topics, clock, settle_s=settle_s)
    return World(clock, alarms, metrics, topics, scheduler)
