"""Issue 6: first load of the dashboard's overview with 24 h of demo data (target ≤ 1 s).

A discovery run of ``heron up --demo`` (``--discover-s`` seconds) fills a data directory with
what the demo writes; ``dashboard_common.backfill`` extends every one of those metrics back
24 h (one datum per minute); then ``heron up --demo`` starts again on that directory, headless
Chromium signs in, and each run opens the overview in a fresh navigation and reads
Navigation Timing and the page's own marks:

- ``charts``: ``performance.mark("heron-charts-drawn")``, set when every graph has drawn the
  range's data (the page's ``/api/layout`` and ``/api/charts`` answered);
- ``tiles``: ``performance.mark("heron-first-snapshot")``, set when the first live snapshot
  (tiles, alerts, alarms) is painted;
- first load = the later of the two, from navigation start.

The first run is the sign-in's redirect (cold asset cache); the others reload the page. Runs
use the default range (1 h) and then ``#range=24h``. The server's own time for the graph data
(``GET /dashboard/api/charts``) is measured separately with an httpx client.

    .venv/bin/python bench/dashboard_load.py [--runs 3] [--discover-s 40]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from _harness import figure, header
from dashboard_common import (
    backfill,
    browser_sign_in,
    heron_on,
    monitor_url,
    new_root,
    session_client,
    start_browser,
    wait_until,
)

CONFIG = 'table_capacity = "Messages=10/5,Users=20/10"\n'
TARGET_S = 1.0
MARKS_JS = """
const nav = performance.getEntriesByType("navigation")[0];
const mark = (n) => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
return {ttfb: nav.responseStart, dcl: nav.domContentLoadedEventEnd,
        charts: mark("heron-charts-drawn"), tiles: mark("heron-first-snapshot")};
"""


def marks(driver: Any) -> dict[str, float]:
    """Wait until the overview has drawn graphs and tiles; its timing marks (ms)."""
    return dict(
        wait_until(
            lambda: (m := driver.execute_script(MARKS_JS))["charts"] and m["tiles"] and m,
            timeout=30,
            what="the overview's marks",
        )
    )


def open_overview(driver: Any, url: str) -> dict[str, float]:
    """A fresh navigation to ``url``; its marks."""
    driver.get("about:blank")
    driver.get(url)
    return marks(driver)


def show(label: str, m: dict[str, float]) -> float:
    """Print one run; returns its first-load time in seconds."""
    first = max(m["charts"], m["tiles"]) / 1000
    print(
        f"  {label:<22} first load {first * 1000:7.1f} ms  (TTFB {m['ttfb']:.0f}, "
        f"DOMContentLoaded {m['dcl']:.0f}, graphs drawn {m['charts']:.0f}, "
        f"tiles painted {m['tiles']:.0f} ms)",
        flush=True,
    )
    return first


def prepare(root: Path, discover_s: float) -> None:
    """A data directory with what the demo writes, extended back 24 h."""
    print(f"discovery: heron up --demo for {discover_s:.0f} s", flush=True)
    with heron_on(root, config=CONFIG):
        time.sleep(discover_s)
    started = time.perf_counter()
    metrics, datums = backfill(root / "data", hours=24, now_s=time.time())
    print(
        f"backfill: {metrics} metric series x 1,440 minutes = {datums:,} datums in "
        f"{time.perf_counter() - started:.1f} s",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--discover-s", type=float, default=40.0)
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--reuse", type=Path, help="a directory kept by --keep (no backfill)")
    args = parser.parse_args()
    header("dashboard first load with 24 h of demo data")
    root = args.reuse or new_root("heron-bench-dash-")
    try:
        if args.reuse is None:
            prepare(root, args.discover_s)
        with heron_on(root, config=CONFIG) as heron:
            base = monitor_url(heron) + "/dashboard"
            server: dict[str, list[float]] = {"1h": [], "24h": []}
            client = session_client(heron)
            try:
                for _ in range(args.runs):
                    for rng in server:
                        t0 = time.perf_counter()
                        r = client.get("/dashboard/api/charts", params={"range": rng})
                        server[rng].append(time.perf_counter() - t0)
                        r.raise_for_status()
            finally:
                client.close()
            for rng, times in server.items():
                print(
                    f"server GET /dashboard/api/charts?range={rng}: "
                    + ", ".join(f"{t * 1000:.0f}" for t in times)
                    + " ms",
                    flush=True,
                )
            driver = start_browser()
            try:
                browser_sign_in(driver, heron)
                loads: dict[str, list[float]] = {"1h": [], "24h": []}
                loads["1h"].append(show("1h, after sign-in", marks(driver)))
                for i in range(1, args.runs):
                    loads["1h"].append(show(f"1h, reload {i}", open_overview(driver, base)))
                for i in range(args.runs):
                    m = open_overview(driver, base + "#range=24h")
                    loads["24h"].append(show(f"24h, reload {i + 1}", m))
            finally:
                driver.quit()
        for rng, times in loads.items():
            med = statistics.median(times)
            figure(
                f"overview first load, range {rng}, 24 h of demo data",
                f"median {med * 1000:.0f} ms of {len(times)} (max {max(times) * 1000:.0f} ms)",
                f"<= {TARGET_S * 1000:.0f} ms",
                med <= TARGET_S,
                f"server /api/charts median {statistics.median(server[rng]) * 1000:.0f} ms",
            )
    finally:
        if args.keep or args.reuse:
            print(f"data kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
