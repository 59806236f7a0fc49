"""Checks of what a command line points at: output paths, input text files, installed tools.

Each check runs before any work and raises :class:`UsageError` naming the option and the
fault; nothing is created or written.
"""

from __future__ import annotations

import argparse
import codecs
import os
import stat
from collections.abc import Callable
from pathlib import Path

from rnn.cli.usage import UsageError
from tinygraph import output_path_fault
from tinygraph.render import graphviz_missing

MAX_TEXT_CHARS = 1_000_000


def check_output_file(path: Path, option: str,
                      fault: Callable[[Path], str | None] = output_path_fault) -> None:
    """A file can be written at ``path``: ``fault(path)`` finds nothing wrong (by default
    ``output_path_fault``: its directory exists and it is not a directory)."""
    reason = fault(path)
    if reason is not None:
        raise UsageError(f"{option}: cannot write {str(path)!r}: {reason}")


def check_output_dir(path: Path, option: str) -> None:
    """``path`` is a directory, or one can be created there (the nearest existing folder above
    it is a directory we may write into)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{option}: cannot write into {str(path)!r}: {str(existing)!r} is a "
                         "file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{option}: cannot write into {str(path)!r}: no permission to write "
                         f"in {str(existing)!r}")


def text_file(name: str) -> str:
    """An argparse type: the UTF-8 text of a regular file, at most MAX_TEXT_CHARS + 1 characters.

    Refused: a path that is not a regular file (a directory, FIFO or device is never read),
    one that cannot be opened, bytes that are not UTF-8, and NUL characters (a binary file).
    At most 4 · (MAX_TEXT_CHARS + 1) bytes are read (a UTF-8 character has at most 4), so one
    character more than the limit shows that a text is longer than it.
    """
    budget = 4 * (MAX_TEXT_CHARS + 1)
    try:
        if not stat.S_ISREG(os.stat(name).st_mode):
            raise argparse.ArgumentTypeError(f"{name!r} is not a regular file")
        with open(name, "rb") as handle:
            data = handle.read(budget)
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {name!r}: {exc.strerror or exc}") from None
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=len(data) < budget)
    except UnicodeDecodeError as exc:
        raise argparse.ArgumentTypeError(
            f"{name!r} is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "give a plain text file") from None
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{name!r} holds NUL characters (a binary file?); give "
                                         "a plain text file")
    return text[: MAX_TEXT_CHARS + 1]


def check_graphviz(option: str) -> None:
    """Graphviz's layout program is on PATH (the pictures of ``option`` need it)."""
    missing = graphviz_missing()
    if missing is not None:
        raise UsageError(f"{option} needs {missing}")


def check_matplotlib(option: str) -> None:
    """matplotlib can be imported (the figures of ``option`` need it)."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise UsageError(f"{option} needs matplotlib, which is not installed: "
                         "pip install 'tinygraph[plot]' (or pip install matplotlib)") from None
