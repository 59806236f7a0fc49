"""Can a file be written at this path? One check for every file the project writes."""

from __future__ import annotations

from pathlib import Path


def output_path_fault(path: Path) -> str | None:
    """Why no file can be written at ``path``, in words, or None when it can.

    A path that is an existing directory is refused (a directory is never overwritten), and so
    is one whose parent directory is missing or is a file. Nothing is created or written.
    """
    if path.is_dir():
        return "it is an existing directory (give a file path; a directory is never overwritten)"
    parent = path.parent
    if not parent.exists():
        return f"the directory {str(parent)!r} does not exist; create it first"
    if not parent.is_dir():
        return f"{str(parent)!r} is a file, not a directory"
    return None
