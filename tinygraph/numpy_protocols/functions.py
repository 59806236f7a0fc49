"""NEP 18: the numpy functions that record on tensors, each as the tg op it stands for.

``np.dot(W, x)`` reaches ``Tensor.__array_function__``, which binds the call's arguments to
numpy's own signature and hands the ones the table takes to a handler that applies the tg op:
``np.sum(x, axis=1)`` is ``tg.sum(x, axis=1)``, the same ``sum`` node. A keyword the handler
does not take is refused unless it keeps numpy's default (``out=None`` is fine, ``out=a`` is
not). Three groups:

* recorded: dot, sum, mean, max/amax, min/amin, concatenate, stack, hstack, vstack, split,
  reshape, ravel, squeeze, expand_dims, transpose, where, clip, copy;
* constants (no gradient, as in numpy): zeros_like, ones_like, full_like, argmax, argmin,
  isclose, any, all (Tensors), allclose, array_equal (bools), shape, ndim, size;
* everything else: refused, with the tg spelling when there is one (``refusals``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygraph.errors import ShapeError, SpellingError
from tinygraph.numpy_protocols import refusals
from tinygraph.ops import arith, elementwise, minmax, no_gradient, select, shape, split
from tinygraph.ops.no_gradient import located
from tinygraph.tensor import Tensor

NO_VALUE: Any = getattr(np, "_NoValue", None)  # numpy's "argument not given" default


@dataclass(frozen=True)
class Handler:
    """How one numpy function records: ``run`` takes numpy's parameters named in ``takes``."""

    run: Callable[..., Any]
    takes: tuple[str, ...]


TABLE: dict[Callable[..., Any], Handler] = {}


def records(*funcs: Callable[..., Any], takes: tuple[str, ...]) -> Callable[[Callable[..., Any]],
                                                                          Callable[..., Any]]:
    """Register the decorated function as the handler of each numpy function in ``funcs``."""

    def register(run: Callable[..., Any]) -> Callable[..., Any]:
        for func in funcs:
            TABLE[func] = Handler(run, takes)
        return run

    return register


def array_function(func: Callable[..., Any], types: Sequence[type], args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_function__``: run ``func(*args, **kwargs)`` through its handler, or
    refuse. NotImplemented when another array library takes part (NEP 18)."""
    if not all(issubclass(kind, (Tensor, np.ndarray)) for kind in types):
        return NotImplemented
    handler = TABLE.get(func)
    if handler is None:
        raise refusals.unsupported_function(func)
    return handler.run(**_taken_arguments(func, handler, args, kwargs))


def _taken_arguments(func: Callable[..., Any], handler: Handler, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments of the call by numpy's parameter names: the ones the handler takes; any
    other that does not keep numpy's default is refused."""
    signature = _signature(func, handler)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise SpellingError(f"{located(refusals.numpy_name(func))}: {exc}") from None
    taken = {}
    for key, value in bound.arguments.items():
        parameter = signature.parameters[key]
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:  # np.clip(..., **ufunc keywords)
            if value:
                extra_key, extra = next(iter(value.items()))
                raise refusals.unsupported_keyword(refusals.numpy_name(func), extra_key, extra,
                                                   handler.takes)
        elif key in handler.takes:
            taken[key] = value
        elif not _is_default(key, value, parameter.default):
            raise refusals.unsupported_keyword(refusals.numpy_name(func), key, value, handler.takes)
    return taken


@functools.cache
def _signature(func: Callable[..., Any], handler: Handler) -> inspect.Signature:
    """numpy's signature of ``func`` (its handler's where numpy does not expose one)."""
    try:
        return inspect.signature(func)
    except (TypeError, ValueError):
        return inspect.signature(handler.run)


def _is_default(key: str, value: Any, default: Any) -> bool:
    """Whether an argument given explicitly changes nothing: numpy's default (``out=None``,
    ``order='C'``), or ``where=True``."""
    if value is default or (key == "where" and value is True):
        return True
    return isinstance(value, str) and isinstance(default, str) and value == default


# ---------------------------------------------------------------- recorded
@records(np.dot, takes=("a", "b"))
def dot(a: Any, b: Any) -> Tensor:
    """numpy.dot: a · b for a 0-d operand (tg.mul), else a @ b (tg.matmul), which is numpy's
    dot for every pair of shapes except a of 2 or more axes with b of 3 or more (refused)."""
    a_ndim, b_ndim = _ndim(a), _ndim(b)
    if a_ndim == 0 or b_ndim == 0:
        return arith.mul(a, b)
    if a_ndim >= 2 and b_ndim >= 3:
        a_shape, b_shape = np.shape(_values(a)), np.shape(_values(b))
        result = a_shape[:-1] + b_shape[:-2] + b_shape[-1:]
        raise ShapeError(
            f"{located('np.dot')}: numpy's dot of shapes {a_shape} and {b_shape} pairs every row "
            f"of a with every matrix of b (a result of shape {result}), which tinygraph does not "
            "record; for one matrix product per batch entry use a @ b (np.matmul, tg.matmul), or "
            "reshape b to 2-D first"
        )
    return arith.matmul(a, b)


@records(np.sum, takes=("a", "axis", "keepdims"))
def sum_(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.sum as tg.sum."""
    return shape.sum(a, axis=axis, keepdims=_flag(keepdims))


@records(np.mean, takes=("a", "axis", "keepdims"))
def mean(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.mean as tg.mean."""
    return shape.mean(a, axis=axis, keepdims=_flag(keepdims))


@records(np.max, np.amax, takes=("a", "axis", "keepdims"))
def max_(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.max (numpy.amax) as tg.max."""
    return minmax.max(a, axis, _flag(keepdims))


@records(np.min, np.amin, takes=("a", "axis", "keepdims"))
def min_(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.min (numpy.amin) as tg.min."""
    return minmax.min(a, axis, _flag(keepdims))


@records(np.concatenate, takes=("arrays", "axis"))
def concatenate(arrays: Sequence[Any], axis: int | None = 0) -> Tensor:
    """numpy.concatenate as tg.concat (axis=None, which flattens first, is refused)."""
    if axis is None:
        raise ShapeError(f"{located('np.concatenate')}: axis=None flattens every array first; write "
                         "np.concatenate([np.reshape(x, -1) for x in arrays]) to record that")
    return shape.concat(list(arrays), axis)


@records(np.stack, takes=("arrays", "axis"))
def stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    """numpy.stack as tg.stack."""
    return shape.stack(list(arrays), axis)


@records(np.hstack, takes=("tup",))
def hstack(tup: Sequence[Any]) -> Tensor:
    """numpy.hstack: 0-d entries become 1-D (a reshape node each), then tg.concat along axis 0
    for 1-D entries and along axis 1 otherwise, as numpy does."""
    arrays = [_at_least(x, 1) for x in tup]
    return shape.concat(arrays, 0 if arrays and _ndim(arrays[0]) == 1 else 1)


@records(np.vstack, takes=("tup",))
def vstack(tup: Sequence[Any]) -> Tensor:
    """numpy.vstack: 0-d and 1-D entries become rows (1, n) (a reshape node each), then
    tg.concat along axis 0, as numpy does."""
    return shape.concat([_at_least(x, 2) for x in tup], 0)


@records(np.split, takes=("ary", "indices_or_sections", "axis"))
def split_(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    """numpy.split as tg.split (each piece a getitem node)."""
    return split.split(ary, indices_or_sections, axis)


@records(np.reshape, takes=("a", "shape", "newshape"))
def reshape(a: Any, shape: Any = None, newshape: Any = None) -> Tensor:
    """numpy.reshape as tg.reshape (``newshape=`` is numpy's older name for ``shape``)."""
    new = newshape if shape is None else shape
    return _reshape(a, new)


@records(np.ravel, takes=("a",))
def ravel(a: Any) -> Tensor:
    """numpy.ravel as tg.reshape(a, (-1,))."""
    return _reshape(a, -1)


@records(np.squeeze, takes=("a", "axis"))
def squeeze(a: Any, axis: Any = None) -> Tensor:
    """numpy.squeeze as tg.reshape to the shape numpy.squeeze gives."""
    return _reshape(a, _shape_after(np.squeeze, "np.squeeze", a, axis))


@records(np.expand_dims, takes=("a", "axis"))
def expand_dims(a: Any, axis: Any) -> Tensor:
    """numpy.expand_dims as tg.reshape to the shape numpy.expand_dims gives."""
    return _reshape(a, _shape_after(np.expand_dims, "np.expand_dims", a, axis))


@records(np.transpose, takes=("a", "axes"))
def transpose(a: Any, axes: Any = None) -> Tensor:
    """numpy.transpose as tg.transpose."""
    return shape.transpose(a, axes)


@records(np.where, takes=("condition", "x", "y"))
def where(condition: Any, x: Any = None, y: Any = None) -> Tensor:
    """numpy.where(condition, x, y) as tg.where; the one-argument form (indices) is refused."""
    if x is None and y is None:
        raise SpellingError(f"{located('np.where')}(condition) with one argument gives the indices "
                            "of the True entries, which carry no gradient; use "
                            "np.nonzero(condition.data), or np.where(condition, x, y)")
    if x is None or y is None:
        raise SpellingError(f"{located('np.where')}: give both x and y, or neither (numpy's rule)")
    return select.where(condition, x, y)


@records(np.clip, takes=("a", "a_min", "a_max", "min", "max"))
def clip(a: Any, a_min: Any = NO_VALUE, a_max: Any = NO_VALUE, min: Any = NO_VALUE,  # noqa: A002
         max: Any = NO_VALUE) -> Tensor:  # noqa: A002 (numpy's names)
    """numpy.clip as tg.clip (numpy 2.1's ``min=`` and ``max=`` are its bounds too)."""
    lo = a_min if a_min is not NO_VALUE else min
    hi = a_max if a_max is not NO_VALUE else max
    return select.clip(a, None if lo is NO_VALUE else lo, None if hi is NO_VALUE else hi)


@records(np.copy, takes=("a",))
def copy(a: Any) -> Tensor:
    """numpy.copy as tg.copy: a new array, recorded, the gradient passing unchanged."""
    return elementwise.copy(a)


# ---------------------------------------------------------------- constants: no gradient, as in numpy
@records(np.zeros_like, takes=("a", "dtype", "shape"))
def zeros_like(a: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    """numpy.zeros_like: a constant Tensor (no gradient flows to a)."""
    return _constant(np.zeros_like(_values(a), dtype=dtype, shape=shape))


@records(np.ones_like, takes=("a", "dtype", "shape"))
def ones_like(a: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    """numpy.ones_like: a constant Tensor (no gradient flows to a)."""
    return _constant(np.ones_like(_values(a), dtype=dtype, shape=shape))


@records(np.full_like, takes=("a", "fill_value", "dtype", "shape"))
def full_like(a: Any, fill_value: Any, dtype: Any = None, shape: Any = None) -> Tensor:
    """numpy.full_like: a constant Tensor (no gradient flows to a or fill_value)."""
    return _constant(np.full_like(_values(a), _values(fill_value), dtype=dtype, shape=shape))


@records(np.argmax, takes=("a", "axis", "keepdims"))
def argmax(a: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """numpy.argmax as tg.argmax: an int64 Tensor, no gradient."""
    return no_gradient.argmax(a, axis, _flag(keepdims))


@records(np.argmin, takes=("a", "axis", "keepdims"))
def argmin(a: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """numpy.argmin as tg.argmin: an int64 Tensor, no gradient."""
    return no_gradient.argmin(a, axis, _flag(keepdims))


@records(np.isclose, takes=("a", "b", "rtol", "atol", "equal_nan"))
def isclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """numpy.isclose on the values: a bool Tensor, no gradient."""
    return _constant(np.isclose(_values(a), _values(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


@records(np.any, takes=("a", "axis", "keepdims"))
def any_(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.any on the values: a bool Tensor, no gradient."""
    return _constant(np.any(_values(a), axis=axis, keepdims=_flag(keepdims)))


@records(np.all, takes=("a", "axis", "keepdims"))
def all_(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """numpy.all on the values: a bool Tensor, no gradient."""
    return _constant(np.all(_values(a), axis=axis, keepdims=_flag(keepdims)))


@records(np.allclose, takes=("a", "b", "rtol", "atol", "equal_nan"))
def allclose(a: Any, b: Any, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> bool:
    """numpy.allclose on the values: a bool, as numpy returns."""
    return bool(np.allclose(_values(a), _values(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


@records(np.array_equal, takes=("a1", "a2", "equal_nan"))
def array_equal(a1: Any, a2: Any, equal_nan: bool = False) -> bool:
    """numpy.array_equal on the values: a bool, as numpy returns."""
    return bool(np.array_equal(_values(a1), _values(a2), equal_nan=equal_nan))


@records(np.shape, takes=("a",))
def shape_of(a: Any) -> tuple[int, ...]:
    """numpy.shape: the tensor's shape."""
    return np.shape(_values(a))


@records(np.ndim, takes=("a",))
def ndim(a: Any) -> int:
    """numpy.ndim: the tensor's number of axes."""
    return np.ndim(_values(a))


@records(np.size, takes=("a", "axis"))
def size(a: Any, axis: int | None = None) -> int:
    """numpy.size: the tensor's number of entries (along ``axis`` when given)."""
    return np.size(_values(a), axis)


# ---------------------------------------------------------------- helpers
def _values(value: Any) -> Any:
    """A tensor's array (numpy's functions on values only read it); anything else as it is."""
    return value._data if isinstance(value, Tensor) else value


def _ndim(value: Any) -> int:
    return value.ndim if isinstance(value, Tensor) else np.ndim(value)


def _flag(keepdims: Any) -> bool:
    """numpy's keepdims, whose default is "not given"."""
    return False if keepdims is NO_VALUE else bool(keepdims)


def _constant(array: Any) -> Tensor:
    return Tensor._from_op(np.asarray(array), False)


def _reshape(a: Any, new: Any) -> Tensor:
    return shape.reshape(a, tuple(new) if isinstance(new, (tuple, list)) else (new,))


def _at_least(x: Any, ndim: int) -> Any:
    """x with at least ``ndim`` axes, as np.atleast_1d / np.atleast_2d make it: new axes of
    size 1 in front, recorded as a reshape node (x itself when it has enough)."""
    have = _ndim(x)
    return x if have >= ndim else _reshape(x, (1,) * (ndim - have) + np.shape(_values(x)))


def _shape_after(func: Callable[..., Any], call: str, a: Any, axis: Any) -> tuple[int, ...]:
    """The shape numpy's ``func(a, axis)`` gives, computed on a stand-in that holds no data."""
    stand_in = np.broadcast_to(np.zeros((), dtype=np.float64), np.shape(_values(a)))
    try:
        return func(stand_in, axis).shape
    except (ValueError, TypeError) as exc:
        raise ShapeError(f"{located(call)}: {exc} (input shape {stand_in.shape})") from None
