"""Shared parts of the notification benchmarks (issue 5): a local receiver and a ``heron up``
started with a ``[notify]`` configuration.

- ``Receiver`` runs ``python bench/notify_common.py receive --port P`` as its own process (so it
  does not share a GIL with what is measured): an asyncio HTTP/1.1 server with keep-alive that
  answers every POST ``200 ok`` like Slack's incoming webhook or an SNS HTTP subscriber, stamps
  the arrival of each request's *first byte* (``time.time()``, the same clock as the caller's),
  and records the idempotency key, the SNS message type and, for alarm messages, the alarm name,
  state and ``StateChangeTime``. ``GET /stats`` returns the records as JSON.
- ``heron_with_notify(config)`` starts ``heron up`` with ``--config`` pointing at a heron.toml
  holding ``config`` (formatted with the monitor's port), like ``_harness.heron_up`` otherwise.
- ``hook_and_slack_config`` is the heron.toml the latency and burst benchmarks share: ``alerts``
  (``ALERTS_TOPIC``) routed to the receiver as an SNS HTTP webhook and a Slack webhook.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import _harness as h
import httpx

HERE = Path(__file__).resolve().parent
_COUNT = re.compile(r"(\d+) alerts, \d+ resolved|Digest: (\d+) firing")


# -- the receiver process ---------------------------------------------------------------------


def _record(path: str, headers: dict[str, str], body: bytes, first_byte: float) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "t": first_byte,
        "path": path,
        "key": headers.get("x-heron-idempotency-key", ""),
        "type": headers.get("x-amz-sns-message-type", "slack"),
    }
    with contextlib.suppress(ValueError):
        doc = json.loads(body)
        if rec["type"] == "slack":
            rec["text"] = str(doc.get("text", ""))
            rec["body"] = json.dumps(doc)[:4000]
        else:
            rec["subject"] = str(doc.get("Subject", ""))
            rec["message_id"] = doc.get("MessageId", "")
            inner = json.loads(doc.get("Message", "{}"))
            if isinstance(inner, dict) and "AlarmName" in inner:
                rec["alarm"] = inner["AlarmName"]
                rec["state"] = inner.get("NewStateValue")
                rec["changed"] = inner.get("StateChangeTime")
            elif isinstance(inner, dict):
                rec["keys"] = inner.get("keys", [])
    return rec


async def _serve(port: int) -> None:
    records: list[dict[str, Any]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                first = await reader.read(1)
                if not first:
                    return
                stamp = time.time()
                head = first + await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                if method == "GET" and path == "/stats":
                    payload = json.dumps(records).encode()
                else:
                    records.append(_record(path, headers, body, stamp))
                    payload = b"ok"
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: "
                    + str(len(payload)).encode()
                    + b"\r\n\r\n"
                    + payload
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            return
        finally:
            writer.close()

    server = await asyncio.start_server(handle, h.HOST, port, backlog=1024)
    async with server:
        await server.serve_forever()


class Receiver:
    """The receiver process on a free port; ``records()`` fetches what it got so far."""

    def __init__(self) -> None:
        self.port = h.free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "receive", "--port", str(self.port)]
        )
        deadline = time.monotonic() + 10
        while True:
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"{self.url}/stats", timeout=1)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the receiver did not start")
            time.sleep(0.05)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{h.HOST}:{self.port}"

    def records(self) -> list[dict[str, Any]]:
        """Every request received, in arrival order."""
        out: list[dict[str, Any]] = httpx.get(f"{self.url}/stats", timeout=30).json()
        return out

    def close(self) -> None:
        """Stop the receiver process."""
        self.process.terminate()
        self.process.wait(timeout=10)


def alerts_in(text: str) -> int:
    """How many alerts a Slack message stands for: 1 for a card, N for an ``N alerts`` digest."""
    match = _COUNT.search(text)
    return int(match.group(1) or match.group(2)) if match else 1


# -- heron up with a [notify] configuration -----------------------------------------------------

#: The topic ``hook_and_slack_config`` routes to the receiver: alarm actions publish here.
ALERTS_TOPIC = "arn:aws:sns:us-east-1:000000000000:alerts"


def hook_and_slack_config(
    receiver: Receiver, slack_name: str, *, notify: str = "", slack: str = ""
) -> str:
    """A heron.toml routing ``alerts`` to the receiver as an SNS HTTP webhook and a Slack webhook.

    ``notify`` and ``slack`` are extra TOML lines for the ``[notify]`` table and the Slack channel.
    """
    head = f"\n[notify]\n{notify}\n" if notify else ""
    return f"""
alarm_catalogue = false
{head}
[notify.channels.hook]
protocol = "http"
url = "{receiver.url}/hook"
confirm = false

[notify.channels.team-slack]
protocol = "slack"
url = "{receiver.url}/services/T0/B0/{slack_name}"
{slack}

[notify.routes.alerts]
channels = ["hook", "team-slack"]
"""


def state_change_epoch(stamp: str) -> float:
    """Seconds since the epoch of an alarm message's ``StateChangeTime``."""
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@dataclass
class NotifyHeron:
    """A running ``heron up``: URLs, the data directory and the log."""

    base_url: str
    monitor_url: str
    data_dir: Path
    log_path: Path
    process: subprocess.Popen[bytes]

    def cloudwatch(self) -> Any:
        """A boto3 CloudWatch client signed with the instance's key."""
        import configparser

        import boto3
        from botocore.config import Config

        creds = configparser.ConfigParser()
        creds.read(self.data_dir / "credentials")
        return boto3.client(
            "cloudwatch",
            endpoint_url=self.monitor_url,
            region_name="us-east-1",
            aws_access_key_id=creds["heron"]["aws_access_key_id"],
            aws_secret_access_key=creds["heron"]["aws_secret_access_key"],
            config=Config(retries={"max_attempts": 0}, max_pool_connections=32),
        )


@contextlib.contextmanager
def heron_with_notify(config: str, env: dict[str, str] | None = None) -> Iterator[NotifyHeron]:
    """Start ``heron up`` with ``config`` (``{monitor_port}`` is filled in) and stop it after."""
    tmp = Path(tempfile.mkdtemp(prefix="heron-bench-notify-"))
    port, monitor_port = h.free_port(), h.free_port()
    (tmp / "heron.toml").write_text(config.replace("{monitor_port}", str(monitor_port)))
    log_path = tmp / "heron-up.log"
    command = [
        str(h.HERON), "up", "--port", str(port), "--monitor-port", str(monitor_port),
        "--data-dir", str(tmp / "data"), "--config", str(tmp / "heron.toml"),
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=tmp, env={**os.environ, **(env or {})}, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"heron up exited:\n{log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://{h.HOST}:{monitor_port}/health", timeout=1).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("heron up not healthy after 30 s")
            time.sleep(0.05)
        yield NotifyHeron(
            f"http://{h.HOST}:{port}", f"http://{h.HOST}:{monitor_port}", tmp / "data",
            log_path, process,
        )  # fmt: skip
    finally:
        h.stop(process)
        problems = [
            line for line in log_path.read_text(errors="replace").splitlines()
            if "Error" in line or "error" in line or "Traceback" in line
        ]  # fmt: skip
        if problems:
            print(f"heron up logged {len(problems)} error lines, e.g.: {problems[:5]}")
        if os.environ.get("HERON_BENCH_KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    """``receive --port P``: run the receiver (used by ``Receiver``)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["receive"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port))


if __name__ == "__main__":
    main()
