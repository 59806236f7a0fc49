"""``tinygraph render``: draw the unrolled graph of the demo problem to a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import tinygraph as tg
from tinygraph.render import FORMATS as GRAPHVIZ_FORMATS
from tinygraph.render import output_format
from rnn.cli import limits
from rnn.cli.inputs import check_graphviz, check_output_file
from rnn.cli.options import (
    FOLDING_VIEWS,
    add_model_options,
    add_picture_options,
    folded_steps,
    int_in,
    picture_options,
    validate_model_options,
)
from rnn.cli.problem import problem_from_args
from rnn.cli.usage import UsageError

FORMATS = ("svg", "png", "pdf", "dot")

EXAMPLES = """examples:
  tinygraph render                               bptt.svg: forward view, T=4, 2 layers
  tinygraph render --view backward -o back.png --format png
  tinygraph render --view backward --color grad_norm --loss-at last --steps 12
  tinygraph render --view rolled                 one step with a z^-1 delay
  tinygraph render --view step --t 2             step 2 with its state in and out
  tinygraph render --steps 64 --max-steps 6      fold the middle steps (8 by default)
  tinygraph render --steps 12 --no-fold          draw every step
  tinygraph render --format dot -o bptt.dot      DOT text (no Graphviz needed)"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``render``."""
    parser = sub.add_parser(
        "render", help="draw the unrolled RNN graph (forward, backward, both, rolled)",
        description="Build the demo problem with the chosen configuration and draw it with "
                    "tg.render: ops are nodes, tensors are edges, one column per time step.",
        epilog=EXAMPLES)
    parser.add_argument("--view", choices=("forward", "backward", "both", "rolled", "step"),
                        default="forward", help="what is drawn (default forward; step: one step, "
                        "chosen with --t)")
    parser.add_argument("--t", type=int_in(0), default=None, metavar="K",
                        help="the step that --view step draws, 0..steps-1")
    parser.add_argument("--color", choices=("none", "grad_norm"), default="none",
                        help="grad_norm: shade gradient edges by log10 of their norm")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="file format (default: from -o's suffix, else svg)")
    add_picture_options(parser, "--max-steps")
    parser.add_argument("--show-grads", action="store_true",
                        help="label gradient edges with their values (norms for big arrays)")
    parser.add_argument("-o", "--output", default="bptt", metavar="PATH",
                        help="output file (suffix added if missing; default bptt.svg)")
    add_model_options(parser)
    return parser


def validate(args: argparse.Namespace) -> None:
    """The output path, Graphviz, the picture's size and time (UsageError before any work)."""
    validate_model_options(args)
    if (args.view == "step") != (args.t is not None):
        raise UsageError("--view step draws one step: give it with --t K" if args.view == "step"
                         else f"--t chooses the step of --view step, not of --view {args.view}")
    if args.t is not None and args.t >= args.steps:
        raise UsageError(f"--t {args.t} is not a step of --steps {args.steps}; choose "
                         f"0..{args.steps - 1}")
    fmt, target = output_target(args)
    check_output_file(target, "-o")
    if fmt != "dot":
        check_graphviz(f"--format {fmt}")
    seconds = limits.PICTURE_COST.seconds(1, args.steps, args.layers, args.hidden, args.batch)
    if args.view != "rolled":
        nodes = picture_nodes(args)
        if fmt != "dot":
            seconds += limits.GRAPHVIZ_PER_NODE * nodes
    limits.check_seconds(seconds, f"building, tracing, laying out and drawing T={args.steps:,} "
                         f"steps x {args.layers} layers", "use fewer --steps or --layers, or a "
                         "smaller --hidden or --batch")


def picture_nodes(args: argparse.Namespace) -> int:
    """The nodes the picture draws (min(T, --max-steps) steps, one for --view step), at most
    MAX_NODES."""
    size = limits.PictureSize.of(args.layers, args.nonlinearity, args.loss_at)
    fold = folded_steps(args, args.max_steps)
    drawn = 1 if args.view == "step" else min(args.steps, fold or args.steps)
    return size.check(drawn, bool(fold), "--max-steps",
                      "the picture would draw {steps:,} steps, {nodes:,} nodes",
                      "fold the middle steps with {option} {fit} (keeps the first and last steps)")


def output_target(args: argparse.Namespace) -> tuple[str, Path]:
    """(format, path): --format, else -o's suffix, else svg (tinygraph.render.output_format, the
    rule tg.render follows); the suffix is added if missing; a bad one is a usage error."""
    if Path(args.output).is_dir():
        check_output_file(Path(args.output), "-o")  # refuses it, saying why
    suffix = Path(args.output).suffix[1:].lower()
    if args.format and suffix in GRAPHVIZ_FORMATS and suffix != args.format:
        raise UsageError(f"-o {args.output} ends in .{suffix} but --format is {args.format}; make "
                         "them agree (or leave one out)")
    try:
        path, fmt = output_format(args.output, args.format)
    except tg.TinygraphError as exc:
        raise UsageError(f"-o: {str(exc).removeprefix('render: ')}") from None
    check_output_file(path, "-o")
    return fmt, path


def run(args: argparse.Namespace) -> int:
    """Write the picture and print its path."""
    fmt, path = output_target(args)
    options: dict[str, Any] = {"show_grads": args.show_grads, **picture_options(args)}
    fold = folded_steps(args, args.max_steps)
    if fold is not None and args.view in FOLDING_VIEWS:
        options["max_steps"] = fold
    if args.t is not None:
        options["t"] = args.t
    if args.color == "grad_norm":
        options["color_by"] = "grad_norm"
    loss = problem_from_args(args).loss()
    if fmt == "dot":
        path.write_text(tg.to_dot(loss, view=args.view, **options), encoding="utf-8")
    else:
        path = tg.render(loss, path, format=fmt, view=args.view, **options)
    print(f"wrote {path}")
    return 0
