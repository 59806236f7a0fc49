"""Memory of a 100,000-step recurrence h_t = tanh(h_(t−1) W + x_t), H = 16, B = 1, run alone.

``python benchmarks/chain_memory.py tinygraph|numpy|torch [steps]`` prints one JSON line: the
growth of the resident set (MB) after recording the forward pass and at its peak, measured from
the process's state just before the loop. numpy keeps only what its hand-written BPTT needs
(every h_t); the autodiff engines keep their graph.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def run(kind: str, steps: int, hidden: int = 16) -> dict[str, float]:
    """Build the chain with ``kind`` and back-propagate ∂(Σ h_T)/∂W; return RSS growth in MB."""
    rng = np.random.default_rng(0)
    W0 = rng.standard_normal((hidden, hidden)) * 0.3
    X = rng.standard_normal((steps, 1, hidden))
    if kind == "tinygraph":
        import tinygraph as tg

        base = _status("VmRSS")
        W = tg.Tensor(W0, requires_grad=True)
        h = tg.Tensor(np.zeros((1, hidden)))
        for t in range(steps):
            h = tg.tanh(h @ W + X[t])
        graph = _status("VmRSS") - base
        h.sum().backward()
    elif kind == "torch":
        import torch

        torch.set_num_threads(1)
        xt = torch.tensor(X)
        base = _status("VmRSS")
        W = torch.tensor(W0, requires_grad=True)
        h = torch.zeros(1, hidden, dtype=torch.float64)
        for t in range(steps):
            h = torch.tanh(h @ W + xt[t])
        graph = _status("VmRSS") - base
        h.sum().backward()
    else:
        base = _status("VmRSS")
        hs = [np.zeros((1, hidden))]
        for t in range(steps):
            hs.append(np.tanh(hs[-1] @ W0 + X[t]))
        graph = _status("VmRSS") - base
        dW = np.zeros_like(W0)
        dh = np.ones((1, hidden))
        for t in reversed(range(steps)):
            da = dh * (1 - hs[t + 1] ** 2)
            dW += hs[t].T @ da
            dh = da @ W0.T
    return {"graph_mb": round(graph, 1), "peak_mb": round(_status("VmHWM") - base, 1)}


if __name__ == "__main__":
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    print(json.dumps(run(sys.argv[1], steps)))
