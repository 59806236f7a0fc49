"""Where the engine differed from PyTorch or accepted what it cannot compute: gradient shapes a
custom op got wrong, complex numbers, dtypes of leaf gradients, pow at 0, empty batches, and
numeric settings of the gradient checks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from expect_error import expect


class Broadcasting(tg.Op):
    """y = x · ones(shape) (x broadcast up); its backward is whatever the test plants."""

    broadcasts = True

    def __init__(self, shape: tuple[int, ...], grad_fn) -> None:
        self.shape = shape
        self.grad_fn = grad_fn

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * np.ones(self.shape)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (self.grad_fn(grad),)


@pytest.mark.parametrize("x_shape, out_shape, grad_fn, returned", [
    ((2, 3), (2, 3), lambda g: 2 * g.T, "(3, 2)"),        # permuted
    ((2, 3), (2, 3), lambda g: g.reshape(6), "(6,)"),     # flattened
    ((1, 3), (1, 3), lambda g: np.float64(1.0) * g.sum(), "()"),  # a scalar
    ((3,), (2, 3), lambda g: g[:, :2], "(2, 2)"),         # not a broadcast of (3,)
])
def test_a_wrong_shaped_gradient_of_a_broadcasting_op_is_refused(x_shape, out_shape, grad_fn,
                                                                 returned) -> None:
    x = tg.Tensor(np.ones(x_shape), requires_grad=True, name="x")
    y = Broadcasting(out_shape, grad_fn)(x)
    expect(tg.BackwardError, lambda: y.sum().backward(), "broadcasting", returned,
           f"has shape {x_shape}", "only axes that the forward broadcast may be summed")


def test_a_true_broadcast_gradient_is_still_summed_back() -> None:
    x = tg.Tensor(np.ones((1, 3)), requires_grad=True)
    y = Broadcasting((4, 2, 3), lambda g: g)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((1, 3), 8.0))


# ---------------------------------------------------------------- complex numbers are refused
def test_complex_data_is_refused_with_advice() -> None:
    expect(tg.DTypeError, lambda: tg.Tensor(np.array([1 + 2j])), "complex", "real-valued",
           "z.real, z.imag")
    expect(tg.DTypeError, lambda: tg.Tensor(1j, requires_grad=True), "complex")
    expect(tg.DTypeError, lambda: tg.sigmoid(10j), "complex")
    logits = tg.Tensor(np.zeros((1, 2)), requires_grad=True)
    expect(tg.DTypeError, lambda: tg.cross_entropy(logits * (1 + 1j), [0]), "complex")


def test_a_complex_seed_is_refused() -> None:
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    expect(tg.DTypeError, lambda: y.backward(np.array([1j, 1j])), "backward", "seed", "complex")
    assert x.grad is None


def test_assigning_complex_data_is_refused() -> None:
    x = tg.Tensor([1.0])

    def assign() -> None:
        x.data = np.array([1j])

    expect(tg.DTypeError, assign, "complex")


class ComplexForward(tg.Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 1j

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)


class ComplexBackward(tg.Op):
    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * (2 + 0j),)


def test_a_custom_op_producing_complex_numbers_is_named() -> None:
    x = tg.Tensor([1.0], requires_grad=True)
    expect(tg.DTypeError, lambda: ComplexForward()(x), "complexforward", "real (not complex)")
    y = ComplexBackward()(x)
    expect(tg.BackwardError, y.sum().backward, "complexbackward", "complex128", "must be real")
    assert x.grad is None


# ---------------------------------------------------------------- dtypes of leaf gradients
def test_a_float32_leaf_gets_a_float32_gradient_beside_float64() -> None:
    a = tg.Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = tg.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    (ga,) = tg.grad((a * b).sum(), [a])
    assert ga.dtype == np.float32


def test_a_float32_leaf_indexed_beside_float64_gets_float32() -> None:
    a = tg.Tensor(np.zeros(3, dtype=np.float32), requires_grad=True)
    (a[[0, 0]] * np.ones(2)).sum().backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad, [2.0, 0.0, 0.0])


def test_float32_against_torch() -> None:
    torch = pytest.importorskip("torch")
    a = tg.Tensor(np.array([0.5, -1.5], dtype=np.float32), requires_grad=True)
    b = tg.Tensor(np.array([2.0, 3.0]), requires_grad=True)
    tg.tanh(a * b).sum().backward()
    ta = torch.tensor([0.5, -1.5], dtype=torch.float32, requires_grad=True)
    tb = torch.tensor([2.0, 3.0], dtype=torch.float64, requires_grad=True)
    torch.tanh(ta * tb).sum().backward()
    assert str(ta.grad.dtype) == "torch.float32" and a.grad.dtype == np.float32
    np.testing.assert_allclose(a.grad, ta.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------- pow at a zero base
def test_d_zero_to_the_p_dp_matches_pytorch() -> None:
    a = tg.Tensor(np.zeros(4))
    p = tg.Tensor(np.array([-1.0, 0.0, 0.5, 2.0]), requires_grad=True)
    with np.errstate(divide="ignore"):
        (a ** p).sum().backward()
    # a^p · ln a at a = 0: 0 for p >= 0 (PyTorch's convention), (+inf)(−inf) = −inf for p < 0
    np.testing.assert_array_equal(p.grad, [-np.inf, 0.0, 0.0, 0.0])


def test_pow_at_zero_against_torch() -> None:
    torch = pytest.importorskip("torch")
    a_np, p_np = np.array([0.0, 0.0, 0.0, 2.0]), np.array([-2.0, 0.0, 3.0, -1.0])
    a = tg.Tensor(a_np, requires_grad=True)
    p = tg.Tensor(p_np, requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        (a ** p).sum().backward()
    ta = torch.tensor(a_np, requires_grad=True)
    tp = torch.tensor(p_np, requires_grad=True)
    (ta ** tp).sum().backward()
    np.testing.assert_array_equal(p.grad, tp.grad.numpy())
    np.testing.assert_array_equal(a.grad, ta.grad.numpy())


# ---------------------------------------------------------------- empty batches
def test_the_mean_cross_entropy_of_an_empty_batch_is_an_error() -> None:
    logits = tg.Tensor(np.zeros((0, 5)), requires_grad=True)
    targets = np.zeros(0, dtype=np.int64)
    expect(tg.ShapeError, lambda: tg.cross_entropy(logits, targets, reduction="mean"),
           "cross_entropy", "empty", "(0, 5)")
    assert tg.cross_entropy(logits, targets).item() == 0.0  # a sum over no terms


# ---------------------------------------------------------------- settings at the API edges
@pytest.mark.parametrize("options, fragment", [
    ({"eps": True}, "eps must be a positive finite number"),
    ({"eps": float("inf")}, "eps"),
    ({"eps": 0.0}, "eps"),
    ({"rtol": float("inf")}, "rtol must be a finite number >= 0"),
    ({"atol": float("nan")}, "atol"),
    ({"atol": -1e-5}, "atol"),
    ({"atol": True}, "atol"),
    ({"directions": True, "mode": "directional"}, "directions"),
    ({"mode": "jvp"}, "mode must be one of 'full', 'directional'"),
])
def test_gradcheck_refuses_settings_that_cannot_check(options, fragment) -> None:
    w = tg.Tensor(np.ones(2), requires_grad=True)
    expect(tg.ConfigError, lambda: tg.gradcheck(lambda: (w * w).sum(), [w], **options),
           "gradcheck", fragment)
    loss = (w * w).sum()
    expect(tg.ConfigError, lambda: tg.gradcheck_nodes(loss, **options), "gradcheck_nodes")


def test_an_infinite_rtol_can_no_longer_pass_a_wrong_gradient() -> None:
    from planted_ops import PlantedTanh

    w = tg.Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(tg.ConfigError):
        tg.gradcheck(lambda: PlantedTanh()(w).sum(), [w], rtol=np.inf)
    assert not tg.gradcheck(lambda: PlantedTanh()(w).sum(), [w]).ok


@pytest.mark.parametrize("make", [
    lambda x: tg.concat([x, x], axis=1.5),
    lambda x: tg.stack([x, x], axis="0"),
])
def test_a_non_integer_axis_is_a_shape_error(make) -> None:
    x = tg.Tensor(np.ones((2, 2)), requires_grad=True)
    expect(tg.ShapeError, lambda: make(x), "axis must be integers")
