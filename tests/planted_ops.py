"""A custom op with a planted backward error, shared by the gradient-check tests."""

from __future__ import annotations

import numpy as np

import tinygraph as tg


class PlantedTanh(tg.Op):
    """tanh whose backward is off by 1e-2 at entry (0, 1) of its input's gradient."""

    name = "planted_tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        dx = grad * (1.0 - self.output**2)
        dx[0, 1] += 1e-2
        return (dx,)
