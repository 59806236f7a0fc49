"""The one table printer: the plain-text tables of traces, gradient checks and reports."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], full_rule: bool = False) -> str:
    """Left-aligned columns separated by two spaces, with a rule under the header: one dash per
    column width, or (``full_rule``) one line of dashes as wide as the header line (for a last
    column of free text, whose longest entry may be much wider)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    lines = [line(row) for row in rows]
    if full_rule:
        rule = "-" * len(line(headers))
    else:
        rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *lines])
