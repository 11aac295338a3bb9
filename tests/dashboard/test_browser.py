"""The dashboard in a real headless Chromium against a real ``heron up --demo``.

Signs in through the form, sees the twelve tiles, watches a live number change, changes the
time range, searches and tails the logs, and checks the browser console stayed clean.
Screenshots land in test-artifacts/dashboard/.
"""

from __future__ import annotations

import configparser
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import Heron, start_heron, stop_heron

from .browser import console_errors, screenshot, start_browser, wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Heron]:
    heron = start_heron(tmp_path_factory.mktemp("dash"), config="", extra_args=("--demo",))
    yield heron
    stop_heron(heron)


@pytest.fixture(scope="module")
def driver(demo: Heron) -> Iterator[Any]:
    browser = start_browser()
    yield browser
    browser.quit()


def credentials(data_dir: Path) -> tuple[str, str]:
    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    return parser["heron"]["aws_access_key_id"], parser["heron"]["aws_secret_access_key"]


def tile_numbers(driver: Any, key: str) -> float:
    """The sum of one headline number over every tile (e.g. all invocations)."""
    values = driver.execute_script(
        "return [...document.querySelectorAll('.value[data-key=\"' + arguments[0] + '\"]')]"
        ".map(e => parseFloat(e.textContent.replace(/,/g, '')) || 0)",
        key,
    )
    return float(sum(values))


def test_sign_in_see_every_tile_and_watch_it_live(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(demo.monitor_url + "/dashboard")
    wait_for(lambda: "/dashboard/login" in driver.current_url, what="the sign-in redirect")
    screenshot(driver, "01-sign-in")
    key, secret = credentials(demo.data_dir)
    driver.find_element(By.ID, "username").send_keys(key)
    driver.find_element(By.ID, "password").send_keys(secret)
    started = time.perf_counter()
    driver.find_element(By.ID, "sign-in").click()
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    first_load = time.perf_counter() - started
    print(f"\nfirst load of the overview (sign-in click to graphs drawn): {first_load:.3f} s")
    assert first_load < 3.0  # generous for a loaded CI machine; measured well under 1 s
    tiles = driver.find_elements(By.CSS_SELECTOR, ".tile")
    names = [t.find_element(By.CSS_SELECTOR, ".name").text for t in tiles]
    assert len(tiles) == 12
    for name in ("createUser", "connectionHandler", "HTTP API", "WebSocket API", "Connections"):
        assert name in names
    # The live stream paints the tiles, then a number moves as demo traffic arrives.
    wait_for(lambda: driver.execute_script("return document.body.dataset.snapshot"))
    before = tile_numbers(driver, "invocations")
    wait_for(
        lambda: tile_numbers(driver, "invocations") != before,
        timeout=20,
        what="the invocations count to change",
    )
    assert "live" in driver.find_element(By.ID, "live-text").text
    screenshot(driver, "02-overview", full_page=True)
    assert console_errors(driver) == []


def test_time_range_changes_the_graphs(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, '#ranges button[data-range="24h"]').click()
    wait_for(lambda: driver.execute_script("return document.body.dataset.range") == "24h")
    assert driver.current_url.endswith("#range=24h")
    pressed = driver.find_element(By.CSS_SELECTOR, '#ranges button[aria-pressed="true"]')
    assert pressed.text == "24h"
    driver.find_element(By.CSS_SELECTOR, '#ranges button[data-range="7d"]').click()
    wait_for(lambda: driver.execute_script("return document.body.dataset.range") == "7d")
    charts = driver.find_element(By.ID, "charts")
    driver.execute_script("arguments[0].scrollIntoView()", charts)
    screenshot(driver, "03-range-7d")
    assert console_errors(driver) == []


def test_logs_search_and_live_tail(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.find_element(By.ID, "nav-logs").click()
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    Select(driver.find_element(By.ID, "log-group")).select_by_value("/aws/lambda/sendMessage")
    driver.find_element(By.ID, "log-pattern").send_keys("REPORT")
    driver.find_element(By.ID, "log-search").click()
    wait_for(lambda: driver.execute_script("return document.body.dataset.searched"))
    rows = driver.find_elements(By.CSS_SELECTOR, "#log-rows tr")
    assert rows and all("REPORT" in r.text for r in rows)
    screenshot(driver, "04-logs-search")
    pattern = driver.find_element(By.ID, "log-pattern")
    pattern.clear()
    driver.find_element(By.ID, "log-tail").click()
    wait_for(
        lambda: driver.find_elements(By.CSS_SELECTOR, "#log-rows tr.fresh"),
        timeout=15,
        what="tailed events",
    )
    screenshot(driver, "05-logs-tail")
    assert console_errors(driver) == []
