"""Fake Graphviz binaries for tests: a shell script named ``neato`` first on PATH."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest


def fake_neato(directory: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """Put an executable ``neato`` running ``body`` (sh; stdin already read) first on PATH."""
    bin_dir = directory / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "neato"
    script.write_text(f"#!/bin/sh\ncat > /dev/null\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return script


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return fields[0] != "Z"


def wait_until_gone(pid: int, attempts: int = 100) -> bool:
    """Whether ``pid`` is gone (or a zombie) within ``attempts`` looks, 50 ms apart."""
    for _ in range(attempts):
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def kill_if_alive(pid: int) -> None:
    """Clean up a process a failing test left behind (by its id)."""
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
