"""Results that carry no gradient: the index of the largest or smallest entry (argmax, argmin).

Each returns a new Tensor with ``requires_grad=False`` and no producer: nothing is recorded,
and no gradient flows back through it. An index can still carry a gradient onward by being
used as one: ``x[tg.argmax(x)]`` is a recorded getitem whose gradient reaches the entry picked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.errors import ShapeError
from tinygraph.scope import STATE, format_scope
from tinygraph.spellings import refuse_keywords
from tinygraph.tensor import Tensor, as_array


def located(who: str) -> str:
    """``who (t=3, layer=1)``: a function's name with the scope in force, as messages write it."""
    tags = format_scope(STATE.tags)
    return f"{who} ({tags})" if tags else who


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
