"""tg.numerical_grad: central differences against hand-derived derivatives; exact restoration."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg


def test_cubic_matches_hand_derivative() -> None:
    x = tg.Tensor(np.array([[-1.5, 0.0], [0.3, 2.0]]))
    grad = tg.numerical_grad(lambda: (x * x * x).sum(), x)
    # d/dx Σ x³ = 3x²; the central difference's truncation error is h² = 1e-12
    np.testing.assert_allclose(grad, 3 * x.data**2, rtol=1e-8, atol=1e-9)
    assert grad.dtype == np.float64 and grad.shape == (2, 2)


def test_worked_example_tanh_of_dot_product() -> None:
    w = tg.Tensor(np.array([0.5, -0.25]))
    u = np.array([2.0, 4.0])
    # f = tanh(w·u) = tanh(0); df/dw = (1 − tanh²(0)) u = u
    grad = tg.numerical_grad(lambda: tg.tanh((w * u).sum()), w)
    np.testing.assert_allclose(grad, u, rtol=1e-9)


def test_accepts_a_plain_number_from_f() -> None:
    x = tg.Tensor(np.array([1.0, 2.0]))
    grad = tg.numerical_grad(lambda: float(np.sum(np.exp(x.data))), x)
    np.testing.assert_allclose(grad, np.exp(x.data), rtol=1e-8)


def test_restores_bits_and_identity_also_when_f_raises() -> None:
    x = tg.Tensor(np.array([np.nan, -0.0, 5e-324, 1.0]))
    data = x.data  # the tensor's own array (Tensor copied the one it was given)
    calls = 0

    def f() -> tg.Tensor:
        nonlocal calls
        calls += 1
        if calls == 5:
            raise ValueError("in the middle")
        return x.sum()

    with pytest.raises(ValueError, match="in the middle") as info:
        tg.numerical_grad(f, x)
    assert np.shares_memory(x.data, data)  # the same array, put back
    assert data.tobytes() == np.array([np.nan, -0.0, 5e-324, 1.0]).tobytes()
    assert "while entry (2,) was perturbed" in "\n".join(info.value.__notes__)


def test_float32_tensor_is_differentiated_in_float64_and_left_float32() -> None:
    x = tg.Tensor(np.array([0.1, 0.7], dtype=np.float32))
    data = x.data
    grad = tg.numerical_grad(lambda: (x * x).sum(), x)
    # in float32, f's rounding error (~6e-8 · |f|) over 2h = 2e-6 would be ~1.5e-2 of error
    np.testing.assert_allclose(grad, 2 * data.astype(np.float64), rtol=1e-8)
    assert np.shares_memory(x.data, data) and x.data.dtype == np.float32


def test_step_lost_in_rounding_is_an_error() -> None:
    x = tg.Tensor(np.array([1e12]))
    with pytest.raises(tg.NumericsError, match="eps=1e-06 is lost in rounding at entry"):
        tg.numerical_grad(lambda: x.sum(), x)


def test_errors() -> None:
    x = tg.Tensor(np.ones(2))
    with pytest.raises(tg.DTypeError, match="numerical_grad: f must be"):
        tg.numerical_grad(3.0, x)
    with pytest.raises(tg.DTypeError, match="dtype int64"):
        tg.numerical_grad(lambda: 0.0, tg.Tensor(np.arange(3)))
    with pytest.raises(tg.ShapeError, match=r"got shape \(2,\)"):
        tg.numerical_grad(lambda: x * 2.0, x)
    with pytest.raises(tg.ConfigError, match="eps must be a positive"):
        tg.numerical_grad(lambda: x.sum(), x, eps=-1e-6)
