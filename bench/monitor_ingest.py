"""Issue 3 ingest figures, Heron vs moto server in one run, on the same pre-serialized requests.

1. ``PutMetricData`` with 1,000 datums per request (target >= 400,000 datapoints/s and >= 3x
   moto): 1,000 series (10 metric names x 100 functions, 2 dimensions each), one value per
   datum, timestamps in the last 10 minutes. Requests are serialized by botocore (AWS JSON 1.0,
   gzip as boto3 sends it) and signed; the same bytes go to both servers on several keep-alive
   connections.
2. EMF log lines -> metrics (target >= 200,000 lines/s, ~400,000 datapoints/s): each line is an
   EMF document with 2 metrics and 2 dimensions. Measured (a) in process through the path the
   telemetry sink uses (``LogStore.ingest`` with the metric store as its sink: SQLite commit, EMF
   extraction, metric store commit), and (b) over HTTP as ``PutLogEvents`` of 2,000 lines to Heron
   and moto. moto stores the lines but does not extract EMF, so its figure is log ingestion only.

    .venv/bin/python bench/monitor_ingest.py [--duration 20] [--connections 4]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import _harness as h
import monitor_common as mc
import orjson

PMD_TARGET = 400_000
EMF_TARGET = 200_000
DISTINCT = 40  # distinct pre-serialized requests per kind (cycled)


def metric_requests(signer: mc.Signer, now: float) -> list[bytes]:
    """PutMetricData requests of 1,000 datums over 1,000 series."""
    rng = random.Random(7)
    out = []
    for r in range(DISTINCT):
        data = [
            {
                "MetricName": f"Metric{i % 10}",
                "Dimensions": [
                    {"Name": "FunctionName", "Value": f"function-{i // 10:03d}"},
                    {"Name": "Stage", "Value": "prod"},
                ],
                "Value": round(rng.lognormvariate(3, 1), 3),
                "Unit": "Milliseconds",
                "Timestamp": now - 600 + (r * 13 % 590),
            }
            for i in range(1000)
        ]
        out.append(signer.request("PutMetricData", {"Namespace": "Bench", "MetricData": data}))
    return out


def emf_line(i: int, ts_ms: int, rng: random.Random) -> str:
    """One EMF document with 2 metrics (Latency, MessagesSent) and 2 dimensions."""
    return orjson.dumps(
        {
            "_aws": {
                "Timestamp": ts_ms,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Heron/Bench",
                        "Dimensions": [["FunctionName", "Route"]],
                        "Metrics": [
                            {"Name": "Latency", "Unit": "Milliseconds"},
                            {"Name": "MessagesSent", "Unit": "Count"},
                        ],
                    }
                ],
            },
            "FunctionName": f"fn{i % 50}",
            "Route": f"/r{i % 20}",
            "Latency": round(rng.random() * 100, 3),
            "MessagesSent": 1,
            "requestId": "989ffbf8-9ace-4817-a57c-e4dd734019ee",
        }
    ).decode()


def emf_batches(now_ms: int, batches: int, size: int) -> list[list[dict[str, Any]]]:
    """``batches`` lists of ``size`` EMF log events, timestamps ascending within the last minute."""
    rng = random.Random(3)
    out = []
    for b in range(batches):
        base = now_ms - 60_000 + b * 50
        out.append(
            [
                {"timestamp": base + i // 100, "message": emf_line(b * size + i, base, rng)}
                for i in range(size)
            ]
        )
    return out


def emf_in_process(lines: int, batch: int) -> tuple[float, float]:
    """(lines/s, datapoints/s) through LogStore.ingest -> EMF -> MetricStore, in this process."""
    from heron.monitor.logs.store import LogStore
    from heron.monitor.metrics.store import MetricStore
    from heron.types import LogEvent

    now_ms = int(time.time() * 1000)
    events = [
        LogEvent("/aws/lambda/bench", "stream", e["timestamp"], e["message"])
        for chunk in emf_batches(now_ms, lines // batch, batch)
        for e in chunk
    ]
    with tempfile.TemporaryDirectory() as scratch:
        metrics = MetricStore(scratch)
        logs = LogStore(Path(scratch) / "logs.db", clock=time.time, sink=metrics)
        logs.ingest(events[:batch])  # warm-up: group, stream, key caches
        before = logs.emf.stats.datapoints
        start = time.perf_counter()
        for i in range(batch, len(events), batch):
            logs.ingest(events[i : i + batch])
        elapsed = time.perf_counter() - start
        points = logs.emf.stats.datapoints - before
        logs.close()
        metrics.close()
    done = len(events) - batch
    return done / elapsed, points / elapsed


def main() -> int:
    """Measure and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=20.0, help="bound per server and kind")
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--heron-requests", type=int, default=3000)
    parser.add_argument("--moto-requests", type=int, default=300)
    args = parser.parse_args()
    h.header("monitor ingest: PutMetricData and EMF, Heron vs moto server")

    rate_in, points_in = emf_in_process(200_000, 2_000)
    print(
        f"  EMF in process (LogStore.ingest, 2,000-line batches, metric store as sink): "
        f"{rate_in:,.0f} lines/s, {points_in:,.0f} datapoints/s",
        flush=True,
    )

    pmd: dict[str, float] = {}
    emf: dict[str, float] = {}
    notes: dict[str, str] = {}
    with mc.heron_monitor() as heron, mc.moto_server() as moto:
        now = time.time()
        emf_bodies = emf_batches(int(now * 1000), DISTINCT, 2_000)
        for server in (heron, moto):
            budget = args.heron_requests if server is heron else args.moto_requests
            cw = mc.Signer(server, "cloudwatch")
            requests = metric_requests(cw, now)
            mc.post_many(server, requests[:4], count=4, connections=2, duration_s=30)
            run = mc.post_many(
                server,
                requests,
                count=budget,
                connections=args.connections,
                duration_s=args.duration,
            )
            pmd[server.name] = run.ok * 1000 / run.elapsed_s
            print(
                f"  PutMetricData {server.name}: {run.ok} ok of {sum(run.statuses.values())} "
                f"requests in {run.elapsed_s:.1f} s -> {pmd[server.name]:,.0f} datapoints/s; "
                f"p50 {h.percentile(run.latencies, 50) * 1000:.1f} ms, p99 "
                f"{h.percentile(run.latencies, 99) * 1000:.1f} ms per request; "
                f"statuses {run.statuses} {run.errors[:2]}",
                flush=True,
            )
            notes[server.name] = f"{run.ok} requests in {run.elapsed_s:.1f} s"

            logs = server.client("logs")
            logs.create_log_group(logGroupName="/bench/emf")
            logs.create_log_stream(logGroupName="/bench/emf", logStreamName="s")
            signer = mc.Signer(server, "logs")
            put = [
                signer.request(
                    "PutLogEvents",
                    {"logGroupName": "/bench/emf", "logStreamName": "s", "logEvents": body},
                )
                for body in emf_bodies
            ]
            mc.post_many(server, put[:2], count=2, connections=1, duration_s=30)
            run = mc.post_many(server, put, count=150, connections=2, duration_s=args.duration)
            emf[server.name] = run.ok * 2000 / run.elapsed_s
            print(
                f"  PutLogEvents (2,000 EMF lines each) {server.name}: {run.ok} ok in "
                f"{run.elapsed_s:.1f} s -> {emf[server.name]:,.0f} lines/s; statuses "
                f"{run.statuses} {run.errors[:2]}",
                flush=True,
            )
        check = heron.client("cloudwatch").list_metrics(Namespace="Heron/Bench")
        print(f"  Heron extracted EMF metrics: {len(check['Metrics'])} listed in Heron/Bench")

    h.figure(
        "emf_lines_in_process",
        f"{rate_in:,.0f} lines/s ({points_in:,.0f} datapoints/s)",
        ">= 200,000 lines/s",
        rate_in >= EMF_TARGET,
        "LogStore.ingest with MetricStore as sink, 2,000-line batches (the telemetry sink's "
        "path); moto has no such path",
    )
    h.figure(
        "emf_put_log_events_http",
        f"heron {emf['heron']:,.0f} lines/s vs moto {emf['moto']:,.0f} lines/s "
        f"({mc.ratio(emf['heron'], emf['moto'])})",
        ">= 200,000 lines/s",
        emf["heron"] >= EMF_TARGET,
        "PutLogEvents of 2,000 EMF lines, 2 connections; Heron stores and extracts 2 "
        "datapoints/line, moto only stores the lines (no EMF extraction)",
    )
    h.figure(
        "put_metric_data_1000",
        f"heron {pmd['heron']:,.0f} datapoints/s vs moto {pmd['moto']:,.0f} "
        f"({mc.ratio(pmd['heron'], pmd['moto'])})",
        ">= 400,000 datapoints/s and >= 3x moto",
        pmd["heron"] >= PMD_TARGET and pmd["heron"] >= 3 * pmd["moto"],
        f"1,000 datums/request over 1,000 series, {args.connections} keep-alive connections; "
        f"heron {notes['heron']}, moto {notes['moto']}",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
