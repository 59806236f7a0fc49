"""The step-through page: one frame per trace step, the right SVG elements, escaping, no URLs."""

from __future__ import annotations

import html
import re
import shutil

import numpy as np
import pytest
from render_graphs import build_rnn_loss

import tinygraph as tg
from expect_error import expect
from tinygraph.render.graph_view import collect
from tinygraph.render.stepthrough import build_frames, inline_svg, svg_names
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


def frames_of(html_text: str) -> list[tuple[str, str, str]]:
    """(data-current, data-sent, caption text) of every frame <li>."""
    found = re.findall(r'<li class="frame" data-current="([^"]*)" data-sent="([^"]*)">(.*?)</li>',
                       html_text, flags=re.S)
    return [(html.unescape(c), html.unescape(s), body) for c, s, body in found]


@needs_graphviz
def test_one_frame_per_trace_step_and_each_names_svg_elements():
    loss, _ = two_step_rnn()
    trace = tg.trace_backward(loss)
    page = tg.stepthrough_html(loss, trace=trace)
    frames = frames_of(page)
    assert len(frames) == len(trace) > 5
    svg = page[page.index("<svg"):page.index("</svg>")]
    names = set(svg_names(svg))
    for (current, sent, _), step in zip(frames, trace):
        assert current and all(n in names for n in current.split())
        assert all(n in names for n in sent.split())
        if isinstance(step, NodeStep):
            assert current.startswith("n")
    assert [f[2].count("step ") for f in frames] == [1] * len(frames)


@needs_graphviz
def test_node_step_sends_exactly_its_gradient_edges_and_junction_sums():
    loss, h0 = two_step_rnn()
    view = collect(loss)
    trace = tg.trace_backward(loss)
    page = tg.stepthrough_html(loss, trace=trace)
    names = set(svg_names(page[page.index("<svg"):]))
    frames = build_frames(view, trace, names)
    # the tanh of step 1 sends its gradient to the add that made its argument: one edge
    tanh1 = next(i for i, s in enumerate(trace) if isinstance(s, NodeStep)
                 and s.node.op.name == "tanh" and s.node.scope == {"t": 1})
    number = view.number(trace[tanh1].node)
    add_number = view.number(trace[tanh1].node.inputs[0].producer)
    assert frames[tanh1].current == [f"n{number}"]
    assert frames[tanh1].sent == [f"n{number}->n{add_number}"]
    # h at t=0 is a junction (read by its sum and by step 1): Σ node, then the summed edge down
    j = next(i for i, s in enumerate(trace) if isinstance(s, JunctionStep) and s.tensor is h0)
    tensor_number = view.tensor_number(h0)
    assert frames[j].current == [f"j{tensor_number}"]
    assert frames[j].sent == [f"j{tensor_number}->n{view.number(h0.producer)}"]
    caption = " ".join(frames[j].caption)
    step = trace[j]
    entries = ", ".join(f"{v:.2g}" for v in step.total.reshape(-1))   # 2 entries: written out
    assert f"= [{entries}]" in caption
    assert np.allclose(sum(c.grad for c in step.contributions), step.total)


@needs_graphviz
def test_parameter_junction_highlights_every_copy():
    loss, _ = two_step_rnn()
    view = collect(loss)
    trace = tg.trace_backward(loss)
    page = tg.stepthrough_html(loss, trace=trace)
    frames = build_frames(view, trace, set(svg_names(page[page.index("<svg"):])))
    W_step = next(i for i, s in enumerate(trace) if isinstance(s, JunctionStep)
                  and s.tensor.name == "W")
    copies = frames[W_step].current
    assert len(copies) == 2 and all(c.startswith(f"p{view.tensor_number(trace[W_step].tensor)}_")
                                    for c in copies)


@needs_graphviz
def test_user_names_are_escaped_and_page_has_no_urls(tmp_path):
    loss, _ = two_step_rnn(name_h='<script>alert(1)</script>"];')
    path = tg.stepthrough(loss, tmp_path / "page", title="<b>title</b>")
    assert path.name == "page.html"
    text = path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>title</b>" not in text and "&lt;b&gt;title&lt;/b&gt;" in text
    assert text.count("<script>") == 1          # our own script only
    assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, flags=re.I)
    assert not re.search(r'\b(src|href)\s*=', text)


def test_inline_svg_drops_prolog_comments_and_namespace_urls():
    raw = ('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" '
           '"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n<!-- made -->\n'
           '<svg width="1pt" xmlns="http://www.w3.org/2000/svg" '
           'xmlns:xlink="http://www.w3.org/1999/xlink">\n<!-- n0&#45;&gt;n1 -->\n'
           '<g id="edge1" class="edge">\n<title>n0&#45;&gt;n1</title></g></svg>\n')
    svg = inline_svg(raw)
    assert svg.startswith('<svg width="1pt">') and "http" not in svg and "<!--" not in svg
    assert svg_names(svg) == ["n0->n1"]


def test_a_missing_directory_is_a_render_error(tmp_path):
    x = tg.Tensor(np.ones(2), requires_grad=True)
    loss = (x * x).sum()
    with pytest.raises(tg.RenderError, match="does not exist"):
        tg.stepthrough(loss, tmp_path / "missing" / "page.html")


@needs_graphviz
def test_a_300_step_unroll_is_refused_with_advice_that_stepthrough_accepts(monkeypatch):
    import sys
    loss, _ = build_rnn_loss(300, 2)

    def never(*args, **kwargs):
        raise AssertionError("the size is checked before the trace")
    monkeypatch.setattr(sys.modules["tinygraph.render.stepthrough"], "trace_backward", never)
    error = expect(tg.RenderError, lambda: tg.stepthrough_html(loss),
                   "stepthrough: the picture would have 7501 nodes (300 steps of about 25)",
                   "fold the middle steps with max_steps=16", "or pass max_nodes=None")
    monkeypatch.undo()
    advised = int(re.search(r"max_steps=(\d+)", str(error)).group(1))
    trace = tg.trace_backward(loss)
    page = tg.stepthrough_html(loss, trace=trace, max_steps=advised)
    frames = frames_of(page)
    assert len(frames) == len(trace)                     # every step of the pass, folded or not
    svg = page[page.index("<svg"):page.index("</svg>")]
    names = set(svg_names(svg))
    assert re.findall(r">t = (\d+)</text>", svg) == [str(t) for t in [*range(8), *range(292, 300)]]
    for current, sent, _ in frames:
        assert current and all(n in names for n in current.split() + sent.split())
    folded = [(sent, body) for current, sent, body in frames if current == "fold"]
    assert 0 < len(folded) < len(frames) and all("a folded step" in body for _, body in folded)
    # out of the box go what step t=8 sends back: ∂L/∂h_7 to the Σ of h at t=7 in both layers
    # (the losses' sum L = Σ_t L_t is one box on top: it sends into the fold, not out of it)
    view = collect(loss)
    out_of_fold = sorted(edge.split("->")[1] for sent, _ in folded for edge in sent.split())
    sigmas = [f"j{view.tensor_number(n.output)}" for n in view.nodes
              if n.op.name == "tanh" and n.scope.get("t") == 7]
    assert out_of_fold == sorted(sigmas) and len(sigmas) == 2
    # into it go ∂L/∂L_t from the sum, and ∂L/∂h_291 from the recurrence of t=292 (2 layers)
    total = f"n{view.number(loss.producer)}"
    recurrent = {f"n{view.number(n)}" for n in view.nodes if n.op.name == "matmul"
                 and n.scope.get("t") == 292 and n.inputs[0].producer is not None
                 and n.inputs[0].producer.scope.get("t") == 291}
    into_fold = {edge for _, sent, _ in frames for edge in sent.split() if edge.endswith("->fold")}
    assert into_fold == {f"{s}->fold" for s in {total, *recurrent}} and len(recurrent) == 2


def test_stepthrough_checks_its_folding_options_before_any_work(tmp_path):
    loss, _ = two_step_rnn()
    expect(tg.ConfigError, lambda: tg.stepthrough(loss, tmp_path / "p", max_steps=1),
           "stepthrough: max_steps must be an int >= 2")
    expect(tg.ConfigError, lambda: tg.stepthrough(loss, tmp_path / "p", max_nodes="9"),
           "stepthrough: max_nodes must be an int >= 1")
    expect(tg.RenderError, lambda: tg.stepthrough(loss, "."), "cannot write '.'", "directory")
    assert list(tmp_path.iterdir()) == []
