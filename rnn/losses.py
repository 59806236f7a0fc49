"""Sequence losses: per-step softmax cross-entropy (many-to-many), last step (many-to-one), MSE.

Each returns a scalar Tensor built from engine ops, so ``loss.backward()`` is BPTT. An optional
(B, T) mask (see ``rnn.pad_sequences``) leaves padded steps out of the sum.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in ("sum", "mean"):
        raise ConfigError(f"{where}: reduction must be 'sum' or 'mean', got {reduction!r}")


def _rows(mask: np.ndarray | None, t: int, batch: int) -> np.ndarray | None:
    """The batch rows that count at step t (None: all of them)."""
    if mask is None or mask[:, t].all():
        return None
    return np.flatnonzero(mask[:, t])


def sequence_cross_entropy(
    logits: Sequence[tg.Tensor],
    targets: Any,
    mask: Any = None,
    reduction: str = "sum",
) -> tg.Tensor:
    """Many-to-many: L = Σ_t Σ_b −log softmax(o_t[b])[y_t[b]] over unmasked (b, t).

    logits: T Tensors (B, V); targets: ints (B, T); mask: optional (B, T) of 0/1.
    ``reduction="mean"`` divides by the number of terms (unmasked steps).
    """
    _check_reduction(reduction, "sequence_cross_entropy")
    y = np.asarray(targets)
    B = logits[0].shape[0] if logits else 0
    if y.shape != (B, len(logits)):
        raise tg.ShapeError(
            f"sequence_cross_entropy: targets have shape {y.shape}, expected (B, T) = "
            f"({B}, {len(logits)})"
        )
    m = None if mask is None else np.asarray(mask, dtype=bool)
    if m is not None and m.shape != y.shape:
        raise tg.ShapeError(f"sequence_cross_entropy: mask {m.shape} != targets {y.shape}")
    terms = []
    count = 0
    for t, o_t in enumerate(logits):
        with tg.scope(t=t):
            rows = _rows(m, t, B)
            if rows is None:
                terms.append(tg.cross_entropy(o_t, y[:, t]))
                count += B
            elif rows.size:
                terms.append(tg.cross_entropy(o_t[rows], y[rows, t]))
                count += rows.size
    total = sum(terms[1:], terms[0])
    return total / count if reduction == "mean" else total


def last_step_cross_entropy(logits: tg.Tensor, targets: Any, reduction: str = "sum") -> tg.Tensor:
    """Many-to-one: L = Σ_b −log softmax(o_T[b])[y[b]], one class per sequence.

    logits: (B, V) from the last hidden state (with a mask, h_last is each row's own last
    step); targets: ints (B,). ``reduction="mean"`` divides by B.
    """
    _check_reduction(reduction, "last_step_cross_entropy")
    return tg.cross_entropy(logits, np.asarray(targets), reduction=reduction)


def mse_loss(
    predictions: tg.Tensor | Sequence[tg.Tensor],
    targets: Any,
    mask: Any = None,
    reduction: str = "mean",
) -> tg.Tensor:
    """Mean squared error: L = (1/N) Σ (ŷ − y)² over every (unmasked) entry (N of them).

    predictions: one Tensor (B, O) with targets (B, O) (many-to-one), or T Tensors (B, O) with
    targets (B, T, O) (many-to-many, mask (B, T) optional). ``reduction="sum"`` skips the 1/N.
    """
    _check_reduction(reduction, "mse_loss")
    y = np.asarray(targets, dtype=np.float64)
    if isinstance(predictions, tg.Tensor):
        if predictions.shape != y.shape:
            raise tg.ShapeError(
                f"mse_loss: predictions {predictions.shape} and targets {y.shape} differ"
            )
        total = ((predictions - y) ** 2).sum()
        return total / y.size if reduction == "mean" else total
    preds = list(predictions)
    if not preds or y.ndim != 3 or y.shape[:2] != (preds[0].shape[0], len(preds)):
        first = preds[0].shape if preds else None
        raise tg.ShapeError(
            f"mse_loss: {len(preds)} step predictions of shape {first} need targets (B, T, O), "
            f"got {y.shape}"
        )
    m = None if mask is None else np.asarray(mask, dtype=bool)
    terms = []
    count = 0
    for t, p in enumerate(preds):
        with tg.scope(t=t):
            rows = _rows(m, t, y.shape[0])
            if rows is None:
                terms.append(((p - y[:, t]) ** 2).sum())
                count += y[:, t].size
            elif rows.size:
                terms.append(((p[rows] - y[rows, t]) ** 2).sum())
                count += y[rows, t].size
    total = sum(terms[1:], terms[0])
    return total / count if reduction == "mean" else total
