"""The step-through page (the explorer opened on the story) in headless Chromium: next,
previous and the arrow keys move the highlighted node.

Chromium is set up by tests/chromium.py (installed when missing and we are root, else the
test is skipped with the reason).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import tinygraph as tg
from chromium import browser_or_skip

@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = browser_or_skip(tmp_path_factory)
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
