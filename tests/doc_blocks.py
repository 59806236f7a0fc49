"""Markdown code blocks of docs/*.md, and running them the way a reader would.

A fenced block opened by ```python (or ```py) is code; every other fence (```text,
```console, ```bash, a bare ```) is left alone. The blocks of one file run in order in one
namespace, each compiled under the Markdown file's name with its own line numbers, so a
traceback points at the line of the .md file a reader sees. A block written as an interactive
session (its first line starts with ``>>>``) runs as a doctest: its printed outputs are checked
(NORMALIZE_WHITESPACE, ELLIPSIS), and a mismatch raises DocBlockError.
"""

from __future__ import annotations

import doctest
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

FENCE = re.compile(r"^ {0,3}(`{3,})\s*([\w+-]*)")
RUNNABLE = {"python", "py"}


class DocBlockError(AssertionError):
    """A doctest-style block printed something other than what the Markdown shows."""


@dataclass
class CodeBlock:
    """One runnable block: its source and the line (1-based) of its first code line."""

    path: Path
    line: int
    source: str


def python_blocks(path: Path) -> list[CodeBlock]:
    """The ```python blocks of a Markdown file, in order; raises ValueError on an unclosed fence."""
    blocks = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        fence, language = opening.group(1), opening.group(2).lower()
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        if end == len(lines):
            raise ValueError(f"{path.name}: the fence opened at line {i + 1} is never closed")
        if language in RUNNABLE:
            blocks.append(CodeBlock(path, start + 1, "\n".join(lines[start:end]) + "\n"))
        i = end + 1
    return blocks


def quiet_environment() -> None:
    """One BLAS thread and matplotlib's file-only backend, as the docs runner promises."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    try:
        import matplotlib
    except ImportError:
        return
    matplotlib.use("Agg")


def run_block(block: CodeBlock, namespace: dict[str, object]) -> None:
    """exec one block in ``namespace``, compiled so that line numbers are the .md file's."""
    if block.source.lstrip().startswith(">>>"):
        run_doctest_block(block, namespace)
        return
    padded = "\n" * (block.line - 1) + block.source
    exec(compile(padded, str(block.path), "exec"), namespace)


def run_file(path: Path) -> dict[str, object]:
    """Run every python block of ``path`` in order in one fresh namespace; return it."""
    namespace: dict[str, object] = {"__name__": "__doc_" + path.stem}
    for block in python_blocks(path):
        run_block(block, namespace)
    return namespace


def run_doctest_block(block: CodeBlock, namespace: dict[str, object]) -> None:
    """Run a ``>>>`` block as a doctest in ``namespace``; raise DocBlockError on a mismatch."""
    test = doctest.DocTestParser().get_doctest(
        block.source, namespace, block.path.name, str(block.path), block.line - 1)
    flags = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
    runner = doctest.DocTestRunner(optionflags=flags)
    report = io.StringIO()
    runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # doctest ran on a copy: later blocks see its names
    if runner.failures:
        raise DocBlockError(report.getvalue())
