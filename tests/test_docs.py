"""The docs runner: every code block of docs/*.md (and the README) runs, and prints what the page shows.

One test per Markdown file (found by glob, so a tutorial added later is picked up). The python
blocks of a file run in order in one fresh namespace, in a temporary working directory (files a
tutorial writes land there), with one BLAS thread and matplotlib's Agg backend. Every output the
page shows is compared with what its code printed, by the rule of tests/doc_blocks.py (stated
for writers in docs/README.md): the text block right below a python block, the lines under a
``>>>`` prompt, and the lines under a ``$ tinygraph ...`` command of a console block. Only the
NORMALISATIONS below are applied to both sides first, plus the removal of trailing spaces.

A failure names the file, the line of the block and the line of the first difference, with a
diff; a block that raises is reported with its line and a traceback that points into the .md
file. A doc that needs an optional extra which is not installed (matplotlib, tqdm, torch) is
skipped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import re
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from doc_blocks import (
    DocBlockError,
    ShownOutput,
    output_mismatch,
    python_blocks,
    quiet_environment,
    read_page,
    run_block,
    run_command,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
OPTIONAL = {"matplotlib", "tqdm", "torch"}
DOC_FILES = [*sorted(DOCS.glob("*.md")), DOCS.parent / "README.md"]


@dataclass(frozen=True)
class Normalisation:
    """One thing that must vary from run to run, written the same way on both sides."""

    name: str
    pattern: re.Pattern[str]
    replacement: str


NORMALISATIONS = [
    Normalisation("memory address", re.compile(r"\b0x[0-9a-fA-F]{6,}\b"), "0x…"),
    Normalisation("duration of a measured run", re.compile(r"\bin \d+(?:\.\d+)? s\b"), "in … s"),
]
# numpy's own defaults: every page starts from them, as in a fresh interpreter, and what a page
# sets (np.set_printoptions) is undone after it
NUMPY_PRINT_DEFAULTS = {"edgeitems": 3, "threshold": 1000, "floatmode": "maxprec", "precision": 8,
                        "suppress": False, "linewidth": 75, "nanstr": "nan", "infstr": "inf",
                        "sign": "-", "formatter": None, "legacy": False}


def normalise(text: str) -> str:
    """``text`` with every NORMALISATIONS pattern replaced by its placeholder."""
    for rule in NORMALISATIONS:
        text = rule.pattern.sub(rule.replacement, text)
    return text


def run_doc(path: Path) -> None:
    """Run the blocks of ``path``; fail with the block's line, or with every output that differs."""
    with np.printoptions(**NUMPY_PRINT_DEFAULTS):
        check_page(path)


def check_page(path: Path) -> None:
    """run_doc's work, under whatever print options are in force."""
    page = read_page(path)
    namespace: dict[str, object] = {"__name__": "__doc_" + path.stem}
    mismatches = []
    for block in page.code:
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                run_block(block, namespace, normalise)
        except ModuleNotFoundError as error:
            if error.name and error.name.split(".")[0] in OPTIONAL:
                pytest.skip(f"{path.name}: block at line {block.line} needs {error.name}, "
                            "an optional extra that is not installed")
            raise
        except DocBlockError as error:
            mismatches.append(f"the >>> session starting at line {block.line}:\n{error}")
            continue
        except Exception as error:
            frames = [f for f in traceback.extract_tb(error.__traceback__)
                      if f.filename == str(path)]
            where = f"line {frames[-1].lineno}" if frames else "its first line"
            pytest.fail(
                f"{path.name}: the python block starting at line {block.line} failed at "
                f"{where}: {type(error).__name__}: {error}\n"
                + "".join(traceback.format_exception(error)), pytrace=False)
        if block.output is not None:
            mismatches.append(output_mismatch(block.output, printed.getvalue(), normalise,
                                              f"the python block starting at line {block.line}"))
    for command in page.commands:
        mismatches.append(output_mismatch(command.output, run_command(command), normalise,
                                          f"'{command.text}' (line {command.line})"))
    found = [m for m in mismatches if m]
    if found:
        pytest.fail(f"{path.name}: {len(found)} shown output(s) differ from what the code printed\n\n"
                    + "\n\n".join(found), pytrace=False)


@pytest.mark.parametrize("path", DOC_FILES, ids=[str(p.relative_to(DOCS.parent)) for p in DOC_FILES])
def test_doc_runs_and_prints_what_it_shows(path: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    quiet_environment()
    monkeypatch.chdir(tmp_path)
    run_doc(path)


def test_language_model_measured_section_is_what_its_script_writes(tmp_path: Path) -> None:
    """docs/language_model.md's samples and loss table come from scripts/make_lm_docs.py: rerun it."""
    script = DOCS.parent / "scripts" / "make_lm_docs.py"
    spec = importlib.util.spec_from_file_location("make_lm_docs", script)
    assert spec is not None and spec.loader is not None
    make_lm_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_lm_docs)
    doc = DOCS / "language_model.md"
    rerun = tmp_path / doc.name
    shutil.copy(doc, rerun)
    make_lm_docs.DOC, make_lm_docs.IMAGE = rerun, tmp_path / "lm_loss.svg"
    with contextlib.redirect_stdout(io.StringIO()):
        make_lm_docs.main()
    text = doc.read_text(encoding="utf-8")
    begin = text.index(make_lm_docs.BEGIN)
    shown = ShownOutput(text[:begin].count("\n") + 1, text[begin:].split(make_lm_docs.END)[0])
    written = rerun.read_text(encoding="utf-8")
    mismatch = output_mismatch(shown, written[written.index(make_lm_docs.BEGIN):].split(make_lm_docs.END)[0],
                               normalise, str(script.relative_to(DOCS.parent)))
    assert mismatch is None, f"{doc.name}: {mismatch}\n(run the script to update the page)"


# ---------------------------------------------------------------- the runner itself
def write(tmp_path: Path, text: str) -> Path:
    doc = tmp_path / "page.md"
    doc.write_text(text, encoding="utf-8")
    return doc


def test_runner_reports_the_failing_line(tmp_path: Path) -> None:
    doc = write(tmp_path, "# t\n\n```python\nx = 1\n```\n\n<!-- not output -->\n```text\nnot run\n```\n\n"
                          "```python\ny = x + 1\nraise ValueError('boom')\n```\n")
    assert [b.line for b in python_blocks(doc)] == [4, 13]
    with pytest.raises(pytest.fail.Exception, match=r"starting at line 13 failed at line 14: "
                       r"ValueError: boom"):
        run_doc(doc)


def test_doctest_blocks_check_their_output(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\n>>> x = 2\n>>> x + 1\n3\n```\n\n```python\n>>> x * 10\n21\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)session starting at line 8:.*line 8, in page.md\n"
                       r"Failed example:\n    x \* 10\n"
                       r"Expected:\n    21\nGot:\n    20"):
        run_doc(doc)


def test_unclosed_fence_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "open.md"
    doc.write_text("```python\nx = 1\n")
    with pytest.raises(ValueError, match="line 1 is never closed"):
        python_blocks(doc)
