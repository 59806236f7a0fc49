"""The legend: an HTML-like table node explaining every colour and shape in the picture."""

from __future__ import annotations

from html import escape

from tinygraph.memory import human
from tinygraph.render import style
from tinygraph.render.style import NormScale


def _row(color: str, text: str, bold: bool = False) -> str:
    body = f"<B>{escape(text)}</B>" if bold else escape(text)
    return f'<TR><TD ALIGN="LEFT"><FONT COLOR="{color}">{body}</FONT></TD></TR>'


def legend_label(view: str, *, params: bool, junctions: bool, nonlocal_edges: bool,
                 folded: bool, scale: NormScale | None, delays: bool = False,
                 checkpoints: bool = False, saved: int | None = None) -> str:
    """The legend's HTML-like label (without the outer ``<`` ``>``) for one picture;
    ``saved``: the parameters' bytes when the picture shows what each node holds."""
    rows = [_row("#000000", "How to read", bold=True)]
    forward = view in ("forward", "both", "rolled")
    backward = view in ("backward", "both")
    rows.append(_row(style.OP_LINE, "blue box: an op (one node of the graph)"))
    if forward:
        rows.append(_row(style.FORWARD, "solid arrow: a tensor, labelled name [shape]"))
    if backward:
        rows.append(_row(style.GRADIENT,
                         "dashed arrow: its gradient ∂L/∂(tensor), flowing back"))
    if nonlocal_edges and backward and scale is None:
        rows.append(_row(style.NONLOCAL, "bold purple: ∂L/∂h arriving from step t+1 "
                                         "(the non-local gradient)"))
    elif nonlocal_edges and backward:
        rows.append(_row(style.NONLOCAL, "bold dashed, label \"from t+1\": ∂L/∂h arriving "
                                         "from step t+1 (the non-local gradient)"))
    if junctions:
        rows.append(_row(style.JUNCTION_LINE, "Σ: a tensor read by several ops; forward it is "
                                              "copied to each,"))
        rows.append(_row(style.JUNCTION_LINE, "    backward their gradients are added: "
                                              "∂L/∂h = Σ over readers"))
    if params:
        rows.append(_row(style.PARAM_LINE, "green box: a parameter (W, b), one tensor shown "
                                           "beside every op that reads it;"))
        rows.append(_row(style.PARAM_LINE, "    its gradient is the sum over the copies: "
                                           "∂L/∂W = Σ_t ∂L/∂W|_t"))
    rows.append(_row(style.CONST_COLOR, "grey text: a constant input (no gradient)"))
    if checkpoints:
        rows.append(_row(style.CHECKPOINT_LINE, "orange double box: tg.checkpoint, one node for "
                                                "a whole segment; backward runs it again"))
    if saved is not None:
        rows.append(_row(style.SAVED_COLOR, "· 96 B on a tensor: what its op holds for backward "
                                            "(tg.saved_bytes); a step's total by its t"))
        rows.append(_row(style.SAVED_COLOR, f"    the parameters: {human(saved)} more"))
    if delays:
        rows.append(_row(style.NONLOCAL, "z⁻¹: delay, h_(t−1) is fed to step t "
                                         "(unroll it to see BPTT)"))
    if folded:
        rows.append(_row(style.CONST_COLOR, "grey box: middle steps folded (max_steps)"))
    if scale is not None:
        rows.append(_row("#000000", "colour and width of every edge: log10 ‖gradient‖",
                         bold=True))
        cells = []
        for decade in range(scale.lo, scale.hi + 1):
            color = style.mix((decade - scale.lo) / (scale.hi - scale.lo))
            cells.append(f'<TD BGCOLOR="{color}"><FONT POINT-SIZE="8">1e{decade}</FONT></TD>')
        rows.append('<TR><TD><TABLE BORDER="0" CELLSPACING="1"><TR>' + "".join(cells)
                    + "</TR></TABLE></TD></TR>")
        rows.append(_row(style.CONST_COLOR, "light to dark = small to large norm: pale grey "
                                            "is a vanishing gradient, dark red an exploding one"))
        if nonlocal_edges and backward:
            rows.append(_row(style.CONST_COLOR, "(here colour is the norm for every edge, the "
                                                "label \"from t+1\" marks the non-local one)"))
    return ('<TABLE BORDER="1" COLOR="#999999" CELLBORDER="0" CELLSPACING="2" '
            'CELLPADDING="1" BGCOLOR="white">' + "".join(rows) + "</TABLE>")
