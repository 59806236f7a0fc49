"""The explorer's parts without a browser: folds, derivatives, captions, numbers, flow, windows."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import tinygraph as tg
from explore_pages import two_layer_loss
from tinygraph.render.explore.captions import frames, values_text
from tinygraph.render.explore.derivatives import derivative_of, docstring_math
from tinygraph.render.explore.flow import gradient_flow
from tinygraph.render.explore.folds import WINDOW, fold_tree, windows
from tinygraph.render.explore.graph import explored_graph
from tinygraph.render.explore.numbers import encode
from tinygraph.render.explore.pictures import window_dot
from tinygraph.render.steps import plan_range

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz's neato is not installed")


def caption_text(line: list) -> str:
    return "".join(r if isinstance(r, str) else ("_" if r[1] == "sub" else "^") + r[0] for r in line)


# ---------------------------------------------------------------- folds
@pytest.mark.parametrize("count", [1, 4, 12, 13, 32, 100, 256])
def test_windows_cover_every_step_once_and_no_window_is_wide(count):
    spans = windows(fold_tree(count))
    steps = [t for a, b in spans for t in range(a, b)]
    assert steps == list(range(count))
    assert max(b - a for a, b in spans) <= (count if count <= WINDOW + 4 else WINDOW)


def test_a_long_sequence_starts_folded_and_each_fold_opens_into_at_most_eight_parts():
    top = fold_tree(256)
    assert [(s.start, s.stop) for s in top] == [(0, 4), (4, 252), (252, 256)]
    stack, depth = [(top[1], 1)], 0
    while stack:
        fold, level = stack.pop()
        depth = max(depth, level)
        assert 1 <= len(fold.parts) <= 8
        assert fold.parts[0].start == fold.start and fold.parts[-1].stop == fold.stop
        stack += [(p, level + 1) for p in fold.parts if p.parts]
    assert depth == 2          # 248 steps: 8 folds of 31, each 4 windows of about 8


def test_up_to_twelve_steps_are_one_window():
    assert [(s.start, s.stop, s.window) for s in fold_tree(12)] == [(0, 12, 0)]


# ---------------------------------------------------------------- derivatives
def test_tanh_derivative_reads_in_the_graph_names():
    a = tg.Tensor(np.ones((1, 2)), requires_grad=True, name="a")
    h = tg.tanh(a)
    h.name = "h"
    found = derivative_of(h.producer)
    assert found["forward"] == "h = tanh(a)"
    assert found["backward"] == ["∂L/∂a = ∂L/∂h ⊙ (1 − h²)"]
    assert "1 − y²" in found["words"]


def test_matmul_derivative_names_both_inputs_and_keeps_its_remark_apart():
    h = tg.Tensor(np.ones((1, 2)), requires_grad=True, name="h")
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="layer0.W_hh")
    z = h @ W
    z.name = "z"
    found = derivative_of(z.producer)
    assert found["backward"] == ["∂L/∂h = ∂L/∂z @ W_hhᵀ", "∂L/∂W_hh = hᵀ @ ∂L/∂z"]
    assert found["notes"] == ["numpy rules: 1-D operands, stacked batches"]


def test_unnamed_tensors_keep_the_docstring_letters_and_say_what_they_stand_for():
    a = tg.Tensor(np.ones(2), requires_grad=True, name="my input")
    found = derivative_of(tg.sigmoid(a).producer)
    assert found["backward"] == ["∂L/∂x = ∂L/∂y ⊙ y ⊙ (1 − y)"]
    assert found["legend"] == "x = my input"


def test_an_op_without_math_in_its_docstring_shows_the_docstring():
    class Twice(tg.Op):
        """Doubles its input (no formula here)."""

        def forward(self, x):
            return 2 * x

        def backward(self, grad):
            return (2 * grad,)

    y = Twice()(tg.Tensor(np.ones(2), requires_grad=True))
    assert docstring_math(y.producer.op) is None
    assert derivative_of(y.producer)["doc"] == "Doubles its input (no formula here)."


# ---------------------------------------------------------------- numbers
def test_nan_and_inf_are_kept_and_counted():
    found = encode(np.array([[1.0, np.nan], [np.inf, -np.inf]]))
    assert found["v"] == [1.0, "NaN", "Inf", "-Inf"]
    assert (found["nan"], found["inf"], found["min"], found["max"]) == (1, 2, 1.0, 1.0)
    assert found["norm"] == "NaN"


def test_a_large_array_keeps_its_corner_and_its_statistics_over_every_entry():
    data = np.arange(40 * 50, dtype=float).reshape(40, 50)
    found = encode(data)
    assert (found["rows"], found["cols"], len(found["v"])) == (16, 32, 16 * 32)
    assert found["v"][:3] == [0.0, 1.0, 2.0] and found["max"] == 1999.0
    assert found["norm"] == float(f"{np.linalg.norm(data):.4g}")


def test_small_arrays_are_written_out_and_large_ones_by_their_norm():
    assert values_text(np.array([0.5, -0.25, 1e-5])) == "[0.5, −0.25, 1e−05]"
    assert values_text(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1, 2], [3, 4]]"
    assert values_text(np.ones(9)) == "‖·‖ = 3 (9 entries)"


# ---------------------------------------------------------------- captions
def test_one_frame_per_trace_step_and_captions_name_tensors_as_the_pictures_do():
    loss = two_layer_loss(3)
    trace = tg.trace_backward(loss)
    graph = explored_graph(loss, trace)
    found = frames(graph)
    assert len(found) == len(trace)
    text = "\n".join(caption_text(line) for f in found for line in f["cap"])
    assert not re.search(r"#\d|\bout \[|stack#", text)          # no internal ids
    assert "receives ∂L/∂L = 1" in text                          # the seed, named L
    assert "sends ∂L/∂L_0 = 1" in text                           # each step's loss, L_t
    first = graph.view.tensor_number(trace.junctions()[0].tensor)
    junction = next(f for f in found if f["cur"] == [f"j{first}"])
    lines = [caption_text(line) for line in junction["cap"]]
    assert lines[0].startswith("Σ of h_") and "2 gradients arrive" in lines[0]
    assert any("(from t+1)" in line for line in lines) and any("(local)" in line for line in lines)


def test_a_junction_caption_adds_up_to_its_total():
    loss = two_layer_loss(3, hidden=2, batch=1)
    trace = tg.trace_backward(loss)
    graph = explored_graph(loss, trace)
    step = trace.junctions()[0]
    frame = next(f for f in frames(graph) if f["cur"] == [f"j{graph.view.tensor_number(step.tensor)}"])
    lines = [caption_text(line) for line in frame["cap"]]
    parts = [line for line in lines if line.startswith("+ ")]
    assert len(parts) == len(step.contributions) == 2
    total = np.sum([c.grad for c in step.contributions], axis=0)
    np.testing.assert_allclose(total, step.total)
    assert lines[-2].endswith(values_text(step.total))


def test_sent_edges_of_a_node_step_are_its_gradient_keys():
    loss = two_layer_loss(2)
    trace = tg.trace_backward(loss)
    graph = explored_graph(loss, trace)
    view = graph.view
    for step, frame in zip(trace, frames(graph)):
        if isinstance(step, tg.NodeStep):
            shown = [(t, g) for t, g in step.sent if not graph.is_partial_sum(t)]
            assert len(frame["sent"]) == len(shown)
            for key, (tensor, _) in zip(frame["sent"], shown):
                number, reader, _ = (int(v) for v in key[1:].split("_"))
                assert view.tensors[number] is tensor and view.nodes[reader] is step.node


# ---------------------------------------------------------------- flow
def test_gradient_flow_holds_the_norm_of_every_hidden_state_by_layer_and_step():
    loss = two_layer_loss(4)
    trace = tg.trace_backward(loss)
    graph = explored_graph(loss, trace)
    flow = gradient_flow(graph)
    assert flow["layers"] == ["layer 1", "layer 0"] and flow["times"] == ["0", "1", "2", "3"]
    assert flow["rows"] == [["h", ["(1)", "sup"]], ["h", ["(0)", "sup"]]]
    for row, layer in zip(flow["cells"], (1, 0)):
        for t, (norm, number) in enumerate(row):
            tensor = graph.view.tensors[number]
            assert tensor.name == "h" and tensor.producer.scope == {"t": t, "layer": layer}
            assert norm == pytest.approx(np.linalg.norm(graph.view.total_grad(tensor)), rel=1e-3)


def test_vanishing_gradients_show_as_small_norms_far_from_a_single_loss():
    rng = np.random.default_rng(0)
    net = tg.Tensor(0.2 * rng.standard_normal((3, 3)), requires_grad=True, name="W_hh")
    h = tg.Tensor(np.zeros((1, 3)), name="h_init")
    for t in range(10):
        with tg.scope(t=t, layer=0):
            h = tg.tanh(tg.Tensor(rng.standard_normal((1, 3)), name="x") + h @ net)
            h.name = "h"
    loss = h.sum()
    graph = explored_graph(loss, tg.trace_backward(loss))
    norms = [cell[0] for cell in gradient_flow(graph)["cells"][0]]
    assert norms[0] < 1e-3 * norms[-1]


# ---------------------------------------------------------------- windows
def test_a_window_draws_its_steps_with_stubs_to_the_steps_around_it():
    loss = two_layer_loss(4)
    graph = explored_graph(loss, tg.trace_backward(loss))
    text, keys = window_dot(graph.view, plan_range(graph.view, 1, 3))
    drawn = {graph.view.nodes[int(k)].scope.get("t") for k in re.findall(r"^ +n(\d+) \[", text, re.M)}
    assert drawn - {None} == {1, 2}
    assert re.search(r"^  s\d+_\d+_\d+ \[", text, re.M)             # h_0 enters
    assert re.search(r"^  o\d+_\d+_\d+ \[", text, re.M)             # h_2 leaves
    assert "to t = 3" in text and "to t = None" not in text
    assert len(keys) == len(re.findall(r"^  \S+ -> \S+ \[", text, re.M))
    assert all(re.fullmatch(r"[fg]\d+_\d+_\d+|[FT]\d+|g?out", k) for k in keys)


def test_a_one_step_picture_draws_no_stub_to_the_loss_sum():
    # the loss sum reads every step: it is always drawn, never a "to t = None" stub (a bug
    # of view="step" before the explorer's windows)
    assert "to t = None" not in tg.to_dot(two_layer_loss(4), view="step", t=1)


def test_edge_keys_name_what_each_edge_carries():
    loss = two_layer_loss(2)
    graph = explored_graph(loss, tg.trace_backward(loss))
    view = graph.view
    _, keys = window_dot(view, plan_range(view, 0, 2))
    for key in keys:
        found = re.fullmatch(r"([fg])(\d+)_(\d+)_(\d+)", key)
        if found:
            tensor, reader, index = (int(v) for v in found.groups()[1:])
            assert view.nodes[reader].inputs[index] is view.tensors[tensor]
        elif key[0] in "FT":
            assert view.is_junction(view.tensors[int(key[1:])])
    assert len(set(keys)) == len(keys)
