"""What noticing in-place writes costs: the backward pass of the benchmark's model, as usual and
with every node's saved arrays checked against their write stamps (tinygraph/versions.py).

The check runs only when some array was written through ``.data`` after the oldest node of the
pass was recorded; this script forces that case with a write into an unrelated tensor, so the
second column is the worst case. Run ``python benchmarks/write_stamps.py``; one process, one
BLAS thread, float64, interleaved repeats, the minimum CPU time of each.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import tinygraph as tg  # noqa: E402
from bptt import SIZES, TinygraphModel, make_problem  # noqa: E402


def backward_time(model: TinygraphModel, write: bool, repeats: int) -> float:
    """The least CPU time of ``loss.backward()`` over ``repeats`` fresh graphs; with ``write``,
    an unrelated tensor's data is written after the forward pass, so every node is checked."""
    unrelated = tg.Tensor([0.0])
    best = float("inf")
    for _ in range(repeats):
        for tensor in model.tensors:
            tensor.grad = None
        with tg.pause_gc():
            loss = model.forward()
            if write:
                unrelated.data[0] = 1.0
            start = time.process_time()
            loss.backward()
            best = min(best, time.process_time() - start)
            del loss
    return best


def main() -> None:
    """Print one row per size: backward without and with the check, and their ratio."""
    print("| size | backward (ms) | backward, every node checked (ms) | ratio |")
    print("|---|--:|--:|--:|")
    for name in ("S1", "S2", "S3", "S4"):
        H, D, V, T, B = SIZES[name]
        model = TinygraphModel(*make_problem(H, D, V, T, B))
        repeats = 40 if T * B < 20_000 else 10
        plain = checked = float("inf")
        for _ in range(3):  # interleaved, so that drift affects both alike
            plain = min(plain, backward_time(model, False, repeats))
            checked = min(checked, backward_time(model, True, repeats))
        print(f"| {name} | {plain * 1e3:.3f} | {checked * 1e3:.3f} | {checked / plain:.3f} |")


if __name__ == "__main__":
    main()
