"""Figure 1: maximum requests/s of ``GET /users/{id}`` end to end (target >= 3,000 req/s).

Path measured: gateway (route, throttle, cached Lambda authorizer), a warm ``getUser`` execution
environment, a SQLite read, and all telemetry (access log, API metrics, platform logs, EMF). The
stage throttle is raised (HERON_THROTTLE_RATE/BURST) so it is not what gets measured. Load comes
from wrk (installed with apt-get if missing) or, failing that, a raw-socket Python client; a
sweep over connection counts reports the best 2xx rate.

    .venv/bin/python bench/get_user_throughput.py [--duration 10] [--pin] [--python-client]
        [--profile FILE]   # py-spy of the heron up parent during the c=32 step
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess

import _harness as h
import _pyload

TARGET_RPS = 3000.0


def main() -> int:
    """Run the sweep and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per sweep step")
    parser.add_argument("--connections", default="8,32,128", help="comma-separated sweep")
    parser.add_argument("--pin", action="store_true", help="server on cores 0..n-2, client last")
    parser.add_argument("--python-client", action="store_true", help="skip wrk")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="py-spy the heron up parent (raw collapsed stacks) during the c=32 step",
    )
    args = parser.parse_args()
    h.header("GET /users/{id} max throughput")
    server_cpus, client_cpus = h.pinning(args.pin)
    wrk = None if args.python_client else h.ensure_wrk()
    print(f"client: {'wrk ' + wrk if wrk else 'python raw-socket closed loop'}")
    with h.heron_up(h.NO_THROTTLE, cpus=server_cpus) as heron:
        users = h.sign_up_many(heron.base_url, 4, "getrps")
        path = f"/users/{users[0].user_id}"
        tokens = [u.token for u in users]
        for user in users:  # every token gets a cached authorizer verdict before load starts
            h.warm_up(heron.base_url, path, user.token, 5)
        best: tuple[float, int, dict[str, float], int] | None = None
        for connections in (int(c) for c in args.connections.split(",")):
            # A short unmeasured run first: spawns every environment this concurrency needs.
            measure(wrk, heron, tokens, path, connections, 3, client_cpus)
            spy = None
            if args.profile and connections == 32:
                spy = profile(heron, args.profile, args.duration)
            rps, latency, bad = measure(
                wrk, heron, tokens, path, connections, args.duration, client_cpus
            )
            if spy is not None:
                spy.wait(timeout=60)
            print(
                f"  c={connections:<4} {rps:8.0f} 2xx req/s  non-2xx/errors={bad}  "
                f"p50={latency.get('p50', float('nan')):.1f} ms "
                f"p99={latency.get('p99', float('nan')):.1f} ms",
                flush=True,
            )
            if best is None or rps > best[0]:
                best = (rps, connections, latency, bad)
        environments = len(heron.processes()) - 1
    assert best is not None
    rps, connections, latency, bad = best
    h.figure(
        "get_user_max_rps",
        f"{rps:.0f} req/s",
        ">= 3000 req/s",
        rps >= TARGET_RPS,
        f"best at {connections} connections, p99 {latency.get('p99', float('nan')):.1f} ms, "
        f"{bad} non-2xx/errors, {environments} environments, {h.pin_note(server_cpus)}, "
        f"client {'wrk' if wrk else 'python'}",
    )
    return 0


def profile(heron: h.Heron, path: str, duration_s: int) -> subprocess.Popen[bytes]:
    """Start py-spy on the ``heron up`` parent for ``duration_s`` seconds."""
    spy = h.REPO / ".venv" / "bin" / "py-spy"
    command = [str(spy), "record", "--pid", str(heron.process.pid), "--format", "raw"]
    command += ["--duration", str(duration_s), "--rate", "200", "--output", path]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def measure(
    wrk: str | None,
    heron: h.Heron,
    tokens: list[str],
    path: str,
    connections: int,
    duration_s: int,
    client_cpus: list[int] | None,
) -> tuple[float, dict[str, float], int]:
    """One load run: (2xx req/s, latency percentiles in ms, non-2xx plus socket errors)."""
    if wrk is not None:
        result = h.run_wrk(
            wrk,
            heron.base_url,
            h.auth_lua(tokens, path),
            connections=connections,
            threads=1 if connections < 64 else 2,
            duration_s=duration_s,
            cpus=client_cpus,
        )
        good = result.requests - result.non_2xx
        return good / result.duration_s, result.latency_ms, result.non_2xx + result.socket_errors
    requests = [
        _pyload.request_bytes("GET", path, heron.port, {"Authorization": f"Bearer {t}"})
        for t in tokens
    ]
    load = asyncio.run(
        _pyload.closed_loop(
            heron.port,
            lambda n: requests[n % len(requests)],
            connections=connections,
            duration_s=duration_s,
            max_requests=200_000,
        )
    )
    latency = {f"p{p}": h.percentile(load.latencies, p) * 1000 for p in (50, 90, 99)}
    return load.ok / load.elapsed_s, latency, load.completed - load.ok + load.errors


if __name__ == "__main__":
    raise SystemExit(main())
