"""Argument types and the model options shared by ``demo``, ``render`` and ``check``.

Every value is checked when it is parsed (an ``argparse`` type) or right after parsing (a
command's ``validate``, raising :class:`~rnn.cli.usage.UsageError`), so a bad command
line is refused in one line with exit code 2 before any work starts. The bounds are in
:mod:`rnn.cli.limits`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from rnn.cell import NONLINEARITIES
from rnn.cli import limits
from rnn.cli.usage import UsageError


def int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int with low <= value (<= high when given)."""
    wanted = f"an integer from {low:,} to {high:,}" if high is not None else (
        "a positive integer" if low == 1 else f"an integer >= {low}")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {value}")
        return value

    return parse


positive_int = int_in(1)
seed_int = int_in(0)


def float_in(low: float, high: float, *, low_open: bool = True,
             high_open: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite float in the interval from low to high (open or closed ends)."""
    interval = (("(" if low_open else "[") + f"{low:g}, {high:g}" + (")" if high_open else "]"))

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text!r}") from None
        above = value > low if low_open else value >= low
        below = value < high if high_open else value <= high
        if not (math.isfinite(value) and above and below):
            raise argparse.ArgumentTypeError(f"expected a number in {interval}, got {text}")
        return value

    return parse


def nonlinearities(text: str) -> list[str]:
    """One activation for every layer ("tanh") or a comma list, one per layer ("tanh,relu")."""
    names = [part.strip() for part in text.split(",")]
    unknown = [n for n in names if n not in NONLINEARITIES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown nonlinearity {unknown[0]!r}; choose from {', '.join(NONLINEARITIES)} "
            "(or a comma list, one per layer)")
    return names


def add_seed_option(parser: argparse.ArgumentParser | argparse._ArgumentGroup, what: str) -> None:
    """--seed: a non-negative integer (numpy's generators refuse negative seeds)."""
    parser.add_argument("--seed", type=seed_int, default=0, help=f"seed of {what} (default 0)")


def add_model_options(parser: argparse.ArgumentParser, steps: int = 4, hidden: int = 3) -> None:
    """--steps, --layers, --hidden, --nonlinearity, --batch, --loss-at, --seed."""
    group = parser.add_argument_group("model")
    group.add_argument("--steps", "-T", type=int_in(1, limits.MAX_STEPS), default=steps,
                       help=f"sequence length T, at most {limits.MAX_STEPS:,} (default {steps})")
    group.add_argument("--layers", "-L", type=int_in(1, limits.MAX_LAYERS), default=2,
                       help=f"stacked Elman layers, at most {limits.MAX_LAYERS} (default 2)")
    group.add_argument("--hidden", "-H", type=int_in(1, limits.MAX_HIDDEN), default=hidden,
                       help=f"hidden size H of every layer, at most {limits.MAX_HIDDEN:,} "
                            f"(default {hidden})")
    group.add_argument("--nonlinearity", type=nonlinearities, default=["tanh"],
                       metavar="NAME[,NAME...]",
                       help=f"{' | '.join(NONLINEARITIES)}, or one per layer: tanh,relu "
                            "(default tanh)")
    group.add_argument("--batch", "-B", type=int_in(1, limits.MAX_BATCH), default=1,
                       help=f"sequences in the batch, at most {limits.MAX_BATCH:,} (default 1)")
    group.add_argument("--loss-at", choices=("all", "last"), default="all",
                       help="all: a loss at every step (many-to-many); last: only at the last "
                            "step (many-to-one) (default all)")
    add_seed_option(group, "weights and data")


def validate_model_options(args: argparse.Namespace) -> None:
    """The checks of the model options that need more than one of them (before any work)."""
    if len(args.nonlinearity) not in (1, args.layers):
        raise UsageError(f"--nonlinearity names {len(args.nonlinearity)} activations "
                         f"({','.join(args.nonlinearity)}) for --layers {args.layers}; give one "
                         "name for all layers, or one per layer")
    limits.check_values(args.steps, args.layers, args.batch, args.hidden, "the unrolled graph")


FOLDING_VIEWS = ("forward", "backward", "both")  # the views with the steps side by side
DEFAULT_FOLD = 8  # steps kept when a longer unroll is drawn (the first and the last ones)


def add_picture_options(parser: argparse.ArgumentParser, fold_option: str) -> None:
    """How a picture is laid out: folding (``fold_option``, 8 steps by default, ``--no-fold``),
    the legend, the width and the shapes on the edges."""
    parser.add_argument(fold_option, type=int_in(2), default=DEFAULT_FOLD, metavar="N",
                        help=f"draw at most N >= 2 steps, the first and last ones, folding the "
                             f"middle (default {DEFAULT_FOLD})")
    parser.add_argument("--no-fold", action="store_true", help="draw every step, unfolded")
    parser.add_argument("--legend", choices=("below", "beside", "none"), default="below",
                        help="where the legend goes (default below)")
    parser.add_argument("--width", type=int_in(200), default=None, metavar="PX",
                        help="fit the picture to PX pixels wide (default: its natural size)")
    parser.add_argument("--show-shapes", action="store_true",
                        help="write each tensor's shape on its edge")


def folded_steps(args: argparse.Namespace, fold: int) -> int | None:
    """The steps a picture keeps: ``fold`` (from --max-steps or --png-max-steps) unless
    --no-fold; None draws every step."""
    return None if args.no_fold else fold


def picture_options(args: argparse.Namespace) -> dict[str, Any]:
    """The tg.render options of add_picture_options (folding is the caller's: it depends on the
    view)."""
    options: dict[str, Any] = {"legend": False if args.legend == "none" else args.legend}
    if args.width is not None:
        options["width"] = args.width
    if args.show_shapes:
        options["show_shapes"] = True
    return options
