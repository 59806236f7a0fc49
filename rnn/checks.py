"""Checks of the settings that rnn's layers and functions take: sizes, numbers, flags, dtypes.

Each returns the setting in its normal form or raises the project's own error naming the
function (``where``), the setting (``label``) and the value given: ``ConfigError`` for a value
out of range, ``DTypeError`` for a value of the wrong type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError


def check_one_direction(net: Any, where: str) -> None:
    """Refuse a bidirectional network where steps run in order (truncated or online learning):
    its reverse direction starts at the last step, so no window of steps can be run alone."""
    if getattr(net, "bidirectional", False):
        raise ConfigError(
            f"{where}: the network is bidirectional: its reverse direction reads the sequence from "
            "the last step back, so it cannot be run a window (or a step) at a time; train it with "
            "full BPTT (loss.backward() on the outputs of net(xs))"
        )


def check_size(size: object, label: str, where: str) -> int:
    """A layer width as an int >= 1 (bools and floats are refused, numpy ints accepted)."""
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ConfigError(f"{where}: {label} must be a positive int, got {size!r}")
    return int(size)


def check_count(count: object, label: str, where: str) -> int:
    """A count or offset as an int >= 0 (bools and floats are refused, numpy ints accepted)."""
    if isinstance(count, (bool, np.bool_)) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ConfigError(f"{where}: {label} must be an int >= 0, got {count!r}")
    return int(count)


def check_flag(flag: object, label: str, where: str) -> bool:
    """A switch as a bool: anything else (a string such as 'no' is truthy) is a DTypeError."""
    if not isinstance(flag, (bool, np.bool_)):
        raise tg.DTypeError(f"{where}: {label} must be True or False, got {flag!r}")
    return bool(flag)


def check_real(value: object, label: str, where: str, condition: str = "a finite number",
               ok: Callable[[float], bool] = math.isfinite) -> float:
    """A real number (int or float, numpy's included; not a bool or a string) for which
    ``ok(value)`` holds, as a float. A wrong type is a DTypeError, a value outside the range
    (``condition`` says which, in words) a ConfigError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
            value, (int, float, np.integer, np.floating)):
        raise tg.DTypeError(
            f"{where}: {label} must be a number, got {value!r} (a {type(value).__name__})"
        )
    number = float(value)
    if not ok(number):
        raise ConfigError(f"{where}: {label} must be {condition}, got {value!r}")
    return number


def check_positive(value: object, label: str, where: str) -> float:
    """A finite number > 0 (a learning rate, a norm, an epsilon)."""
    return check_real(value, label, where, "a finite number > 0", lambda v: 0.0 < v < math.inf)


def check_fraction(value: object, label: str, where: str) -> float:
    """A number in [0, 1) (a momentum, an Adam beta, a dropout probability)."""
    return check_real(value, label, where, "in [0, 1)", lambda v: 0.0 <= v < 1.0)


RngLike = np.random.Generator | int | None


def make_rng(rng: RngLike, where: str = "make_rng") -> np.random.Generator:
    """A numpy Generator from a Generator (used as it is), an int seed >= 0, or None (a fresh
    unseeded generator)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is not None and (isinstance(rng, (bool, np.bool_))
                            or not isinstance(rng, (int, np.integer))):
        raise tg.DTypeError(
            f"{where}: rng must be a numpy Generator, an int seed or None, got {rng!r}"
        )
    if rng is not None and rng < 0:
        raise ConfigError(f"{where}: rng must be a seed >= 0, got {rng!r}")
    return np.random.default_rng(rng)


def check_scalar_loss(loss: object, where: str, hint: str) -> tg.Tensor:
    """A loss returned by a user's function: a Tensor with one entry, else an error naming the
    call (``where``) and what it should return (``hint``)."""
    if not isinstance(loss, tg.Tensor):
        raise tg.DTypeError(
            f"{where} returned a {type(loss).__name__}; it must return a scalar Tensor built "
            f"with tg ops ({hint})"
        )
    if loss.size != 1:
        raise tg.ShapeError(
            f"{where} returned a Tensor of shape {loss.shape}; the loss must be a scalar "
            "(reduce it first, e.g. with .sum())"
        )
    return loss


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
