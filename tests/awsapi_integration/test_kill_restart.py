"""``kill -9`` of ``heron up`` loses no acknowledged datapoint or log event.

A child ``heron up`` takes PutMetricData and PutLogEvents calls from several boto3 threads (small
ones, and large ones that its decode worker processes decode or extract EMF from); while they
are still sending, the process is SIGKILLed. A fresh ``heron up`` on the same data
directory must then return every datapoint and event whose call had returned HTTP 200 (and, for
the one call per thread that was in flight, either all of it or none of it). The restarted
instance's monitor port is also checked to route all three CloudWatch protocols to the API and to
refuse unsigned calls.
"""

from __future__ import annotations

import configparser
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import httpx
import psutil
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from awsapi_integration.live_monitor import PROTOCOLS, forced_models

NO_RETRIES = Config(
    retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=10
)
ACKS_BEFORE_KILL = 40
EVENTS_PER_BATCH = 5
WORKERS = 2
#: Large enough for the decode workers: >= 32 KiB of JSON, >= 500 EMF lines.
BULK_DATUMS = 400
EMF_LINES = 600


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Up:
    """A ``heron up`` child process and its monitor URL."""

    process: subprocess.Popen[bytes]
    monitor_url: str


def start_up(workdir: Path, data_dir: Path, log_name: str) -> Up:
    """Start ``heron up`` on free ports and wait for ``/health``."""
    port, monitor_port = free_port(), free_port()
    with (workdir / log_name).open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "heron.cli", "up", "--port", str(port), "--monitor-port",
             str(monitor_port), "--data-dir", str(data_dir)],
            cwd=workdir, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    url = f"http://127.0.0.1:{monitor_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"heron up exited: {(workdir / log_name).read_text()}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Up(process, url)
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"heron up never became healthy: {(workdir / log_name).read_text()}")


def client(up: Up, data_dir: Path, service: str, data_path: Path | None = None) -> Any:
    """A boto3 client signed with the key ``heron up`` wrote to the data directory."""
    creds = configparser.ConfigParser()
    creds.read(data_dir / "credentials")
    session = botocore.session.get_session()
    if data_path is not None:
        session.set_config_variable("data_path", str(data_path))
    return boto3.session.Session(botocore_session=session).client(
        service,
        endpoint_url=up.monitor_url,
        region_name="us-east-1",
        aws_access_key_id=creds["heron"]["aws_access_key_id"],
        aws_secret_access_key=creds["heron"]["aws_secret_access_key"],
        config=NO_RETRIES,
    )


@pytest.fixture
def processes() -> Iterator[list[Up]]:
    """Every ``heron up`` the test starts; any still running at the end is stopped."""
    started: list[Up] = []
    yield started
    for up in started:
        if up.process.poll() is None:
            up.process.send_signal(signal.SIGTERM)
            try:
                up.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                up.process.kill()
                up.process.wait()


def _worker(acked: list[int], stop: threading.Event, put: Callable[[int], None]) -> None:
    """Call ``put(1)``, ``put(2)``, ... until stopped or refused; record each acknowledged i."""
    i = 0
    while not stop.is_set():
        i += 1
        try:
            put(i)
        except Exception:  # the server was killed mid-call: that call is unacknowledged
            return
        acked.append(i)


def test_acknowledged_writes_survive_kill_minus_nine(tmp_path: Path, processes: list[Up]) -> None:
    data_dir = tmp_path / "data"
    first = start_up(tmp_path, data_dir, "first.log")
    processes.append(first)
    logs = client(first, data_dir, "logs")
    logs.create_log_group(logGroupName="/kill")
    for w in range(WORKERS):
        logs.create_log_stream(logGroupName="/kill", logStreamName=f"w{w}")
    logs.create_log_stream(logGroupName="/kill", logStreamName="emf")

    stop = threading.Event()
    metric_acks: list[list[int]] = [[] for _ in range(WORKERS)]
    log_acks: list[list[int]] = [[] for _ in range(WORKERS)]
    threads = []
    for w in range(WORKERS):
        cw_w = client(first, data_dir, "cloudwatch")
        logs_w = client(first, data_dir, "logs")

        def put_metric(i: int, cw: Any = cw_w, w: int = w) -> None:
            cw.put_metric_data(
                Namespace="Kill", MetricData=[{"MetricName": f"W{w}", "Value": float(i)}]
            )

        def put_logs(i: int, logs: Any = logs_w, w: int = w) -> None:
            ts = int(time.time() * 1000)
            logs.put_log_events(
                logGroupName="/kill",
                logStreamName=f"w{w}",
                logEvents=[
                    {"timestamp": ts, "message": f"batch {i} event {j}"}
                    for j in range(EVENTS_PER_BATCH)
                ],
            )

        threads.append(threading.Thread(target=_worker, args=(metric_acks[w], stop, put_metric)))
        threads.append(threading.Thread(target=_worker, args=(log_acks[w], stop, put_logs)))
    # Large writes go through the decode worker processes: bulk PutMetricData (decoded there)
    # and EMF lines (extracted there, stored by the main process before it answers).
    bulk_acks: list[int] = []
    emf_acks: list[int] = []
    cw_bulk, logs_emf = client(first, data_dir, "cloudwatch"), client(first, data_dir, "logs")

    def put_bulk(i: int) -> None:
        cw_bulk.put_metric_data(
            Namespace="Kill",
            MetricData=[
                {"MetricName": "Bulk", "Dimensions": [{"Name": "Row", "Value": str(r)}],
                 "Value": float(i), "Unit": "Count"}
                for r in range(BULK_DATUMS)
            ],
        )  # fmt: skip

    def put_emf(i: int) -> None:
        ts = int(time.time() * 1000)
        document = {
            "_aws": {"Timestamp": ts, "CloudWatchMetrics": [
                {"Namespace": "Kill", "Dimensions": [[]], "Metrics": [{"Name": "Emf"}]}]},
            "Emf": i,
        }  # fmt: skip
        logs_emf.put_log_events(
            logGroupName="/kill",
            logStreamName="emf",
            logEvents=[{"timestamp": ts, "message": json.dumps(document)}] * EMF_LINES,
        )

    threads.append(threading.Thread(target=_worker, args=(bulk_acks, stop, put_bulk)))
    threads.append(threading.Thread(target=_worker, args=(emf_acks, stop, put_emf)))
    everyone = [*metric_acks, *log_acks, bulk_acks, emf_acks]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and min(map(len, everyone)) < ACKS_BEFORE_KILL:
        time.sleep(0.01)
    workers = [
        child
        for child in psutil.Process(first.process.pid).children()
        if "heron.awsapi.decode_worker" in child.cmdline()
    ]
    os.kill(first.process.pid, signal.SIGKILL)  # while every thread is still sending
    first.process.wait(10)
    stop.set()
    for t in threads:
        t.join(15)
    assert min(map(len, everyone)) >= ACKS_BEFORE_KILL, "the writers never got going"
    assert workers, "the large writes should have started decode workers"
    for worker in workers:  # they leave with their parent (their stdin closes)
        worker.wait(10)

    second = start_up(tmp_path, data_dir, "second.log")
    processes.append(second)
    cw = client(second, data_dir, "cloudwatch")
    now = time.time()
    got = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": f"{stat.lower()}{w}", "MetricStat": {
                "Metric": {"Namespace": "Kill", "MetricName": f"W{w}"},
                "Period": 3600, "Stat": stat}}
            for w in range(WORKERS) for stat in ("SampleCount", "Sum")
        ],
        StartTime=now - 7200,
        EndTime=now + 3600,
    )  # fmt: skip
    totals = {r["Id"]: sum(r["Values"]) for r in got["MetricDataResults"]}
    bulk = cw.get_metric_data(
        MetricDataQueries=[
            {"Id": f"{stat.lower()}{name.lower()}", "MetricStat": {
                "Metric": {"Namespace": "Kill", "MetricName": name, "Dimensions": dims},
                "Period": 3600, "Stat": stat}}
            for name, dims in (("Bulk", [{"Name": "Row", "Value": "7"}]), ("Emf", []))
            for stat in ("SampleCount", "Sum")
        ],
        StartTime=now - 7200,
        EndTime=now + 3600,
    )  # fmt: skip
    totals.update({r["Id"]: sum(r["Values"]) for r in bulk["MetricDataResults"]})
    for name, acks, per_call in (("bulk", bulk_acks, 1), ("emf", emf_acks, EMF_LINES)):
        acked = len(acks)
        calls = totals[f"samplecount{name}"] / per_call
        assert acked <= calls <= acked + 1  # every acknowledged call, maybe the one in flight
        assert totals[f"sum{name}"] == per_call * calls * (calls + 1) / 2
    for w in range(WORKERS):
        acked = len(metric_acks[w])
        assert metric_acks[w] == list(range(1, acked + 1))
        count = totals[f"samplecount{w}"]
        # Every acknowledged put is there; the one in flight at the kill may be too.
        assert acked <= count <= acked + 1
        assert totals[f"sum{w}"] == count * (count + 1) / 2  # values 1..count, no gap

    logs = client(second, data_dir, "logs")
    for w in range(WORKERS):
        messages: list[str] = []
        token = None
        while True:
            extra = {"nextToken": token} if token else {}
            page = logs.filter_log_events(logGroupName="/kill", logStreamNames=[f"w{w}"], **extra)
            messages += [e["message"] for e in page["events"]]
            token = page.get("nextToken")
            if not token:
                break
        batches: dict[int, int] = {}
        for message in messages:
            batch = int(message.split()[1])
            batches[batch] = batches.get(batch, 0) + 1
        acked = len(log_acks[w])
        assert set(range(1, acked + 1)) <= set(batches) <= set(range(1, acked + 2))
        assert set(batches.values()) == {EVENTS_PER_BATCH}  # a batch is stored whole or not at all

    # The restarted instance's monitor port answers all three CloudWatch protocols, signed only.
    for protocol in PROTOCOLS:
        models = forced_models(tmp_path / "models", "cloudwatch", protocol)
        cw_p = client(second, data_dir, "cloudwatch", models)
        names = {m["MetricName"] for m in cw_p.list_metrics(Namespace="Kill")["Metrics"]}
        assert names == {"Bulk", "Emf", *(f"W{w}" for w in range(WORKERS))}
    unsigned = boto3.session.Session().client(
        "logs", endpoint_url=second.monitor_url, region_name="us-east-1",
        config=Config(signature_version=UNSIGNED, retries={"total_max_attempts": 1}),
    )  # fmt: skip
    with pytest.raises(ClientError) as refused:
        unsigned.describe_log_groups()
    assert refused.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
