"""``tinygraph render``: draw the unrolled graph of the demo problem to a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import tinygraph as tg
from rnn.errors import ConfigError
from rnn.commands.options import add_model_options, positive_int
from rnn.commands.problem import problem_from_args

EXAMPLES = """examples:
  tinygraph render                               bptt.svg: forward view, T=4, 2 layers
  tinygraph render --view backward -o back.png --format png
  tinygraph render --view backward --color grad_norm --loss-at last --steps 12
  tinygraph render --view rolled                 one step with a z^-1 delay
  tinygraph render --steps 64 --max-steps 6      fold the middle steps
  tinygraph render --format dot -o bptt.dot      DOT text (no Graphviz needed)"""


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register ``render``."""
    parser = sub.add_parser(
        "render", help="draw the unrolled RNN graph (forward, backward, both, rolled)",
        description="Build the demo problem with the chosen configuration and draw it with "
                    "tg.render: ops are nodes, tensors are edges, one column per time step.",
        epilog=EXAMPLES)
    parser.add_argument("--view", choices=("forward", "backward", "both", "rolled"),
                        default="forward", help="what is drawn (default forward)")
    parser.add_argument("--color", choices=("none", "grad_norm"), default="none",
                        help="grad_norm: shade gradient edges by log10 of their norm")
    parser.add_argument("--format", choices=("svg", "png", "pdf", "dot"), default=None,
                        help="file format (default: from -o's suffix, else svg)")
    parser.add_argument("--max-steps", type=positive_int, default=None, metavar="N",
                        help="keep the first and last steps, fold the others (N >= 2)")
    parser.add_argument("--show-grads", action="store_true",
                        help="label gradient edges with their values (norms for big arrays)")
    parser.add_argument("-o", "--output", default="bptt", metavar="PATH",
                        help="output file (suffix added if missing; default bptt.svg)")
    add_model_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Write the picture and print its path."""
    fmt = args.format or _format_from_suffix(args.output)
    suffix = _format_from_suffix(args.output, default="")
    if suffix and suffix != fmt:
        raise ConfigError(f"-o {args.output} ends in .{suffix} but --format is {fmt}; "
                          f"make them agree (or leave one out)")
    options: dict[str, Any] = {"max_steps": args.max_steps, "show_grads": args.show_grads}
    if args.color == "grad_norm":
        options["color_by"] = "grad_norm"
    loss = problem_from_args(args).loss()
    if fmt == "dot":
        path = Path(args.output)
        path = path if path.suffix == ".dot" else path.with_name(path.name + ".dot")
        path.write_text(tg.to_dot(loss, view=args.view, **options), encoding="utf-8")
    else:
        path = tg.render(loss, args.output, format=fmt, view=args.view, **options)
    print(f"wrote {path}")
    return 0


def _format_from_suffix(output: str, default: str = "svg") -> str:
    suffix = Path(output).suffix.lstrip(".").lower()
    return suffix if suffix in ("svg", "png", "pdf", "dot") else default
