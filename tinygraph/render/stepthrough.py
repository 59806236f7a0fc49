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
from tinygraph.render.labels import op_label, tensor_caption, value_text
from tinygraph.render.safe_text import TEXT_LIMIT, shorten
from tinygraph.render.steps import plan_steps
from tinygraph.render.time_sum import find_time_sums
from tinygraph.scope import format_scope
from tinygraph.render.stepthrough_page import page
from tinygraph.tensor import Tensor
from tinygraph.trace import JunctionStep, NodeStep, Trace, trace_backward

FOLD = "fold"  # the box standing for the folded steps (max_steps)
FOLDED = "(a folded step: drawn inside the grey box)"
RECOMPUTED = "(a step of the segment the checkpoint recomputes: drawn inside its box)"
_TITLE = re.compile(r'<g id="(?:node|edge)\d+" class="(node|edge)[^"]*">\s*<title>(.*?)</title>')


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
    node ``j<number>``; a parameter read by several nodes has one copy ``p<number>_<reader>_<i>``
    per read, all highlighted together; the adds of a sum over time are its one box; a node
    of a folded step is the fold box. A node step sends exactly the gradient edges from its
    box to each input's box (the forward edges, drawn too, are never "sent").
    """
    sums = find_time_sums(view, plan_steps(view).col_of)

    def item(node: Node) -> str:
        own = f"n{view.number(sums[id(node)].node if id(node) in sums else node)}"
        return own if own in names or FOLD not in names else FOLD

    frames = []
    box: list[str] = []  # the checkpoint whose recomputed segment the steps are in
    for step in trace:
        drawn = (id(step.node) in view.node_numbers if isinstance(step, NodeStep)
                 else id(step.tensor) in view.tensor_numbers)
        if not drawn:  # made by a tg.checkpoint's recomputation: in no picture
            caption = (_node_caption(step, trace.numbers) if isinstance(step, NodeStep)
                       else _junction_caption(step, trace.numbers))
            frames.append(Frame(box, [], [*caption, RECOMPUTED]))
            continue
        if isinstance(step, NodeStep):
            here = item(step.node)
            if step.node.op.name == "checkpoint":
                box = [here]
            caption = _node_caption(step, trace.numbers)
            sent = []
            for index, tensor in _sent_inputs(step):
                edge = f"{here}->{_target(view, step.node, index, tensor, item, names)}"
                if edge in names and edge not in sent and not edge.startswith(f"{here}->{here}"):
                    sent.append(edge)
            frames.append(Frame([here], sent, [*caption, FOLDED] if here == FOLD else caption))
        elif isinstance(step, JunctionStep):
            tensor_number = view.tensor_number(step.tensor)
            sigma = f"j{tensor_number}"
            caption = _junction_caption(step, trace.numbers)
            if sigma in names:
                current = [sigma]
            else:
                current = sorted(n for n in names if n.startswith(f"p{tensor_number}_") and "->" not in n)
            if not current and FOLD in names:
                current, caption = [FOLD], [*caption, FOLDED]
            producer = step.tensor.producer
            down = f"{sigma}->{item(producer)}" if producer is not None else ""
            frames.append(Frame(current, [down] if down in names else [], caption))
    return frames


def _sent_inputs(step: NodeStep) -> list[tuple[int, Tensor]]:
    """(input index, tensor) for each gradient a node step sent (in input order)."""
    inputs = step.node.inputs
    found, index = [], 0
    for tensor, _ in step.sent:
        while index < len(inputs) - 1 and inputs[index] is not tensor:
            index += 1
        found.append((index, tensor))
        index += 1
    return found


def _target(view: GraphView, node: Node, index: int, tensor: Tensor, item: object,
            names: set[str]) -> str:
    """The box a gradient for ``node``'s input ``index`` goes to: the parameter's copy, the
    tensor's Σ, or its producer's box."""
    if tensor.producer is None:
        return f"p{view.tensor_number(tensor)}_{view.number(node)}_{index}"
    junction = f"j{view.tensor_number(tensor)}"
    return junction if junction in names else item(tensor.producer)


def _source(node: Node) -> str:
    scope = format_scope(node.scope)
    return op_label(node) + (f" at {scope}" if scope else "")


def _node_caption(step: NodeStep, numbers: dict[int, int]) -> list[str]:
    lines = [f"backward of {step.node.where()}: receives dL/d(out) = {value_text(step.grad)} "
             f"for {tensor_caption(step.output, numbers)}"]
    lines += [f"sends {value_text(g)} to {tensor_caption(t, numbers)}" for t, g in step.sent]
    if not step.sent:
        lines.append("sends nothing: no input needs a gradient")
    return lines


def _junction_caption(step: JunctionStep, numbers: dict[int, int]) -> list[str]:
    where = format_scope(step.scope)
    head = f"junction Σ of {tensor_caption(step.tensor, numbers)}" + (f" ({where})" if where else "")
    lines = [f"{head}: {len(step.contributions)} readers sent a gradient, which add up"]
    lines += [f"+ {value_text(c.grad)} from {_source(c.source)}" for c in step.contributions]
    lines.append(f"= {value_text(step.total)}")
    return lines


def _frame_html(index: int, frame: Frame, count: int) -> str:
    """An <li> carrying the frame's targets in data attributes and its caption as text."""
    caption = "".join(f"<div>{html.escape(shorten(line, TEXT_LIMIT))}</div>"
                      for line in frame.caption)
    return (f'<li class="frame" data-current="{html.escape(" ".join(frame.current))}" '
            f'data-sent="{html.escape(" ".join(frame.sent))}">'
            f'<div class="step">step {index + 1} of {count}</div>{caption}</li>')
