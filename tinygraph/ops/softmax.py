"""Softmax, log-softmax and softmax cross-entropy with integer class targets."""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import ConfigError, DTypeError, ShapeError
from tinygraph.node import Op, locate
from tinygraph.ops.shape import check_ints
from tinygraph.scope import current_scope
from tinygraph.tangent import batch_axis
from tinygraph.tensor import Tensor


def _shift_and_normalise(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pieces every softmax here is made of: s = x − max x (so no e^x overflows), e^s, and
    Z = Σ e^s along ``axis``; softmax = e^s / Z and log softmax = s − log Z. ufunc reductions
    directly: ndarray.max/.sum add a Python-level wrapper per call."""
    shifted = x - np.maximum.reduce(x, axis=axis, keepdims=True)
    exps = np.exp(shifted)
    return shifted, exps, np.add.reduce(exps, axis=axis, keepdims=True)


def _log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    shifted, _, norm = _shift_and_normalise(x, axis)
    return shifted - np.log(norm)


class Softmax(Op):
    """y_i = e^(x_i) / Σ_j e^(x_j) along ``axis``;  dx = y · (dy − Σ_j dy_j y_j)."""

    __slots__ = ("axis",)
    keeps_inputs = False

    name = "softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_ints(self.axis, "axis")
        return np.exp(_log_softmax(x, self.axis))

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        y = self.output
        return (y * (grad - (grad * y).sum(axis=self.axis, keepdims=True)),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = y · (ẋ − Σ_j y_j ẋ_j) along ``axis``."""
        y = self.output
        axis = batch_axis(self.axis) if y.ndim else ()  # a 0-d input: nothing to reduce
        return y * (x_dot - (y * x_dot).sum(axis=axis, keepdims=True))


class LogSoftmax(Op):
    """y = x − log Σ_j e^(x_j) along ``axis``;  dx = dy − softmax(x) · Σ_j dy_j."""

    __slots__ = ("axis",)
    keeps_inputs = False

    name = "log_softmax"

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        check_ints(self.axis, "axis")
        return _log_softmax(x, self.axis)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad - np.exp(self.output) * grad.sum(axis=self.axis, keepdims=True),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ − Σ_j softmax(x)_j ẋ_j along ``axis`` (softmax(x) = e^y)."""
        weighted = np.exp(self.output) * x_dot
        axis = batch_axis(self.axis) if self.output.ndim else ()  # a 0-d input: nothing to reduce
        return x_dot - weighted.sum(axis=axis, keepdims=True)


class CrossEntropy(Op):
    """L = −Σ_n log softmax(x_n)[c_n]  (÷ N for ``reduction="mean"``);  dx_n = p_n − onehot(c_n).

    ``x`` holds logits (..., V) and ``c`` integer classes of shape x.shape[:-1].
    """

    __slots__ = ("cols", "count", "in_shape", "probs", "reduction", "rows")
    keeps_inputs = False
    saves_output = False

    name = "cross_entropy"
    saved_arrays = ("probs", "rows", "cols")

    def __init__(self, reduction: str = "sum") -> None:
        if reduction not in ("sum", "mean"):
            raise ConfigError(f"cross_entropy: reduction must be 'sum' or 'mean', got {reduction!r}")
        self.reduction = reduction

    def forward(self, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
        _check_targets(logits, targets)
        classes = logits.shape[-1]
        self.in_shape = logits.shape
        flat = logits.reshape(-1, classes)
        if targets.size == 0 and self.reduction == "mean":
            raise ShapeError(
                f"the batch is empty (logits of shape {logits.shape}): a mean over no terms is "
                "undefined; give at least one target, or reduction='sum' (0.0 for no terms)"
            )
        shifted, probs, norm = _shift_and_normalise(flat, axis=1)
        probs /= norm  # p = softmax(x), kept for the backward
        self.rows = _arange(flat.shape[0])
        self.cols = targets.flatten()  # a copy: the caller may refill its targets before backward
        self.count = max(targets.size, 1)
        self.probs = probs
        try:
            picked = shifted[self.rows, self.cols]
        except IndexError:
            _check_range(targets, classes)
            raise
        # −Σ_n log softmax(x_n)[c_n] = Σ_n log Z_n − Σ_n s_n[c_n]
        total = np.add.reduce(np.log(norm), axis=None) - np.add.reduce(picked, axis=None)
        return np.asarray(total / self.count if self.reduction == "mean" else total)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, None]:
        dx = self.probs.copy()
        dx[self.rows, self.cols] -= 1.0
        dx *= grad / self.count if self.reduction == "mean" else grad
        return dx.reshape(self.in_shape), None

    def jvp(self, x_dot: np.ndarray | None, targets_dot: None = None) -> np.ndarray:
        """jvp: L̇ = Σ_n ⟨p_n − onehot(c_n), ẋ_n⟩ (÷ N for ``reduction="mean"``); the integer
        targets have no tangent."""
        flat = x_dot.reshape(x_dot.shape[0], -1, self.probs.shape[1])
        moved = np.einsum("knv,nv->k", flat, self.probs) - flat[:, self.rows, self.cols].sum(axis=1)
        return moved / self.count if self.reduction == "mean" else moved


_ARANGES: dict[int, np.ndarray] = {}


def _arange(n: int) -> np.ndarray:
    """0..n−1, cached (read-only) because every step of a sequence asks for the same one."""
    rows = _ARANGES.get(n)
    if rows is None:
        rows = _ARANGES[n] = np.arange(n)
        rows.flags.writeable = False
    return rows


def _check_targets(logits: np.ndarray, targets: np.ndarray) -> None:
    if targets.dtype.kind not in "iu":
        raise DTypeError(f"targets must be integer class indices, got dtype {targets.dtype}")
    if logits.ndim == 0:
        raise ShapeError(
            "logits are a scalar, but they need a class axis: give logits of shape (..., V) "
            "with one entry per class"
        )
    if targets.shape != logits.shape[:-1]:
        raise ShapeError(
            f"logits of shape {logits.shape} need targets of shape {logits.shape[:-1]}, "
            f"got {targets.shape}"
        )
    # A negative target would silently wrap around; a too large one fails the indexing later.
    if targets.size and np.minimum.reduce(targets, axis=None) < 0:
        _check_range(targets, logits.shape[-1])


def _check_range(targets: np.ndarray, classes: int) -> None:
    bad = (targets < 0) | (targets >= classes)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise ShapeError(
            f"target {targets[tuple(where)]} at index {tuple(int(i) for i in where)} is out of "
            f"range for {classes} classes (valid: 0..{classes - 1})"
        )


def softmax(x: Any, axis: int = -1) -> Tensor:
    """Softmax along ``axis``."""
    return Softmax(axis)(x)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log-softmax along ``axis`` (stable: shifts by the max)."""
    return LogSoftmax(axis)(x)


def cross_entropy(logits: Any, targets: Any, reduction: str = "sum") -> Tensor:
    """Softmax cross-entropy of logits (..., V) against integer targets (...)."""
    op = CrossEntropy(reduction)
    if isinstance(targets, Tensor):
        return op(logits, targets)  # an input of the node (tg.compile replays it with new targets)
    try:
        target_array = np.asarray(targets)
    except (ValueError, TypeError):
        target_array = None
    if target_array is None or target_array.dtype.kind not in "iu":
        got = (f"a {type(targets).__name__} that is not a rectangular array" if target_array is None
               else f"dtype {target_array.dtype}")
        raise DTypeError(
            f"{locate(op, current_scope())}: targets must be integer class indices, got {got}"
        )
    return op(logits, target_array)
