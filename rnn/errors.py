"""The rnn package's own exception types (subclasses of tinygraph's TinygraphError).

Shape problems (wrong input width, rank, batch size of h0, ragged step lists, a parameter
file whose arrays have the wrong shape) raise ``tinygraph.ShapeError``; the types here cover
the two other families: a model built with a setting that does not exist, and a parameter
file that does not match the model.
"""

from __future__ import annotations

from tinygraph.errors import TinygraphError


class ConfigError(TinygraphError, ValueError):
    """A model or trainer built with an invalid setting (unknown nonlinearity, k2 < k1, ...)."""


class ParameterFileError(TinygraphError, ValueError):
    """A parameter file that cannot be loaded into a model: missing, extra or unsafe arrays."""
