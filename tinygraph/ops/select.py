"""Ops that pick each output entry from one of their inputs: where (by a mask), clip (by bounds).

The gradient of each output entry goes, whole, to the input it was picked from.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import DTypeError
from tinygraph.node import Op, locate
from tinygraph.scope import current_scope
from tinygraph.spellings import refuse_keywords
from tinygraph.tangent import lift, scaled, total
from tinygraph.tensor import Tensor


class Where(Op):
    """y = a where cond, else b (numpy.where: cond, a and b broadcast together);
    da = dy where cond, else 0;  db = dy where not cond, else 0.  cond gets no gradient.

    ``cond`` is the op's own copy, made when the op is created: changing the caller's mask
    afterwards changes neither the output nor the gradient.
    """

    __slots__ = ("cond",)
    keeps_inputs = False

    name = "where"
    broadcasts = True
    saved_arrays = ("cond",)

    def __init__(self, cond: np.ndarray) -> None:
        self.cond = cond

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(self.cond, a, b)

    def explain(self, a: np.ndarray, b: np.ndarray) -> str:
        return f"cond of shape {self.cond.shape} and inputs of shapes {a.shape}, {b.shape} do not broadcast"

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        need_a, need_b = self.needs_input_grad
        da = np.where(self.cond, grad, 0.0) if need_a else None
        db = np.where(self.cond, 0.0, grad) if need_b else None
        return da, db

    def jvp(self, a_dot: np.ndarray | None, b_dot: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = ȧ where cond, else ḃ (0 for an input that does not move)."""
        n = self.output.ndim
        return np.where(self.cond, 0.0 if a_dot is None else lift(a_dot, n),
                        0.0 if b_dot is None else lift(b_dot, n))


class Clip(Op):
    """y = min(max(x, lo), hi) (numpy.clip; broadcasting);  each entry's dy goes to the input
    that y equals there:
    dx = dy where lo ≤ x ≤ hi (both bounds included, as torch.clamp);
    dlo = dy where x < lo ≤ hi;  dhi = dy where max(x, lo) > hi (x above hi, or lo above hi).

    The three masks split every entry's dy exactly once. (torch.clamp differs only where
    x < lo = hi: it sends the gradient to neither bound.)
    """

    __slots__ = ()

    name = "clip"
    broadcasts = True

    def forward(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        x, lo, hi = self.inputs
        need_x, need_lo, need_hi = self.needs_input_grad
        dx = np.where((lo <= x) & (x <= hi), grad, 0.0) if need_x else None
        dlo = np.where((x < lo) & (lo <= hi), grad, 0.0) if need_lo else None
        dhi = np.where(np.maximum(x, lo) > hi, grad, 0.0) if need_hi else None
        return dx, dlo, dhi

    def jvp(self, x_dot: np.ndarray | None, lo_dot: np.ndarray | None,
            hi_dot: np.ndarray | None) -> np.ndarray | None:
        """jvp: ẏ = ẋ where lo ≤ x ≤ hi, l̇o where x < lo ≤ hi, ḣi where max(x, lo) > hi (the
        input that y equals there, as in backward)."""
        x, lo, hi = self.inputs
        n = self.output.ndim
        return total(scaled(x_dot, (lo <= x) & (x <= hi), n),
                     scaled(lo_dot, (x < lo) & (lo <= hi), n),
                     scaled(hi_dot, np.maximum(x, lo) > hi, n))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """Entries of ``a`` where ``cond`` holds, of ``b`` elsewhere (numpy.where, broadcasting).

    ``cond`` is a bool array or a bool Tensor (``x > 0`` makes one); it is copied and gets no
    gradient. ``a`` and ``b`` are tensors, arrays or numbers.
    """
    op = Where(_mask(cond))
    if op.cond is None or op.cond.dtype != np.bool_:
        got = (f"a {type(cond).__name__} that is not a rectangular array" if op.cond is None
               else f"dtype {op.cond.dtype}")
        raise DTypeError(
            f"{locate(op, current_scope())}: cond must be a bool array or Tensor (e.g. x > 0), "
            f"got {got}"
        )
    return op(a, b)


def _mask(cond: Any) -> np.ndarray | None:
    """A private copy of the condition as an array (None when it is no rectangular array)."""
    if isinstance(cond, Tensor):
        return np.array(cond.data)
    try:
        return np.array(cond, copy=True)
    except (ValueError, TypeError):
        return None


def clip(x: Any, a_min: Any = None, a_max: Any = None, **torch_names: Any) -> Tensor:
    """x limited to [a_min, a_max] entrywise (numpy.clip(a, a_min, a_max)); None: no bound.

    The bounds are numbers, arrays or tensors (broadcasting, and differentiable when they
    require grad). The gradient reaches x where a_min ≤ x ≤ a_max, bounds included, as with
    torch.clamp. Where a_min > a_max every entry is a_max, as in numpy.
    """
    refuse_keywords("clip", torch_names, ("a_min", "a_max"), {"min": "a_min", "max": "a_max"})
    lo = -np.inf if a_min is None else a_min
    hi = np.inf if a_max is None else a_max
    return Clip()(x, lo, hi)
