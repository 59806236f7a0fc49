"""to_dot's options: checked before any work, each a type and a range, none silently ignored."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from render_graphs import build_rnn_loss

import tinygraph as tg
from expect_error import expect
from tinygraph.render import drawing as draw_module
from tinygraph.render.graph_view import collect
from tinygraph.render.layout import compute_layout, drawn_count
from tinygraph.render.steps import plan_steps

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz's neato is not installed")


@pytest.fixture(scope="module")
def rnn3():
    return build_rnn_loss(3, 2)[0]


def untimed_reader_of_folded_steps() -> tg.Tensor:
    """Steps t = 0..5, and an untimed node reading only step 3: it is drawn inside the fold."""
    W = tg.Tensor(np.full((2, 2), 0.5), requires_grad=True, name="W")
    h = tg.Tensor(np.ones((1, 2)), name="h0")
    hs = []
    for t in range(6):
        with tg.scope(t=t):
            h = tg.tanh(h @ W)
        hs.append(h)
    return hs[-1].sum() + (hs[3] * 2.0).sum()


@pytest.mark.parametrize("make, max_steps", [
    (lambda: build_rnn_loss(4, 2)[0], None), (lambda: build_rnn_loss(24, 2)[0], 4),
    (lambda: build_rnn_loss(9, 1, loss_at="last")[0], 5), (untimed_reader_of_folded_steps, 2),
    (lambda: (tg.tanh(tg.Tensor(np.ones(3), True, "x")) * 3.0).sum(), None),
])
def test_the_count_before_layout_is_what_the_layout_places(make, max_steps):
    view = collect(make())
    steps = plan_steps(view, max_steps)
    lay = compute_layout(view, steps)
    assert drawn_count(view, steps) == len(lay.node_pos) + len(lay.leaf_pos) + len(lay.junction_pos)
    assert steps.shown == sum(1 for c in lay.columns if c.clustered)


@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_an_oversized_graph_is_refused_before_layout_and_trace(view, monkeypatch):
    loss, _ = build_rnn_loss(40, 2)

    def never(*args, **kwargs):
        raise AssertionError("the size is checked before any layout or trace")
    monkeypatch.setattr(draw_module, "compute_layout", never)
    monkeypatch.setattr(draw_module, "trace_backward", never)
    expect(tg.RenderError, lambda: tg.to_dot(loss, view, max_nodes=300),
           "would have 1001 nodes (40 steps of about 25), over max_nodes=300",
           "max_steps=11")


def test_fold_advice_is_given_only_when_folding_fits():
    loss, _ = build_rnn_loss(10, 2)
    error = expect(tg.RenderError, lambda: tg.to_dot(loss, max_nodes=40), "even the two steps",
                   "max_nodes=None")
    assert "fold the middle steps" not in str(error)


@pytest.mark.parametrize("value", ["3", 2.5, True, 1, -4, np.float64(3.0)])
def test_max_steps_must_be_an_int_of_at_least_two(rnn3, value):
    expect(tg.ConfigError, lambda: tg.to_dot(rnn3, max_steps=value),
           "to_dot: max_steps must be an int >= 2 (the first and last step) or None",
           f"got {value!r}")


@pytest.mark.parametrize("option, value", [("max_nodes", "6000"), ("max_nodes", 0),
                                           ("max_nodes", 10.5), ("show_shapes", "no"),
                                           ("legend", None), ("show_values", 1), ("title", 3)])
def test_every_option_is_checked(rnn3, option, value):
    expect(tg.ConfigError, lambda: tg.to_dot(rnn3, **{option: value}), f"to_dot: {option} must be")


def test_integer_options_may_be_numpy_integers(rnn3):
    assert "fold" in tg.to_dot(build_rnn_loss(8, 1)[0], max_steps=np.int64(4))
    assert tg.to_dot(rnn3, max_nodes=np.int32(6000)) == tg.to_dot(rnn3)


@pytest.mark.parametrize("view, option, value", [
    ("forward", "show_grads", True), ("forward", "show_grad_norms", True),
    ("backward", "show_values", True), ("backward", "t", 1), ("both", "t", 0),
    ("rolled", "show_grads", True), ("rolled", "color_by", "grad_norm"), ("rolled", "max_steps", 2),
])
def test_an_option_that_changes_nothing_in_the_view_is_refused(rnn3, view, option, value):
    expect(tg.ConfigError, lambda: tg.to_dot(rnn3, view, **{option: value}),
           f"to_dot: {option}={value!r} changes nothing in the {view!r} view", "it applies to")


def test_default_values_may_be_passed_to_any_view(rnn3):
    for view in ("forward", "backward", "both", "rolled"):
        assert tg.to_dot(rnn3, view, show_grads=False, max_steps=None, color_by=None,
                         show_shapes=False, show_values=False, t=None, width=None,
                         legend=True) == tg.to_dot(rnn3, view)


@pytest.mark.parametrize("view", ["forward", "backward", "both", "rolled"])
def test_title_is_the_graph_label_at_the_top(rnn3, view):
    text = tg.to_dot(rnn3, view, title='BPTT, T = 3 "two layers"')
    first = text.splitlines()[1]
    assert first.startswith('  graph [label="BPTT, T = 3 \\"two layers\\"", labelloc=t, labeljust=l')
    assert text.splitlines()[2:] == tg.to_dot(rnn3, view).splitlines()[2:]


@needs_graphviz
def test_title_is_drawn(rnn3, tmp_path):
    svg = tg.render(rnn3, tmp_path / "t.svg", title="Backprop <through> time").read_text()
    assert ">Backprop &lt;through&gt; time</text>" in svg
