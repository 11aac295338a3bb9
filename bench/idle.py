"""Figure 7: ``heron up`` at idle: the memory all its processes hold (target <= 150 MiB) and CPU
over 30 s with no traffic (target <= 1 % of one core), measured with psutil and /proc.

Two states: fresh (just started, never used: no execution environments yet) and after use (a
short burst of every kind of request, so warm environments of several functions stay alive until
``environment_idle_s``, 300 s by default). CPU is the sum of user+system time of every process
over the window, as a share of one core.

Memory is counted three ways. *Resident*, the verdict's figure, is the physical pages the
processes hold, each page once however many of them map it (``_resident``; needs root, else the
verdict falls back to summed RSS). *Summed RSS* counts a shared page once per process, so the
Python runtime and libraries the parent and each warm environment map are counted up to eight
times. *PSS* divides each shared page among every process on the machine that maps it.

    .venv/bin/python bench/idle.py [--window 30]
"""

from __future__ import annotations

import argparse
import contextlib
import time
from dataclasses import dataclass

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


@dataclass(frozen=True)
class IdleState:
    """What one idle window measured (memory in MiB)."""

    processes: int
    rss_mean: float
    rss_max: float
    resident: float | None
    pss: float
    cpu_pct: float

    @property
    def memory(self) -> float:
        """The figure the target is checked against: resident when known, else summed RSS."""
        return self.resident if self.resident is not None else self.rss_max

    def line(self, window_s: float) -> str:
        """One readable line for the state."""
        resident = f"{self.resident:.1f} MiB" if self.resident is not None else "unknown (not root)"
        return (
            f"{self.processes} processes, resident {resident} (each page once), "
            f"summed RSS mean {self.rss_mean:.1f} max {self.rss_max:.1f} MiB, "
            f"PSS {self.pss:.1f} MiB, CPU {self.cpu_pct:.2f} % over {window_s:.0f} s"
        )


def _resident_mib(heron: h.Heron) -> float | None:
    resident = heron.total_resident()
    return None if resident is None else resident / 2**20


def idle_window(heron: h.Heron, window_s: float) -> IdleState:
    """Sample the processes over ``window_s`` seconds of idle: summed RSS every second, the
    resident set at the start and end (it reads every page's entry, so not every second), PSS
    at the end, and CPU over the whole window."""
    procs = heron.processes()
    before = cpu_seconds(procs)
    rss: list[float] = []
    resident = [_resident_mib(heron)]
    start = time.monotonic()
    while time.monotonic() - start < window_s:
        rss.append(heron.total_rss() / 2**20)
        time.sleep(1.0)
    elapsed = time.monotonic() - start
    after = cpu_seconds(procs)
    resident.append(_resident_mib(heron))
    known = [r for r in resident if r is not None]
    used = sum(after[pid] - before[pid] for pid in after if pid in before)
    return IdleState(
        processes=len(procs),
        rss_mean=sum(rss) / len(rss),
        rss_max=max(rss),
        resident=max(known) if known else None,
        pss=heron.total_pss() / 2**20,
        cpu_pct=100.0 * used / elapsed,
    )


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
        print(f"  fresh: {fresh.line(args.window)}", flush=True)
        use_everything(heron)
        time.sleep(2.0)
        used = idle_window(heron, args.window)
        print(f"  after use: {used.line(args.window)}", flush=True)
    counted = "resident, each page once" if used.resident is not None else "summed RSS"
    h.figure(
        "idle_rss",
        f"{fresh.memory:.1f} MiB fresh, {used.memory:.1f} MiB after use ({counted}; summed RSS "
        f"{fresh.rss_max:.1f} / {used.rss_max:.1f}, PSS {fresh.pss:.1f} / {used.pss:.1f})",
        "<= 150 MiB",
        max(fresh.memory, used.memory) <= TARGET_MIB,
        f"all processes: {fresh.processes} fresh, {used.processes} after use (warm environments "
        "kept for environment_idle_s = 300 s)",
    )
    h.figure(
        "idle_cpu",
        f"{fresh.cpu_pct:.2f} % fresh, {used.cpu_pct:.2f} % after use",
        "<= 1 % of one core",
        max(fresh.cpu_pct, used.cpu_pct) <= TARGET_CPU_PCT,
        f"{args.window:.0f} s windows, psutil user+system time of all processes",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
