"""Hand-written numpy BPTT of an Elman RNN with a softmax readout: the speed baseline.

Forward, for t = 0..T−1 (row vectors, batch first, h_(−1) = 0):
    a_t = x_t W_xh + h_(t−1) W_hh + b_h,   h_t = tanh(a_t),
    o_t = h_t W_hy + b_y,                  L = Σ_t Σ_b −log softmax(o_t[b])[y_t[b]].
Backward (the textbook equations):
    do_t = softmax(o_t) − onehot(y_t);     dW_hy += h_tᵀ do_t;  db_y += Σ_b do_t
    dh_t = do_t W_hyᵀ + dh_next;           da_t = dh_t ⊙ (1 − h_t²)
    dW_xh += x_tᵀ da_t;  dW_hh += h_(t−1)ᵀ da_t;  db_h += Σ_b da_t;  dh_next = da_t W_hhᵀ.
"""

from __future__ import annotations

import numpy as np

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def bptt_plain(X: np.ndarray, Y: np.ndarray, params: Params) -> tuple[float, list[np.ndarray]]:
    """Loss and gradients (W_xh, W_hh, b_h, W_hy, b_y), every projection inside the time loop."""
    W_xh, W_hh, b_h, W_hy, b_y = params
    B, T, _ = X.shape
    rows = np.arange(B)
    hs = [np.zeros((B, W_hh.shape[0]))]
    probs = []
    loss = 0.0
    for t in range(T):
        h = np.tanh(X[:, t] @ W_xh + hs[-1] @ W_hh + b_h)
        hs.append(h)
        o = h @ W_hy + b_y
        o -= o.max(axis=1, keepdims=True)
        p = np.exp(o)
        p /= p.sum(axis=1, keepdims=True)
        probs.append(p)
        loss -= np.log(p[rows, Y[:, t]]).sum()
    grads = [np.zeros_like(w) for w in params]
    dW_xh, dW_hh, db_h, dW_hy, db_y = grads
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(T)):
        do = probs[t]
        do[rows, Y[:, t]] -= 1.0
        dW_hy += hs[t + 1].T @ do
        db_y += do.sum(axis=0)
        da = (do @ W_hy.T + dh_next) * (1.0 - hs[t + 1] ** 2)
        dW_xh += X[:, t].T @ da
        dW_hh += hs[t].T @ da
        db_h += da.sum(axis=0)
        dh_next = da @ W_hh.T
    return float(loss), grads


def bptt_hoisted(
    X: np.ndarray, Y: np.ndarray, params: Params, time_major: bool = False
) -> tuple[float, list[np.ndarray]]:
    """The same loss and gradients with the input and output projections done once for all t.

    ``time_major=True`` first lays the inputs out as (T, B, D), so that every per-step slice
    (x_t W_xh, h_t, dh_t) is one contiguous block rather than a strided column of a (B, T, ·)
    array; numpy adds contiguous blocks faster.
    """
    W_xh, W_hh, b_h, W_hy, b_y = params
    B, T, D = X.shape
    H = W_hh.shape[0]
    if time_major:
        X, Y = np.ascontiguousarray(X.transpose(1, 0, 2)), np.ascontiguousarray(Y.T)
    lead = X.shape[:2]  # (B, T), or (T, B) when time-major
    at = [(t,) if time_major else (slice(None), t) for t in range(T)]
    XW = (X.reshape(B * T, D) @ W_xh + b_h).reshape(*lead, H)
    Hs = np.empty((*lead, H))
    h = np.zeros((B, H))
    for t in range(T):
        h = np.tanh(XW[at[t]] + h @ W_hh)
        Hs[at[t]] = h
    logits = Hs.reshape(B * T, H) @ W_hy + b_y
    logits -= logits.max(axis=1, keepdims=True)
    P = np.exp(logits)
    P /= P.sum(axis=1, keepdims=True)
    flat_targets = Y.reshape(-1)
    every = np.arange(B * T)
    loss = -np.log(P[every, flat_targets]).sum()
    P[every, flat_targets] -= 1.0
    dW_hy = Hs.reshape(B * T, H).T @ P
    db_y = P.sum(axis=0)
    dH = (P @ W_hy.T).reshape(*lead, H)
    dA = np.empty_like(Hs)
    dh_next = np.zeros((B, H))
    for t in reversed(range(T)):
        h_t = Hs[at[t]]
        da = (dH[at[t]] + dh_next) * (1.0 - h_t * h_t)
        dA[at[t]] = da
        dh_next = da @ W_hh.T
    H_prev = np.zeros_like(Hs)  # h_(t−1), with h_(−1) = 0
    if time_major:
        H_prev[1:] = Hs[:-1]
    else:
        H_prev[:, 1:] = Hs[:, :-1]
    dW_hh = H_prev.reshape(B * T, H).T @ dA.reshape(B * T, H)
    dW_xh = X.reshape(B * T, D).T @ dA.reshape(B * T, H)
    db_h = dA.sum(axis=(0, 1))
    return float(loss), [dW_xh, dW_hh, db_h, dW_hy, db_y]
