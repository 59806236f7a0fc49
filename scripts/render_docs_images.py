"""Render the pictures of docs/rendering.md (and the README's), and time the backward view.

    .venv/bin/python scripts/render_docs_images.py            # images into docs/images
    .venv/bin/python scripts/render_docs_images.py --bench    # also the timing table

The pictures are the 2-layer Elman RNN of docs/rendering.md's code (rnn.RNN and rnn.Linear,
so the tensors carry rnn's names), and an LSTM, a GRU and a bidirectional layer built the
same way. Images are PNG (for the docs) and SVG (to zoom into). The timing table is
benchmarks/render.py's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import tinygraph as tg  # noqa: E402
import numpy as np  # noqa: E402

import rnn  # noqa: E402

sys.path.insert(0, str(ROOT / "benchmarks"))
from render import main as bench_main  # noqa: E402

PICTURES = [
    ("bptt_forward", 4, 1.0, "forward", {}),
    ("bptt_backward", 4, 1.0, "backward", {}),
    ("bptt_both", 4, 1.0, "both", {}),
    ("bptt_grad_norm", 8, 0.5, "backward", {"color_by": "grad_norm", "loss_at": "last"}),
    ("bptt_rolled", 4, 1.0, "rolled", {}),
    ("bptt_folded", 24, 1.0, "backward", {"max_steps": 4}),
    ("bptt_step", 4, 1.0, "step", {"t": 2}),
]


def elman_loss(steps: int, scale: float = 1.0, loss_at: str = "all") -> tg.Tensor:
    """The network of docs/rendering.md over ``steps`` steps: its weights times ``scale``; the
    loss at every step, or (``loss_at="last"``) only at the last one (many-to-one)."""
    net, readout = rnn.RNN(input_size=3, hidden_size=4, num_layers=2, rng=0), rnn.Linear(4, 3, rng=1)
    for p in net.parameters():
        p.data *= scale
    rng = np.random.default_rng(2)
    hs, _ = net(rng.standard_normal((2, steps, 3)))
    targets = rng.integers(0, 3, size=(2, steps))
    if loss_at == "last":
        return rnn.last_step_cross_entropy(readout(hs[-1]), targets[:, -1])
    return rnn.sequence_cross_entropy([readout(h) for h in hs], targets)


def rnn_loss(cell: object = None, bidirectional: bool = False) -> tg.Tensor:
    """Σ_t cross-entropy of a readout of an rnn.RNN over 3 steps (an LSTM, a GRU, or a
    bidirectional Elman layer)."""
    net = (rnn.RNN(cell=cell) if cell is not None
           else rnn.RNN(3, 4, bidirectional=bidirectional, rng=0))
    width = 8 if bidirectional else 4
    readout = rnn.Linear(width, 3, rng=1)
    hs, _ = net(np.random.default_rng(2).standard_normal((2, 3, 3)))
    return rnn.sequence_cross_entropy([readout(h) for h in hs], [[0, 1, 2], [2, 1, 0]])


CELLS = [
    ("bptt_lstm", lambda: rnn_loss(rnn.LSTMCell(3, 4, rng=0))),
    ("bptt_gru", lambda: rnn_loss(rnn.GRUCell(3, 4, rng=0))),
    ("bptt_bidirectional", lambda: rnn_loss(bidirectional=True)),
]


def render_images(out_dir: Path) -> None:
    """Write every picture of PICTURES and CELLS as PNG and SVG into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, steps, scale, view, options in PICTURES:
        options = dict(options)
        loss = elman_loss(steps, scale, options.pop("loss_at", "all"))
        for fmt in ("png", "svg"):
            path = tg.render(loss, out_dir / name, format=fmt, view=view, **options)
            print(f"wrote {path}")
    for name, make in CELLS:
        loss = make()
        for fmt in ("png", "svg"):
            print(f"wrote {tg.render(loss, out_dir / name, format=fmt, view='backward')}")


def main() -> None:
    """Parse the command line and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--bench", action="store_true", help="also time T = 4 ... 128")
    args = parser.parse_args()
    render_images(args.out)
    if args.bench:
        sys.argv = [sys.argv[0], "--quick"]
        bench_main()


if __name__ == "__main__":
    main()
