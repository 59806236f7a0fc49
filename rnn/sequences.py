"""Sequence inputs: one normal form for every accepted input, padding with masks, state helpers.

Accepted inputs of ``rnn.RNN``: an ndarray or Tensor (B, T, D), or a list of T Tensors or arrays
(B, D). ``InputSequence`` checks them once and hands out x_t step by step (raw arrays become
constant Tensors named "x").

Variable-length batches: ``pad_sequences`` turns a list of (T_i, D) arrays into a right-padded
(B, T_max, D) array and a (B, T_max) mask. Where the mask is 0, ``rnn.RNN`` carries the state
forward unchanged (h_t = h_(t−1) for that row), so every row's states, outputs and gradients
are exactly those of running its sequence alone; the losses skip masked steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checks import check_real

State = Any  # a Tensor, or a tuple of Tensors (e.g. an LSTM's (h, c))


class InputSequence:
    """A validated (B, T, D) input, served one step at a time as Tensors (B, D).

    Arrays and constant Tensors (B, T, D) are copied once: the steps are new leaves whose
    arrays the graph keeps, so the caller may refill their own buffer before backward().

    Args:
        xs: ndarray or Tensor (B, T, D), or a list of T Tensors/arrays (B, D).
        input_size: D expected by layer 0 (checked when given).
        where: the name of the caller, for messages ("rnn.RNN").
        dtype: the dtype the network computes in: arrays and constant Tensors are converted
            to it (see ``tensor_in_dtype``); None keeps float arrays' own dtype.
    """

    def __init__(self, xs: Any, input_size: int | None = None, where: str = "rnn.RNN",
                 dtype: np.dtype | None = None) -> None:
        self.where = where
        self.dtype = dtype
        if isinstance(xs, (list, tuple)):
            self._steps = [self._as_step(x, t) for t, x in enumerate(xs)]
            self._whole: tg.Tensor | None = None
            if not self._steps:
                raise tg.ShapeError(f"{where}: the input list is empty (T = 0 steps)")
            first = self._steps[0].shape
            for t, x in enumerate(self._steps):
                if x.shape != first:
                    raise tg.ShapeError(
                        f"{where}: ragged input list: step t={t} has shape {x.shape} but step "
                        f"t=0 has shape {first}; every step must be (B, D). For sequences of "
                        "different lengths use rnn.pad_sequences and pass mask="
                    )
            self.batch_size, self.input_width = first
            self.length = len(self._steps)
        else:
            self._array: np.ndarray | None = None  # the sequence's own copy, when constant
            if isinstance(xs, tg.Tensor) and xs.requires_grad:
                whole = tensor_in_dtype(xs, dtype, where, "the input", "x")
            else:
                self._array = float_array(xs, where, dtype=dtype)
                whole = tg.Tensor(self._array, name="x", copy=False)
            if whole.ndim != 3:
                hint = " (one sequence (T, D)? add a batch axis: xs[None])" if whole.ndim == 2 \
                    else ""
                raise tg.ShapeError(
                    f"{where}: input has shape {whole.shape} (rank {whole.ndim}); expected "
                    f"rank 3 (B, T, D){hint}"
                )
            self._whole = whole
            self._steps = []
            self.batch_size, self.length, self.input_width = whole.shape
            if self.length == 0:
                raise tg.ShapeError(f"{where}: input has shape {whole.shape}: T = 0 steps")
        if input_size is not None and self.input_width != input_size:
            raise tg.ShapeError(
                f"{where} (layer=0): input steps have shape ({self.batch_size}, "
                f"{self.input_width}) but layer 0 expects width D = {input_size} "
                f"(input_size={input_size})"
            )

    def _as_step(self, x: Any, t: int) -> tg.Tensor:
        tensor = tensor_in_dtype(x, self.dtype, self.where, f"input step t={t}", "x")
        if tensor.ndim != 2:
            raise tg.ShapeError(
                f"{self.where}: input step t={t} has shape {tensor.shape} (rank {tensor.ndim}); "
                "each step of a list must be (B, D)"
            )
        return tensor

    def needing_grad(self) -> list[tg.Tensor]:
        """The input Tensors that require grad: the whole (B, T, D) one, or steps of a list
        (what a checkpointed segment reads besides the parameters)."""
        given = [self._whole] if self._whole is not None else self._steps
        return [x for x in given if x.requires_grad]

    def whole(self) -> tg.Tensor:
        """All steps as one Tensor (B, T, D) (a list of steps is stacked, recording a node)."""
        if self._whole is not None:
            return self._whole
        stacked = tg.stack(self._steps, axis=1)
        stacked.name = "x"
        return stacked

    def time_major(self) -> tg.Tensor:
        """All steps as one Tensor (T, B, D), each x_t a contiguous block (records a node only
        when the inputs need a gradient)."""
        if self._whole is None:
            stacked = tg.stack(self._steps, axis=0)
        elif self._whole.requires_grad:
            stacked = self._whole.transpose(1, 0, 2)
        else:
            stacked = tg.Tensor(np.ascontiguousarray(self._array.transpose(1, 0, 2)), copy=False)
        stacked.name = "x"
        return stacked

    def step(self, t: int) -> tg.Tensor:
        """x_t as a Tensor (B, D); slicing a (B, T, D) Tensor that needs grad records a node."""
        if self._whole is None:
            return self._steps[t]
        whole = self._whole
        if whole.requires_grad:
            x_t = whole[:, t, :]
        else:
            x_t = tg.Tensor(self._array[:, t, :], copy=False)  # a view of the sequence's own copy
        x_t.name = "x"
        return x_t


def float_array(x: Any, where: str, what: str = "input", dtype: np.dtype | None = None) -> np.ndarray:
    """x as a fresh float array (see ``numeric_array``) of ``dtype``; without one, float arrays
    keep their dtype and ints and bools become float64."""
    array = numeric_array(x, where, what)
    if dtype is None:
        dtype = array.dtype if array.dtype.kind == "f" else np.float64
    return array.astype(dtype, copy=False)


def tensor_in_dtype(x: Any, dtype: np.dtype | None, where: str, what: str, name: str) -> tg.Tensor:
    """x as a Tensor of the dtype a layer computes in (its parameters' dtype).

    Arrays, lists and constant Tensors of another dtype become a new constant Tensor of
    ``dtype`` (a copy): a float64 batch fed to a float32 network runs in float32, instead of
    numpy silently upcasting the whole computation to float64. A Tensor that requires grad is
    never converted (that would need an op in its graph): a different dtype is a DTypeError,
    as PyTorch refuses mixed dtypes. ``dtype=None`` keeps a Tensor and converts only ints and
    bools (to float64).
    """
    if isinstance(x, tg.Tensor):
        if dtype is None or x.dtype == dtype:
            return x
        if x.requires_grad:
            raise tg.DTypeError(
                f"{where}: {what} is a {x.dtype} Tensor that requires grad, but the parameters "
                f"are {dtype}; create it as {dtype} (or the layers with dtype=np.{x.dtype})"
            )
    return tg.Tensor(float_array(x, where, what, dtype), name=name)


def numeric_array(x: Any, where: str, what: str) -> np.ndarray:
    """A copy of x as an ndarray, refusing ragged nested lists and non-numeric (object, string)
    data.

    Always a copy: the ops built from it may keep it for their backward pass, and the caller
    may refill their own buffer (the next step's targets, the next batch's inputs) before
    calling backward(). Integer and bool arrays pass with their dtype (class targets are
    integers); the error names the caller ``where`` and the argument ``what``.
    """
    if isinstance(x, tg.Tensor):
        return x.data.copy()
    try:
        array = np.array(x)
    except (ValueError, TypeError) as exc:
        raise tg.DTypeError(
            f"{where}: {what} cannot be made into an array (ragged nested lists?): {exc}"
        ) from None
    if array.dtype.kind not in "fiub":
        raise tg.DTypeError(
            f"{where}: {what} has dtype {array.dtype} (from a {type(x).__name__}), which is "
            "not numeric; give floats (integers for class targets)"
        )
    return array


@dataclass
class PaddedBatch:
    """A right-padded batch: ``xs`` (B, T_max, D), ``mask`` (B, T_max) of 0/1, ``lengths`` (B,)."""

    xs: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray


def pad_sequences(sequences: Sequence[Any], pad_value: float = 0.0) -> PaddedBatch:
    """Stack sequences x_i of shapes (T_i, D) into xs (B, T_max, D), padding at the end.

    mask[i, t] = 1 for t < T_i and 0 after; the padded entries hold ``pad_value``, a finite
    number: padded steps still run through the network (their results are masked out), and a
    NaN or an infinity there would reach the gradients (0 · NaN = NaN).
    """
    if not isinstance(sequences, (list, tuple, np.ndarray)):
        raise tg.DTypeError(
            f"pad_sequences: sequences must be a list of arrays (T_i, D), got "
            f"{type(sequences).__name__}"
        )
    pad_value = check_real(pad_value, "pad_value", "pad_sequences")
    if len(sequences) == 0:
        raise tg.ShapeError("pad_sequences: the list of sequences is empty")
    arrays = [float_array(s, "pad_sequences", f"sequence {i}") for i, s in enumerate(sequences)]
    for i, a in enumerate(arrays):
        if a.ndim != 2 or a.shape[0] == 0:
            raise tg.ShapeError(
                f"pad_sequences: sequence {i} has shape {a.shape}; each must be (T_i, D), T_i >= 1"
            )
        if a.shape[1] != arrays[0].shape[1]:
            raise tg.ShapeError(
                f"pad_sequences: sequence {i} has width D = {a.shape[1]} but sequence 0 has "
                f"D = {arrays[0].shape[1]}"
            )
    lengths = np.array([a.shape[0] for a in arrays])
    B, T, D = len(arrays), int(lengths.max()), arrays[0].shape[1]
    xs = np.full((B, T, D), pad_value, dtype=np.result_type(*arrays))
    mask = np.zeros((B, T))
    for i, a in enumerate(arrays):
        xs[i, : a.shape[0]] = a
        mask[i, : a.shape[0]] = 1.0
    return PaddedBatch(xs=xs, mask=mask, lengths=lengths)


def check_mask(mask: Any, batch_size: int, length: int, where: str = "rnn.RNN") -> np.ndarray:
    """Validate a (B, T) mask of 0/1 that is right-padded (1...1 0...0 per row, T_i >= 1)."""
    m = numeric_array(mask, where, "mask").astype(np.float64)
    if m.shape != (batch_size, length):
        raise tg.ShapeError(
            f"{where}: mask has shape {m.shape}, expected (B, T) = ({batch_size}, {length})"
        )
    if not np.isin(m, (0.0, 1.0)).all():
        raise tg.ShapeError(f"{where}: mask entries must be 0 or 1")
    bad = np.flatnonzero((np.diff(m, axis=1) > 0).any(axis=1) | (m[:, 0] == 0))
    if bad.size:
        raise tg.ShapeError(
            f"{where}: mask row {int(bad[0])} is {m[bad[0]].astype(int).tolist()}; each row "
            "must start with 1 and never go back from 0 to 1 (right padding, T_i >= 1)"
        )
    return m


class CarryWhereMasked(tg.Op):
    """y = where(m, new, old), m a (B, 1) 0/1 column;  d new = dy · m, d old = dy · (1 − m).

    Rows with m = 0 are padding: the state is carried forward unchanged. The op keeps its own
    boolean copy of ``keep``, so the caller's mask may change before backward().
    """

    name = "mask_carry"
    saved_arrays = ("keep",)

    def __init__(self, keep: np.ndarray) -> None:
        self.keep = np.array(keep, dtype=bool)

    def forward(self, new: np.ndarray, old: np.ndarray) -> np.ndarray:
        return np.where(self.keep, new, old)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        need_new, need_old = self.needs_input_grad
        zero = np.zeros_like(grad)
        return (
            np.where(self.keep, grad, zero) if need_new else None,
            np.where(self.keep, zero, grad) if need_old else None,
        )

    def jvp(self, new_dot: np.ndarray | None, old_dot: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = where(m, ṅew, ȯld) (0 for an input that does not move)."""
        return np.where(self.keep, 0.0 if new_dot is None else new_dot,
                        0.0 if old_dot is None else old_dot)


def map_state(fn: Callable[[tg.Tensor], tg.Tensor], state: State) -> State:
    """Apply ``fn`` to every Tensor of a state (a Tensor or a tuple/list of Tensors)."""
    if isinstance(state, (tuple, list)):
        return type(state)(fn(s) for s in state)
    return fn(state)


def state_tensors(state: State) -> list[tg.Tensor]:
    """The Tensors of a state, in order."""
    return list(state) if isinstance(state, (tuple, list)) else [state]


def carry_where_masked(new: State, old: State, keep: np.ndarray) -> State:
    """The new state where ``keep`` (B,) is 1, the old one where it is 0 (Tensor by Tensor)."""
    column = keep[:, None]

    def blend(pair: tuple[tg.Tensor, tg.Tensor]) -> tg.Tensor:
        out = CarryWhereMasked(column)(*pair)
        out.name = pair[0].name
        if pair[0].name:
            pair[0].name = f"{pair[0].name}_new"
        return out

    if isinstance(new, (tuple, list)):
        return type(new)(blend(p) for p in zip(new, old))
    return blend((new, old))


def carry_unless_all_kept(new: State, old: State, keep: np.ndarray | None, t: int) -> State:
    """The state after step t of a masked unroll: ``new``, unless step t pads some rows (a 0 in
    ``keep[:, t]``, keep (B, T) or None), whose ``old`` state is then carried
    (``carry_where_masked``). A step that keeps every row adds no node."""
    if keep is None or keep[:, t].all():
        return new
    return carry_where_masked(new, old, keep[:, t])


def detach_state(state: State) -> State:
    """The same values as constants: back-propagation stops here (truncated BPTT)."""

    def detach(t: tg.Tensor) -> tg.Tensor:
        d = t.detach()
        d.name = t.name
        return d

    return map_state(detach, state)
