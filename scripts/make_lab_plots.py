"""Write the gradient-flow lab's figures: docs/images/lab_*.png (needs `pip install tinygraph[plot]`).

Also draws a three-step LSTM's backward graph (lab_lstm_graph.png) when Graphviz is installed.

Usage: python scripts/make_lab_plots.py [--out docs/images] [--format png --format svg]
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import rnn
import tinygraph as tg
from figure_options import parse_figure_options
from rnn.plots import write_lab_plots


def write_lstm_graph(out_dir: str, fmt: str) -> Path | None:
    """The backward graph of Σ h_2 for an LSTM (D = 2, H = 3, T = 3); None without Graphviz."""
    net = rnn.RNN(cell=rnn.LSTMCell(2, 3, rng=0))
    hs, _ = net(np.ones((1, 3, 2)))
    try:
        return tg.render(hs[-1].sum(), Path(out_dir) / "lab_lstm_graph", format=fmt, view="backward")
    except tg.RenderError as exc:
        print(f"skipped the LSTM graph: {exc}")
        return None


def main(argv: list[str] | None = None) -> None:
    """Parse the options, compute the numbers, save the figures and list the files written."""
    out, formats = parse_figure_options(__doc__.splitlines()[0], argv)
    for path in write_lab_plots(str(out), formats):
        print(path)
    for fmt in formats:
        graph = write_lstm_graph(str(out), fmt)
        if graph is not None:
            print(graph)


if __name__ == "__main__":
    main()
