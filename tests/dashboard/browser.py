"""Headless Chromium (Debian's ``chromium`` + ``chromedriver``) driven by Selenium, fully offline."""

from __future__ import annotations

import configparser
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from e2e.conftest import Heron, start_heron, stop_heron

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "dashboard"
FLAGS = (
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
#: ``heron up --demo`` at 60x time (a five-minute alarm period closes every 5 real seconds) with
#: the demo's staged incidents off, so the only handler errors are the ones a test injects.
DEMO_CONFIG = """
time_scale = 60
demo_incident_interval_s = 0
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Heron]:
    """A ``heron up --demo`` (``DEMO_CONFIG``) for one test module."""
    root = tmp_path_factory.mktemp("demo")
    heron = start_heron(root, config=DEMO_CONFIG, extra_args=("--demo",))
    yield heron
    stop_heron(heron)


@pytest.fixture(scope="module")
def driver(demo: Heron) -> Iterator[Any]:
    """A headless Chromium for one test module, started once its ``demo`` Heron is up."""
    browser = start_browser()
    yield browser
    browser.quit()


def start_browser() -> Any:
    """A fresh headless Chromium session, or skip when the browser is not installed."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip("chromium and chromium-driver are not installed (make install adds them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='heron-chromium-')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    # An explicit driver path keeps Selenium Manager from trying to download one.
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def wait_for(check: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def console_errors(driver: Any) -> list[str]:
    """Severe entries of the browser console since the last call."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def screenshot(driver: Any, name: str, full_page: bool = False) -> Path:
    """Save a screenshot under test-artifacts/dashboard/ (the whole page when ``full_page``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    if full_page:
        size = driver.get_window_size()
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(size["width"], max(size["height"], int(height)))
        time.sleep(0.3)
        driver.save_screenshot(str(path))
        driver.set_window_size(size["width"], size["height"])
    else:
        driver.save_screenshot(str(path))
    return path


def credentials(data_dir: Path) -> tuple[str, str]:
    """The access key and secret ``heron up`` wrote to ``data_dir``: the dashboard's sign-in."""
    parser = configparser.ConfigParser()
    parser.read(data_dir / "credentials")
    return parser["heron"]["aws_access_key_id"], parser["heron"]["aws_secret_access_key"]


def fill_sign_in(driver: Any, data_dir: Path) -> None:
    """Type ``data_dir``'s credentials into the open sign-in form (the caller submits it)."""
    from selenium.webdriver.common.by import By

    key, secret = credentials(data_dir)
    driver.find_element(By.ID, "username").send_keys(key)
    driver.find_element(By.ID, "password").send_keys(secret)
