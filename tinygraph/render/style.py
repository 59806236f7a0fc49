"""Colours, shapes and sizes shared by the DOT writer and the legend (texts: ``labels``).

One palette for every picture: ops are pale blue rounded boxes, junctions are yellow Σ
circles, parameter copies are green boxes, constants are grey text; forward tensors are black,
gradients dashed red, the gradient arriving from a later step bold purple.
"""

from __future__ import annotations

import itertools
import math


from tinygraph.render.safe_text import TEXT_LIMIT, shorten

FONT = "Helvetica"
CHECKPOINT_FILL = "#fde3c8"
CHECKPOINT_LINE = "#b35900"
SAVED_COLOR = "#00695c"
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
OUTPUT_FILL = "#f9d9dc"
OUTPUT_LINE = "#9e3a44"

FONT_SIZE = 10.0     # ops, parameters, constants, edge labels
SUB_SIZE = 9.0      # subscripts and superscripts (Graphviz rounds point sizes to whole points)
SMALL_SIZE = 9.0    # the legend
TITLE_SIZE = 13.0   # step columns, band names
LINE_HEIGHT = 1.25  # of a text line, in em (an HTML label with sub/superscripts: 1.45)

GLYPH_EM = dict(zip(
    "abcdefghijklmnopqrstuvwxyz",
    (.616, .638, .548, .638, .616, .346, .638, .638, .278, .278, .578, .278, .976, .638, .616,
     .638, .638, .393, .518, .391, .638, .593, .818, .593, .593, .526)))
GLYPH_EM.update(zip(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    (.71, .683, .698, .773, .631, .578, .773, .751, .293, .293, .653, .556, .863, .751, .788,
     .601, .788, .698, .638, .595, .736, .683, .991, .683, .608, .683)))
GLYPH_EM.update({c: .638 for c in "0123456789#{}"})
GLYPH_EM.update({" ": .316, ",": .316, ".": .316, "·": .316, ":": .338, ";": .338, "/": .338,
                 "|": .338, "(": .391, ")": .391, "[": .391, "]": .391, "-": .361, "'": .278,
                 "!": .398, "?": .533, "_": .503, "*": .503, "‖": .503, "∂": .518, "%": .953,
                 "&": .781, "…": .998, "Σ": .631, "σ": .638, "⁻": .526, "¹": .398})
GLYPH_EM.update({c: .841 for c in "=+<>~^⊙×−←→÷"})
WIDE_EM = 0.7       # any other character

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


def text_width(text: str, fontsize: float, pad: float = 14.0) -> float:
    """An estimate of a label's width in points: per-glyph widths (in em) as Graphviz measures
    them with its default sans font (DejaVu Sans, wider than Helvetica, so estimates err on
    the roomy side), plus ``pad`` for the box around the text."""
    return fontsize * sum(GLYPH_EM.get(c, WIDE_EM) for c in text) + pad


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
