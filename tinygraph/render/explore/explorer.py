"""``tg.explore``: the backward pass of a loss as one interactive page.

The page (see docs/explore.md) draws the backward picture in windows of a few steps, folds a
long sequence, and shows, for whatever is hovered or clicked, the numbers behind it: each
tensor's value and gradient, each op's local derivative and what it received and sent, each
Σ's table of contributions. The backward pass plays as a story, one frame per step of
``tg.trace_backward``, and a panel shows ‖∂L/∂h_t^(l)‖ over layers and steps. The result is
an :class:`Explorer`: written to a file, and shown inline as a notebook cell's value.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path
from typing import Any

from tinygraph.errors import ConfigError, DTypeError, GraphStateError, RenderError
from tinygraph.performance import pause_gc
from tinygraph.render.drawing import check_output_path, write_bytes
from tinygraph.render.explore.captions import frames
from tinygraph.render.explore.flow import gradient_flow
from tinygraph.render.explore.folds import fold_tree, windows
from tinygraph.render.explore.graph import ExploredGraph, explored_graph
from tinygraph.render.explore.page import page_html
from tinygraph.render.explore.payload import node_records, tensor_records
from tinygraph.render.explore.pictures import window_steps, window_svgs
from tinygraph.render.graphviz_run import check_timeout
from tinygraph.render.layout import drawn_count
from tinygraph.render.options import check_options
from tinygraph.render.steps import Steps
from tinygraph.tensor import Tensor
from tinygraph.trace import Trace, trace_backward

NOTEBOOK_HEIGHT = 720   # pixels of the frame a notebook shows the page in
_VIEWBOX = re.compile(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"')


class Explorer:
    """The explorer page of one backward pass.

    Attributes:
        html: the whole self-contained document.
        path: the file it was written to (None until :meth:`save`).
        frames: how many steps the story has (one per step of the trace).
    """

    def __init__(self, document: str, path: Path | None, frame_count: int,
                 height: int = NOTEBOOK_HEIGHT) -> None:
        self.html = document
        self.path = path
        self.frames = frame_count
        self.height = height

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (".html" added when it has no suffix) and return it."""
        target = html_path(path)
        write_bytes(check_output_path(target), self.html.encode("utf-8"))
        self.path = target
        return target

    def _repr_html_(self) -> str:
        """The page in a sandboxed frame (scripts run, nothing else is allowed), as Jupyter,
        JupyterLab and VS Code show a cell's HTML value."""
        return (f'<iframe class="tinygraph-explore" sandbox="allow-scripts" '
                f'title="tinygraph explorer" style="width: 100%; height: {self.height}px; '
                f'border: 1px solid #ddd;" srcdoc="{html.escape(self.html, quote=True)}"></iframe>')

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return f"Explorer({self.frames} frames, {len(self.html) // 1024} KB{where})"


def html_path(path: str | os.PathLike) -> Path:
    """``path`` with ".html" added when its name has no suffix."""
    target = Path(path)
    if target.name and not target.suffix:
        target = target.with_name(target.name + ".html")
    return target


def explore(loss: Tensor, path: str | os.PathLike | None = None, *, trace: Trace | None = None,
            title: str | None = None, max_steps: int | None = 8, frame: int | None = None,
            timeout: float = 60.0, max_nodes: int | None = 6000) -> Explorer:
    """The explorer page of ``loss``'s backward pass, written to ``path`` when given.

    Args:
        loss: a scalar output; its graph is kept (the trace uses retain_graph).
        path: the file to write (".html" added when it has no suffix); None writes nothing.
        trace: a ``tg.trace_backward(loss)`` result; made here when not given (``.grad`` is
            never touched).
        title: the page's heading (escaped); default "Backward pass of <loss's name>".
        max_steps: the steps first shown (the first and last ones) around a fold of the
            others, as ``tg.draw`` folds; None shows every step.
        frame: the step of the story the page opens on (0: the first); None opens on the
            whole pass. A URL ending ``#frame=12`` opens on step 12.
        timeout: seconds Graphviz may take for each window (RenderError past it).
        max_nodes: refuse (RenderError) a window of more boxes than this; None for no limit.
    """
    return explore_page(loss, path, "explore", trace=trace, title=title, max_steps=max_steps,
                        frame=frame, timeout=timeout, max_nodes=max_nodes)


def explore_page(loss: Tensor, path: str | os.PathLike | None, where: str, *, trace: Trace | None,
                 title: str | None, max_steps: int | None, frame: int | None, timeout: float,
                 max_nodes: int | None) -> Explorer:
    """:func:`explore`, its errors naming ``where`` (the function the user called)."""
    if not isinstance(loss, Tensor):
        raise DTypeError(f"{where}: the loss must be a tg.Tensor, got {type(loss).__name__}")
    check_timeout(timeout, where)
    check_options("backward", {"max_steps": max_steps, "max_nodes": max_nodes, "title": title},
                  where)
    if frame is not None and (isinstance(frame, bool) or not isinstance(frame, int) or frame < 0):
        raise ConfigError(f"{where}: frame must be an int >= 0 or None, got {frame!r}")
    target = None
    if path is not None:
        target = check_output_path(html_path(path))
    with pause_gc():
        graph = explored_graph(loss, trace if trace is not None else _trace(loss, where), where)
        data, pictures = explore_data(graph, timeout, max_nodes, title, max_steps, where)
        data["start"] = -1 if frame is None else frame
    page = Explorer(page_html(data["title"], data, pictures), None, len(data["frames"]))
    if target is not None:
        page.save(target)
    return page


def explore_data(graph: ExploredGraph, timeout: float, max_nodes: int | None,
                 title: str | None = None, max_steps: int | None = 8,
                 where: str = "explore") -> tuple[dict[str, Any], list[str]]:
    """The page's JSON and the SVG of each window."""
    count = graph.count
    tree = fold_tree(count, max_steps)
    spans = windows(tree) if count else [(0, 0)]
    planned = [window_steps(graph, start, stop) for start, stop in spans]
    for (start, stop), steps in zip(spans, planned, strict=True):
        _check_window(graph, steps, start, stop, max_nodes, where)
    pictures = window_svgs(graph, planned, timeout)
    sizes = [[float(v) for v in _VIEWBOX.search(svg).groups()] for svg in pictures]
    output = graph.view.output
    data = {
        "title": title if title is not None else f"Backward pass of {output.name or 'the loss'}",
        "times": [str(t) for t in graph.steps.times],
        "tree": [s.as_json() for s in tree] if count else [{"a": 0, "b": 0, "w": 0}],
        "sizes": sizes, "height": max(h for _, h in sizes),
        "out": graph.view.tensor_number(output),
        "tensors": tensor_records(graph), "nodes": node_records(graph),
        "frames": frames(graph), "flow": gradient_flow(graph), "film": None, "start": -1,
    }
    return data, pictures


def _check_window(graph: ExploredGraph, steps: Steps, start: int, stop: int,
                  max_nodes: int | None, where: str) -> None:
    drawn = drawn_count(graph.view, steps, graph.sums)
    if max_nodes is not None and drawn > max_nodes:
        steps = f"steps {start}..{stop - 1}" if stop > start else "the graph"
        raise RenderError(f"{where}: the picture of {steps} would have {drawn} boxes, over "
                          f"max_nodes={max_nodes}; draw a smaller part of the graph or pass "
                          "max_nodes=None")


def _trace(loss: Tensor, where: str) -> Trace:
    try:
        return trace_backward(loss)
    except GraphStateError as exc:
        raise RenderError(f"{where}: the page needs gradients, and tg.trace_backward failed: "
                          f"{exc}") from None
