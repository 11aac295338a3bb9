"""Figure 7: ``heron up`` at idle: RSS over all its processes (target <= 150 MiB) and CPU over
30 s with no traffic (target <= 1 % of one core), measured with psutil.

Two states: fresh (just started, never used: no execution environments yet) and after use (a
short burst of every kind of request, so warm environments of several functions stay alive until
``environment_idle_s``, 300 s by default). CPU is the sum of user+system time of every process
over the window, as a share of one core.

    .venv/bin/python bench/idle.py [--window 30]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import _harness as h
import httpx
import psutil

TARGET_MIB = 150.0
TARGET_CPU_PCT = 1.0


def cpu_seconds(procs: list[psutil.Process]) -> dict[int, float]:
    """user+system CPU seconds of each process, by pid."""
    times = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            times[proc.pid] = t.user + t.system + t.children_user + t.children_system
    return times


def idle_window(heron: h.Heron, window_s: float) -> tuple[float, float, float, int, float]:
    """(mean total RSS MiB, max total RSS MiB, CPU % of one core, process count, total PSS MiB
    at the end) over the window."""
    procs = heron.processes()
    before = cpu_seconds(procs)
    rss: list[float] = []
    pss: list[float] = []
    start = time.monotonic()
    while time.monotonic() - start < window_s:
        rss.append(heron.total_rss() / 2**20)
        time.sleep(1.0)
    elapsed = time.monotonic() - start
    pss.append(heron.total_pss() / 2**20)
    after = cpu_seconds(procs)
    used = sum(after[pid] - before[pid] for pid in after if pid in before)
    return sum(rss) / len(rss), max(rss), 100.0 * used / elapsed, len(procs), pss[-1]


def use_everything(heron: h.Heron) -> None:
    """A short burst of every HTTP route, so several functions keep a warm environment."""
    with httpx.Client(base_url=heron.base_url, timeout=30) as client:
        a, b = h.sign_up(client, "idlea"), h.sign_up(client, "idleb")
        auth = {"authorization": f"Bearer {a.token}"}
        for i in range(5):
            client.get(f"/users/{b.user_id}", headers=auth)
            client.patch(f"/users/{a.user_id}", headers=auth, json={"displayName": f"A {i}"})
            client.post(
                "/messages",
                headers=auth,
                json={"to": b.user_id, "text": f"hi {i}", "clientMessageId": f"idle-{i}"},
            )
            client.get(f"/conversations/{b.user_id}/messages", headers=auth)
            client.get("/notifications", headers={"authorization": f"Bearer {b.token}"})


def main() -> int:
    """Measure both idle states and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=float, default=30.0, help="seconds of idle measured")
    args = parser.parse_args()
    h.header("heron up at idle")
    with h.heron_up() as heron:
        time.sleep(2.0)  # let start-up settle (imports, first flushes)
        fresh = idle_window(heron, args.window)
        print(
            f"  fresh: {fresh[3]} processes, RSS mean {fresh[0]:.1f} MiB max {fresh[1]:.1f} MiB, "
            f"PSS {fresh[4]:.1f} MiB, CPU {fresh[2]:.2f} % over {args.window:.0f} s",
            flush=True,
        )
        use_everything(heron)
        time.sleep(2.0)
        used = idle_window(heron, args.window)
        print(
            f"  after use: {used[3]} processes, RSS mean {used[0]:.1f} MiB max {used[1]:.1f} MiB, "
            f"PSS {used[4]:.1f} MiB, CPU {used[2]:.2f} % over {args.window:.0f} s",
            flush=True,
        )
    h.figure(
        "idle_rss",
        f"{fresh[1]:.1f} MiB fresh, {used[1]:.1f} MiB after use",
        "<= 150 MiB",
        max(fresh[1], used[1]) <= TARGET_MIB,
        f"all processes: {fresh[3]} fresh, {used[3]} after use (warm environments kept for "
        "environment_idle_s = 300 s)",
    )
    h.figure(
        "idle_cpu",
        f"{fresh[2]:.2f} % fresh, {used[2]:.2f} % after use",
        "<= 1 % of one core",
        max(fresh[2], used[2]) <= TARGET_CPU_PCT,
        f"{args.window:.0f} s windows, psutil user+system time of all processes",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
