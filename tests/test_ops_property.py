"""Property tests: every engine op passes gradcheck on random shapes, broadcasting and values.

Hypothesis draws shapes (0-3 axes of size 1-4, mutually broadcastable pairs and triples, axes,
index arrays with repeats, split sections) and a seed for the values; values are kept away
from kinks and poles (|x| ≥ 0.1 for relu and abs, bases, denominators and square roots in
[0.5, 2] in absolute value, clip's x 0.05 or more from its bounds). Ties are drawn on purpose
where central differences agree with the shared gradient: ties of two in max/min, and any
tie in maximum/minimum. Each example checks L = Σ op(inputs) · w, with w random, by
tg.gradcheck (full mode) and tg.gradcheck_nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)


def normal(rng: np.random.Generator, shape: tuple[int, ...]) -> tg.Tensor:
    return tg.Tensor(rng.standard_normal(shape), requires_grad=True)


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...], low: float) -> tg.Tensor:
    data = rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return tg.Tensor(data, requires_grad=True)


def positive(rng: np.random.Generator, shape: tuple[int, ...]) -> tg.Tensor:
    return tg.Tensor(rng.uniform(0.5, 2.0, shape), requires_grad=True)


def assert_gradients_check(rng: np.random.Generator, op: Callable[..., tg.Tensor],
                           inputs: list[tg.Tensor]) -> None:
    """gradcheck and gradcheck_nodes both pass for L = Σ op(inputs) · w."""
    w = rng.standard_normal(op(*inputs).shape)

    def loss() -> tg.Tensor:
        return (op(*inputs) * w).sum()

    report = tg.gradcheck(loss, inputs)
    assert report.ok, str(report)
    nodes = tg.gradcheck_nodes(loss())
    assert nodes.ok, str(nodes)


BINARY: dict[str, tuple[Callable[..., tg.Tensor], str]] = {
    "add": (lambda a, b: a + b, "normal"),
    "sub": (lambda a, b: a - b, "normal"),
    "mul": (lambda a, b: a * b, "normal"),
    "div": (lambda a, b: a / b, "denominator"),
    "pow": (lambda a, b: a**b, "base"),
    "maximum": (tg.maximum, "normal"),
    "minimum": (tg.minimum, "normal"),
}


@pytest.mark.parametrize("name", sorted(BINARY))  # not drawn: every op gets every example
@SETTINGS
@given(shape_pair=pairs, seed=seeds)
def test_binary_elementwise_with_broadcasting(name: str, shape_pair: hnp.BroadcastableShapes,
                                              seed: int) -> None:
    rng = np.random.default_rng(seed)
    op, kind = BINARY[name]
    shape_a, shape_b = shape_pair.input_shapes
    a = positive(rng, shape_a) if kind == "base" else normal(rng, shape_a)
    b = away_from_zero(rng, shape_b, 0.5) if kind == "denominator" else normal(rng, shape_b)
    assert_gradients_check(rng, op, [a, b])


UNARY: dict[str, Callable[[np.random.Generator, tuple[int, ...]], tg.Tensor]] = {
    "neg": normal, "tanh": normal, "sigmoid": normal, "exp": normal,
    "relu": lambda rng, shape: away_from_zero(rng, shape, 0.1),
    "log": positive,
    "abs": lambda rng, shape: away_from_zero(rng, shape, 0.1),
    "sqrt": positive, "square": normal, "sin": normal, "cos": normal,
}
UNARY_OPS: dict[str, Callable[[tg.Tensor], tg.Tensor]] = {
    "neg": lambda x: -x, "tanh": tg.tanh, "sigmoid": tg.sigmoid, "exp": tg.exp,
    "relu": tg.relu, "log": tg.log,
    "abs": abs, "sqrt": tg.sqrt, "square": tg.square, "sin": tg.sin, "cos": tg.cos,
}


@pytest.mark.parametrize("name", sorted(UNARY))
@SETTINGS
@given(shape=shapes, seed=seeds)
def test_unary_elementwise(name: str, shape: tuple[int, ...], seed: int) -> None:
    rng = np.random.default_rng(seed)
    assert_gradients_check(rng, UNARY_OPS[name], [UNARY[name](rng, shape)])


@st.composite
def reductions(draw: st.DrawFn) -> tuple[tuple[int, ...], int | tuple[int, ...] | None, bool]:
    shape = draw(shapes)
    ndim = len(shape)
    if ndim == 0 or draw(st.booleans()):
        axis: int | tuple[int, ...] | None = None
    elif draw(st.booleans()):
        axis = draw(st.integers(-ndim, ndim - 1))
    else:
        axis = tuple(draw(st.sets(st.integers(0, ndim - 1), min_size=1)))
    return shape, axis, draw(st.booleans())


REDUCTIONS = {"sum": tg.sum, "mean": tg.mean, "max": tg.max, "min": tg.min}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
@SETTINGS
@given(reduction=reductions(), seed=seeds)
def test_sum_mean_max_and_min(name: str, reduction: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape, axis, keepdims = reduction
    reduce = REDUCTIONS[name]
    assert_gradients_check(rng, lambda x: reduce(x, axis=axis, keepdims=keepdims),
                           [normal(rng, shape)])


def with_a_tie_of_two(data: np.ndarray, axis: Any, find: Callable[..., np.ndarray]) -> np.ndarray:
    """data with the winner of every reduced group copied to one more entry of its group."""
    ndim = data.ndim
    axes = tuple(range(ndim)) if axis is None else tuple(int(a) % ndim for a in np.atleast_1d(axis))
    ends = tuple(range(ndim - len(axes), ndim))
    grouped = np.moveaxis(data, axes, ends).copy()  # the reduced axes last, then flattened
    flat = grouped.reshape(*grouped.shape[:ndim - len(axes)], -1)
    if flat.shape[-1] < 2:
        return data
    pick = find(flat, axis=-1)[..., None]
    np.put_along_axis(flat, (pick + 1) % flat.shape[-1], np.take_along_axis(flat, pick, axis=-1), axis=-1)
    return np.moveaxis(flat.reshape(grouped.shape), ends, axes)


@pytest.mark.parametrize("name", ["max", "min"])
@SETTINGS
@given(reduction=reductions(), seed=seeds)
def test_max_and_min_with_a_tie_of_two_agree_with_central_differences(name: str, reduction: tuple,
                                                                      seed: int) -> None:
    """At a tie of two each gets dy/2, which is what the central difference sees."""
    rng = np.random.default_rng(seed)
    shape, axis, keepdims = reduction
    data = with_a_tie_of_two(rng.standard_normal(shape), axis, np.argmax if name == "max" else np.argmin)
    reduce = REDUCTIONS[name]
    assert_gradients_check(rng, lambda x: reduce(x, axis=axis, keepdims=keepdims),
                           [tg.Tensor(data, requires_grad=True)])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@SETTINGS
@given(shape_pair=pairs, seed=seeds)
def test_maximum_and_minimum_with_ties_agree_with_central_differences(
        name: str, shape_pair: hnp.BroadcastableShapes, seed: int) -> None:
    """Entries from {-1, 0, 1}: many ties a = b, where each side gets dy/2 (half the slope)."""
    rng = np.random.default_rng(seed)
    a, b = (tg.Tensor(rng.integers(-1, 2, shape).astype(float), requires_grad=True)
            for shape in shape_pair.input_shapes)
    assert_gradients_check(rng, tg.maximum if name == "maximum" else tg.minimum, [a, b])


@st.composite
def where_cases(draw: st.DrawFn) -> tuple[tuple[int, ...], ...]:
    return draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3,
                                                  max_side=4)).input_shapes


@SETTINGS
@given(where_cases(), seeds)
def test_where_with_broadcasting(shapes: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cond_shape, a_shape, b_shape = shapes
    cond = rng.random(cond_shape) < 0.5
    assert_gradients_check(rng, lambda a, b: tg.where(cond, a, b),
                           [normal(rng, a_shape), normal(rng, b_shape)])


BOUNDS = np.array([-0.5, -0.2, 0.2, 0.5])  # lo from {-0.5, 0.2}, hi from {0.5, -0.2}: some cross


@SETTINGS
@given(where_cases(), seeds)
def test_clip_with_tensor_bounds(shapes: tuple, seed: int) -> None:
    """x entries stay 0.05 or more from every bound, so no central difference meets a kink."""
    rng = np.random.default_rng(seed)
    x_shape, lo_shape, hi_shape = shapes
    x = rng.uniform(-1.0, 1.0, x_shape)
    near = np.abs(x[..., None] - BOUNDS).min(axis=-1) < 0.05
    x = np.where(near, x + 0.1, x)
    lo = rng.choice([-0.5, 0.2], lo_shape)
    hi = rng.choice([0.5, -0.2], hi_shape)
    inputs = [tg.Tensor(v, requires_grad=True) for v in (x, lo, hi)]
    assert_gradients_check(rng, tg.clip, inputs)


@st.composite
def splits(draw: st.DrawFn) -> tuple[tuple[int, ...], Any, int]:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    if draw(st.booleans()):
        return shape, draw(st.sampled_from([n for n in range(1, length + 1) if length % n == 0])), axis
    return shape, draw(st.lists(st.integers(-length - 1, length + 1), max_size=3)), axis


@SETTINGS
@given(splits(), seeds)
def test_split_pieces(case: tuple, seed: int) -> None:
    """Every piece, weighted differently, reaches x (overlapping and empty pieces included)."""
    rng = np.random.default_rng(seed)
    shape, sections, axis = case
    x = tg.Tensor(rng.standard_normal(shape))
    for piece, expected in zip(tg.split(x, sections, axis), np.split(x.data, sections, axis), strict=True):
        np.testing.assert_array_equal(piece.data, expected)

    def pieces(t: tg.Tensor) -> tg.Tensor:
        return tg.concat([p.reshape(-1) * float(i + 1) for i, p in enumerate(tg.split(t, sections, axis))])

    assert_gradients_check(rng, pieces, [normal(rng, shape)])


@st.composite
def matmul_shapes(draw: st.DrawFn) -> tuple[tuple[int, ...], tuple[int, ...]]:
    n, k, m = (draw(st.integers(1, 4)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2,
                                                   max_side=3))
    batch_a, batch_b = batch.input_shapes
    a = (k,) if draw(st.booleans()) else (*batch_a, n, k)
    b = (*batch_b, k, m) if len(a) == 1 or draw(st.booleans()) else (k,)
    return a, b


@SETTINGS
@given(matmul_shapes(), seeds)
def test_matmul_1d_2d_batched_and_broadcast(shape_pair: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape_a, shape_b = shape_pair
    assert_gradients_check(rng, lambda a, b: a @ b, [normal(rng, shape_a), normal(rng, shape_b)])


@st.composite
def shape_moves(draw: st.DrawFn) -> tuple[tuple[int, ...], Callable[[tg.Tensor], tg.Tensor]]:
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    kind = draw(st.sampled_from(["transpose", "reshape", "basic index", "advanced index"]))
    if kind == "transpose":
        axes = tuple(draw(st.permutations(range(len(shape)))))
        negative = draw(st.lists(st.booleans(), min_size=len(axes), max_size=len(axes)))
        axes = tuple(a - len(shape) if flip else a for a, flip in zip(axes, negative))
        return shape, lambda x: x.transpose(*axes)
    if kind == "reshape":
        size = int(np.prod(shape))
        rows = draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]))
        return shape, lambda x: x.reshape(rows, -1)
    if kind == "basic index":
        index = tuple(draw(st.slices(side)) for side in shape[: draw(st.integers(1, len(shape)))])
        return shape, lambda x: x[index]
    rows = draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    return shape, lambda x: x[np.array(rows)]  # repeated rows add up in backward


@SETTINGS
@given(shape_moves(), seeds)
def test_transpose_reshape_getitem(move: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape, op = move
    assert_gradients_check(rng, op, [normal(rng, shape)])


@st.composite
def softmax_cases(draw: st.DrawFn) -> tuple[str, tuple[int, ...], int]:
    name = draw(st.sampled_from(["softmax", "log_softmax", "cross_entropy"]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    axis = -1 if name == "cross_entropy" else draw(st.integers(-len(shape), len(shape) - 1))
    return name, shape, axis


@SETTINGS
@given(softmax_cases(), st.sampled_from(["sum", "mean"]), seeds)
def test_softmax_family(case: tuple, reduction: str, seed: int) -> None:
    rng = np.random.default_rng(seed)
    name, shape, axis = case
    x = tg.Tensor(rng.standard_normal(shape) * 2.0, requires_grad=True)
    if name == "softmax":
        op = lambda z: tg.softmax(z, axis=axis)  # noqa: E731
    elif name == "log_softmax":
        op = lambda z: tg.log_softmax(z, axis=axis)  # noqa: E731
    else:
        targets = rng.integers(0, shape[-1], shape[:-1])
        op = lambda z: tg.cross_entropy(z, targets, reduction=reduction)  # noqa: E731
    assert_gradients_check(rng, op, [x])


@st.composite
def joins(draw: st.DrawFn) -> tuple[str, list[tuple[int, ...]], int]:
    name = draw(st.sampled_from(["concat", "stack"]))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
    count = draw(st.integers(1, 3))
    if name == "stack":
        return name, [shape] * count, draw(st.integers(-len(shape) - 1, len(shape)))
    axis = draw(st.integers(0, len(shape) - 1))
    sizes = [draw(st.integers(1, 3)) for _ in range(count)]
    return name, [(*shape[:axis], s, *shape[axis + 1:]) for s in sizes], axis


@SETTINGS
@given(joins(), seeds)
def test_concat_and_stack(join: tuple, seed: int) -> None:
    rng = np.random.default_rng(seed)
    name, input_shapes, axis = join
    combine = tg.concat if name == "concat" else tg.stack
    inputs = [normal(rng, shape) for shape in input_shapes]
    assert_gradients_check(rng, lambda *xs: combine(list(xs), axis=axis), inputs)
