"""Unrolled Elman networks built from engine ops, shaped the way the rnn package builds them."""

from __future__ import annotations

import numpy as np

import tinygraph as tg


def build_rnn_loss(T: int = 4, L: int = 2, *, D: int = 3, H: int = 4, V: int = 3, B: int = 2,
                   seed: int = 0, w_scale: float = 0.5,
                   loss_at: str = "all") -> tuple[tg.Tensor, dict[str, tg.Tensor]]:
    """loss = Σ_t cross_entropy(h_t^(L-1) W_hy + b_y, y_t) with h_t^l = tanh(x W_xh + h W_hh + b).

    ``loss_at="last"`` reads out only the last step (many-to-one: gradients must travel back
    through every step, so they fade or grow visibly). Returns the loss and the parameters by
    name ("layer0.W_xh", ..., "W_hy", "b_y").
    """
    rng = np.random.default_rng(seed)
    params: dict[str, tg.Tensor] = {}
    for layer in range(L):
        d_in = D if layer == 0 else H
        params[f"layer{layer}.W_xh"] = tg.Tensor(rng.normal(0, w_scale, (d_in, H)), True,
                                                 f"layer{layer}.W_xh")
        params[f"layer{layer}.W_hh"] = tg.Tensor(rng.normal(0, w_scale, (H, H)), True,
                                                 f"layer{layer}.W_hh")
        params[f"layer{layer}.b_h"] = tg.Tensor(np.zeros(H), True, f"layer{layer}.b_h")
    params["W_hy"] = tg.Tensor(rng.normal(0, w_scale, (H, V)), True, "W_hy")
    params["b_y"] = tg.Tensor(np.zeros(V), True, "b_y")
    hs = [tg.Tensor(np.zeros((B, H)), name="h0") for _ in range(L)]
    losses = []
    for t in range(T):
        x_in = tg.Tensor(rng.normal(size=(B, D)), name="x")
        for layer in range(L):
            W_xh, W_hh, b_h = (params[f"layer{layer}.{k}"] for k in ("W_xh", "W_hh", "b_h"))
            with tg.scope(t=t, layer=layer):
                h = tg.tanh(x_in @ W_xh + hs[layer] @ W_hh + b_h)
            h.name = "h"
            hs[layer] = h
            x_in = h
        if loss_at == "last" and t < T - 1:
            continue
        with tg.scope(t=t):
            logits = x_in @ params["W_hy"] + params["b_y"]
            logits.name = "logits"
            loss_t = tg.cross_entropy(logits, rng.integers(0, V, size=B))
            loss_t.name = "L"
        losses.append(loss_t)
    loss = sum(losses)
    loss.name = "L"
    return loss, params


def stack_4_20_64(layer_tags: bool = False) -> tuple[tg.Tensor, list[tg.Tensor]]:
    """The two-layer stack of the seeds, written with tg ops (no rnn): RecurrentLayer(2→2, all
    weights 1, no activation), ReLU, RecurrentLayer(2→1, all weights 1), h_t = x_t W + b +
    h_(t−1) V, on [1, 1], [2, 2], [3, 3]: the top layer outputs 4, 20, 64. Only ``t`` scopes
    unless ``layer_tags``. Returns (Σ_t of the top outputs, the top outputs)."""
    W1 = tg.Tensor(np.ones((2, 2)), True, "W")
    V1 = tg.Tensor(np.ones((2, 2)), True, "V")
    b1 = tg.Tensor(np.zeros(2), True, "b")
    W2 = tg.Tensor(np.ones((2, 1)), True, "W'")
    V2 = tg.Tensor(np.ones((1, 1)), True, "V'")
    b2 = tg.Tensor(np.zeros(1), True, "b'")
    h1 = tg.Tensor(np.zeros((1, 2)), name="h0")
    h2 = tg.Tensor(np.zeros((1, 1)), name="g0")
    outs = []
    for t, value in enumerate((1.0, 2.0, 3.0)):
        x = tg.Tensor(np.full((1, 2), value), name="x")
        with tg.scope(t=t, **({"layer": 0} if layer_tags else {})):
            h1 = x @ W1 + b1 + h1 @ V1
            h1.name = "h"
        with tg.scope(t=t, **({"layer": 1} if layer_tags else {})):
            h2 = tg.relu(h1) @ W2 + b2 + h2 @ V2
            h2.name = "g"
        outs.append(h2)
    total = sum(outs)
    total.name = "S"
    return total, outs
