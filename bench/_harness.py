"""Shared parts of the benchmarks: start a real ``heron up``, sign users up, run wrk, measure RSS.

Every benchmark starts its own ``heron up`` as a subprocess on free ports with a fresh temporary
data directory, waits for the monitor's ``/health`` to answer 200, drives it on 127.0.0.1 only,
and stops it with SIGTERM (SIGKILL after a grace period). Nothing here writes into the repo.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _resident
import httpx
import psutil

from heron.monitor.logs import chunks

REPO = Path(__file__).resolve().parent.parent
HERON = REPO / ".venv" / "bin" / "heron"
HOST = "127.0.0.1"

#: Settings every benchmark raises so that the stage throttle (1,000 req/s by default) is not
#: what gets measured; each script says when it uses them.
NO_THROTTLE = {"HERON_THROTTLE_RATE": "1000000", "HERON_THROTTLE_BURST": "1000000"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def cpu_count() -> int:
    """Cores this process may run on."""
    return len(os.sched_getaffinity(0))


@dataclass
class Heron:
    """A running ``heron up`` subprocess: its ports, data directory and process handle."""

    port: int
    monitor_port: int
    data_dir: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    started_s: float
    ready_s: float

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` of the application API."""
        return f"http://{HOST}:{self.port}"

    @property
    def ws_url(self) -> str:
        """``ws://127.0.0.1:<port>/ws`` of the WebSocket API."""
        return f"ws://{HOST}:{self.port}/ws"

    def processes(self) -> list[psutil.Process]:
        """The parent and every living descendant (execution environments)."""
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def parent_rss(self) -> int:
        """Resident set size of the ``heron up`` parent process in bytes."""
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def total_rss(self) -> int:
        """Resident set size summed over the parent and its children, in bytes."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total

    def total_resident(self) -> int | None:
        """Bytes the processes hold resident, each physical page once (None unless root)."""
        return _resident.resident_bytes(proc.pid for proc in self.processes())

    def total_pss(self) -> int:
        """Proportional set size summed over the processes, in bytes: each shared page divided
        among all the processes on the machine that map it."""
        total = 0
        for proc in self.processes():
            with contextlib.suppress(psutil.Error):
                total += proc.memory_full_info().pss
        return total


@contextlib.contextmanager
def heron_up(
    env: Mapping[str, str] | None = None,
    *,
    cpus: Sequence[int] | None = None,
    startup_timeout_s: float = 30.0,
    keep_data: bool = False,
    program: Sequence[str] | None = None,
) -> Iterator[Heron]:
    """Start ``heron up`` with extra environment ``env`` (pinned to ``cpus`` with taskset if
    given), yield it once ``/health`` is 200, and stop it afterwards. ``program`` replaces the
    ``heron`` executable (e.g. a launcher that patches something before calling the CLI)."""
    if not HERON.exists():
        raise SystemExit(f"{HERON} not found: create the venv and `pip install -e .` first")
    data_dir = Path(tempfile.mkdtemp(prefix="heron-bench-"))
    port, monitor_port = free_port(), free_port()
    while monitor_port == port:
        monitor_port = free_port()
    command = [
        *(program or [str(HERON)]),
        "up",
        "--port",
        str(port),
        "--monitor-port",
        str(monitor_port),
        "--data-dir",
        str(data_dir / "data"),
    ]
    if cpus is not None:
        command = ["taskset", "-c", ",".join(str(c) for c in cpus), *command]
    child_env = {**os.environ, **(env or {})}
    # A heron.toml in the caller's directory must not change what is measured.
    cwd = data_dir
    log_path = data_dir / "heron-up.log"
    log = log_path.open("wb")
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=child_env, stdout=log, stderr=subprocess.STDOUT
    )
    heron: Heron | None = None
    try:
        deadline = started + startup_timeout_s
        health = f"http://{HOST}:{monitor_port}/health"
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"heron up exited with {process.returncode}:\n{log_path.read_text()[-2000:]}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1.0).status_code == 200:
                    break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"heron up not healthy after {startup_timeout_s} s")
            time.sleep(0.02)
        heron = Heron(
            port, monitor_port, data_dir / "data", process, log_path, started, time.perf_counter()
        )
        yield heron
    finally:
        stop(process)
        log.close()
        if not keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)


def stop(process: subprocess.Popen[bytes], grace_s: float = 15.0) -> None:
    """SIGTERM the process we started, then SIGKILL it (and its children) after ``grace_s``."""
    if process.poll() is not None:
        return
    children = []
    with contextlib.suppress(psutil.Error):
        children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
    for child in children:
        with contextlib.suppress(psutil.Error):
            if child.is_running():
                child.kill()


@dataclass(frozen=True)
class User:
    """A signed-up user and its API token."""

    user_id: str
    token: str


def sign_up(client: httpx.Client, username: str) -> User:
    """Create a user through ``POST /users`` and return its id and token."""
    response = client.post(
        "/users",
        json={"username": username, "displayName": username, "email": f"{username}@example.com"},
    )
    if response.status_code != 201:
        raise RuntimeError(f"sign-up of {username} failed: {response.status_code} {response.text}")
    body = response.json()
    user = body.get("user", body)
    return User(str(user["userId"]), str(body["token"]))


def sign_up_many(base_url: str, count: int, prefix: str) -> list[User]:
    """Sign up ``count`` users named ``<prefix>NNNNN`` one after another."""
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        return [sign_up(client, f"{prefix}{i:05d}") for i in range(count)]


def warm_up(base_url: str, path: str, token: str, count: int = 50) -> list[float]:
    """Send ``count`` sequential GETs (authorizer cache, warm environments); their latencies (s)."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        for _ in range(count):
            start = time.perf_counter()
            response = client.get(path, headers={"authorization": f"Bearer {token}"})
            latencies.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise RuntimeError(f"warm-up GET {path}: {response.status_code} {response.text}")
    return latencies


# -- wrk ----------------------------------------------------------------------------------------


def ensure_wrk() -> str | None:
    """The wrk binary, installing Debian's package if missing (as root); None if unavailable."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    print("bench: wrk is missing; installing it with `apt-get install -y wrk` ...", flush=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 300}
    if subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet).returncode:
        print("bench: apt-get install failed; running apt-get update first ...", flush=True)
        subprocess.run(["apt-get", "update"], check=False, **quiet)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, **quiet)
    return shutil.which("wrk")


@dataclass
class WrkResult:
    """What wrk reported: totals, rate, errors and the latency distribution (ms)."""

    requests: int
    duration_s: float
    rps: float
    non_2xx: int
    socket_errors: int
    latency_ms: dict[str, float] = field(default_factory=dict)
    raw: str = ""


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if match is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> WrkResult:
    """Parse ``wrk --latency`` output."""
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if total is None or rps is None:
        raise RuntimeError(f"could not parse wrk output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    latency: dict[str, float] = {}
    for pct, value in re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+(\S+)$", output, re.MULTILINE):
        latency[f"p{pct.rstrip('0').rstrip('.') if '.' in pct else pct}"] = _ms(value)
    avg = re.search(r"Latency\s+(\S+)\s+(\S+)\s+(\S+)", output)
    if avg is not None:
        latency["avg"] = _ms(avg.group(1))
        latency["max"] = _ms(avg.group(3))
    return WrkResult(
        requests=int(total.group(1)),
        duration_s=_ms(total.group(2) + total.group(3)) / 1000.0,
        rps=float(rps.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        latency_ms=latency,
        raw=output,
    )


def run_wrk(
    wrk: str,
    url: str,
    lua: str,
    *,
    connections: int,
    threads: int,
    duration_s: int,
    cpus: Sequence[int] | None = None,
    timeout_s: float = 5.0,
) -> WrkResult:
    """Run wrk against ``url`` with the Lua script text ``lua``; bounded by ``duration_s``."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration_s}s",
        "--timeout",
        f"{max(1, round(timeout_s))}s",
        "--latency",
        "-s",
        script.name,
        url,
    ]
    if cpus is not None:
        command = ["taskset", "-c", ",".join(str(c) for c in cpus), *command]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=duration_s + 60, check=False
        )
    finally:
        os.unlink(script.name)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr}")
    return parse_wrk(done.stdout)


def auth_lua(tokens: Sequence[str], path: str) -> str:
    """A wrk script sending ``GET path`` with an Authorization header, tokens round-robin per
    thread (each token is one authorizer cache entry, so all are cached after the first use)."""
    token_list = ", ".join(f'"{t}"' for t in tokens)
    return f"""
local tokens = {{{token_list}}}
local n = 0
request = function()
  n = n + 1
  local t = tokens[(n % #tokens) + 1]
  return wrk.format("GET", "{path}", {{["Authorization"] = "Bearer " .. t}})
end
"""


# -- statistics ---------------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """The ``pct`` percentile (nearest-rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100.0 * len(ordered))))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float:
    """The median of ``values``; NaN when empty."""
    return statistics.median(values) if values else float("nan")


def figure(name: str, value: str, target: str, verdict: bool | None, note: str = "") -> None:
    """Print one summary line: ``FIGURE <name>: <value> (target <target>) PASS|MISS — note``."""
    mark = "n/a" if verdict is None else ("PASS" if verdict else "MISS")
    tail = f" -- {note}" if note else ""
    print(f"FIGURE {name}: {value} (target {target}) {mark}{tail}", flush=True)


def header(title: str) -> None:
    """Print a section header with the machine facts every figure depends on."""
    print(f"== {title} ==", flush=True)
    print(
        f"machine: {cpu_count()} cores usable, python {sys.version.split()[0]}, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        flush=True,
    )


# -- CPU pinning --------------------------------------------------------------------------------


def pinning(pin: bool) -> tuple[list[int] | None, list[int] | None]:
    """(server cores, client cores). With ``pin`` and at least two cores the server gets all but
    the last core and this process (the client, and wrk, which inherits it) gets the last one."""
    cores = sorted(os.sched_getaffinity(0))
    if not pin or len(cores) < 2:
        return None, None
    server, client = cores[:-1], cores[-1:]
    os.sched_setaffinity(0, client)
    return server, client


def pin_note(server_cpus: Sequence[int] | None) -> str:
    """How the run was pinned, for the summary line."""
    if server_cpus is None:
        return f"unpinned ({cpu_count()} cores shared by server and client)"
    return f"server pinned to cores {','.join(map(str, server_cpus))}, client to the rest"


# -- telemetry read-back ------------------------------------------------------------------------
#
# The telemetry goes to the monitor: log events into ``<data-dir>/logs.db`` (the LogStore's
# SQLite file, read here with read-only queries while heron runs; WAL lets readers in), metrics
# into the metric store, read back through the monitor's own CloudWatch API with boto3 and the
# instance's credentials (``<data-dir>/credentials``). The sink commits every 50 ms.


def log_messages(data_dir: Path, group: str, like: str = "%") -> list[str]:
    """Messages stored so far in log group ``group`` (SQL ``LIKE`` filter), oldest first."""
    pattern = re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in like),
        re.IGNORECASE | re.DOTALL,
    )
    uri = f"file:{data_dir / 'logs.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
        rows = conn.execute(
            "SELECT c.id, c.stamps, c.lengths, c.messages FROM log_chunks c"
            " JOIN log_groups g ON g.id = c.group_id WHERE g.name = ?",
            (group,),
        ).fetchall()
    events = []
    for cid, stamps, lengths, text in rows:
        offs = chunks.offsets(lengths)
        for i, ts in enumerate(chunks.unpack_stamps(stamps)):
            events.append((ts, cid * chunks.CHUNK_EVENTS + i, text[offs[i] : offs[i + 1]]))
    return [m for _, _, m in sorted(events) if pattern.fullmatch(m)]


def log_event_counts(data_dir: Path) -> dict[str, int]:
    """Log events stored so far per log group."""
    uri = f"file:{data_dir / 'logs.db'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as conn:
        rows = conn.execute(
            "SELECT g.name, sum(c.count) FROM log_chunks c JOIN log_groups g ON g.id = c.group_id"
            " GROUP BY g.name ORDER BY 2 DESC"
        ).fetchall()
    return {str(g): int(n) for g, n in rows}


def cloudwatch_client(heron: Heron) -> Any:
    """A boto3 CloudWatch client for the monitor port, signed with the instance's credentials."""
    import boto3

    parser = configparser.ConfigParser()
    parser.read(heron.data_dir / "credentials")
    profile = parser["heron"]
    return boto3.client(
        "cloudwatch",
        endpoint_url=f"http://{HOST}:{heron.monitor_port}",
        region_name="us-east-1",
        aws_access_key_id=profile["aws_access_key_id"].strip(),
        aws_secret_access_key=profile["aws_secret_access_key"].strip(),
    )


def metric_values(heron: Heron, lookback_s: float = 3600.0) -> dict[str, tuple[int, int]]:
    """Per namespace: (values stored in the last ``lookback_s``, i.e. the sum of SampleCount over
    every metric, and the number of distinct metric names)."""
    client = cloudwatch_client(heron)
    metrics = [
        m for page in client.get_paginator("list_metrics").paginate() for m in page["Metrics"]
    ]
    end = time.time() + 120
    start = end - lookback_s - 120
    out: dict[str, tuple[int, int]] = {}
    names: dict[str, set[str]] = {}
    for i in range(0, len(metrics), 500):
        chunk = metrics[i : i + 500]
        queries = [
            {"Id": f"m{j}", "MetricStat": {"Metric": m, "Period": 60, "Stat": "SampleCount"}}
            for j, m in enumerate(chunk)
        ]
        pages = client.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries, StartTime=start, EndTime=end
        )
        for page in pages:
            for result in page["MetricDataResults"]:
                metric = chunk[int(result["Id"][1:])]
                ns = metric["Namespace"]
                values, _ = out.get(ns, (0, 0))
                names.setdefault(ns, set()).add(metric["MetricName"])
                out[ns] = (values + int(sum(result["Values"])), len(names[ns]))
    return out


def telemetry_counts(heron: Heron) -> tuple[int, int]:
    """(log events, metric values) the monitor has stored so far."""
    logs = sum(log_event_counts(heron.data_dir).values())
    values = sum(v for v, _ in metric_values(heron).values())
    return logs, values


def server_errors(data_dir: Path) -> dict[str, int]:
    """Why the HTTP API answered 5xx: access-log ``integrationError`` values and their counts."""
    reasons: dict[str, int] = {}
    for message in log_messages(data_dir, "/aws/apigateway/local-http/access"):
        record = json.loads(message)
        if int(record.get("status", 0)) >= 500:
            reason = str(record.get("integrationError") or record.get("status"))[:120]
            reasons[reason] = reasons.get(reason, 0) + 1
    return reasons
