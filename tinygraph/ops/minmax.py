"""The larger or the smaller: elementwise (maximum, minimum) and over axes (max, min).

Where the winner is a tie the gradient is shared, as in PyTorch: ``maximum(a, b)`` at a = b
sends dy/2 to each of a and b (torch.maximum), and ``max`` over an axis sends dy/k to each of
the k entries equal to the max (torch.amax, and torch.max without ``dim``). The shares add up
to dy (at a kink any such split is a valid choice); at a tie of two the central difference
agrees with it, since it sees the full slope on one side and none on the other.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from tinygraph.errors import SpellingError
from tinygraph.node import Op
from tinygraph.ops.shape import Axis, _axes
from tinygraph.spellings import refuse_keywords
from tinygraph.tangent import scaled, total
from tinygraph.tensor import Tensor

_VALUES_ONLY = "; it returns the values only, as numpy's {0}: the indices are tg.arg{0}(x, axis)"


class Maximum(Op):
    """y = max(a, b) elementwise, broadcasting;  da = dy where a > b, db = dy where b > a, and
    da = db = dy/2 where a = b (as torch.maximum)."""

    __slots__ = ()

    name = "maximum"
    broadcasts = True
    pick: ClassVar[np.ufunc] = np.maximum
    loses: ClassVar[np.ufunc] = np.less  # a loses to b where a < b

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.pick(a, b)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        a, b = self.inputs
        need_a, need_b = self.needs_input_grad
        shared = np.where(a == b, grad * 0.5, grad)  # a tie: half each
        da = np.where(self.loses(a, b), 0.0, shared) if need_a else None
        db = np.where(self.loses(b, a), 0.0, shared) if need_b else None
        return da, db

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ȧ where a wins, ḃ where b wins, (ȧ + ḃ)/2 at a tie (the shares of
        backward; a central difference at a tie gives the same mean)."""
        a, b = self.inputs
        n = self.output.ndim
        share = np.where(a == b, 0.5, 1.0)
        return total(scaled(a_dot, np.where(self.loses(a, b), 0.0, share), n),
                     scaled(b_dot, np.where(self.loses(b, a), 0.0, share), n))


class Minimum(Maximum):
    """y = min(a, b) elementwise, broadcasting;  da = dy where a < b, db = dy where b < a, and
    da = db = dy/2 where a = b (as torch.minimum)."""

    __slots__ = ()

    name = "minimum"
    pick = np.minimum
    loses = np.greater  # a loses to b where a > b


class Max(Op):
    """y = max of x over ``axis`` (all axes by default);  dx = dy/k at each of the k entries
    equal to the max along the reduced axes, 0 elsewhere (ties share evenly, as torch.amax)."""

    __slots__ = ("axes", "axis", "keepdims")

    name = "max"
    reduce: ClassVar[np.ufunc] = np.maximum

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis = axis
        self.keepdims = keepdims

    def describe(self) -> str:
        return self.name if self.axis is None else f"{self.name}(axis={self.axis})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.axes = _axes(self.axis, x.ndim)
        return self.reduce.reduce(x, axis=self.axes, keepdims=self.keepdims)

    def explain(self, x: np.ndarray) -> str | None:
        if x.size == 0:
            return f"the {self.name} of no entries (input shape {x.shape}) has no value"
        return None

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        (x,) = self.inputs
        y = self.output
        if not self.keepdims:
            y, grad = np.expand_dims(y, self.axes), np.expand_dims(grad, self.axes)
        winners = x == y
        count = np.add.reduce(winners, axis=self.axes, keepdims=True)
        return (winners * (grad / count.astype(grad.dtype)),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = (1/k) Σ ẋ over the k entries equal to the extreme along the reduced axes."""
        (x,) = self.inputs
        y = self.output if self.keepdims else np.expand_dims(self.output, self.axes)
        winners = x == y
        weights = winners / np.add.reduce(winners, axis=self.axes, keepdims=True)
        return (weights * x_dot).sum(axis=tuple(a + 1 for a in self.axes), keepdims=self.keepdims)


class Min(Max):
    """y = min of x over ``axis`` (all axes by default);  dx = dy/k at each of the k entries
    equal to the min along the reduced axes, 0 elsewhere (ties share evenly, as torch.amin)."""

    __slots__ = ()

    name = "min"
    reduce = np.minimum


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise max(a, b) with broadcasting (numpy.maximum); a tie sends dy/2 to each."""
    return Maximum()(a, b)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise min(a, b) with broadcasting (numpy.minimum); a tie sends dy/2 to each."""
    return Minimum()(a, b)


def max(x: Any, axis: Axis = None, keepdims: bool = False, **torch_names: Any) -> Tensor:  # noqa: A001
    """The largest entry over ``axis`` (numpy.max); tied entries share the gradient evenly.

    For the elementwise maximum of two tensors use ``tg.maximum(a, b)``; for the index of the
    largest entry, ``tg.argmax``.
    """
    refuse_keywords("max", torch_names, ("axis", "keepdims"), note=_VALUES_ONLY.format("max"))
    _refuse_second_tensor("max", axis)
    return Max(axis, keepdims)(x)


def min(x: Any, axis: Axis = None, keepdims: bool = False, **torch_names: Any) -> Tensor:  # noqa: A001
    """The smallest entry over ``axis`` (numpy.min); tied entries share the gradient evenly.

    For the elementwise minimum of two tensors use ``tg.minimum(a, b)``; for the index of the
    smallest entry, ``tg.argmin``.
    """
    refuse_keywords("min", torch_names, ("axis", "keepdims"), note=_VALUES_ONLY.format("min"))
    _refuse_second_tensor("min", axis)
    return Min(axis, keepdims)(x)


def _refuse_second_tensor(who: str, axis: Any) -> None:
    """``max(a, b)`` with two tensors is PyTorch's elementwise maximum; ours takes an axis."""
    if isinstance(axis, (Tensor, np.ndarray)):
        pair = {"max": "maximum", "min": "minimum"}[who]
        raise SpellingError(
            f"{who}(x, axis): the second argument is an axis, got a {type(axis).__name__}; the "
            f"elementwise {pair} of two tensors is tg.{pair}(a, b)"
        )
