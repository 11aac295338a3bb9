"""Shared parts of the dashboard benchmarks: a ``heron up`` on a data directory we keep, a 24 h
backfill of demo-like telemetry, headless Chromium signed in, and SSE clients with a session.

The backfill is faithful to what ``heron up --demo`` writes: a short discovery run of the demo
populates a data directory, then every metric it produced (same namespace, name, dimensions and
unit) is extended back over the previous ``hours`` with one datum per minute whose sample count
and mean follow what the demo recorded for that metric, with noise, written straight through
``MetricStore.put_batch`` (the store's own fast path) while ``heron up`` is stopped.
"""

from __future__ import annotations

import configparser
import contextlib
import math
import os
import random
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from _harness import HERON, HOST, Heron, free_port, stop

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


@contextlib.contextmanager
def heron_on(
    root: Path, *, demo: bool = True, config: str = "", env: dict[str, str] | None = None
) -> Iterator[Heron]:
    """``heron up`` (``--demo`` by default) on ``root/data``, kept after it stops."""
    port, monitor_port = free_port(), free_port()
    while monitor_port == port:
        monitor_port = free_port()
    (root / "heron.toml").write_text(config)
    command = [
        str(HERON),
        "up",
        "--port",
        str(port),
        "--monitor-port",
        str(monitor_port),
        "--data-dir",
        str(root / "data"),
        "--config",
        str(root / "heron.toml"),
        *(["--demo"] if demo else []),
    ]
    log_path = root / "heron-up.log"
    started = time.perf_counter()
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            command,
            cwd=root,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        health = f"http://{HOST}:{monitor_port}/health"
        deadline = started + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"heron up exited:\n{log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(health, timeout=1.0).status_code == 200:
                    break
            if time.perf_counter() > deadline:
                raise RuntimeError("heron up not healthy after 60 s")
            time.sleep(0.05)
        yield Heron(
            port,
            monitor_port,
            root / "data",
            process,
            log_path,
            started,
            time.perf_counter(),
        )
    finally:
        stop(process)


def new_root(prefix: str) -> Path:
    """A fresh temporary directory for one benchmark's data."""
    return Path(tempfile.mkdtemp(prefix=prefix))


def credentials(data_dir: Path) -> tuple[str, str]:
    """The instance's access key pair (the dashboard's sign-in)."""
    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    return (
        parser["heron"]["aws_access_key_id"].strip(),
        parser["heron"]["aws_secret_access_key"].strip(),
    )


def monitor_url(heron: Heron) -> str:
    """``http://127.0.0.1:<monitor port>``."""
    return f"http://{HOST}:{heron.monitor_port}"


# -- backfill ----------------------------------------------------------------------------------


def backfill(data_dir: Path, *, hours: float, now_s: float, seed: int = 7) -> tuple[int, int]:
    """Extend every stored metric back ``hours`` (one datum per minute); (metrics, datums).

    Run only while ``heron up`` is stopped: it opens the store itself.
    """
    from heron.monitor.metrics import model
    from heron.monitor.metrics.ingest import SampleBatch
    from heron.monitor.metrics.store import MetricStore

    rng = random.Random(seed)
    store = MetricStore(data_dir, clock=lambda: now_s)
    try:
        end_ms = int(now_s) // 60 * 60_000
        profiles = []
        for metric in store.list_metrics():
            points = store.statistics(
                metric,
                start_ms=end_ms - 3 * 3600_000,
                end_ms=end_ms + 60_000,
                period_s=60,
                statistics=["SampleCount", "Average", "Maximum"],
            )
            for unit in {p["Unit"] for p in points}:
                mine = [p for p in points if p["Unit"] == unit]
                count = sum(p["SampleCount"] for p in mine) / len(mine)
                mean = sum(p["Average"] for p in mine) / len(mine)
                peak = max(p["Maximum"] for p in mine)
                key = model.metric_key(metric.namespace, metric.name, metric.dimensions)
                profiles.append((key, model.UNIT_CODES[unit], count, mean, peak))
        # Leave the last 10 minutes to what the demo wrote; the day before them is synthetic.
        minutes = int(hours * 60)
        first = end_ms - (minutes + 10) * 60_000
        datums = 0
        for chunk in range(0, minutes, 60):
            batch = SampleBatch()
            for m in range(chunk, min(minutes, chunk + 60)):
                ts = first + m * 60_000
                # A daily wave so trends and forecasts have something to show.
                wave = 1.0 + 0.5 * math.sin(2 * math.pi * m / 1440)
                for key, unit, count, mean, peak in profiles:
                    n = max(1.0, round(count * wave * rng.uniform(0.8, 1.2)))
                    spread = [mean * rng.lognormvariate(0.0, 0.35) for _ in range(4)]
                    values = [min(v, peak * 1.5) if peak > 0 else v for v in spread]
                    batch.add_values(key, unit, ts, 0, values, [n / 4] * 4)
                    datums += 1
            store.put_batch(batch)
        return len(profiles), datums
    finally:
        store.close()


# -- browser -----------------------------------------------------------------------------------


def start_browser(performance_log: bool = False) -> Any:
    """Headless Chromium through Selenium and Debian's chromedriver (no downloads)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        raise SystemExit("apt-get install -y chromium chromium-driver first")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='heron-bench-chromium-')}")
    prefs = {"browser": "ALL", **({"performance": "ALL"} if performance_log else {})}
    options.set_capability("goog:loggingPrefs", prefs)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def wait_until(check: Any, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll ``check`` every 20 ms until truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def browser_sign_in(driver: Any, heron: Heron) -> None:
    """Sign in through the form and wait for the overview to be ready."""
    from selenium.webdriver.common.by import By

    key, secret = credentials(heron.data_dir)
    driver.get(monitor_url(heron) + "/dashboard/login")
    driver.find_element(By.ID, "username").send_keys(key)
    driver.find_element(By.ID, "password").send_keys(secret)
    driver.find_element(By.ID, "sign-in").click()
    wait_until(lambda: driver.execute_script("return document.body.dataset.ready") == "1")


def session_client(heron: Heron) -> httpx.Client:
    """An httpx client signed in to the dashboard (session cookie set)."""
    client = httpx.Client(base_url=monitor_url(heron), timeout=30)
    page = client.get("/dashboard/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if match is None:
        raise RuntimeError("no CSRF token on the sign-in page")
    key, secret = credentials(heron.data_dir)
    response = client.post(
        "/dashboard/login",
        data={"csrf_token": match.group(1), "username": key, "password": secret},
    )
    if response.status_code != 303:
        raise RuntimeError(f"sign-in failed: {response.status_code}")
    return client
