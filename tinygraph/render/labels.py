"""The one labeller of pictures and captions: how a tensor, a shape, a value and a norm are written.

Every text the pictures (DOT labels, tooltips, the legend) and the step-through captions show
about a tensor comes from here, so each is spelled one way: a shape as ``2×3`` (``scalar`` for
``()``), a one-entry array as its value, up to three entries as a list, a larger array as its
Frobenius norm ``‖·‖=0.416``, an unnamed leaf by its kind (``param [2×3]``, ``targets``), an
op by what it describes.
"""

from __future__ import annotations

import numpy as np

from tinygraph.node import Node
from tinygraph.render.safe_text import shorten
from tinygraph.tensor import Tensor

SMALL = 3  # arrays with at most this many entries are written out


def shape_text(shape: tuple[int, ...]) -> str:
    """``(2, 3)`` as ``2×3``, ``()`` as ``scalar``."""
    return "×".join(str(n) for n in shape) or "scalar"


def norm_text(array: np.ndarray) -> str:
    """The Frobenius norm ‖a‖_F = √(Σ a_ij²), written ``‖·‖=0.416``."""
    return f"‖·‖={float(np.linalg.norm(array)):.3g}"


def value_text(array: np.ndarray) -> str:
    """A one-entry array as its value, up to SMALL entries as a list, else its norm ‖·‖."""
    if array.size == 1:
        return f"{float(array.reshape(-1)[0]):.3g}"
    if array.size <= SMALL:
        return "[" + ", ".join(f"{v:.2g}" for v in np.asarray(array, float).reshape(-1)) + "]"
    return norm_text(array)


def constant_name(tensor: Tensor) -> str:
    """A constant's label: its name (shortened); unnamed, "targets" for an integer array
    (cross_entropy receives class indices, whatever the batch size), the value of a one-entry
    float or scalar, else "const"."""
    if tensor.name:
        return shorten(tensor.name)
    if tensor.data.dtype.kind in "iu" and tensor.data.ndim >= 1:
        return "targets"
    if tensor.data.size == 1:
        return value_text(tensor.data)
    return "const"


def param_label(tensor: Tensor) -> str:
    """A parameter's label: its name (shortened), else ``param [shape]``."""
    return shorten(tensor.name) if tensor.name else f"param [{shape_text(tensor.shape)}]"


def op_label(node: Node) -> str:
    """An op's label: what its op describes (``tanh``, ``getitem[:, 3]``), shortened."""
    return shorten(node.op.describe())
