"""Figure 2: maximum requests/s of ``POST /messages`` (target >= 1,000 req/s).

Each request carries a unique ``clientMessageId`` (wrk's Lua makes one per request from a run
prefix, the thread number and a counter), so every request is a first send: one idempotency
guard + message + notification transaction, answered 201. The recipient has no open socket, so
delivery is the Connections GSI query only. Stage throttle raised as in figure 1.

    .venv/bin/python bench/post_messages_throughput.py [--duration 10] [--pin] [--python-client]
"""

from __future__ import annotations

import argparse
import asyncio
import secrets

import _harness as h
import _pyload
import orjson

TARGET_RPS = 1000.0


def post_lua(tokens: list[str], recipient: str, run: str) -> str:
    """A wrk script posting messages with unique clientMessageIds, tokens round-robin."""
    token_list = ", ".join(f'"{t}"' for t in tokens)
    return f"""
local tokens = {{{token_list}}}
local counter = 1
setup = function(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
local n = 0
request = function()
  n = n + 1
  local t = tokens[(n % #tokens) + 1]
  local body = '{{"to":"{recipient}","text":"bench message","clientMessageId":"{run}-'
    .. tostring(tid) .. '-' .. n .. '"}}'
  return wrk.format("POST", "/messages",
    {{["Authorization"] = "Bearer " .. t, ["Content-Type"] = "application/json"}}, body)
end
"""


def main() -> int:
    """Run the sweep and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per sweep step")
    parser.add_argument("--connections", default="8,32,128", help="comma-separated sweep")
    parser.add_argument("--pin", action="store_true", help="server on cores 0..n-2, client last")
    parser.add_argument("--python-client", action="store_true", help="skip wrk")
    args = parser.parse_args()
    h.header("POST /messages max throughput")
    server_cpus, client_cpus = h.pinning(args.pin)
    wrk = None if args.python_client else h.ensure_wrk()
    print(f"client: {'wrk ' + wrk if wrk else 'python raw-socket closed loop'}")
    with h.heron_up(h.NO_THROTTLE, cpus=server_cpus) as heron:
        users = h.sign_up_many(heron.base_url, 5, "postrps")
        senders, recipient = users[:4], users[4]
        tokens = [u.token for u in senders]
        for user in senders:  # cached authorizer verdicts before the load starts
            h.warm_up(heron.base_url, f"/users/{user.user_id}", user.token, 3)
        best: tuple[float, int, dict[str, float], int] | None = None
        for i, connections in enumerate(int(c) for c in args.connections.split(",")):
            run = f"r{secrets.token_hex(4)}{i}"
            measure(wrk, heron, tokens, recipient.user_id, run + "w", connections, 3, client_cpus)
            rps, latency, bad = measure(
                wrk, heron, tokens, recipient.user_id, run, connections, args.duration, client_cpus
            )
            print(
                f"  c={connections:<4} {rps:8.0f} 2xx req/s  non-2xx/errors={bad}  "
                f"p50={latency.get('p50', float('nan')):.1f} ms "
                f"p99={latency.get('p99', float('nan')):.1f} ms",
                flush=True,
            )
            if best is None or rps > best[0]:
                best = (rps, connections, latency, bad)
    assert best is not None
    rps, connections, latency, bad = best
    h.figure(
        "post_messages_max_rps",
        f"{rps:.0f} req/s",
        ">= 1000 req/s",
        rps >= TARGET_RPS,
        f"best at {connections} connections, p99 {latency.get('p99', float('nan')):.1f} ms, "
        f"{bad} non-2xx/errors, {h.pin_note(server_cpus)}, client {'wrk' if wrk else 'python'}",
    )
    return 0


def measure(
    wrk: str | None,
    heron: h.Heron,
    tokens: list[str],
    recipient: str,
    run: str,
    connections: int,
    duration_s: int,
    client_cpus: list[int] | None,
) -> tuple[float, dict[str, float], int]:
    """One load run: (2xx req/s, latency percentiles in ms, non-2xx plus socket errors)."""
    if wrk is not None:
        result = h.run_wrk(
            wrk,
            heron.base_url,
            post_lua(tokens, recipient, run),
            connections=connections,
            threads=1 if connections < 64 else 2,
            duration_s=duration_s,
            cpus=client_cpus,
        )
        good = result.requests - result.non_2xx
        return good / result.duration_s, result.latency_ms, result.non_2xx + result.socket_errors

    def make(n: int) -> bytes:
        body = orjson.dumps(
            {"to": recipient, "text": "bench message", "clientMessageId": f"{run}-{n}"}
        )
        headers = {
            "Authorization": f"Bearer {tokens[n % len(tokens)]}",
            "Content-Type": "application/json",
        }
        return _pyload.request_bytes("POST", "/messages", heron.port, headers, body)

    load = asyncio.run(
        _pyload.closed_loop(
            heron.port, make, connections=connections, duration_s=duration_s, max_requests=200_000
        )
    )
    latency = {f"p{p}": h.percentile(load.latencies, p) * 1000 for p in (50, 90, 99)}
    return load.ok / load.elapsed_s, latency, load.completed - load.ok + load.errors


if __name__ == "__main__":
    raise SystemExit(main())
