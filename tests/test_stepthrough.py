"""tg.stepthrough: the explorer page opened on the first step of the backward pass (its story:
one frame per trace step), under its old name and options."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from render_graphs import build_rnn_loss

import tinygraph as tg
from expect_error import expect
from explore_pages import page_data, svg_keys
from tinygraph.render.graph_view import collect
from tinygraph.trace import JunctionStep, NodeStep

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz (neato) is not installed")


def two_step_rnn(name_h: str = "h") -> tuple[tg.Tensor, tg.Tensor]:
    """L = Σ_t sum(tanh(x_t W + h_(t−1) U)), T = 2: h_0 is read by the loss and by step 1."""
    rng = np.random.default_rng(0)
    W = tg.Tensor(rng.normal(size=(2, 2)), requires_grad=True, name="W")
    U = tg.Tensor(rng.normal(size=(2, 2)), requires_grad=True, name="U")
    h = tg.Tensor(np.zeros((1, 2)), name="h_init")
    terms = []
    hs = []
    for t in range(2):
        with tg.scope(t=t):
            h = tg.tanh(tg.Tensor(rng.normal(size=(1, 2)), name="x") @ W + h @ U)
            h.name = name_h
            terms.append(h.sum())
        hs.append(h)
    loss = terms[0] + terms[1]
    loss.name = "L"
    return loss, hs[0]


@needs_graphviz
def test_the_page_is_the_explorer_opened_on_the_first_step(tmp_path):
    loss, _ = two_step_rnn()
    trace = tg.trace_backward(loss)
    path = tg.stepthrough(loss, tmp_path / "page", trace=trace)
    assert path == tmp_path / "page.html"
    data = page_data(path.read_text("utf-8"))
    assert data["start"] == 0 and len(data["frames"]) == len(trace) > 5
    assert page_data(tg.stepthrough_html(loss, trace=trace)) == data
    keys = svg_keys(path.read_text("utf-8"))
    for frame, step in zip(data["frames"], trace):
        assert all(k in keys or any(s.startswith(k + "_") for s in keys) for k in frame["cur"])
        if isinstance(step, NodeStep):
            assert frame["cur"][0].startswith("n")


@needs_graphviz
def test_node_step_sends_exactly_its_gradient_edges_and_junction_sums():
    loss, h0 = two_step_rnn()
    view = collect(loss)
    trace = tg.trace_backward(loss)
    frames = page_data(tg.stepthrough_html(loss, trace=trace))["frames"]
    # the tanh of step 1 sends its gradient to the add that made its argument: one edge
    tanh1 = next(i for i, s in enumerate(trace) if isinstance(s, NodeStep)
                 and s.node.op.name == "tanh" and s.node.scope == {"t": 1})
    node = trace[tanh1].node
    assert frames[tanh1]["cur"] == [f"n{view.number(node)}"]
    assert frames[tanh1]["sent"] == [f"g{view.tensor_number(node.inputs[0])}_{view.number(node)}_0"]
    # h at t=0 is a junction (read by its sum and by step 1): Σ node, then the summed edge down
    j = next(i for i, s in enumerate(trace) if isinstance(s, JunctionStep) and s.tensor is h0)
    number = view.tensor_number(h0)
    assert frames[j]["cur"] == [f"j{number}"] and frames[j]["sent"] == [f"T{number}"]
    caption = " ".join(r if isinstance(r, str) else r[0] for line in frames[j]["cap"] for r in line)
    entries = ", ".join(f"{v:.3g}".replace("-", "−") for v in trace[j].total.reshape(-1))
    assert f"= [{entries}]" in caption                               # 2 entries: written out
    assert np.allclose(sum(c.grad for c in trace[j].contributions), trace[j].total)


@needs_graphviz
def test_parameter_junction_lights_every_copy():
    loss, _ = two_step_rnn()
    view = collect(loss)
    trace = tg.trace_backward(loss)
    page = tg.stepthrough_html(loss, trace=trace)
    frames = page_data(page)["frames"]
    W_step = next(i for i, s in enumerate(trace) if isinstance(s, JunctionStep)
                  and s.tensor.name == "W")
    number = view.tensor_number(trace[W_step].tensor)
    assert frames[W_step]["cur"] == [f"p{number}"]
    assert len([k for k in svg_keys(page) if k.startswith(f"p{number}_")]) == 2


@needs_graphviz
def test_user_names_are_escaped(tmp_path):
    loss, _ = two_step_rnn(name_h='<script>alert(1)</script>"];')
    text = tg.stepthrough(loss, tmp_path / "page", title="<b>title</b>").read_text("utf-8")
    assert "<script>alert(1)" not in text and "<b>title</b>" not in text
    assert "&lt;b&gt;title&lt;/b&gt;" in text
    assert text.count("<script>") == 1          # our own script only


def test_a_missing_directory_is_a_render_error(tmp_path):
    x = tg.Tensor(np.ones(2), requires_grad=True)
    loss = (x * x).sum()
    with pytest.raises(tg.RenderError, match="does not exist"):
        tg.stepthrough(loss, tmp_path / "missing" / "page.html")


@needs_graphviz
def test_a_long_unroll_is_folded_not_refused():
    loss, _ = build_rnn_loss(120, 2)
    trace = tg.trace_backward(loss)
    data = page_data(tg.stepthrough_html(loss, trace=trace, max_steps=16))
    assert len(data["frames"]) == len(trace)                 # every step of the pass
    assert [(s["a"], s["b"]) for s in data["tree"]] == [(0, 8), (8, 112), (112, 120)]
    assert max(b - a for a, b in ((s["a"], s["b"]) for s in data["tree"] if "w" in s)) == 8


def test_stepthrough_checks_its_options_before_any_work(tmp_path):
    loss, _ = two_step_rnn()
    expect(tg.ConfigError, lambda: tg.stepthrough(loss, tmp_path / "p", max_steps=1),
           "stepthrough: max_steps must be an int >= 2")
    expect(tg.ConfigError, lambda: tg.stepthrough(loss, tmp_path / "p", max_nodes="9"),
           "stepthrough: max_nodes must be an int >= 1")
    expect(tg.RenderError, lambda: tg.stepthrough(loss, "."), "cannot write '.'", "directory")
    assert list(tmp_path.iterdir()) == []
