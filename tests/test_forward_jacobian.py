"""tg.jacobian: rows by reverse mode, columns by forward mode, the same matrix either way."""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg

RNG = np.random.default_rng(7)
W = RNG.standard_normal((4, 3))
X = RNG.standard_normal(3)


class ForwardOnly(tg.Op):
    """y = 3x with a jvp rule and a backward that must not be called."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 3 * x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        raise AssertionError("reverse mode was used")

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        return 3 * x_dot


class ReverseOnly(tg.Op):
    """y = 3x with a backward and no jvp rule."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 3 * x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (3 * grad,)


def layer(x: tg.Tensor) -> tg.Tensor:
    return tg.tanh(x @ W.T)


@pytest.mark.parametrize("mode", ["auto", "forward", "reverse"])
def test_the_jacobian_of_a_tanh_layer_by_hand(mode: str) -> None:
    """y = tanh(W x): J = diag(1 − y²) W."""
    y = np.tanh(W @ X)
    np.testing.assert_allclose(tg.jacobian(layer, X, mode=mode), (1 - y**2)[:, None] * W,
                               rtol=1e-14, atol=1e-15)


def numerical_jacobian(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    columns = []
    for j in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[j] = eps
        with tg.no_grad():
            columns.append((f(tg.Tensor(x + step)).data - f(tg.Tensor(x - step)).data) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(columns[0].shape + x.shape)


FUNCTIONS = {
    "matrix in, vector out": (lambda x: tg.softmax(x.sum(axis=0)) * 2.0, (2, 3)),
    "vector in, matrix out": (lambda x: tg.stack([tg.exp(x), x * x]), (3,)),
    "scalar out": (lambda x: tg.log_softmax(x, axis=-1)[:, 0].sum(), (2, 4)),
    "scalar in": (lambda x: tg.concat([x * 2.0, tg.tanh(x)]).reshape(2, 1), (1,)),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_both_modes_agree_with_each_other_and_with_central_differences(name: str) -> None:
    f, shape = FUNCTIONS[name]
    x = np.random.default_rng(len(name)).standard_normal(shape)
    forward = tg.jacobian(f, x, mode="forward")
    reverse = tg.jacobian(f, x, mode="reverse")
    assert forward.shape == reverse.shape == numerical_jacobian(f, x).shape
    np.testing.assert_allclose(forward, reverse, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(forward, numerical_jacobian(f, x), rtol=1e-6, atol=1e-8)


def test_both_modes_agree_with_torch():
    torch = pytest.importorskip("torch")
    theirs = torch.autograd.functional.jacobian(lambda t: torch.tanh(t @ torch.tensor(W).T),
                                                torch.tensor(X)).numpy()
    for mode in ("forward", "reverse"):
        np.testing.assert_allclose(tg.jacobian(layer, X, mode=mode), theirs, rtol=1e-12, atol=1e-14)


def test_auto_takes_reverse_mode_for_fewer_outputs_than_inputs():
    """A scalar of 3 inputs: reverse (one row). The op without jvp proves which mode ran."""
    f = lambda x: ReverseOnly()(x).sum()  # noqa: E731
    np.testing.assert_array_equal(tg.jacobian(f, np.ones(3)), [3.0, 3.0, 3.0])
    expect(tg.ForwardModeError, lambda: tg.jacobian(f, np.ones(3), mode="forward"),
           "forward mode through reverseonly: ReverseOnly has no jvp rule")


def test_auto_takes_forward_mode_otherwise():
    """3 inputs to 3 outputs (a tie) and 1 input to 3 outputs: forward (one batched walk)."""
    np.testing.assert_array_equal(tg.jacobian(lambda x: ForwardOnly()(x), np.ones(3)), 3 * np.eye(3))
    np.testing.assert_array_equal(tg.jacobian(lambda x: ForwardOnly()(x * np.ones(3)), np.ones(1)),
                                  [[3.0], [3.0], [3.0]])


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_an_output_that_does_not_depend_on_x_has_a_zero_jacobian(mode: str) -> None:
    J = tg.jacobian(lambda x: tg.Tensor(np.ones(2)) * 2.0, np.ones(3), mode=mode)
    np.testing.assert_array_equal(J, np.zeros((2, 3)))


def test_bad_calls_are_our_errors():
    expect(tg.ConfigError, lambda: tg.jacobian(layer, X, mode="both"),
           "jacobian: mode must be one of 'auto', 'forward', 'reverse', got 'both'")
    expect(tg.DTypeError, lambda: tg.jacobian(lambda x: x.data, X),
           "jacobian: f must return a tg.Tensor, got a numpy array (not part of the graph: use "
           "tg ops)")
    expect(tg.DTypeError, lambda: tg.jacobian(layer, np.array([1, 2, 3])),
           "jacobian: input 0 has dtype int64; differentiating needs a float input")
    expect(tg.DTypeError, lambda: tg.jacobian("f", X), "jacobian: f must be a function of one Tensor")
