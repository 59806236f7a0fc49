"""A hand-written numpy BPTT for a stacked Elman RNN with a softmax readout: the test oracle.

Nothing here uses tinygraph. Textbook equations (row vectors, batch first):

    a^l_t = h^(l−1)_t W^l_xh + h^l_(t−1) W^l_hh + b^l_h,   h^l_t = f_l(a^l_t),   h^(−1)_t = x_t
    o_t = h^L_t W_hy + b_y,   L = −Σ_t Σ_b log softmax(o_t)[b, y_t[b]]   (many-to-many)
                              L = −Σ_b log softmax(o_(T−1))[b, y[b]]      (many-to-one)

Backward, for t = T−1 .. 0 and, inside each t, l = L .. 0:

    δo_t = softmax(o_t) − onehot(y_t);   dW_hy += h^L_tᵀ δo_t;   db_y += Σ_b δo_t
    dh^l_t = (δo_t W_hyᵀ  if l is the top,  else δa^(l+1)_t W^(l+1)_xhᵀ)   (from above, local)
           + δa^l_(t+1) W^l_hhᵀ                                          (from t+1, non-local)
    δa^l_t = dh^l_t ⊙ f_l'(a^l_t)
    dW^l_xh += h^(l−1)_tᵀ δa^l_t;   dW^l_hh += h^l_(t−1)ᵀ δa^l_t;   db^l_h += Σ_b δa^l_t
    dh^l_(−1) = δa^l_0 W^l_hhᵀ   (the gradient of the initial state)

Tests import it as ``import bptt_reference`` (pytest puts tests/ on sys.path).
"""

from __future__ import annotations

import numpy as np

ACTIVATIONS = {
    "tanh": (np.tanh, lambda a, h: 1.0 - h * h),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(float)),
    "sigmoid": (lambda a: 1.0 / (1.0 + np.exp(-a)), lambda a, h: h * (1.0 - h)),
    "identity": (lambda a: a, lambda a, h: np.ones_like(a)),
}


def softmax(o: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row max."""
    e = np.exp(o - o.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def forward(params: dict, xs: np.ndarray, nonlinearities: list[str],
            h0: list[np.ndarray] | None = None) -> dict:
    """Run the stack; returns the inputs, pre-activations and states of every layer and step.

    params holds "layer{k}.W_xh", "layer{k}.W_hh", "layer{k}.b_h" for k = 0..L−1.
    h[k][t + 1] is h^k_t (h[k][0] is the initial state).
    """
    B, T, _ = xs.shape
    L = len(nonlinearities)
    inputs = [[xs[:, t, :] for t in range(T)]]
    a: list[list[np.ndarray]] = []
    h: list[list[np.ndarray]] = []
    for k in range(L):
        W_xh, W_hh, b = (params[f"layer{k}.{n}"] for n in ("W_xh", "W_hh", "b_h"))
        f = ACTIVATIONS[nonlinearities[k]][0]
        start = np.zeros((B, W_hh.shape[0])) if h0 is None else h0[k]
        a.append([])
        h.append([start])
        for t in range(T):
            pre = inputs[k][t] @ W_xh + h[k][t] @ W_hh + b
            a[k].append(pre)
            h[k].append(f(pre))
        inputs.append(h[k][1:])
    return {"inputs": inputs, "a": a, "h": h}


def bptt(params: dict, xs: np.ndarray, targets: np.ndarray, nonlinearities: list[str],
         many_to_one: bool = False, h0: list[np.ndarray] | None = None) -> tuple[float, dict]:
    """The loss and the gradient of every parameter (same keys, plus "h0.layer{k}").

    targets: ints (B, T) for many-to-many, (B,) for many-to-one. params also holds "W_hy", "b_y".
    """
    B, T, _ = xs.shape
    L = len(nonlinearities)
    cache = forward(params, xs, nonlinearities, h0)
    inputs, a, h = cache["inputs"], cache["a"], cache["h"]
    W_hy, b_y = params["W_hy"], params["b_y"]
    grads = {k: np.zeros_like(v) for k, v in params.items()}
    loss = 0.0
    carry = [np.zeros_like(h[k][0]) for k in range(L)]  # δa^l_(t+1) W^l_hhᵀ
    for t in reversed(range(T)):
        from_above = None
        if not many_to_one or t == T - 1:
            y_t = targets if many_to_one else targets[:, t]
            p = softmax(h[L - 1][t + 1] @ W_hy + b_y)
            loss -= np.log(p[np.arange(B), y_t]).sum()
            do = p.copy()
            do[np.arange(B), y_t] -= 1.0
            grads["W_hy"] += h[L - 1][t + 1].T @ do
            grads["b_y"] += do.sum(axis=0)
            from_above = do @ W_hy.T
        for k in reversed(range(L)):
            W_xh, W_hh = params[f"layer{k}.W_xh"], params[f"layer{k}.W_hh"]
            dh = carry[k] if from_above is None else from_above + carry[k]
            da = dh * ACTIVATIONS[nonlinearities[k]][1](a[k][t], h[k][t + 1])
            grads[f"layer{k}.W_xh"] += inputs[k][t].T @ da
            grads[f"layer{k}.W_hh"] += h[k][t].T @ da
            grads[f"layer{k}.b_h"] += da.sum(axis=0)
            carry[k] = da @ W_hh.T
            from_above = da @ W_xh.T
    for k in range(L):
        grads[f"h0.layer{k}"] = carry[k]
    return loss, grads
