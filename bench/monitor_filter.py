"""Issue 3 filter figures: FilterLogEvents scan rate over ~1 M lines, Heron vs moto server.

Target: term filters >= 1,000,000 lines/s, JSON-field filters >= 500,000 lines/s. One log group
gets ``--lines`` JSON log lines (about 250 bytes, shaped like the service's records: level,
requestId, route, latency, message) through PutLogEvents (the same pre-serialized requests to
both servers; each server's load is bounded in time). Then each filter pattern is run as
FilterLogEvents over the whole group, following ``nextToken`` to the end; the rate is lines in
the group / total time of all pages. Matches are rare (ERROR is 0.2 % of lines), so the scan,
not the response size, is measured. The in-process matcher alone
(``compile_pattern(p).select(messages)``) is printed beside it to split matching from reading.
moto applies term patterns but ignores JSON patterns (it returns every event), so its JSON rate
is not a like-for-like figure (printed with its match count).

    .venv/bin/python bench/monitor_filter.py [--lines 1000000] [--moto-load-s 120]
"""

from __future__ import annotations

import argparse
import random
import time
from typing import Any

import _harness as h
import monitor_common as mc
import orjson

from heron.monitor.logs.patterns import compile_pattern

TERM_TARGET = 1_000_000
JSON_TARGET = 500_000
GROUP = "/bench/filter"
PATTERNS = (
    ("term", "ERROR"),
    ("term", '"payment declined"'),
    ("json", '{ $.level = "ERROR" }'),
    ("json", '{ $.latency > 990 && $.level = "WARN" }'),
)


def log_lines(count: int) -> list[str]:
    """``count`` JSON log lines; 0.2 % ERROR, 5 % WARN, latency uniform in 1..1000."""
    rng = random.Random(5)
    out = []
    for i in range(count):
        roll = rng.random()
        level = "ERROR" if roll < 0.002 else ("WARN" if roll < 0.052 else "INFO")
        message = "payment declined" if level == "ERROR" else "handled request for user"
        out.append(
            orjson.dumps(
                {
                    "timestamp": "2026-11-28T00:00:00.000Z",
                    "level": level,
                    "requestId": f"989ffbf8-9ace-4817-a57c-{i:012d}",
                    "route": f"GET /users/{i % 1000}",
                    "latency": rng.randint(1, 1000),
                    "message": f"{message} u{i % 5000} " + "x" * 80,
                }
            ).decode()
        )
    return out


def put_requests(signer: mc.Signer, lines: list[str], now_ms: int) -> list[bytes]:
    """PutLogEvents requests of about 900 KB each, timestamps ascending in the last hour."""
    per = max(1, 900_000 // (max(len(s) for s in lines[:1000]) + 26))
    step = 3_000_000 / max(len(lines), 1)  # spread over the 50 minutes before now - 5 min
    out = []
    for start in range(0, len(lines), per):
        events = [
            {"timestamp": now_ms - 3_300_000 + int((start + i) * step), "message": line}
            for i, line in enumerate(lines[start : start + per])
        ]
        out.append(
            signer.request(
                "PutLogEvents", {"logGroupName": GROUP, "logStreamName": "s", "logEvents": events}
            )
        )
    return out


def scan(
    server: mc.Server, signer: mc.Signer, pattern: str, bound_s: float
) -> tuple[float, int, int, bool]:
    """(seconds over all pages, matches, pages, finished) for one FilterLogEvents scan."""
    total, matches, pages = 0.0, 0, 0
    token: str | None = None
    deadline = time.monotonic() + bound_s
    while True:
        params: dict[str, Any] = {"logGroupName": GROUP, "filterPattern": pattern}
        if token:
            params["nextToken"] = token
        left = deadline - time.monotonic()
        if left <= 0:
            return total, matches, pages, False
        try:
            done = mc.exchange(server, signer.request("FilterLogEvents", params), left)
        except TimeoutError:
            return total + left, matches, pages, False
        if done.status != 200:
            raise RuntimeError(f"{server.name} FilterLogEvents {done.status}: {done.body[:300]!r}")
        total += done.seconds
        pages += 1
        body = orjson.loads(done.body)
        matches += len(body.get("events", []))
        token = body.get("nextToken")
        if not token:
            return total, matches, pages, True


def main() -> int:
    """Load both servers, scan, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--heron-load-s", type=float, default=120.0)
    parser.add_argument("--moto-load-s", type=float, default=120.0)
    parser.add_argument("--scan-s", type=float, default=60.0, help="bound per scan")
    args = parser.parse_args()
    h.header("monitor filter: FilterLogEvents scan rate, Heron vs moto server")
    lines = log_lines(args.lines)
    print(f"  {len(lines):,} lines, {sum(map(len, lines)) / len(lines):.0f} B average", flush=True)
    matcher: dict[str, float] = {}
    for _, pattern in PATTERNS:
        compiled = compile_pattern(pattern)
        sample = lines[:200_000]
        start = time.perf_counter()
        found = len(compiled.select(sample))
        matcher[pattern] = len(sample) / (time.perf_counter() - start)
        print(
            f"  matcher alone {pattern!r}: {matcher[pattern]:,.0f} lines/s ({found} matches in "
            f"{len(sample):,})",
            flush=True,
        )
    rates: dict[str, dict[str, tuple[float, int, bool]]] = {}
    stored: dict[str, int] = {}
    with mc.heron_monitor() as heron, mc.moto_server() as moto:
        now_ms = int(time.time() * 1000)
        for server in (heron, moto):
            logs = server.client("logs")
            logs.create_log_group(logGroupName=GROUP)
            logs.create_log_stream(logGroupName=GROUP, logStreamName="s")
            signer = mc.Signer(server, "logs")
            requests = put_requests(signer, lines, now_ms)
            per = len(lines) / len(requests)
            bound = args.heron_load_s if server is heron else args.moto_load_s
            run = mc.post_many(
                server, requests, count=len(requests), connections=2, duration_s=bound
            )
            stored[server.name] = min(len(lines), round(run.ok * per))
            print(
                f"  {server.name}: loaded {stored[server.name]:,} lines in {run.elapsed_s:.1f} s "
                f"({stored[server.name] / run.elapsed_s:,.0f} lines/s); statuses {run.statuses} "
                f"{run.errors[:2]}",
                flush=True,
            )
            rates[server.name] = {}
            for _, pattern in PATTERNS:
                if server is moto and pattern == PATTERNS[-1][1]:
                    continue  # moto ignores JSON patterns; one such scan is enough to show it
                seconds, matches, pages, finished = scan(server, signer, pattern, args.scan_s)
                rate = stored[server.name] / seconds if finished else 0.0
                rates[server.name][pattern] = (rate, matches, finished)
                print(
                    f"  {server.name}: {pattern!r}: {seconds:.2f} s over {pages} pages, "
                    f"{matches:,} matches -> "
                    + (f"{rate:,.0f} lines/s" if finished else f"not finished in {args.scan_s} s"),
                    flush=True,
                )
    for kind, pattern in PATTERNS:
        hr = rates["heron"][pattern]
        mr = rates["moto"].get(pattern)
        moto_text = (
            "moto not run"
            if mr is None
            else (f"moto {mr[0]:,.0f} lines/s" if mr[2] else f"moto > {args.scan_s:.0f} s")
        )
        note = f"{hr[1]:,} matches in {stored['heron']:,} lines; matcher alone "
        note += f"{matcher[pattern]:,.0f} lines/s"
        if mr is not None and kind == "json":
            note += f"; moto ignores JSON patterns ({mr[1]:,} events returned), not like-for-like"
        elif mr is not None:
            note += f"; moto {mr[1]:,} matches in {stored['moto']:,} lines"
        target = TERM_TARGET if kind == "term" else JSON_TARGET
        ratio = mc.ratio(hr[0], mr[0]) if mr is not None and mr[2] else "n/a"
        h.figure(
            f"filter_{kind}_{''.join(c for c in pattern if c.isalnum())[:24]}",
            f"heron {hr[0]:,.0f} lines/s vs {moto_text} ({ratio})",
            f">= {target:,} lines/s",
            hr[0] >= target,
            note,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
