"""Linear: the readout y_t = h_t W + b that turns a hidden state into scores (logits)."""

from __future__ import annotations

import numpy as np

import tinygraph as tg
from rnn.cell import RngLike, check_size, make_rng, where_now
from rnn.sequences import float_array


class Linear:
    """y = h W + b with W (in, out) and b (out,); the readout W_hy, b_y of an RNN.

    Args:
        in_features: the width of h (H).
        out_features: the width of y (V, the number of classes or outputs).
        names: the parameter names, ("W_hy", "b_y") by default: the textbook's readout, and
            the keys under which ``rnn.save_parameters`` stores them.
        rng: a numpy Generator or seed; entries are drawn uniformly from [−1/√in, 1/√in].
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        names: tuple[str, str] = ("W_hy", "b_y"),
        rng: RngLike = None,
    ) -> None:
        self.in_features = check_size(in_features, "in_features", "Linear")
        self.out_features = check_size(out_features, "out_features", "Linear")
        generator = make_rng(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.W = tg.Tensor(generator.uniform(-bound, bound, (in_features, out_features)),
                           requires_grad=True, name=names[0])
        self.b = tg.Tensor(generator.uniform(-bound, bound, out_features),
                           requires_grad=True, name=names[1])

    def __call__(self, h: tg.Tensor) -> tg.Tensor:
        """y = h W + b for h of shape (B, in) (a Tensor, or an array made a constant Tensor).

        The result is named "y".
        """
        where = f"Linear({self.in_features}, {self.out_features}){where_now()}"
        if not isinstance(h, tg.Tensor):
            h = tg.Tensor(float_array(h, where, "the input"), name="h")
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise tg.ShapeError(
                f"{where}: input has shape {h.shape}, expected (B, {self.in_features})"
            )
        y = h @ self.W + self.b
        y.name = "y"
        return y

    def named_parameters(self) -> dict[str, tg.Tensor]:
        """{W's name: W, b's name: b} ("W_hy", "b_y" by default)."""
        return {self.W.name: self.W, self.b.name: self.b}

    def parameters(self) -> list[tg.Tensor]:
        """[W, b]."""
        return [self.W, self.b]

    def __repr__(self) -> str:
        return f"Linear({self.in_features}, {self.out_features})"
