"""Arrays as the explorer's page holds them: a few significant digits, NaN and Inf kept.

JSON has no NaN or Inf, and a page must not hide them: they are written as the strings
``"NaN"``, ``"Inf"``, ``"-Inf"``. A large array keeps its top-left corner (``MAX_ROWS`` ×
``MAX_COLS`` of its 2-D view) for the colour grid, and its statistics over every entry.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

DIGITS = 4      # significant digits kept
MAX_ROWS = 16   # rows of a large array's corner kept for its grid
MAX_COLS = 32


def number(value: float) -> float | str:
    """``value`` rounded to DIGITS significant digits; NaN and ±Inf as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return float(f"{value:.{DIGITS}g}")


def as_grid(array: np.ndarray) -> np.ndarray:
    """The 2-D view the grid draws: a scalar is 1×1, a vector one row, more axes (a, ..., z)
    as (a·...·y) rows of z."""
    data = np.asarray(array, dtype=float)
    if data.ndim == 0:
        return data.reshape(1, 1)
    if data.ndim == 1:
        return data.reshape(1, -1)
    return data.reshape(-1, data.shape[-1])


def encode(array: Any) -> dict[str, Any] | None:
    """An array for the page: ``shape``, ``rows``/``cols`` of the values kept, ``v`` (row
    major), and over every entry ``norm`` (Frobenius), ``min``, ``max``, ``nan``, ``inf``."""
    if array is None:
        return None
    data = np.asarray(array)
    if data.dtype.kind not in "fiub":
        data = data.astype(float)
    grid = as_grid(data)
    corner = grid[:MAX_ROWS, :MAX_COLS]
    finite = grid[np.isfinite(grid)]
    return {
        "shape": list(data.shape),
        "rows": int(corner.shape[0]), "cols": int(corner.shape[1]),
        "v": [number(float(x)) for x in corner.reshape(-1)],
        "norm": number(float(np.linalg.norm(grid))) if finite.size == grid.size
        else number(float("nan")),
        "min": number(float(finite.min())) if finite.size else None,
        "max": number(float(finite.max())) if finite.size else None,
        "nan": int(np.isnan(grid).sum()), "inf": int(np.isinf(grid).sum()),
    }
