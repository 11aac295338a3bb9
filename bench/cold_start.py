"""Figure 5: cold start to first response (target <= 300 ms).

Two kinds of sample, each the client-side time of one ``GET /users/{id}`` whose ``getUser`` has
no warm execution environment:
- fresh: a new ``heron up``; a user signs up, the authorizer is warmed (its verdict is cached) by
  ``GET /notifications``, then the first ``GET /users/{id}`` of the process is timed. Also timed:
  the first authenticated request of a fresh process (authorizer and function both cold).
- reaped: one ``heron up`` with HERON_ENVIRONMENT_IDLE_S=1, so idle environments are reaped after
  a second; each sample waits until ``getUser`` has no environment left, then times one GET.
The runtime's own ``Init Duration`` (REPORT lines in /aws/lambda/getUser) is shown beside them.

    .venv/bin/python bench/cold_start.py [--fresh 5] [--reaped 8]
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time

import _harness as h
import httpx
import psutil

TARGET_MS = 300.0


def timed_get(client: httpx.Client, path: str, token: str) -> float:
    """Milliseconds for one authenticated GET; it must answer 200."""
    start = time.perf_counter()
    response = client.get(path, headers={"authorization": f"Bearer {token}"})
    elapsed = (time.perf_counter() - start) * 1000.0
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text}")
    return elapsed


def init_durations(heron: h.Heron) -> list[float]:
    """``Init Duration`` values (ms) the runtime logged for getUser so far."""
    time.sleep(0.3)  # group commit every 50 ms
    rows = h.log_messages(heron.data_dir, "/aws/lambda/getUser", "REPORT%Init Duration%")
    found = (re.search(r"Init Duration: ([\d.]+) ms", m) for m in rows)
    return [float(m.group(1)) for m in found if m]


def worker_count(heron: h.Heron) -> int:
    """Execution environment processes alive under ``heron up``."""
    count = 0
    for proc in heron.processes()[1:]:
        with contextlib.suppress(psutil.Error):
            if "heron.runtime.worker" in " ".join(proc.cmdline()):
                count += 1
    return count


def main() -> int:
    """Take the samples and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", type=int, default=5, help="fresh heron up processes")
    parser.add_argument("--reaped", type=int, default=8, help="samples after idle reaping")
    args = parser.parse_args()
    h.header("cold start to first response")
    fresh: list[float] = []
    both_cold: list[float] = []
    inits: list[float] = []
    for i in range(args.fresh):
        with h.heron_up() as heron, httpx.Client(base_url=heron.base_url, timeout=30) as client:
            a, b = h.sign_up(client, f"cold{i}a"), h.sign_up(client, f"cold{i}b")
            both_cold.append(timed_get(client, "/notifications", b.token))
            timed_get(client, "/notifications", a.token)  # authorizer warm and a's verdict cached
            fresh.append(timed_get(client, f"/users/{a.user_id}", a.token))
            inits += init_durations(heron)
            print(
                f"  fresh {i}: first GET /users/{{id}} {fresh[-1]:.1f} ms; first authorized "
                f"request (authorizer + function cold) {both_cold[-1]:.1f} ms",
                flush=True,
            )
    reaped: list[float] = []
    env = {"HERON_ENVIRONMENT_IDLE_S": "1"}
    with h.heron_up(env) as heron, httpx.Client(base_url=heron.base_url, timeout=30) as client:
        user = h.sign_up(client, "coldreap")
        path = f"/users/{user.user_id}"
        timed_get(client, path, user.token)
        for i in range(args.reaped):
            deadline = time.monotonic() + 15
            while worker_count(heron) > 0 and time.monotonic() < deadline:
                time.sleep(0.2)
            if worker_count(heron):
                print("  reaped: environments were not reaped in 15 s; sample skipped")
                continue
            reaped.append(timed_get(client, path, user.token))
            print(f"  reaped {i}: GET /users/{{id}} {reaped[-1]:.1f} ms", flush=True)
        inits_reaped = init_durations(heron)
    samples = fresh + reaped
    print(
        f"  fresh: median {h.median(fresh):.1f} ms max {max(fresh):.1f} ms; reaped: median "
        f"{h.median(reaped):.1f} ms max {max(reaped, default=float('nan')):.1f} ms; "
        f"authorizer+function cold: median {h.median(both_cold):.1f} ms max {max(both_cold):.1f}"
        f" ms; runtime Init Duration median {h.median(inits + inits_reaped):.1f} ms"
    )
    h.figure(
        "cold_start_first_response",
        f"median {h.median(samples):.1f} ms, max {max(samples):.1f} ms",
        "<= 300 ms",
        max(samples) <= TARGET_MS,
        f"{len(samples)} samples ({len(fresh)} fresh processes, {len(reaped)} after reaping), "
        f"getUser cold with the authorizer verdict cached; both cold: median "
        f"{h.median(both_cold):.1f} ms max {max(both_cold):.1f} ms",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
