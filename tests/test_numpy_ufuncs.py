"""numpy's ufuncs on tensors (NEP 13): each records the tg op it stands for, or is refused.

For every ufunc of the table: the same values as numpy on the arrays, the same node (op class,
name, label) as the tg spelling, the same gradient as the tg spelling (bit for bit) and as
central differences, and PyTorch's gradient where torch is installed; with the tensor on
either side of an ndarray, through the ufunc and through the ndarray's operators. Then every
refusal: the error type, the numpy call named, the spelling to use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg
from tinygraph.numpy_protocols.ufuncs import COMPARISONS, RECORDED, TESTS


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.standard_normal(shape)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.5, 2.0, shape)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.2, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


# ufunc: (tg spelling, values, torch spelling by name)
UNARY: dict[np.ufunc, tuple[Callable[..., tg.Tensor], Callable[..., np.ndarray], str]] = {
    np.tanh: (tg.tanh, normal, "tanh"),
    np.exp: (tg.exp, normal, "exp"),
    np.log: (tg.log, positive, "log"),
    np.sqrt: (tg.sqrt, positive, "sqrt"),
    np.square: (tg.square, normal, "square"),
    np.abs: (tg.abs, away_from_zero, "abs"),
    np.sin: (tg.sin, normal, "sin"),
    np.cos: (tg.cos, normal, "cos"),
    np.negative: (tg.neg, normal, "neg"),
    np.positive: (tg.identity, normal, "positive"),
}
# ufunc: (tg spelling, values of a, values of b, shapes of a and b, torch spelling)
BINARY: dict[np.ufunc, tuple[Callable[..., tg.Tensor], Callable[..., np.ndarray],
                             Callable[..., np.ndarray], tuple[tuple[int, ...], tuple[int, ...]], str]] = {
    np.add: (tg.add, normal, normal, ((2, 3), (3,)), "add"),
    np.subtract: (tg.sub, normal, normal, ((2, 3), (2, 1)), "sub"),
    np.multiply: (tg.mul, normal, normal, ((2, 3), (3,)), "mul"),
    np.divide: (tg.div, normal, away_from_zero, ((2, 3), (3,)), "div"),
    np.power: (tg.power, positive, normal, ((2, 3), (3,)), "pow"),
    np.maximum: (tg.maximum, normal, normal, ((2, 3), (3,)), "maximum"),
    np.minimum: (tg.minimum, normal, normal, ((2, 3), (2, 1)), "minimum"),
    np.matmul: (tg.matmul, normal, normal, ((2, 3), (3, 4)), "matmul"),
}
OPERATORS: dict[np.ufunc, Callable[[Any, Any], Any]] = {
    np.add: lambda a, b: a + b, np.subtract: lambda a, b: a - b, np.multiply: lambda a, b: a * b,
    np.divide: lambda a, b: a / b, np.power: lambda a, b: a**b, np.matmul: lambda a, b: a @ b,
}


def leaf(data: np.ndarray) -> tg.Tensor:
    return tg.Tensor(data, requires_grad=True)


def node_of(y: tg.Tensor) -> tuple[type, str, str]:
    op = y.producer.op
    return type(op), op.name, op.describe()


def grads(f: Callable[..., tg.Tensor], arrays: list[np.ndarray], w: np.ndarray) -> list[np.ndarray]:
    """d Σ(f(*leaves) · w) / d leaf, for fresh leaves holding ``arrays``."""
    leaves = [leaf(a) for a in arrays]
    (f(*leaves) * w).sum().backward()
    return [x.grad for x in leaves]


def test_the_table_covers_the_elementwise_ops_of_the_engine():
    assert set(UNARY) | set(BINARY) == set(RECORDED)
    assert {u.__name__ for u in RECORDED} >= {"add", "subtract", "multiply", "divide", "power",
                                              "negative", "tanh", "exp", "log", "sqrt", "square",
                                              "absolute", "maximum", "minimum", "sin", "cos",
                                              "matmul"}


@pytest.mark.parametrize("ufunc", list(UNARY), ids=lambda u: u.__name__)
def test_a_unary_ufunc_records_the_tg_op(ufunc: np.ufunc):
    tg_op, values, _ = UNARY[ufunc]
    rng = np.random.default_rng(0)
    data, w = values(rng, (2, 3)), rng.standard_normal((2, 3))
    y, y_tg = ufunc(leaf(data)), tg_op(leaf(data))
    assert isinstance(y, tg.Tensor) and y.requires_grad
    assert node_of(y) == node_of(y_tg)
    np.testing.assert_array_equal(y.data, ufunc(data))
    np.testing.assert_array_equal(y.data, y_tg.data)
    (dx,), (dx_tg,) = grads(ufunc, [data], w), grads(tg_op, [data], w)
    np.testing.assert_array_equal(dx, dx_tg)
    x = leaf(data)
    np.testing.assert_allclose(dx, tg.numerical_grad(lambda: (ufunc(x) * w).sum(), x), rtol=1e-6,
                               atol=1e-8)


@pytest.mark.parametrize("ufunc", list(BINARY), ids=lambda u: u.__name__)
@pytest.mark.parametrize("sides", ["tensor, tensor", "ndarray, tensor", "tensor, ndarray"])
def test_a_binary_ufunc_records_the_tg_op_with_the_tensor_on_either_side(ufunc: np.ufunc, sides: str):
    tg_op, values_a, values_b, (shape_a, shape_b), _ = BINARY[ufunc]
    rng = np.random.default_rng(1)
    a, b = values_a(rng, shape_a), values_b(rng, shape_b)
    w = rng.standard_normal(ufunc(a, b).shape)
    wrap_a, wrap_b = (side == "tensor" for side in sides.split(", "))
    a_in, b_in = (leaf(a) if wrap_a else a), (leaf(b) if wrap_b else b)
    y, y_tg = ufunc(a_in, b_in), tg_op(a_in, b_in)
    assert node_of(y) == node_of(y_tg)
    np.testing.assert_array_equal(y.data, ufunc(a, b))
    leaves = [t for t in (a_in, b_in) if isinstance(t, tg.Tensor)]
    (y * w).sum().backward()
    ours = [t.grad for t in leaves]
    for t in leaves:
        t.grad = None
    (y_tg * w).sum().backward()
    for t, dx in zip(leaves, ours):
        np.testing.assert_array_equal(dx, t.grad)
        numerical = tg.numerical_grad(lambda: (ufunc(a_in, b_in) * w).sum(), t)
        np.testing.assert_allclose(dx, numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("ufunc", list(OPERATORS), ids=lambda u: u.__name__)
def test_an_ndarray_operator_on_a_tensor_records_the_same_node_as_the_ufunc(ufunc: np.ufunc):
    """``ndarray OP x`` (numpy calls the ufunc) and ``x OP ndarray`` (Tensor's operator)."""
    _, values_a, values_b, (shape_a, shape_b), _ = BINARY[ufunc]
    rng = np.random.default_rng(2)
    a, b = values_a(rng, shape_a), values_b(rng, shape_b)
    operator = OPERATORS[ufunc]
    left, right = operator(a, leaf(b)), operator(leaf(a), b)
    for y in (left, right):
        assert isinstance(y, tg.Tensor) and y.requires_grad
        assert node_of(y) == node_of(ufunc(leaf(a), leaf(b)))
        np.testing.assert_array_equal(y.data, operator(a, b))


def test_a_numpy_scalar_on_the_left_records_too():
    x = leaf(np.array([1.0, 2.0]))
    y = np.float64(3.0) * x
    assert y.producer.op.name == "mul"
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_an_ndarray_operand_is_copied_as_the_tg_op_copies_it():
    a = np.array([1.0, 2.0])
    x = leaf(np.array([3.0, 4.0]))
    y = np.multiply(a, x)
    a[:] = 100.0  # the caller refills its buffer before backward
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])


def test_float32_stays_float32_through_a_ufunc():
    x = tg.Tensor(np.array([0.5, 1.0], dtype=np.float32), requires_grad=True)
    y = np.tanh(np.multiply(x, 2.0))
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_nothing_is_recorded_under_no_grad():
    x = leaf(np.array([1.0, 2.0]))
    with tg.no_grad():
        y = np.exp(x)
    assert isinstance(y, tg.Tensor) and y.producer is None and not y.requires_grad


@pytest.mark.parametrize("ufunc", list(UNARY) + list(BINARY), ids=lambda u: u.__name__)
def test_gradients_agree_with_torch(ufunc: np.ufunc):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    if ufunc in UNARY:
        _, values, name = UNARY[ufunc]
        arrays = [values(rng, (2, 3))]
    else:
        _, values_a, values_b, (shape_a, shape_b), name = BINARY[ufunc]
        arrays = [values_a(rng, shape_a), values_b(rng, shape_b)]
    w = rng.standard_normal(ufunc(*arrays).shape)
    ours = grads(ufunc, arrays, w)
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    spelling = (lambda t: +t) if name == "positive" else getattr(torch, name)
    (spelling(*leaves) * torch.tensor(w)).sum().backward()
    for mine, theirs in zip(ours, leaves):
        np.testing.assert_allclose(mine, theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- no gradient: comparisons, tests
@pytest.mark.parametrize("ufunc", list(COMPARISONS), ids=lambda u: u.__name__)
def test_a_comparison_gives_a_bool_tensor_without_gradient_on_either_side(ufunc: np.ufunc):
    a = np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]])
    b = np.array([1.0, 1.0, 1.0])
    x = leaf(a)
    for result in (ufunc(x, b), ufunc(b.copy(), x)):
        assert isinstance(result, tg.Tensor)
        assert result.dtype == np.bool_ and not result.requires_grad and result.producer is None
    np.testing.assert_array_equal(ufunc(x, b).data, ufunc(a, b))
    np.testing.assert_array_equal(ufunc(b, x).data, ufunc(b, a))


def test_an_ndarray_comparison_operator_with_a_tensor_on_the_right():
    x = leaf(np.array([0.0, 1.0, 2.0]))
    result = np.ones(3) < x
    assert isinstance(result, tg.Tensor)
    np.testing.assert_array_equal(result.data, [False, False, True])


@pytest.mark.parametrize("ufunc", TESTS, ids=lambda u: u.__name__)
def test_isnan_isinf_isfinite_give_bool_tensors_without_gradient(ufunc: np.ufunc):
    data = np.array([0.0, np.inf, -np.inf, np.nan])
    x = leaf(data)
    with np.errstate(all="ignore"):
        result = ufunc(x)
    assert isinstance(result, tg.Tensor) and not result.requires_grad
    np.testing.assert_array_equal(result.data, ufunc(data))


# ---------------------------------------------------------------- refusals
def x23() -> tg.Tensor:
    return tg.Tensor(np.linspace(0.1, 0.6, 6).reshape(2, 3), requires_grad=True, name="x")


@pytest.mark.parametrize("call, fragments", [
    (lambda x: np.log1p(x), ("np.log1p", "not recorded on tensors", "np.log(1 + x)")),
    (lambda x: np.reciprocal(x), ("np.reciprocal", "1 / x")),
    (lambda x: np.sign(x), ("np.sign", "np.sign(x.data)", "no gradient")),
    (lambda x: np.arctan(x), ("np.arctan", "tg ops, or x.data", "numpy functions on tensors")),
    (lambda x: np.hypot(x, x), ("np.hypot",)),
    (lambda x: np.frexp(x), ("np.frexp",)),
], ids=["log1p", "reciprocal", "sign", "arctan", "hypot", "frexp"])
def test_a_ufunc_that_is_not_recorded_is_refused_with_advice(call: Callable[..., Any], fragments):
    expect(tg.SpellingError, lambda: call(x23()), *fragments)


def test_an_unrecorded_ufunc_is_refused_on_a_constant_tensor_too():
    expect(tg.SpellingError, lambda: np.arctan(tg.Tensor([1.0])), "np.arctan")


def test_a_refusal_names_the_scope():
    with tg.scope(t=3, layer=1):
        expect(tg.SpellingError, lambda: np.log1p(x23()), "np.log1p (t=3, layer=1)")


@pytest.mark.parametrize("call, fragments", [
    (lambda x: np.add.reduce(x), ("np.add.reduce", "ufunc methods", "np.sum(x, axis)")),
    (lambda x: np.maximum.reduce(x, axis=0), ("np.maximum.reduce", "np.max(x, axis)")),
    (lambda x: np.add.accumulate(x), ("np.add.accumulate", "ufunc methods")),
    (lambda x: np.multiply.outer(x, x), ("np.multiply.outer", "np.reshape(a, (-1, 1))")),
    (lambda x: np.add.at(x, [0], 1.0), ("np.add.at", "not written in place")),
], ids=["add.reduce", "maximum.reduce", "add.accumulate", "multiply.outer", "add.at"])
def test_a_ufunc_method_is_refused_with_advice(call: Callable[..., Any], fragments):
    expect(tg.SpellingError, lambda: call(x23()), *fragments)


def test_out_into_an_ndarray_is_refused_and_so_is_augmented_assignment():
    a = np.zeros((2, 3))
    x = x23()

    def augmented() -> None:
        b = np.zeros((2, 3))
        b += x

    expect(tg.SpellingError, lambda: np.tanh(x, out=a), "np.tanh(..., out=...)", "outside the graph")
    expect(tg.SpellingError, augmented, "np.add(..., out=...)", "a += x", "a = a + x")
    np.testing.assert_array_equal(a, 0.0)  # nothing was written


def test_out_into_a_tensor_is_refused():
    x = x23()
    expect(tg.SpellingError, lambda: np.add(x, 1.0, out=x), "np.add(..., out=...)")
    np.testing.assert_array_equal(x.data, x23().data)


def test_where_and_dtype_and_other_keywords_are_refused():
    x = x23()
    mask = np.array([True, False, True])
    expect(tg.SpellingError, lambda: np.add(x, 1.0, where=mask), "np.add(..., where=mask)", "np.where(mask")
    expect(tg.SpellingError, lambda: np.exp(x, dtype=np.float32), "np.exp(..., dtype=", "astype")
    expect(tg.SpellingError, lambda: np.add(x, 1.0, casting="unsafe"), "casting='unsafe'")


def test_keywords_given_at_their_default_change_nothing():
    x = x23()
    y = np.add(x, 1.0, casting="same_kind", order="K", dtype=None, subok=True)
    assert y.producer.op.name == "add"


def test_an_object_array_beside_a_tensor_is_refused():
    objects = np.array([1.0, 2.0, 3.0], dtype=object)
    expect(tg.GraphStateError, lambda: np.add(objects, x23()), "np.add", "object array",
           "Python list", "np.stack")


def test_every_ufunc_of_numpy_records_or_is_refused_never_an_ndarray():
    """The whole ufunc namespace on a tensor that requires grad: a Tensor or our error."""
    ufuncs = {value for value in vars(np).values() if isinstance(value, np.ufunc)}
    assert len(ufuncs) > 60
    for ufunc in ufuncs:
        x = tg.Tensor(np.linspace(0.1, 0.6, 6), requires_grad=True)
        args = (x,) * ufunc.nin
        try:
            result = ufunc(*args)
        except tg.TinygraphError:
            assert ufunc not in RECORDED
            continue
        assert isinstance(result, tg.Tensor), ufunc.__name__
        assert ufunc in RECORDED or ufunc in COMPARISONS or ufunc in TESTS
