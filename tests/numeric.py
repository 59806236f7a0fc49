"""Central differences for the engine tests: dF/dx[i] ≈ (F(x + eps e_i) − F(x − eps e_i)) / 2eps."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def central_difference(f: Callable[[], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Numerical gradient of the scalar f() with respect to the array x (perturbed in place)."""
    grad = np.zeros_like(x, dtype=np.float64)
    for i in np.ndindex(x.shape):
        saved = x[i]
        x[i] = saved + eps
        up = f()
        x[i] = saved - eps
        down = f()
        x[i] = saved
        grad[i] = (up - down) / (2 * eps)
    return grad
