"""``tinygraph vanish``: the gradient-flow lab (:mod:`rnn.analysis`, :mod:`rnn.plots`) from the shell.

For an Elman cell with W_hh = ρ Q (Q orthogonal, so every singular value is ρ), the gradient
of L = Σ h_T reaches h_(T−k) as ∂L/∂h_(T−k) = ∂L/∂h_T · Π_s diag(f'(a_s)) W_hhᵀ: about ρ^k
times the product of the activation's slopes. The table prints ||∂L/∂h_(T−k)|| for a few lags
k and radii ρ (``rnn.analysis.spectral_radius_sweep``); ``--plots DIR`` writes the lab's
figures (``rnn.plots.write_lab_plots``, needs matplotlib).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

import tinygraph as tg
from rnn import analysis
from rnn.cell import NONLINEARITIES
from rnn.commands.options import positive_int

EXAMPLES = """examples:
  tinygraph vanish                              tanh, T=40, radii 0.5 0.9 1.0 1.1 1.5
  tinygraph vanish --nonlinearity identity      pure rho^k: vanishing below 1, exploding above
  tinygraph vanish --radii 0.8 1.2 --steps 60 --hidden 16
  tinygraph vanish --plots out/lab              the lab's figures as PNG (needs matplotlib)"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``vanish``."""
    parser = sub.add_parser(
        "vanish", help="gradient norm by lag for several spectral radii of W_hh (and plots)",
        description="Measure ||dL/dh_(T-k)|| (L = sum of h_T) for Elman cells whose W_hh has "
                    "spectral radius rho, and print it by lag k: below rho = 1 the gradient "
                    "vanishes geometrically, above it can explode (tanh's slope < 1 damps it). "
                    "With --plots, also write the gradient-flow lab's figures.",
        epilog=EXAMPLES)
    parser.add_argument("--radii", type=float, nargs="+", default=[0.5, 0.9, 1.0, 1.1, 1.5],
                        metavar="RHO", help="spectral radii of W_hh (default 0.5 0.9 1.0 1.1 1.5)")
    parser.add_argument("--nonlinearity", choices=tuple(NONLINEARITIES), default="tanh",
                        help="activation f (default tanh)")
    parser.add_argument("--steps", "-T", type=positive_int, default=40, help="sequence length (40)")
    parser.add_argument("--hidden", "-H", type=positive_int, default=16, help="hidden size (16)")
    parser.add_argument("--seed", type=int, default=0, help="seed (0)")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write the lab's figures (impulse, lag profile, sweep, cells, "
                             "clipping) into DIR; needs matplotlib (pip install tinygraph[plot])")
    parser.add_argument("--plot-format", choices=("png", "svg", "pdf"), default="png",
                        help="format of the figures (default png)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the table of gradient norms by lag; write the figures when asked."""
    if any(r <= 0 for r in args.radii):
        raise tg.TinygraphError(f"vanish: every radius must be > 0, got {args.radii}")
    sweep = analysis.spectral_radius_sweep(args.radii, (args.nonlinearity,), steps=args.steps,
                                           hidden_size=args.hidden, seed=args.seed)
    print(f"tinygraph vanish: ||dL/dh_(T-k)||, L = sum(h_T), {args.nonlinearity} Elman cell, "
          f"H={args.hidden}, T={args.steps}, W_hh = rho * orthogonal\n")
    print(format_table(args.radii, list(sweep.norms[0])))
    print("\nrho < 1: the gradient vanishes about like rho^k; rho > 1: it grows unless the "
          "activation's slope (tanh' <= 1) damps it.")
    if args.plots:
        for path in write_plots(Path(args.plots), args.plot_format):
            print(f"wrote {path}")
    return 0


def write_plots(out: Path, fmt: str) -> list[Path]:
    """``rnn.plots.write_lab_plots`` into ``out``; a TinygraphError when matplotlib is missing."""
    try:
        from rnn import plots
        return plots.write_lab_plots(out, formats=(fmt,))
    except ImportError as exc:
        raise tg.TinygraphError(f"vanish --plots: {exc}") from None


def lags_to_show(steps: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, ... up to T − 1."""
    lags = [k for k in (0, 1, 2, 5, 10, 20, 30, 50, 100, 200, 500) if k < steps]
    return lags if lags[-1] == steps - 1 else [*lags, steps - 1]


def format_table(radii: list[float], norms: list[np.ndarray]) -> str:
    """Rows: lag k; columns: ρ; cells: the norm in scientific notation."""
    head = ["lag k"] + [f"rho={r:g}" for r in radii]
    rows = [[str(k)] + [f"{n[k]:.3e}" for n in norms] for k in lags_to_show(len(norms[0]))]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *rows])
