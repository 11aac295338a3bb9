"""Start a real ``heron up`` in a child process on free ports with its own data directory."""

from __future__ import annotations

import configparser
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

HERE = Path(__file__).resolve().parent

CONFIG = """
throttle_rate = 200
throttle_burst = 40

[[functions]]
name = "ping"
handler = "userfuncs.extra.ping"
http_routes = ["GET /ping"]
authorized = false

[[functions]]
name = "slowFunction"
handler = "userfuncs.extra.slow"
timeout_s = 1
http_routes = ["GET /slow"]
authorized = false
"""


def free_port() -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Heron:
    """A running ``heron up``: its URLs, data directory and process."""

    base_url: str
    ws_url: str
    monitor_url: str
    data_dir: Path
    process: subprocess.Popen[bytes]


def start_heron(tmp: Path, config: str = CONFIG, *, extra_args: tuple[str, ...] = ()) -> Heron:
    """Start ``heron up`` and wait until ``/health`` answers 200."""
    port, monitor_port = free_port(), free_port()
    (tmp / "heron.toml").write_text(config)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    )
    log = (tmp / "heron.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "up", "--port", str(port), "--monitor-port",
         str(monitor_port), "--data-dir", str(tmp / "data"), "--config", str(tmp / "heron.toml"),
         *extra_args],
        cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    log.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"heron up exited: {(tmp / 'heron.log').read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{monitor_port}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"heron up never became healthy: {(tmp / 'heron.log').read_text()}")
    return Heron(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws",
        f"http://127.0.0.1:{monitor_port}", tmp / "data", process,
    )  # fmt: skip


def stop_heron(heron: Heron) -> None:
    """Stop it gracefully (SIGTERM), killing it if it hangs."""
    if heron.process.poll() is None:
        heron.process.send_signal(signal.SIGTERM)
        try:
            heron.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            heron.process.kill()
            heron.process.wait()


def aws_client(heron: Heron, service: str) -> Any:
    """A boto3 client for the monitor's AWS API, signed with the instance's own credentials."""
    import boto3

    session = boto3.session.Session()
    creds = configparser.ConfigParser()
    creds.read(heron.data_dir / "credentials")
    return session.client(
        service,
        endpoint_url=heron.monitor_url,
        region_name="us-east-1",
        aws_access_key_id=creds["heron"]["aws_access_key_id"],
        aws_secret_access_key=creds["heron"]["aws_secret_access_key"],
    )


@pytest.fixture(scope="module")
def heron(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Heron]:
    """One ``heron up`` shared by a test module."""
    running = start_heron(tmp_path_factory.mktemp("heron"))
    yield running
    stop_heron(running)
