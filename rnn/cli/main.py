"""The ``tinygraph`` command line (also ``python -m tinygraph``, ``python -m rnn``): demo, render,
check, train, vanish.

``main(argv)`` parses, validates (the subcommand's ``validate``), runs one subcommand and
returns the exit code:

* 0: done (for ``check``: the gradients agree);
* 1: the command ran but failed: a tinygraph error, a file that could not be written, or a
  gradient check that failed;
* 2: a usage error, found before any work starts: an unknown option, a bad value or
  combination, a run over the bounds of :mod:`rnn.cli.limits`, an input file that cannot
  be read, or an option that needs what is not installed (Graphviz, matplotlib). One line,
  no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rnn.cli import check, demo, render, train, vanish
from rnn.cli.usage import UsageError, usage_line
from tinygraph import TinygraphError

COMMANDS = (demo, render, check, train, vanish)

EXIT_CODES = """exit codes:
  0  success (check: gradients agree)
  1  the command failed: a tinygraph error, a file not written, a failed gradient check
  2  usage error, before any work: unknown option, bad value, over a bound (one line on stderr)"""

EXAMPLES = """examples:
  tinygraph demo --out out/          gradient check, junction sums and pictures in out/
  tinygraph render --view backward   draw the backward pass of a 2-layer RNN to bptt.svg
  tinygraph check --nonlinearity relu --steps 6
  tinygraph train                    a character-level language model on Shakespeare's sonnets
  tinygraph vanish                   gradient norm by lag for several spectral radii
  tinygraph COMMAND --help           options and examples of one command"""


class OneLineErrorParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``prog: error: message (see 'prog --help')`` and exit with code 2."""
        self.exit(2, usage_line(self.prog, message))


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand registered."""
    parser = OneLineErrorParser(
        prog="tinygraph",
        description="tinygraph: see backpropagation through time, on a tiny autodiff engine.",
        epilog=f"{EXAMPLES}\n\n{EXIT_CODES}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True,
                                parser_class=OneLineErrorParser)
    for module in COMMANDS:
        command = module.add_parser(sub)
        command.epilog = (command.epilog or "") + "\n\n" + EXIT_CODES
        command.formatter_class = argparse.RawDescriptionHelpFormatter
        command.set_defaults(validate=module.validate, run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
    try:
        args.validate(args)
    except UsageError as exc:
        print(usage_line(f"tinygraph {args.command}", str(exc)), end="", file=sys.stderr)
        return 2
    try:
        return int(args.run(args))
    except TinygraphError as exc:
        return _fail(args.command, str(exc))
    except OSError as exc:
        return _fail(args.command, f"{exc.strerror or exc}: {exc.filename}" if exc.filename
                     else str(exc))
    except KeyboardInterrupt:
        print(f"tinygraph {args.command}: interrupted", file=sys.stderr)
        return 130


def _fail(command: str, message: str) -> int:
    """One line on stderr: ``tinygraph COMMAND: error: message``; returns 1."""
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    print(f"tinygraph {command}: error: {text}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
