"""RNN: a stack of recurrent cells unrolled over time, one ``tg.scope(t=t, layer=l)`` per step.

Layer l reads layer l−1's output sequence (layer 0 reads the input) and keeps its own hidden
state: h^l_t = f_l(h^(l−1)_t W^l_xh + h^l_(t−1) W^l_hh + b^l_h), h^(−1)_t = x_t. The loop is
time-major (for t: for l:), so node creation order follows the picture: step 0 of every layer,
then step 1, and so on. Any cell with the step interface of ``rnn.cell`` can be stacked.
``bidirectional=True`` adds a second Elman layer per level, run backward in time
(``rnn.bidirectional``), as ``torch.nn.RNN(bidirectional=True)`` does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.cell import ElmanCell, RngLike, activation, check_cell
from rnn.checkpointed import (
    Every,
    check_every,
    default_every,
    flatten,
    named,
    segment_length,
    segments,
    unflatten,
)
from rnn.checks import check_count, check_dtype, check_flag, check_size, make_rng
from rnn.errors import ConfigError
from rnn.bidirectional import bidirectional_unroll, cell_tags
from rnn.hoisted import hoisted_unroll
from rnn.sequences import (
    InputSequence,
    State,
    carry_unless_all_kept,
    check_mask,
    state_tensors,
    tensor_in_dtype,
)


class RNN:
    """A stack of recurrent layers.

    Args:
        input_size: D, the width of x_t (taken from the first cell when ``cell`` is given).
        hidden_size: H of every Elman layer (the top cell's H when ``cell`` is given).
        num_layers: the number of stacked layers.
        nonlinearity: one name for every layer or a list with one per layer.
        cell: instead of Elman layers, one cell (with num_layers=1) or a list of cells, one per
            layer; each must follow the step interface documented in ``rnn.cell``.
        learn_h0, fused, rng: passed to every ElmanCell that the RNN builds.
        hoist_inputs: compute each layer's x_t W_xh + b_h for all steps in one matmul before
            its time loop (see ``rnn.hoisted``): same values and gradients, fewer nodes per
            step, the speed of a hand-written numpy BPTT. Elman cells without ``fused`` only.
        dtype: the float dtype of the Elman layers' parameters; None means float64, or, with
            ``cell=``, the cells' own dtype (given with ``cell=``, it must match them).
        bidirectional: as in PyTorch, every layer also runs an Elman cell over the sequence
            backward in time (``net.reverse_layers[l]``, parameters ``layer{l}_reverse.*``);
            the outputs of both directions are concatenated at each step, so ``hs[t]`` is
            (B, 2H) and layer l+1 reads 2H features; ``h_last`` holds each layer's final state
            per direction: [layer 0 forward, layer 0 reverse, layer 1 forward, ...] (the
            reverse one is its state after t = 0). Elman layers only (no ``cell=``,
            ``hoist_inputs``).
        checkpoint_every: None, or cut the time loop into segments of k steps, each one
            ``tg.checkpoint`` (``"sqrt"``: k = ⌈√T⌉ for a call of T steps): the graph keeps
            the states between segments and the top layer's h_t instead of every step's
            arrays, and recomputes a segment in the backward pass; the gradients are the
            plain unroll's, bit for bit (see ``rnn.checkpointed``). Not with ``bidirectional``.

    The network runs in its parameters' dtype (``net.dtype``): the zero h_0 has it, and inputs
    and h0 given as arrays (or constant Tensors) of another dtype are converted to it, so a
    float32 network fed float64 data computes and returns float32 (numpy would upcast
    everything to float64, PyTorch refuses). A Tensor that requires grad is not converted: a
    different dtype is a DTypeError.

    Parameters are renamed ``layer{l}.<name>`` (``layer0.W_xh``, ``layer1.b_h``, ...).
    """

    def __init__(
        self,
        input_size: int | None = None,
        hidden_size: int | None = None,
        num_layers: int = 1,
        nonlinearity: str | Sequence[str] = "tanh",
        cell: Any = None,
        *,
        learn_h0: bool = False,
        fused: bool = False,
        rng: RngLike = None,
        hoist_inputs: bool = False,
        dtype: DTypeLike | None = None,
        bidirectional: bool = False,
        checkpoint_every: Every = None,
    ) -> None:
        self.checkpoint_every = check_every(checkpoint_every, "rnn.RNN")
        resolved = None if dtype is None else check_dtype(dtype, "rnn.RNN")
        generator = make_rng(rng, "rnn.RNN")
        for label, flag in (("learn_h0", learn_h0), ("fused", fused), ("hoist_inputs", hoist_inputs),
                            ("bidirectional", bidirectional)):
            check_flag(flag, label, "rnn.RNN")
        if bidirectional and (cell is not None or hoist_inputs):
            raise ConfigError("rnn.RNN: bidirectional=True builds Elman layers in both directions; "
                              f"it does not take {'cell=' if cell is not None else 'hoist_inputs=True'}")
        if bidirectional and self.checkpoint_every is not None:
            raise ConfigError("rnn.RNN: bidirectional=True does not take checkpoint_every (its "
                              "reverse direction runs over the whole sequence); checkpoint the "
                              "loss with tg.checkpoint instead")
        self.bidirectional = bidirectional
        width = 2 if bidirectional else 1
        if cell is not None:
            cells = list(cell) if isinstance(cell, (list, tuple)) else [cell]
            if not cells:
                raise ConfigError(f"rnn.RNN: cell={cell!r} holds no cells; pass one cell per layer")
            for idx, one in enumerate(cells):
                sizes = "D, H" if None in (input_size, hidden_size) or len(cells) > 1 else (
                    f"{input_size}, {hidden_size}")
                check_cell(one, "rnn.RNN" if len(cells) == 1 else f"rnn.RNN (layer={idx})", sizes)
            if num_layers not in (1, len(cells)):
                raise ConfigError(
                    f"rnn.RNN: num_layers={num_layers} but {len(cells)} cell(s) were given; "
                    "pass one cell per layer"
                )
            self.layers = cells
        else:
            if input_size is None or hidden_size is None:
                raise ConfigError("rnn.RNN: give input_size and hidden_size (or cell=...)")
            check_size(input_size, "input_size", "rnn.RNN")
            check_size(hidden_size, "hidden_size", "rnn.RNN")
            check_size(num_layers, "num_layers", "rnn.RNN")
            names = list(nonlinearity) if isinstance(nonlinearity, (list, tuple)) else (
                [nonlinearity] * num_layers)
            if len(names) != num_layers:
                raise ConfigError(
                    f"rnn.RNN: {len(names)} nonlinearities given for {num_layers} layers: {names}"
                )
            for idx, name in enumerate(names):
                activation(name, f"rnn.RNN (layer={idx})")
            def elman(idx: int) -> ElmanCell:
                return ElmanCell(input_size if idx == 0 else width * hidden_size, hidden_size,
                                 names[idx], learn_h0=learn_h0, fused=fused, rng=generator,
                                 dtype=np.float64 if resolved is None else resolved)
            self.layers = [elman(idx) for idx in range(num_layers)]
        self.reverse_layers = [elman(idx) for idx in range(num_layers)] if bidirectional else []
        self._check_layers(input_size, hidden_size)
        self._check_dtypes(resolved)
        if hoist_inputs and not all(isinstance(c, ElmanCell) and not c.fused for c in self.layers):
            raise ConfigError("rnn.RNN: hoist_inputs=True needs Elman cells without fused=True")
        self.hoist_inputs = hoist_inputs
        self.input_size = self.layers[0].input_size
        self.hidden_size = self.layers[-1].hidden_size
        self.num_layers = len(self.layers)
        for prefix, _, layer in self._named_cells():
            for local, tensor in _local_names(layer).items():
                tensor.name = f"{prefix}.{local}"

    def _named_cells(self) -> list[tuple[str, dict[str, Any], Any]]:
        """Every cell in the order of the states, with its parameters' prefix and its scope
        tags: ``layer0`` {layer: 0} (and ``layer0_reverse`` {layer: 0, direction: reverse}), ..."""
        if not self.bidirectional:
            return [(f"layer{idx}", cell_tags(idx), cell) for idx, cell in enumerate(self.layers)]
        return [entry for idx, (ahead, back) in enumerate(zip(self.layers, self.reverse_layers))
                for entry in ((f"layer{idx}", cell_tags(idx), ahead),
                              (f"layer{idx}_reverse", cell_tags(idx, reverse=True), back))]

    def _check_layers(self, input_size: int | None, hidden_size: int | None) -> None:
        if len({id(c) for c in self.layers}) != len(self.layers):
            raise ConfigError("rnn.RNN: the same cell object appears twice; give one per layer")
        if input_size is not None and self.layers[0].input_size != input_size:
            raise ConfigError(
                f"rnn.RNN: input_size={input_size} but layer 0's cell has input_size "
                f"{self.layers[0].input_size}"
            )
        if hidden_size is not None and self.layers[-1].hidden_size != hidden_size:
            raise ConfigError(
                f"rnn.RNN: hidden_size={hidden_size} but the top cell has hidden_size "
                f"{self.layers[-1].hidden_size}"
            )
        width = 2 if self.bidirectional else 1
        for idx in range(1, len(self.layers)):
            below, cell = self.layers[idx - 1], self.layers[idx]
            if cell.input_size != width * below.hidden_size:
                raise ConfigError(
                    f"rnn.RNN: layer {idx} has input_size {cell.input_size} but layer {idx - 1} "
                    f"outputs width {width * below.hidden_size}"
                )

    def _check_dtypes(self, given: np.dtype | None) -> None:
        dtypes = [_cell_dtype(cell) for cell in self.layers]
        for idx, found in enumerate(dtypes):
            if found is not None and found != dtypes[0]:
                raise ConfigError(
                    f"rnn.RNN: layer 0 computes in {dtypes[0]} but layer {idx} in {found}; give "
                    "every cell the same dtype="
                )
            if given is not None and found is not None and found != given:
                raise ConfigError(
                    f"rnn.RNN: dtype={given} but layer {idx}'s cell has {found} parameters; "
                    "create the cells with that dtype= (or leave RNN's dtype out)"
                )

    @property
    def dtype(self) -> np.dtype:
        """The dtype the network computes in: that of layer 0's parameters (float64 if it has
        none)."""
        found = _cell_dtype(self.layers[0])
        return np.dtype(np.float64) if found is None else found

    def named_parameters(self) -> dict[str, tg.Tensor]:
        """Every parameter under its model name: ``layer0.W_xh``, ``layer0.W_hh``, ...
        (bidirectional: ``layer0_reverse.W_xh`` after layer 0's)."""
        named: dict[str, tg.Tensor] = {}
        for prefix, _, layer in self._named_cells():
            for local, tensor in _local_names(layer).items():
                named[f"{prefix}.{local}"] = tensor
        return named

    def parameters(self) -> list[tg.Tensor]:
        """Every parameter Tensor, layer by layer."""
        return list(self.named_parameters().values())

    def __call__(self, xs: Any, h0: Any = None, mask: Any = None) -> tuple[
            list[tg.Tensor], list[tg.Tensor]]:
        """Run the stack over a sequence: returns (hs, h_last).

        xs: ndarray/Tensor (B, T, D) or a list of T Tensors/arrays (B, D). h0: None (each cell's
        initial state), or one state per layer (for Elman cells a (B, H) Tensor or array; a
        single one is accepted when num_layers == 1). mask: optional (B, T) 0/1 right-padding
        mask (see ``rnn.pad_sequences``); a padded step carries every state forward.
        hs: the top layer's h_t for t = 0..T−1; h_last: each layer's final hidden output (per
        direction when bidirectional). Arrays are converted to the network's dtype (see the
        class docstring).
        """
        hs, states = self.forward_states(xs, h0, mask=mask)
        return hs, [cell.output(s) for (_, _, cell), s in zip(self._named_cells(), states)]

    def forward_states(
        self, xs: Any, states: Any = None, mask: Any = None, t0: int = 0, *,
        checkpoint: bool = True,
    ) -> tuple[list[tg.Tensor], list[State]]:
        """Like ``__call__`` but returns each layer's full final state (an LSTM's (h, c)).

        ``t0`` offsets the time tags, so a window of a long stream keeps its absolute steps.
        ``checkpoint=False`` unrolls without checkpoints whatever ``checkpoint_every`` says
        (``rnn.tbptt`` cuts its own segments, step losses included).
        """
        t0 = check_count(t0, "t0", "rnn.RNN.forward_states")
        inputs = InputSequence(xs, self.input_size, dtype=self.dtype)
        B, T = inputs.batch_size, inputs.length
        current = self.initial_states(B, states)
        keep = None if mask is None else check_mask(mask, B, T)
        every = self.checkpoint_every if self.checkpoint_every is not None else default_every()
        if not check_flag(checkpoint, "checkpoint", "rnn.RNN.forward_states"):
            every = None
        every = segment_length(every, T)
        with tg.pause_gc():  # the unrolled graph has no cycles; see tinygraph.performance
            if self.hoist_inputs:
                return hoisted_unroll(self.layers, inputs, current, keep, t0, every)
            if self.bidirectional:
                return bidirectional_unroll(self.layers, self.reverse_layers, inputs, current,
                                            keep, t0)
            if every is None:
                return self._unroll(inputs, current, keep, t0, 0, T)
            return self._checkpointed(inputs, current, keep, t0, every)

    def _unroll(self, inputs: InputSequence, current: list[State], keep: np.ndarray | None,
                t0: int, start: int, stop: int) -> tuple[list[tg.Tensor], list[State]]:
        """Steps start..stop−1 from the states ``current`` (updated in place): the top layer's
        h_t and the final states."""
        hs = []
        for t in range(start, stop):
            with tg.scope(t=t0 + t, layer=0):
                below = inputs.step(t)
            for idx, cell in enumerate(self.layers):
                with tg.scope(t=t0 + t, layer=idx):
                    current[idx] = carry_unless_all_kept(cell.step(below, current[idx]),
                                                         current[idx], keep, t)
                    below = cell.output(current[idx])
            hs.append(below)
        return hs, current

    def _checkpointed(self, inputs: InputSequence, current: list[State], keep: np.ndarray | None,
                      t0: int, every: int) -> tuple[list[tg.Tensor], list[State]]:
        """The unroll in segments of ``every`` steps, each a tg.checkpoint returning its h_t and
        the states leaving it."""
        params = [*self.parameters(), *inputs.needing_grad()]
        hs: list[tg.Tensor] = []
        layout = flatten(current)[1]  # the same for every segment
        for lo, hi in segments(0, inputs.length, every):

            def steps(*entering: tg.Tensor, lo: int = lo, hi: int = hi) -> tuple[tg.Tensor, ...]:
                outputs, leaving = self._unroll(inputs, unflatten(entering, layout), keep, t0, lo, hi)
                return (*outputs, *flatten(leaving)[0])

            with tg.scope(t=t0 + hi - 1):  # drawn in the column of the segment's last step
                out = tg.checkpoint(named(steps, t0 + lo, t0 + hi - 1), *flatten(current)[0],
                                    params=params)
            hs.extend(out[:hi - lo])
            current = unflatten(out[hi - lo:], layout)
        return hs, current

    def initial_states(self, batch_size: int, h0: Any = None) -> list[State]:
        """Every layer's initial state for a batch of ``batch_size``: ``h0`` (one state per
        layer, checked and converted to Tensors of the network's dtype) when given, else each
        cell's own (zeros, or its learned h0)."""
        batch_size = check_count(batch_size, "batch_size", "rnn.RNN.initial_states")
        cells = self._named_cells()
        if h0 is None:
            states = []
            for _, tags, cell in cells:
                with tg.scope(**tags):
                    states.append(cell.initial_state(batch_size))
            return states
        given = h0
        if len(cells) == 1 and (not isinstance(given, list) or _is_number_row(given)):
            given = [given]  # one layer: the state itself (a nested list (B, H) included)
        if not isinstance(given, list) or len(given) != len(cells):
            count = len(given) if isinstance(given, list) else type(given).__name__
            each = "one per layer and direction" if self.bidirectional else "one per layer"
            raise tg.ShapeError(
                f"rnn.RNN: h0 must be a list of {len(cells)} states ({each}), got {count}"
            )
        states = []
        for (_, tags, cell), state in zip(cells, given):
            where = tg.format_scope(tags)
            state = _as_state(state, where, self.dtype)
            for tensor in state_tensors(state):
                expected = (batch_size, cell.hidden_size)
                if tensor.shape != expected:
                    raise tg.ShapeError(
                        f"rnn.RNN ({where}): h0 has shape {tensor.shape}, expected {expected} "
                        f"(batch {batch_size}, hidden_size {cell.hidden_size})"
                    )
            states.append(state)
        return states

    def __repr__(self) -> str:
        inner = ", ".join(repr(c) for c in self.layers)
        return f"RNN([{inner}]{', bidirectional=True' if self.bidirectional else ''})"


def _as_state(state: Any, scope: str, dtype: np.dtype) -> State:
    """A given initial state as Tensors: arrays and nested lists become Tensors "h_init" of
    the network's dtype (copies); ``scope`` (``layer=1``) names it in errors."""
    where = f"rnn.RNN ({scope})"

    def tensor(x: Any) -> tg.Tensor:
        return tensor_in_dtype(x, dtype, where, "h0", "h_init")

    if isinstance(state, (tuple, list)) and state and not _is_number_row(state):
        return type(state)(tensor(s) for s in state)
    return tensor(state)


def _is_number_row(state: list | tuple) -> bool:
    """True for a nested list of numbers (one (B, H) array), not a tuple of state Tensors."""
    return all(isinstance(s, (list, tuple)) and all(isinstance(v, (int, float)) for v in s)
               for s in state)


def _cell_dtype(cell: Any) -> np.dtype | None:
    """The dtype a cell computes in: its ``dtype``, else its first parameter's (None if none)."""
    if hasattr(cell, "dtype"):
        return np.dtype(cell.dtype)
    params = cell.parameters()
    return params[0].dtype if params else None


def _local_names(cell: Any) -> dict[str, tg.Tensor]:
    """A cell's parameters under local names (named_parameters(), else param0, param1, ...)."""
    if hasattr(cell, "named_parameters"):
        return dict(cell.named_parameters())
    return {f"param{i}": p for i, p in enumerate(cell.parameters())}
