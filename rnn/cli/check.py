"""``tinygraph check``: gradient check of a chosen RNN configuration (exit 1 when it fails).

``--inject-bug`` swaps layer 0's tanh for one whose backward forgets the factor (1 − y²),
dx = dy instead of dx = dy · (1 − y²): the check then fails and names the op and step.
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

import tinygraph as tg
from rnn.cli import limits
from rnn.cli.options import add_model_options, float_in, int_in, validate_model_options
from rnn.cli.problem import problem_from_args

MAX_DIRECTIONS = 100

EXAMPLES = """examples:
  tinygraph check                                2 layers, tanh, T=4, H=3: every entry
  tinygraph check --nonlinearity tanh,relu --steps 8 --hidden 5
  tinygraph check --mode directional --steps 50  cost independent of the number of weights
  tinygraph check --inject-bug                   a wrong tanh backward: FAILED, exit code 1"""


class TanhForgetsDerivative(tg.Op):
    """y = tanh(x), with a wrong backward dx = dy (the correct one is dy · (1 − y²))."""

    name = "tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        """y = tanh(x)."""
        return np.tanh(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        """The bug: the local derivative 1 − y² is missing."""
        return (grad,)


def buggy_tanh(x: tg.Tensor) -> tg.Tensor:
    """tanh with the wrong backward of :class:`TanhForgetsDerivative`."""
    return TanhForgetsDerivative()(x)


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``check``."""
    parser = sub.add_parser(
        "check", help="gradient check of an RNN configuration (exit 1 on failure)",
        description="Compare every parameter's backward gradient with central differences "
                    "(tg.gradcheck) for the demo problem in the chosen configuration.",
        epilog=EXAMPLES)
    parser.add_argument("--mode", choices=("full", "directional"), default="full",
                        help="full: every entry; directional: random directions (default full)")
    parser.add_argument("--directions", type=int_in(1, MAX_DIRECTIONS), default=3,
                        help=f"directions per parameter in directional mode, at most "
                             f"{MAX_DIRECTIONS} (default 3)")
    parser.add_argument("--eps", type=float_in(1e-10, 0.1, low_open=False), default=1e-6,
                        help="step h, in [1e-10, 0.1]: below, rounding swamps the difference; "
                             "above, the truncation error does (default 1e-6)")
    parser.add_argument("--atol", type=float_in(0, 1, high_open=True), default=1e-5,
                        help="absolute tolerance, in (0, 1) (default 1e-5)")
    parser.add_argument("--rtol", type=float_in(0, 1, high_open=True), default=1e-4,
                        help="relative tolerance, in (0, 1): at 1 a zero gradient would pass "
                             "(default 1e-4)")
    parser.add_argument("--inject-bug", action="store_true",
                        help="give layer 0 a tanh whose backward is wrong, to see a failure")
    add_model_options(parser)
    return parser


def validate(args: argparse.Namespace) -> None:
    """The model's size and the check's estimated time (UsageError before any work)."""
    validate_model_options(args)
    passes, seconds = limits.gradcheck_seconds(args, args.mode, args.directions)
    if args.mode == "full":
        advice = "use --mode directional, fewer --steps or --layers, or a smaller --hidden"
    else:
        advice = "use fewer --directions or --steps, or a smaller --hidden or --batch"
    limits.check_seconds(seconds, f"--mode {args.mode} ({passes:,} evaluations of the loss over "
                         f"T={args.steps:,} steps x {args.layers} layers)", advice)


def run(args: argparse.Namespace) -> int:
    """Print the report; 0 when every gradient agrees, 1 otherwise."""
    problem = problem_from_args(args)
    if args.inject_bug:
        problem.net.layers[0].activation = buggy_tanh
    print(f"tinygraph check: {problem.describe()}"
          + (" (with a wrong tanh backward in layer 0)" if args.inject_bug else ""))
    report = tg.gradcheck(problem.loss, problem.parameters(), eps=args.eps, atol=args.atol,
                          rtol=args.rtol, mode=args.mode, directions=args.directions,
                          seed=args.seed)
    print(report)
    if report.ok:
        print("verdict: ok")
        return 0
    where = f"; first wrong node: {report.culprit}" if report.culprit else ""
    print(f"verdict: FAILED ({len(report.failures)} of {len(report.rows)} parameters){where}")
    return 1
