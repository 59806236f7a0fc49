"""The DOT text of tg.to_dot: clusters, junctions, parameters, fold, escaping, determinism."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from dot_text import edges, label, nodes
from render_graphs import build_rnn_loss

import tinygraph as tg
from tinygraph.render.graph_view import collect


def node_line(text: str, node_id: str) -> str:
    return next(line for line in text.splitlines() if line.strip().startswith(f"{node_id} ["))


@pytest.fixture(scope="module")
def rnn4():
    loss, params = build_rnn_loss(4, 2)
    return loss, params


def test_one_cluster_per_step_left_to_right(rnn4):
    loss, _ = rnn4
    text = tg.to_dot(loss, "forward")
    labels = re.findall(r'subgraph cluster_t\d+ \{\n    graph \[label="(t = \d+)"', text)
    assert labels == ["t = 0", "t = 1", "t = 2", "t = 3"]
    lefts = [float(b) for b in re.findall(r'    graph \[label="t = \d+", bb="([\d.]+),', text)]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4


def test_same_step_same_picture(rnn4):
    """Step 1 and step 2 are the same ops at the same offsets from their column."""
    loss, _ = rnn4
    text = tg.to_dot(loss, "forward")
    blocks = re.findall(r"subgraph cluster_t\d+ \{\n(.*?)\n  \}", text, re.S)
    def offsets(block: str) -> list[tuple[str, float, float]]:
        items = [(label(a), *re.search(r'pos="([\d.]+),([\d.]+)!"', a).groups())
                 for a in nodes(block).values()]
        x0 = min(float(x) for _, x, _ in items)
        return [(text, round(float(x) - x0, 1), float(y)) for text, x, y in items]
    assert offsets(blocks[1]) == offsets(blocks[2])
    layer_y = {text: y for text, _, y in offsets(blocks[1])}
    assert layer_y["softmax-CE"] > layer_y["tanh"]   # readout above the layers


def test_one_junction_per_fanout_tensor_with_every_gradient(rnn4):
    loss, _ = rnn4
    view = collect(loss)
    fanout = [t for t in view.tensors if view.is_junction(t)]
    # h of each layer at t = 0, 1, 2 is read by the next layer (or readout) and by step t+1
    assert len(fanout) == 6
    text = tg.to_dot(loss, "backward")
    junctions = re.findall(r"^  (j\d+) \[label=\"Σ\"", text, re.M)
    assert len(junctions) == 6
    for j in junctions:
        arriving = [e for e in edges(text) if e[1] == j and "dashed" in e[2]]
        assert len(arriving) == 2                           # one gradient per reader
        late = [e for e in arriving if "from t+1" in label(e[2])]
        assert len(late) == 1 and "#8e24aa" in late[0][2]  # the non-local one, in purple
        leaving = [e for e in edges(text) if e[0] == j and "dashed" in e[2]]
        assert len(leaving) == 1                            # the sum, down to the producer
        assert view.nodes[int(leaving[0][1][1:])].output is view.tensors[int(j[1:])]


def test_junction_edges_come_from_the_right_steps(rnn4):
    """The 'from t+1' gradient into Σ of h_t is sent by an op of step t+1."""
    loss, _ = rnn4
    view = collect(loss)
    text = tg.to_dot(loss, "backward")
    for source, target, attributes in edges(text):
        if "from t+1" not in label(attributes):
            continue
        reader = view.nodes[int(source[1:])]
        tensor = view.tensors[int(target[1:])]
        assert reader.scope["t"] == tensor.producer.scope["t"] + 1
        assert reader.op.name == "matmul" and reader.inputs[0] is tensor


def test_parameters_are_marked_copies_one_per_step(rnn4):
    loss, params = rnn4
    view = collect(loss)
    text = tg.to_dot(loss, "both")
    w_hh = view.tensor_number(params["layer0.W_hh"])
    copies = re.findall(rf"^  (p{w_hh}_\d+_\d+) \[(.*)\]$", text, re.M)
    assert len(copies) == 4
    assert all('tooltip="parameter layer0.W_hh' in a and "#dcf0d5" in a for _, a in copies)
    assert all(label(a) == "W_hh^(0)" for _, a in copies)   # its name, its layer above
    for copy, _ in copies:                  # forward into the matmul, gradient back out
        assert sum(1 for e in edges(text) if copy in (e[0], e[1])) == 2
    assert "its gradient is the sum over the copies" in text
    w_hy = view.tensor_number(params["W_hy"])
    assert len(re.findall(rf"^  p{w_hy}_\d+_\d+ \[", text, re.M)) == 4


def test_views_draw_their_edges(rnn4):
    """forward: tensors only; backward: every forward edge (solid, quiet) and its gradient
    (dashed) in the opposite direction; both: the same, gradients labelled too."""
    loss, _ = rnn4
    forward = edges(tg.to_dot(loss, "forward"))
    assert forward and not any("dashed" in a for *_, a in forward)
    assert "h_2^(1)" in {label(a) for *_, a in forward}
    for view in ("backward", "both"):
        drawn = edges(tg.to_dot(loss, view))
        solid = {(s, t) for s, t, a in drawn if "dashed" not in a}
        dashed = {(s, t) for s, t, a in drawn if "dashed" in a}
        assert solid == {(s, t) for s, t, _ in forward}
        assert {(t, s) for s, t in dashed} <= solid and len(dashed) == len(drawn) - len(solid)
        texts = {label(a) for *_, a in drawn}
        assert "∂L/∂h_2^(1) from t+1" in texts and "h_2^(1)" in texts
        assert ("∂L/∂logits" in texts) == (view == "both")
    shaped = {label(a) for *_, a in edges(tg.to_dot(loss, "forward", show_shapes=True))}
    assert "h_2^(1) [2×4]" in shaped


def test_gradient_labels_hold_hand_derived_values():
    w = tg.Tensor(3.0, requires_grad=True, name="w")
    x = tg.Tensor(2.0, name="x")
    y = w * x + w * w           # dy/dw = x + 2w = 8, w is read twice (two copies)
    y.name = "y"
    text = tg.to_dot(y, "both", show_grads=True)
    labels = sorted(label(a) for *_, a in edges(text) if label(a).startswith("∂L/∂w"))
    assert labels == ["∂L/∂w 2", "∂L/∂w 3", "∂L/∂w 3"]   # x from w·x, w twice from w·w
    quiet = tg.to_dot(y, "backward", show_grads=True)     # the value alone, beside its copy
    values = sorted(label(a) for s, t, a in edges(quiet) if t.startswith("p"))
    assert values == ["2", "3", "3"]
    assert 'label="y = 15"' in text
    values = tg.to_dot(y, "forward", show_values=True)
    assert "= 6" in values and "= 9" in values


def test_deterministic_text_across_builds():
    first = tg.to_dot(build_rnn_loss(3, 2)[0], "both", color_by="grad_norm")
    tg.Tensor(np.ones(2), requires_grad=True) * 2.0      # moves the global Node.id counter
    second = tg.to_dot(build_rnn_loss(3, 2)[0], "both", color_by="grad_norm")
    assert first == second


def test_fold_keeps_first_and_last_steps():
    loss, _ = build_rnn_loss(24, 2)
    text = tg.to_dot(loss, "backward", max_steps=4)
    labels = re.findall(r'graph \[label="(t = \d+)"', text)
    assert labels == ["t = 0", "t = 1", "t = 22", "t = 23"]
    assert "t = 2 … 21" in node_line(text, "fold") and "20 steps folded" in text
    into_fold = [e for e in edges(text) if "fold" in (e[0], e[1])]
    assert into_fold and len(into_fold) == len({(s, t) for s, t, _ in into_fold})
    assert text.count("pos=") < tg.to_dot(loss, "backward").count("pos=") / 4


def test_oversized_graph_is_refused_with_the_fold_hint():
    loss, _ = build_rnn_loss(40, 2)
    with pytest.raises(tg.RenderError, match=r"max_steps=\d+"):
        tg.to_dot(loss, "backward", max_nodes=300)
    assert "fold" in tg.to_dot(loss, "backward", max_nodes=300, max_steps=6)


def test_user_names_are_escaped():
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name='<script>"]; x -> y')
    h = tg.tanh(tg.Tensor(np.ones((1, 2)), name="x\\N") @ W)
    h.name = 'h"'
    text = tg.to_dot(h.sum(), "both", show_shapes=True)
    assert "&lt;script&gt;\"]; x -&gt; y" in text          # HTML-escaped, in an HTML label
    labels = {label(a) for a in nodes(text).values()} | {label(a) for *_, a in edges(text)}
    assert {'<script>"]; x -> y', "x\\N", 'h" [1×2]'} <= labels
    assert not re.search(r"^\s*x -> y", text, re.M)


def test_rolled_view_has_one_step_and_a_delay_per_layer(rnn4):
    loss, _ = rnn4
    text = tg.to_dot(loss, "rolled")
    assert text.count("subgraph cluster") == 1
    delays = re.findall(r"^  (z\d+) \[label=\"z⁻¹\"", text, re.M)
    assert len(delays) == 2
    for z in delays:
        targets = [view_target for s, view_target, _ in edges(text) if s == z]
        assert len(targets) == 1
        assert label(next(a for s, _, a in edges(text) if s == z)).startswith("h_t−1")


def test_grad_norm_colouring_fades_back_in_time():
    loss, _ = build_rnn_loss(8, 1, w_scale=0.25, loss_at="last")
    view = collect(loss)
    text = tg.to_dot(loss, "backward", color_by="grad_norm")
    assert "log10 ‖gradient‖" in text
    widths = {}
    for source, _, attributes in edges(text):
        if "from t+1" in attributes:
            t = view.nodes[int(source[1:])].scope["t"]
            widths[t] = float(re.search(r'penwidth="([\d.]+)"', attributes).group(1))
    assert sorted(widths) == list(range(1, 8))
    assert widths[1] < widths[7]                        # vanishing: thinner far from the loss


def test_graph_without_time_scopes_and_bad_options():
    W = tg.Tensor(np.ones((3, 2)), requires_grad=True, name="W")
    y = tg.relu(tg.Tensor(np.ones((4, 3)), name="x") @ W).mean()
    text = tg.to_dot(y, "both")
    assert "cluster" not in text and "relu" in text and "mean" in text
    with pytest.raises(tg.RenderError, match="view must be one of"):
        tg.to_dot(y, "sideways")
    with pytest.raises(tg.RenderError, match="unknown option"):
        tg.to_dot(y, "forward", colour="red")


def test_drawing_something_that_is_not_a_tensor_is_a_clear_error():
    with pytest.raises(tg.DTypeError, match=r"must be a tg\.Tensor, got ellipsis"):
        tg.to_dot(...)


def test_oversized_graph_without_steps_suggests_no_fold():
    x = tg.Tensor(np.ones(3), True, "x")
    for _ in range(60):
        x = tg.tanh(x)
    with pytest.raises(tg.RenderError) as info:
        tg.to_dot(x.sum(), "forward", max_nodes=20)
    message = str(info.value)
    assert "no time steps" in message and "max_nodes=None" in message
    assert "max_steps=" not in message


def test_grad_norm_keeps_the_non_local_edges_marked_and_the_ramp_monotone():
    from tinygraph.render import style
    loss, _ = build_rnn_loss(4, 1, w_scale=0.25)
    text = tg.to_dot(loss, "backward", color_by="grad_norm")
    marked = [a for _, _, a in edges(text) if "from t+1" in label(a)]
    assert len(marked) == 3
    assert all('style="dashed,bold"' in a and f'<FONT COLOR="{style.NONLOCAL}">' in a for a in marked)
    assert "colour is the norm for every edge" in text and "bold purple" not in text
    assert "bold purple" in tg.to_dot(loss, "backward")
    ramp = [style.luminance(style.mix(k / 20)) for k in range(21)]
    assert all(a > b for a, b in itertools.pairwise(ramp))    # light to dark, strictly


def test_integer_targets_are_named_alike_for_any_batch_size():
    from tinygraph.render.labels import constant_name
    assert constant_name(tg.Tensor(np.array([2]))) == "targets"
    assert constant_name(tg.Tensor(np.array([2, 0]))) == "targets"
    assert constant_name(tg.Tensor(np.array(0.5))) == "0.5"
    assert constant_name(tg.Tensor(np.zeros((2, 2)), name="h0")) == "h0"
    logits = tg.Tensor(np.zeros((1, 3)), True, "logits")
    with tg.scope(t=0):
        loss = tg.cross_entropy(logits, np.array([2]))
    for view in ("forward", "backward", "both", "rolled"):
        texts = {label(a) for a in nodes(tg.to_dot(loss, view)).values()}
        assert "targets" in texts and "2" not in texts
