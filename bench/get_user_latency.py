"""Figure 3: p99 latency of ``GET /users/{id}`` at a fixed 1,000 requests/s (target <= 25 ms).

Open loop: a raw-socket Python client sends request *i* at ``start + i / 1000`` whatever the
service does, over a pool of keep-alive connections (a new one opens when all are busy, up to a
cap), and measures each latency from the moment the request was *due*, so queueing in the server
(or in the client) counts (no coordinated omission). The stage throttle stays at its default
1,000 req/s with burst 2,000, as deployed; any 429 is reported.

    .venv/bin/python bench/get_user_latency.py [--rate 1000] [--duration 20] [--pin]
"""

from __future__ import annotations

import argparse
import asyncio
import time

import _harness as h
import _pyload

TARGET_P99_MS = 25.0


def main() -> int:
    """Run the fixed-rate load and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0, help="requests per second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of measured load")
    parser.add_argument("--max-connections", type=int, default=256)
    parser.add_argument("--pin", action="store_true", help="server on cores 0..n-2, client last")
    args = parser.parse_args()
    h.header(f"GET /users/{{id}} latency at a fixed {args.rate:.0f} req/s (open loop)")
    server_cpus, _ = h.pinning(args.pin)
    with h.heron_up(cpus=server_cpus) as heron:
        users = h.sign_up_many(heron.base_url, 4, "getlat")
        path = f"/users/{users[0].user_id}"
        requests = [
            _pyload.request_bytes("GET", path, heron.port, {"Authorization": f"Bearer {u.token}"})
            for u in users
        ]
        for user in users:
            h.warm_up(heron.base_url, path, user.token, 5)

        def make(n: int) -> bytes:
            return requests[n % len(requests)]

        # Unmeasured warm-up at the same rate: spawns the environments this rate needs.
        asyncio.run(
            _pyload.open_loop(heron.port, make, rate=args.rate, duration_s=3.0, max_connections=64)
        )
        load = asyncio.run(
            _pyload.open_loop(
                heron.port,
                make,
                rate=args.rate,
                duration_s=args.duration,
                max_connections=args.max_connections,
            )
        )
        time.sleep(1.0)  # the sink group-commits every 50 ms; let the access log land
        reasons = h.server_errors(heron.data_dir)
    ms = [x * 1000 for x in load.latencies]
    p50, p90, p99, p999 = (h.percentile(ms, p) for p in (50, 90, 99, 99.9))
    achieved = load.completed / load.elapsed_s
    non_2xx = load.completed - load.ok
    print(
        f"  sent at {args.rate:.0f}/s for {args.duration:.0f} s: completed {load.completed} "
        f"({achieved:.0f}/s), 2xx {load.ok}, non-2xx {non_2xx} {dict(load.statuses)}, "
        f"errors {load.errors}, resent after a stale keep-alive socket {load.reconnects}, "
        f"skipped (no free connection) {load.skipped}"
    )
    print(
        f"  latency from due time: p50 {p50:.1f} ms  p90 {p90:.1f} ms  p99 {p99:.1f} ms  "
        f"p99.9 {p999:.1f} ms  max {max(ms, default=float('nan')):.1f} ms"
    )
    if reasons:
        print(f"  5xx reasons (access log integrationError): {reasons}")
    h.figure(
        f"get_user_p99_at_{args.rate:.0f}rps",
        f"{p99:.1f} ms",
        "<= 25 ms",
        p99 <= TARGET_P99_MS and not load.skipped and not load.errors and not non_2xx,
        f"open-loop python client at {args.rate:.0f}/s, achieved {achieved:.0f}/s, "
        f"p50 {p50:.1f} ms, {non_2xx} non-2xx, {load.errors} errors, {load.skipped} skipped, "
        f"{h.pin_note(server_cpus)}",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
