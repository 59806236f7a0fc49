"""What kind of directory entry a path names, in words: only regular files are read or replaced."""

from __future__ import annotations

import stat

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISLNK, "a symbolic link"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def entry_kind(mode: int) -> str:
    """The kind of entry a ``st_mode`` describes ("a FIFO (named pipe)", "a character device",
    ...), or "a regular file" when it is one."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((kind for test, kind in _KINDS if test(mode)), "a special file")
