"""Comparisons: x > 0, x == y, ... are entrywise (numpy's rules) and give a bool Tensor with no gradient.

Before, ``>`` was a TypeError and ``==`` silently compared identity (``x == x.detach()`` was False).
Hashing stays by identity, so the engine's dicts and sets keyed by tensors keep working.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg

OPERATORS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
             "==": operator.eq, "!=": operator.ne}
RNG = np.random.default_rng(3)


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
@pytest.mark.parametrize("shapes", [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 1), (1, 4)), ((), (2, 3))])
def test_comparisons_are_entrywise_with_broadcasting(symbol, shapes):
    compare = OPERATORS[symbol]
    a = RNG.integers(0, 3, shapes[0]).astype(float)  # small integers: plenty of equal entries
    b = RNG.integers(0, 3, shapes[1]).astype(float)
    x, y = tg.Tensor(a, requires_grad=True), tg.Tensor(b)
    for result in (compare(x, y), compare(x, b), compare(a, y), compare(x, 1.0), compare(1.0, y)):
        assert isinstance(result, tg.Tensor)
        assert result.dtype == np.bool_
        assert not result.requires_grad and result.producer is None
    np.testing.assert_array_equal(compare(x, y).data, compare(a, b))
    np.testing.assert_array_equal(compare(a, y).data, compare(a, b))  # ndarray on the left
    np.testing.assert_array_equal(compare(1.0, y).data, compare(1.0, b))  # number on the left
    assert x.consumers == [] and y.consumers == []  # nothing recorded


def test_equality_compares_values_not_identity():
    x = tg.Tensor([1.0, 2.0], requires_grad=True)
    assert (x == x.detach()).data.all()  # was False: == compared identity
    assert not (x != x.detach()).data.any()
    assert bool(tg.Tensor(2.0) == 2.0) and not bool(tg.Tensor([2.0]) != 2.0)
    expect(tg.ShapeError, lambda: bool(x == x), "bool()", "(2,)", "ambiguous")


def test_a_python_number_is_compared_in_the_tensors_dtype_as_numpy_does():
    x = tg.Tensor(np.array([0.1, 0.5], dtype=np.float32))
    np.testing.assert_array_equal((x == 0.1).data, x.data == 0.1)
    assert (x == 0.1).data.tolist() == [True, False]


def test_comparison_with_none_or_a_string():
    x = tg.Tensor([1.0, 2.0])
    assert (x == None) is False and (x != None) is True  # noqa: E711 (the point of the test)
    assert (x == "a") is False
    with tg.scope(t=2):
        expect(tg.DTypeError, lambda: x < None, "x < y (t=2)", "NoneType", "(2,)")
    expect(tg.DTypeError, lambda: x >= np.array(["a"]), "x >= y", "ndarray")


def test_shapes_that_do_not_broadcast_are_a_shape_error_naming_the_comparison():
    with tg.scope(t=3, layer=1):
        expect(tg.ShapeError, lambda: tg.Tensor(np.ones((2, 3))) > tg.Tensor(np.ones(4)),
               "x > y (t=3, layer=1)", "(2, 3) and (4,)")


def test_hashing_stays_by_identity():
    x, twin = tg.Tensor([1.0]), tg.Tensor([1.0])
    table = {x: "x", twin: "twin"}
    assert table[x] == "x" and table[twin] == "twin" and len({x, twin}) == 2
    assert list(dict.fromkeys([x, twin, x])) == [x, twin]
    assert hash(x) == object.__hash__(x)


def test_membership_in_a_tensor_is_numpys():
    x = tg.Tensor([[1.0, 2.0], [3.0, 4.0]])
    assert 3.0 in x and 5.0 not in x
    assert tg.Tensor([2.0]) in x
    assert None not in x and "3.0" not in x  # numpy: False, not an error
    assert (None in x.data) is False


def test_a_mask_steers_the_gradient_but_gets_none():
    x = tg.Tensor([-1.0, 0.5, 2.0], requires_grad=True)
    (x * (x > 0)).sum().backward()  # the derivative of relu, written with a mask
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])
    x.grad = None
    tg.where(x >= 0.5, x * 3.0, x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 3.0, 3.0])
