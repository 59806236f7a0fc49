"""``python -m tinygraph``: the ``tinygraph`` command line (see :mod:`rnn.cli`), as ``python -m rnn``.

The command line lives in the ``rnn`` package, which is built on ``tinygraph``; this module is
only run, never imported by ``tinygraph`` itself.
"""

import sys

from rnn.cli import main

sys.exit(main())
