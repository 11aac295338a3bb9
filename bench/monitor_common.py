"""Shared parts of the monitor benchmarks (issue 3): Heron's monitor and moto server side by side.

Both servers get the *same* requests, serialized once by botocore (the wire format boto3 really
sends: AWS JSON 1.0 for CloudWatch, gzip-compressed when large; JSON 1.1 for Logs) and SigV4-signed
with each server's credentials (moto does not check signatures; Heron does). The requests are
turned into raw HTTP/1.1 bytes up front, so the client only writes bytes and reads responses on
several keep-alive connections: what is timed is the server.

- ``heron_monitor()`` starts a real ``heron up`` (its monitor port serves the AWS API) and reads
  the access key from ``<data-dir>/credentials``.
- ``moto_server()`` starts ``.venv/bin/moto_server`` on 127.0.0.1 (``moto[server]`` is a
  bench-only tool: ``.venv/bin/pip install 'moto[server]'``; it is not a project dependency).
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _harness as h
import boto3
import httpx
import psutil
from botocore.config import Config

MOTO = h.REPO / ".venv" / "bin" / "moto_server"
HOST = h.HOST


@dataclass
class Server:
    """An AWS-compatible endpoint on 127.0.0.1: its port, credentials and server process id."""

    name: str
    port: int
    access_key: str
    secret_key: str
    pid: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://{HOST}:{self.port}"

    def rss(self) -> int:
        """Resident set size in bytes of the server process and its children (Heron's decode
        workers; not its execution environments, which only the app port starts)."""
        process = psutil.Process(self.pid)
        total = process.memory_info().rss
        for child in process.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                if "decode_worker" in " ".join(child.cmdline()):
                    total += child.memory_info().rss
        return int(total)

    def client(self, service: str) -> Any:
        """A boto3 client for setup and checks (not used for timed requests)."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            config=Config(retries={"max_attempts": 1}, read_timeout=300),
        )


@contextlib.contextmanager
def heron_monitor() -> Iterator[Server]:
    """A fresh ``heron up``; yields its monitor port with the instance's credentials."""
    with h.heron_up() as heron:
        parser = configparser.ConfigParser()
        parser.read(heron.data_dir / "credentials")
        profile = parser["heron"]
        yield Server(
            "heron",
            heron.monitor_port,
            profile["aws_access_key_id"].strip(),
            profile["aws_secret_access_key"].strip(),
            heron.process.pid,
            {"heron": heron},
        )


@contextlib.contextmanager
def moto_server(startup_timeout_s: float = 30.0) -> Iterator[Server]:
    """``moto_server`` on a free 127.0.0.1 port, stopped afterwards."""
    if not MOTO.exists():
        raise SystemExit(f"{MOTO} not found: `.venv/bin/pip install 'moto[server]'` (bench only)")
    port = h.free_port()
    scratch = Path(tempfile.mkdtemp(prefix="moto-bench-"))
    log = (scratch / "moto.log").open("wb")
    process = subprocess.Popen(
        [str(MOTO), "-H", HOST, "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=scratch,
        env={**os.environ, "MOTO_CALL_RESET_API": "false"},
    )
    try:
        deadline = time.monotonic() + startup_timeout_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"moto_server exited: {(scratch / 'moto.log').read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                httpx.get(f"http://{HOST}:{port}/moto-api/", timeout=1.0)
                break
            if time.monotonic() > deadline:
                raise RuntimeError("moto_server did not answer")
            time.sleep(0.1)
        yield Server("moto", port, "bench", "bench-secret", process.pid)
    finally:
        h.stop(process)
        log.close()
        shutil.rmtree(scratch, ignore_errors=True)


# -- pre-serialized requests ---------------------------------------------------------------------


class _Captured(Exception):
    def __init__(self, request: Any) -> None:
        super().__init__("captured")
        self.request = request


def _capture(request: Any, **_: Any) -> None:
    raise _Captured(request)


class Signer:
    """Serializes and signs requests with botocore for one server, without sending them."""

    def __init__(self, server: Server, service: str) -> None:
        self.server = server
        self._client = server.client(service)
        self._client.meta.events.register("before-send", _capture)

    def request(self, operation: str, params: dict[str, Any]) -> bytes:
        """The raw HTTP/1.1 bytes boto3 would send for ``operation(**params)``."""
        method = getattr(self._client, _snake(operation))
        try:
            method(**params)
        except _Captured as captured:
            req = captured.request
        else:  # pragma: no cover - the hook always raises
            raise RuntimeError("request was not captured")
        path = req.url.split(f":{self.server.port}", 1)[1] or "/"
        body = req.body if isinstance(req.body, bytes) else (req.body or "").encode()
        lines = [f"{req.method} {path} HTTP/1.1", f"Host: {HOST}:{self.server.port}"]
        for name, value in req.headers.items():
            text = value.decode() if isinstance(value, bytes) else str(value)
            if name.lower() not in ("content-length", "host"):
                lines.append(f"{name}: {text}")
        lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _snake(operation: str) -> str:
    out = []
    for i, ch in enumerate(operation):
        if ch.isupper() and i and not operation[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


# -- a keep-alive raw-socket client ------------------------------------------------------------


@dataclass
class Exchange:
    """One response: status, body and the time from first byte written to last byte read (s)."""

    status: int
    body: bytes
    seconds: float


async def _read(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length, chunked, close = 0, False, head.startswith(b"HTTP/1.0")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"content-length":
            length = int(value)
        elif key == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif key == b"connection":
            close = value.strip().lower() == b"close"
    if chunked:
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        return status, b"".join(p[:-2] for p in parts), close
    return status, (await reader.readexactly(length) if length else b""), close


@dataclass
class Run:
    """A batch of exchanges: statuses, latencies (s), a sample of error bodies, elapsed (s)."""

    statuses: dict[int, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    timed_out: bool = False

    @property
    def ok(self) -> int:
        """2xx responses."""
        return sum(n for s, n in self.statuses.items() if 200 <= s < 300)


async def _post_many(
    port: int, requests: Sequence[bytes], count: int, connections: int, duration_s: float
) -> Run:
    run = Run()
    counter = iter(range(count))
    start = time.perf_counter()
    deadline = start + duration_s

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, port, limit=2**24)
        try:
            while time.perf_counter() < deadline:
                n = next(counter, None)
                if n is None:
                    return
                sent = time.perf_counter()
                writer.write(requests[n % len(requests)])
                try:
                    left = max(0.1, deadline - time.perf_counter() + 5.0)
                    status, body, close = await asyncio.wait_for(_read(reader), left)
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError) as exc:
                    run.errors.append(f"{type(exc).__name__}")
                    run.timed_out = True
                    return
                run.latencies.append(time.perf_counter() - sent)
                run.statuses[status] = run.statuses.get(status, 0) + 1
                if status >= 300 and len(run.errors) < 5:
                    run.errors.append(body[:300].decode("utf-8", "replace"))
                if close:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port, limit=2**24)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    run.elapsed_s = time.perf_counter() - start
    return run


def post_many(
    server: Server,
    requests: Sequence[bytes],
    *,
    count: int,
    connections: int = 4,
    duration_s: float = 30.0,
) -> Run:
    """Send ``count`` requests (cycling through ``requests``) on ``connections`` keep-alive
    connections, stopping after ``duration_s``."""
    return asyncio.run(_post_many(server.port, requests, count, connections, duration_s))


async def _one(port: int, request: bytes, timeout_s: float) -> Exchange:
    reader, writer = await asyncio.open_connection(HOST, port, limit=2**26)
    try:
        start = time.perf_counter()
        writer.write(request)
        status, body, _ = await asyncio.wait_for(_read(reader), timeout_s)
        return Exchange(status, body, time.perf_counter() - start)
    finally:
        writer.close()


def exchange(server: Server, request: bytes, timeout_s: float = 60.0) -> Exchange:
    """Send one request on a new connection; raises TimeoutError after ``timeout_s``."""
    return asyncio.run(_one(server.port, request, timeout_s))


def fmt_rate(value: float) -> str:
    """``1,234,567`` style."""
    return f"{value:,.0f}"


def ratio(heron: float, moto: float) -> str:
    """Heron/moto as ``12.3x`` (``n/a`` when moto's value is zero)."""
    return f"{heron / moto:,.1f}x" if moto > 0 else "n/a"
