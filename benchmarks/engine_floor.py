"""What one recorded op costs at the least: the engine's floor, in time and in memory.

Time: a chain of 20,000 applications of an op whose forward returns its input and whose
backward returns its gradient, so numpy does no work; what is left is the engine's bookkeeping
per node (make the op, run forward, record the Tensor and the Node, sort, run backward).

Memory: the bytes that every step of benchmarks/chain_memory.py's chain h_t = tanh(h_(t−1) W +
x_t) must hold while its graph is alive, counted with sys.getsizeof on a real graph: the edge
arrays (every edge's ``.data`` stays readable, so none can be dropped), one Tensor per edge and
one Node per op. The op objects, tuples and weak references are left out.

``python benchmarks/engine_floor.py`` prints both.
"""

from __future__ import annotations

import sys
import time

import numpy as np

import tinygraph as tg
from tinygraph.backward import make_seed, reverse_topological, run_backward
from tinygraph.performance import pause_gc


class PassThrough(tg.Op):
    """y = x;  dx = dy. No numpy work: only the engine's cost is left."""

    __slots__ = ()
    keeps_inputs = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad,)


def time_floor(nodes: int = 20_000, repeats: int = 5) -> dict[str, float]:
    """Best µs per node for recording (forward), sorting and the backward sweep."""
    best = {"forward": float("inf"), "sort": float("inf"), "backward": float("inf")}
    x = tg.Tensor(np.zeros(3), requires_grad=True)
    for _ in range(repeats):
        with pause_gc():
            start = time.perf_counter()
            y = x
            for _ in range(nodes):
                y = PassThrough()(y)
            recorded = time.perf_counter()
            order = reverse_topological(y)
            sorted_at = time.perf_counter()
            run_backward(y, make_seed(y, np.ones(3)), nodes=order)
            end = time.perf_counter()
        for key, seconds in (("forward", recorded - start), ("sort", sorted_at - recorded),
                             ("backward", end - sorted_at)):
            best[key] = min(best[key], seconds / nodes * 1e6)
        del y, order
    best["total"] = best["forward"] + best["sort"] + best["backward"]
    return best


def memory_floor(hidden: int = 16) -> dict[str, int]:
    """Bytes per step that the chain's edges and nodes hold (sys.getsizeof, one step)."""
    W = tg.Tensor(np.zeros((hidden, hidden)), requires_grad=True)
    h = tg.Tensor(np.zeros((1, hidden)))
    x_t = np.zeros((4, 1, hidden))[1]  # a row of a (T, 1, H) array, as in the chain
    h = tg.tanh(h @ W + x_t)
    pre = h.producer.inputs[0]
    product, x_edge = pre.producer.inputs
    edges = [h, pre, product, x_edge]  # tanh, add and matmul outputs, and x_t as a Tensor
    nodes = [e.producer for e in edges[:3]]
    arrays = sum(sys.getsizeof(e.data) for e in edges)
    return {"arrays": arrays, "tensors": sum(sys.getsizeof(e) for e in edges),
            "nodes": sum(sys.getsizeof(n) for n in nodes)}


if __name__ == "__main__":
    print(time_floor())
    print(memory_floor())
