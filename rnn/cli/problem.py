"""The small sequence problem that ``demo``, ``render`` and ``check`` build, draw and check.

An Elman stack reads x_t (D = 2) for t = 0..T−1; a readout gives scores over V = 3 classes,

    h^l_t = f_l(h^(l−1)_t W^l_xh + h^l_(t−1) W^l_hh + b^l_h),   o_t = h^top_t W_hy + b_y,
    L = Σ_t Σ_b −log softmax(o_t[b])[y_t[b]]      (or only t = T−1 with ``loss_at="last"``),

with random inputs and targets drawn from ``seed``. Each readout runs inside
``tg.scope(t=t)``, so pictures put it in the column of its step.
"""

from __future__ import annotations

from argparse import Namespace
from dataclasses import dataclass

import numpy as np

import tinygraph as tg
from rnn.linear import Linear
from rnn.losses import last_step_cross_entropy, sequence_cross_entropy
from rnn.network import RNN

INPUT_SIZE = 2
CLASSES = 3


@dataclass
class Problem:
    """The network, its readout and one batch of data: call :meth:`loss` to build the graph."""

    net: RNN
    readout: Linear
    xs: np.ndarray
    targets: np.ndarray
    loss_at: str = "all"

    def parameters(self) -> list[tg.Tensor]:
        """Every parameter: the layers' W_xh, W_hh, b_h, then W_hy and b_y."""
        return self.net.parameters() + self.readout.parameters()

    def loss(self) -> tg.Tensor:
        """A fresh graph of L (named "L") from the current parameters."""
        hs, _ = self.net(self.xs)
        if self.loss_at == "last":
            with tg.scope(t=len(hs) - 1):
                loss = last_step_cross_entropy(self.readout(hs[-1]), self.targets[:, -1])
        else:
            logits = []
            for t, h in enumerate(hs):
                with tg.scope(t=t):
                    logits.append(self.readout(h))
            loss = sequence_cross_entropy(logits, self.targets)
        loss.name = "L"
        return loss

    def describe(self) -> str:
        """One line: layers, activations, T, H, D, V, batch."""
        acts = ",".join(cell.nonlinearity for cell in self.net.layers)
        B, T, D = self.xs.shape
        return (f"{self.net.num_layers}-layer Elman RNN ({acts}), T={T} steps, "
                f"H={self.net.hidden_size}, D={D}, V={self.readout.out_features} classes, "
                f"batch {B}, loss at {'every step' if self.loss_at == 'all' else 'the last step'}")


def build_problem(steps: int = 4, layers: int = 2, hidden: int = 3,
                  nonlinearity: list[str] | str = "tanh", batch: int = 1, loss_at: str = "all",
                  seed: int = 0) -> Problem:
    """The network and data of the module docstring, all drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    names = [nonlinearity] if isinstance(nonlinearity, str) else list(nonlinearity)
    acts = names * layers if len(names) == 1 else names
    net = RNN(INPUT_SIZE, hidden, layers, acts, rng=rng)
    readout = Linear(hidden, CLASSES, rng=rng)
    xs = rng.normal(size=(batch, steps, INPUT_SIZE))
    targets = rng.integers(0, CLASSES, size=(batch, steps))
    return Problem(net, readout, xs, targets, loss_at)


def parameter_count(layers: int, hidden: int) -> tuple[int, int]:
    """(entries, tensors) of the problem's parameters, without building them.

    Layer 0 has W_xh (D, H), W_hh (H, H), b_h (H); every later layer W_xh (H, H), W_hh, b_h;
    the readout W_hy (H, V) and b_y (V): 3 L + 2 tensors.
    """
    first = INPUT_SIZE * hidden + hidden * hidden + hidden
    later = (layers - 1) * (2 * hidden * hidden + hidden)
    return first + later + hidden * CLASSES + CLASSES, 3 * layers + 2


def problem_from_args(args: Namespace) -> Problem:
    """:func:`build_problem` from the options of :func:`rnn.cli.options.add_model_options`."""
    return build_problem(args.steps, args.layers, args.hidden, args.nonlinearity, args.batch,
                         args.loss_at, args.seed)


def hidden_state(loss: tg.Tensor, t: int, layer: int) -> tg.Tensor | None:
    """The tensor h of step ``t``, layer ``layer`` in the graph below ``loss`` (None if absent)."""
    for node in tg.graph_nodes(loss):
        tensor = node.output
        if (tensor is not None and tensor.name == "h" and node.scope.get("t") == t
                and node.scope.get("layer") == layer):
            return tensor
    return None
