"""What the pictures say (issue 17): names with step and layer, ops that say what they do,
sums over time as one node, inferred layers, named gates, one step, and the notebook defaults.

Everything is read from the DOT text; where a test needs positions it reads the pinned ones.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from dot_text import edges, label, nodes
from render_graphs import build_rnn_loss, stack_4_20_64

import rnn
import tinygraph as tg

POS = re.compile(r'pos="([-\d.]+),([-\d.]+)!"')


def y_of(attributes: str) -> float:
    return float(POS.search(attributes).group(2))


def op_labels(text: str) -> dict[str, str]:
    """Node id -> label of every op box (n…)."""
    return {k: label(a) for k, a in nodes(text).items() if re.fullmatch(r"n\d+", k)}


@pytest.fixture(scope="module")
def rnn_loss() -> tg.Tensor:
    net, readout = rnn.RNN(3, 4, num_layers=2, rng=0), rnn.Linear(4, 3, rng=1)
    hs, _ = net(np.random.default_rng(2).standard_normal((2, 4, 3)))
    return rnn.sequence_cross_entropy([readout(h) for h in hs], [[0, 1, 2, 0], [2, 1, 0, 1]])


def test_tensors_are_named_with_their_step_and_layer(rnn_loss):
    text = tg.to_dot(rnn_loss, "forward")
    names = {label(a) for *_, a in edges(text)}
    for t in range(4):
        for layer in range(2):
            assert f"h_{t}^({layer})" in names and f"a_{t}^({layer})" in names
        assert f"y_{t}" in names                               # the readout has no layer
    assert {"xW_xh", "hW_hh", "hW_hy"} <= names                # products keep their own names
    boxes = {label(a) for a in nodes(text).values()}
    assert {"W_hh^(0)", "W_hh^(1)", "b_h^(1)", "W_hy", "x_2", "h_init"} <= boxes
    shaped = {label(a) for *_, a in edges(tg.to_dot(rnn_loss, "forward", show_shapes=True))}
    assert "h_3^(1) [2×4]" in shaped


def test_a_users_own_name_is_shown_as_written():
    W = tg.Tensor(np.ones((2, 2)), True, "weights")
    h = tg.Tensor(np.zeros((1, 2)), name="state")
    terms = []
    for t in range(2):
        with tg.scope(t=t):
            h = tg.tanh(h @ W)
            h.name = "my state" if t == 0 else "h"
            terms.append(h.sum())
    text = tg.to_dot(terms[0] + terms[1], "forward")
    names = {label(a) for *_, a in edges(text)}
    assert "my state" in names and "h_1" in names           # one letter: the step added
    assert {"weights", "state"} <= {label(a) for a in nodes(text).values()}


def test_ops_say_what_they_do(rnn_loss):
    ops = set(op_labels(tg.to_dot(rnn_loss, "forward")).values())
    assert {"+ b_h", "+", "tanh", "matmul", "+ b_y", "softmax-CE"} <= ops
    assert not ops & {"add", "cross_entropy"}
    x = tg.Tensor(np.ones(3), True, "x")
    y = (tg.sigmoid(x) * 2.0 - tg.relu(x) * x).sum()
    ops = set(op_labels(tg.to_dot(y)).values())
    assert {"σ", "ReLU", "× 2", "⊙ x", "−", "sum"} <= ops      # x requires grad: a parameter


@pytest.mark.parametrize("how", ["sum()", "running +", "a + b + c", "stack().sum()"])
def test_a_sum_over_time_is_one_node_without_a_constant_zero(how):
    rng = np.random.default_rng(0)
    W = tg.Tensor(rng.normal(size=(2, 2)), True, "W")
    h = tg.Tensor(np.zeros((1, 2)), name="h_init")
    losses, loss = [], tg.Tensor(0.0)
    for t in range(3):
        with tg.scope(t=t):
            h = tg.tanh(h @ W)
            h.name = "h"
            term = (h * h).sum()
            term.name = "L"
            losses.append(term)
            loss = loss + term
    total = {"sum()": lambda: sum(losses), "running +": lambda: loss,
             "a + b + c": lambda: losses[0] + losses[1] + losses[2],
             "stack().sum()": lambda: tg.stack(losses).sum()}[how]()
    text = tg.to_dot(total, "backward")
    ops = op_labels(text)
    sums = [k for k, v in ops.items() if "Σ_t" in v]
    assert len(sums) == 1 and ops[sums[0]] == "L = Σ_t L_t"
    assert not any(v in ("+", "stack") for v in ops.values())
    assert "0" not in {label(a) for a in nodes(text).values()}   # Python's sum starts from 0
    into = [(s, label(a)) for s, t, a in edges(text) if t == sums[0] and "dashed" not in a]
    assert sorted(name for _, name in into) == ["L_0", "L_1", "L_2"]
    back = [t for s, t, a in edges(text) if s == sums[0] and "dashed" in a]
    assert sorted(back) == sorted(s for s, _ in into)       # ∂L/∂L_t = 1 back to each step


def test_a_recurrence_that_adds_is_not_a_sum_over_time():
    """h_t = h_(t−1) + x_t W is a recurrence; its last add is the output, not a Σ_t."""
    W = tg.Tensor(np.ones((2, 2)), True, "W")
    h = tg.Tensor(np.zeros((1, 2)), name="h_init")
    for t in range(3):
        with tg.scope(t=t):
            h = h + tg.Tensor(np.ones((1, 2)), name="x") @ W
    assert not any("Σ_t" in v for v in op_labels(tg.to_dot(h)).values())


def test_an_untagged_stack_gets_one_band_per_layer():
    """The 4/20/64 stack written with tg ops and only t scopes: two layer bands, inferred."""
    total, outs = stack_4_20_64()
    assert [o.item() for o in outs] == [4.0, 20.0, 64.0]
    text = tg.to_dot(total, "forward")
    bands = {label(a): y_of(a) for k, a in nodes(text).items() if k.startswith("band")}
    assert list(bands) == ["layer 0", "layer 1"]
    assert "layers found from the recurrences" in text
    ops = nodes(text)
    by_op = {}
    for a in ops.values():
        by_op.setdefault(label(a), []).append(y_of(a))
    # the first layer's "+ b" is below the ReLU, which is below the second layer's "+ b'"
    assert max(by_op["+ b^(0)" if "+ b^(0)" in by_op else "+ b"]) < min(by_op["ReLU"])
    assert max(by_op["ReLU"]) < min(by_op["+ b'"])
    names = {label(a) for *_, a in edges(text)}
    assert {"h_0^(0)", "g_2^(1)"} <= names
    tagged = tg.to_dot(stack_4_20_64(layer_tags=True)[0], "forward")
    assert "layers found" not in tagged and "band1" in tagged


def test_lstm_and_gru_name_their_gates_and_run_the_state_straight_through():
    for cell, gates in ((rnn.LSTMCell(2, 3, rng=0), "ifgoc"), (rnn.GRUCell(2, 3, rng=0), "rzn")):
        hs, _ = rnn.RNN(cell=cell)(np.ones((1, 3, 2)))
        text = tg.to_dot(hs[-1].sum(), "backward")
        names = {label(a) for *_, a in edges(text)}
        assert {f"{g}_1" for g in gates} <= names, names
        assert not any(v.startswith("getitem") for v in op_labels(text).values())
    # the LSTM's c: c_(t−1) -> f ⊙ c -> + -> Σ(c_t) -> f ⊙ c of t+1, all in one row
    hs, _ = rnn.RNN(cell=rnn.LSTMCell(2, 3, rng=0))(np.ones((1, 3, 2)))
    text = tg.to_dot(hs[-1].sum(), "forward")
    found = nodes(text)
    c_edges = [(s, t) for s, t, a in edges(text) if label(a) == "c_1"]
    assert c_edges
    rows = {y_of(found[s]) for s, t in c_edges} | {y_of(found[t]) for s, t in c_edges}
    assert len(rows) == 1, rows


def test_a_bidirectional_layer_is_two_bands_and_the_reverse_one_gets_from_t_minus_1():
    net = rnn.RNN(3, 4, bidirectional=True, rng=0)
    readout = rnn.Linear(8, 3, rng=1)
    hs, _ = net(np.random.default_rng(2).standard_normal((2, 4, 3)))
    loss = rnn.sequence_cross_entropy([readout(h) for h in hs], [[0, 1, 2, 0], [2, 1, 0, 1]])
    text = tg.to_dot(loss, "backward")
    bands = [label(a) for k, a in nodes(text).items() if k.startswith("band")]
    assert bands == ["layer 0", "layer 0, reverse", "readout"]
    texts = [label(a) for *_, a in edges(text)]
    assert sum("from t+1" in t for t in texts) == 3 and sum("from t−1" in t for t in texts) == 3
    assert "∂L/∂h_1^(0←) from t−1" in texts
    assert "t−1 in a reverse layer" in text


def test_one_step_view_shows_the_state_in_and_out_with_their_gradients():
    loss, _ = build_rnn_loss(4, 2)
    text = tg.to_dot(loss, "step", t=2)
    assert re.findall(r'label="t = (\d+)"', text) == ["2"]
    ops = nodes(text)
    assert all("(t=2" in a or "#" not in a for k, a in ops.items() if re.fullmatch(r"n\d+", k)
               and "Σ_t" not in label(a))
    stubs_in = [k for k in ops if k.startswith("s")]
    stubs_out = [k for k in ops if k.startswith("o")]
    assert len(stubs_in) == 2 and len(stubs_out) == 2        # h_1 in, h_2 out, per layer
    assert {label(ops[k]) for k in stubs_in} == {"h_1^(0)", "h_1^(1)"}
    texts = {label(a) for *_, a in edges(text)}
    assert {"∂L/∂h_1^(0) to t−1", "∂L/∂h_2^(1) from t+1"} <= texts
    with pytest.raises(tg.ConfigError, match=r"view='step' draws one step: give it, e\.g\. t=2"):
        tg.to_dot(loss, "step")
    with pytest.raises(tg.RenderError, match=r"t=9 is not a step of this graph \(steps: 0, 1"):
        tg.to_dot(loss, "step", t=9)


def test_draw_fits_a_notebook_and_folds_long_unrolls():
    short, _ = build_rnn_loss(4, 2)
    dot = tg.draw(short, "backward")
    assert 'size="10.42,1000"' in dot.source and "fold" not in dot.source
    long, _ = build_rnn_loss(20, 2)
    folded = tg.draw(long, "backward")
    assert "12 steps folded" in folded.source and "(max_steps=8)" in folded.source
    assert "fold" not in tg.draw(long, "backward", max_steps=None).source
    assert not re.search(r'\bsize="', tg.to_dot(short, "backward"))


def test_the_legend_goes_below_beside_or_nowhere():
    loss, _ = build_rnn_loss(3, 1)
    text = tg.to_dot(loss, "backward")
    legend = nodes(text)["legend"]
    drawn = [y_of(a) for k, a in nodes(text).items() if re.fullmatch(r"n\d+", k)]
    assert y_of(legend) < min(drawn)                          # below: y grows upward
    side = tg.to_dot(loss, "backward", legend="beside")
    xs = [float(POS.search(a).group(1)) for k, a in nodes(side).items() if re.fullmatch(r"n\d+", k)]
    assert float(POS.search(nodes(side)["legend"]).group(1)) > max(xs)
    assert "legend" not in nodes(tg.to_dot(loss, "backward", legend=False))
    with pytest.raises(tg.ConfigError, match="legend must be True, False, 'below' or 'beside'"):
        tg.to_dot(loss, legend="left")
