"""numpy turning a tensor into an ndarray or a float: refused while the tensor requires grad.

np.asarray(x), np.array([x1, x2]) (numpy asks each entry for __array__), an object array of
tensors, a[i] = x into an ndarray (numpy calls float(x)) and a[i:j] = x (numpy calls
__array__): each would take the values out of the graph, silently cutting the gradient.
Tensors that do not require grad convert as before.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg


def param() -> tg.Tensor:
    return tg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="h")


@pytest.mark.parametrize("convert", [np.asarray, np.array, lambda t: np.array([t, t]),
                                     lambda t: np.array([t[0], t[1]]), lambda t: [t] * np.ones(2)],
                         ids=["asarray", "array", "list of tensors", "list of rows", "list times array"])
def test_numpy_converting_a_tensor_that_requires_grad_is_refused(convert):
    expect(tg.GraphStateError, lambda: convert(param()), "numpy converted the tensor", "requires grad",
           "np.array([x, ...])", "np.stack", "x.data")


def test_the_refusal_names_the_tensor_and_its_shape():
    expect(tg.GraphStateError, lambda: np.asarray(param()), "'h' of shape (2, 2)")


def test_an_object_array_of_tensors_is_refused_even_without_gradient():
    constant = tg.Tensor([1.0, 2.0])
    for tensor in (param(), constant):
        expect(tg.GraphStateError, lambda t=tensor: np.array([t, t], dtype=object), "dtype=object",
               "cannot hold tensors", "np.stack(tensors)")


def test_tensors_without_gradient_convert_as_before():
    a, b = tg.Tensor([1.0, 2.0]), tg.Tensor([3.0, 4.0])
    np.testing.assert_array_equal(np.asarray(a), [1.0, 2.0])
    np.testing.assert_array_equal(np.array([a, b]), [[1.0, 2.0], [3.0, 4.0]])
    assert float(tg.Tensor(2.5)) == 2.5
    out = np.zeros(3)
    out[0] = tg.Tensor(7.0)
    out[1:] = b
    np.testing.assert_array_equal(out, [7.0, 3.0, 4.0])


def test_float_of_a_tensor_that_requires_grad_is_refused_and_item_gives_the_number():
    loss = (param() * 2.0).sum()
    expect(tg.GraphStateError, lambda: float(loss), "float()", "requires grad", "a[i] = x", "x.item()")
    expect(tg.GraphStateError, lambda: math.exp(loss), "float()")
    assert loss.item() == 20.0


def test_writing_one_entry_of_an_ndarray_with_a_tensor_is_refused():
    """numpy calls float(x) and, since a Tensor is a sequence to it, reports a ValueError whose
    cause is our GraphStateError (shown above it in the traceback)."""
    a = np.zeros(3)
    h = param()
    with pytest.raises(ValueError, match="setting an array element") as info:
        a[0] = h[0, 0]
    assert isinstance(info.value.__cause__, tg.GraphStateError)
    assert "a[i] = x" in str(info.value.__cause__) and "tg.stack" in str(info.value.__cause__)
    np.testing.assert_array_equal(a, 0.0)


def test_writing_a_slice_of_an_ndarray_with_a_tensor_is_refused():
    a = np.zeros((2, 2))
    expect(tg.GraphStateError, lambda: a.__setitem__(0, param()[1]), "numpy converted the tensor",
           "a[i] = x on an ndarray a")
    np.testing.assert_array_equal(a, 0.0)
