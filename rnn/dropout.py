"""Inverted dropout: y = x · m / (1 − p) with m ~ Bernoulli(1 − p), recorded as one node.

While training, every entry of x is kept with probability 1 − p and scaled by 1/(1 − p), so
E[y] = x and evaluation needs no rescaling: with ``training=False`` (or p = 0) dropout is the
identity, as ``torch.nn.functional.dropout``. The mask is drawn from ``rng`` (a Generator, or
an int seed: the same seed gives the same mask), entry by entry as ``rng.random(x.shape) >= p``.
The backward pass lets the gradient through the kept entries only, scaled alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import tinygraph as tg
from rnn.checks import RngLike, check_flag, check_fraction, make_rng
from rnn.sequences import float_array


class Dropout(tg.Op):
    """y = x · m · s, s = 1/(1 − p);  dx = dy · m · s. The op owns its boolean mask m."""

    name = "dropout"
    saved_arrays = ("mask",)
    keeps_inputs = False
    replayable = False  # a new mask at every call: tg.compile refuses to repeat the first one

    def __init__(self, mask: np.ndarray, p: float) -> None:
        self.mask = mask
        self.p = p
        self.scale = 1.0 / (1.0 - p)

    def describe(self) -> str:
        return f"dropout(p={self.p:g})"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * self.mask * self.scale

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * self.mask * self.scale,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = ẋ · m · s."""
        return x_dot * self.mask * self.scale


def dropout(x: Any, p: float, training: bool = True, rng: RngLike = None) -> tg.Tensor:
    """Inverted dropout of x (a Tensor, or an array made a constant Tensor): y = x · m / (1 − p).

    Args:
        x: the activations.
        p: the probability of dropping an entry, in [0, 1).
        training: False returns x unchanged (evaluation mode).
        rng: a numpy Generator, an int seed, or None (a fresh unseeded generator).

    Returns x itself when ``training=False`` or p = 0; otherwise a new Tensor made by one
    "dropout" node, whose op holds the mask (``y.producer.op.mask``).
    """
    p = check_fraction(p, "p", "dropout")
    training = check_flag(training, "training", "dropout")
    generator = make_rng(rng, "dropout")
    tensor = x if isinstance(x, tg.Tensor) else tg.Tensor(float_array(x, "dropout", "x"), name="x")
    if not training or p == 0.0:
        return tensor
    keep = generator.random(tensor.shape) >= p
    return Dropout(keep, p)(tensor)
