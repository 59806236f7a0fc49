"""The conventions of the new ops where the math leaves a choice, each pinned by a hand-derived value.

Ties, kinks and bounds (what PyTorch does, and where we differ), dtypes kept, the caller's mask
copied, and the refusals, each with our own error type and a message naming the function.
"""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg


def leaf(values, dtype=np.float64) -> tg.Tensor:
    return tg.Tensor(np.array(values, dtype=dtype), requires_grad=True)


def test_where_keeps_its_own_copy_of_the_mask():
    """Refilling the caller's mask before backward must change neither the output nor the gradient."""
    mask = np.array([True, False, True])
    a, b = leaf([1.0, 2.0, 3.0]), leaf([10.0, 20.0, 30.0])
    y = tg.where(mask, a, b)
    mask[:] = [False, True, False]
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [1.0, 20.0, 3.0])
    np.testing.assert_array_equal(a.grad, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(b.grad, [0.0, 1.0, 0.0])


def test_where_keeps_its_own_copy_of_a_mask_tensor():
    cond = tg.Tensor(np.array([True, False]))
    a = leaf([1.0, 2.0])
    y = tg.where(cond, a, 0.0)
    cond.data[:] = False
    y.sum().backward()
    np.testing.assert_array_equal(a.grad, [1.0, 0.0])


def test_where_takes_a_list_of_bools_and_refuses_anything_else():
    a = leaf([1.0, 2.0])
    np.testing.assert_array_equal(tg.where([True, False], a, -1.0).data, [1.0, -1.0])
    with tg.scope(t=2):
        expect(tg.DTypeError, lambda: tg.where(np.array([1, 0]), a, 0.0), "where (t=2)", "bool",
               "int64")
    expect(tg.DTypeError, lambda: tg.where([[True], [True, False]], a, 0.0), "where",
           "not a rectangular array")
    expect(tg.DTypeError, lambda: tg.where(None, a, 0.0), "where", "object")


def test_where_frees_its_mask_with_the_other_saved_arrays():
    a = leaf([1.0, 2.0])
    y = tg.where(np.array([True, False]), a, 0.0)
    tg.grad(y.sum(), [a], retain_graph=False)
    assert y.producer.op.cond is None


@pytest.mark.parametrize("op", [tg.abs, tg.sqrt, tg.square, tg.sin, tg.cos, tg.max, tg.min,
                                lambda x: tg.maximum(x, 0.5), lambda x: tg.minimum(0.5, x),
                                lambda x: tg.clip(x, 0.2, 0.9), lambda x: tg.where(x.data > 0.5, x, 1.0),
                                lambda x: tg.split(x, 2)[1]],
                         ids=["abs", "sqrt", "square", "sin", "cos", "max", "min", "maximum",
                              "minimum", "clip", "where", "split"])
def test_float32_stays_float32_forward_and_backward(op):
    x = leaf([0.25, 0.5, 0.75, 1.0], dtype=np.float32)
    y = op(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32


def test_clip_includes_both_bounds_as_torch_clamp():
    x = leaf([-1.0, 0.0, 0.5, 1.0, 2.0])
    tg.clip(x, 0.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_crossed_bounds_is_the_upper_bound_everywhere_as_numpy():
    x, lo, hi = leaf([0.0, 1.5, 5.0]), leaf(3.0), leaf(1.0)
    y = tg.clip(x, lo, hi)
    np.testing.assert_array_equal(y.data, np.clip(x.data, 3.0, 1.0))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert lo.grad == 0.0 and hi.grad == 3.0


def test_clip_with_equal_bounds_sends_the_gradient_to_the_lower_bound():
    """Below lo = hi the output is lo: dlo = dy (torch.clamp sends it nowhere: a lost gradient)."""
    x, lo, hi = leaf([0.0, 1.0, 2.0]), leaf(1.0), leaf(1.0)
    tg.clip(x, lo, hi).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    assert lo.grad == 1.0 and hi.grad == 1.0
    c = leaf(1.0)  # one tensor as both bounds: y = c everywhere but at the tie, dy/dc = 2
    x.grad = None
    tg.clip(x, c, c).sum().backward()
    assert c.grad == 2.0


def test_clip_without_bounds_and_with_one_bound():
    x = leaf([-2.0, 0.0, 2.0])
    np.testing.assert_array_equal(tg.clip(x).data, x.data)
    np.testing.assert_array_equal(tg.clip(x, None, 1.0).data, [-2.0, 0.0, 1.0])
    np.testing.assert_array_equal(tg.clip(x, a_min=-1.0).data, [-1.0, 0.0, 2.0])


def test_sqrt_at_zero_has_an_infinite_slope_as_in_torch():
    x = leaf([0.0, 4.0])
    with np.errstate(divide="ignore"):
        tg.sqrt(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [np.inf, 0.25])


def test_max_and_argmax_work_on_integer_data_without_a_graph():
    counts = tg.Tensor(np.array([[3, 7, 7], [1, 0, 2]]))
    assert tg.max(counts).item() == 7 and tg.max(counts).dtype.kind == "i"
    assert tg.argmax(counts).item() == 1
    np.testing.assert_array_equal(tg.argmin(counts, axis=1).data, [0, 1])


def test_reductions_of_a_scalar_over_axis_0_are_the_scalar_as_in_torch():
    x = leaf(2.5)
    assert tg.max(x, axis=0).item() == 2.5 and tg.min(x, axis=-1).item() == 2.5
    assert tg.argmax(x, axis=0).item() == 0
    tg.max(x, axis=0).backward()
    assert x.grad == 1.0


def test_max_of_two_tensors_asks_for_maximum():
    x = leaf([1.0, 2.0])
    expect(tg.SpellingError, lambda: tg.max(x, x), "max(x, axis)", "tg.maximum(a, b)")
    expect(tg.SpellingError, lambda: tg.min(x, np.zeros(2)), "min(x, axis)", "ndarray",
           "tg.minimum(a, b)")
    assert issubclass(tg.SpellingError, TypeError)


def test_argmax_refuses_a_tuple_axis_and_an_axis_out_of_range():
    x = leaf(np.ones((2, 3)))
    with tg.scope(t=1, layer=0):
        expect(tg.ShapeError, lambda: tg.argmax(x, axis=(0, 1)), "argmax (t=1, layer=0)", "one integer",
               "(0, 1)")
    expect(tg.ShapeError, lambda: tg.argmin(x, axis=-3), "argmin", "axis -3", "2 axes")
    expect(tg.ShapeError, lambda: tg.argmax(tg.Tensor(3.0), axis=1), "argmax", "axis 1", "0 axes")


def test_split_refusals_name_split():
    x = leaf(np.ones((2, 3)))
    expect(tg.ShapeError, lambda: tg.split(x, 0), "split", "positive", "0")
    expect(tg.ShapeError, lambda: tg.split(x, 2.0), "split", "int or a list", "float")
    expect(tg.ShapeError, lambda: tg.split(x, True), "split", "int or a list", "bool")
    expect(tg.ShapeError, lambda: tg.split(x, 1, axis=1.0), "split", "axis must be one integer")
    expect(tg.ShapeError, lambda: tg.split(tg.Tensor(1.0), 1), "split", "shape ()")


def test_split_of_an_array_gives_constant_pieces_and_an_empty_list_gives_one_piece():
    pieces = tg.split(np.arange(6.0), 3)
    assert [p.data.tolist() for p in pieces] == [[0, 1], [2, 3], [4, 5]]
    assert not any(p.requires_grad for p in pieces)
    (whole,) = tg.split(leaf([1.0, 2.0]), [])
    np.testing.assert_array_equal(whole.data, [1.0, 2.0])
