"""Public entry points: ``to_dot`` (text), ``draw`` (a graphviz.Digraph), ``render`` (a file).

Graphviz only draws: positions are ours (``pos="x,y!"`` in points), so every picture is made
with ``neato -n2`` and straight edges, which takes well under a second even at T=128. Files
are made by running the binary ourselves (:mod:`tinygraph.render.graphviz_run`: a timeout,
the output checked), also for the ``pipe``/``render`` methods of the Digraph ``draw`` returns.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from tinygraph.errors import GraphStateError, RenderError
from tinygraph.output_path import output_path_fault
from tinygraph.performance import pause_gc
from tinygraph.render.dot_writer import UnrolledWriter
from tinygraph.render.formats import check_format, output_format
from tinygraph.render.graph_view import GraphView, attach_trace, collect
from tinygraph.render.graphviz_run import ENGINE, check_timeout, pipe_with_timeout
from tinygraph.render.layout import compute_layout, drawn_count
from tinygraph.render.steps import Steps, plan_steps, step_times
from tinygraph.render.options import FOLDING_VIEWS, Options, check_options, needs_grads
from tinygraph.render.rolled import write_rolled
from tinygraph.tensor import Tensor
from tinygraph.trace import Trace, trace_backward


def to_dot(out: Tensor, view: str = "forward", *, trace: Trace | None = None,
           **options: Any) -> str:
    """The graph below ``out`` as DOT text (no Graphviz binary needed).

    Args:
        out: the tensor to draw back from (a loss for the backward views).
        view: "forward" (tensors), "backward" (gradients ∂L/∂tensor flowing back), "both",
            or "rolled" (one step with a z⁻¹ delay on each recurrence).
        trace: a ``tg.trace_backward(out)`` result to take gradients from; made when a view
            or option needs gradients and none is given (``.grad`` is never touched).
        show_shapes, show_values: what forward edge labels add to the tensor's name (shape,
            value); not in the backward view.
        show_grads, show_grad_norms: what gradient edge labels add (the gradient's value or
            norm; its norm ‖·‖); backward and both views only.
        show_saved: tensor labels add what their op holds for the backward pass (the bytes
            ``tg.saved_bytes`` charges to it), and each step's label its total; forward, both
            and step views.
        color_by: "grad_norm" shades edges by log10 ‖∂L/∂tensor‖, with a legend; not rolled.
        max_steps: keep the first and last steps, fold the middle ones into one box; not rolled.
        max_nodes: refuse (RenderError) to draw more nodes than this; None for no limit.
        legend: add the legend box (default True).
        title: a heading at the top left of the picture.

    Every option is checked (type, range, and that it changes the chosen view: ConfigError),
    and the picture's size before any layout or gradient is computed.
    """
    with pause_gc():
        graph, opts, steps = plan_picture(out, view, options)
        return dot_text(graph, opts, steps, trace)


def plan_picture(out: Tensor, view: str, options: dict[str, Any],
                 where: str = "to_dot") -> tuple[GraphView, Options, Steps]:
    """The checks that come before any work: the options, then (one walk of the graph) the
    number of things the picture would place, refused over ``max_nodes`` with advice; errors
    name ``where``, the function the user called."""
    graph, opts, steps = _plan(out, view, options, where)
    _check_size(drawn_count(graph, steps), steps.shown, opts, where)
    return graph, opts, steps


def picture_size(out: Tensor, view: str = "forward", **options: Any) -> int:
    """How many boxes ``tg.to_dot(out, view, **options)`` would place (ops outside a fold, a copy
    of each parameter they read, a Σ per junction): the number ``max_nodes`` limits, counted
    with one walk and no layout, so callers can refuse a picture before building it."""
    graph, _, steps = _plan(out, view, options, "picture_size")
    return drawn_count(graph, steps)


def dot_text(graph: GraphView, opts: Options, steps: Steps, trace: Trace | None = None) -> str:
    """The DOT text of a planned picture; gradients from ``trace`` (made when needed)."""
    if needs_grads(opts):
        attach_trace(graph, trace if trace is not None else _trace(graph.output))
    lay = compute_layout(graph, steps, roomy=opts.show_grads or opts.show_grad_norms
                         or opts.show_values)
    if opts.view == "rolled":
        return write_rolled(graph, lay, opts)
    return UnrolledWriter(graph, lay, opts).write()


NOTEBOOK_WIDTH = 1000  # pixels: a notebook's output area
NOTEBOOK_STEPS = 8     # steps drawn side by side before draw() folds the middle ones


class BpttDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` holding our pinned layout: drawn with ``neato -n2``.

    ``pipe``/``render`` (and Jupyter's inline picture) run Graphviz through
    :func:`pipe_with_timeout`, so a missing binary, a failure or a run past ``timeout``
    seconds is a ``tg.RenderError`` with advice, never a hang or a ``graphviz`` exception.
    """

    def pipe(self, format: str | None = None, renderer: str | None = None,  # noqa: A002
             formatter: str | None = None, neato_no_op: bool | int | None = None,
             quiet: bool = False, *, engine: str | None = None, encoding: str | None = None,
             timeout: float = 60.0) -> bytes | str:
        """The picture in ``format`` (default the Digraph's) as bytes, or text with
        ``encoding``; ``neato -n2`` unless ``engine``/``neato_no_op`` say otherwise."""
        fmt = ":".join(part for part in (format or self.format, renderer, formatter) if part)
        data = pipe_with_timeout(self.source, fmt, timeout, engine=engine or self.engine,
                                 no_op=2 if neato_no_op is None else int(neato_no_op))
        return data.decode(encoding) if encoding else data

    def render(self, filename: str | os.PathLike | None = None,
               directory: str | os.PathLike | None = None, view: bool = False,
               cleanup: bool = False, format: str | None = None,  # noqa: A002
               renderer: str | None = None, formatter: str | None = None,
               neato_no_op: bool | int | None = None, quiet: bool = False,
               quiet_view: bool = False, *, outfile: str | os.PathLike | None = None,
               engine: str | None = None, raise_if_result_exists: bool = False,
               overwrite_source: bool = False, timeout: float = 60.0) -> str:
        """Save the DOT source as ``directory/filename`` and the picture beside it
        (``filename.format``, or ``outfile``); returns the picture's path, as graphviz does."""
        fmt = check_format(format or self.format)
        source = Path(directory or self.directory or "") / (filename or self.filename)
        target = check_output_path(Path(outfile) if outfile is not None
                                   else source.with_name(f"{source.name}.{fmt}"))
        if raise_if_result_exists and target.exists():
            raise RenderError(f"render: {target} exists (raise_if_result_exists=True)")
        data = self.pipe(fmt, renderer, formatter, neato_no_op, quiet, engine=engine,
                         timeout=timeout)
        if not cleanup:
            write_bytes(check_output_path(source), self.source.encode(self.encoding))
        write_bytes(target, data)
        if view:
            graphviz.view(target, quiet=quiet_view)
        return str(target)

    def _repr_image_svg_xml(self) -> str:
        return pipe_with_timeout(self.source, "svg").decode("utf-8")


def draw(out: Tensor, view: str = "forward", **options: Any) -> graphviz.Digraph:
    """The picture of :func:`to_dot` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    Made for a notebook: unless told otherwise it fits ``width=NOTEBOOK_WIDTH`` pixels and
    folds an unroll of more than ``NOTEBOOK_STEPS`` steps (``max_steps``; pass
    ``max_steps=None`` or ``width=None`` to draw everything at full size). Save it with
    ``tg.render(out, "bptt", format="svg", view=...)`` (with a timeout) or
    ``dot.render("bptt", format="svg")``.
    """
    options.setdefault("width", NOTEBOOK_WIDTH)
    if view in FOLDING_VIEWS:
        options.setdefault("max_steps", NOTEBOOK_STEPS)
    text = to_dot(out, view, **options)
    body = text.split("\n", 1)[1].rstrip().removesuffix("}").rstrip("\n")
    digraph = BpttDigraph(name="tinygraph", engine=ENGINE)
    digraph.body.extend(line + "\n" for line in body.split("\n"))
    return digraph


def render(out: Tensor | graphviz.Digraph, filename: str | os.PathLike,
           format: str | None = None, view: str = "forward", timeout: float = 60.0,  # noqa: A002
           **options: Any) -> Path:
    """Draw ``out`` (or a Digraph from :func:`draw`) into ``filename`` and return its path.

    The format is ``format``, else the suffix of ``filename`` (``pic.png`` is a PNG), else svg;
    a missing suffix is added (see :func:`tinygraph.render.output_format`). Raises, before
    Graphviz runs, when the format or suffix is not one Graphviz writes, when they disagree,
    or when the path cannot be written; then RenderError when Graphviz is missing (with the
    install hint), runs past ``timeout`` seconds, or fails without writing a complete file.
    """
    path, fmt = output_format(filename, format)
    check_timeout(timeout)
    check_output_path(path)
    source = out.source if isinstance(out, graphviz.Digraph) else to_dot(out, view, **options)
    write_bytes(path, pipe_with_timeout(source, fmt, timeout))
    return path


def check_output_path(path: Path) -> Path:
    """``path`` if a file can be written there; else a RenderError naming it and the fault."""
    fault = output_path_fault(path)
    if fault is not None:
        raise RenderError(f"render: cannot write {str(path)!r}: {fault}")
    return path


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``; an OSError becomes a RenderError naming the path."""
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise RenderError(f"render: cannot write {str(path)!r}: {exc.strerror or exc}") from None


def _plan(out: Tensor, view: str, options: dict[str, Any],
          where: str) -> tuple[GraphView, Options, Steps]:
    """The checked options, the graph (one walk) and its steps; errors name ``where``."""
    opts = check_options(view, options, where)
    graph = collect(out)
    steps = plan_steps(graph, opts.max_steps if opts.view != "rolled" else None,
                       _step_shown(graph, opts, where))
    return graph, opts, steps


def _step_shown(graph: GraphView, opts: Options, where: str) -> Any:
    """The step ``view="step"`` draws: ``t``, which must be a step of the graph."""
    if opts.view != "step":
        return None
    times = step_times(graph)
    if opts.t not in times:
        shown = ", ".join(str(t) for t in times[:6]) + (", …" if len(times) > 6 else "")
        raise RenderError(f"{where}: t={opts.t!r} is not a step of this graph "
                          f"({'steps: ' + shown if times else 'it has no tg.scope(t=...)'})")
    return opts.t


def _trace(out: Tensor) -> Trace:
    try:
        return trace_backward(out)
    except GraphStateError as exc:
        raise RenderError(f"to_dot: the backward view needs gradients, and "
                          f"tg.trace_backward failed: {exc}") from None


def _check_size(drawn: int, steps: int, opts: Options, where: str) -> None:
    """A RenderError when ``drawn`` things (over ``steps`` step columns) exceed max_nodes."""
    if opts.max_nodes is None or drawn <= opts.max_nodes:
        return
    if steps < 3:
        raise RenderError(
            f"{where}: the picture would have {drawn} nodes, over max_nodes={opts.max_nodes}, "
            f"and it has {'no' if steps == 0 else steps} time step{'' if steps == 1 else 's'} "
            "(tg.scope(t=...)) to fold with max_steps; draw a smaller part of the graph (a "
            "tensor nearer the inputs) or pass max_nodes=None to draw it anyway")
    per_step = drawn / steps
    fit = int(opts.max_nodes / max(per_step, 1.0))
    if fit < 2:
        raise RenderError(
            f"{where}: the picture would have {drawn} nodes ({steps} steps of about "
            f"{per_step:.0f}), over max_nodes={opts.max_nodes}, and even the two steps that "
            "max_steps=2 keeps are over it; draw a smaller part of the graph (a tensor nearer "
            "the inputs) or pass max_nodes=None to draw it anyway")
    raise RenderError(
        f"{where}: the picture would have {drawn} nodes ({steps} steps of about "
        f"{per_step:.0f}), over max_nodes={opts.max_nodes}; fold the middle steps with "
        f"max_steps={min(fit, 16)} (keeps the first and last steps), or pass max_nodes=None")
