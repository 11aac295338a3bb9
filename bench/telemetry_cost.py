"""Figure 6: what telemetry costs in throughput (target <= 10 %).

Heron has no switch that turns telemetry off, so three things are measured:
1. Throughput of ``GET /users/{id}`` (wrk, several alternating rounds) with the stock monitor
   sink (``MonitorSink``: log store, EMF extraction, metric store, all on SQLite), and with a
   sink that drops everything, swapped in from outside by ``bench/_nullsink_up.py``. The
   difference is the cost of the *sink* (its writer thread's work and what it takes from the
   parent's GIL); building the records still happens in both runs.
2. Telemetry volume per request: log events (read from the monitor's logs.db) and metric values
   (SampleCount summed over every metric, read with boto3 from the monitor's CloudWatch API).
3. Where the ``heron up`` parent spends its GIL time under that load (py-spy ``--gil``, if
   installed in the venv): the share of samples inside telemetry code on the event loop (access
   log and API metrics, REPORT/platform lines, EMF and table-metric handling) and in the sink
   thread. Together these bound the full telemetry cost.

    .venv/bin/python bench/telemetry_cost.py [--rounds 3] [--duration 10]
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _harness as h

TARGET_PCT = 10.0
CONNECTIONS = 32
PY_SPY = h.REPO / ".venv" / "bin" / "py-spy"
NULL_SINK = [sys.executable, str(Path(__file__).with_name("_nullsink_up.py"))]

#: Frames that are telemetry work, matched against py-spy's "function (file)" frame names.
TELEMETRY_FRAMES = (
    "heron/gateway/access_log.py",
    "heron/gateway/api_metrics.py",
    "heron/gateway/emitter.py",
    "HttpApi._record",
    "heron/telemetry/",
    "heron/runtime/platform_logs.py",
    "heron/runtime/platform_metrics.py",
    "LambdaRuntime._record",
    "LambdaRuntime._publish",
    "_drain_capture",
    "heron/tables/metrics.py",
)


def throughput(program: list[str] | None, duration_s: int, wrk: str) -> tuple[float, float, float]:
    """(2xx req/s, log events per request, datums per request) for one fresh heron up."""
    with h.heron_up(h.NO_THROTTLE, program=program) as heron:
        users = h.sign_up_many(heron.base_url, 2, "tel")
        path = f"/users/{users[0].user_id}"
        lua = h.auth_lua([users[0].token], path)
        h.warm_up(heron.base_url, path, users[0].token, 10)
        h.run_wrk(wrk, heron.base_url, lua, connections=CONNECTIONS, threads=1, duration_s=3)
        time.sleep(0.5)
        logs0, datums0 = h.telemetry_counts(heron) if program is None else (0, 0)
        result = h.run_wrk(
            wrk, heron.base_url, lua, connections=CONNECTIONS, threads=1, duration_s=duration_s
        )
        time.sleep(1.0)  # let the group commit catch up before counting
        logs1, datums1 = h.telemetry_counts(heron) if program is None else (0, 0)
        if program is None:
            print_volume(heron, result.requests)
    good = result.requests - result.non_2xx
    return (
        good / result.duration_s,
        (logs1 - logs0) / max(result.requests, 1),
        (datums1 - datums0) / max(result.requests, 1),
    )


def print_volume(heron: h.Heron, requests: int) -> None:
    """Print which log groups and metric namespaces the telemetry of a run went to, per request."""
    groups = h.log_event_counts(heron.data_dir)
    spaces = h.metric_values(heron)
    # Denominator: every HTTP request of the run (warm-up and sign-ups included), one access
    # log record each.
    total = max(groups.get("/aws/apigateway/local-http/access", requests), 1)
    logs = ", ".join(f"{g} {n / total:.2f}" for g, n in groups.items())
    values = ", ".join(
        f"{ns} {n / total:.1f} ({names} names)"
        for ns, (n, names) in sorted(spaces.items(), key=lambda kv: -kv[1][0])
    )
    print(f"  per HTTP request (whole run): log events: {logs}", flush=True)
    print(f"  per HTTP request (whole run): metric values: {values}", flush=True)


def profile(duration_s: int, wrk: str) -> dict[str, float] | None:
    """Shares (%) of the parent's GIL-holding samples by kind, under GET load; None without py-spy."""
    if not PY_SPY.exists():
        print("  py-spy not installed (.venv/bin/pip install py-spy): no profile")
        return None
    with h.heron_up(h.NO_THROTTLE) as heron, tempfile.TemporaryDirectory() as scratch:
        users = h.sign_up_many(heron.base_url, 1, "telprof")
        path = f"/users/{users[0].user_id}"
        lua = h.auth_lua([users[0].token], path)
        h.warm_up(heron.base_url, path, users[0].token, 10)
        h.run_wrk(wrk, heron.base_url, lua, connections=CONNECTIONS, threads=1, duration_s=3)
        out = Path(scratch) / "profile.txt"
        spy = subprocess.Popen(
            [
                str(PY_SPY),
                "record",
                "--pid",
                str(heron.process.pid),
                "--gil",
                "--rate",
                "200",
                "--duration",
                str(duration_s),
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        h.run_wrk(
            wrk, heron.base_url, lua, connections=CONNECTIONS, threads=1, duration_s=duration_s
        )
        spy.wait(timeout=duration_s + 60)
        text = out.read_text() if out.exists() else ""
    return classify(text, duration_s * 200)


def classify(collapsed: str, possible: int) -> dict[str, float]:
    """Split py-spy collapsed stacks of the parent into kinds; shares of all samples (%)."""
    kinds: collections.Counter[str] = collections.Counter()
    for line in collapsed.splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [re.sub(r":\d+\)", ")", f) for f in stack.split(";")[1:]]
        if not frames:
            continue
        n = int(count)
        if any("MonitorSink._run" in f for f in frames):
            kinds["sink thread (log store, EMF, metric store)"] += n
        elif any(t in f for f in frames for t in TELEMETRY_FRAMES):
            kinds["event loop: telemetry code"] += n
        else:
            kinds["event loop: everything else"] += n
    total = sum(kinds.values())
    shares = {k: 100.0 * v / total for k, v in kinds.items()} if total else {}
    shares["GIL held (% of wall time)"] = 100.0 * total / possible if possible else 0.0
    return shares


def main() -> int:
    """Measure and print the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating stock/null rounds")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    args = parser.parse_args()
    h.header("telemetry cost")
    wrk = h.ensure_wrk()
    if wrk is None:
        print("wrk unavailable: this benchmark needs it")
        return 1
    stock: list[float] = []
    null: list[float] = []
    per_req: tuple[float, float] = (0.0, 0.0)
    for i in range(args.rounds):
        rps, logs, datums = throughput(None, args.duration, wrk)
        stock.append(rps)
        per_req = (logs, datums)
        rps_null, _, _ = throughput(NULL_SINK, args.duration, wrk)
        null.append(rps_null)
        print(
            f"  round {i}: stock sink {rps:.0f} req/s, null sink {rps_null:.0f} req/s; "
            f"{logs:.2f} log events and {datums:.2f} metric values per request",
            flush=True,
        )
    shares = profile(args.duration, wrk)
    if shares:
        for kind, pct in sorted(shares.items(), key=lambda kv: -kv[1]):
            print(f"  profile: {kind}: {pct:.1f} %")
    stock_m, null_m = h.median(stock), h.median(null)
    cost = 100.0 * (null_m - stock_m) / null_m if null_m else float("nan")
    in_code = shares.get("event loop: telemetry code", float("nan")) if shares else float("nan")
    h.figure(
        "telemetry_cost",
        f"{cost:.1f} % (sink only)",
        "<= 10 %",
        cost <= TARGET_PCT,
        f"median GET {stock_m:.0f} req/s with the monitor sink vs {null_m:.0f} with a null sink "
        f"({args.rounds} rounds, c={CONNECTIONS}); {per_req[0]:.1f} log events + "
        f"{per_req[1]:.1f} metric values per request; telemetry code is {in_code:.1f} % of the "
        "parent's GIL samples (not removable from outside)",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
