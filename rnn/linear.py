"""Linear: the readout y_t = h_t W + b that turns a hidden state into scores (logits)."""

from __future__ import annotations

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.cell import RngLike, where_now
from rnn.checks import check_dtype, check_size, make_rng
from rnn.sequences import tensor_in_dtype


class Linear:
    """y = h W + b with W (in, out) and b (out,); the readout W_hy, b_y of an RNN.

    Args:
        in_features: the width of h (H).
        out_features: the width of y (V, the number of classes or outputs).
        names: the parameter names, ("W_hy", "b_y") by default: the textbook's readout, and
            the keys under which ``rnn.save_parameters`` stores them.
        rng: a numpy Generator or seed; entries are drawn uniformly from [−1/√in, 1/√in].
        dtype: the float dtype of W and b (float64); the layer computes in it.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        names: tuple[str, str] = ("W_hy", "b_y"),
        rng: RngLike = None,
        dtype: DTypeLike = np.float64,
    ) -> None:
        if (not isinstance(names, (tuple, list)) or len(names) != 2
                or not all(isinstance(n, str) and n for n in names)):
            raise tg.DTypeError(
                f"Linear: names must be two non-empty strings (W's name, b's name), got {names!r}"
            )
        self.in_features = check_size(in_features, "in_features", "Linear")
        self.out_features = check_size(out_features, "out_features", "Linear")
        resolved = check_dtype(dtype, "Linear")
        generator = make_rng(rng, "Linear")
        bound = 1.0 / np.sqrt(in_features)
        W = generator.uniform(-bound, bound, (in_features, out_features))
        b = generator.uniform(-bound, bound, out_features)
        self.W = tg.Tensor(W.astype(resolved, copy=False), requires_grad=True, name=names[0])
        self.b = tg.Tensor(b.astype(resolved, copy=False), requires_grad=True, name=names[1])

    @property
    def dtype(self) -> np.dtype:
        """The dtype the layer computes in: that of W."""
        return self.W.dtype

    def __call__(self, h: tg.Tensor) -> tg.Tensor:
        """y = h W + b for h of shape (B, in): a Tensor, or an array made a constant Tensor.

        Arrays and constant Tensors are converted to the layer's dtype (a copy); a Tensor that
        requires grad must already have it. The result is named "y".
        """
        where = f"Linear({self.in_features}, {self.out_features}){where_now()}"
        h = tensor_in_dtype(h, self.dtype, where, "the input", "h")
        if h.ndim != 2 or h.shape[1] != self.in_features:
            raise tg.ShapeError(
                f"{where}: input has shape {h.shape}, expected (B, {self.in_features})"
            )
        product = h @ self.W
        product.name = f"h{self.W.name}"
        y = product + self.b
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
