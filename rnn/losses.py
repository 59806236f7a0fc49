"""Sequence losses: per-step softmax cross-entropy (many-to-many), last step (many-to-one), MSE.

Each returns a scalar Tensor built from engine ops, so ``loss.backward()`` is BPTT. An optional
(B, T) mask (see ``rnn.pad_sequences``) leaves padded steps out of the sum.

Every loss sums by default (``reduction="sum"``) and divides by the number of terms only with
``reduction="mean"``: the contract of ``tg.cross_entropy`` (a sum over the batch), and the loss
of the seeds, L = −Σ_t log p(y_t), a sum over the steps. Sums add up: the loss of a sequence is
the sum of its steps' losses, and truncated BPTT's blocks add up to the full gradient, with no
1/N that would change with the batch size or the length of a block.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError
from rnn.sequences import float_array, numeric_array


def _check_reduction(reduction: str, where: str) -> None:
    if reduction not in ("sum", "mean"):
        raise ConfigError(f"{where}: reduction must be 'sum' or 'mean', got {reduction!r}")


def _bool_mask(mask: Any, where: str) -> np.ndarray | None:
    """The (B, T) mask as booleans (None: every step counts)."""
    return None if mask is None else numeric_array(mask, where, "mask").astype(bool)


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
    where = "sequence_cross_entropy"
    _check_reduction(reduction, where)
    logits = _step_list(logits, where, "last_step_cross_entropy")
    y = numeric_array(targets, where, "targets")
    B = logits[0].shape[0]
    if y.shape != (B, len(logits)):
        raise tg.ShapeError(
            f"sequence_cross_entropy: targets have shape {y.shape}, expected (B, T) = "
            f"({B}, {len(logits)})"
        )
    m = _bool_mask(mask, where)
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
            else:
                continue
            terms[-1].name = "L"  # drawn L_t: the step's term of L = Σ_t L_t
    if not terms:
        raise tg.ShapeError(f"{where}: the mask is 0 everywhere, so there is no step to score")
    total = tg.stack(terms).sum()  # L = Σ_t L_t: one node reading every step's loss
    return total / count if reduction == "mean" else total


def _step_list(logits: Any, where: str, single: str) -> list[tg.Tensor]:
    """The per-step predictions as a non-empty list of Tensors (B, V), or a clear error."""
    if isinstance(logits, tg.Tensor) or not isinstance(logits, (list, tuple)):
        shape = logits.shape if isinstance(logits, tg.Tensor) else type(logits).__name__
        raise tg.ShapeError(
            f"{where}: expected a list of T step Tensors (B, V), one per time step, got "
            f"{shape}; for one prediction per sequence (many-to-one) use {single}"
        )
    if not logits:
        raise tg.ShapeError(f"{where}: the list of step predictions is empty (T = 0)")
    for t, o_t in enumerate(logits):
        if not isinstance(o_t, tg.Tensor) or o_t.ndim != 2 or o_t.shape[0] != logits[0].shape[0]:
            shape = o_t.shape if isinstance(o_t, tg.Tensor) else type(o_t).__name__
            raise tg.ShapeError(
                f"{where}: step t={t} prediction is {shape}; every step must be a Tensor "
                f"(B, V) with B = {logits[0].shape[0]}"
            )
    return list(logits)


def last_step_cross_entropy(logits: tg.Tensor, targets: Any, reduction: str = "sum") -> tg.Tensor:
    """Many-to-one: L = Σ_b −log softmax(o_T[b])[y[b]], one class per sequence.

    logits: (B, V) from the last hidden state (with a mask, h_last is each row's own last
    step); targets: ints (B,). ``reduction="mean"`` divides by B.
    """
    where = "last_step_cross_entropy"
    _check_reduction(reduction, where)
    if not isinstance(logits, tg.Tensor) or logits.ndim != 2:
        shape = logits.shape if isinstance(logits, tg.Tensor) else type(logits).__name__
        raise tg.ShapeError(
            f"{where}: expected one Tensor of logits (B, V) from the last step, got {shape}; "
            "for a prediction at every step (many-to-many) use sequence_cross_entropy"
        )
    y = numeric_array(targets, where, "targets")
    return tg.cross_entropy(logits, y, reduction=reduction)


def mse_loss(
    predictions: tg.Tensor | Sequence[tg.Tensor],
    targets: Any,
    mask: Any = None,
    reduction: str = "sum",
) -> tg.Tensor:
    """Squared error: L = Σ (ŷ − y)² over every (unmasked) entry; ``reduction="mean"`` divides
    by their number N (the mean squared error).

    predictions: one Tensor (B, O) with targets (B, O) (many-to-one), or T Tensors (B, O) with
    targets (B, T, O) (many-to-many, mask (B, T) optional). The targets are converted to the
    predictions' dtype, so a float32 model gets a float32 loss. The default is the sum, as for
    every loss here (see the module docstring).
    """
    _check_reduction(reduction, "mse_loss")
    if isinstance(predictions, tg.Tensor):
        y = float_array(targets, "mse_loss", "targets", predictions.dtype)
        if predictions.shape != y.shape:
            raise tg.ShapeError(
                f"mse_loss: predictions {predictions.shape} and targets {y.shape} differ"
            )
        total = ((predictions - y) ** 2).sum()
        return total / y.size if reduction == "mean" else total
    preds = _step_list(predictions, "mse_loss", "a single Tensor (B, O)")
    y = float_array(targets, "mse_loss", "targets", preds[0].dtype)
    if not preds or y.ndim != 3 or y.shape[:2] != (preds[0].shape[0], len(preds)):
        first = preds[0].shape if preds else None
        raise tg.ShapeError(
            f"mse_loss: {len(preds)} step predictions of shape {first} need targets (B, T, O), "
            f"got {y.shape}"
        )
    m = _bool_mask(mask, "mse_loss")
    if m is not None and m.shape != y.shape[:2]:
        raise tg.ShapeError(f"mse_loss: mask {m.shape} != targets' (B, T) {y.shape[:2]}")
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
    if not terms:
        raise tg.ShapeError("mse_loss: the mask is 0 everywhere, so there is no step to score")
    total = sum(terms[1:], terms[0])
    return total / count if reduction == "mean" else total
