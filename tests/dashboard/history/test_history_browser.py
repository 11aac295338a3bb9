"""The History page in headless Chromium against a real ``heron up --demo``.

Signs in, opens the History page, sees the trend graph, the capacity forecasts (with their
method), the cost breakdown and the advice tables; changes the time range and the comparison;
checks the console stayed clean. Screenshots land in test-artifacts/dashboard/.
"""

from __future__ import annotations

from typing import Any

import pytest

from e2e.conftest import Heron

from ..browser import console_errors, fill_sign_in, screenshot, wait_for


def rows(driver: Any, table: str) -> list[list[str]]:
    """The text of each data row of a table."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('#' + arguments[0] + ' tr')].slice(1)"
            ".map(r => [...r.children].map(c => c.textContent))",
            table,
        )
    )


@pytest.mark.slow
def test_history_shows_trend_capacity_cost_and_advice(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver.get(demo.monitor_url + "/dashboard/history")
    wait_for(lambda: "/dashboard/login" in driver.current_url, what="the sign-in redirect")
    fill_sign_in(driver, demo.data_dir)
    driver.find_element(By.ID, "sign-in").click()
    # Navigating before the sign-in POST has answered would abort it (no session cookie, back
    # to the sign-in page): wait for its redirect first.
    wait_for(lambda: "/dashboard/login" not in driver.current_url, timeout=20, what="the sign-in")
    if "/dashboard/history" not in driver.current_url:
        driver.get(demo.monitor_url + "/dashboard/history")
    wait_for(
        lambda: driver.execute_script("return document.body.dataset.loaded") == "1",
        timeout=20,
        what="the History page to load",
    )

    def slowest_shown() -> bool:
        # On a busy machine the page can load before the demo's first invocations reached the
        # metric store: reload until the advice lists a function with traffic.
        slow = rows(driver, "advice-functions")
        if slow and slow[0][0] != "nothing in this range":
            return True
        driver.get(demo.monitor_url + "/dashboard/history")
        wait_for(
            lambda: driver.execute_script("return document.body.dataset.loaded") == "1",
            timeout=20,
            what="the History page to reload",
        )
        return False

    wait_for(slowest_shown, timeout=40, what="the demo's invocations in the advice")
    # Demo traffic has been flowing: the trend has data and a headline change.
    assert "Over the range" in driver.find_element(By.ID, "trend-headline").text
    assert driver.find_elements(By.CSS_SELECTOR, "#trend-chart canvas")
    capacity = rows(driver, "capacity-table")
    titles = [r[0] for r in capacity]
    assert "WebSocket active connections" in titles
    assert "Lambda concurrent executions (account)" in titles
    assert any("consumed RCU/s" in t for t in titles)
    method = driver.execute_script("return document.getElementById('capacity-method').textContent")
    assert "least squares" in method and "prediction interval" in method
    total = driver.find_element(By.CSS_SELECTOR, "#cost-total .value").text
    assert total.startswith("$")
    names = [r[0] for r in rows(driver, "cost-table")]
    assert {"createUser", "sendMessage", "HTTP API", "WebSocket API", "Messages"} <= set(names)
    slow = rows(driver, "advice-functions")
    assert slow and slow[0][0] in {f for f in names}
    screenshot(driver, "history", full_page=True)
    section = driver.find_element(By.ID, "capacity-section")
    driver.execute_script("arguments[0].scrollIntoView()", section)
    screenshot(driver, "history-capacity")
    driver.execute_script(
        "arguments[0].scrollIntoView()", driver.find_element(By.ID, "cost-section")
    )
    screenshot(driver, "history-cost")

    # A shorter range and a week-earlier comparison redraw without errors.
    driver.execute_script("window.scrollTo(0, 0)")  # the sticky top bar covers scrolled items
    driver.find_element(By.CSS_SELECTOR, '#ranges button[data-range="1h"]').click()
    Select(driver.find_element(By.ID, "trend-compare")).select_by_value("week")
    wait_for(
        lambda: "a week earlier" in driver.find_element(By.ID, "trend-headline").text,
        what="the week comparison",
    )
    wait_for(
        lambda: "last 1h" in driver.find_element(By.ID, "cost-note").text,
        what="the cost over one hour",
    )
    assert driver.find_element(By.ID, "notice").get_attribute("class").count("hidden") == 1
    assert console_errors(driver) == []
