"""``python -m rnn``: the tinygraph command line (see :mod:`rnn.cli`)."""

import sys

from rnn.cli import main

sys.exit(main())
