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

from rnn import analysis, plots
from rnn.cell import NONLINEARITIES
from rnn.cli import limits
from rnn.cli.inputs import check_matplotlib, check_output_dir
from rnn.cli.options import add_seed_option, float_in, int_in
from rnn.cli.usage import UsageError

MAX_RADII = 12
MAX_RADIUS = 100.0

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
    parser.add_argument("--radii", type=float_in(0, MAX_RADIUS), nargs="+",
                        default=[0.5, 0.9, 1.0, 1.1, 1.5], metavar="RHO",
                        help=f"spectral radii of W_hh, each in (0, {MAX_RADIUS:g}], at most "
                             f"{MAX_RADII} of them (default 0.5 0.9 1.0 1.1 1.5)")
    parser.add_argument("--nonlinearity", choices=tuple(NONLINEARITIES), default="tanh",
                        help="activation f (default tanh)")
    parser.add_argument("--steps", "-T", type=int_in(1, limits.MAX_STEPS), default=40,
                        help=f"sequence length, at most {limits.MAX_STEPS:,} (40)")
    parser.add_argument("--hidden", "-H", type=int_in(1, limits.MAX_HIDDEN), default=16,
                        help=f"hidden size, at most {limits.MAX_HIDDEN:,} (16)")
    add_seed_option(parser, "W_hh and the inputs")
    parser.add_argument("--plots", default=None, metavar="DIR",
                        help="write the lab's figures (impulse, lag profile, sweep, cells, "
                             "clipping) into DIR; needs matplotlib (pip install tinygraph[plot])")
    parser.add_argument("--plot-format", choices=("png", "svg", "pdf"), default="png",
                        help="format of the figures (default png)")
    return parser


def validate(args: argparse.Namespace) -> None:
    """The number of radii, the sweep's estimated time, matplotlib and --plots (before work)."""
    if len(args.radii) > MAX_RADII:
        raise UsageError(f"--radii gives {len(args.radii)} radii; the table shows at most "
                         f"{MAX_RADII}")
    seconds = limits.VANISH_COST.seconds(len(args.radii), args.steps, 1, args.hidden, 1)
    limits.check_seconds(seconds, f"{len(args.radii)} radii x T={args.steps:,} steps at "
                         f"H={args.hidden:,}", "use fewer --radii or --steps, or a smaller --hidden")
    if args.plots:
        check_matplotlib("--plots")
        check_output_dir(Path(args.plots), "--plots")


def run(args: argparse.Namespace) -> int:
    """Print the table of gradient norms by lag; write the figures when asked."""
    with np.errstate(over="ignore", invalid="ignore"):
        sweep = analysis.spectral_radius_sweep(args.radii, (args.nonlinearity,), steps=args.steps,
                                               hidden_size=args.hidden, seed=args.seed)
    print(f"tinygraph vanish: ||dL/dh_(T-k)||, L = sum(h_T), {args.nonlinearity} Elman cell, "
          f"H={args.hidden}, T={args.steps}, W_hh = rho * orthogonal\n")
    print(format_table(args.radii, list(sweep.norms[0])))
    print("\nrho < 1: the gradient vanishes about like rho^k; rho > 1: it grows unless the "
          "activation's slope (tanh' <= 1) damps it.")
    if not np.isfinite(sweep.norms).all():
        print(f"overflow: the norm passed float64's largest number ({np.finfo(float).max:.1e}) "
              "before that lag, so it has no value there.")
    if args.plots:
        for path in plots.write_lab_plots(Path(args.plots), formats=(args.plot_format,)):
            print(f"wrote {path}")
    return 0


def lags_to_show(steps: int) -> list[int]:
    """0, 1, 2, 5, 10, 20, ... up to T − 1."""
    lags = [k for k in (0, 1, 2, 5, 10, 20, 30, 50, 100, 200, 500) if k < steps]
    return lags if lags[-1] == steps - 1 else [*lags, steps - 1]


def format_table(radii: list[float], norms: list[np.ndarray]) -> str:
    """Rows: lag k; columns: ρ; cells: the norm in scientific notation."""
    head = ["lag k"] + [f"rho={r:g}" for r in radii]
    rows = [[str(k)] + [_cell(n[k]) for n in norms] for k in lags_to_show(len(norms[0]))]
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(r, widths)) for r in [head, *rows])


def _cell(norm: float) -> str:
    """The norm in scientific notation; "overflow" when it is not a finite number."""
    return f"{norm:.3e}" if np.isfinite(norm) else "overflow"
