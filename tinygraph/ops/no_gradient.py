"""Results that carry no gradient: comparisons (``x > 0``, ``x == y``) and argmax, argmin.

Each returns a new Tensor with ``requires_grad=False`` and no producer: nothing is recorded,
and no gradient flows back through it (a comparison is a step function: its derivative is 0
wherever it exists). A mask or an index still steers the gradient of what it selects:
``tg.where(x > 0, x, 0.0)`` and ``x[tg.argmax(x)]`` are recorded ops whose gradients reach the
entries they pick.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, ShapeError
from tinygraph.scope import STATE, format_scope
from tinygraph.spellings import refuse_keywords
from tinygraph.tensor import NUMERIC_KINDS, Tensor, as_array


def located(who: str) -> str:
    """``who (t=3, layer=1)``: a function's name with the scope in force, as messages write it."""
    tags = format_scope(STATE.tags)
    return f"{who} ({tags})" if tags else who


COMPARISONS: dict[str, np.ufunc] = {
    "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
    "==": np.equal, "!=": np.not_equal,
}
_NUMBERS = (bool, int, float, complex, np.generic)


def compare(symbol: str, a: Tensor, other: Any) -> Tensor:
    """``a <symbol> other`` entrywise, as numpy compares arrays (broadcasting; a Python number
    is compared in a's dtype): a bool Tensor with no gradient.

    Returns NotImplemented for ``==`` and ``!=`` with something that is no number or array
    (None, a string), so that Python falls back to identity: ``x == None`` is False.
    """
    b = _operand(other)
    if b is None:
        if symbol in ("==", "!="):
            return NotImplemented
        raise DTypeError(f"{located(f'x {symbol} y')}: cannot compare a Tensor of shape {a.shape} with "
                         f"a {type(other).__name__}")
    try:
        result = COMPARISONS[symbol](a.data, b)
    except ValueError:
        raise ShapeError(f"{located(f'x {symbol} y')}: shapes {a.shape} and {np.shape(b)} do not "
                         "broadcast") from None
    return Tensor._from_op(np.asarray(result), False)


def _operand(other: Any) -> Any:
    """The other side of a comparison as numpy takes it, or None when it is not numeric."""
    if isinstance(other, Tensor):
        return other.data
    if isinstance(other, _NUMBERS):
        return other if np.asarray(other).dtype.kind in NUMERIC_KINDS else None
    if isinstance(other, np.ndarray):
        return other if other.dtype.kind in NUMERIC_KINDS else None
    if isinstance(other, (list, tuple)):
        return as_array(other)
    return None


def argmax(x: Any, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
    """The index of the largest entry along ``axis`` (numpy.argmax; of the flattened x when
    axis is None); of tied entries, the first. An int64 Tensor with no gradient."""
    refuse_keywords("argmax", torch_names, ("axis", "keepdims"))
    return _index_of("argmax", np.argmax, x, axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
    """The index of the smallest entry along ``axis`` (numpy.argmin; of the flattened x when
    axis is None); of tied entries, the first. An int64 Tensor with no gradient."""
    refuse_keywords("argmin", torch_names, ("axis", "keepdims"))
    return _index_of("argmin", np.argmin, x, axis, keepdims)


def _index_of(who: str, find: Callable[..., Any], x: Any, axis: Any, keepdims: bool) -> Tensor:
    data = as_array(x)
    if axis is not None:
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise ShapeError(f"{located(who)}: axis must be one integer or None, got {axis!r}")
        if data.ndim == 0 and axis in (0, -1):  # as PyTorch: axis 0 of a scalar is the scalar
            axis = None
        elif not -data.ndim <= axis < data.ndim:
            raise ShapeError(f"{located(who)}: axis {axis} is out of range for an input with "
                             f"{data.ndim} axes")
    if data.size == 0:
        raise ShapeError(f"{located(who)}: the {who} of no entries (input shape {data.shape}) "
                         "has no value")
    index = np.asarray(find(data, axis=axis, keepdims=keepdims), dtype=np.int64)
    return Tensor._from_op(index, False)
