"""GRUCell: a gated recurrent unit built from tinygraph ops, one gate per node.

Equations (row vectors, batch first; PyTorch's torch.nn.GRU, gate order r, z, n):

    a_x = x_t W_ih + b_ih,   a_h = h_(t−1) W_hh + b_hh      both (B, 3H), split into r, z, n blocks
    r   = σ(a_x[:, 0:H]   + a_h[:, 0:H])                    reset gate
    z   = σ(a_x[:, H:2H]  + a_h[:, H:2H])                   update gate
    n   = tanh(a_x[:, 2H:3H] + r ⊙ a_h[:, 2H:3H])           candidate; r multiplies h W_hn + b_hn
    h_t = (1 − z) ⊙ n + z ⊙ h_(t−1)

The reset gate multiplies (h_(t−1) W_hn + b_hn), bias included, as torch does (the original
paper of Cho et al. 2014 applies r to h_(t−1) before the matmul; the two differ).

Mapping to PyTorch: ``W_ih`` (D, 3H) is ``weight_ih_l0.T``, ``W_hh`` (H, 3H) is
``weight_hh_l0.T``, ``b_ih`` and ``b_hh`` (3H,) are ``bias_ih_l0`` and ``bias_hh_l0``.

Why it helps the gradient: ∂h_t/∂h_(t−1) contains the direct term diag(z); while z stays near 1
the state is copied forward and so is its gradient, with no W_hh and no tanh' on that path.
In the graph: pre-activations "a_x", "a_h", gates "r", "z", "n", the state "h"; h_(t−1) is read by the
recurrent matmul and by z ⊙ h_(t−1), a junction in the backward trace.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.cell import RngLike, named
from rnn.lstm import check_sizes, check_step_inputs, gate_parameters


class GRUCell:
    """One GRU layer with PyTorch's gate equations and parameter layout (see the module doc).

    Args:
        input_size: D, the width of x_t.
        hidden_size: H, the width of h_t.
        rng: a numpy Generator or seed for the initial weights (U(−1/√H, 1/√H), as torch).
        dtype: the float dtype of the parameters and of the zero initial state (float64).

    Parameters: ``W_ih`` (D, 3H), ``W_hh`` (H, 3H), ``b_ih`` (3H,), ``b_hh`` (3H,).
    The state is h, a (B, H) tensor, zeros at t = 0.
    """

    gates = 3

    def __init__(self, input_size: int, hidden_size: int, *, rng: RngLike = None,
                 dtype: DTypeLike = np.float64) -> None:
        check_sizes("GRUCell", input_size, hidden_size)
        self.input_size = int(input_size)
        self.hidden_size = int(hidden_size)
        params = gate_parameters("GRUCell", self.input_size, self.hidden_size, self.gates, rng,
                                 dtype)
        self.W_ih, self.W_hh, self.b_ih, self.b_hh = params.values()

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

    def initial_state(self, batch_size: int) -> tg.Tensor:
        """h_0: zeros (B, H) in the cell's dtype."""
        return tg.Tensor(np.zeros((batch_size, self.hidden_size), dtype=self.dtype), name="h_init")

    def step(self, x_t: tg.Tensor, h_prev: tg.Tensor) -> tg.Tensor:
        """h_t from x_t (B, D) and h_(t−1) (B, H), by the equations of the module doc."""
        check_step_inputs("GRUCell", self, x_t, {"h_prev": h_prev})
        H = self.hidden_size
        a_x = named(named(x_t @ self.W_ih, "xW_ih") + self.b_ih, "a_x")
        a_h = named(named(h_prev @ self.W_hh, "hW_hh") + self.b_hh, "a_h")
        r = named(tg.sigmoid(a_x[:, 0:H] + a_h[:, 0:H]), "r")
        z = named(tg.sigmoid(a_x[:, H:2 * H] + a_h[:, H:2 * H]), "z")
        n = named(tg.tanh(a_x[:, 2 * H:3 * H] + r * a_h[:, 2 * H:3 * H]), "n")
        return named((1.0 - z) * n + z * h_prev, "h")

    def output(self, state: tg.Tensor) -> tg.Tensor:
        """The hidden output h_t: for a GRU, the state itself."""
        return state

    def __repr__(self) -> str:
        return f"GRUCell({self.input_size}, {self.hidden_size})"
