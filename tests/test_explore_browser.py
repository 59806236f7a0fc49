"""tg.explore's page in headless Chromium: hover, click, play, fold, keys, the URL hash, and
that nothing leaves the page. A screenshot of each feature is saved in the test's tmp dir.

Chromium is set up by tests/chromium.py (Debian's chromium and chromium-driver, selenium
from the dev extra; skipped when they are missing). Every mouse action is a real pointer
event at a point of the picture, not a script calling a handler.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import numpy as np
import pytest

import tinygraph as tg
from chromium import browser_or_skip, open_explorer
from explore_pages import page_data, two_layer_loss
from test_render_names import HOSTILE, named_rnn
from tinygraph.render.graph_view import collect
from tinygraph.render.safe_text import shorten


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    driver = browser_or_skip(tmp_path_factory, window="1400,900", logs=True)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def explored(tmp_path_factory):
    if shutil.which("neato") is None:
        pytest.skip("Graphviz (neato) is not installed")
    loss = two_layer_loss(32)
    trace = tg.trace_backward(loss)
    page = tg.explore(loss, tmp_path_factory.mktemp("explore") / "bptt.html", trace=trace)
    return loss, trace, page


def load(driver, page, hash_part: str = "") -> None:
    assert open_explorer(driver, page.path, hash_part)


def point_of(driver, key: str) -> tuple[float, float]:
    """A point (viewport pixels) on the first element with ``key``: the middle of an edge's
    path, the centre of a node."""
    return tuple(driver.execute_script("""
        var g = document.querySelector('#strip [data-k="' + arguments[0] + '"]');
        var path = g.classList.contains('edge') ? g.querySelector('path') : null;
        if (!path) {
            var r = g.getBoundingClientRect();
            return [(r.left + r.right) / 2, (r.top + r.bottom) / 2];
        }
        var p = path.getPointAtLength(path.getTotalLength() / 2);
        var m = path.getScreenCTM();
        return [p.x * m.a + p.y * m.c + m.e, p.x * m.b + p.y * m.d + m.f];
    """, key))


def pointer(driver, x: float, y: float, click: bool = False) -> None:
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    actions = ActionBuilder(driver)
    actions.pointer_action.move_to_location(round(x), round(y))
    if click:
        actions.pointer_action.click()
    actions.perform()


def bring_into_view(driver, key: str) -> None:
    """Zoom to 1 and pan so the element is in the middle of the picture."""
    driver.execute_script("""
        tinygraphExplorer.zoomTo(1);
        tinygraphExplorer.reveal(document.querySelector('#strip [data-k="' + arguments[0] + '"]'));
    """, key)


def numbers_in(text: str) -> list[float]:
    return [float(v.replace("−", "-")) for v in re.findall(r"−?\d+(?:\.\d+)?(?:e[−+-]?\d+)?", text)]


def requests(driver) -> list[str]:
    """The URLs the page asked for that were not blocked by its policy (DevTools events)."""
    sent, blocked = {}, set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        params = message["params"]
        if message["method"] == "Network.requestWillBeSent":
            sent[params["requestId"]] = params["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and params.get("blockedReason"):
            blocked.add(params["requestId"])
    return [url for key, url in sent.items() if key not in blocked]


def test_it_loads_fast_and_nothing_leaves_the_page(browser, explored, tmp_path):
    browser.get_log("performance")
    start = time.perf_counter()
    load(browser, explored[2])
    ready = time.perf_counter() - start
    browser.save_screenshot(str(tmp_path / "loaded.png"))
    urls = requests(browser)
    assert urls and all(u.startswith("file://") for u in urls), urls
    assert {u.split("#")[0] for u in urls} == {explored[2].path.as_uri()}
    assert not [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    # the policy holds: a script that tries the network is refused, and no request is made
    browser.execute_script("try { fetch('http://example.invalid/x'); } catch (e) {}"
                           "var i = new Image(); i.src = 'http://example.invalid/y.png';"
                           "document.body.appendChild(i);")
    time.sleep(0.3)
    assert not [u for u in requests(browser) if "example.invalid" in u]
    assert [e for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert ready < 20       # the benchmark measures it (benchmarks/render.py); here: it loads


def test_hovering_an_edge_shows_its_tensor_and_gradient(browser, explored, tmp_path):
    loss, trace, page = explored
    load(browser, page)
    view = collect(loss)
    h = next(t for t in view.tensors if t.name == "h" and t.producer.scope == {"t": 30, "layer": 1})
    key = f"T{view.tensor_number(h)}"          # the Σ's sum going down to tanh
    bring_into_view(browser, key)
    pointer(browser, *point_of(browser, key))
    details = browser.find_element("id", "details").text
    browser.save_screenshot(str(tmp_path / "hover_edge.png"))
    assert details.startswith("h30(1)") and "t = 30 · layer 1 · shape 2×4" in details
    assert "value (forward)" in details and "gradient ∂L/∂h30(1)" in details
    grad = trace.junction_of(h).total
    shown = numbers_in(details.split("gradient ∂L/∂h30(1)")[1].split("shape")[0])
    np.testing.assert_allclose(shown, grad.reshape(-1), rtol=2e-3, atol=1e-6)
    value = numbers_in(details.split("value (forward)")[1].split("shape")[0])
    np.testing.assert_allclose(value, h.data.reshape(-1), rtol=2e-3, atol=1e-6)
    assert browser.execute_script("return document.querySelectorAll('#details svg.grid rect').length") >= 8


def test_clicking_a_sigma_lists_contributions_that_add_up_to_the_shown_sum(browser, explored, tmp_path):
    loss, trace, page = explored
    load(browser, page)
    view = collect(loss)
    h = next(t for t in view.tensors if t.name == "h" and t.producer.scope == {"t": 29, "layer": 0})
    key = f"j{view.tensor_number(h)}"
    bring_into_view(browser, key)
    pointer(browser, *point_of(browser, key), click=True)
    browser.save_screenshot(str(tmp_path / "sigma.png"))
    rows = browser.execute_script(
        "return Array.from(document.querySelectorAll('#details table.sigma tr.part')).map("
        "function (tr) { return Array.from(tr.cells).map(function (c) { return c.textContent; }); });")
    total = browser.execute_script(
        "return document.querySelector('#details table.sigma tr.total td.v').textContent")
    assert len(rows) == 2
    assert {r[2] for r in rows} == {"local", "from t+1"} and {r[1] for r in rows} == {"t = 29", "t = 30"}
    parts = np.array([numbers_in(r[3]) for r in rows])
    np.testing.assert_allclose(parts.sum(axis=0), numbers_in(total), rtol=1e-3, atol=2e-4)
    np.testing.assert_allclose(numbers_in(total), trace.junction_of(h).total.reshape(-1), rtol=1e-3)


def test_clicking_an_op_shows_its_local_derivative_and_what_it_sent(browser, explored, tmp_path):
    loss, _, page = explored
    load(browser, page)
    view = collect(loss)
    tanh = next(n for n in view.nodes if n.op.name == "tanh" and n.scope == {"t": 31, "layer": 1})
    key = f"n{view.number(tanh)}"
    bring_into_view(browser, key)
    pointer(browser, *point_of(browser, key), click=True)
    browser.save_screenshot(str(tmp_path / "op.png"))
    details = browser.find_element("id", "details").text
    assert details.startswith("tanh at t = 31, layer 1")
    assert "∂L/∂a = ∂L/∂h ⊙ (1 − h²)" in details and "In words: it multiplies" in details
    assert "received ∂L/∂h31(1)" in details and "sent ∂L/∂a31(1)" in details


def test_play_moves_two_frames_and_the_hash_follows(browser, explored, tmp_path):
    page = explored[2]
    load(browser, page)
    counter = browser.find_element("id", "counter")
    assert counter.text == f"– / {page.frames}"            # the whole pass drawn, no step yet
    assert browser.execute_script("return document.querySelectorAll('#strip.story').length") == 0
    first = browser.find_element("id", "caption").text
    browser.execute_script("document.getElementById('speed').value = '3';")
    browser.find_element("id", "play").click()
    for _ in range(100):
        if counter.text.startswith("step 3 /"):
            break
        time.sleep(0.02)
    browser.find_element("id", "play").click()          # pause
    stopped = counter.text
    time.sleep(0.3)
    assert counter.text == stopped and int(stopped.split()[1]) >= 3
    frame = int(stopped.split()[1])
    assert browser.execute_script("return location.hash") == f"#frame={frame}"
    assert browser.find_element("id", "caption").text != first
    assert browser.execute_script("return document.querySelectorAll('#strip .tg-current').length") >= 1
    browser.save_screenshot(str(tmp_path / "play.png"))


def test_keys_step_only_when_the_picture_has_the_focus(browser, explored):
    from selenium.webdriver.common.keys import Keys
    page = explored[2]
    load(browser, page, "#frame=5")
    counter = browser.find_element("id", "counter")
    assert counter.text == f"step 5 / {page.frames}"     # the hash chooses the frame
    viewport = browser.find_element("id", "viewport")
    viewport.click()
    viewport.send_keys(Keys.ARROW_RIGHT)
    assert counter.text == f"step 6 / {page.frames}"
    viewport.send_keys(Keys.END)
    assert counter.text == f"step {page.frames} / {page.frames}"
    viewport.send_keys(Keys.HOME)
    assert counter.text == f"step 1 / {page.frames}"
    details = browser.find_element("id", "details")
    details.send_keys(Keys.ARROW_DOWN)                     # the panel scrolls; no step
    assert counter.text == f"step 1 / {page.frames}"
    assert browser.execute_script("return location.hash") == "#frame=1"


def test_a_fold_opens_on_click_and_folds_back(browser, tmp_path):
    loss = two_layer_loss(100, hidden=2, batch=1)
    page = tg.explore(loss, tmp_path / "long.html")
    load(browser, page)
    windows = "return document.querySelectorAll('#strip svg').length"
    folds = "return document.querySelectorAll('#strip .foldbox').length"
    assert browser.execute_script(windows) == 2 and browser.execute_script(folds) == 1
    width = browser.execute_script("return document.getElementById('strip').offsetWidth")
    box = browser.find_element("css selector", ".foldbox")
    assert box.text.splitlines()[:2] == ["t = 4 … 95", "92 steps folded"]
    box.click()
    assert browser.execute_script(folds) == 8 and browser.execute_script(windows) == 2
    browser.find_element("css selector", '.foldbox[data-a="4"]').click()
    for _ in range(100):
        if browser.execute_script(windows) == 4:
            break
        time.sleep(0.02)
    assert browser.execute_script(windows) == 4 and browser.execute_script(folds) == 7
    browser.find_element("id", "fit").click()
    browser.save_screenshot(str(tmp_path / "fold_open.png"))
    opened = browser.execute_script("return document.getElementById('strip').offsetWidth")
    assert width < opened < 8000
    browser.find_element("css selector", '.fold-back[data-a="4"][data-b="96"]').click()
    assert browser.execute_script(windows) == 2 and browser.execute_script(folds) == 1
    browser.save_screenshot(str(tmp_path / "fold_closed.png"))


def test_a_flow_cell_selects_its_state_in_the_picture(browser, explored, tmp_path):
    page = explored[2]
    load(browser, page)
    data = page_data(page.html)
    cell = browser.find_elements("css selector", "#flow rect.cell")
    assert len(cell) == 2 * 32
    target = browser.find_element("css selector", f'#flow rect.cell[x="{cell[10].get_attribute("x")}"]')
    number = int(target.get_attribute("data-tensor"))
    target.click()
    for _ in range(100):
        if browser.execute_script("return document.querySelectorAll('#strip .tg-picked').length"):
            break
        time.sleep(0.02)
    browser.save_screenshot(str(tmp_path / "flow_pick.png"))
    tensor = data["tensors"][number]
    assert browser.find_element("id", "details").text.startswith("h" + data["times"][tensor["t"]])
    picked = browser.execute_script(
        "return document.querySelector('#strip .tg-picked').getAttribute('data-k')")
    assert picked == f"T{number}"


@pytest.mark.parametrize("case", ["script", "dot syntax", "quoted edge", "nul"])
def test_hostile_names_are_shown_as_text(browser, tmp_path, case):
    page = tg.explore(named_rnn(HOSTILE[case]), tmp_path / "hostile.html", title=HOSTILE[case])
    load(browser, page)
    assert browser.execute_script("return document.querySelectorAll('script').length") == \
        page.html.count("<script")
    assert browser.execute_script("return document.querySelectorAll('#strip b, #strip script').length") == 0
    node = browser.execute_script("return document.querySelector('#strip g.node[data-k^=\"n\"]')"
                                  ".getAttribute('data-k')")
    browser.execute_script("tinygraphExplorer.reveal(document.querySelector("
                           "'#strip [data-k=\"' + arguments[0] + '\"]'))", node)
    pointer(browser, *point_of(browser, node), click=True)
    assert browser.find_element("id", "title").text == shorten(HOSTILE[case])
    assert browser.find_element("id", "details").text


def test_the_notebook_frame_runs_the_page_in_its_sandbox(browser, explored, tmp_path):
    wrapper = tmp_path / "notebook.html"
    wrapper.write_text("<!DOCTYPE html><html><body><h1>a notebook</h1>" + explored[2]._repr_html_()
                       + "</body></html>", encoding="utf-8")
    browser.get(wrapper.as_uri())
    browser.switch_to.frame(browser.find_element("css selector", "iframe.tinygraph-explore"))
    try:
        for _ in range(200):
            if browser.execute_script("return document.body.getAttribute('data-ready')"):
                break
            time.sleep(0.05)
        assert browser.execute_script("return document.body.getAttribute('data-ready')") == "1"
        browser.find_element("id", "next").click()
        assert browser.find_element("id", "counter").text == f"step 1 / {explored[2].frames}"
        assert browser.execute_script("return window.origin") == "null"     # sandboxed
    finally:
        browser.switch_to.default_content()
    browser.save_screenshot(str(tmp_path / "notebook_frame.png"))


def test_the_training_film_slider_runs_over_updates(browser, tmp_path):
    from selenium.webdriver.common.keys import Keys
    from test_explore_film import run
    run(explore_every=1, explore_path=tmp_path / "film.html", updates=4, clip_norm=0.5)
    page = tg.Explorer((tmp_path / "film.html").read_text(), tmp_path / "film.html", 0)
    load(browser, page)
    counter = browser.find_element("id", "update-counter")
    info = browser.find_element("id", "film-info")
    assert counter.text == "recorded 1 of 4" and info.text.startswith("update 0 · loss ")
    assert "clip 0.5" in info.text
    assert browser.execute_script("return document.getElementById('strip').classList.contains('shaded')")
    shade = ("return Array.from(document.querySelectorAll('#strip g.edge.gradient')).map("
             "function (g) { return g.style.getPropertyValue('--shade'); })")
    before = browser.execute_script(shade)
    assert all(before) and len(set(before)) > 3      # every arrow shaded, by several norms
    slider = browser.find_element("id", "update")
    slider.send_keys(Keys.END)
    assert counter.text == "recorded 4 of 4" and info.text.startswith("update 3 · ")
    assert browser.execute_script("return location.hash") == "#update=4"
    after = browser.execute_script(shade)
    assert all(after) and after != before              # the norms of another update
    browser.save_screenshot(str(tmp_path / "film.png"))
