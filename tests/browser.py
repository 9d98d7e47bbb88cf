"""Headless Chromium for page tests: Debian's chromium + chromium-driver driven by Selenium.

Nothing is downloaded: Selenium is pointed at /usr/bin/chromedriver and the system browser,
so Selenium Manager never runs. Where Chromium is missing the tests skip with one sentence,
unless PILOT_REQUIRE_BROWSER=1 (set by .ci/run), where they fail instead.

Use it from a test folder's conftest.py: `from tests.browser import browser  # noqa: F401`.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import numpy as np
import pytest
from PIL import Image

INSTALL_HINT = "Chromium is not installed: apt-get install chromium chromium-driver"
WINDOW_SIZE_PX = (1280, 1000)
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--hide-scrollbars", "--force-device-scale-factor=1",
    f"--window-size={WINDOW_SIZE_PX[0]},{WINDOW_SIZE_PX[1]}",
)
PAGE_TIMEOUT_S = 30

if TYPE_CHECKING:
    from selenium.webdriver import Chrome


def chromium_paths() -> tuple[str, str] | None:
    """(browser, driver) executables, or None when either is missing."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def missing_browser() -> None:
    """Skip (or, where CI requires the browser, fail) with one sentence."""
    if os.environ.get("PILOT_REQUIRE_BROWSER") == "1":
        pytest.fail(INSTALL_HINT + " (PILOT_REQUIRE_BROWSER=1 makes this a failure).", pytrace=False)
    pytest.skip(INSTALL_HINT)


def start_chromium(profile_dir: Path) -> Chrome | None:
    """A headless Chromium with its own profile folder, or None when it (or Selenium) is not installed."""
    paths = chromium_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        return None
    if paths is None:
        return None
    browser_path, driver_path = paths
    options = webdriver.ChromeOptions()
    options.binary_location = browser_path        # given a driver path, Selenium skips Selenium Manager
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile_dir}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT_S)
    return driver


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chrome]:
    """A fresh headless Chromium (own profile folder under tmp_path), quit after the test."""
    driver = start_chromium(tmp_path / "chromium-profile")
    if driver is None:
        missing_browser()
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Chrome, path: Path) -> np.ndarray:
    """Save the visible page as a PNG at `path`; returns its RGB pixels."""
    if not driver.save_screenshot(str(path)):
        raise AssertionError(f"Chromium did not write a screenshot to {path}")
    return np.asarray(Image.open(path).convert("RGB"))


def wait_for(driver: Chrome, script: str, timeout_s: float = PAGE_TIMEOUT_S) -> object:
    """Wait until a JavaScript expression is truthy in the page; returns its value."""
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout_s, poll_frequency=0.05).until(
        lambda current: current.execute_script(f"return {script};"),
        message=f"the page never made `{script}` true")
