"""Public entry points: ``to_dot`` (text), ``draw`` (a graphviz.Digraph), ``render`` (a file).

Graphviz only draws: positions are ours (``pos="x,y!"`` in points), so every picture is made
with ``neato -n2`` and straight edges, which takes well under a second even at T=128. The
``graphviz`` package has no timeout, so files are made by running the binary ourselves with
one; dot 2.43 sometimes exits 1 after writing a complete file, which is accepted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from tinygraph.errors import GraphStateError, RenderError
from tinygraph.render.dot_writer import VIEWS, Options, UnrolledWriter
from tinygraph.render.graph_view import attach_trace, collect
from tinygraph.render.layout import compute_layout
from tinygraph.render.rolled import write_rolled
from tinygraph.tensor import Tensor
from tinygraph.trace import Trace, trace_backward

ENGINE = "neato"
INSTALL_HINT = ("install Graphviz: 'sudo apt-get install graphviz' (Debian/Ubuntu), "
                "'brew install graphviz' (macOS), 'conda install graphviz'; tg.to_dot() works "
                "without it")
PNG_LIMIT = 32000  # pixels; Graphviz caps bitmaps at 32767


def to_dot(out: Tensor, view: str = "forward", *, trace: Trace | None = None,
           **options: Any) -> str:
    """The graph below ``out`` as DOT text (no Graphviz binary needed).

    Args:
        out: the tensor to draw back from (a loss for the backward views).
        view: "forward" (tensors), "backward" (gradients ∂L/∂tensor flowing back), "both",
            or "rolled" (one step with a z⁻¹ delay on each recurrence).
        trace: a ``tg.trace_backward(out)`` result to take gradients from; made when a view
            or option needs gradients and none is given (``.grad`` is never touched).
        show_shapes, show_values, show_grads, show_grad_norms: what edge labels add to the
            tensor's name (shape; value; gradient value or norm; gradient norm ‖·‖).
        color_by: "grad_norm" shades gradient edges by log10 ‖∂L/∂tensor‖, with a legend.
        max_steps: keep the first and last steps, fold the middle ones into one box.
        max_nodes: refuse (RenderError) to draw more nodes than this; None for no limit.
        legend: add the legend box (default True).
    """
    opts = _options(view, options)
    graph = collect(out)
    if _needs_grads(opts):
        attach_trace(graph, trace if trace is not None else _trace(out))
    lay = compute_layout(graph, opts.max_steps if opts.view != "rolled" else None)
    _check_size(graph, lay, opts)
    if opts.view == "rolled":
        return write_rolled(graph, lay, opts)
    return UnrolledWriter(graph, lay, opts).write()


class BpttDigraph(graphviz.Digraph):
    """A ``graphviz.Digraph`` holding our pinned layout: drawn with ``neato -n2``.

    ``render``/``pipe`` default to the no-layout mode so positions are kept; Jupyter shows it
    through :func:`pipe_with_timeout`.
    """

    def pipe(self, *args: Any, **kwargs: Any) -> Any:
        """``graphviz.Digraph.pipe`` with ``neato_no_op=2`` unless given."""
        kwargs.setdefault("neato_no_op", 2)
        return super().pipe(*args, **kwargs)

    def render(self, *args: Any, **kwargs: Any) -> Any:
        """``graphviz.Digraph.render`` with ``neato_no_op=2`` unless given."""
        kwargs.setdefault("neato_no_op", 2)
        return super().render(*args, **kwargs)

    def _repr_image_svg_xml(self) -> str:
        return pipe_with_timeout(self.source, "svg").decode("utf-8")


def draw(out: Tensor, view: str = "forward", **options: Any) -> graphviz.Digraph:
    """The picture of :func:`to_dot` as a ``graphviz.Digraph`` (shown inline in Jupyter).

    Save it with ``tg.render(out, "bptt", format="svg", view=...)`` (with a timeout) or
    ``dot.render("bptt", format="svg")``.
    """
    text = to_dot(out, view, **options)
    body = text.split("\n", 1)[1].rstrip().removesuffix("}").rstrip("\n")
    digraph = BpttDigraph(name="tinygraph", engine=ENGINE)
    digraph.body.extend(line + "\n" for line in body.split("\n"))
    return digraph


def render(out: Tensor | graphviz.Digraph, filename: str | os.PathLike, format: str = "svg",  # noqa: A002
           view: str = "forward", timeout: float = 60.0, **options: Any) -> Path:
    """Draw ``out`` (or a Digraph from :func:`draw`) into ``filename`` (suffix added if absent).

    Raises RenderError when Graphviz is missing (with the install hint), runs past
    ``timeout`` seconds, or fails without writing a complete file.
    """
    source = out.source if isinstance(out, graphviz.Digraph) else to_dot(out, view, **options)
    path = Path(filename)
    if path.suffix != f".{format}":
        path = path.with_name(path.name + f".{format}")
    path.write_bytes(pipe_with_timeout(source, format, timeout))
    return path


def pipe_with_timeout(source: str, fmt: str = "svg", timeout: float = 60.0) -> bytes:
    """Run ``neato -n2 -T<fmt>`` on DOT ``source`` and return the output bytes."""
    exe = shutil.which(ENGINE)
    if exe is None:
        raise RenderError(f"render: the Graphviz program '{ENGINE}' was not found on PATH; "
                          + INSTALL_HINT)
    command = [exe, "-n2", f"-T{fmt}"]
    if fmt == "png":
        command.append(f"-Gdpi={_png_dpi(source)}")
    try:
        done = subprocess.run(command, input=source.encode("utf-8"), capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise RenderError(f"render: Graphviz ran longer than {timeout:g} s on a "
                          f"{len(source)}-character graph; fold long unrolls with "
                          "max_steps=16, or raise timeout=") from None
    if done.returncode != 0 and not _complete(done.stdout, fmt):
        message = done.stderr.decode("utf-8", "replace").strip()
        raise RenderError(f"render: {ENGINE} -n2 -T{fmt} exited with code "
                          f"{done.returncode}: {message}")
    return done.stdout


def _complete(data: bytes, fmt: str) -> bool:
    """Whether Graphviz wrote a whole file (it may exit 1 after a complete SVG)."""
    if fmt == "svg":
        return data.rstrip().endswith(b"</svg>")
    if fmt == "png":
        return data.startswith(b"\x89PNG") and b"IEND" in data[-16:]
    if fmt == "pdf":
        return b"%%EOF" in data[-32:]
    return False


def _png_dpi(source: str) -> int:
    """96 dpi, or less so that neither side passes Graphviz's bitmap limit."""
    start = source.find('bb="0,0,')
    if start < 0:
        return 96
    width, height = (float(v) for v in source[start + 8:source.find('"', start + 8)].split(","))
    biggest = max(width, height) / 72.0
    return int(min(96, PNG_LIMIT / max(biggest, 1.0)))


def _options(view: str, options: dict[str, Any]) -> Options:
    if view not in VIEWS:
        raise RenderError(f"to_dot: view must be one of {', '.join(VIEWS)}; got {view!r}")
    fields = Options.__dataclass_fields__
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise RenderError(f"to_dot: unknown option(s) {', '.join(unknown)}; known: "
                          + ", ".join(f for f in fields if f != "view"))
    opts = Options(view=view, **options)
    if opts.color_by not in (None, "grad_norm"):
        raise RenderError(f"to_dot: color_by must be None or 'grad_norm', got {opts.color_by!r}")
    if opts.max_steps is not None and opts.max_steps < 2:
        raise RenderError(f"to_dot: max_steps must be >= 2 (first and last step), "
                          f"got {opts.max_steps}")
    return opts


def _needs_grads(opts: Options) -> bool:
    return (opts.view in ("backward", "both") or opts.color_by is not None
            or opts.show_grads or opts.show_grad_norms)


def _trace(out: Tensor) -> Trace:
    try:
        return trace_backward(out)
    except GraphStateError as exc:
        raise RenderError(f"to_dot: the backward view needs gradients, and "
                          f"tg.trace_backward failed: {exc}") from None


def _check_size(graph: Any, lay: Any, opts: Options) -> None:
    drawn = len(lay.node_pos) + len(lay.leaf_pos) + len(lay.junction_pos)
    if opts.max_nodes is None or drawn <= opts.max_nodes:
        return
    steps = sum(1 for c in lay.columns if c.clustered)
    per_step = drawn / max(steps, 1)
    fit = max(int(opts.max_nodes / max(per_step, 1.0)), 2)
    raise RenderError(
        f"to_dot: the picture would have {drawn} nodes ({steps} steps of about "
        f"{per_step:.0f}), over max_nodes={opts.max_nodes}; fold the middle steps with "
        f"max_steps={min(fit, 16)} (keeps the first and last steps), or pass max_nodes=None")
