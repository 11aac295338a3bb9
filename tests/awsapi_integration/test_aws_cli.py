"""The system ``aws`` CLI works against the monitor with nothing but the files it wrote.

Only ``AWS_SHARED_CREDENTIALS_FILE``, ``AWS_CONFIG_FILE``, ``AWS_PROFILE`` and ``--endpoint-url``
are given; every other ``AWS_*`` variable of the test environment is removed so the CLI cannot
pick up keys or a region from elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from typing import Any

import pytest

from awsapi_integration.live_monitor import LiveMonitor

AWS = shutil.which("aws")
pytestmark = pytest.mark.skipif(AWS is None, reason="the `aws` CLI is not installed on PATH")


def aws(live: LiveMonitor, *args: str) -> Any:
    """Run ``aws <args> --endpoint-url <monitor>`` and return its parsed JSON output."""
    assert AWS is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(live.data_dir / "credentials"),
        AWS_CONFIG_FILE=str(live.data_dir / "config"),
        AWS_PROFILE="heron",
    )
    done = subprocess.run(
        [AWS, *args, "--endpoint-url", live.url, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.strip() else None


def test_cloudwatch_put_and_list_with_the_cli(live: LiveMonitor) -> None:
    ns = "IT/Cli"
    aws(live, "cloudwatch", "put-metric-data", "--namespace", ns, "--metric-name", "Hits",
        "--value", "3", "--dimensions", "Route=/send")  # fmt: skip
    listed = aws(live, "cloudwatch", "list-metrics", "--namespace", ns)
    assert listed["Metrics"] == [
        {"Namespace": ns, "MetricName": "Hits", "Dimensions": [{"Name": "Route", "Value": "/send"}]}
    ]
    # The CLI's datapoint is really there (read back through boto3).
    now = time.time()
    stats = live.client("cloudwatch").get_metric_statistics(
        Namespace=ns, MetricName="Hits", Dimensions=[{"Name": "Route", "Value": "/send"}],
        StartTime=now - 600, EndTime=now + 60, Period=3600, Statistics=["Sum"],
    )  # fmt: skip
    assert [p["Sum"] for p in stats["Datapoints"]] == [3.0]


def test_logs_describe_with_the_cli(live: LiveMonitor) -> None:
    live.client("logs").create_log_group(logGroupName="/it/cli/app")
    described = aws(live, "logs", "describe-log-groups", "--log-group-name-prefix", "/it/cli/")
    assert [g["logGroupName"] for g in described["logGroups"]] == ["/it/cli/app"]
