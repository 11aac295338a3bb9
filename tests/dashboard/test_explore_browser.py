"""A 7-day graph of 1,000 series in the metric explorer, in a real Chromium, without freezing.

1,000 series (``Bench`` ``Load`` by ``Shard``) with 7 days of datapoints at the 7-day graph's
period (420 s: 1,440 per series) are written into the data directory's metric store before
``heron up`` starts. The page graphs ``Shard=*`` while a ``PerformanceObserver`` records long
tasks; afterwards every request the page made must have been same-origin (nothing from a CDN),
and the console must be clean. ``bench/dashboard_series.py`` measures the issue's 200 ms bound
on an idle machine; here the bound is looser so a loaded CI runner does not fail it spuriously.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import Heron, start_heron, stop_heron
from heron.monitor.metrics import model
from heron.monitor.metrics.ingest import SampleBatch
from heron.monitor.metrics.store import MetricStore

from .browser import console_errors, fill_sign_in, screenshot, start_browser, wait_for

SERIES = 1000
PERIOD_S = 420
DAYS = 7
#: The issue's bound is 200 ms (measured by the benchmark); CI runners are slower and shared.
LONG_TASK_LIMIT_MS = 500.0


def write_series(data_dir: Path, now_s: float) -> None:
    """SERIES series over DAYS days, one datum per PERIOD_S, through the store's batch path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    store = MetricStore(data_dir, clock=lambda: now_s)
    unit = model.UNIT_CODES["Count"]
    slots = DAYS * 86400 // PERIOD_S
    first_ms = (int(now_s) // PERIOD_S * PERIOD_S - DAYS * 86400) * 1000
    times = [first_ms + i * PERIOD_S * 1000 for i in range(slots)]
    try:
        for lo in range(0, SERIES, 250):
            batch = SampleBatch()
            for s in range(lo, lo + 250):
                key = model.metric_key("Bench", "Load", (("Shard", f"s{s:04d}"),))
                batch.keys.extend([key] * slots)
                batch.units.extend([unit] * slots)
                batch.times_ms.extend(times)
                batch.levels.extend([0] * slots)
                batch.lengths.extend([1] * slots)
                batch.values.extend(10.0 + s % 50 + 5 * math.sin(i / 30 + s) for i in range(slots))
                batch.counts.extend([1.0] * slots)
            store.put_batch(batch)
    finally:
        store.close()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Heron]:
    root = tmp_path_factory.mktemp("explore")
    write_series(root / "data", time.time())
    heron = start_heron(root, config="alarm_catalogue = false\n")
    yield heron
    stop_heron(heron)


@pytest.mark.slow
def test_a_thousand_series_over_seven_days_draw_without_freezing(loaded: Heron) -> None:
    from selenium.webdriver.common.by import By

    driver: Any = start_browser()
    try:
        driver.get(loaded.monitor_url + "/dashboard/login")
        fill_sign_in(driver, loaded.data_dir)
        driver.find_element(By.ID, "sign-in").click()
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
        driver.find_element(By.ID, "nav-explore").click()
        wait_for(lambda: "/dashboard/explore" in driver.current_url)
        wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
        driver.execute_script(
            "window.__long = [];"
            "new PerformanceObserver((l) => { for (const e of l.getEntries())"
            " window.__long.push(e.duration); }).observe({ type: 'longtask' });"
        )
        for field, value in (("namespace", "Bench"), ("name", "Load"), ("dimensions", "Shard=*")):
            box = driver.find_element(By.ID, "explore-" + field)
            box.clear()
            box.send_keys(value)
        driver.execute_script("document.getElementById('explore-range').value = '7d'")
        driver.find_element(By.ID, "explore-graph").click()
        wait_for(
            lambda: driver.execute_script("return document.body.dataset.explored"),
            timeout=90,
            what="the 1,000-series graph",
        )
        assert driver.execute_script("return document.body.dataset.explored") == "1000"
        time.sleep(0.3)  # the observer reports a task after it ends
        long_tasks = driver.execute_script("return window.__long")
        status = driver.find_element(By.ID, "explore-status").text
        print(f"\n{status}; long tasks (ms): {[round(t) for t in long_tasks]}")
        assert "1,000 of 1,000 series" in status
        assert max(long_tasks, default=0.0) <= LONG_TASK_LIMIT_MS
        legend = driver.find_elements(By.CSS_SELECTOR, "#explore-chart .legend > span")
        assert len(legend) <= 42 and "+960 more" in legend[-2].text
        # The page stays usable: hovering the graph shows the tooltip (a handler runs).
        plot = driver.find_element(By.CSS_SELECTOR, "#explore-chart .plot")
        from selenium.webdriver import ActionChains

        ActionChains(driver).move_to_element(plot).perform()
        wait_for(lambda: "+" in driver.find_element(By.CSS_SELECTOR, ".tooltip").text)
        screenshot(driver, "11-explore-1000-series")
        origin = loaded.monitor_url
        urls = driver.execute_script(
            "return performance.getEntriesByType('resource').map((e) => e.name)"
        )
        assert urls and all(u.startswith(origin + "/") for u in urls), urls
        assert console_errors(driver) == []
    finally:
        driver.quit()
