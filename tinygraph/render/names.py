"""What the picture calls a tensor or an op: names with their step and layer, as Graphviz HTML.

A label is a list of *runs*, ``(text, kind)`` with kind "" (normal), "sub" or "sup", so the
same label is written as HTML (``h<SUB>3</SUB><SUP>(1)</SUP>``), as plain text for tooltips
(``h_3^(1)``) and measured for placement.

How a tensor name is shown (the user's name is always the one shown, only typeset):

* ``"h"`` read or made at step t = 3 in layer 1 of a stacked picture: h with subscript 3 and
  superscript (1). A name of one letter gets the step as subscript and the layer as
  superscript; the superscript only when the picture has more than one layer.
* ``"W_hh"``, ``"b_h"``, ``"a_x"``: a letter or two with a short subscript: typeset as such;
  the step is not added (the name has its own subscript), a one-letter base still gets the
  layer. ``"layer1.W_hh"`` (rnn's parameter names) is W_hh with superscript (1).
* anything else (``"logits"``, ``"my tensor"``) is shown as written.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from tinygraph.node import Node
from tinygraph.render import labels
from tinygraph.render.bands import TOP
from tinygraph.render.safe_text import shorten
from tinygraph.render.style import SUB_SIZE, text_width
from tinygraph.tensor import Tensor

Runs = list[tuple[str, str]]

LAYER_PREFIX = re.compile(r"^layer(\d+)(_reverse)?\.(.+)$", re.S)
SYMBOL = re.compile(r"^([A-Za-zΑ-Ωα-ω]{1,2})(?:_([A-Za-z0-9]{1,5}))?$")
OP_SYMBOLS = {"cross_entropy": "softmax-CE", "sigmoid": "σ", "relu": "ReLU", "div": "÷",
              "neg": "−", "log_softmax": "log-softmax"}


def band_mark(band: Any) -> str:
    """The superscript of a band: ``(1)`` for layer 1, ``(1←)`` for its reverse direction."""
    if isinstance(band, tuple):
        layer, direction = band
        return f"({shorten(layer)}←)" if direction == "reverse" else f"({shorten(layer)})"
    return f"({shorten(band)})"


def symbol_runs(name: str, step: Any = None, mark: str | None = None) -> Runs:
    """The runs of a name: typeset as a symbol (with ``step`` as subscript and ``mark`` as
    superscript when it is one letter) or as written."""
    text = shorten(name)
    found = LAYER_PREFIX.match(text)
    if found is not None:
        layer, reverse, text = found.groups()
        mark = mark if mark is None else f"({layer}{'←' if reverse else ''})"
    symbol = SYMBOL.match(text)
    if symbol is None:
        return [(text, "")]
    base, sub = symbol.groups()
    runs: Runs = [(base, "")]
    if sub:
        runs.append((sub, "sub"))
    elif step is not None and len(base) == 1:
        runs.append((shorten(step), "sub"))
    if mark and len(base) == 1:
        runs.append((mark, "sup"))
    return runs


def tensor_runs(tensor: Tensor, step: Any, mark: str | None) -> Runs:
    """The name of a tensor on its edge (no runs when it has no name)."""
    return symbol_runs(tensor.name, step, mark) if tensor.name else []


def leaf_runs(tensor: Tensor, step: Any, mark: str | None, parameter: bool) -> Runs:
    """A parameter's or constant's box text: its typeset name, else what labels says."""
    if tensor.name:
        return symbol_runs(tensor.name, None if parameter else step, mark)
    return [(labels.param_label(tensor) if parameter else labels.constant_name(tensor), "")]


def op_runs(node: Node, is_parameter: Any) -> Runs:
    """What an op does in this graph: ``+ b_h`` (an add of a parameter), ``+``, ``tanh``,
    ``σ``, ``softmax-CE``, ``× 2`` (a product with a constant), ``[:, 3:6]`` (an index)."""
    name = node.op.name
    others = [t for t in node.inputs if t.producer is not None or not is_parameter(t)]
    params = [t for t in node.inputs if t.producer is None and is_parameter(t)]
    consts = [t for t in node.inputs if t.producer is None and not is_parameter(t)
              and t.data.size == 1]
    if name in ("add", "sub", "mul") and len(node.inputs) == 2:
        sign = {"add": "+", "sub": "−", "mul": "⊙"}[name]
        if len(params) == 1 and others:
            return [(sign + " ", ""), *symbol_runs(params[0].name or "param")]
        if len(consts) == 1 and len(others) == 2:
            value = labels.value_text(consts[0].data)
            if name == "mul":
                return [(f"× {value}", "")]
            first = node.inputs[0] is consts[0]
            return [(f"{value} {sign}" if first else f"{sign} {value}", "")]
        return [(sign, "")]
    if name == "getitem":
        return [(labels.op_label(node).removeprefix("getitem"), "")]
    if name == "checkpoint":  # ↻: its segment runs again in the backward pass
        return [(labels.op_label(node) + " ↻", "")]
    return [(OP_SYMBOLS.get(name, labels.op_label(node)), "")]


def runs_html(runs: Runs, size: float) -> str:
    """The runs as the inside of a Graphviz HTML label (escaped), sub/superscripts smaller,
    a run of kind "br" a line break."""
    parts = []
    for text, kind in runs:
        if kind == "br":
            parts.append("<BR/>")
            continue
        body = escape(text, quote=False).replace("\n", " ")
        if kind:
            tag = "SUB" if kind == "sub" else "SUP"
            body = f'<{tag}><FONT POINT-SIZE="{min(SUB_SIZE, size):g}">{body}</FONT></{tag}>'
        parts.append(body)
    return "".join(parts)


def runs_text(runs: Runs) -> str:
    """The runs as plain text: ``h_3^(1)`` (a line break as a space)."""
    out = []
    for text, kind in runs:
        out.append(" " if kind == "br" else text if not kind else
                   ("_" if kind == "sub" else "^") + text)
    return "".join(out)


def runs_lines(runs: Runs) -> list[Runs]:
    """The runs split at their line breaks."""
    lines: list[Runs] = [[]]
    for run in runs:
        if run[1] == "br":
            lines.append([])
        else:
            lines[-1].append(run)
    return lines


def runs_width(runs: Runs, size: float) -> float:
    """The estimated width in points of the runs at font ``size`` (the widest line)."""
    return max(sum(text_width(text, min(SUB_SIZE, size) if kind else size, pad=0.0)
                   for text, kind in line) for line in runs_lines(runs))


class Namer:
    """The names of one picture: each tensor with the step and layer of where it is drawn.

    ``band_of`` maps id(node) to its band (see :mod:`tinygraph.render.bands`); ``layered``
    says whether layers are marked; ``time_of`` maps id(node) to the step it is drawn in
    (its ``t`` tag, or its column's for a node without one; None outside the steps).
    """

    def __init__(self, is_parameter: Any, band_of: dict[int, Any], layered: bool,
                 time_of: dict[int, Any]) -> None:
        self.is_parameter = is_parameter
        self.band_of = band_of
        self.layered = layered
        self.time_of = time_of

    def mark(self, node: Node) -> str | None:
        """The layer superscript of what ``node`` makes or reads (None: not marked)."""
        band = self.band_of.get(id(node))
        if not self.layered or band is None or (isinstance(band, str) and band == TOP):
            return None
        return band_mark(band)

    def tensor(self, tensor: Tensor) -> Runs:
        """A produced tensor on its edges: named after the step and layer of its producer."""
        producer = tensor.producer
        if producer is None:
            return tensor_runs(tensor, None, None)
        return tensor_runs(tensor, self.time_of.get(id(producer)), self.mark(producer))

    def leaf(self, tensor: Tensor, reader: Node) -> Runs:
        """A parameter's or constant's copy beside ``reader``: a constant takes the reader's
        step (x_t), a parameter the layer of its ``layerN.`` name prefix."""
        parameter = self.is_parameter(tensor)
        return leaf_runs(tensor, self.time_of.get(id(reader)),
                         self.mark(reader) if parameter else None, parameter)

    def op(self, node: Node) -> Runs:
        """What ``node`` does (see :func:`op_runs`)."""
        return op_runs(node, self.is_parameter)
