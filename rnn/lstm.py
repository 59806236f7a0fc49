"""LSTMCell: a long short-term memory layer built from tinygraph ops, one gate per node.

Equations (row vectors, batch first; PyTorch's torch.nn.LSTM, gate order i, f, g, o):

    a   = x_t W_ih + b_ih + h_(t−1) W_hh + b_hh          (B, 4H), split into four (B, H) blocks
    i   = σ(a[:, 0:H])        input gate
    f   = σ(a[:, H:2H])       forget gate
    g   = tanh(a[:, 2H:3H])   candidate cell
    o   = σ(a[:, 3H:4H])      output gate
    c_t = f ⊙ c_(t−1) + i ⊙ g
    h_t = o ⊙ tanh(c_t)

Mapping to PyTorch: ``W_ih`` (D, 4H) is ``weight_ih_l0.T``, ``W_hh`` (H, 4H) is
``weight_hh_l0.T``, ``b_ih`` and ``b_hh`` (4H,) are ``bias_ih_l0`` and ``bias_hh_l0``; the
columns of every block come in torch's row order i, f, g, o. So ``W_ih.data = w.T`` copies a
torch layer exactly.

Why it helps the gradient: c_t = f ⊙ c_(t−1) + …, so ∂c_t/∂c_(t−1) = diag(f), with no W and no
squashing derivative in between. While f stays near 1 the cell state carries a gradient across
many steps (the "constant error carousel"); an Elman cell multiplies by W_hh diag(tanh') per step.

In the graph (what the pictures call each tensor): the products "xW_ih" and "hW_hh", "a_x" =
x W_ih + b_ih, the pre-activation "a", its four slices "a_i" … "a_o", the gates "i", "f", "g",
"o", the states "c" and "h" (at t = 0 "h_init", "c_init"). c_t is read twice (by f ⊙ c at
t+1 and by tanh(c_t) at t), so its gradient is a junction of two contributions in
``tg.trace_backward``: the path through time and the path through h_t.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.cell import RngLike, named, where_now
from rnn.checks import check_dtype, check_real, check_size, make_rng


def check_sizes(cell_name: str, input_size: int, hidden_size: int) -> None:
    """Reject sizes that are not positive ints, naming the cell and the argument."""
    for label, size in (("input_size", input_size), ("hidden_size", hidden_size)):
        check_size(size, label, cell_name)


def gate_parameters(
    cell_name: str, input_size: int, hidden_size: int, gates: int, rng: RngLike, dtype: DTypeLike
) -> dict[str, tg.Tensor]:
    """W_ih (D, gates·H), W_hh (H, gates·H), b_ih, b_hh (gates·H,), uniform in [−1/√H, 1/√H].

    The same initialisation as torch.nn.LSTM / GRU (every weight and bias from U(−k, k), k = 1/√H),
    drawn in float64 and rounded to ``dtype``.
    """
    resolved = check_dtype(dtype, cell_name)
    generator = make_rng(rng, cell_name)
    bound = 1.0 / np.sqrt(hidden_size)
    width = gates * hidden_size
    shapes = {"W_ih": (input_size, width), "W_hh": (hidden_size, width), "b_ih": (width,),
              "b_hh": (width,)}
    return {
        name: tg.Tensor(generator.uniform(-bound, bound, size=shape).astype(resolved, copy=False),
                        requires_grad=True, name=name)
        for name, shape in shapes.items()
    }


def check_step_inputs(cell_name: str, cell: object, x_t: tg.Tensor, states: dict[str, tg.Tensor]) -> None:
    """x_t must be (B, D) and every state tensor (B, H); the message names the cell and scope."""
    D, H = cell.input_size, cell.hidden_size
    if x_t.ndim != 2 or x_t.shape[1] != D:
        raise tg.ShapeError(
            f"{cell_name}.step{where_now()}: x_t has shape {x_t.shape}, expected (B, {D}) "
            f"(input_size={D})"
        )
    expected = (x_t.shape[0], H)
    for label, tensor in states.items():
        if tensor.shape != expected:
            raise tg.ShapeError(
                f"{cell_name}.step{where_now()}: {label} has shape {tensor.shape}, expected "
                f"{expected} (batch {x_t.shape[0]}, hidden_size {H})"
            )


class LSTMCell:
    """One LSTM layer with PyTorch's gate equations and parameter layout (see the module doc).

    Args:
        input_size: D, the width of x_t.
        hidden_size: H, the width of h_t and c_t.
        forget_bias: added to the forget gate's part of ``b_ih`` after the initialisation
            (0.0 keeps PyTorch's initialisation; 1.0 is the common "remember by default" choice
            of Gers et al. 2000 and Jozefowicz et al. 2015).
        rng: a numpy Generator or seed for the initial weights.
        dtype: the float dtype of the parameters and of the zero initial state (float64).

    Parameters: ``W_ih`` (D, 4H), ``W_hh`` (H, 4H), ``b_ih`` (4H,), ``b_hh`` (4H,).
    The state is the tuple (h, c) of two (B, H) tensors, zeros at t = 0.
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, *, forget_bias: float = 0.0,
                 rng: RngLike = None, dtype: DTypeLike = np.float64) -> None:
        check_sizes("LSTMCell", input_size, hidden_size)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        self.forget_bias = check_real(forget_bias, "forget_bias", "LSTMCell")
        params = gate_parameters("LSTMCell", self.input_size, self.hidden_size, self.gates, rng,
                                 dtype)
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = params.values()
        H = self.hidden_size
        self.b_ih.data[H:2 * H] += self.forget_bias

    @property
    def dtype(self) -> np.dtype:
        """The dtype the cell computes in: that of its parameters."""
        return self.W_hh.dtype

    def named_parameters(self) -> dict[str, tg.Tensor]:
        """The parameters under their local names: W_ih, W_hh, b_ih, b_hh."""
        return {"W_ih": self.W_ih, "W_hh": self.W_hh, "b_ih": self.b_ih, "b_hh": self.b_hh}

    def parameters(self) -> list[tg.Tensor]:
        """The parameter Tensors: [W_ih, W_hh, b_ih, b_hh]."""
        return list(self.named_parameters().values())

    def initial_state(self, batch_size: int) -> tuple[tg.Tensor, tg.Tensor]:
        """(h_0, c_0): two zero tensors (B, H) in the cell's dtype."""
        shape = (batch_size, self.hidden_size)
        return (tg.Tensor(np.zeros(shape, dtype=self.dtype), name="h_init"),
                tg.Tensor(np.zeros(shape, dtype=self.dtype), name="c_init"))

    def step(self, x_t: tg.Tensor, state: tuple[tg.Tensor, tg.Tensor]) -> tuple[tg.Tensor, tg.Tensor]:
        """(h_t, c_t) from x_t (B, D) and (h_(t−1), c_(t−1)), by the equations of the module doc."""
        h_prev, c_prev = state
        check_step_inputs("LSTMCell", self, x_t, {"h_prev": h_prev, "c_prev": c_prev})
        H = self.hidden_size
        a_x = named(named(x_t @ self.W_ih, "xW_ih") + self.b_ih, "a_x")
        a = named(a_x + named(h_prev @ self.W_hh, "hW_hh") + self.b_hh, "a")
        i = named(tg.sigmoid(named(a[:, 0:H], "a_i")), "i")
        f = named(tg.sigmoid(named(a[:, H:2 * H], "a_f")), "f")
        g = named(tg.tanh(named(a[:, 2 * H:3 * H], "a_g")), "g")
        o = named(tg.sigmoid(named(a[:, 3 * H:4 * H], "a_o")), "o")
        c = named(f * c_prev + i * g, "c")
        h = named(o * tg.tanh(c), "h")
        return h, c

    def output(self, state: tuple[tg.Tensor, tg.Tensor]) -> tg.Tensor:
        """The hidden output h_t (the first tensor of the state)."""
        return state[0]

    def __repr__(self) -> str:
        extra = f", forget_bias={self.forget_bias}" if self.forget_bias else ""
        return f"LSTMCell({self.input_size}, {self.hidden_size}{extra})"
