"""Comparing an analytic gradient with a numerical one, and the tables that show the result.

An entry passes when |a − n| ≤ atol + rtol · |n| (a: analytic, n: numerical, as numpy's
``allclose``). Its relative error is |a − n| / max(|a|, |n|, atol), so entries whose true value
is below ``atol`` do not show huge relative errors made of rounding noise. The worst entry is
the one that exceeds its allowance the most: the largest |a − n| / (atol + rtol · |n|).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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


def render_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


@dataclass(frozen=True)
class GradcheckReport:
    """What ``gradcheck`` found: one :class:`Comparison` per input, printable as a table.

    Attributes:
        rows: one comparison per input, in the order given.
        mode: ``"full"`` (every entry), ``"directional"`` (random directions) or
            ``"jvp-vjp"`` (the dot-product test of forward against reverse mode).
        eps, atol, rtol: the settings used.
        value: f at the unperturbed inputs.
        notes: remarks that explain a failure (e.g. f's result does not depend on the inputs).
        culprit: on failure, the first node whose backward disagrees with its own forward,
            written ``op (t=3, layer=1)``; None when it passed or could not be found.
    """

    rows: tuple[Comparison, ...]
    mode: str
    eps: float
    atol: float
    rtol: float
    value: float
    notes: tuple[str, ...] = ()
    culprit: str | None = None

    @property
    def ok(self) -> bool:
        """True when every input passes."""
        return all(row.ok for row in self.rows)

    @property
    def failures(self) -> list[Comparison]:
        """The inputs whose gradient disagrees, in order."""
        return [row for row in self.rows if not row.ok]

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        failed = len(self.failures)
        status = "ok" if self.ok else f"FAIL: {failed} of {len(self.rows)} inputs disagree"
        what = "worst = entry index" if self.mode == "full" else "worst = direction number"
        settings = "" if self.mode == "jvp-vjp" else f"eps={self.eps:g}, "
        head = (f"gradcheck (mode={self.mode}, {settings}atol={self.atol:g}, "
                f"rtol={self.rtol:g}): {status}")
        table = render_table(["input", *comparison_headers(self.mode)],
                             [[row.label, *comparison_cells(row)] for row in self.rows])
        lines = [head, table, f"{pass_rule(self.mode)}; {what}", *self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"GradcheckReport(ok={self.ok}, mode={self.mode!r}, inputs={len(self.rows)})"
