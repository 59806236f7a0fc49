"""The explorer's pictures: each window of steps drawn by the backward view, as inline SVG
whose every box and edge carries its key (``data-k``) and nothing else that names it.

A window is drawn as ``view="step"`` draws one step: only its steps, with stubs where a state
enters from an earlier step or leaves for a later one, so windows set side by side read as
one picture. Graphviz's ``<title>`` elements (which browsers show as tooltips: ``n2->n0``),
its tooltips and its ids are removed; the page shows its own.
"""

from __future__ import annotations

import html
import re
from concurrent.futures import ThreadPoolExecutor

from tinygraph.render.bands import Bands
from tinygraph.render.dot_writer import UnrolledWriter
from tinygraph.render.explore.edge_keys import edge_keys
from tinygraph.render.explore.graph import ExploredGraph
from tinygraph.render.graph_view import GraphView
from tinygraph.render.graphviz_run import pipe_with_timeout
from tinygraph.render.layout import compute_layout
from tinygraph.render.names import Namer
from tinygraph.render.options import check_options
from tinygraph.render.steps import Steps, plan_range
from tinygraph.render.time_sum import TimeSum

_GROUP = re.compile(r'<g id="([^"]*)" class="(node|edge|cluster)([^"]*)">\s*<title>(.*?)</title>', re.S)
_SIZE = re.compile(r'<svg width="[^"]*" height="[^"]*"\s+viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"')


def inline_svg(svg: str) -> str:
    """Graphviz's SVG trimmed for inlining in HTML5: no XML prolog, DOCTYPE, comments or
    namespace URLs (the HTML parser knows the SVG namespace), so the page holds no address."""
    start = svg.find("<svg")
    body = re.sub(r"<!--.*?-->\s*", "", svg[start:], flags=re.S)
    body = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", body)
    return body.strip()


def window_dot(view: GraphView, steps: Steps,
               parts: tuple[dict[int, TimeSum], Bands, Namer] | None = None) -> tuple[str, list[str]]:
    """The DOT text of the backward picture of ``steps`` (no legend) and the key of each edge,
    in order; each edge gets the DOT id ``e<k>`` of its position. ``parts``: the time sums,
    bands and names of the pictures, when already found (see :func:`compute_layout`)."""
    opts = check_options("backward", {"legend": False, "max_nodes": None}, "explore")
    writer = UnrolledWriter(view, compute_layout(view, steps, parts=parts), opts)
    edges = writer.builder.build()
    keys = edge_keys(view, writer.builder, edges)
    for k, edge in enumerate(edges):
        edge.attrs["id"] = f"e{k}"
    return writer.write(edges), keys


def window_steps(graph: ExploredGraph, start: int, stop: int) -> Steps:
    """The steps of a window (the graph's own when the window holds them all, or there are
    none)."""
    if graph.count == 0 or (start, stop) == (0, graph.count):
        return graph.steps
    return plan_range(graph.view, start, stop)


def window_svgs(graph: ExploredGraph, planned: list[Steps], timeout: float) -> list[str]:
    """The cleaned SVG of each window (its :func:`window_steps`); Graphviz draws one window
    while the next one's DOT text is written."""
    parts = (graph.sums, graph.bands, graph.namer)
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = []
        for steps in planned:
            text, keys = window_dot(graph.view, steps, parts)
            pending.append((pool.submit(pipe_with_timeout, text, "svg", timeout), keys))
        return [clean_svg(future.result().decode("utf-8"), keys) for future, keys in pending]


def clean_svg(svg: str, keys: list[str]) -> str:
    """Graphviz's SVG for inlining: each node, edge and step column a ``<g>`` with its key in
    ``data-k`` (an edge's from ``keys`` by its id ``e<k>``), no titles, tooltips or ids, and
    its size in CSS pixels equal to its points."""
    body = inline_svg(svg)

    def group(match: re.Match[str]) -> str:
        ident, kind, rest, title = match.groups()
        key = keys[int(ident[1:])] if kind == "edge" else html.unescape(title)
        return f'<g class="{kind}{rest}" data-k="{html.escape(key)}">'

    body = _GROUP.sub(group, body)
    body = re.sub(r"<title>.*?</title>\s*", "", body, flags=re.S)
    body = re.sub(r"</?a\b[^>]*>", "", body)
    body = re.sub(r'(<g) id="[^"]*"', r"\1", body)
    return _SIZE.sub(lambda m: f'<svg width="{m.group(3)}" height="{m.group(4)}" '
                               f'viewBox="{" ".join(m.groups())}"', body, count=1)
