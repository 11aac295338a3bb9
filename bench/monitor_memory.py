"""Issue 3 memory figure: RSS for 1,000,000 active series (target <= 1.5 GiB), Heron vs moto.

Each PutMetricData request (1,000 datums, serialized and signed by botocore as boto3 sends it)
creates 1,000 new series ``Bench/Latency FunctionName=fn-NNNNNNN,Stage=prod`` with one value in
the current minute. Heron (``heron up``; the metric store lives in its parent process) gets up to
1,000 requests (1 M series) within ``--heron-s``; moto gets the same request bytes (Host header
rewritten: moto does not check signatures) for ``--moto-s``. The figure is the server's RSS
(Heron's with its decode workers) growth over its idle RSS, per series and extrapolated
linearly to 1 M series where the run stopped short (said so). Heron's RSS is sampled during the load (peak) and after it.

    .venv/bin/python bench/monitor_memory.py [--series 1000000] [--heron-s 120] [--moto-s 60]
"""

from __future__ import annotations

import argparse
import threading
import time

import _harness as h
import monitor_common as mc

TARGET = 1.5 * 2**30
MIB = 2**20


def requests_for(signer: mc.Signer, count: int, now: float, bound_s: float) -> list[bytes]:
    """Up to ``count`` requests of 1,000 new series each, built within ``bound_s`` seconds."""
    out: list[bytes] = []
    deadline = time.monotonic() + bound_s
    for r in range(count):
        data = [
            {
                "MetricName": "Latency",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": f"fn-{r * 1000 + i:07d}"},
                    {"Name": "Stage", "Value": "prod"},
                ],
                "Value": float(i % 977),
                "Unit": "Milliseconds",
                "Timestamp": now - 30,
            }
            for i in range(1000)
        ]
        out.append(signer.request("PutMetricData", {"Namespace": "Bench", "MetricData": data}))
        if time.monotonic() > deadline:
            break
    return out


class PeakRss:
    """Samples a server's RSS every 0.2 s in a thread and keeps the maximum."""

    def __init__(self, server: mc.Server) -> None:
        self.server = server
        self.peak = server.rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self.server.rss())

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._stop.set()
        self._thread.join()
        return self.peak


def load(server: mc.Server, requests: list[bytes], bound_s: float) -> tuple[int, int, int, float]:
    """(series stored, RSS growth after, peak RSS growth, seconds) for one server."""
    base = server.rss()
    peak = PeakRss(server)
    run = mc.post_many(server, requests, count=len(requests), connections=2, duration_s=bound_s)
    top = peak.stop()
    after = server.rss()
    print(
        f"  {server.name}: {run.ok * 1000:,} series in {run.elapsed_s:.1f} s; RSS "
        f"{base / MIB:.0f} -> {after / MIB:.0f} MiB (peak {top / MIB:.0f} MiB); statuses "
        f"{run.statuses} {run.errors[:2]}",
        flush=True,
    )
    return run.ok * 1000, after - base, top - base, run.elapsed_s


def main() -> int:
    """Load both servers with new series and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=1_000_000)
    parser.add_argument("--heron-s", type=float, default=120.0)
    parser.add_argument("--moto-s", type=float, default=60.0)
    args = parser.parse_args()
    h.header("monitor memory: active series held, Heron vs moto server")
    with mc.heron_monitor() as heron, mc.moto_server() as moto:
        now = time.time()
        requests = requests_for(mc.Signer(heron, "cloudwatch"), args.series // 1000, now, 120.0)
        print(f"  built {len(requests)} requests of 1,000 new series", flush=True)
        series, grown, peak, _ = load(heron, requests, args.heron_s)
        time.sleep(2.0)
        heron_total = heron.rss()
        old, new = f"Host: {mc.HOST}:{heron.port}".encode(), f"Host: {mc.HOST}:{moto.port}".encode()
        moto_requests = [r.replace(old, new, 1) for r in requests]
        moto_series, moto_grown, _, _ = load(moto, moto_requests, args.moto_s)
        moto_total = moto.rss()
    per = grown / max(series, 1)
    per_peak = peak / max(series, 1)
    moto_per = moto_grown / max(moto_series, 1)
    at_million = per_peak * 1_000_000
    extrapolated = series < 1_000_000
    print(
        f"  heron: {per:,.0f} B/series after load, {per_peak:,.0f} B/series at peak, process "
        f"RSS {heron_total / MIB:.0f} MiB; moto: {moto_per:,.0f} B/series, process RSS "
        f"{moto_total / MIB:.0f} MiB"
    )
    note = (
        f"extrapolated from {series:,} series"
        if extrapolated
        else f"measured with {series:,} series (peak growth)"
    )
    h.figure(
        "active_series_memory",
        f"heron {at_million / 2**30:.2f} GiB per 1 M series ({per_peak:,.0f} B/series) vs moto "
        f"{moto_per * 1e6 / 2**30:.2f} GiB ({mc.ratio(moto_per, per_peak)} less for heron)",
        "<= 1.5 GiB",
        at_million <= TARGET,
        f"heron {note}; moto "
        + (
            f"extrapolated from {moto_series:,} series (load bounded to {args.moto_s:.0f} s)"
            if moto_series < 1_000_000
            else f"measured with {moto_series:,} series (growth after load)"
        )
        + "; RSS growth of the server process (and Heron's decode workers) over its idle RSS",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
