"""Checks of the settings that rnn's layers and functions take: sizes and dtypes.

Each returns the setting in its normal form or raises the project's own error naming the
function (``where``), the setting (``label``) and the value given: ``ConfigError`` for a value
out of range, ``DTypeError`` for a value of the wrong type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError


def check_size(size: object, label: str, where: str) -> int:
    """A layer width as an int >= 1 (bools and floats are refused, numpy ints accepted)."""
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"{where}: {label} must be a positive int, got {size!r}")
    return int(size)


def check_dtype(dtype: Any, where: str) -> np.dtype:
    """A float dtype for parameters (np.float64, np.float32, "float32", ...) as an np.dtype."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if dtype is None or resolved is None or resolved.kind != "f":
        shown = repr(dtype) if dtype is None or resolved is None else str(resolved)
        raise tg.DTypeError(
            f"{where}: dtype must be a float dtype such as np.float64 or np.float32, got {shown}"
        )
    return resolved
