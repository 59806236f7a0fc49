"""Numerical derivatives by central differences, in float64, with every input restored exactly.

For a scalar function f and an entry x_j of an input,

    df/dx_j ≈ (f(x + h e_j) − f(x − h e_j)) / (2h),

whose error is O(h²) from truncation plus O(ε_machine · |f| / h) from rounding: about 1e-10
for h = 1e-6 and |f| ~ 1. Along a direction v the same formula gives the directional
derivative ⟨∇f, v⟩ ≈ (f(x + h v) − f(x − h v)) / (2h) at the cost of two evaluations.

Inputs are perturbed in place (the function reads them through its tensors). A float64
input is restored from a saved copy; any other float input is replaced by a float64 copy for
the duration of the check and its original array put back, so either way the caller gets the
very same bits back, also when ``f`` raises.
"""

from __future__ import annotations

import inspect

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from tinygraph.errors import ConfigError, DTypeError, NumericsError, ShapeError, add_note
from tinygraph.scope import no_grad
from tinygraph.tensor import Tensor, describe

ScalarFunction = Callable[[], Any]


def check_callable(f: Any, who: str) -> None:
    """Refuse anything but a zero-argument callable, naming the function that was called."""
    if not callable(f):
        raise DTypeError(
            f"{who}: f must be a zero-argument function returning a scalar Tensor, e.g. "
            f"lambda: loss_fn(), got a {type(f).__name__}"
        )
    try:
        inspect.signature(f).bind()
    except TypeError:
        raise DTypeError(
            f"{who}: f must be a zero-argument function (a closure over the inputs, e.g. "
            f"lambda: loss_fn()), but {getattr(f, '__name__', type(f).__name__)} needs arguments"
        ) from None
    except ValueError:  # some builtins have no signature: let the call decide
        pass


def check_float_tensor(x: Any, who: str, position: str) -> Tensor:
    """A Tensor holding real floats (the only kind whose entries can be nudged by h)."""
    if not isinstance(x, Tensor):
        raise DTypeError(f"{who}: {position} is a {type(x).__name__}, not a tg.Tensor")
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{who}: {position} ({describe(x, with_shape=True)}) has dtype {x.dtype}; only real "
            "float inputs can be perturbed (convert with .astype(np.float64))"
        )
    return x


def scalar_value(out: Any, who: str, allow_number: bool) -> float:
    """The float64 value of f's result: a one-entry Tensor (or, if allowed, a real number)."""
    if isinstance(out, Tensor):
        if out.size != 1:
            raise ShapeError(
                f"{who}: f must return a scalar Tensor, got shape {out.shape}; reduce it "
                "first, e.g. with .sum() or (out * weights).sum()"
            )
        return float(out._data.reshape(()))
    if allow_number and isinstance(out, (int, float, np.integer, np.floating)):
        return float(out)
    raise DTypeError(f"{who}: f must return a scalar Tensor, got a {type(out).__name__}")


@contextmanager
def float64_workspace(tensors: Sequence[Tensor]) -> Iterator[list[np.ndarray]]:
    """Give float64, writable arrays to perturb for ``tensors``; put the exact originals back.

    Yields one working array per tensor (the tensor's own array when it is already a writable
    float64 array, a float64 copy installed as ``tensor.data`` otherwise).
    """
    saved: list[tuple[Tensor, np.ndarray, np.ndarray]] = []
    works: list[np.ndarray] = []
    try:
        for tensor in tensors:
            original = tensor._data  # the array itself: restored exactly, so no write stamp
            saved.append((tensor, original, original.copy()))
            if original.dtype == np.float64 and original.flags.writeable:
                work = original
            else:
                work = np.array(original, dtype=np.float64)
                tensor._data = work
            works.append(work)
        yield works
    finally:
        for tensor, original, backup in reversed(saved):
            if original.flags.writeable:
                np.copyto(original, backup)
            tensor._data = original


def evaluate(f: ScalarFunction, who: str, allow_number: bool = True) -> float:
    """f() without recording a graph, as a float64 number."""
    with no_grad():
        out = f()
    return scalar_value(out, who, allow_number)


def partial_derivative(
    value: Callable[[], float], work: np.ndarray, index: tuple[int, ...], eps: float
) -> float:
    """(f(x + h e_j) − f(x − h e_j)) / (x_j⁺ − x_j⁻), the divisor being the step actually taken.

    ``work`` is perturbed in place at ``index`` and restored bit for bit before returning.
    """
    old = work[index]
    plus, minus = old + eps, old - eps
    if plus == minus:
        raise NumericsError(
            f"numerical derivative: eps={eps:g} is lost in rounding at entry {index} (value "
            f"{old:g}); use a larger eps"
        )
    try:
        work[index] = plus
        f_plus = value()
        work[index] = minus
        f_minus = value()
    finally:
        work[index] = old
    return (f_plus - f_minus) / (plus - minus)


def numerical_grad(f: ScalarFunction, x: Tensor, eps: float = 1e-6) -> np.ndarray:
    """df/dx by central differences: entry j is (f(x + h e_j) − f(x − h e_j)) / 2h, h = eps.

    Args:
        f: a zero-argument function returning a scalar Tensor (or a real number), which reads
            ``x`` through the tensor, e.g. ``lambda: (x * x).sum()``.
        x: the float Tensor to differentiate with respect to; its ``.data`` is perturbed in
            place one entry at a time and restored exactly (also when ``f`` raises).
        eps: the step h.

    Returns:
        A float64 array shaped like ``x``. Costs 2 · x.size evaluations of ``f``; nothing is
        recorded (``f`` runs under ``no_grad``).
    """
    check_callable(f, "numerical_grad")
    check_float_tensor(x, "numerical_grad", "x")
    check_eps(eps, "numerical_grad")
    with float64_workspace([x]) as (work,):
        return gradient_of_entries(lambda: evaluate(f, "numerical_grad"), work, eps)


def gradient_of_entries(value: Callable[[], float], work: np.ndarray, eps: float) -> np.ndarray:
    """Every partial derivative of ``value`` with respect to the entries of ``work``."""
    grad = np.empty(work.shape, dtype=np.float64)
    for index in np.ndindex(work.shape):
        try:
            grad[index] = partial_derivative(value, work, index, eps)
        except Exception as exc:
            add_note(exc, f"while entry {index} was perturbed by ±{eps:g}")
            raise
    return grad


def directional_derivative(
    value: Callable[[], float],
    works: Sequence[np.ndarray],
    directions: Sequence[np.ndarray],
    eps: float,
) -> float:
    """⟨∇f, v⟩ ≈ (f(x + h v) − f(x − h v)) / 2h, moving every work array along its direction."""
    bases = [work.copy() for work in works]
    try:
        for work, base, v in zip(works, bases, directions):
            np.add(base, eps * v, out=work)
        f_plus = value()
        for work, base, v in zip(works, bases, directions):
            np.subtract(base, eps * v, out=work)
        f_minus = value()
    finally:
        for work, base in zip(works, bases):
            np.copyto(work, base)
    return (f_plus - f_minus) / (2.0 * eps)


def _is_real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_))


def check_eps(eps: float, who: str) -> None:
    """eps must be a positive finite step (a number, not a bool)."""
    if not (_is_real(eps) and np.isfinite(eps) and eps > 0):
        raise ConfigError(f"{who}: eps must be a positive finite number, got {eps!r}")


def check_settings(who: str, eps: float, atol: float, rtol: float, mode: str, directions: int,
                   modes: Sequence[str]) -> None:
    """The settings every gradient check shares: eps > 0, finite tolerances >= 0 (an infinite
    one would pass any gradient), a known mode, a positive number of directions."""
    check_eps(eps, who)
    for name, value in (("atol", atol), ("rtol", rtol)):
        if not (_is_real(value) and np.isfinite(value) and value >= 0):
            raise ConfigError(f"{who}: {name} must be a finite number >= 0 (an infinite tolerance "
                              f"passes any gradient), got {value!r}")
    if mode not in modes:
        raise ConfigError(f"{who}: mode must be one of {', '.join(map(repr, modes))}, got {mode!r}")
    if not (isinstance(directions, (int, np.integer)) and not isinstance(directions, bool)
            and directions >= 1):
        raise ConfigError(f"{who}: directions must be a positive int, got {directions!r}")
