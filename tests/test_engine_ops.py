"""Every op's gradient against hand-derived formulas and central differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import central_difference

import tinygraph as tg

RNG = np.random.default_rng(0)


def check(build, *arrays, positive=False, tol=1e-7):
    """Compare tg.grad of sum(build(*tensors) * R) with central differences for every input."""
    arrays = [np.abs(a) + 0.5 if positive else a for a in arrays]
    tensors = [tg.Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = build(*tensors)
    weights = RNG.standard_normal(out.shape)

    def f() -> float:
        return float((build(*tensors).data * weights).sum())

    analytic = tg.grad((build(*tensors) * weights).sum(), tensors)
    for tensor, g in zip(tensors, analytic):
        assert g.shape == tensor.shape
        numeric = central_difference(f, tensor.data)
        np.testing.assert_allclose(g, numeric, atol=tol, rtol=0)


def r(*shape):
    return RNG.standard_normal(shape)


@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))],
)
@pytest.mark.parametrize(
    "fn", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: a / b],
    ids=["add", "sub", "mul", "div"],
)
def test_binary_ops_with_broadcasting(fn, shapes):
    a, b = (r(*s) for s in shapes)
    b = np.where(np.abs(b) < 0.3, 0.7, b)  # keep division away from 0
    check(fn, a, b)


def test_pow_in_base_and_exponent():
    check(lambda a, p: a**p, r(3, 4), r(4), positive=True)
    check(lambda a: a**3, r(2, 5))


@pytest.mark.parametrize(
    "shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
               ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5))],
)
def test_matmul_all_numpy_cases(shapes):
    check(lambda a, b: a @ b, r(*shapes[0]), r(*shapes[1]))


def test_matmul_hand_derived():
    a = tg.Tensor([[1.0, 2.0]], requires_grad=True)
    b = tg.Tensor([[3.0], [4.0]], requires_grad=True)
    (a @ b).backward()  # y = 3 a0 + 4 a1 ... dy/da = b^T, dy/db = a^T
    np.testing.assert_array_equal(a.grad, [[3.0, 4.0]])
    np.testing.assert_array_equal(b.grad, [[1.0], [2.0]])


@pytest.mark.parametrize(
    "fn", [tg.tanh, tg.sigmoid, tg.exp, tg.neg, tg.identity, lambda x: -x],
    ids=["tanh", "sigmoid", "exp", "neg", "identity", "unary-minus"],
)
def test_unary_ops(fn):
    check(fn, r(3, 4))


def test_relu_away_from_the_kink():
    x = r(4, 5)
    x = np.where(np.abs(x) < 0.1, 0.5, x)
    check(tg.relu, x)


def test_log_on_positive_inputs():
    check(tg.log, r(3, 4), positive=True)


def test_hand_derived_nonlinearity_gradients():
    x = tg.Tensor([0.0, 1.0], requires_grad=True)
    tg.tanh(x).sum().backward()
    np.testing.assert_allclose(x.grad, [1.0, 1.0 - np.tanh(1.0) ** 2])
    x.grad = None
    tg.sigmoid(x).sum().backward()
    np.testing.assert_allclose(x.grad, [0.25, np.exp(-1) / (1 + np.exp(-1)) ** 2])
    x.grad = None
    tg.relu(tg.Tensor([-1.0, 2.0]) * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 2.0])


def test_sigmoid_is_stable_at_the_tails():
    y = tg.sigmoid(tg.Tensor([-1000.0, 1000.0])).data
    np.testing.assert_array_equal(y, [0.0, 1.0])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_sum_and_mean(axis, keepdims):
    check(lambda x: x.sum(axis=axis, keepdims=keepdims), r(2, 3, 4))
    check(lambda x: x.mean(axis=axis, keepdims=keepdims), r(2, 3, 4))


def test_mean_hand_derived():
    x = tg.Tensor(np.ones((2, 5)), requires_grad=True)
    x.mean().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 5), 0.1))


@pytest.mark.parametrize(
    "index", [1, (slice(None), 2), (slice(0, 2), slice(1, None)), (Ellipsis, None, 0),
              np.array([0, 2, 0]), (np.array([0, 1, 1]), np.array([2, 2, 3]))],
    ids=["int", "column", "slices", "ellipsis-newaxis", "repeated-rows", "repeated-pairs"],
)
def test_indexing(index):
    check(lambda x: x[index], r(3, 4))


def test_repeated_index_gradients_add_up():
    x = tg.Tensor(np.zeros(3), requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, 1.0])


def test_transpose_and_reshape():
    check(lambda x: x.T, r(3, 4))
    check(lambda x: x.transpose(1, 2, 0), r(2, 3, 4))
    check(lambda x: x.reshape(4, -1), r(2, 3, 4))
    check(lambda x: x.reshape((6, 4)), r(2, 3, 4))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat_and_stack(axis):
    check(lambda a, b, c: tg.concat([a, b, c], axis=axis), r(2, 3), r(2, 3), r(2, 3))
    check(lambda a, b: tg.stack([a, b], axis=axis), r(2, 3), r(2, 3))


def test_concat_of_unequal_widths():
    check(lambda a, b: tg.concat([a, b], axis=1), r(2, 3), r(2, 5))


@pytest.mark.parametrize("axis", [0, -1])
def test_softmax_and_log_softmax(axis):
    check(lambda x: tg.softmax(x, axis=axis), r(3, 5))
    check(lambda x: tg.log_softmax(x, axis=axis), r(3, 5))


def test_softmax_values_sum_to_one_and_survive_large_logits():
    y = tg.softmax(tg.Tensor([[1000.0, 1000.0, -1000.0]])).data
    np.testing.assert_allclose(y, [[0.5, 0.5, 0.0]])


@pytest.mark.parametrize("reduction", ["sum", "mean"])
def test_cross_entropy(reduction):
    targets = np.array([0, 3, 1])
    check(lambda x: tg.cross_entropy(x, targets, reduction=reduction), r(3, 4))


def test_cross_entropy_hand_derived():
    logits = tg.Tensor(np.zeros((2, 4)), requires_grad=True)
    loss = tg.cross_entropy(logits, [1, 2], reduction="mean")
    assert loss.item() == pytest.approx(np.log(4))
    loss.backward()
    expected = np.full((2, 4), 0.25)
    expected[0, 1] -= 1
    expected[1, 2] -= 1
    np.testing.assert_allclose(logits.grad, expected / 2)


def test_cross_entropy_of_sequences_of_logits():
    targets = np.array([[0, 1], [2, 2]])
    check(lambda x: tg.cross_entropy(x, targets), r(2, 2, 3))


def test_python_sum_and_scalar_arithmetic():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = sum([x * 2.0, 3.0 - x, 1.0 / (x + 1.0), 2.0**x])
    y.sum().backward()
    expected = 2.0 - 1.0 - 1.0 / (np.array([1.0, 2.0]) + 1) ** 2 + np.log(2) * 2.0 ** np.array([1, 2])
    np.testing.assert_allclose(x.grad, expected)


def test_ndarray_on_the_left_defers_to_the_tensor():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    y = np.array([3.0, 4.0]) * x
    assert isinstance(y, tg.Tensor)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_transpose_with_negative_axes():
    check(lambda x: x.transpose(0, -1, -2), r(3, 3, 3))
    check(lambda x: x.transpose(-1, 0, 1), r(2, 3, 4))
    check(lambda x: x.transpose(-1, 0), r(2, 3))


def test_python_numbers_keep_a_float32_tensor_float32():
    x = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    y = (x * 2 + 1.5) ** 2 / 3
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_allclose(x.grad, 2 * 3.5 * 2 / 3, rtol=1e-6)


@pytest.mark.parametrize(
    "fn", [tg.tanh, tg.sigmoid, tg.exp, tg.log, tg.relu, tg.neg, tg.identity, lambda x: x * x,
           lambda x: x / 3.0, lambda x: x**2.0, lambda x: x.sum(), lambda x: x.mean()],
)
def test_every_unary_op_on_a_zero_dimensional_tensor(fn):
    check(fn, np.array(0.7))


def test_pow_at_a_zero_base_follows_pytorch():
    a = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    p = tg.Tensor(np.array(2.0), requires_grad=True)
    (a**p).sum().backward()
    assert p.grad == pytest.approx(4.0 * np.log(2.0))
    np.testing.assert_array_equal(a.grad, [0.0, 4.0])
    b = tg.Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (b**0).sum().backward()
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


def test_numpy_float32_scalars_and_seeds_keep_float32():
    x = tg.Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    assert (x - x.data.mean()).dtype == np.float32
    assert (np.float32(2) * x).dtype == np.float32
    assert tg.Tensor(np.float32(1.5)).dtype == np.float32
    assert tg.stack([1.0, x[0], x[1]]).dtype == np.float32
    (x * True).backward([1, 1, 1])
    assert x.grad.dtype == np.float32


def test_transpose_takes_a_sequence_or_none_and_scalars_reduce_over_axis_0():
    x = tg.Tensor(np.arange(6.0).reshape(1, 2, 3))
    assert x.transpose((2, 0, 1)).shape == (3, 1, 2)
    assert x.transpose(None).shape == (3, 2, 1)
    assert tg.Tensor(2.0).sum(axis=0).item() == 2.0
    assert tg.Tensor(2.0).mean(axis=-1).item() == 2.0


# ---------------------------------------------------------------- the ops a learner reaches for
def apart(*shape, gap=0.3):
    """Normal entries with |x| >= gap, so a kink at 0 is out of a central difference's reach."""
    x = r(*shape)
    return np.where(np.abs(x) < gap, np.sign(x) * gap + x, x)


@pytest.mark.parametrize(
    "fn, reference, make",
    [(tg.abs, np.abs, apart), (tg.sqrt, np.sqrt, lambda *s: np.abs(r(*s)) + 0.5),
     (tg.square, np.square, r), (tg.sin, np.sin, r), (tg.cos, np.cos, r)],
    ids=["abs", "sqrt", "square", "sin", "cos"],
)
def test_new_unary_ops_match_numpy_and_central_differences(fn, reference, make):
    x = make(3, 4)
    np.testing.assert_array_equal(fn(tg.Tensor(x)).data, reference(x))
    check(fn, x)
    check(fn, make())  # 0-d


def test_new_unary_ops_hand_derived():
    x = tg.Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    tg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1.0, 0.0, 1.0])  # 0 at the kink, as torch.sign
    x.grad = None
    tg.square(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-4.0, 0.0, 6.0])
    x.grad = None
    (tg.sin(x) + tg.cos(x)).sum().backward()
    np.testing.assert_allclose(x.grad, np.cos([-2.0, 0.0, 3.0]) - np.sin([-2.0, 0.0, 3.0]))
    y = tg.Tensor([4.0, 0.25], requires_grad=True)
    tg.sqrt(y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.25, 1.0])  # 1 / (2 √y)


BROADCAST_PAIRS = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((), (3,))]


@pytest.mark.parametrize("shapes", BROADCAST_PAIRS)
@pytest.mark.parametrize("fn, reference", [(tg.maximum, np.maximum), (tg.minimum, np.minimum)],
                         ids=["maximum", "minimum"])
def test_maximum_and_minimum_with_broadcasting(fn, reference, shapes):
    a, b = (r(*s) for s in shapes)
    np.testing.assert_array_equal(fn(a, tg.Tensor(b)).data, reference(a, b))
    check(fn, a, b)


def test_maximum_and_minimum_split_a_tie_half_and_half():
    a = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.Tensor([1.0, 1.0, 5.0], requires_grad=True)
    tg.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.5, 0.0, 1.0])
    a.grad = b.grad = None
    tg.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.5, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.5, 1.0, 0.0])
    c = tg.Tensor(1.0, requires_grad=True)  # broadcast: the halves add up over the ties
    tg.maximum(tg.Tensor([1.0, 1.0, 0.0]), c).sum().backward()
    assert c.grad == 2.0


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_and_min_over_axes(name, axis, keepdims):
    x = r(2, 3, 4)
    ours = getattr(tg, name)(x, axis=axis, keepdims=keepdims).data
    np.testing.assert_array_equal(ours, getattr(np, name)(x, axis=axis, keepdims=keepdims))
    check(lambda t: getattr(tg, name)(t, axis=axis, keepdims=keepdims), x)


def test_max_ties_share_the_gradient_evenly():
    x = tg.Tensor([[1.0, 3.0, 3.0, 3.0], [2.0, 2.0, 0.0, -1.0]], requires_grad=True)
    tg.max(x, axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1 / 3, 1 / 3, 1 / 3], [0.5, 0.5, 0, 0]])
    x.grad = None
    tg.min(x).backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0, 0], [0, 0, 0, 1]])
    x.grad = None
    tg.max(x, axis=0, keepdims=True).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 1, 1], [1, 0, 0, 0]])


def test_a_tie_of_two_agrees_with_central_differences():
    """At a tie of two the central difference sees half the slope: (max(a+e, a) − a) / 2e."""
    check(lambda x: tg.max(x, axis=1), np.array([[1.0, 2.0, 2.0], [0.5, -1.0, 0.5]]))
    check(tg.maximum, np.array([1.0, 2.0, -3.0]), np.array([1.0, 0.0, -3.0]))


@pytest.mark.parametrize("shapes", [((3, 4), (3, 4), (3, 4)), ((3, 4), (4,), ()), ((3, 1), (1, 4), (3, 4)),
                                    ((2, 1, 4), (3, 1), (4,))])
def test_where_with_broadcasting(shapes):
    cond_shape, a_shape, b_shape = shapes
    cond = r(*cond_shape) > 0
    a, b = r(*a_shape), r(*b_shape)
    np.testing.assert_array_equal(tg.where(cond, a, tg.Tensor(b)).data, np.where(cond, a, b))
    check(lambda x, y: tg.where(cond, x, y), a, b)


def test_where_hand_derived():
    a = tg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = tg.Tensor(10.0, requires_grad=True)
    tg.where(np.array([True, False, True]), a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])
    assert b.grad == 1.0


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (None, 0.2), (-0.2, None), (np.full(4, -0.3), 0.4)],
                         ids=["numbers", "upper only", "lower only", "array and number"])
def test_clip_matches_numpy_and_central_differences(bounds):
    lo, hi = bounds
    x = r(3, 4)
    np.testing.assert_array_equal(tg.clip(x, lo, hi).data, np.clip(x, lo, hi))
    x = np.where(np.abs(np.abs(x) - 0.3) < 0.15, 0.9, x)  # no entry near a bound
    check(lambda t: tg.clip(t, lo, hi), x)


def test_clip_with_tensor_bounds_sends_the_gradient_to_the_bound_it_took():
    x = np.array([[0.0, 1.5, 3.0], [-1.0, 0.2, 0.8]])
    lo, hi = np.array([0.5, 0.5, 0.5]), np.array([[2.0], [0.6]])
    check(tg.clip, x, lo, hi)
    xt, lt, ht = (tg.Tensor(a, requires_grad=True) for a in (x, lo, hi))
    tg.clip(xt, lt, ht).sum().backward()
    np.testing.assert_array_equal(xt.grad, [[0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lt.grad, [2, 1, 0])  # below lo: (0, 0), (1, 0), (1, 1)
    np.testing.assert_array_equal(ht.grad, [[1], [1]])  # above hi: (0, 2), (1, 2)


@pytest.mark.parametrize("sections", [3, [1, 3], [2], [0, 5], [4, 1], np.array([1, 2])],
                         ids=["equal", "two cuts", "one cut", "empty first, past the end",
                              "unsorted", "index array"])
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_matches_numpy_and_every_piece_carries_its_gradient(sections, axis):
    x = r(3, 6)
    pieces = tg.split(tg.Tensor(x), sections, axis=axis)
    expected = np.split(x, sections, axis=axis)
    assert len(pieces) == len(expected)
    for piece, want in zip(pieces, expected):
        np.testing.assert_array_equal(piece.data, want)
    weights = [RNG.standard_normal(p.shape) for p in expected]
    check(lambda t: tg.concat([p.reshape(-1) * float(i + 1)
                               for i, p in enumerate(tg.split(t, sections, axis=axis))]), x)
    xt = tg.Tensor(x, requires_grad=True)
    sum((p * w).sum() for p, w in zip(tg.split(xt, sections, axis=axis), weights)).backward()
    expected = np.zeros_like(x)  # each piece's weights at the positions it covers (they may overlap)
    positions = np.split(np.arange(x.shape[axis]), sections)
    for rows, w in zip(positions, weights):
        np.moveaxis(expected, axis, 0)[rows] += np.moveaxis(w, axis, 0)
    np.testing.assert_array_equal(xt.grad, expected)


def test_split_shows_as_one_getitem_per_piece_reading_x():
    x = tg.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True, name="x")
    pieces = tg.split(x, [1], axis=1)
    assert [p.producer.where() for p in pieces] == ["getitem[:, 0:1]", "getitem[:, 1:3]"]
    assert all(p.producer.inputs[0] is x for p in pieces)
    assert len(x.consumers) == 2


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_match_numpy_and_carry_no_gradient(name, axis, keepdims):
    x = tg.Tensor(r(3, 4), requires_grad=True)
    index = getattr(tg, name)(x, axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(index.data, getattr(np, name)(x.data, axis=axis, keepdims=keepdims))
    assert index.dtype == np.int64 and not index.requires_grad and index.producer is None
    assert x.consumers == []


def test_argmax_picks_the_first_of_tied_entries_and_indexes_with_a_gradient():
    x = tg.Tensor([[1.0, 3.0, 3.0], [5.0, 2.0, 5.0]], requires_grad=True)
    assert tg.argmax(x, axis=1).data.tolist() == [1, 0]
    assert tg.argmax(x).item() == 3
    x.reshape(-1)[tg.argmax(x)].backward()
    np.testing.assert_array_equal(x.grad, [[0, 0, 0], [1, 0, 0]])


# ---------------------------------------------------------------- Tensor methods and abs(x)
@pytest.mark.parametrize("method, function", [
    ("exp", tg.exp), ("log", tg.log), ("tanh", tg.tanh), ("sigmoid", tg.sigmoid), ("relu", tg.relu),
    ("abs", tg.abs), ("sqrt", tg.sqrt), ("max", tg.max), ("min", tg.min),
])
def test_tensor_methods_are_the_functions(method, function):
    x = np.abs(r(3, 4)) + 0.5
    via_method = getattr(tg.Tensor(x, requires_grad=True), method)()
    via_function = function(tg.Tensor(x, requires_grad=True))
    np.testing.assert_array_equal(via_method.data, via_function.data)
    assert via_method.producer.op.name == via_function.producer.op.name
    check(lambda t: getattr(t, method)(), x)


def test_abs_operator_and_method_arguments():
    x = tg.Tensor([[-1.5, 2.0], [0.5, -3.0]], requires_grad=True)
    y = abs(x)
    assert y.producer.op.name == "abs"
    np.testing.assert_array_equal(y.data, [[1.5, 2.0], [0.5, 3.0]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [[-1.0, 1.0], [1.0, -1.0]])
    np.testing.assert_array_equal(x.max(axis=0).data, [0.5, 2.0])
    np.testing.assert_array_equal(x.min(1, keepdims=True).data, [[-1.5], [-3.0]])
    np.testing.assert_array_equal(x.argmax(axis=1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin().data, 3)
    np.testing.assert_array_equal(x.clip(-1.0, 1.0).data, [[-1.0, 1.0], [0.5, -1.0]])
    check(lambda t: abs(t), np.array([[-1.5, 2.0], [0.5, -3.0]]))
