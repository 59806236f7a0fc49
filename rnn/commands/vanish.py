"""``tinygraph vanish``: how the gradient fades or grows with the lag, by spectral radius.

For an Elman cell with W_hh = ρ Q (Q orthogonal, so every singular value is ρ), the gradient
of L = Σ h_T reaches h_(T−k) as ∂L/∂h_(T−k) = ∂L/∂h_T · Π_(s) diag(f'(a_s)) W_hhᵀ: about ρ^k
times the product of the activation's slopes. The table prints ||∂L/∂h_(T−k)|| for a few lags
k and radii ρ, measured with ``tg.grad`` on the hidden states.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.cell import NONLINEARITIES, ElmanCell
from rnn.commands.options import positive_int
from rnn.network import RNN

EXAMPLES = """examples:
  tinygraph vanish                              tanh, T=40, radii 0.5 0.9 1.0 1.1 1.5
  tinygraph vanish --nonlinearity identity      pure rho^k: vanishing below 1, exploding above
  tinygraph vanish --radii 0.8 1.2 --steps 60 --hidden 16"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``vanish``."""
    parser = sub.add_parser(
        "vanish", help="gradient norm by lag for several spectral radii of W_hh",
        description="Measure ||dL/dh_(T-k)|| (L = sum of h_T) for Elman cells whose W_hh has "
                    "spectral radius rho, and print it by lag k: below rho = 1 the gradient "
                    "vanishes geometrically, above it can explode (tanh's slope < 1 damps it).",
        epilog=EXAMPLES)
    parser.add_argument("--radii", type=float, nargs="+", default=[0.5, 0.9, 1.0, 1.1, 1.5],
                        metavar="RHO", help="spectral radii of W_hh (default 0.5 0.9 1.0 1.1 1.5)")
    parser.add_argument("--nonlinearity", choices=tuple(NONLINEARITIES), default="tanh",
                        help="activation f (default tanh)")
    parser.add_argument("--steps", "-T", type=positive_int, default=40, help="sequence length (40)")
    parser.add_argument("--hidden", "-H", type=positive_int, default=16, help="hidden size (16)")
    parser.add_argument("--seed", type=int, default=0, help="seed (0)")
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the table of gradient norms by lag."""
    if any(r <= 0 for r in args.radii):
        raise tg.TinygraphError(f"vanish: every radius must be > 0, got {args.radii}")
    xs = 0.5 * np.random.default_rng(args.seed).standard_normal((1, args.steps, 4))
    norms = [norms_by_lag(radius, args.nonlinearity, xs, args.hidden, args.seed)
             for radius in args.radii]
    print(f"tinygraph vanish: ||dL/dh_(T-k)||, L = sum(h_T), {args.nonlinearity} Elman cell, "
          f"H={args.hidden}, T={args.steps}, W_hh = rho * orthogonal\n")
    print(format_table(args.radii, norms))
    print("\nrho < 1: the gradient vanishes about like rho^k; rho > 1: it grows unless the "
          "activation's slope (tanh' <= 1) damps it.")
    return 0


def norms_by_lag(radius: float, nonlinearity: str, xs: np.ndarray, hidden: int,
                 seed: int) -> np.ndarray:
    """norms[k] = ||∂(Σ h_T)/∂h_(T−k)||, k = 0..T−1, for one cell with W_hh = ρ Q."""
    rng = np.random.default_rng(seed + 1)
    cell = ElmanCell(xs.shape[2], hidden, nonlinearity, rng=rng)
    Q, R = np.linalg.qr(rng.standard_normal((hidden, hidden)))
    cell.W_hh.data = radius * Q * np.sign(np.diag(R))
    hs, _ = RNN(cell=cell)(xs)
    grads = tg.grad(hs[-1].sum(), hs)
    return np.array([float(np.linalg.norm(g)) for g in reversed(grads)])


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
