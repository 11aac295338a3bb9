"""The dashboard in a real headless Chromium against a real ``heron up --demo``.

Signs in through the form, sees the twelve tiles, watches a live number change, changes the
time range, searches and tails the logs; injects handler errors through the gateway and sees the
incident appear, the function's tile turn red and acknowledges it from the page; opens the alarm
page (graph, annotations, history) and the notifications page (inbox, explain); creates and
expires a silence; and checks the browser console stayed clean. Screenshots land in
test-artifacts/dashboard/.

Heron runs with ``browser.DEMO_CONFIG``: ``time_scale = 60`` (a five-minute alarm period closes
every 5 real seconds) with the demo's staged incidents off, so the only handler errors are the ones
a test injects.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from e2e.conftest import Heron

from .browser import console_errors, fill_sign_in, screenshot, wait_for

#: The catalogue's alarm on createUser's error rate (Errors / Invocations > 1 % over 5 minutes).
ERROR_ALARM = "createUser-ErrorRate"


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
    fill_sign_in(driver, demo.data_dir)
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


class ErrorInjector:
    """Sends failing sign-ups through the gateway (``x-heron-inject-error``) until stopped, so
    createUser's error-rate alarm goes to ALARM and stays there while the page is driven.

    Ten a second: the catalogue's error-rate alarm ignores periods with fewer than 20
    invocations, and at ``time_scale = 60`` a five-minute period lasts five real seconds.
    """

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.sent = 0
        self.unexpected: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=5) as client:
            while not self._stop.is_set():
                body = {"username": f"fail{self.sent}", "displayName": "F", "email": "f@x.org"}
                response = client.post("/users", json=body, headers={"x-heron-inject-error": "1"})
                if response.status_code < 500:  # the handler must have failed
                    self.unexpected.append(f"{response.status_code} {response.text[:200]}")
                self.sent += 1
                self._stop.wait(0.1)

    def __enter__(self) -> ErrorInjector:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def incident_status(driver: Any, alarm: str) -> str | None:
    """The status of the alarm's incident row in the active-alerts panel (None when absent)."""
    status: str | None = driver.execute_script(
        "const r = document.querySelector('#incidents tr[data-alarm=\"' + arguments[0] + '\"]');"
        "return r ? r.dataset.status : null;",
        alarm,
    )
    return status


def tile_level(driver: Any, tile: str) -> str:
    """The colour class of a status tile."""
    return str(
        driver.execute_script(
            "return document.querySelector('.tile[data-tile=\"' + arguments[0] + '\"]').className",
            tile,
        )
    )


def test_injected_errors_raise_an_incident_that_is_acknowledged_from_the_page(
    demo: Heron, driver: Any
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(demo.monitor_url + "/dashboard")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    assert incident_status(driver, ERROR_ALARM) is None
    with ErrorInjector(demo.base_url) as injector:
        started = time.monotonic()
        wait_for(
            lambda: incident_status(driver, ERROR_ALARM) == "open",
            timeout=60,
            what=f"the {ERROR_ALARM} incident to appear",
        )
        print(f"\nincident on the page {time.monotonic() - started:.1f} s after the first error")
        wait_for(
            lambda: "level-alarm" in tile_level(driver, "function:createUser"),
            timeout=10,
            what="the createUser tile to turn red",
        )
        row = driver.find_element(By.CSS_SELECTOR, f'#incidents tr[data-alarm="{ERROR_ALARM}"]')
        assert "critical" in row.text.lower() and "inbox" in row.text  # severity, who is paged
        section = driver.find_element(By.ID, "alerts-section")
        driver.execute_script("arguments[0].scrollIntoView()", section)
        screenshot(driver, "06-incident-open")
        row.find_element(By.CSS_SELECTOR, 'button[data-action="ack"]').click()
        wait_for(
            lambda: incident_status(driver, ERROR_ALARM) == "acknowledged",
            timeout=10,
            what="the incident to be acknowledged",
        )
        assert injector.sent > 0 and injector.unexpected == []
    # The next live snapshots keep it acknowledged (the server, not just the click, says so).
    time.sleep(2)
    assert incident_status(driver, ERROR_ALARM) in ("acknowledged", None)
    screenshot(driver, "07-incident-acknowledged")
    # The alarm's change to ALARM is a marker on the graphs of the metrics it watches.
    chart = driver.find_element(By.CSS_SELECTOR, '.chart-card[data-chart="function-error-rate"]')
    wait_for(
        lambda: int(chart.get_attribute("data-annotations") or 0) >= 1,
        what="an annotation on the error-rate graph",
    )
    driver.execute_script("arguments[0].scrollIntoView()", chart)
    screenshot(driver, "07b-error-rate-annotated")
    assert console_errors(driver) == []


def test_alarm_page_shows_graph_annotations_and_history(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{demo.monitor_url}/dashboard/alarms/{ERROR_ALARM}")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    assert driver.find_element(By.ID, "alarm-name").text == ERROR_ALARM
    condition = driver.find_element(By.ID, "alarm-condition").text
    assert "FILL(errors, 0) / invocations" in condition
    assert condition.endswith("> 1 for 1 of 1 periods of 300 s")
    changes = driver.find_elements(By.CSS_SELECTOR, '#alarm-history tr[data-type="StateUpdate"]')
    assert any("ALARM" in c.text for c in changes)
    annotated = driver.find_element(By.CSS_SELECTOR, '.chart-card[data-chart="alarm"]')
    assert int(annotated.get_attribute("data-annotations") or 0) >= 1
    screenshot(driver, "08-alarm-page", full_page=True)
    assert console_errors(driver) == []
    driver.get(demo.monitor_url + "/dashboard/alarms/NoSuchAlarm")
    assert "There is no alarm named" in driver.find_element(By.ID, "notfound-message").text
    # The only console entry is the browser noting the page's own 404 status.
    assert all("NoSuchAlarm" in m and "404" in m for m in console_errors(driver))


def test_notifications_inbox_explain_and_a_silence(demo: Heron, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{demo.monitor_url}/dashboard/notify#what={ERROR_ALARM}")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    wait_for(
        lambda: driver.find_elements(By.CSS_SELECTOR, f'#inbox tr[data-alarm="{ERROR_ALARM}"]'),
        what="the incident's notification in the inbox",
    )
    wait_for(lambda: driver.execute_script("return document.body.dataset.explained"))
    kinds = [
        e.get_attribute("data-kind") for e in driver.find_elements(By.CSS_SELECTOR, "tr.entry")
    ]
    assert "delivered" in kinds and "human" in kinds  # sent to the inbox; acknowledged by hand
    screenshot(driver, "09-notifications", full_page=True)
    assert console_errors(driver) == []

    driver.get(demo.monitor_url + "/dashboard")
    wait_for(lambda: driver.execute_script("return document.body.dataset.ready") == "1")
    driver.find_element(By.ID, "silence-pattern").send_keys("createUser-*")
    driver.find_element(By.ID, "silence-duration").clear()
    driver.find_element(By.ID, "silence-duration").send_keys("forever")
    driver.find_element(By.ID, "silence-comment").send_keys("browser test")
    driver.find_element(By.ID, "silence-create").click()
    error = wait_for(lambda: driver.find_element(By.ID, "silence-error").text, what="the error")
    assert "duration" in error
    duration = driver.find_element(By.ID, "silence-duration")
    assert duration.get_attribute("aria-invalid") == "true"
    # The browser logs the refused request's 400; nothing else.
    assert all("api/silences" in m and "400" in m for m in console_errors(driver))
    duration.clear()
    duration.send_keys("2h")
    driver.find_element(By.ID, "silence-create").click()
    row = wait_for(
        lambda: driver.find_elements(By.CSS_SELECTOR, "#silences tr[data-silence]"),
        what="the silence in the list",
    )[0]
    assert "createUser-*" in row.text and "active" in row.text
    screenshot(driver, "10-silence")
    row.find_element(By.TAG_NAME, "button").click()
    wait_for(
        lambda: not driver.find_elements(By.CSS_SELECTOR, "#silences tr[data-silence]"),
        what="the silence to expire",
    )
    assert console_errors(driver) == []


def test_the_live_stream_costs_under_two_percent_of_a_core(demo: Heron, driver: Any) -> None:
    """The snapshot loop (tiles, alarms, incidents, silences) measured on the live system."""
    stats = driver.execute_async_script(
        "const done = arguments[0];"
        "Heron.api('/dashboard/api/stats').then(done, (e) => done({error: String(e)}));"
    )
    print(f"\nlive stream: {stats}")
    assert stats["snapshots"] >= 5 and stats["subscribers"] == 1
    assert stats["cpuShare"] < 0.02
