"""tg.explore's page without a browser: self-contained, its policy, its data, hostile names."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil

import numpy as np
import pytest

import tinygraph as tg
from expect_error import expect
from explore_pages import blobs, page_data, svg_keys, two_layer_loss, window_svgs
from test_render_names import HOSTILE, named_rnn
from tinygraph.render.graph_view import collect
from tinygraph.render.safe_text import shorten

pytestmark = pytest.mark.skipif(shutil.which("neato") is None,
                                reason="Graphviz's neato is not installed")


@pytest.fixture(scope="module")
def explored():
    loss = two_layer_loss(32)
    trace = tg.trace_backward(loss)
    return loss, trace, tg.explore(loss, trace=trace)


def test_the_page_fetches_nothing_and_its_policy_allows_only_its_own_script_and_style(explored):
    page = explored[2].html
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', page).group(1)
    assert policy.startswith("default-src 'none';") and "img-src data:" in policy
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    assert f"script-src {digest(scripts[0])};" in policy and f"style-src {digest(styles[0])};" in policy
    address = re.compile(r"https?://|src=|href=|@import|url\(")
    assert address.findall(page) == ["http://"]           # the SVG namespace of createElementNS
    assert "var SVGNS = 'http://www.w3.org/2000/svg';" in page
    assert not any(address.search(svg) for svg in window_svgs(page))


def test_the_data_has_every_tensor_node_and_frame_and_the_windows_draw_every_step(explored):
    _, trace, page = explored
    data = page_data(page.html)
    assert len(data["frames"]) == len(trace) == page.frames
    assert data["times"] == [str(t) for t in range(32)]
    assert [(s["a"], s["b"]) for s in data["tree"]] == [(0, 4), (4, 28), (28, 32)]
    assert len(window_svgs(page.html)) == len(data["sizes"]) == 5
    keys = svg_keys(page.html)
    for frame in data["frames"]:
        for key in frame["cur"] + frame["sent"]:
            assert key in keys or any(k.startswith(key + "_") for k in keys), key
    assert {f"cluster_t{t}" for t in range(32)} <= keys


def test_the_numbers_are_the_trace_s(explored):
    loss, trace, page = explored
    data = page_data(page.html)
    view = collect(loss)
    for step in trace.junctions():
        record = data["tensors"][view.tensor_number(step.tensor)]
        np.testing.assert_allclose(record["grad"]["v"], step.total.reshape(-1), rtol=1e-3, atol=1e-9)
        parts = {key: np.array(p["v"]) for key, p in record["parts"].items()}
        for c in step.contributions:
            index = next(i for i, t in enumerate(c.source.inputs) if t is step.tensor)
            np.testing.assert_allclose(parts[f"{view.number(c.source)}_{index}"],
                                       c.grad.reshape(-1), rtol=1e-3, atol=1e-9)


def test_a_t32_two_layer_page_is_under_two_megabytes(explored):
    assert len(explored[2].html.encode()) < 2_000_000


def test_the_page_is_written_to_a_file_with_html_added(tmp_path, explored):
    loss, trace, _ = explored
    page = tg.explore(loss, tmp_path / "bptt", trace=trace)
    assert page.path == tmp_path / "bptt.html" and page.path.read_text() == page.html
    assert repr(page).startswith(f"Explorer({page.frames} frames, ")


def test_in_a_notebook_the_page_is_a_sandboxed_frame_holding_the_same_page(explored):
    page = explored[2]
    frame = page._repr_html_()
    found = re.fullmatch(r'<iframe class="tinygraph-explore" sandbox="allow-scripts" [^<>]*'
                         r'srcdoc="([^"<>]*)"></iframe>', frame)
    assert found is not None
    assert html.unescape(found.group(1)) == page.html


def test_bad_arguments_are_refused_before_any_work(tmp_path):
    loss = two_layer_loss(2)
    expect(tg.DTypeError, lambda: tg.explore(np.ones(3)), "explore: the loss must be a tg.Tensor")
    expect(tg.ConfigError, lambda: tg.explore(loss, timeout=0), "explore: timeout must be")
    expect(tg.ConfigError, lambda: tg.explore(loss, title=3), "explore: title must be a str")
    expect(tg.RenderError, lambda: tg.explore(loss, tmp_path / "missing" / "p.html"),
           "cannot write", "missing")
    expect(tg.RenderError, lambda: tg.explore(loss, max_nodes=10),
           "explore: the picture of steps 0..1 would have", "over max_nodes=10")


def test_a_graph_without_steps_is_one_window():
    w = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W")
    loss = tg.tanh(tg.Tensor(np.ones((1, 2)), name="x") @ w).sum()
    data = page_data(tg.explore(loss).html)
    assert data["tree"] == [{"a": 0, "b": 0, "w": 0}] and data["times"] == []
    assert data["flow"]["rows"] == []


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_name_changes_nothing_but_the_names(case):
    hostile = tg.explore(named_rnn(HOSTILE[case]), title=HOSTILE[case]).html
    plain = tg.explore(named_rnn("h"), title="h").html
    outside = re.sub(r'(<script type="application/octet-stream" id="[\w-]+">)[^<]*', r"\1", hostile)
    assert outside.count("<script") == plain.count("<script")
    assert "<script>alert" not in outside and "\x00" not in outside
    assert svg_keys(hostile) == svg_keys(plain)
    data, base = page_data(hostile), page_data(plain)
    assert len(data["tensors"]) == len(base["tensors"]) and len(data["frames"]) == len(base["frames"])
    svg = "".join(window_svgs(hostile))
    assert "<script" not in svg and "\x00" not in svg
    names = {"".join(r if isinstance(r, str) else r[0] for r in t["name"]) for t in data["tensors"]}
    assert shorten(HOSTILE[case]) in names                 # shown as written, made safe


def test_blobs_hold_only_base64(explored):
    page = explored[2].html
    raw = re.findall(r'<script type="application/octet-stream" id="[\w-]+">(.*?)</script>', page, re.S)
    assert raw and all(re.fullmatch(r"[A-Za-z0-9+/=]*", text) for text in raw)
    assert set(blobs(page)) == {"tg-data", *(f"tg-window-{k}" for k in range(len(raw) - 1))}


def test_max_steps_sets_the_first_picture_and_frame_the_first_step():
    loss = two_layer_loss(20, hidden=2, batch=1)
    every = page_data(tg.explore(loss, max_steps=None).html)
    assert [(s["a"], s["b"], "w" in s) for s in every["tree"]] == [(0, 8, True), (8, 16, True),
                                                                   (16, 20, True)]
    wide = page_data(tg.explore(loss, max_steps=16, frame=3).html)
    assert [(s["a"], s["b"]) for s in wide["tree"]] == [(0, 20)] and wide["start"] == 3
    expect(tg.ConfigError, lambda: tg.explore(loss, frame=-1), "explore: frame must be an int >= 0")
    expect(tg.ConfigError, lambda: tg.explore(loss, max_steps=1), "explore: max_steps must be an int >= 2")
