"""Fuzzing rnn.RNN against the hand-written numpy BPTT (tests/bptt_reference.py).

Hypothesis draws a configuration: 1-3 layers with a nonlinearity per layer (tanh, relu,
sigmoid, identity), sizes D, H, V in 1..4, T in 1..6, B in 1..3, many-to-many or many-to-one,
and optionally a given initial state h0 that requires grad. The engine's loss and every
gradient (parameters and h0) must equal the reference's to 1e-10: the reference uses the
same derivative at relu's kink (0 for a ≤ 0), so no numerical tolerance is needed. A second
fuzzer gives the network inputs of the wrong width, rank or batch: only our errors come out.
"""

from __future__ import annotations

import bptt_reference as ref
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnn
import tinygraph as tg

FUZZ = settings(max_examples=40, deadline=None, derandomize=True)
KINDS = ["tanh", "relu", "sigmoid", "identity"]


@st.composite
def configurations(draw: st.DrawFn) -> dict:
    layers = draw(st.integers(1, 3))
    return {
        "nonlinearities": draw(st.lists(st.sampled_from(KINDS), min_size=layers, max_size=layers)),
        "D": draw(st.integers(1, 4)), "H": draw(st.integers(1, 4)), "V": draw(st.integers(1, 4)),
        "T": draw(st.integers(1, 6)), "B": draw(st.integers(1, 3)),
        "many_to_one": draw(st.booleans()), "given_h0": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**32 - 1)),
    }


@FUZZ
@given(configurations())
def test_random_rnns_match_the_numpy_bptt(config: dict) -> None:
    kinds, B, T, D, H, V = (config[k] for k in ("nonlinearities", "B", "T", "D", "H", "V"))
    rng = np.random.default_rng(config["seed"])
    net = rnn.RNN(D, H, num_layers=len(kinds), nonlinearity=kinds, rng=rng)
    readout = rnn.Linear(H, V, rng=rng)
    xs = rng.normal(size=(B, T, D))
    h0 = None
    if config["given_h0"]:
        h0 = [tg.Tensor(rng.normal(size=(B, H)) * 0.5, requires_grad=True) for _ in kinds]
    hs, h_last = net(xs, h0=h0)
    if config["many_to_one"]:
        y = rng.integers(0, V, size=B)
        loss = rnn.last_step_cross_entropy(readout(h_last[-1]), y)
    else:
        y = rng.integers(0, V, size=(B, T))
        loss = rnn.sequence_cross_entropy([readout(h) for h in hs], y)
    loss.backward()

    named = {**net.named_parameters(), **readout.named_parameters()}
    params = {name: p.data for name, p in named.items()}
    want_loss, want = ref.bptt(params, xs, y, kinds, many_to_one=config["many_to_one"],
                               h0=None if h0 is None else [h.data for h in h0])
    assert loss.item() == pytest.approx(want_loss, rel=1e-12, abs=1e-12)
    for name, p in named.items():
        np.testing.assert_allclose(p.grad, want[name], rtol=1e-9, atol=1e-10, err_msg=name)
    for layer, h in enumerate(h0 or []):
        np.testing.assert_allclose(h.grad, want[f"h0.layer{layer}"], rtol=1e-9, atol=1e-10,
                                   err_msg=f"h0 of layer {layer}")


@FUZZ
@given(st.lists(st.integers(0, 4), min_size=0, max_size=4), st.integers(1, 3),
       st.booleans(), st.integers(1, 3))
def test_wrong_input_shapes_raise_only_shape_errors(shape: list[int], h0_batch: int,
                                                    give_h0: bool, layers: int) -> None:
    """Any input shape: either it is a valid (B, T, 3) batch or a ShapeError says why."""
    net = rnn.RNN(3, 2, num_layers=layers, rng=0)
    xs = np.zeros(shape)
    h0 = [np.zeros((h0_batch, 2))] * layers if give_h0 else None
    valid = len(shape) == 3 and shape[1] >= 1 and shape[2] == 3 and (
        not give_h0 or h0_batch == shape[0])
    try:
        hs, _ = net(xs, h0=h0)
    except tg.ShapeError as error:
        assert not valid, str(error)
        assert "rnn.RNN" in str(error)
        return
    assert valid and len(hs) == shape[1] and hs[0].shape == (shape[0], 2)
