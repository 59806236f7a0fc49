"""NEP 13: numpy's ufuncs on tensors record the tg op they stand for.

``np.tanh(x)``, ``np.maximum(0, h)``, ``ndarray + x`` and ``ndarray @ W`` (numpy calls the ufunc
``np.add``, ``np.matmul`` for the operators of an ndarray) reach ``Tensor.__array_ufunc__``,
which applies the Op of :data:`RECORDED`: ``np.add(a, x)`` makes the same ``add`` node as
``a + x`` and ``tg.add(a, x)``. The comparisons (``np.greater(x, 0)``, ``ndarray < x``) and the
tests ``np.isnan``, ``np.isinf``, ``np.isfinite`` give a bool Tensor with no gradient, as the
comparison operators of a tensor do. Anything else is refused (see ``refusals``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.node import Op, apply
from tinygraph.numpy_protocols import refusals
from tinygraph.ops import arith, elementwise, minmax, no_gradient
from tinygraph.ops.no_gradient import compare
from tinygraph.tensor import Tensor

# ufunc -> the Op it records (the class tg's function of the same meaning applies).
RECORDED: dict[np.ufunc, type[Op]] = {
    np.add: arith.Add,
    np.subtract: arith.Sub,
    np.multiply: arith.Mul,
    np.true_divide: arith.Div,  # np.divide is np.true_divide
    np.power: arith.Pow,
    np.negative: arith.Neg,
    np.positive: elementwise.Identity,
    np.matmul: arith.MatMul,
    np.tanh: elementwise.Tanh,
    np.exp: elementwise.Exp,
    np.log: elementwise.Log,
    np.sqrt: elementwise.Sqrt,
    np.square: elementwise.Square,
    np.absolute: elementwise.Abs,  # np.abs is np.absolute
    np.sin: elementwise.Sin,
    np.cos: elementwise.Cos,
    np.maximum: minmax.Maximum,
    np.minimum: minmax.Minimum,
}

# The comparisons, by the operator a tensor would use (no_gradient's table read backwards); no gradient.
COMPARISONS: dict[np.ufunc, str] = {ufunc: symbol for symbol, ufunc in no_gradient.COMPARISONS.items()}
MIRRORED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# Tests of each entry's value: a bool Tensor, no gradient.
TESTS = (np.isnan, np.isinf, np.isfinite)

# The keywords of a ufunc call and their defaults; a default given explicitly is harmless.
DEFAULTS: dict[str, Any] = {"casting": "same_kind", "order": "K", "dtype": None, "subok": True,
                            "signature": None}


def array_ufunc(ufunc: np.ufunc, method: str, inputs: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    """``Tensor.__array_ufunc__``: record ``ufunc(*inputs)`` as its tg op, or refuse.

    Returns NotImplemented when an input is of another library that overrides ufuncs too, so
    numpy can ask it (NEP 13).
    """
    if not all(_ours_or_numpys(value) for value in inputs):
        return NotImplemented
    if method != "__call__":
        raise refusals.unsupported_method(ufunc, method)
    for key, value in kwargs.items():
        if key not in DEFAULTS or value != DEFAULTS[key]:
            raise refusals.unsupported_keyword(f"np.{ufunc.__name__}", key, value, ())
    for value in inputs:
        if isinstance(value, np.ndarray) and value.dtype == object:
            raise refusals.object_array_refused(f"np.{ufunc.__name__}")
    op = RECORDED.get(ufunc)
    if op is not None:
        return apply(op(), inputs)
    symbol = COMPARISONS.get(ufunc)
    if symbol is not None:
        a, b = inputs
        return compare(symbol, a, b) if isinstance(a, Tensor) else compare(MIRRORED[symbol], b, a)
    if ufunc in TESTS:
        return Tensor._from_op(np.asarray(ufunc(inputs[0]._data)), False)
    raise refusals.unsupported_ufunc(ufunc)


def _ours_or_numpys(value: Any) -> bool:
    """True unless ``value``'s type overrides ufuncs itself (another array library)."""
    override = getattr(type(value), "__array_ufunc__", None)
    return override is None or override is np.ndarray.__array_ufunc__ or type(value) is Tensor
