"""The subcommands of the ``tinygraph`` command line, one module each (see :mod:`rnn.cli`).

Every module has ``add_parser(subparsers)``, which registers the subcommand with its options,
help and examples, and ``run(args) -> int``, which does the work and returns the exit code.
"""
