"""Tensors compare by value now (x == y is entrywise), so code that looks a tensor up in a list or
tuple must do it by identity: ``seq.index(t)``, ``t in seq`` and ``seq == (a, b)`` call ``==``.

tinygraph/backward.py finds an input's position on the anomaly path by identity
(``backward.input_index``); by value it would raise for inputs that do not broadcast, or name
the wrong input when two one-entry inputs hold the same value.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.indexed_grad import IndexedGrad


class NanForSecond(tg.Op):
    """y = a + b, whose backward sends NaN to its second input."""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return grad, grad * np.nan


class IndexedNanForSecond(NanForSecond):
    """The same, its second gradient given as an IndexedGrad (as getitem's backward gives it)."""

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, IndexedGrad]:
        return grad, IndexedGrad((slice(None),), grad * np.nan, grad.shape, True)


def test_anomaly_checks_the_gradient_of_a_second_input_that_does_not_broadcast_with_the_first():
    a = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    b = tg.Tensor(np.ones(3), requires_grad=True)
    with tg.detect_anomaly():
        (a * b).sum().backward()
    np.testing.assert_array_equal(b.grad, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("op", [NanForSecond, IndexedNanForSecond])
def test_anomaly_names_the_input_that_got_the_nan_even_when_its_value_equals_another(op):
    a = tg.Tensor([2.0], requires_grad=True)
    b = tg.Tensor([2.0], requires_grad=True)  # equal values: a == b is True, a is b is not
    with tg.detect_anomaly(), pytest.raises(tg.NumericsError, match="gradient for input 1"):
        op()(a, b).sum().backward()


def test_value_equality_of_tensors_in_sequences_is_why_lookups_go_by_identity():
    """What ``in`` and ``index`` do now: compare values. Identity is what the engine needs."""
    x, twin = tg.Tensor([1.0]), tg.Tensor([1.0])
    assert x in [twin] and [twin].index(x) == 0  # by value: equal entries
    assert not any(t is x for t in [twin])  # by identity: another tensor
    assert next(i for i, t in enumerate([twin, x]) if t is x) == 1
