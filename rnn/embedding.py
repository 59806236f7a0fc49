"""Embedding: a lookup table of rows, e = W[i], the one-hot-free form of onehot(i) @ W.

For a token i of a vocabulary of V, onehot(i) @ W (W of shape (V, D)) just picks row i of W;
the lookup does that without building the (…, V) one-hot array or a V-wide matmul. It is one
node in the graph, "embedding", whose backward adds each output row's gradient into the row it
came from: dW[i] += dy[n] for every position n holding index i (np.add.at, so repeated indices
add up instead of overwriting each other).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import DTypeLike

import tinygraph as tg
from rnn.cell import where_now
from rnn.checks import RngLike, check_dtype, check_size, make_rng
from rnn.sequences import numeric_array


class EmbeddingLookup(tg.Op):
    """y = W[idx] (…, D) for integer idx (…);  dW = zeros (V, D) with dW[idx[n]] += dy[n] for
    every position n (a scatter-add). The op owns its copy of idx."""

    name = "embedding"
    saved_arrays = ("indices",)
    keeps_inputs = False

    def __init__(self, indices: np.ndarray) -> None:
        self.indices = indices

    def forward(self, W: np.ndarray) -> np.ndarray:
        self.table_shape = W.shape
        return W[self.indices]

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        dW = np.zeros(self.table_shape, dtype=grad.dtype)
        np.add.at(dW, self.indices, grad)
        return (dW,)

    def jvp(self, W_dot: np.ndarray) -> np.ndarray:
        """jvp: ẏ = Ẇ[idx], the same rows picked from each of the K directions."""
        return W_dot[:, self.indices]


class Embedding:
    """A table of V vectors of width D: ``emb(indices)`` is W[indices], shape (…) -> (…, D).

    Args:
        num_embeddings: V, the number of rows (the vocabulary size).
        embedding_dim: D, the width of each row.
        name: the parameter's name (``W_emb``), the key ``rnn.save_parameters`` stores it under.
        dtype: the float dtype of W (float64).
        rng: a numpy Generator or seed; W is drawn from N(0, 1), as torch.nn.Embedding does.

    Parameters: ``W`` (V, D). Indices are integers in 0..V−1 of any shape (a Python int, a
    list, an integer array or Tensor); negative indices are refused, not wrapped around.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        name: str = "W_emb",
        dtype: DTypeLike = np.float64,
        rng: RngLike = None,
    ) -> None:
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", "Embedding")
        if not isinstance(name, str) or not name:
            raise tg.DTypeError(f"Embedding: name must be a non-empty string, got {name!r}")
        resolved = check_dtype(dtype, "Embedding")
        data = make_rng(rng, "Embedding").standard_normal((self.num_embeddings, self.embedding_dim))
        self.W = tg.Tensor(data.astype(resolved, copy=False), requires_grad=True, name=name)

    @property
    def dtype(self) -> np.dtype:
        """The dtype of W."""
        return self.W.dtype

    def __call__(self, indices: Any) -> tg.Tensor:
        """e = W[indices] for integer indices of shape (…): a Tensor (…, D) named "e"."""
        where = f"{self!r}{where_now()}"
        out = EmbeddingLookup(self._check_indices(indices, where))(self.W)
        out.name = "e"
        return out

    def _check_indices(self, indices: Any, where: str) -> np.ndarray:
        """The indices as an integer array of our own, every one in 0..V−1."""
        idx = numeric_array(indices, where, "indices")
        V = self.num_embeddings
        if idx.size == 0:
            return idx.astype(np.int64)  # np.array([]) is float64: an empty list of indices
        if idx.dtype.kind not in "iu":
            flat = idx.reshape(-1)
            odd = np.flatnonzero(flat != np.round(flat)) if idx.dtype.kind == "f" else [0]
            first = tuple(int(i) for i in np.unravel_index(odd[0] if len(odd) else 0, idx.shape))
            raise tg.DTypeError(
                f"{where}: indices must be integers in 0..{V - 1} (V = {V}), got dtype {idx.dtype} "
                f"(index {idx[first].item()!r} at position {first}); convert with indices.astype(int)"
            )
        bad = (idx < 0) | (idx >= V)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise tg.ShapeError(
                f"{where}: index {int(idx[first])} at position {first} is out of range for "
                f"V = {V} (valid: 0..{V - 1}; negative indices are not wrapped around)"
            )
        return idx

    def named_parameters(self) -> dict[str, tg.Tensor]:
        """{W's name: W} ("W_emb" by default)."""
        return {self.W.name: self.W}

    def parameters(self) -> list[tg.Tensor]:
        """[W]."""
        return [self.W]

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"
