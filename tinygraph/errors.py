"""The project's exception types, one per family of mistake.

Every message names the op, its scope (written ``t=3, layer=1``) and the shapes or values at
fault, so that a learner can find the step of an unrolled graph where things went wrong.
"""

from __future__ import annotations


class TinygraphError(Exception):
    """Base class of every error raised by tinygraph and rnn."""


class ShapeError(TinygraphError, ValueError):
    """Shapes that do not fit: an op's inputs, a seed, a gradient returned by a backward."""


class DTypeError(TinygraphError, TypeError):
    """A dtype the engine cannot differentiate (integers, objects) or cannot convert."""


class ConfigError(TinygraphError, ValueError):
    """A setting that does not exist: a reduction, a check mode, an eps, a nonlinearity name."""


class GraphStateError(TinygraphError, RuntimeError):
    """A graph used in a state that does not allow it: freed, not recorded, no seed."""


class BackwardError(TinygraphError, RuntimeError):
    """An op's backward broke the contract: wrong number or kind of gradients."""


class ForwardModeError(TinygraphError, RuntimeError):
    """Forward mode cannot go through an op: it has no jvp rule, or its jvp broke the contract."""


class NumericsError(TinygraphError, FloatingPointError):
    """A NaN or Inf produced by an op's forward or backward, or a failed gradient check."""


class RenderError(TinygraphError, RuntimeError):
    """Rendering failed: Graphviz missing, timed out, or the graph is too large to draw."""


class SpellingError(TinygraphError, AttributeError, TypeError):
    """A name or keyword tinygraph does not have, often PyTorch's (``tg.cat``, ``x.view``,
    ``dim=``): the message says what to write. An AttributeError for a missing attribute (so
    ``hasattr`` and ``getattr(obj, name, default)`` work), a TypeError for a wrong keyword."""


def add_note(exc: BaseException, note: str) -> None:
    """Attach ``note`` to an exception that keeps its type (``BaseException.add_note``, 3.11+;
    on Python 3.10 the note is kept in ``__notes__`` and added to the message's arguments)."""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
        return
    notes = getattr(exc, "__notes__", None)
    if notes is None:
        notes = []
        try:
            exc.__notes__ = notes  # type: ignore[attr-defined]
        except AttributeError:
            return
    notes.append(note)
    exc.args = (*exc.args, note)
