"""Argument types and the model options shared by ``demo``, ``render`` and ``check``."""

from __future__ import annotations

import argparse

from rnn.cell import NONLINEARITIES


def positive_int(text: str) -> int:
    """An int >= 1 (argparse reports anything else as a usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    """A float > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def nonlinearities(text: str) -> list[str]:
    """One activation for every layer ("tanh") or a comma list, one per layer ("tanh,relu")."""
    names = [part.strip() for part in text.split(",")]
    unknown = [n for n in names if n not in NONLINEARITIES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown nonlinearity {unknown[0]!r}; choose from {', '.join(NONLINEARITIES)} "
            "(or a comma list, one per layer)")
    return names


def add_model_options(parser: argparse.ArgumentParser, steps: int = 4, hidden: int = 3) -> None:
    """--steps, --layers, --hidden, --nonlinearity, --batch, --loss-at, --seed."""
    group = parser.add_argument_group("model")
    group.add_argument("--steps", "-T", type=positive_int, default=steps,
                       help=f"sequence length T (default {steps})")
    group.add_argument("--layers", "-L", type=positive_int, default=2,
                       help="stacked Elman layers (default 2)")
    group.add_argument("--hidden", "-H", type=positive_int, default=hidden,
                       help=f"hidden size H of every layer (default {hidden})")
    group.add_argument("--nonlinearity", type=nonlinearities, default=["tanh"],
                       metavar="NAME[,NAME...]",
                       help=f"{' | '.join(NONLINEARITIES)}, or one per layer: tanh,relu "
                            "(default tanh)")
    group.add_argument("--batch", "-B", type=positive_int, default=1,
                       help="sequences in the batch (default 1)")
    group.add_argument("--loss-at", choices=("all", "last"), default="all",
                       help="all: a loss at every step (many-to-many); last: only at the last "
                            "step (many-to-one) (default all)")
    group.add_argument("--seed", type=int, default=0, help="seed of weights and data (default 0)")
