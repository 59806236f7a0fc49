"""Comparing an analytic gradient with a numerical one, entry by entry or along directions.

An entry passes when |a − n| ≤ atol + rtol · |n| (a: analytic, n: numerical, as numpy's
``allclose``). Its relative error is |a − n| / max(|a|, |n|, atol), so entries whose true value
is below ``atol`` do not show huge relative errors made of rounding noise. The worst entry is
the one that exceeds its allowance the most: the largest |a − n| / (atol + rtol · |n|).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tinygraph.errors import NumericsError

PASS_RULE = "pass: |analytic - numerical| <= atol + rtol*|numerical| at every entry"
DOT_PRODUCT_RULE = ("pass: |reverse - forward| <= atol + rtol*|forward| in every direction, with "
                    "reverse = <J^T u, v> (backward) and forward = <u, J v> (jvp)")


@dataclass(frozen=True)
class Comparison:
    """One analytic gradient against its numerical estimate.

    Attributes:
        label: what was compared (an input's name, or ``input 0``).
        shape: the shape of that input.
        max_abs_error: max |a − n| over entries (or directions).
        max_rel_error: max |a − n| / max(|a|, |n|, atol).
        worst_index: the entry (a tuple) or direction (an int) that fails the most.
        analytic: the analytic value there.
        numerical: the numerical value there.
        ok: whether every entry passes.
        note: why it failed when not by size: ``nan``, or a wrong gradient shape.
    """

    label: str
    shape: tuple[int, ...]
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple[int, ...] | int | None
    analytic: float
    numerical: float
    ok: bool
    note: str = ""

    @property
    def verdict(self) -> str:
        """``ok``, ``FAIL``, or ``FAIL (note)``."""
        if self.ok:
            return "ok"
        return f"FAIL ({self.note})" if self.note else "FAIL"


def compare(
    label: str,
    shape: tuple[int, ...],
    analytic: np.ndarray,
    numerical: np.ndarray,
    atol: float,
    rtol: float,
    by_direction: bool = False,
) -> Comparison:
    """Compare two arrays of one shape entry by entry (see the module docstring for the rule)."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numerical, dtype=np.float64)
    if a.size == 0:
        return Comparison(label, shape, 0.0, 0.0, None, float("nan"), float("nan"), True)
    diff = np.abs(a - n)
    allowed = atol + rtol * np.abs(n)
    bad = ~(np.isfinite(a) & np.isfinite(n))
    if bad.any():
        flat = int(np.flatnonzero(bad)[0])
        note = "nan/inf"
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = np.where(allowed > 0, diff / np.where(allowed > 0, allowed, 1.0),
                              np.where(diff > 0, np.inf, 0.0))
        flat = int(np.argmax(excess))
        note = ""
    scale = np.maximum(np.maximum(np.abs(a), np.abs(n)), atol)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    index: tuple[int, ...] | int = (
        flat if by_direction else tuple(int(i) for i in np.unravel_index(flat, a.shape))
    )
    ok = not bad.any() and bool((diff <= allowed).all())
    return Comparison(
        label=label,
        shape=tuple(shape),
        max_abs_error=float(np.max(diff)),
        max_rel_error=float(np.max(rel)),
        worst_index=index,
        analytic=float(a.reshape(-1)[flat]),
        numerical=float(n.reshape(-1)[flat]),
        ok=ok,
        note=note,
    )


def format_number(value: float) -> str:
    """Six significant digits: enough to see a 1e-2 error on a value of order 1."""
    return "nan" if np.isnan(value) else f"{value:.6g}"


def format_error(value: float) -> str:
    """Errors in scientific notation with three digits."""
    return "nan" if np.isnan(value) else f"{value:.2e}"


def format_index(index: tuple[int, ...] | int | None) -> str:
    """``(1, 2)`` for an entry, ``v2`` for direction number 2, ``-`` for nothing."""
    if index is None:
        return "-"
    if isinstance(index, int):
        return f"v{index}"
    return str(index)


def comparison_cells(row: Comparison) -> list[str]:
    """The table cells of one comparison, after its leading label columns."""
    return [
        str(row.shape),
        format_error(row.max_abs_error),
        format_error(row.max_rel_error),
        format_index(row.worst_index),
        format_number(row.analytic),
        format_number(row.numerical),
        row.verdict,
    ]


COMPARISON_HEADERS = [
    "shape", "max abs err", "max rel err", "worst", "analytic", "numerical", "verdict",
]


def comparison_headers(mode: str) -> list[str]:
    """The column headers of a comparison: in mode "jvp-vjp" the two sides are the reverse
    mode's ⟨Jᵀu, v⟩ and the forward mode's ⟨u, Jv⟩, not an analytic and a numerical value."""
    if mode != "jvp-vjp":
        return COMPARISON_HEADERS
    return [{"analytic": "reverse", "numerical": "forward"}.get(h, h) for h in COMPARISON_HEADERS]


def pass_rule(mode: str) -> str:
    """The sentence under a table that says when a row passes."""
    return DOT_PRODUCT_RULE if mode == "jvp-vjp" else PASS_RULE


def compare_directional(label: str, shape: tuple[int, ...], analytic: np.ndarray,
                        numerical: Callable[[np.ndarray], float], directions: np.ndarray,
                        atol: float, rtol: float) -> Comparison:
    """The directional check: ⟨analytic, v⟩ against ``numerical(v)`` (a directional derivative
    of the same function, or a forward-mode one) for every direction v, compared as ``compare``
    does (the worst index is the direction's number)."""
    projected = np.array([np.vdot(analytic, v) for v in directions])
    measured = np.array([numerical(v) for v in directions])
    return compare(label, shape, projected, measured, atol, rtol, by_direction=True)


def raise_if_failed(report: Any) -> None:
    """The ``raise_on_fail`` of every check: a NumericsError carrying the report's table (and
    the report itself, as ``.report``) when it did not pass."""
    if not report.ok:
        error = NumericsError(str(report))
        error.report = report  # type: ignore[attr-defined]
        raise error
