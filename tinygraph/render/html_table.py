"""Tables as HTML for a notebook: what ``_repr_html_`` of a trace or a gradient check shows.

The same cells as the plain-text tables (:mod:`tinygraph.table`), every one made safe
(:mod:`tinygraph.render.safe_text`) and HTML-escaped, so a tensor called ``<script>`` is
shown, never run. Long tables are cut at ``MAX_ROWS`` rows with a note saying so.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from tinygraph.render.safe_text import TEXT_LIMIT, shorten

MAX_ROWS = 200


def _text(cell: object) -> str:
    return html.escape(shorten(cell, TEXT_LIMIT))


def html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, caption: str = "",
               notes: Sequence[str] = (), kind: str = "") -> str:
    """A ``<table>`` with ``caption`` above it and ``notes`` below, at most MAX_ROWS rows (a
    note says how many were left out); ``kind`` names it in its class (``tinygraph-trace``)."""
    shown = list(rows[:MAX_ROWS])
    more = [f"… {len(rows) - MAX_ROWS} more rows not shown (print() shows them all)"] \
        if len(rows) > MAX_ROWS else []
    head = "".join(f"<th style=\"text-align:left\">{_text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td style=\"text-align:left\">{_text(c)}</td>" for c in row)
                   + "</tr>" for row in shown)
    parts = [f'<div class="tinygraph-table{" tinygraph-" + kind if kind else ""}">']
    if caption:
        parts.append(f"<div><b>{_text(caption)}</b></div>")
    parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
    parts += [f"<div>{_text(note)}</div>" for note in [*more, *notes]]
    parts.append("</div>")
    return "".join(parts)
