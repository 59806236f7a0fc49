"""Recording state: the stack of scope tags and the grad-enabled switch.

``with scope(t=3, layer=1):`` tags every node created inside it; scopes nest and merge, the
inner tags overriding the outer ones. ``with no_grad():`` turns recording off; ``switched`` is
the one switch behind it, ``enable_grad`` and ``detect_anomaly``.
"""

from __future__ import annotations

import reprlib
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import numpy as np

from tinygraph.errors import ConfigError

_EMPTY: dict[str, Any] = {}
SCOPE_VALUES = (int, float, str, type(None))         # bool is an int
SCOPE_NUMPY_VALUES = (np.integer, np.floating, np.bool_)
PLAIN_TAG_TYPES = frozenset({int, str, float, bool, type(None)})


class _State:
    """The process-wide recording state (single-threaded, like the engine)."""

    __slots__ = ("detect_anomaly", "grad_enabled", "tags")

    def __init__(self) -> None:
        self.tags: dict[str, Any] = _EMPTY
        self.grad_enabled = True
        self.detect_anomaly = False


STATE = _State()


class scope:  # noqa: N801 (used like a function: ``with tg.scope(t=3):``)
    """Tag every node created inside the block with ``tags`` merged over the enclosing scope."""

    __slots__ = ("outer", "tags")

    def __init__(self, **tags: Any) -> None:
        for value in tags.values():  # plain tags (t=3, layer=1) pass without a call: every step
            if type(value) not in PLAIN_TAG_TYPES:
                tags = check_tags(tags, "scope")
                break
        self.tags = tags
        self.outer: dict[str, Any] = _EMPTY

    def __enter__(self) -> dict[str, Any]:
        self.outer = outer = STATE.tags
        merged = {**outer, **self.tags}  # a new dict: the nodes made inside share it
        STATE.tags = merged
        return dict(merged)  # a copy: the nodes made inside share ``merged``

    def __exit__(self, *exc_info: object) -> None:
        STATE.tags = self.outer


def scoped_range(count: int, start: int = 0, key: str = "t", **tags: Any) -> Iterator[int]:
    """``for t in scoped_range(T, layer=0):`` runs the body for t = start..start+count−1 with
    ``{key: t, **tags}`` merged over the enclosing scope, as ``with tg.scope(t=t, layer=0):``
    around the body would, for a fraction of its cost per step (an RNN's time loop).

    Iterate it directly with a ``for`` statement, which closes it when the loop ends (break
    and exceptions included) and so brings the enclosing tags back. A generator kept and
    abandoned half-way holds its step's tags until it is closed.
    """
    tags = check_tags(tags, "scoped_range")
    outer = STATE.tags
    mine = outer
    try:
        for value in range(start, start + count):
            mine = STATE.tags = {**outer, key: value, **tags}
            yield value
    finally:
        if STATE.tags is mine:  # never undo a scope that someone else entered meanwhile
            STATE.tags = outer


def check_tags(tags: dict[str, Any], where: str) -> dict[str, Any]:
    """``tags`` with numpy scalars as Python ones (np.int64(3) -> 3, so steps sort as numbers),
    or a ConfigError naming a tag whose value is not an int, float, str, bool or None: a tag
    names a step or a layer, and pictures and tables sort and print it."""
    for key, value in tags.items():
        if isinstance(value, SCOPE_VALUES):
            continue
        if isinstance(value, SCOPE_NUMPY_VALUES):
            tags[key] = value.item()
            continue
        raise ConfigError(f"{where}: tag {key}={reprlib.repr(value)} is a {type(value).__name__}; "
                          "a scope tag names a step or a layer (t=3, layer=1) and must be an "
                          "int, float, str, bool or None")
    return tags


def current_scope() -> dict[str, Any]:
    """The tags that a node created now would carry (shared: do not mutate)."""
    return STATE.tags


@contextmanager
def switched(flag: str, value: bool) -> Iterator[None]:
    """Set the recording flag ``flag`` ("grad_enabled" or "detect_anomaly") to ``value`` inside
    the block and put back what it was after it, also on an exception: the one switch behind
    ``no_grad``, ``enable_grad`` and ``detect_anomaly`` (DeZero's ``using_config``)."""
    before = getattr(STATE, flag)
    setattr(STATE, flag, value)
    try:
        yield
    finally:
        setattr(STATE, flag, before)


def no_grad() -> AbstractContextManager[None]:
    """Record nothing inside the block: results are constants with no producer."""
    return switched("grad_enabled", False)


def enable_grad() -> AbstractContextManager[None]:
    """Record again inside a ``no_grad`` block."""
    return switched("grad_enabled", True)


def is_grad_enabled() -> bool:
    """Whether ops record nodes right now."""
    return STATE.grad_enabled


def format_scope(tags: Mapping[str, Any]) -> str:
    """Write scope tags as ``t=3, layer=1`` (empty string for no tags)."""
    return ", ".join(f"{key}={value}" for key, value in tags.items())
