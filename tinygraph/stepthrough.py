"""``stepthrough``: the backward pass as a sequence of frames in one self-contained HTML page.

``tg.trace_backward(out)`` lists the backward pass step by step (see :mod:`tinygraph.trace`).
This module draws the backward picture once (``tg.to_dot(out, view="backward")`` through
Graphviz, inlined as SVG) and makes one *frame* per trace step:

* a node step (one op's backward, dL/dy in, dL/dx_i out) highlights that op and marks the
  gradient edges it sends to its inputs as *just sent*;
* a junction step (a tensor read by several nodes, dL/dh = Σ_c dL/dh|_c) highlights the Σ node
  (or, for a parameter such as W_hh, all its per-step copies) and marks the summed gradient;
* with ``max_steps`` the middle steps of a long unroll are folded into one grey box, as in
  ``tg.to_dot``: the frames of their steps highlight the box and the edges out of it.

Every gradient sent in an earlier frame is drawn as *arrived*; gradients not yet computed are
faded. Buttons and the arrow keys move between frames. The page needs no network: the SVG,
style and script are inline, and every name a user gave (tensor names, scope values) is
made safe (:mod:`tinygraph.render.safe_text`) and HTML-escaped, so a tensor called
``<script>`` is shown, never run, and a NUL or a lone surrogate in a name is shown as ``\\x00``
or ``\\udc80`` instead of breaking the page.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tinygraph.node import Node
from tinygraph.performance import pause_gc
from tinygraph.render.drawing import (
    check_output_path,
    dot_text,
    pipe_with_timeout,
    plan_picture,
    write_bytes,
)
from tinygraph.render.graph_view import GraphView
from tinygraph.render.graphviz_run import check_timeout
from tinygraph.render.safe_text import TEXT_LIMIT, shorten
from tinygraph.scope import format_scope
from tinygraph.stepthrough_page import page
from tinygraph.tensor import Tensor
from tinygraph.trace import JunctionStep, NodeStep, Trace, tensor_label, trace_backward

FOLD = "fold"  # the box standing for the folded steps (max_steps)
FOLDED = "(a folded step: drawn inside the grey box)"
RECOMPUTED = "(a step of the segment the checkpoint recomputes: drawn inside its box)"
_TITLE = re.compile(r'<g id="(?:node|edge)\d+" class="(node|edge)">\s*<title>(.*?)</title>')


@dataclass
class Frame:
    """One backward step as the page shows it.

    Attributes:
        current: the SVG names (Graphviz titles such as ``n12`` or ``j3``) of what is processed.
        sent: the gradient edges (``"n12->n7"``) this step produces.
        caption: plain text lines (escaped when written) saying what the step computes.
    """

    current: list[str]
    sent: list[str] = field(default_factory=list)
    caption: list[str] = field(default_factory=list)


def stepthrough_html(out: Tensor, *, trace: Trace | None = None, title: str | None = None,
                     timeout: float = 60.0, max_steps: int | None = None,
                     max_nodes: int | None = 6000) -> str:
    """The page as a string: the backward picture of ``out`` and one frame per trace step.

    Args:
        out: a scalar output (a loss); its graph is kept (the trace uses retain_graph).
        trace: a ``tg.trace_backward(out)`` result; made here when not given (``.grad`` is
            never touched).
        title: the page heading (escaped); default "Backward pass of <out's name>".
        timeout: seconds Graphviz may take (RenderError past it, or when it is missing).
        max_steps: fold the middle steps of a long unroll into one box, as in ``tg.to_dot``;
            the frames of the folded steps highlight that box.
        max_nodes: refuse (RenderError, before any trace) a picture of more nodes; None for
            no limit.
    """
    check_timeout(timeout, "stepthrough")
    with pause_gc():
        view, opts, steps = plan_picture(
            out, "backward", {"show_grad_norms": True, "max_steps": max_steps,
                              "max_nodes": max_nodes}, "stepthrough")
        trace = trace if trace is not None else trace_backward(out)
        text = dot_text(view, opts, steps, trace)
    svg = inline_svg(pipe_with_timeout(text, "svg", timeout).decode("utf-8"))
    names = set(svg_names(svg))
    frames = build_frames(view, trace, names)
    heading = title if title is not None else f"Backward pass of {out.name or 'the output'}"
    return page(heading, svg, [_frame_html(i, f, len(frames)) for i, f in enumerate(frames)])


def stepthrough(out: Tensor, path: str | os.PathLike, *, trace: Trace | None = None,
                title: str | None = None, timeout: float = 60.0, max_steps: int | None = None,
                max_nodes: int | None = 6000) -> Path:
    """Write :func:`stepthrough_html` to ``path`` (".html" added if absent) and return the path."""
    target = Path(path)
    if target.name and target.suffix != ".html":
        target = target.with_name(target.name + ".html")
    check_output_path(target)
    html_text = stepthrough_html(out, trace=trace, title=title, timeout=timeout,
                                 max_steps=max_steps, max_nodes=max_nodes)
    write_bytes(target, html_text.encode("utf-8"))
    return target


def inline_svg(svg: str) -> str:
    """Graphviz's SVG trimmed for inlining in HTML5: no XML prolog, DOCTYPE, comments or
    namespace URLs (the HTML parser knows the SVG namespace), so the page holds no address."""
    start = svg.find("<svg")
    body = re.sub(r"<!--.*?-->\s*", "", svg[start:], flags=re.S)
    body = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", body)
    return body.strip()


def svg_names(svg: str) -> list[str]:
    """The Graphviz titles of the SVG's nodes and edges (``n3``, ``j1``, ``n3->j1``), in order."""
    return [html.unescape(m.group(2)) for m in _TITLE.finditer(svg)]


def build_frames(view: GraphView, trace: Trace, names: set[str]) -> list[Frame]:
    """One :class:`Frame` per step of ``trace``, naming the SVG elements each step touches.

    ``names`` are the titles present in the picture: a junction of a produced tensor is a Σ
    node ``j<rank>``; a parameter read by several nodes has one copy ``p<rank>_<reader>_<i>``
    per read, all highlighted together.
    """
    edges_from: dict[str, list[str]] = {}
    for name in sorted(names):
        if "->" in name:
            src, dst = name.split("->", 1)
            if dst != "output":
                edges_from.setdefault(src, []).append(name)
    frames = []
    box: list[str] = []  # the checkpoint whose recomputed segment the steps are in
    for step in trace:
        inside = (id(step.node) not in view.node_rank if isinstance(step, NodeStep)
                  else id(step.tensor) not in view.tensor_rank)
        if inside:  # made by a tg.checkpoint's recomputation: not in the picture
            caption = (_node_caption(step, trace.numbers) if isinstance(step, NodeStep)
                       else _junction_caption(step, trace.numbers))
            frames.append(Frame(box, [], [*caption, RECOMPUTED]))
            continue
        if isinstance(step, NodeStep):
            item = f"n{view.rank(step.node)}"
            if step.node.op.name == "checkpoint":
                box = [item] if item in names or FOLD not in names else [FOLD]
            caption = _node_caption(step, trace.numbers)
            if item in names or FOLD not in names:
                frames.append(Frame([item], edges_from.get(item, []), caption))
            else:
                frames.append(Frame([FOLD], _sent_from_fold(view, step, names), [*caption, FOLDED]))
        elif isinstance(step, JunctionStep):
            trank = view.trank(step.tensor)
            sigma = f"j{trank}"
            caption = _junction_caption(step, trace.numbers)
            if sigma in names:
                current = [sigma]
            else:
                current = sorted(n for n in names if n.startswith(f"p{trank}_") and "->" not in n)
            if not current and FOLD in names:
                current, caption = [FOLD], [*caption, FOLDED]
            frames.append(Frame(current, edges_from.get(sigma, []), caption))
    return frames


def _sent_from_fold(view: GraphView, step: NodeStep, names: set[str]) -> list[str]:
    """The edges out of the fold box that carry what a folded node sends: to the Σ of an
    input, or to its producer, when that is drawn outside the fold."""
    sent: list[str] = []
    for tensor, _ in step.sent:
        if tensor.producer is None:
            continue
        junction = f"j{view.trank(tensor)}"
        target = junction if junction in names else f"n{view.rank(tensor.producer)}"
        edge = f"{FOLD}->{target}"
        if edge in names and edge not in sent:
            sent.append(edge)
    return sent


def _norm(g: np.ndarray) -> str:
    """A one-entry gradient by its value, a larger one by its norm ‖g‖."""
    if g.size == 1:
        return f"{float(g.reshape(-1)[0]):.4g}"
    return f"‖{float(np.linalg.norm(g)):.4g}‖"


def _source(node: Node) -> str:
    scope = format_scope(node.scope)
    return node.op.describe() + (f" at {scope}" if scope else "")


def _node_caption(step: NodeStep, numbers: dict[int, int]) -> list[str]:
    lines = [f"backward of {step.node.where()}: receives dL/d(out) = {_norm(step.grad)} "
             f"for {tensor_label(step.output, numbers)}"]
    lines += [f"sends {_norm(g)} to {tensor_label(t, numbers)}" for t, g in step.sent]
    if not step.sent:
        lines.append("sends nothing: no input needs a gradient")
    return lines


def _junction_caption(step: JunctionStep, numbers: dict[int, int]) -> list[str]:
    where = format_scope(step.scope)
    head = f"junction Σ of {tensor_label(step.tensor, numbers)}" + (f" ({where})" if where else "")
    lines = [f"{head}: {len(step.contributions)} readers sent a gradient, which add up"]
    lines += [f"+ {_norm(c.grad)} from {_source(c.source)}" for c in step.contributions]
    lines.append(f"= {_norm(step.total)}")
    return lines


def _frame_html(index: int, frame: Frame, count: int) -> str:
    """An <li> carrying the frame's targets in data attributes and its caption as text."""
    caption = "".join(f"<div>{html.escape(shorten(line, TEXT_LIMIT))}</div>"
                      for line in frame.caption)
    return (f'<li class="frame" data-current="{html.escape(" ".join(frame.current))}" '
            f'data-sent="{html.escape(" ".join(frame.sent))}">'
            f'<div class="step">step {index + 1} of {count}</div>{caption}</li>')
