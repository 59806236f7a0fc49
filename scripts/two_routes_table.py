"""Measure BPTT against RTRL (time and peak memory) for docs/09_two_routes.md; write its table.

Both compute the same gradient of Σ_t L_t for one Elman layer (tanh, B = 4, D = 4) with a
softmax readout of V = 4 classes: BPTT records the unrolled graph and runs ``backward()``;
RTRL (``rnn.rtrl``) carries the influence matrix forward. Time is the best of ``--repeat``
runs; memory is the peak of Python's allocations during one run (``tracemalloc``, which sees
numpy's arrays), so it counts the graph (BPTT) or the influence matrices (RTRL), not the
interpreter. The table replaces the text between ``<!-- two-routes:begin -->`` and
``<!-- two-routes:end -->`` in the doc.

    .venv/bin/python scripts/two_routes_table.py            # measure and rewrite the doc
    .venv/bin/python scripts/two_routes_table.py --print    # only print the table
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np

import rnn
import tinygraph as tg

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "09_two_routes.md"
BEGIN, END = "<!-- two-routes:begin -->", "<!-- two-routes:end -->"
B, D, V = 4, 4, 4
ROWS = [(8, 200), (16, 200), (32, 200), (64, 200),  # H grows at T = 200
        (16, 50), (16, 800), (16, 3200)]  # T grows at H = 16


Problem = tuple[rnn.RNN, np.ndarray, Callable[[int, tg.Tensor], tg.Tensor]]


def problem(H: int, T: int) -> Problem:
    """The network, the inputs (B, T, D) and the per-step loss (a readout, random targets)."""
    net = rnn.RNN(D, H, rng=0)
    readout = rnn.Linear(H, V, rng=1)
    data = np.random.default_rng(2)
    xs = data.standard_normal((B, T, D))
    ys = data.integers(0, V, size=(B, T))
    return net, xs, lambda t, h: tg.cross_entropy(readout(h), ys[:, t])


def bptt(net: rnn.RNN, xs: np.ndarray, step_loss: Callable[[int, tg.Tensor], tg.Tensor]) -> None:
    """Record the unrolled graph, then one backward pass."""
    hs, _ = net(xs)
    total = sum((step_loss(t, h) for t, h in enumerate(hs)), tg.Tensor(0.0))
    total.backward()


def rtrl(net: rnn.RNN, xs: np.ndarray, step_loss: Callable[[int, tg.Tensor], tg.Tensor]) -> None:
    """Carry the influence matrix forward, step by step."""
    rnn.rtrl(net, xs, step_loss)


def measure(run: Callable[..., None], H: int, T: int, repeat: int) -> tuple[float, float]:
    """(best time in seconds, peak memory in MB) of ``run`` on a fresh problem (H, T); the
    problem's own arrays are made before the memory is traced."""
    times = []
    for _ in range(repeat):
        given = problem(H, T)
        start = time.perf_counter()
        run(*given)
        times.append(time.perf_counter() - start)
    given = problem(H, T)
    tracemalloc.start()
    run(*given)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return min(times), peak / 1e6


def table(repeat: int) -> str:
    """The markdown table: one row per (H, T), BPTT and RTRL side by side."""
    lines = ["| H | T | BPTT time | RTRL time | BPTT memory | RTRL memory | faster | smaller |",
             "|---:|---:|---:|---:|---:|---:|---|---|"]
    for H, T in ROWS:
        tb, mb = measure(bptt, H, T, repeat)
        tr, mr = measure(rtrl, H, T, repeat)
        lines.append(f"| {H} | {T} | {tb * 1e3:.0f} ms | {tr * 1e3:.0f} ms | {mb:.2f} MB | "
                     f"{mr:.2f} MB | {'BPTT' if tb < tr else 'RTRL'} | "
                     f"{'BPTT' if mb < mr else 'RTRL'} |")
    machine = f"{platform.python_implementation()} {platform.python_version()}, numpy {np.__version__}"
    lines += ["", f"B = {B}, D = {D}, V = {V}, one tanh layer; best of {repeat} runs on "
              f"{machine}, one BLAS thread; memory: the peak of tracemalloc during one run (the "
              "inputs are made before it starts)."]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, leave the doc")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    args = parser.parse_args()
    text = table(args.repeat)
    print(text)
    if args.print:
        return
    doc = DOC.read_text(encoding="utf-8")
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{text}\n{END}{tail}", encoding="utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
