"""ElmanCell: one step of a simple recurrent layer, h_t = f(x_t W_xh + h_(t−1) W_hh + b_h).

The cell step interface
-----------------------
``rnn.RNN`` unrolls any object with this interface, so LSTM and GRU cells plug in unchanged:

* ``cell.input_size``, ``cell.hidden_size``: ints (D and H).
* ``cell.dtype`` (optional): the float dtype it computes in; without it, ``rnn.RNN`` takes the
  dtype of the cell's first parameter.
* ``cell.initial_state(batch_size) -> state``: the state before step 0. A state is a Tensor
  (B, H) or a tuple of them (an LSTM's ``(h, c)``); every Tensor in it has shape (B, H).
* ``cell.step(x_t, state) -> state``: one time step; ``x_t`` is a Tensor (B, D). ``rnn.RNN``
  calls it inside ``tg.scope(t=t, layer=l)``, so the nodes it makes carry that scope.
* ``cell.output(state) -> Tensor``: the (B, H) hidden output h_t that the next layer and the
  readout read (for an Elman cell the state itself).
* ``cell.named_parameters() -> dict[str, Tensor]`` (local names such as ``"W_xh"``) and
  ``cell.parameters() -> list[Tensor]`` (the same tensors, same order). ``rnn.RNN`` renames
  the tensors of layer l to ``"layer{l}.<local name>"`` (PyTorch's state_dict style).

Masking for variable-length batches and detaching for truncated BPTT act on every Tensor of a
state, so a cell never has to know about them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.checks import RngLike, check_dtype, check_flag, check_size, make_rng
from rnn.errors import ConfigError

NONLINEARITIES: dict[str, Callable[[tg.Tensor], tg.Tensor]] = {
    "tanh": tg.tanh,
    "relu": tg.relu,
    "sigmoid": tg.sigmoid,
    "identity": tg.identity,
}

def activation(name: str, where: str = "ElmanCell") -> Callable[[tg.Tensor], tg.Tensor]:
    """The tinygraph function for a nonlinearity name: tanh, relu, sigmoid or identity."""
    try:
        return NONLINEARITIES[name]
    except (KeyError, TypeError):
        valid = ", ".join(repr(k) for k in NONLINEARITIES)
        raise ConfigError(
            f"{where}: unknown nonlinearity {name!r}; valid ones are {valid}"
        ) from None


STEP_INTERFACE = ("input_size", "hidden_size", "initial_state", "step", "output", "parameters")
CELL_CLASSES = {"lstm": "LSTMCell", "gru": "GRUCell", "elman": "ElmanCell", "rnn": "ElmanCell"}


def check_cell(cell: object, where: str, sizes: str) -> None:
    """Refuse an object without the step interface above, saying which cell to pass instead.

    ``sizes`` is the "D, H" text of the example (``rnn.LSTMCell(D, H)``) the message suggests.
    """
    if isinstance(cell, str):
        named = CELL_CLASSES.get(cell.lower())
        classes = [named] if named else ["LSTMCell", "GRUCell", "ElmanCell"]
        options = " or ".join(f"cell=rnn.{name}({sizes})" for name in classes)
        valid = ", ".join(repr(k) for k in NONLINEARITIES)
        raise ConfigError(
            f"{where}: cell={cell!r} is a name, but cell= takes a cell object: pass {options}; "
            f"for Elman layers leave cell out and choose nonlinearity= ({valid})"
        )
    if isinstance(cell, type):
        name = f"rnn.{cell.__name__}" if cell.__module__.startswith("rnn.") else cell.__name__
        raise ConfigError(f"{where}: cell={name} is a class; pass an instance, cell={name}({sizes})")
    missing = [name for name in STEP_INTERFACE if not hasattr(cell, name)]
    if missing:
        raise ConfigError(
            f"{where}: the cell (of type {type(cell).__name__}) lacks {', '.join(missing)} of "
            f"the cell step interface (see rnn.cell); pass e.g. cell=rnn.LSTMCell({sizes})"
        )


def named(tensor: tg.Tensor, name: str) -> tg.Tensor:
    """Give a tensor a name (what the pictures and traces call it) and return it."""
    tensor.name = name
    return tensor


def where_now() -> str:
    """The current scope as `` (t=3, layer=1)``, or an empty string outside any scope."""
    text = tg.format_scope(tg.current_scope())
    return f" ({text})" if text else ""


class ElmanCell:
    """One Elman (simple recurrent) layer: h_t = f(x_t W_xh + h_(t−1) W_hh + b_h).

    Args:
        input_size: D, the width of x_t.
        hidden_size: H, the width of h_t.
        nonlinearity: f, one of "tanh", "relu", "sigmoid", "identity".
        learn_h0: if True, h_0 is a learned parameter ``h0`` of shape (H,) shared by the batch;
            otherwise h_0 = 0.
        fused: if True, each step computes [x_t | h_(t−1)] @ [W_xh ; W_hh] + b_h, one matmul
            of the concatenations (the same numbers; a different graph to draw).
        rng: a numpy Generator or seed for the initial weights, drawn uniformly from
            [−1/√H, 1/√H] as PyTorch does.
        dtype: the float dtype of the parameters (float64 by default); the cell computes in
            it, and its zero h_0 has it too. The weights are drawn in float64 and rounded, so
            one seed gives the same weights, to rounding, in every dtype.

    Parameters: ``W_xh`` (D, H), ``W_hh`` (H, H), ``b_h`` (H,) and, with ``learn_h0``, ``h0`` (H,),
    all Tensors of ``dtype`` with ``requires_grad=True``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        nonlinearity: str = "tanh",
        *,
        learn_h0: bool = False,
        fused: bool = False,
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        self.input_size = check_size(input_size, "input_size", "ElmanCell")
        self.hidden_size = check_size(hidden_size, "hidden_size", "ElmanCell")
        self.nonlinearity = nonlinearity
        self.activation = activation(nonlinearity, f"ElmanCell{where_now()}")
        self.fused = check_flag(fused, "fused", "ElmanCell")
        learn_h0 = check_flag(learn_h0, "learn_h0", "ElmanCell")
        resolved = check_dtype(dtype, "ElmanCell")
        generator = make_rng(rng, "ElmanCell")
        bound = 1.0 / np.sqrt(self.hidden_size)
        D, H = self.input_size, self.hidden_size

        def uniform(shape: tuple[int, ...], name: str) -> tg.Tensor:
            data = generator.uniform(-bound, bound, size=shape).astype(resolved, copy=False)
            return tg.Tensor(data, requires_grad=True, name=name)

        self.W_xh = uniform((D, H), "W_xh")
        self.W_hh = uniform((H, H), "W_hh")
        self.b_h = uniform((H,), "b_h")
        self.h0 = (tg.Tensor(np.zeros(H, dtype=resolved), requires_grad=True, name="h0")
                   if learn_h0 else None)

    @property
    def dtype(self) -> np.dtype:
        """The dtype the cell computes in: that of its parameters."""
        return self.W_hh.dtype

    def named_parameters(self) -> dict[str, tg.Tensor]:
        """The parameters under their local names: W_xh, W_hh, b_h (and h0)."""
        named = {"W_xh": self.W_xh, "W_hh": self.W_hh, "b_h": self.b_h}
        if self.h0 is not None:
            named["h0"] = self.h0
        return named

    def parameters(self) -> list[tg.Tensor]:
        """The parameter Tensors: [W_xh, W_hh, b_h] (+ [h0] with learn_h0)."""
        return list(self.named_parameters().values())

    def initial_state(self, batch_size: int) -> tg.Tensor:
        """h_0 for a batch: zeros (B, H) in the cell's dtype, or the learned h0 broadcast to
        (B, H) (h_0 = 0 + h0)."""
        zeros = tg.Tensor(np.zeros((batch_size, self.hidden_size), dtype=self.dtype), name="h_init")
        if self.h0 is None:
            return zeros
        state = zeros + self.h0
        state.name = "h_init"
        return state

    def step(self, x_t: tg.Tensor, h_prev: tg.Tensor) -> tg.Tensor:
        """h_t = f(x_t W_xh + h_(t−1) W_hh + b_h) for x_t (B, D) and h_(t−1) (B, H).

        With ``fused=True``: h_t = f([x_t | h_(t−1)] @ [W_xh ; W_hh] + b_h), the same value.
        """
        if x_t.ndim != 2 or x_t.shape[1] != self.input_size:
            raise tg.ShapeError(
                f"ElmanCell.step{where_now()}: x_t has shape {x_t.shape}, expected "
                f"(B, {self.input_size}) (input_size={self.input_size})"
            )
        expected = (x_t.shape[0], self.hidden_size)
        if h_prev.shape != expected:
            raise tg.ShapeError(
                f"ElmanCell.step{where_now()}: h_prev has shape {h_prev.shape}, expected "
                f"{expected} (batch {x_t.shape[0]}, hidden_size {self.hidden_size})"
            )
        if self.fused:
            xh = named(tg.concat([x_t, h_prev], axis=1), "xh")
            W = named(tg.concat([self.W_xh, self.W_hh], axis=0), "W_cat")
            z = named(xh @ W, "z")
        else:
            z = named(named(x_t @ self.W_xh, "xW_xh") + named(h_prev @ self.W_hh, "hW_hh"), "z")
        return named(self.activation(named(z + self.b_h, "a")), "h")

    def project_inputs(self, xs: tg.Tensor) -> tg.Tensor:
        """P = X W_xh + b_h for every step at once: xs (N, M, D) -> (N, M, H), for any two
        leading axes (the hoisted unroll passes time-major inputs, (T, B, D))."""
        N, M, D = xs.shape
        if D != self.input_size:
            raise tg.ShapeError(
                f"ElmanCell.project_inputs{where_now()}: inputs have shape {xs.shape}, expected "
                f"(T, B, {self.input_size}) or (B, T, {self.input_size}) "
                f"(input_size={self.input_size})"
            )
        flat = xs.reshape(N * M, D) @ self.W_xh + self.b_h
        return named(flat.reshape(N, M, self.hidden_size), "P")

    def step_projected(self, p_t: tg.Tensor, h_prev: tg.Tensor) -> tg.Tensor:
        """h_t = f(p_t + h_(t−1) W_hh), with p_t = x_t W_xh + b_h already computed."""
        a = named(p_t + named(h_prev @ self.W_hh, "hW_hh"), "a")
        return named(self.activation(a), "h")

    def output(self, state: tg.Tensor) -> tg.Tensor:
        """The hidden output h_t: for an Elman cell, the state itself."""
        return state

    def __repr__(self) -> str:
        extras = (", learn_h0=True" if self.h0 is not None else "") + (
            ", fused=True" if self.fused else ""
        )
        return (f"ElmanCell({self.input_size}, {self.hidden_size}, "
                f"nonlinearity={self.nonlinearity!r}{extras})")
