"""The docs runner: every ```python block of every docs/*.md (and the README) runs.

One test per Markdown file (found by glob, so a tutorial added later is picked up). The blocks
of a file run in order in one fresh namespace, in a temporary working directory (files a
tutorial writes land there), with one BLAS thread and matplotlib's Agg backend. A failure names
the file and the line of the block, and the traceback points into the .md file. A doc that
needs an optional extra which is not installed (matplotlib, tqdm, torch) is skipped. A block
written as a ``>>>`` session runs as a doctest, so its outputs are checked too.
"""

from __future__ import annotations

import contextlib
import io
import traceback
from pathlib import Path

import pytest
from doc_blocks import CodeBlock, python_blocks, quiet_environment, run_block

DOCS = Path(__file__).resolve().parent.parent / "docs"
OPTIONAL = {"matplotlib", "tqdm", "torch"}
DOC_FILES = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]


def run_doc(path: Path) -> None:
    """Run the blocks of ``path``; fail with the block's line and the doc's own traceback."""
    namespace: dict[str, object] = {"__name__": "__doc_" + path.stem}
    block: CodeBlock
    for block in python_blocks(path):
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                run_block(block, namespace)
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] in OPTIONAL:
                pytest.skip(f"{path.name}: block at line {block.line} needs {error.name}, "
                            "an optional extra that is not installed")
            raise
        except Exception as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename == str(path)]
            where = f"line {frames[-1].lineno}" if frames else "its first line"
            pytest.fail(
                f"{path.name}: the python block starting at line {block.line} failed at "
                f"{where}: {type(error).__name__}: {error}\n"
                + "".join(traceback.format_exception(error)), pytrace=False)


@pytest.mark.parametrize("path", DOC_FILES, ids=[p.name for p in DOC_FILES])
def test_doc_runs(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment()
    monkeypatch.chdir(tmp_path)
    run_doc(path)


def test_runner_reports_the_failing_line(tmp_path: Path) -> None:
    doc = tmp_path / "broken.md"
    doc.write_text("# t\n\n```python\nx = 1\n```\n\n```text\nnot run\n```\n\n"
                   "```python\ny = x + 1\nraise ValueError('boom')\n```\n")
    assert [b.line for b in python_blocks(doc)] == [4, 12]
    with pytest.raises(pytest.fail.Exception, match=r"starting at line 12 failed at line 13: "
                       r"ValueError: boom"):
        run_doc(doc)


def test_doctest_blocks_check_their_output(tmp_path: Path) -> None:
    doc = tmp_path / "session.md"
    doc.write_text("```python\n>>> x = 2\n>>> x + 1\n3\n```\n\n```python\n>>> x * 10\n21\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"starting at line 8 .*DocBlockError"):
        run_doc(doc)


def test_unclosed_fence_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "open.md"
    doc.write_text("```python\nx = 1\n")
    with pytest.raises(ValueError, match="line 1 is never closed"):
        python_blocks(doc)
