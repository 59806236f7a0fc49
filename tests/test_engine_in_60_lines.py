"""docs/00_the_engine.md: the 60-line engine gives tinygraph's gradients on the tutorials' graphs,
and it really is about 60 lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from doc_blocks import python_blocks, run_block

import tinygraph as tg

PAGE = Path(__file__).resolve().parent.parent / "docs" / "00_the_engine.md"


@pytest.fixture(scope="module")
def mini() -> dict:
    """The namespace of the page's first block: the whole small engine."""
    namespace: dict = {"__name__": "mini_engine"}
    run_block(python_blocks(PAGE)[0], namespace)
    return namespace


def test_the_engine_block_is_about_sixty_lines() -> None:
    code = [line for line in python_blocks(PAGE)[0].source.splitlines() if line.strip()]
    assert 50 <= len(code) <= 65, len(code)


def both(mini: dict, build, values: dict[str, np.ndarray]) -> None:
    """Run ``build(params, const, tanh)`` in both engines; compare the loss and every gradient."""
    mini_params = {k: mini["Tensor"](v) for k, v in values.items()}
    loss = build(mini_params, mini["Tensor"], mini["Tensor"].tanh)
    mini["backward"](loss)
    tg_params = {k: tg.Tensor(v, requires_grad=True) for k, v in values.items()}
    tg_loss = build(tg_params, tg.Tensor, tg.tanh)
    tg_loss.backward()
    assert np.isclose(float(loss.data), tg_loss.item(), rtol=1e-13)
    for name in values:
        np.testing.assert_allclose(mini_params[name].grad, tg_params[name].grad, rtol=1e-12,
                                   atol=1e-15, err_msg=name)


def test_a_tensor_read_three_times(mini: dict) -> None:
    both(mini, lambda p, const, tanh: p["a"] * p["a"] + p["a"], {"a": np.array(3.0)})


def test_a_broadcast_bias_and_a_tanh_layer(mini: dict) -> None:
    rng = np.random.default_rng(1)

    def build(p, const, tanh):
        return tanh(const(rng_x) @ p["W"] + p["b"]).sum()

    rng_x = rng.standard_normal((4, 3))
    both(mini, build, {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2)})


@pytest.mark.parametrize("T, layers", [(1, 1), (4, 1), (5, 2)])
def test_a_stacked_elman_rnn(mini: dict, T: int, layers: int) -> None:
    rng = np.random.default_rng(T + layers)
    B, D, H = 2, 3, 4
    xs = rng.standard_normal((T, B, D))
    values = {}
    for layer in range(layers):
        values[f"W_xh{layer}"] = rng.standard_normal((D if layer == 0 else H, H)) * 0.5
        values[f"W_hh{layer}"] = rng.standard_normal((H, H)) * 0.5
        values[f"b_h{layer}"] = rng.standard_normal(H)
    values["W_hy"] = rng.standard_normal((H, 2))

    def build(p, const, tanh):
        hs = [const(np.zeros((B, H))) for _ in range(layers)]
        loss = None
        for x in xs:
            below = const(x)
            for layer in range(layers):
                hs[layer] = tanh(below @ p[f"W_xh{layer}"] + hs[layer] @ p[f"W_hh{layer}"]
                                 + p[f"b_h{layer}"])
                below = hs[layer]
            y = below @ p["W_hy"]
            step = (y * y).sum()
            loss = step if loss is None else loss + step
        return loss

    both(mini, build, values)


def test_a_long_chain_needs_no_recursion(mini: dict) -> None:
    w = mini["Tensor"](0.999)
    h = mini["Tensor"](1.0)
    for _ in range(5000):
        h = h * w
    mini["backward"](h.sum())
    assert np.isclose(float(w.grad), 5000 * 0.999**4999)
