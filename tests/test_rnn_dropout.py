"""rnn.dropout: inverted dropout y = x · m / (1 − p), seeded, the identity in evaluation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnn
import tinygraph as tg
from expect_error import expect


def param(shape: tuple[int, ...], seed: int = 0) -> tg.Tensor:
    return tg.Tensor(np.random.default_rng(seed).uniform(0.5, 2.0, shape), requires_grad=True, name="x")


def test_the_mask_is_the_documented_draw_and_the_scale_is_one_over_keep():
    x = param((3, 4))
    y = rnn.dropout(x, 0.25, rng=7)
    keep = np.random.default_rng(7).random((3, 4)) >= 0.25
    np.testing.assert_array_equal(y.producer.op.mask, keep)
    np.testing.assert_array_equal(y.data, np.where(keep, x.data * (1 / 0.75), 0.0))  # s = 1/(1 − p)


def test_backward_lets_the_gradient_through_the_kept_entries_scaled():
    x = param((5, 6))
    y = rnn.dropout(x, 0.5, rng=1)
    dy = np.random.default_rng(2).normal(size=(5, 6))
    y.backward(dy)
    np.testing.assert_array_equal(x.grad, dy * y.producer.op.mask * 2.0)


def test_one_node_named_dropout_reads_x():
    x = param((2, 3))
    y = rnn.dropout(x, 0.3, rng=0)
    assert y.producer.op.name == "dropout" and y.producer.inputs == (x,)
    assert y.producer.op.describe() == "dropout(p=0.3)"


def test_an_int_seed_repeats_the_mask_and_a_generator_moves_on():
    x = param((20,))
    assert np.array_equal(rnn.dropout(x, 0.5, rng=3).data, rnn.dropout(x, 0.5, rng=3).data)
    gen = np.random.default_rng(3)
    first, second = rnn.dropout(x, 0.5, rng=gen), rnn.dropout(x, 0.5, rng=gen)
    assert not np.array_equal(first.data, second.data)


def test_about_a_fraction_p_is_dropped_and_the_mean_is_kept():
    x = tg.Tensor(np.ones(200_000))
    y = rnn.dropout(x, 0.3, rng=0)
    assert abs((y.data == 0).mean() - 0.3) < 0.005
    assert abs(y.data.mean() - 1.0) < 0.01


@pytest.mark.parametrize("kwargs", [{"p": 0.5, "training": False}, {"p": 0.0}])
def test_evaluation_and_p_zero_are_the_identity(kwargs):
    x = param((2, 3))
    assert rnn.dropout(x, rng=0, **kwargs) is x


def test_dropout_keeps_float32():
    x = tg.Tensor(np.ones((4, 4), dtype=np.float32), requires_grad=True)
    y = rnn.dropout(x, 0.5, rng=0)
    y.sum().backward()
    assert y.dtype == np.float32 and x.grad.dtype == np.float32


def test_gradcheck_through_dropout_and_tanh():
    x = param((3, 4), seed=4)
    w = np.random.default_rng(5).normal(size=(3, 4))
    report = tg.gradcheck(lambda: (tg.tanh(rnn.dropout(x, 0.4, rng=11)) * w).sum(), [x])
    assert report.ok, str(report)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5),
       p=st.floats(0.0, 0.95), seed=st.integers(0, 2**32 - 1))
def test_property_forward_backward_and_gradcheck(shape, p, seed):
    rng = np.random.default_rng(seed)
    x = tg.Tensor(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape), requires_grad=True)
    y = rnn.dropout(x, p, rng=seed)
    keep = np.random.default_rng(seed).random(shape) >= p if p > 0 else np.ones(shape, dtype=bool)
    np.testing.assert_allclose(y.data, np.where(keep, x.data / (1 - p), 0.0), rtol=1e-15, atol=0)
    w = rng.standard_normal(shape)
    report = tg.gradcheck(lambda: (rnn.dropout(x, p, rng=seed) * w).sum(), [x])
    assert report.ok, str(report)
    (y * w).sum().backward()
    np.testing.assert_allclose(x.grad, np.where(keep, w / (1 - p), 0.0), rtol=1e-15, atol=0)


def test_matches_torch_given_the_same_mask():
    torch = pytest.importorskip("torch")
    x = param((4, 5), seed=6)
    w = np.random.default_rng(7).normal(size=(4, 5))
    y = rnn.dropout(x, 0.35, rng=8)
    (tg.tanh(y) * w).sum().backward()
    tx = torch.tensor(x.data, requires_grad=True)
    mask = torch.tensor(y.producer.op.mask, dtype=torch.float64)
    ty = tx * mask / (1 - 0.35)  # what torch.nn.functional.dropout computes, given its mask
    (torch.tanh(ty) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-15, atol=0)
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-14, atol=0)
    # and torch's own dropout has the same form: zero or x / (1 − p)
    out = torch.nn.functional.dropout(tx, 0.35, training=True).detach().numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x.data[kept] / 0.65, rtol=1e-15)


@pytest.mark.parametrize("kwargs, error, fragments", [
    ({"p": 1.0}, rnn.ConfigError, ("dropout", "p must be in [0, 1)", "1.0")),
    ({"p": -0.1}, rnn.ConfigError, ("dropout", "p", "-0.1")),
    ({"p": float("nan")}, rnn.ConfigError, ("dropout", "p", "nan")),
    ({"p": "0.5"}, tg.DTypeError, ("dropout", "p must be a number", "'0.5'")),
    ({"p": True}, tg.DTypeError, ("dropout", "p", "True")),
    ({"p": 0.5, "training": "yes"}, tg.DTypeError, ("dropout", "training", "True or False", "'yes'")),
    ({"p": 0.5, "rng": "abc"}, tg.DTypeError, ("dropout", "rng", "Generator", "'abc'")),
    ({"p": 0.5, "rng": -1}, rnn.ConfigError, ("dropout", "rng", "-1")),
])
def test_bad_settings_are_named(kwargs, error, fragments):
    expect(error, lambda: rnn.dropout(param((2,)), **kwargs), *fragments)
