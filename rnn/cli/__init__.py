"""The ``tinygraph`` command line: ``main`` (rnn/cli/main.py) and one module per subcommand
(demo, render, check, train, vanish), with their shared options, inputs, limits and problem.

Every subcommand module has ``add_parser(subparsers)``, which registers the subcommand with its
options, help and examples, ``validate(args)``, which refuses bad usage before any work, and
``run(args) -> int``, which does the work and returns the exit code.
"""

from rnn.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
