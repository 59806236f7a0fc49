"""IndexedGrad: a gradient that is zero except at an index, added into its junction in place.

The backward of ``y = x[index]`` is dx = zeros(x.shape) with dy placed at ``index``. When a
sequence (B, T, D) is cut into T steps, writing that out in full costs O(T) per step and O(T²)
per backward pass. An op may instead return ``IndexedGrad(index, values, shape)``; the engine
adds ``values`` at ``index`` into the tensor's gradient buffer, so the junction that gathers the
T slices costs O(T) in all. The sum is the same: dx = Σ_k scatter(index_k, dy_k).
"""

from __future__ import annotations

from typing import Any

import numpy as np


class IndexedGrad:
    """dx = 0 everywhere except ``dx[index] += values`` (repeated advanced indices add up)."""

    __slots__ = ("basic", "index", "shape", "values")

    def __init__(self, index: Any, values: np.ndarray, shape: tuple[int, ...], basic: bool) -> None:
        self.index = index
        self.values = values
        self.shape = shape
        self.basic = basic

    def add_into(self, buffer: np.ndarray) -> None:
        """buffer[index] += values, in place."""
        if self.basic:
            view = buffer[self.index]
            if type(view) is np.ndarray:  # a view: add in place, no write-back through setitem
                view += self.values
            else:  # every axis indexed by an int: a scalar, not a view
                buffer[self.index] += self.values
        else:
            np.add.at(buffer, self.index, self.values)

    def dense(self) -> np.ndarray:
        """The full gradient as an ndarray."""
        buffer = np.zeros(self.shape, dtype=self.values.dtype)
        self.add_into(buffer)
        return buffer


def densify(grad: Any) -> Any:
    """``grad`` as an ndarray when it is an IndexedGrad, else unchanged."""
    return grad.dense() if isinstance(grad, IndexedGrad) else grad
