"""The usage error of the command line and its one-line message (exit code 2)."""

from __future__ import annotations


class UsageError(Exception):
    """A command line that cannot run as given (a bad value or combination); exit code 2.

    Raised by a command's ``validate`` right after parsing, before any work starts.
    """


def usage_line(prog: str, message: str) -> str:
    """``prog: error: message (see 'prog --help')``, one line, as argparse's errors are printed."""
    text = " ".join(line.strip() for line in message.splitlines() if line.strip())
    return f"{prog}: error: {text} (see '{prog} --help')\n"
