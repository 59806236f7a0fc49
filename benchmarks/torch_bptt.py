"""The same Elman RNN in PyTorch (optional): an eager Python time loop, and torch.nn.RNN.

All apply the readout once to the stacked hidden states, as the tinygraph model does; the
hoisted loop also projects the inputs once, time-major, as ``rnn.RNN(hoist_inputs=True)`` does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Params = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def make_torch_runners(X: np.ndarray, Y: np.ndarray, params: Params) -> dict[str, Callable]:
    """Runners returning (loss, [dW_xh, dW_hh, db_h, dW_hy, db_y]), or {} without torch."""
    try:
        import torch
    except ImportError:
        return {}
    torch.set_num_threads(1)
    x = torch.tensor(X)
    y = torch.tensor(Y)
    B, T, D = X.shape
    H = params[1].shape[0]
    weights = [torch.tensor(p, requires_grad=True) for p in params]
    cross_entropy = torch.nn.functional.cross_entropy

    def eager() -> tuple[float, list[np.ndarray]]:
        W_xh, W_hh, b_h, W_hy, b_y = weights
        for w in weights:
            w.grad = None
        h = torch.zeros(B, H, dtype=torch.float64)
        hs = []
        for t in range(T):
            h = torch.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)
            hs.append(h)
        logits = torch.stack(hs, dim=1).reshape(B * T, H) @ W_hy + b_y
        loss = cross_entropy(logits, y.reshape(-1), reduction="sum")
        loss.backward()
        return loss.item(), [w.grad.numpy() for w in weights]

    x_time_major = x.transpose(0, 1).contiguous().reshape(T * B, D)
    y_time_major = y.T.contiguous().reshape(-1)

    def eager_hoisted() -> tuple[float, list[np.ndarray]]:
        """The loop with x_t W_xh + b_h done for all steps first, time-major, as tinygraph's
        hoisted variant does."""
        W_xh, W_hh, b_h, W_hy, b_y = weights
        for w in weights:
            w.grad = None
        projected = (x_time_major @ W_xh + b_h).reshape(T, B, H).unbind(0)  # one node for T
        h = torch.zeros(B, H, dtype=torch.float64)
        hs = []
        for p_t in projected:
            h = torch.tanh(p_t + h @ W_hh)
            hs.append(h)
        logits = torch.stack(hs).reshape(T * B, H) @ W_hy + b_y
        loss = cross_entropy(logits, y_time_major, reduction="sum")
        loss.backward()
        return loss.item(), [w.grad.numpy() for w in weights]

    rnn = torch.nn.RNN(D, H, nonlinearity="tanh", batch_first=True).double()
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.tensor(params[0].T))
        rnn.weight_hh_l0.copy_(torch.tensor(params[1].T))
        rnn.bias_ih_l0.copy_(torch.tensor(params[2]))
        rnn.bias_hh_l0.zero_()
    W_hy, b_y = weights[3], weights[4]

    def module() -> tuple[float, list[np.ndarray]]:
        rnn.zero_grad()
        W_hy.grad = b_y.grad = None
        out, _ = rnn(x)
        logits = out.reshape(B * T, H) @ W_hy + b_y
        loss = cross_entropy(logits, y.reshape(-1), reduction="sum")
        loss.backward()
        grads = [rnn.weight_ih_l0.grad.T.numpy(), rnn.weight_hh_l0.grad.T.numpy(),
                 rnn.bias_ih_l0.grad.numpy(), W_hy.grad.numpy(), b_y.grad.numpy()]
        return loss.item(), grads

    return {"torch eager loop": eager, "torch eager (hoisted)": eager_hoisted, "torch.nn.RNN": module}
