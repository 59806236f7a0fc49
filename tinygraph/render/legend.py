"""The legend: a compact HTML-like table explaining every colour and shape in the picture.

It lists only what the picture shows, one short line each, and goes below the drawing (in
two or three columns, so it adds little height and no width) or beside it (one column).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from tinygraph.memory import human
from tinygraph.render import style
from tinygraph.render.style import SMALL_SIZE, NormScale, text_width


@dataclass
class Legend:
    """The legend's label (HTML, without the outer ``<`` ``>``) and its estimated size."""

    html: str
    width: float
    height: float


def legend_rows(view: str, *, params: bool, junctions: bool, nonlocal_edges: bool,
                folded: bool, scale: NormScale | None, delays: bool = False,
                sums: bool = False, inferred: bool = False, reverse: bool = False,
                steps: bool = True, checkpoints: bool = False,
                saved: int | None = None) -> list[tuple[str, str]]:
    """(colour, text) of every line the picture needs, the heading first; ``saved``: the
    parameters' bytes when the tensors show what their ops hold (show_saved)."""
    rows = [("#000000", "How to read")]
    rows.append((style.FORWARD, "solid: a tensor (h: step t below, layer above)" if steps
                 else "solid: a tensor, named on its arrow"))
    backward = view in ("backward", "both", "step")
    if backward:
        rows.append((style.GRADIENT, "dashed: its gradient ∂L/∂(tensor), flowing back"))
    step = "the next step (t−1 in a reverse layer)" if reverse else "the next step"
    if nonlocal_edges and backward and scale is None:
        rows.append((style.NONLOCAL, f"bold purple: ∂L/∂h from {step} (non-local)"))
    elif nonlocal_edges and backward:
        rows.append((style.NONLOCAL, f"bold, \"from t+1\": ∂L/∂h from {step} (non-local)"))
    if junctions:
        rows.append((style.JUNCTION_LINE, "Σ: read twice; forward copied, backward gradients added"))
    if params:
        rows.append((style.PARAM_LINE, "green: a parameter, one tensor shown at every step;"))
        rows.append((style.PARAM_LINE, "    its gradient is the sum over the copies: ∂L/∂W = Σ_t ∂L/∂W|_t"))
    rows.append((style.CONST_COLOR, "grey text: a constant input (no gradient)"))
    if sums:
        rows.append((style.OUTPUT_LINE, "L = Σ_t L_t: the steps' terms, however the code adds them"))
    if delays:
        rows.append((style.NONLOCAL, "z⁻¹: delay, h_(t−1) is fed to step t (unroll it to see BPTT)"))
    if folded:
        rows.append((style.CONST_COLOR, "grey box: middle steps folded (max_steps)"))
    if checkpoints:
        rows.append((style.CHECKPOINT_LINE, "orange double box ↻: tg.checkpoint, one node for a "
                                            "segment, run again in backward"))
    if saved is not None:
        rows.append((style.SAVED_COLOR, "· 96 B: held for backward by its op (tg.saved_bytes), "
                                        f"a step's total by its t; parameters {human(saved)}"))
    if inferred:
        rows.append((style.CONST_COLOR, "layers found from the recurrences (no tg.scope(layer=…))"))
    if scale is not None:
        rows.append(("#000000", "colour and width of every edge: log10 ‖gradient‖"))
        rows.append((style.CONST_COLOR, "pale grey: vanishing gradient, dark red: exploding"))
        if nonlocal_edges and backward:
            rows.append((style.CONST_COLOR, "(colour is the norm for every edge here)"))
    return rows


def build_legend(rows: list[tuple[str, str]], scale: NormScale | None, columns: int) -> Legend:
    """The table: the heading, then ``rows`` in ``columns`` columns (filled top to bottom),
    then the colour ramp of ``scale``."""
    body = rows[1:]
    per = -(-len(body) // columns) if body else 0
    groups = [body[i * per:(i + 1) * per] for i in range(columns)] if per else []
    groups = [g for g in groups if g]
    size = SMALL_SIZE
    line = size * style.LINE_HEIGHT + 1.0
    cells = []
    widths = []
    for group in groups:
        lines = "".join(
            f'<TR><TD ALIGN="LEFT"><FONT COLOR="{color}">{escape(text)}</FONT></TD></TR>'
            for color, text in group)
        cells.append(f'<TD VALIGN="TOP"><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1">'
                     f"{lines}</TABLE></TD>")
        widths.append(max(text_width(text, size, 0.0) for _, text in group) + 10.0)
    span = max(len(cells), 1)
    heading = (f'<TR><TD ALIGN="LEFT" COLSPAN="{span}"><B>{escape(rows[0][1])}</B></TD></TR>')
    table = [heading, f"<TR>{''.join(cells)}</TR>"]
    height = line * (1 + per) + 10.0
    if scale is not None:
        ramp = []
        for decade in range(scale.lo, scale.hi + 1):
            color = style.mix((decade - scale.lo) / (scale.hi - scale.lo))
            ramp.append(f'<TD BGCOLOR="{color}"><FONT POINT-SIZE="{size:g}">1e{decade}</FONT></TD>')
        table.append(f'<TR><TD ALIGN="LEFT" COLSPAN="{span}"><TABLE BORDER="0" CELLSPACING="1">'
                     f"<TR>{''.join(ramp)}</TR></TABLE></TD></TR>")
        height += line + 4.0
        widths.append(0.0)
    width = max(sum(widths) + 10.0, text_width(rows[0][1], size, 10.0))
    html = (f'<TABLE BORDER="1" COLOR="#bbbbbb" CELLBORDER="0" CELLSPACING="2" CELLPADDING="1" '
            f'BGCOLOR="white"><TR><TD><FONT POINT-SIZE="{size:g}"><TABLE BORDER="0" '
            f'CELLSPACING="0" CELLPADDING="1">{"".join(table)}</TABLE></FONT></TD></TR></TABLE>')
    return Legend(html, width, height)
