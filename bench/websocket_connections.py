"""Figure 4: 10,000 open WebSockets on one ``heron up``: gateway memory per connection (target
<= 16 KiB) and message latency p99 at 500 messages/s with those sockets open (target <= 50 ms).

Setup: a few hundred users sign up; two holder processes (this script with ``--hold``; the fd
limit is 20,000 per process, and the server holds the other end of each socket) open the idle
sockets, many per user. The gateway accepts 500 new connections/s by default
(``ws_new_connections_per_s``); this benchmark raises it with HERON_WS_NEW_CONNECTIONS_PER_S for
the setup phase only so that setup takes seconds, and says so. Memory per connection is the
``heron up`` parent's RSS after minus before, divided by the number opened.

Latency: a dedicated sender and recipient, one socket each, in this process; the sender sends
``sendMessage`` frames open-loop at 500/s; latency is from the moment a message was due to the
moment the recipient's frame carrying its ``clientMessageId`` arrives (client-side send to
receive, so it includes the sender's frame, the sendMessage invocation, @connections and the push).

It also prints the CPU seconds the parent and the environments spent during the message run
and the machine's load average around it (the 2 cores are shared). ``--profile FILE`` records
py-spy (raw collapsed stacks, parent and environments) during the message run; ``--dump FILE``
writes each delivered message's due time (epoch s) and latency (ms).

    .venv/bin/python bench/websocket_connections.py [--connections 10000] [--rate 500]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h
import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

TARGET_KIB = 16.0
TARGET_P99_MS = 50.0
HOLDERS = 2
SETUP_CONNECT_RATE = "5000"
#: (wall-clock due time, latency ms) of every delivered message, when ``--dump`` asks for them.
DUMP: list[tuple[float, float]] | None = None


# -- holder process -----------------------------------------------------------------------------


async def hold(url: str, tokens: list[str], count: int, concurrency: int, max_s: float) -> None:
    """Open ``count`` sockets (tokens round-robin), report, then hold them until stdin closes."""
    sockets: list[ClientConnection] = []
    failures: dict[str, int] = {}
    queue = iter(range(count))
    deadline = time.monotonic() + max_s

    async def opener() -> None:
        for n in queue:
            for _attempt in range(20):
                if time.monotonic() > deadline:
                    return
                try:
                    ws = await connect(
                        f"{url}?token={tokens[n % len(tokens)]}",
                        open_timeout=30,
                        ping_interval=None,
                        close_timeout=1,
                        compression=None,
                        max_queue=4,
                    )
                except InvalidStatus as exc:
                    key = f"http_{exc.response.status_code}"
                    failures[key] = failures.get(key, 0) + 1
                    await asyncio.sleep(0.2)  # 429 from the new-connection limit: back off
                    continue
                except (OSError, TimeoutError) as exc:
                    key = type(exc).__name__
                    failures[key] = failures.get(key, 0) + 1
                    await asyncio.sleep(0.2)
                    continue
                sockets.append(ws)
                break

    started = time.monotonic()
    await asyncio.gather(*(opener() for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    print(
        orjson.dumps({"opened": len(sockets), "seconds": elapsed, "failures": failures}).decode(),
        flush=True,
    )
    # Hold until the parent closes our stdin (or the time bound passes).
    loop = asyncio.get_running_loop()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(loop.run_in_executor(None, sys.stdin.read), max_s)
    alive = sum(1 for ws in sockets if ws.close_code is None)
    print(orjson.dumps({"alive_at_end": alive}).decode(), flush=True)
    os._exit(0)  # drop every socket at once; the server sees them all disconnect


# -- driver -------------------------------------------------------------------------------------


async def latency_run(
    url: str, sender: h.User, recipient: h.User, rate: float, duration_s: float
) -> tuple[list[float], int, int]:
    """Send ``rate`` messages/s for ``duration_s``; (latencies in ms, sent, lost)."""
    sent_at: dict[str, float] = {}
    latencies: list[float] = []
    options = {"ping_interval": None, "compression": None, "open_timeout": 30}
    tx = await connect(f"{url}?token={sender.token}", **options)
    rx = await connect(f"{url}?token={recipient.token}", **options)

    async def read_rx() -> None:
        async for raw in rx:
            now = time.perf_counter()
            frame = orjson.loads(raw)
            message = frame.get("message") if isinstance(frame, dict) else None
            ident = message.get("clientMessageId") if isinstance(message, dict) else None
            due = sent_at.pop(ident, None) if isinstance(ident, str) else None
            if due is not None:
                latencies.append((now - due) * 1000.0)
                if DUMP is not None:
                    DUMP.append((time.time() - (now - due), (now - due) * 1000.0))

    async def drain_tx() -> None:  # the sender's acks (route responses) must be read too
        async for _ in tx:
            pass

    readers = [asyncio.create_task(read_rx()), asyncio.create_task(drain_tx())]
    run = os.urandom(4).hex()
    total = int(rate * duration_s)
    start = time.perf_counter()
    for n in range(total):
        due = start + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        ident = f"{run}-{n}"
        sent_at[ident] = due
        frame = {"action": "sendMessage", "to": recipient.user_id, "text": f"m{n}"}
        await tx.send(orjson.dumps({**frame, "clientMessageId": ident}).decode())
    wait_until = time.perf_counter() + 10.0
    while sent_at and time.perf_counter() < wait_until:
        await asyncio.sleep(0.05)
    lost = len(sent_at)
    for task in readers:
        task.cancel()
    for ws in (tx, rx):
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(), 2)
    return latencies, total, lost


def settle_rss(heron: h.Heron, seconds: float = 3.0) -> int:
    """The parent's RSS after ``seconds`` of quiet (the median of a few samples)."""
    samples = []
    for _ in range(int(seconds / 0.5)):
        time.sleep(0.5)
        samples.append(heron.parent_rss())
    return int(h.median(samples))


def main() -> int:
    """Open the idle sockets, measure memory, run the latency test, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=200, help="users owning the idle sockets")
    parser.add_argument("--rate", type=float, default=500.0, help="messages per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of messages")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the heron up parent with py-spy (collapsed stacks) during the latency run",
    )
    parser.add_argument("--dump", metavar="FILE", help="write 'due-epoch latency-ms' lines")
    parser.add_argument("--hold", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold:
        tokens = Path(args.tokens).read_text().split()
        asyncio.run(hold(args.url, tokens, args.count, concurrency=64, max_s=600))
        return 0

    h.header(f"{args.connections} WebSocket connections + messages at {args.rate:.0f}/s")
    print(
        f"setup: HERON_WS_NEW_CONNECTIONS_PER_S={SETUP_CONNECT_RATE} (default 500/s) so the "
        f"idle sockets open quickly; {HOLDERS} holder processes"
    )
    env = {**h.NO_THROTTLE, "HERON_WS_NEW_CONNECTIONS_PER_S": SETUP_CONNECT_RATE}
    with h.heron_up(env) as heron, tempfile.TemporaryDirectory() as scratch:
        users = h.sign_up_many(heron.base_url, args.users + 2, "wsbench")
        sender, recipient, idle_users = users[0], users[1], users[2:]
        # Warm: the $connect, sendMessage and @connections paths, a few sockets in the registry.
        asyncio.run(latency_run(heron.ws_url, sender, recipient, 50.0, 2.0))
        gc.collect()
        before = settle_rss(heron)
        token_file = Path(scratch) / "tokens.txt"
        token_file.write_text("\n".join(u.token for u in idle_users))
        per_holder = [args.connections // HOLDERS] * HOLDERS
        per_holder[0] += args.connections - sum(per_holder)
        holders = [
            subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--hold",
                    "--url",
                    heron.ws_url,
                    "--tokens",
                    str(token_file),
                    "--count",
                    str(count),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for count in per_holder
        ]
        opened = 0
        try:
            for holder in holders:
                assert holder.stdout is not None
                report = orjson.loads(holder.stdout.readline() or "{}")
                print(f"  holder: {report}", flush=True)
                opened += int(report.get("opened", 0))
            server_sockets = count_established(heron)
            after = settle_rss(heron)
            per_conn_kib = (after - before) / max(opened, 1) / 1024
            print(
                f"  parent RSS before {before / 2**20:.1f} MiB, after {after / 2**20:.1f} MiB, "
                f"{opened} opened, {server_sockets} established on the server's port",
                flush=True,
            )
            spy = start_profile(heron, args.profile, args.duration)
            cpu_before = cpu_seconds(heron)
            load_before = os.getloadavg()[0]
            global DUMP
            DUMP = [] if args.dump else None
            latencies, sent, lost = asyncio.run(
                latency_run(heron.ws_url, sender, recipient, args.rate, args.duration)
            )
            cpu_after = cpu_seconds(heron)
            load = (load_before, os.getloadavg()[0])
            if spy is not None:
                spy.wait(timeout=60)
            server_sockets_after = count_established(heron)
        finally:
            for holder in holders:
                with contextlib.suppress(Exception):
                    assert holder.stdin is not None
                    holder.stdin.close()
            for holder in holders:
                try:
                    holder.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    holder.kill()
        # Let the server run its $disconnects before it is stopped (bounded).
        wait_until = time.monotonic() + 90
        while count_established(heron) > 10 and time.monotonic() < wait_until:
            time.sleep(1.0)
    p50, p99 = h.percentile(latencies, 50), h.percentile(latencies, 99)
    if args.dump and DUMP is not None:
        Path(args.dump).write_text("".join(f"{due:.3f} {ms:.1f}\n" for due, ms in DUMP))
    spent = {k: v - cpu_before.get(k, 0.0) for k, v in cpu_after.items()}
    print(
        f"  machine load average (1 min) before/after the message run: {load[0]:.2f} / "
        f"{load[1]:.2f} (2 cores; other work on the machine counts)"
    )
    print(
        "  CPU seconds during the message run (incl. the 10 s drain): parent "
        f"{spent.get('parent', 0.0):.1f}, execution environments "
        f"{spent.get('environments', 0.0):.1f}"
    )
    print(
        f"  messages: sent {sent}, delivered {len(latencies)}, lost {lost}; "
        f"p50 {p50:.1f} ms p90 {h.percentile(latencies, 90):.1f} ms p99 {p99:.1f} ms "
        f"max {max(latencies, default=float('nan')):.1f} ms; "
        f"{server_sockets_after} sockets still established during the run"
    )
    h.figure(
        "ws_memory_per_connection",
        f"{per_conn_kib:.1f} KiB",
        "<= 16 KiB",
        per_conn_kib <= TARGET_KIB and opened >= args.connections,
        f"heron up parent RSS delta {(after - before) / 2**20:.1f} MiB / {opened} sockets",
    )
    h.figure(
        "ws_message_p99_at_500_per_s",
        f"{p99:.1f} ms",
        "<= 50 ms",
        p99 <= TARGET_P99_MS and lost == 0,
        f"{opened} idle sockets open, open-loop {args.rate:.0f}/s for {args.duration:.0f} s, "
        f"p50 {p50:.1f} ms, {lost} of {sent} lost, client-side due-time to frame arrival",
    )
    return 0


def start_profile(
    heron: h.Heron, path: str | None, duration_s: float
) -> subprocess.Popen[bytes] | None:
    """Start py-spy on the parent for the latency run (collapsed stacks into ``path``), or None."""
    if not path:
        return None
    spy = h.REPO / ".venv" / "bin" / "py-spy"
    command = [str(spy), "record", "--pid", str(heron.process.pid), "--format", "raw"]
    command += ["--duration", str(int(duration_s)), "--rate", "200", "--output", path]
    command += ["--subprocesses"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def cpu_seconds(heron: h.Heron) -> dict[str, float]:
    """User+system CPU seconds so far of the ``heron up`` parent and of its environments."""
    out = {"parent": 0.0, "environments": 0.0}
    for n, proc in enumerate(heron.processes()):
        try:
            times = proc.cpu_times()
        except Exception:
            continue
        out["parent" if n == 0 else "environments"] += times.user + times.system
    return out


def count_established(heron: h.Heron) -> int:
    """Established TCP connections on the application port, counted on the server's side."""
    import psutil

    try:
        conns = psutil.Process(heron.process.pid).net_connections(kind="tcp")
    except psutil.Error:
        return 0
    return sum(1 for c in conns if c.status == "ESTABLISHED" and c.laddr.port == heron.port)


if __name__ == "__main__":
    raise SystemExit(main())
