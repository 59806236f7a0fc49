"""Ops that move or reduce entries: indexing, transpose, reshape, sum, mean, concat, stack."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, ShapeError
from tinygraph.indexed_grad import IndexedGrad
from tinygraph.node import Op, apply
from tinygraph.tangent import batch_axis, filled, take
from tinygraph.tensor import Tensor

Axis = int | Sequence[int] | None


def _is_basic(index: Any) -> bool:
    """True when ``x[index]`` is a view (ints, slices, None, Ellipsis): no entry repeats."""
    for part in index if type(index) is tuple else (index,):
        kind = type(part)
        if kind is slice or kind is int or part is None or part is Ellipsis:
            continue
        if not isinstance(part, np.integer) or isinstance(part, bool):
            return False
    return True


class GetItem(Op):
    """y = x[index];  dx = zeros with dy added at index (repeated indices add up).

    The backward returns an :class:`IndexedGrad`, so slicing T steps out of a sequence costs
    O(T) in all, not T full-size zero arrays.
    """

    __slots__ = ("in_shape", "index")
    keeps_inputs = False
    saves_output = False

    name = "getitem"

    def __init__(self, index: Any) -> None:
        self.index = index

    def describe(self) -> str:
        return f"getitem[{_format_index(self.index)}]"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.in_shape = x.shape
        return x[self.index]

    def backward(self, grad: np.ndarray) -> tuple[IndexedGrad]:
        return (IndexedGrad(self.index, grad, self.in_shape, _is_basic(self.index)),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ[index] for each of the K directions (see ``tinygraph.tangent.take``)."""
        index = self.index
        parts = index if type(index) is tuple else (index,)
        return take(x_dot, parts, self.in_shape, _is_basic(index))


def _format_index(index: Any) -> str:
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    for p in parts:
        if isinstance(p, slice):
            text = ":".join("" if v is None else str(v) for v in (p.start, p.stop))
            out.append(text + (f":{p.step}" if p.step is not None else ""))
        elif p is Ellipsis:
            out.append("...")
        elif isinstance(p, np.ndarray):
            out.append(f"array{p.shape}")
        else:
            out.append(str(p))
    return ", ".join(out)


class Transpose(Op):
    """y = xᵀ (axes permuted by ``axes``, reversed by default);  dx = dy permuted back."""

    __slots__ = ("axes",)
    saves_output = False
    keeps_inputs = False

    name = "transpose"

    def __init__(self, axes: Sequence[int] | None = None) -> None:
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.axes is not None:
            axes = check_ints(self.axes, "transpose axes")
            if x.ndim and all(-x.ndim <= a < x.ndim for a in axes):
                self.axes = tuple(a % x.ndim for a in axes)  # backward inverts positive axes
        return np.transpose(x, self.axes)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        if self.axes is None:
            return (np.transpose(grad),)
        return (np.transpose(grad, np.argsort(self.axes)),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ with x's axes permuted the same way (the K axis stays first)."""
        n = x_dot.ndim - 1
        axes = range(n - 1, -1, -1) if self.axes is None else self.axes
        return np.transpose(x_dot, (0, *(a + 1 for a in axes)))


class Reshape(Op):
    """y = x in a new shape;  dx = dy in x's shape."""

    __slots__ = ("in_shape", "shape")
    keeps_inputs = False
    saves_output = False

    name = "reshape"

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = tuple(shape)

    def describe(self) -> str:
        return f"reshape{self.shape}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_ints(self.shape, "the new shape")
        self.in_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad.reshape(self.in_shape),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ in y's shape, for each of the K directions."""
        return x_dot.reshape(x_dot.shape[:1] + self.output.shape)


def check_ints(values: Any, what: str) -> tuple[int, ...]:
    """``values`` (one int or a sequence) as a tuple of ints, or a ShapeError naming them."""
    items = values if isinstance(values, (tuple, list)) else (values,)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise ShapeError(f"{what} must be integers, got {values!r}")
    return tuple(int(v) for v in items)


def _axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = check_ints(axis, "axis")
    if ndim == 0:  # as PyTorch: axis 0 or -1 of a scalar reduces nothing
        if all(a in (0, -1) for a in axes):
            return ()
        raise ShapeError(f"axis {axes} is out of range for a 0-d input (0 or -1 only)")
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"axis {a} is out of range for an input with {ndim} axes")
    return tuple(sorted(a % ndim for a in axes))


class Sum(Op):
    """y = Σ_axis x;  dx = dy broadcast back over the summed axes."""

    __slots__ = ("axes", "axis", "in_shape", "keepdims")
    keeps_inputs = False
    saves_output = False

    name = "sum"

    def __init__(self, axis: Axis = None, keepdims: bool = False) -> None:
        self.axis = tuple(axis) if isinstance(axis, list) else axis  # never the caller's list
        self.keepdims = keepdims

    def describe(self) -> str:
        return "sum" if self.axis is None else f"sum(axis={self.axis})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.axes = _axes(self.axis, x.ndim)
        self.in_shape = x.shape
        return x.sum(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        if not self.keepdims:
            grad = np.expand_dims(grad, self.axes)
        return (np.broadcast_to(grad, self.in_shape),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = Σ_axis ẋ (the same sum, over the same axes of each direction)."""
        return x_dot.sum(axis=tuple(a + 1 for a in self.axes), keepdims=self.keepdims)


class Mean(Sum):
    """y = (1/n) Σ_axis x;  dx = dy / n broadcast back (n = entries averaged)."""

    __slots__ = ("count",)
    keeps_inputs = False
    saves_output = False

    name = "mean"

    def describe(self) -> str:
        return "mean" if self.axis is None else f"mean(axis={self.axis})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.axes = _axes(self.axis, x.ndim)
        self.in_shape = x.shape
        self.count = int(np.prod([x.shape[a] for a in self.axes]))
        return x.mean(axis=self.axes, keepdims=self.keepdims)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        (dx,) = super().backward(grad)
        return (dx / self.count,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = (1/n) Σ_axis ẋ."""
        return super().jvp(x_dot) / self.count


class Concat(Op):
    """y = [x_1 | x_2 | ...] along ``axis``;  dx_i = the slice of dy that x_i filled."""

    __slots__ = ("axis", "sizes")
    keeps_inputs = False
    saves_output = False

    name = "concat"

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        check_ints(self.axis, "axis")
        out = np.concatenate(xs, axis=self.axis)
        self.sizes = [x.shape[self.axis] for x in xs]
        return out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        ends = np.cumsum(self.sizes)[:-1]
        return tuple(np.split(grad, ends, axis=self.axis))

    def jvp(self, *x_dots: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = [ẋ_1 | ẋ_2 | ...] along the same axis (zeros for an input that does not move)."""
        return np.concatenate(filled(x_dots, self.inputs), axis=batch_axis(self.axis))


class Stack(Op):
    """y = the inputs stacked along a new ``axis``;  dx_i = dy taken at position i of it."""

    __slots__ = ("axis",)
    saves_output = False
    keeps_inputs = False

    name = "stack"

    def __init__(self, axis: int = 0) -> None:
        self.axis = axis

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        check_ints(self.axis, "axis")
        return np.stack(xs, axis=self.axis)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(np.moveaxis(grad, self.axis, 0))

    def jvp(self, *x_dots: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = the tangents stacked along the same new axis (zeros for a constant input)."""
        return np.stack(filled(x_dots, self.inputs), axis=batch_axis(self.axis))


def _check_list(tensors: Any, who: str) -> None:
    if not isinstance(tensors, (list, tuple)):
        raise DTypeError(f"{who}: needs a list or tuple of tensors, got a {type(tensors).__name__}")
    if len(tensors) == 0:
        raise ShapeError(f"{who}: needs at least one tensor")


def getitem(x: Any, index: Any) -> Tensor:
    """x[index]: numpy basic and advanced indexing (Tensor indices are used by value)."""
    kind = type(index)
    if not ((kind is tuple and _is_basic(index)) or kind is int or kind is slice):
        index = own_index(index)  # the common case, x[:, t] or x[t], has nothing to copy
    return apply(GetItem(index), (x,))


def own_index(index: Any) -> Any:
    """An index (a tuple of parts or one part) as the op's own copy (see :func:`_own_index`)."""
    return tuple(_own_index(part) for part in index) if type(index) is tuple else _own_index(index)


def _own_index(part: Any) -> Any:
    """One part of an index as the op's own copy: the op keeps the index for backward, and the
    caller may reuse (refill) its list or array before then. Lists become index arrays, as
    numpy reads them (an empty list selects nothing)."""
    if isinstance(part, Tensor):
        return np.array(part.data)  # .data: a value read, which tg.compile refuses for its inputs
    if isinstance(part, np.ndarray):
        return np.array(part)
    if isinstance(part, list):
        array = np.array(part)
        return array.astype(np.intp) if array.size == 0 else array
    return part


def transpose(x: Any, axes: Sequence[int] | None = None) -> Tensor:
    """Permute the axes of x (reverse them by default)."""
    return Transpose(axes)(x)


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """x with the same entries in ``shape``."""
    return Reshape(tuple(shape))(x)


def sum(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Σ over ``axis`` (all axes by default)."""
    return Sum(axis, keepdims)(x)


def mean(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (all axes by default)."""
    return Mean(axis, keepdims)(x)


def concat(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis (numpy.concatenate)."""
    _check_list(tensors, "concat")
    return Concat(axis)(*tensors)


def stack(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis (numpy.stack)."""
    _check_list(tensors, "stack")
    return Stack(axis)(*tensors)
