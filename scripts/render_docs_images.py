"""Render the pictures of docs/rendering.md, and time the backward view for T = 4 ... 128.

    .venv/bin/python scripts/render_docs_images.py            # images into docs/images
    .venv/bin/python scripts/render_docs_images.py --bench    # also the timing table

The network is the 2-layer Elman RNN of tests/render_graphs.py (built from engine ops the way
the rnn package builds it). Images are PNG (for the docs) and SVG (to zoom into).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import tinygraph as tg  # noqa: E402
from render_graphs import build_rnn_loss  # noqa: E402

from tinygraph.render.drawing import pipe_with_timeout  # noqa: E402

PICTURES = [
    ("bptt_forward", 4, 0.5, "forward", {}),
    ("bptt_backward", 4, 0.5, "backward", {}),
    ("bptt_both", 4, 0.5, "both", {}),
    ("bptt_grad_norm", 8, 0.25, "backward", {"color_by": "grad_norm", "loss_at": "last"}),
    ("bptt_rolled", 4, 0.5, "rolled", {}),
    ("bptt_folded", 24, 0.5, "backward", {"max_steps": 4}),
]


def render_images(out_dir: Path) -> None:
    """Write every picture of PICTURES as PNG and SVG into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, steps, scale, view, options in PICTURES:
        options = dict(options)
        loss, _ = build_rnn_loss(steps, 2, w_scale=scale, loss_at=options.pop("loss_at", "all"))
        for fmt in ("png", "svg"):
            path = tg.render(loss, out_dir / name, format=fmt, view=view, **options)
            print(f"wrote {path}")


def bench(lengths: tuple[int, ...] = (4, 8, 16, 32, 64, 128)) -> None:
    """Seconds to build the DOT text and to run Graphviz, backward view to SVG, 2 layers."""
    print(f"{'T':>5} {'nodes':>6} {'to_dot s':>9} {'svg s':>7} {'total s':>8}")
    for steps in lengths:
        loss, _ = build_rnn_loss(steps, 2)
        start = time.perf_counter()
        text = tg.to_dot(loss, "backward")
        middle = time.perf_counter()
        pipe_with_timeout(text, "svg")
        end = time.perf_counter()
        nodes = sum(1 for line in text.splitlines() if "pos=" in line)
        print(f"{steps:>5} {nodes:>6} {middle - start:>9.2f} {end - middle:>7.2f} "
              f"{end - start:>8.2f}")


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--bench", action="store_true", help="also time T = 4 ... 128")
    args = parser.parse_args()
    render_images(args.out)
    if args.bench:
        bench()


if __name__ == "__main__":
    main()
