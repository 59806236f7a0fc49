"""Real-time recurrent learning (Williams & Zipser 1989): the gradient of BPTT, carried forward.

BPTT is reverse mode on the unrolled graph: it stores every step, then sends ∂L/∂h back in
time, and the junction at each h_t sums what the later steps send. RTRL is forward mode: it
carries the *influence* of every parameter on the state, J_t = ∂h_t/∂θ, forward with the
state, so that at each step the gradient of that step's loss is at hand at once,

    ∂L_t/∂θ = ∂L_t/∂h_t · J_t,

with no stored past and no backward pass through time. Summed over t it is exactly BPTT's
gradient of Σ_t L_t: the same chain rule, the products taken in the opposite order.

For an Elman stack, layer l at step t (h^(−1)_t = x_t, the input):

    a^l_t = h^(l−1)_t W^l_xh + h^l_(t−1) W^l_hh + b^l,        h^l_t = f_l(a^l_t),

and the influence of the parameters θ of layers 0..l on h^l_t obeys

    J^l_t = D^l_t ⊙ ( ∂a^l_t/∂θ|direct  +  J^(l−1)_t W^l_xh  +  J^l_(t−1) W^l_hh ),

where D^l_t = f_l'(a^l_t) (1 − h² for tanh, h(1 − h) for sigmoid, [h > 0] for relu, 1 for
identity) and the direct part holds the parameters of layer l itself, entry by entry:
∂a_j/∂W_xh[d, k] = h^(l−1)_d δ_jk, ∂a_j/∂W_hh[i, k] = h^l_(t−1),i δ_jk, ∂a_j/∂b_k = δ_jk.
With ``learn_h0`` the start is J^l_(−1) = ∂h0/∂h0 = I in the block of layer l's h0, else 0.
This update is one batched Jacobian-vector product of the cell's step: ``tg.jvp`` of
h_t = f(x_t W_xh + h_(t−1) W_hh + b_h) with one tangent per parameter entry (a one-hot
direction) and J_(t−1) as h_(t−1)'s tangent gives the same J_t (tests/test_rtrl.py checks it);
here it is written in numpy on the cell's weights, which is faster (5× at H = 32).

J^l_t is stored as an array (B, P_l, H): P_l parameters of layers 0..l, H the width of h.
Cost per step: J^l_(t−1) W^l_hh is B · P · H² multiply-adds, with P ≈ L(DH + H² + H) ≈ LH²,
so O(B H⁴) per layer and step (BPTT: O(B H²)) and memory O(B P H) = O(B H³), however long the
stream (BPTT: O(T B H)). RTRL wins on memory for long streams and small H; BPTT on time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

import tinygraph as tg
from rnn.cell import ElmanCell
from rnn.checks import check_one_direction, check_scalar_loss
from rnn.errors import ConfigError
from rnn.network import RNN
from rnn.optim import Optimizer
from rnn.sequences import InputSequence, detach_state
from rnn.tbptt import StepLoss

SLOPES: dict[str, Callable[[np.ndarray], np.ndarray]] = {  # f'(a) from h = f(a)
    "tanh": lambda h: 1.0 - h * h,
    "sigmoid": lambda h: h * (1.0 - h),
    "relu": lambda h: (h > 0).astype(h.dtype),
    "identity": np.ones_like,
}


@dataclass
class RTRLResult:
    """What ``rtrl`` did: one loss per step that had one, the number of gradients taken (and,
    with an optimizer, updates made: one per such step), the final states (detached) and the
    size of the influence matrices it carried, in bytes."""

    losses: list[float] = field(default_factory=list)
    updates: int = 0
    state: list[tg.Tensor] = field(default_factory=list)
    influence_bytes: int = 0


class _DirectRows(NamedTuple):
    """The rows of J one layer's own parameters sit in, for the direct part of its update:
    entry W[d, k] sits at row at + d·H + k, b_k at at + k; ``k`` indexes the columns."""

    k: np.ndarray
    W_xh: np.ndarray
    W_hh: np.ndarray
    b_h: np.ndarray

    @classmethod
    def of(cls, at: dict[str, int], input_size: int, hidden_size: int) -> _DirectRows:
        """The rows of a layer whose parameters start at the offsets ``at``."""
        k = np.arange(hidden_size)
        return cls(k, at["W_xh"] + np.arange(input_size)[:, None] * hidden_size + k,
                   at["W_hh"] + np.arange(hidden_size)[:, None] * hidden_size + k, at["b_h"] + k)


class Influence:
    """Where each parameter of an Elman stack sits along the P axis of J: layer by layer, in
    ``net.parameters()`` order, so the parameters of layers 0..l are the first P_l rows. A
    learned h0 has rows only when it is used (``learned_h0``: no h0 was given to the call)."""

    def __init__(self, net: RNN, learned_h0: bool = True) -> None:
        self.params: list[tg.Tensor] = []
        self.starts: list[int] = []
        self.offsets: list[dict[str, int]] = []
        self.ends: list[int] = []
        start = 0
        for cell in net.layers:
            offsets = {}
            for local, tensor in cell.named_parameters().items():
                if local == "h0" and not learned_h0:
                    continue
                offsets[local] = start
                self.params.append(tensor)
                self.starts.append(start)
                start += tensor.size
            self.offsets.append(offsets)
            self.ends.append(start)
        self.direct = [_DirectRows.of(offsets, cell.input_size, cell.hidden_size)
                       for offsets, cell in zip(self.offsets, net.layers)]

    def start(self, cells: list[ElmanCell], batch_size: int) -> list[np.ndarray]:
        """J^l_(−1) for every layer: the identity in the block of a learned h0, else zeros."""
        influences = []
        for idx, cell in enumerate(cells):
            H = cell.hidden_size
            J = np.zeros((batch_size, self.ends[idx], H), dtype=cell.dtype)
            if "h0" in self.offsets[idx]:
                at = self.offsets[idx]["h0"]
                J[:, at:at + H, :] += np.eye(H, dtype=cell.dtype)
            influences.append(J)
        return influences

    def step(self, idx: int, cell: ElmanCell, below: np.ndarray, h_prev: np.ndarray, h: np.ndarray,
             J_prev: np.ndarray, J_below: np.ndarray | None) -> np.ndarray:
        """J^l_t = D ⊙ (direct + J^(l−1)_t W_xh + J^l_(t−1) W_hh) for layer ``idx``."""
        J = J_prev @ cell.W_hh.data
        if J_below is not None:
            J[:, :J_below.shape[1], :] += J_below @ cell.W_xh.data
        direct = self.direct[idx]
        k = direct.k
        for rows, source in ((direct.W_xh, below), (direct.W_hh, h_prev)):
            J[:, rows, k] += source[:, :, None]  # ∂a_j/∂W[d, k] = source_d δ_jk
        J[:, direct.b_h, k] += 1.0  # ∂a_j/∂b_k = δ_jk
        J *= SLOPES[cell.nonlinearity](h)[:, None, :]
        return J

    def add_gradient(self, J_top: np.ndarray, dh: np.ndarray) -> None:
        """.grad += ∂L/∂h · J: Σ_b Σ_j dh[b, j] J[b, p, j] for every parameter entry p."""
        flat = np.einsum("bpj,bj->p", J_top, dh)
        for tensor, start in zip(self.params, self.starts):
            g = flat[start:start + tensor.size].reshape(tensor.shape)
            tensor.grad = g if tensor.grad is None else tensor.grad + g


def rtrl(
    net: RNN,
    xs: Any,
    step_loss: StepLoss,
    optimizer: Optimizer | None = None,
    *,
    h0: Any = None,
) -> RTRLResult:
    """Real-time recurrent learning over one stream (B, T, D): see the module docstring.

    Args:
        net: an ``rnn.RNN`` of Elman layers (any nonlinearities, any number of layers).
        xs: the inputs, any form ``net`` accepts.
        step_loss: ``step_loss(t, h_t)`` returns the scalar loss L_t of step t from the top
            layer's h_t (a Tensor), or None when step t has no loss, as for ``rnn.tbptt``. It
            may use parameters of its own (a readout): their gradient is that step's
            ``backward()``, since L_t reads them directly.
        optimizer: if given, updated after every step with a loss, from that step's gradient
            (online learning: the influences carry on with the updated weights); None only
            accumulates Σ_t ∂L_t/∂θ into ``.grad``, which is then full BPTT's gradient.
        h0: initial states as for ``net(xs, h0)`` (constants: their influence is zero).

    Returns:
        An :class:`RTRLResult`: the step losses, the update count, the final states.
    """
    cells = _elman_layers(net)
    if not callable(step_loss):
        raise tg.DTypeError(f"rtrl: step_loss must be a function step_loss(t, h_t) -> scalar "
                            f"Tensor or None, got a {type(step_loss).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise tg.DTypeError(f"rtrl: optimizer must be an rnn optimizer (rnn.SGD, rnn.Adam) or "
                            f"None, got a {type(optimizer).__name__}")
    inputs = InputSequence(xs, net.input_size, where="rtrl", dtype=net.dtype)
    layout = Influence(net, learned_h0=h0 is None)
    with tg.no_grad():
        states = net.initial_states(inputs.batch_size, h0)
    influences = layout.start(cells, inputs.batch_size)
    result = RTRLResult(influence_bytes=sum(J.nbytes for J in influences))
    for t in range(inputs.length):
        x_t = inputs.step(t)
        with tg.no_grad():
            _, new_states = net.forward_states([x_t], states, t0=t)
        below = x_t.data
        for idx, cell in enumerate(cells):
            h = new_states[idx].data
            influences[idx] = layout.step(idx, cell, below, states[idx].data, h, influences[idx],
                                          influences[idx - 1] if idx else None)
            below = h
        states = new_states
        top = tg.Tensor(below, requires_grad=True, name="h")
        with tg.scope(t=t):
            loss = step_loss(t, top)
        if loss is None:
            continue
        loss = check_scalar_loss(loss, f"rtrl: step_loss({t}, h)", "or None when step t has no loss")
        if optimizer is not None:
            optimizer.zero_grad()
        loss.backward()
        if top.grad is not None:
            layout.add_gradient(influences[-1], top.grad)
        if optimizer is not None:
            optimizer.step()
        result.updates += 1
        result.losses.append(float(loss.item()))
    result.state = [detach_state(s) for s in states]
    return result


def _elman_layers(net: Any) -> list[ElmanCell]:
    if not isinstance(net, RNN):
        raise tg.DTypeError(f"rtrl: net must be an rnn.RNN, got a {type(net).__name__}")
    check_one_direction(net, "rtrl")
    for idx, cell in enumerate(net.layers):
        if not isinstance(cell, ElmanCell):
            raise ConfigError(
                f"rtrl: layer {idx} is a {type(cell).__name__}; rtrl carries the influence "
                "matrices of Elman layers only (rnn.ElmanCell, any nonlinearity)"
            )
    return list(net.layers)
