"""The step-through page (the explorer opened on the story) in headless Chromium: next,
previous and the arrow keys move the highlighted node.

Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (dev extra).
When the browser is missing and we run as root with apt-get, the packages are installed once
(``make chromium`` does the same); otherwise the test is skipped with the reason. No network
is used at test time: the page is a local file and the driver is /usr/bin/chromedriver.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import numpy as np
import pytest

import tinygraph as tg

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


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium is not installed (pip install -e '.[dev]')")
    if shutil.which("neato") is None:
        pytest.skip("Graphviz (neato) is not installed: the page needs its SVG")
    missing = ensure_chromium()
    if missing:
        pytest.skip(missing)
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_the_page_opens_on_the_first_step_and_moves_with_next_and_the_keys(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    rng = np.random.default_rng(0)
    W = tg.Tensor(rng.normal(size=(2, 2)), requires_grad=True, name="W")
    h = tg.Tensor(np.ones((1, 2)), name="h0")
    terms = []
    for t in range(3):
        with tg.scope(t=t):
            h = tg.tanh(h @ W)
            h.name = "<b>h</b>"
            terms.append(h.sum())
    loss = terms[0] + terms[1] + terms[2]
    trace = tg.trace_backward(loss)
    path = tg.stepthrough(loss, tmp_path / "steps.html", trace=trace)
    browser.get(path.as_uri())
    for _ in range(100):
        if browser.execute_script("return document.body.getAttribute('data-ready')"):
            break
        time.sleep(0.05)
    counter = browser.find_element(By.ID, "counter")
    assert counter.text == f"step 1 / {len(trace)}"
    current = "return document.querySelector('#strip .tg-current').getAttribute('data-k')"
    first = browser.execute_script(current)
    # the two adds of L = Σ_t L_t are one box: their two frames light it; the third moves on
    seen = [first]
    for k in (2, 3):
        browser.find_element(By.ID, "next").click()
        seen.append(browser.execute_script(current))
        assert counter.text == f"step {k} / {len(trace)}"
    assert seen[1] == first and seen[2] != first
    assert browser.execute_script("return document.querySelectorAll('#strip .tg-arrived').length") > 0
    browser.find_element(By.ID, "prev").click()
    browser.find_element(By.ID, "prev").click()
    assert browser.execute_script(current) == first
    viewport = browser.find_element(By.ID, "viewport")
    for _ in range(2):
        viewport.send_keys(Keys.ARROW_RIGHT)
    assert browser.execute_script(current) == seen[2]
    assert "<b>" not in browser.find_element(By.ID, "caption").get_attribute("innerHTML")
