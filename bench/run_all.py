"""Run every benchmark (each starts and stops its own ``heron up``) and print a table of figures.

Each script runs as its own process, bounded in time; its ``FIGURE`` lines are collected. Nothing
is written to the repository: update bench/README.md by hand from the printed table.

    .venv/bin/python bench/run_all.py [--only NAME ...] [--pin]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (script, time bound in seconds); in the order of the issue's figures.
BENCHMARKS: tuple[tuple[str, int], ...] = (
    ("get_user_throughput.py", 300),
    ("post_messages_throughput.py", 300),
    ("get_user_latency.py", 180),
    ("websocket_connections.py", 600),
    ("cold_start.py", 300),
    ("telemetry_cost.py", 600),
    ("idle.py", 180),
    ("alarms_evaluation.py", 300),
    ("alarms_ingest.py", 600),
    # issue 3: the monitor, side by side with moto server (`.venv/bin/pip install 'moto[server]'`)
    ("monitor_ingest.py", 420),
    ("monitor_queries.py", 900),
    ("monitor_memory.py", 600),
    ("monitor_filter.py", 900),
    # issue 5: notifications (state change -> webhook latency, throughput, a 1,000-alarm burst)
    ("notify_latency.py", 300),
    ("notify_throughput.py", 300),
    ("notify_burst.py", 300),
)
PINNABLE = {"get_user_throughput.py", "post_messages_throughput.py", "get_user_latency.py"}
FIGURE = re.compile(r"^FIGURE (\S+): (.*) \(target (.*)\) (PASS|MISS|n/a)(?: -- (.*))?$")


def main() -> int:
    """Run the selected benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="script names (without .py) to run")
    parser.add_argument("--pin", action="store_true", help="pass --pin where supported")
    args = parser.parse_args()
    selected = [
        (s, t) for s, t in BENCHMARKS if not args.only or s.removesuffix(".py") in args.only
    ]
    rows: list[tuple[str, str, str, str, str]] = []
    for script, bound in selected:
        command = [sys.executable, str(HERE / script)]
        if args.pin and script in PINNABLE:
            command.append("--pin")
        print(f"\n### {script} (bound {bound} s)", flush=True)
        started = time.monotonic()
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=bound, check=False
            )
            output, code = done.stdout, done.returncode
            if done.stderr.strip():
                print(done.stderr[-3000:], file=sys.stderr)
        except subprocess.TimeoutExpired as exc:
            output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
            code = -1
        print(output, end="", flush=True)
        found = False
        for line in output.splitlines():
            match = FIGURE.match(line)
            if match:
                found = True
                rows.append((match[1], match[3], match[2], match[4], script))
        if not found:
            rows.append((script, "-", f"no figure (exit {code})", "FAIL", script))
        print(f"### {script}: {time.monotonic() - started:.0f} s, exit {code}", flush=True)
    print(f"\nResults {time.strftime('%Y-%m-%d %H:%M %Z')}:")
    widths = [
        max(len(r[i]) for r in [*rows, ("figure", "target", "measured", "verdict", "")])
        for i in range(4)
    ]
    head = ("figure", "target", "measured", "verdict")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    for row in rows:
        print("  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)))
    return 0 if all(r[3] != "FAIL" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
