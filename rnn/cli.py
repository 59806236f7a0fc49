"""The ``tinygraph`` command line (also ``python -m rnn``): demo, render, check, train, vanish.

``main(argv)`` parses, runs one subcommand and returns the exit code:

* 0: done (for ``check``: the gradients agree);
* 1: the command ran but failed: a tinygraph error (bad model configuration, Graphviz
  missing, ...), a file that could not be written, or a gradient check that failed;
* 2: a usage error (unknown option, bad value); the message is one line, no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from rnn.commands import check, demo, render, train, vanish
from tinygraph.errors import TinygraphError

COMMANDS = (demo, render, check, train, vanish)

EXIT_CODES = """exit codes:
  0  success (check: gradients agree)
  1  the command failed: a tinygraph error, a file not written, a failed gradient check
  2  usage error: unknown option or bad value (one line on stderr)"""

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
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


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
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:           # --help (0) or a usage error (2), already printed
        return int(exc.code or 0)
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
