"""The rnn package's own exception types (subclasses of tinygraph's TinygraphError).

Shape problems (wrong input width, rank, batch size of h0, ragged step lists, a parameter
file whose arrays have the wrong shape) raise ``tinygraph.ShapeError``; a setting that does not
exist raises ``tinygraph.ConfigError`` (re-exported here); a parameter file that does not match
the model raises ``ParameterFileError``.
"""

from __future__ import annotations

from tinygraph import ConfigError, TinygraphError

__all__ = ["ConfigError", "ParameterFileError"]  # ConfigError is tinygraph's, shared


class ParameterFileError(TinygraphError, ValueError):
    """A parameter file that cannot be loaded into a model: missing, extra or unsafe arrays."""
