"""Headless Chromium for the browser tests, the explorer's benchmark and its screenshots.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (dev extra).
When the browser is missing and we run as root with apt-get, :func:`ensure_chromium` installs
the packages once (``make chromium`` does the same). No network is used: the pages are local
files and the driver is /usr/bin/chromedriver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
DRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-extensions")


def ensure_chromium() -> str | None:
    """None when Chromium and its driver are available (installing them if root), else why not."""
    if os.path.exists(CHROMIUM) and os.path.exists(DRIVER):
        return None
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return ("Chromium is not installed: run 'sudo apt-get install chromium chromium-driver' "
                "(or 'make chromium' as root) to run the browser test")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    command = ["apt-get", "install", "-y", "-q", "chromium", "chromium-driver"]
    done = subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=600,
                       check=False)
        done = subprocess.run(command, env=env, capture_output=True, timeout=900, check=False)
    if done.returncode != 0 or not os.path.exists(DRIVER):
        return "installing chromium with apt-get failed: " + done.stderr.decode()[-300:]
    return None


def headless_chromium(*, window: str | None = None, flags: tuple[str, ...] = (),
                      profile: Path | None = None, logs: bool = False) -> Any:
    """A selenium driver of headless Chromium with :data:`FLAGS` and ``flags``; ``window`` is
    its size ("1400,900"), ``profile`` its user-data dir, ``logs`` keeps the browser's console
    and DevTools (performance) events. Raises ImportError without selenium."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, *flags, *([f"--window-size={window}"] if window else [])):
        options.add_argument(flag)
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(20)
    return driver


def browser_or_skip(tmp_path_factory: Any, **options: Any) -> Any:
    """:func:`headless_chromium` for a test module, or the test skipped saying what is missing
    (selenium, Graphviz's neato for the pages' SVG, Chromium)."""
    import pytest

    pytest.importorskip("selenium.webdriver",
                        reason="selenium is not installed (pip install -e '.[dev]')")
    if shutil.which("neato") is None:
        pytest.skip("Graphviz (neato) is not installed: the page needs its SVG")
    missing = ensure_chromium()
    if missing:
        pytest.skip(missing)
    return headless_chromium(profile=tmp_path_factory.mktemp("chromium-profile"), **options)


def open_explorer(driver: Any, path: Path, hash_part: str = "", limit: float = 10.0) -> bool:
    """Open an explorer page and wait until it says it is interactive (``body[data-ready]``);
    whether it did within ``limit`` seconds."""
    driver.get(path.as_uri() + hash_part)
    end = time.perf_counter() + limit
    while time.perf_counter() < end:
        if driver.execute_script("return document.body.getAttribute('data-ready')") == "1":
            return True
        time.sleep(0.05)
    return False
