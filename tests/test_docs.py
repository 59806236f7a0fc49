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
import dataclasses
import importlib.util
import io
import itertools
import re
import shutil
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from doc_blocks import (
    DocBlockError,
    DocFormatError,
    ShownOutput,
    output_mismatch,
    python_blocks,
    quiet_environment,
    read_page,
    run_block,
    run_command,
)

import rnn
import tinygraph as tg
import tinygraph.node as node_module
import tinygraph.versions as versions
from tinygraph import spellings
from rnn import analysis, charlm, cli, memory_task, plots

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


@contextlib.contextmanager
def fresh_session() -> Iterator[None]:
    """The state a reader's new interpreter has: numpy's default print options, and node ids
    (``Node(mul, id=3)``, read off the engine's one clock, tinygraph.versions.clock) counted from
    0. Afterwards the print options are restored and the clock continues above every value
    handed out, so no id is reused."""
    before, last_write = versions.clock, versions.last_write
    node_module.clock = versions.clock = itertools.count()
    versions.last_write = -1
    try:
        with np.printoptions(**NUMPY_PRINT_DEFAULTS):
            yield
    finally:
        resume = itertools.count(max(next(before), next(versions.clock)))
        node_module.clock = versions.clock = resume
        versions.last_write = max(last_write, versions.last_write)


def normalise(text: str) -> str:
    """``text`` with every NORMALISATIONS pattern replaced by its placeholder."""
    for rule in NORMALISATIONS:
        text = rule.pattern.sub(rule.replacement, text)
    return text


def run_doc(path: Path) -> None:
    """Run the blocks of ``path``; fail with the block's line, or with every output that differs."""
    with fresh_session():
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


def test_a_correct_output_block_passes(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\nfor i in range(3):\n    print(i, 'x' * i)\n```\n\n```text\n"
                          "0\n1 x\n2 xx\n```\n")
    run_doc(doc)


def test_a_changed_output_block_fails_with_its_line_and_a_diff(tmp_path: Path) -> None:
    doc = write(tmp_path, "# page\n\n```python\nprint([1, 2])\nprint('same')\n```\n\n```text\n"
                          "[1, 2, 2]\nsame\n```\n")
    with pytest.raises(pytest.fail.Exception) as failure:
        run_doc(doc)
    message = str(failure.value)
    assert "page.md: 1 shown output(s) differ" in message
    assert ("the output shown at line 9 is not what the python block starting at line 4 printed "
            "(first difference at line 9)") in message
    assert "--- shown at line 9\n+++ printed\n" in message
    assert "\n-[1, 2, 2]\n+[1, 2]\n same" in message


def test_every_differing_block_of_a_page_is_reported(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\nprint(1)\n```\n```text\n1\n```\n\n```python\nprint(2)\n```\n"
                          "```text\n3\n```\n\n```python\nprint(4)\nprint(5)\n```\n```text\n4\n```\n")
    with pytest.raises(pytest.fail.Exception) as failure:
        run_doc(doc)
    message = str(failure.value)
    assert "2 shown output(s) differ" in message
    assert "shown at line 12 is not what the python block starting at line 9 printed (first difference " \
        "at line 12)" in message
    assert "shown at line 20 is not what the python block starting at line 16 printed (first difference " \
        "at line 21)" in message
    assert "shown at line 5 " not in message and "\n+5" in message


def test_an_output_block_shows_everything_and_only_what_was_printed(tmp_path: Path) -> None:
    silent = write(tmp_path, "```python\nx = 1\n```\n\n```text\n1\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"first difference at line 6\)"):
        run_doc(silent)
    extra_line = write(tmp_path, "```python\nprint(1)\nprint(2)\n```\n\n```text\n1\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"\n\+2"):
        run_doc(extra_line)


def test_only_trailing_spaces_are_forgiven(tmp_path: Path) -> None:
    run_doc(write(tmp_path, "```python\nprint('a  ')\nprint('b')\n```\n\n```text\na\nb   \n```\n"))
    for shown in (" a\nb", "a\n\nb", "a b\nb", "a\nb\n"):
        doc = write(tmp_path, f"```python\nprint('a')\nprint('b')\n```\n\n```text\n{shown}\n```\n")
        with pytest.raises(pytest.fail.Exception, match="differ"):
            run_doc(doc)


def test_the_normalisations_are_the_named_ones_only(tmp_path: Path) -> None:
    assert [rule.name for rule in NORMALISATIONS] == ["memory address", "duration of a measured run"]
    assert normalise("at 0x7f3a2c1b9d40 and 0x7f00aa11bb22") == "at 0x… and 0x…"
    assert normalise("780 updates in 10.9 s on one core, in 7 s") == "780 updates in … s on one core, in … s"
    unchanged = "0.1 1e-16 4.440892098500626e-16 /tmp/x 12.3 s 0x1f (1, 0) in 3 steps"
    assert normalise(unchanged) == unchanged
    run_doc(write(tmp_path, "```python\nprint(object.__repr__(object()))\n```\n\n```text\n"
                            "<object object at 0x7f0000000000>\n```\n"))


def test_a_marked_block_is_not_compared(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\nprint(1)\n```\n\n<!-- not output: an example file -->\n"
                          "```text\nanything\n```\n")
    assert python_blocks(doc)[0].output is None
    run_doc(doc)


def test_an_unmarked_text_block_after_prose_is_refused(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\nprint(1)\n```\n\nIt prints one:\n\n```text\n2\n```\n")
    with pytest.raises(DocFormatError, match=r"page.md: the text block at line 7 is not directly "
                       r"below a python block.*<!-- not output -->"):
        read_page(doc)
    bare = write(tmp_path, "# t\n\n```\nExceptions\n```\n")
    with pytest.raises(DocFormatError, match="text block at line 3"):
        read_page(bare)


def test_a_marker_must_sit_on_a_text_or_console_fence(tmp_path: Path) -> None:
    with pytest.raises(DocFormatError, match="line 1 must be directly above the fence"):
        read_page(write(tmp_path, "<!-- not output -->\n\n```text\nx\n```\n"))
    with pytest.raises(DocFormatError, match="python block at line 2 is not an output block"):
        read_page(write(tmp_path, "<!-- not output -->\n```python\nx = 1\n```\n"))


def test_doctest_blocks_check_their_output(tmp_path: Path) -> None:
    doc = write(tmp_path, "```python\n>>> x = 2\n>>> x + 1\n3\n```\n\n```python\n>>> x * 10\n21\n```\n")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)session starting at line 8:.*line 8, in page.md\n"
                       r"Failed example:\n    x \* 10\n"
                       r"Expected:\n    21\nGot:\n    20"):
        run_doc(doc)


def test_doctest_blocks_compare_exactly_after_the_normalisations(tmp_path: Path) -> None:
    run_doc(write(tmp_path, "```python\n>>> print(object.__repr__(object()))\n"
                            "<object object at 0x7f0000000000>\n```\n"))
    for shown in ("[1,  2]", "[1, ...]"):
        with pytest.raises(pytest.fail.Exception, match="session starting at line 2"):
            run_doc(write(tmp_path, f"```python\n>>> [1, 2]\n{shown}\n```\n"))
    with pytest.raises(DocFormatError, match="follows a >>> session"):
        read_page(write(tmp_path, "```python\n>>> print(1)\n1\n```\n\n```text\n1\n```\n"))


def test_console_sessions_run_tinygraph_commands(tmp_path: Path) -> None:
    good = ("```console\n$ tinygraph check --steps 0\n"
            "tinygraph check: error: argument --steps/-T: expected an integer from 1 to 10,000, got 0 "
            "(see 'tinygraph check --help')\n$ make demo\n```\n")
    page = read_page(write(tmp_path, good))
    assert [(c.line, c.text) for c in page.commands] == [(2, "tinygraph check --steps 0")]
    run_doc(write(tmp_path, good))
    with pytest.raises(pytest.fail.Exception, match=r"not what 'tinygraph check --steps 1x' \(line 2\) "
                       r"printed"):
        run_doc(write(tmp_path, good.replace("--steps 0\n", "--steps 1x\n")))
    with pytest.raises(DocFormatError, match="line 2 shows the output of 'make demo'"):
        read_page(write(tmp_path, "```console\n$ make demo\nbuilding\n```\n"))
    run_doc(write(tmp_path, "<!-- not output -->\n```console\n$ make demo\nbuilding\n```\n"))


def test_a_page_starts_from_numpy_defaults_and_leaves_them(tmp_path: Path) -> None:
    first = tmp_path / "first.md"
    first.write_text("```python\nimport numpy as np\nnp.set_printoptions(precision=2, suppress=True)\n"
                     "print(np.array([1 / 3]))\n```\n\n```text\n[0.33]\n```\n")
    second = tmp_path / "second.md"
    second.write_text("```python\nimport numpy as np\nprint(np.array([1 / 3, 1e-9]))\n```\n\n"
                      "```text\n[3.33333333e-01 1.00000000e-09]\n```\n")
    with np.printoptions(precision=3):
        run_doc(first)
        run_doc(second)
        assert np.get_printoptions()["precision"] == 3


def test_a_page_numbers_its_nodes_from_0_and_later_ids_stay_unique(tmp_path: Path) -> None:
    earlier = [tg.Tensor(1.0, requires_grad=True) * 2 for _ in range(5)]
    page = write(tmp_path, "```python\nimport tinygraph as tg\nx = tg.Tensor(1.0, requires_grad=True)\n"
                           "print((x * x + x).producer, (-x).producer)\n```\n\n"
                           "```text\nNode(add, id=1) Node(neg, id=2)\n```\n")
    run_doc(page)
    run_doc(page)
    later = tg.Tensor(1.0, requires_grad=True) * 2
    assert later.producer.id > max(t.producer.id for t in earlier)
    assert later.producer.id > 2


def test_unclosed_fence_is_an_error(tmp_path: Path) -> None:
    doc = tmp_path / "open.md"
    doc.write_text("```python\nx = 1\n")
    with pytest.raises(ValueError, match="line 1 is never closed"):
        python_blocks(doc)


# ---------------------------------------------------------------- docs/api.md lists every public name
API = DOCS / "api.md"
# the variable name api.md writes each class's members with: `x.grad`, `net.layers`, ...
MEMBERS_WRITTEN_AS = {"x": tg.Tensor, "node": tg.Node, "op": tg.Op, "trace": tg.Trace, "step": tg.Compiled,
                      "report": tg.GradcheckReport, "nodes": tg.NodeCheckReport, "net": rnn.RNN,
                      "cell": rnn.ElmanCell, "lstm": rnn.LSTMCell, "gru": rnn.GRUCell,
                      "readout": rnn.Linear, "opt": rnn.Optimizer, "vocab": charlm.Vocabulary,
                      "model": charlm.CharLM, "task": memory_task.MemoryTask}
SUBMODULES = {"analysis": analysis, "plots": plots, "charlm": charlm, "memory_task": memory_task,
              "cli": cli}


def missing_from_api(prefix: str, names: list[str] | set[str]) -> list[str]:
    """The names that docs/api.md never writes as `prefix.name (in backquotes)."""
    text = API.read_text(encoding="utf-8")
    return sorted(f"{prefix}.{name}" for name in names
                  if not re.search(rf"`{re.escape(prefix)}\.{re.escape(name)}(?!\w)", text))


def public_members(cls: type) -> set[str]:
    """The public attributes, methods, properties and dataclass fields a class defines itself
    or inherits from a project class (not from object, list, dict...)."""
    names = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for klass in cls.__mro__:
        if klass.__module__ != "builtins":
            names |= {name for name in vars(klass) if not name.startswith("_")}
    return names - set(spellings.TENSOR_NAMES)  # PyTorch's names that only say what to write


def module_names(module: ModuleType) -> set[str]:
    """The public functions and classes a module defines (not the ones it imports)."""
    return {name for name, value in vars(module).items() if not name.startswith("_")
            and getattr(value, "__module__", None) == module.__name__}


def test_api_md_lists_every_exported_name() -> None:
    assert missing_from_api("tg", tg.__all__) == []
    assert missing_from_api("rnn", rnn.__all__) == []


def test_api_md_lists_every_public_member_and_submodule_name() -> None:
    missing = [name for prefix, cls in MEMBERS_WRITTEN_AS.items()
               for name in missing_from_api(prefix, public_members(cls))]
    missing += [name for prefix, module in SUBMODULES.items()
                for name in missing_from_api(prefix, module_names(module))]
    assert missing == []


def test_the_api_check_sees_a_missing_name() -> None:
    assert missing_from_api("tg", ["grad", "gradient_of_nothing"]) == ["tg.gradient_of_nothing"]
    assert missing_from_api("x", ["grad", "gra"]) == ["x.gra"]
    assert {"grad", "backward", "T", "consumers", "data"} <= public_members(tg.Tensor)
    assert "append" not in public_members(tg.Trace) and "junction_of" in public_members(tg.Trace)
    assert {"rows", "culprit", "ok"} <= public_members(tg.GradcheckReport)
    assert "np" not in module_names(analysis) and "impulse_response" in module_names(analysis)
