"""``tg.jacobian``: the whole matrix ∂f/∂x, by rows (reverse mode) or by columns (forward mode).

For y = f(x) with m = y.size outputs and n = x.size inputs, J has m rows and n columns.

* Reverse mode gives a row per backward pass: seeding dL/dy with the one-hot e_i gives
  eᵢᵀ J = ∇y_i, so m passes over one recorded graph build J row by row.
* Forward mode gives a column per direction: the tangent ẋ = e_j gives ẏ = J e_j. With the
  n one-hot directions batched along the tangents' leading axis, one walk builds every column.

Each costs about (number of passes) × (cost of f): reverse m, forward n (in forward mode the n
passes are fused into one walk over arrays n times as wide). So "auto" takes reverse mode when
there are fewer outputs than inputs (a loss of many parameters: m = 1) and forward mode
otherwise (a map from few inputs to many outputs, or a square one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygraph.backward import reverse_topological, run_backward
from tinygraph.errors import ConfigError, DTypeError
from tinygraph.forward import check_output, leaf_of, propagate_tangents
from tinygraph.scope import enable_grad
from tinygraph.tensor import Tensor

JACOBIAN_MODES = ("auto", "forward", "reverse")


def jacobian(f: Callable[[Tensor], Tensor], x: Any, mode: str = "auto") -> np.ndarray:
    """J = ∂f(x)/∂x as an array of shape y.shape + x.shape: J[i..., j...] = ∂y[i...]/∂x[j...].

    Args:
        f: a function of one Tensor built from tg ops, returning a Tensor y of any shape.
        x: the point (a Tensor, an array or a number); f receives a new leaf with its data.
        mode: ``"reverse"``: one backward pass per entry of y (row i from the seed e_i);
            ``"forward"``: one forward-mode walk with x.size batched one-hot tangents (all
            columns at once); ``"auto"``: reverse when y has fewer entries than x, else
            forward, i.e. whichever needs fewer passes (see the module docstring).

    Both modes give the same matrix up to rounding.
    """
    if mode not in JACOBIAN_MODES:
        raise ConfigError(f"jacobian: mode must be one of {', '.join(map(repr, JACOBIAN_MODES))}, "
                          f"got {mode!r}")
    if not callable(f):
        raise DTypeError(f"jacobian: f must be a function of one Tensor, got a {type(f).__name__}")
    leaf = leaf_of(x, "jacobian", 0)
    with enable_grad():
        y = f(leaf)
    check_output(y, "jacobian")
    if mode == "auto":
        mode = "reverse" if y.size < leaf.size else "forward"
    if mode == "forward":
        eye = np.eye(leaf.size, dtype=leaf.dtype).reshape((leaf.size, *leaf.shape))
        columns = propagate_tangents(y, {leaf: eye}) if y.requires_grad else None  # (n, *y.shape)
        if columns is None:
            return np.zeros(y.shape + leaf.shape, dtype=leaf.dtype)
        return np.moveaxis(columns.reshape(leaf.size, -1), 0, -1).reshape(y.shape + leaf.shape)
    rows = np.zeros((y.size, leaf.size), dtype=leaf.dtype)
    if y.requires_grad:
        nodes = reverse_topological(y)  # one schedule for all m passes
        for i in range(y.size):
            seed = np.zeros(y.shape, dtype=y.dtype)
            seed.flat[i] = 1.0
            grads, _ = run_backward(y, seed, keep=[leaf], nodes=nodes)
            row = grads.get(leaf)
            if row is not None:  # else y_i does not depend on x: the row stays zeros
                rows[i] = row.reshape(-1)
    return rows.reshape(y.shape + leaf.shape)
