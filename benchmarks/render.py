"""Render time of the BPTT pictures: layout, routing and labels (to_dot) and Graphviz (SVG).

Run ``python benchmarks/render.py`` (``--quick`` for one repeat). The network is the 2-layer
Elman RNN of tests/render_graphs.py (4 steps of it are the docs' pictures); every row is the
median of the repeats, in seconds, for the backward view (forward and gradient edges, the
heaviest picture). "full" draws every step; "notebook" is what ``tg.draw`` does by default
(``width=1000``, the middle steps folded past ``max_steps=8``). The issue's bounds: a full
T = 32 picture under 2 s, a full T = 128 picture under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "tests"))

import tinygraph as tg  # noqa: E402
from render_graphs import build_rnn_loss  # noqa: E402

from tinygraph.render.graphviz_run import pipe_with_timeout  # noqa: E402

LENGTHS = (4, 32, 128)
MODES = {"full": {}, "notebook": {"width": 1000, "max_steps": 8}}


def measure(steps: int, options: dict, repeats: int) -> tuple[int, float, float]:
    """(boxes drawn, median seconds of to_dot, median seconds of Graphviz to SVG)."""
    loss, _ = build_rnn_loss(steps, 2)
    layout, graphviz = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        text = tg.to_dot(loss, "backward", max_nodes=None, **options)
        middle = time.perf_counter()
        pipe_with_timeout(text, "svg", timeout=120)
        layout.append(middle - start)
        graphviz.append(time.perf_counter() - middle)
    boxes = text.count('!"')
    return boxes, statistics.median(layout), statistics.median(graphviz)


def main() -> None:
    """Print one row per length and mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat instead of three")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    print(f"{'T':>5} {'mode':>9} {'boxes':>6} {'to_dot s':>9} {'svg s':>7} {'total s':>8}")
    for steps in LENGTHS:
        for mode, options in MODES.items():
            boxes, layout, graphviz = measure(steps, options, repeats)
            print(f"{steps:>5} {mode:>9} {boxes:>6} {layout:>9.2f} {graphviz:>7.2f} "
                  f"{layout + graphviz:>8.2f}")


if __name__ == "__main__":
    main()
