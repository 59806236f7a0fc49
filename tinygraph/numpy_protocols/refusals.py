"""The numpy calls on tensors that tinygraph refuses, and what each message says to write.

A refusal is never silent: a numpy call that is not recorded would either return a plain ndarray
(and the gradient would silently stop there) or write into an array outside the graph. Each
error names the numpy call, with the scope in force, and the spelling that records instead.

* A ufunc or function that is not in a table, or a ufunc method (``np.add.reduce``): a
  :class:`~tinygraph.errors.SpellingError` (a TypeError, as numpy's own "no implementation
  found"), with the tg spelling when there is one.
* A keyword the tables do not take (``out=``, ``where=``, ``dtype=``): a SpellingError.
* numpy converting a tensor that requires grad into an ndarray (``np.asarray(x)``,
  ``np.array([x1, x2])``, ``a[i] = x`` on an ndarray ``a``): a
  :class:`~tinygraph.errors.GraphStateError`, raised by ``Tensor.__array__`` and
  ``Tensor.__float__``, the two doors numpy takes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.errors import GraphStateError, SpellingError
from tinygraph.ops.no_gradient import located

ANY_TG_OP = ("tg ops, or x.data where no gradient should flow (docs/api.md, 'numpy functions on "
             "tensors', lists the numpy calls that record)")

# What to write instead of a numpy function that is not recorded, by its name.
FUNCTION_ADVICE: dict[str, str] = {
    "outer": "np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))",
    "inner": "np.dot(a, b) (1-D a and b)",
    "tensordot": "np.dot(a, b) or a @ b on 2-D operands (reshape first)",
    "einsum": "a @ b and products of broadcast operands (a[:, :, None] * b[None])",
    "cumsum": "a running sum in a loop (s = s + x[t]), then np.stack of the partial sums",
    "prod": "a product in a loop, or np.exp(np.sum(np.log(x))) for positive x",
    "var": "np.mean((x - np.mean(x, axis, keepdims=True)) ** 2, axis)",
    "std": "np.sqrt(np.mean((x - np.mean(x, axis, keepdims=True)) ** 2, axis))",
    "norm": "np.sqrt(np.sum(x * x))",
    "empty_like": "np.zeros_like(x)",
    "swapaxes": "np.transpose(x, axes) with the two axes exchanged",
    "moveaxis": "np.transpose(x, axes)",
    "broadcast_to": "an op that broadcasts, e.g. x * np.ones(shape)",
    "tile": "np.concatenate([x, x, ...], axis)",
    "repeat": "np.concatenate or np.stack of the copies",
    "column_stack": "np.stack(tensors, axis=1) or np.concatenate",
    "dstack": "np.stack(tensors, axis=2) or np.concatenate",
    "atleast_1d": "np.reshape(x, (-1,))",
    "atleast_2d": "np.reshape(x, (1, -1))",
    "average": "np.sum(w * x) / np.sum(w)",
    "nonzero": "np.nonzero(x.data) (indices carry no gradient)",
    "round": "np.round(x.data) (a step function: no gradient flows through it)",
    "around": "np.round(x.data) (a step function: no gradient flows through it)",
    "array_split": "np.split(x, indices) with the cut indices",
}

# What to write instead of a ufunc that is not recorded, by its name.
UFUNC_ADVICE: dict[str, str] = {
    "log1p": "np.log(1 + x)",
    "expm1": "np.exp(x) - 1",
    "log2": "np.log(x) / np.log(2.0)",
    "log10": "np.log(x) / np.log(10.0)",
    "exp2": "2.0 ** x",
    "reciprocal": "1 / x",
    "float_power": "a ** p",
    "fmax": "np.maximum(a, b)",
    "fmin": "np.minimum(a, b)",
    "tan": "np.sin(x) / np.cos(x)",
    "sign": "np.sign(x.data) (a step function: no gradient flows through it)",
    "floor": "np.floor(x.data) (a step function: no gradient flows through it)",
    "ceil": "np.ceil(x.data) (a step function: no gradient flows through it)",
    "rint": "np.rint(x.data) (a step function: no gradient flows through it)",
    "trunc": "np.trunc(x.data) (a step function: no gradient flows through it)",
    "floor_divide": "np.floor_divide(a.data, b.data) (a step function: no gradient flows through it)",
}

# ufunc methods and the calls that record the same thing.
METHOD_ADVICE: dict[tuple[str, str], str] = {
    ("add", "reduce"): "np.sum(x, axis)",
    ("maximum", "reduce"): "np.max(x, axis)",
    ("minimum", "reduce"): "np.min(x, axis)",
    ("multiply", "outer"): "np.reshape(a, (-1, 1)) * np.reshape(b, (1, -1))",
    ("add", "at"): "a new tensor: tensors are not written in place",
}


def numpy_name(func: Callable[..., Any]) -> str:
    """``np.sum``, ``np.linalg.norm``: a numpy callable as a learner writes it."""
    module = getattr(func, "__module__", None) or "numpy"
    prefix = "np" + module[len("numpy"):] if module.startswith("numpy") else module
    return f"{prefix}.{func.__name__}"


def not_recorded(call: str, kind: str, advice: str) -> SpellingError:
    """The error for a numpy ``kind`` (function, ufunc) that no table records."""
    return SpellingError(f"{located(call)}: numpy's {kind} {call.split('.')[-1]} is not recorded on "
                         f"tensors; use {advice}")


def unsupported_function(func: Callable[..., Any]) -> SpellingError:
    """The error for a numpy function that is not in the function table."""
    return not_recorded(numpy_name(func), "function", FUNCTION_ADVICE.get(func.__name__, ANY_TG_OP))


def unsupported_ufunc(ufunc: np.ufunc) -> SpellingError:
    """The error for a ufunc that is not in the ufunc table."""
    return not_recorded(f"np.{ufunc.__name__}", "ufunc", UFUNC_ADVICE.get(ufunc.__name__, ANY_TG_OP))


def unsupported_method(ufunc: np.ufunc, method: str) -> SpellingError:
    """The error for ``np.<ufunc>.<method>`` (reduce, accumulate, outer, at, reduceat)."""
    call = f"np.{ufunc.__name__}.{method}"
    advice = METHOD_ADVICE.get((ufunc.__name__, method), ANY_TG_OP)
    return SpellingError(f"{located(call)}: ufunc methods are not recorded on tensors (only calling "
                         f"np.{ufunc.__name__}(...) is); use {advice}")


def unsupported_keyword(call: str, key: str, value: Any, takes: tuple[str, ...]) -> SpellingError:
    """The error for a keyword a recorded numpy call does not take (``out=``, ``where=``, ...)."""
    if key == "out":
        return SpellingError(
            f"{located(call)}(..., out=...): numpy would write the result into an existing array, "
            "outside the graph (a += x and a[...] = x on an ndarray a do this too); use the "
            "returned tensor instead: a = a + x, y = np.tanh(x)"
        )
    if key == "where":
        return SpellingError(
            f"{located(call)}(..., where=mask): a masked call keeps out's old entries where the mask "
            f"is False, outside the graph; use np.where(mask, {call}(...), other) (tg.where)"
        )
    takes_text = f"it takes {', '.join(takes)}" if takes else "it takes no keyword"
    hint = " (cast a tensor's values with tg.Tensor(x.data.astype(dtype)))" if key == "dtype" else ""
    return SpellingError(f"{located(call)}(..., {key}={_short(value)}): not recorded on tensors; "
                         f"{takes_text}{hint}")


def _short(value: Any) -> str:
    """A value as a message shows it: a numpy type as ``np.float32``, else its repr, cut to 40
    characters."""
    if isinstance(value, type):
        return f"np.{value.__name__}" if value.__module__ == "numpy" else value.__name__
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def conversion_refused(label: str, shape: tuple[int, ...], dtype: Any) -> GraphStateError:
    """The error ``Tensor.__array__`` raises for a tensor that requires grad (or any tensor
    asked for as an object array): numpy would take its values out of the graph."""
    if dtype is not None and np.dtype(dtype) == np.dtype(object):
        return GraphStateError(
            f"np.array(..., dtype=object): numpy was asked for the tensor{label} of shape {shape} as "
            "an object array; an array cannot hold tensors in the graph. Keep them in a Python "
            "list, or stack them into one tensor with np.stack(tensors) (tg.stack)"
        )
    return GraphStateError(
        f"numpy converted the tensor{label} of shape {shape}, which requires grad, to an ndarray "
        "(np.asarray(x), np.array(x), np.array([x, ...]) or a[i] = x on an ndarray a): the result "
        "would not be part of the graph. Stack tensors with np.stack([...]) (tg.stack), collect "
        "them in a list instead of writing them into an array, or pass x.data (or x.detach()) "
        "where no gradient should flow"
    )


def float_refused(label: str) -> GraphStateError:
    """The error ``float(x)`` raises for a tensor that requires grad (numpy calls it to write
    a tensor into one entry of an array, ``a[i] = x``)."""
    return GraphStateError(
        f"float(): the tensor{label} requires grad, and a Python float is not part of the graph "
        "(numpy calls float() for a[i] = x, writing a tensor into an entry of an ndarray a). "
        "Collect tensors in a list and np.stack them (tg.stack); for the number itself use "
        "x.item()"
    )


def object_array_refused(call: str) -> GraphStateError:
    """The error for an object array of tensors given to a recorded numpy call."""
    return GraphStateError(
        f"{located(call)}: got an object array; an array of tensors is not part of the graph. Keep "
        "the tensors in a Python list, or stack them into one tensor with np.stack(tensors)"
    )
