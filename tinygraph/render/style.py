"""Colours, shapes and text helpers shared by the DOT writer and the legend.

One palette for every picture: ops are pale blue rounded boxes, junctions are yellow Σ
circles, parameter copies are green boxes, constants are grey text; forward tensors are black,
gradients dashed red, the gradient arriving from a later step bold purple.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from tinygraph.node import Node
from tinygraph.render.safe_text import TEXT_LIMIT, shorten
from tinygraph.tensor import Tensor

FONT = "Helvetica"
OP_FILL = "#e8f0fc"
OP_LINE = "#34495e"
JUNCTION_FILL = "#fbeeb0"
JUNCTION_LINE = "#8a6d00"
PARAM_FILL = "#dcf0d5"
PARAM_LINE = "#2e7d32"
CONST_COLOR = "#555555"
FORWARD = "#111111"
GRADIENT = "#c62828"
NONLOCAL = "#8e24aa"
FOLD_FILL = "#f4f4f4"
CHECKPOINT_FILL = "#fde3c8"
CHECKPOINT_LINE = "#b35900"
SAVED_COLOR = "#00695c"
OUTPUT_FILL = "#f9d9dc"

# grad-norm scale, light to dark: pale grey (vanishing), orange, red, dark red (exploding);
# each stop is darker than the one before, so darker always means a larger norm
NORM_STOPS = ((0.0, (0xd9, 0xd9, 0xd9)), (0.35, (0xfd, 0xae, 0x61)),
              (0.7, (0xe6, 0x55, 0x0d)), (1.0, (0x8b, 0x00, 0x00)))


def luminance(color: str) -> float:
    """Relative luminance (ITU-R BT.709 weights on the sRGB bytes) of ``#rrggbb``, in [0, 1]."""
    r, g, b = (int(color[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def quote(text: str) -> str:
    """A DOT double-quoted string showing ``text`` as written: unsafe characters as escapes and
    at most TEXT_LIMIT characters (:mod:`tinygraph.render.safe_text`), then backslash, quote,
    newline and ``&`` escaped, so user names such as ``"];``, ``\\N`` or ``&lt;`` are shown as
    written instead of being read as DOT, label escapes or HTML entities."""
    escaped = (shorten(text, TEXT_LIMIT).replace("\\", "\\\\").replace('"', '\\"')
               .replace("\n", "\\n").replace("&", "&amp;"))
    return f'"{escaped}"'


def shape_text(shape: tuple[int, ...]) -> str:
    """``(2, 3)`` as ``2×3``, ``()`` as ``scalar``."""
    return "×".join(str(n) for n in shape) or "scalar"


def array_text(array: np.ndarray) -> str:
    """A one-entry array as its value, a small one as its entries, else its norm ‖·‖."""
    if array.size == 1:
        return f"{float(array.reshape(-1)[0]):.3g}"
    if array.size <= 3:
        return "[" + ", ".join(f"{v:.2g}" for v in np.asarray(array, float).reshape(-1)) + "]"
    return f"‖·‖={float(np.linalg.norm(array)):.3g}"


def norm_text(array: np.ndarray) -> str:
    """The Frobenius norm ‖g‖ written for an edge label."""
    return f"‖·‖={float(np.linalg.norm(array)):.3g}"


def constant_name(tensor: Tensor) -> str:
    """A constant's label: its name (shortened); unnamed, "targets" for an integer array
    (cross_entropy receives class indices, whatever the batch size), the value of a one-entry
    float or scalar, else "const"."""
    if tensor.name:
        return shorten(tensor.name)
    if tensor.data.dtype.kind in "iu" and tensor.data.ndim >= 1:
        return "targets"
    if tensor.data.size == 1:
        return array_text(tensor.data)
    return "const"


def param_label(tensor: Tensor) -> str:
    """A parameter's label: its name (shortened), else ``param [shape]``."""
    return shorten(tensor.name) if tensor.name else f"param [{shape_text(tensor.shape)}]"


def op_label(node: Node) -> str:
    """An op's label: what its op describes (``tanh``, ``getitem[:, 3]``), shortened; a
    checkpoint says that its segment is recomputed in the backward pass."""
    text = shorten(node.op.describe())
    return f"{text}\nrecomputed in backward" if is_checkpoint(node) else text


def is_checkpoint(node: Node) -> bool:
    """A ``tg.checkpoint`` node: one box for a whole segment of the graph."""
    return node.op.name == "checkpoint"


def text_width(text: str, fontsize: float) -> float:
    """An estimate of a label's width in points (Helvetica averages ~0.55 em per glyph); the
    widest line of a label of several."""
    return 0.56 * fontsize * max(max(len(line) for line in text.split("\n")), 1) + 14.0


class NormScale:
    """Maps a gradient norm g to a colour by log10 g over [lo, hi] (whole decades)."""

    def __init__(self, norms: list[float]) -> None:
        logs = [math.log10(n) for n in norms if n > 0 and math.isfinite(n)]
        self.lo = math.floor(min(logs)) if logs else -1
        self.hi = math.ceil(max(logs)) if logs else 0
        if self.hi <= self.lo:
            self.hi = self.lo + 1

    def fraction(self, norm: float) -> float:
        """Where log10(norm) falls in [lo, hi], clipped to [0, 1] (0 for a zero gradient)."""
        if not norm > 0:
            return 0.0
        if not math.isfinite(norm):
            return 1.0
        return min(max((math.log10(norm) - self.lo) / (self.hi - self.lo), 0.0), 1.0)

    def color(self, norm: float) -> str:
        """The edge colour for a gradient of norm ``norm``."""
        return mix(self.fraction(norm))

    def width(self, norm: float) -> float:
        """The pen width: thin for small gradients, thick for large ones."""
        return round(0.8 + 2.4 * self.fraction(norm), 2)


def mix(f: float) -> str:
    """Piecewise-linear colour along NORM_STOPS at fraction f in [0, 1]."""
    for (f0, c0), (f1, c1) in itertools.pairwise(NORM_STOPS):
        if f <= f1:
            w = 0.0 if f1 == f0 else (f - f0) / (f1 - f0)
            rgb = [round(a + (b - a) * w) for a, b in zip(c0, c1)]
            return "#" + "".join(f"{v:02x}" for v in rgb)
    return "#" + "".join(f"{v:02x}" for v in NORM_STOPS[-1][1])
