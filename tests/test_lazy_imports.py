"""What ``heron up`` leaves unloaded until it is needed: each costs an idle instance MiB.

httpx (with the trio httpcore imports whenever it is installed) serves only https notices and
botocore only the AWS API, so neither may load while the monitor is built, the CLI parses its
arguments, or a notice goes to an http:// endpoint. Each check runs in a fresh interpreter,
since the test process has imported them all.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("botocore", "httpx", "trio")

_BUILD = """
import sys
from pathlib import Path
import heron.cli
from heron.monitor.service import Monitor

heron.cli.build_parser()
monitor = Monitor(Path(sys.argv[1]), decode_workers=0)
print(" ".join(sorted(name for name in {heavy} if name in sys.modules)))
monitor.aws.specs["cloudwatch"].operation("PutMetricData")
print("botocore" in sys.modules)
monitor.close()
"""

_CONFIRM_OVER_HTTP = """
import sys, threading, time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from heron.monitor.service import Monitor

received = []


class Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        received.append(self.headers["x-amz-sns-message-type"])
        self.rfile.read(int(self.headers["content-length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Hook)
threading.Thread(target=server.serve_forever, daemon=True).start()
monitor = Monitor(Path(sys.argv[1]), decode_workers=0)
topic = monitor.topics.create_topic("alerts")
monitor.topics.subscribe(topic, "http", f"http://127.0.0.1:{server.server_port}/hook")
monitor.notifier.tick(time.time())
print(received, " ".join(sorted(name for name in {heavy} if name in sys.modules)))
monitor.close()
server.shutdown()
"""


def _run(script: str, data_dir: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", script.replace("{heavy}", repr(HEAVY)), str(data_dir)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_building_the_monitor_and_the_cli_loads_neither_botocore_nor_httpx(tmp_path: Path) -> None:
    assert _run(_BUILD, tmp_path) == ["", "True"]


def test_a_confirmation_to_an_http_endpoint_goes_out_without_httpx(tmp_path: Path) -> None:
    assert _run(_CONFIRM_OVER_HTTP, tmp_path) == ["['SubscriptionConfirmation'] "]
