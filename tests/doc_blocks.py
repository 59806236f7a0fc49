"""Markdown code blocks of docs/*.md, which of them show an output, and running them as a reader would.

The rule (docs/README.md states it for writers):

- A ```python (or ```py) block is code. The blocks of one file run in order in one namespace,
  each compiled under the Markdown file's name with its own line numbers, so a traceback points
  at the line of the .md file a reader sees. A block whose first line starts with ``>>>`` is an
  interactive session and runs as a doctest: its outputs are the lines under each prompt.
- A plain-text block (```text, or a fence with no language) right below a python block, with
  only blank lines between the two, is that block's **output**: what the block prints to stdout.
- A ```console block is a shell session: a line starting with ``$`` is a command, the lines
  below it (up to the next ``$``) are what it prints, stdout then stderr. A ``$ tinygraph ...``
  command that shows output is run (``rnn.cli.main``) and its output compared; a command shown
  without output is not run; no other command may show output.
- The line ``<!-- not output -->`` (or ``<!-- not output: why -->``) directly above a plain-text
  or console block says the block is not an output and is not compared. Every other plain-text
  block (after prose, after another text block, after a ``>>>`` session) must carry it, so a
  text block is either compared or visibly exempt, never silently unchecked.
- ```sh, ```bash and the other languages are shown as they are, never run or compared.

Outputs are compared line by line after the caller's normalisations; trailing spaces at the end
of a line are the only whitespace ignored.
"""

from __future__ import annotations

import contextlib
import difflib
import doctest
import io
import os
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FENCE = re.compile(r"^ {0,3}(`{3,})\s*([\w+-]*)")
NOT_OUTPUT = re.compile(r"^\s*<!-- not output(?:: [^>]*)? -->\s*$")
RUNNABLE = {"python", "py"}
PLAIN = {"", "text"}
SESSION = {"console"}
PROMPT = "$ "
CHECKED_COMMAND = "tinygraph"


class DocBlockError(AssertionError):
    """A block printed something other than what the Markdown shows."""


class DocFormatError(ValueError):
    """The Markdown breaks the rule of this module (an unmarked text block, an unclosed fence...)."""


@dataclass
class ShownOutput:
    """What the page shows as an output: its text and the .md line of its first line."""

    line: int
    text: str


@dataclass
class CodeBlock:
    """One runnable block: its source, the line (1-based) of its first code line, its shown output."""

    path: Path
    line: int
    source: str
    output: ShownOutput | None = None

    @property
    def is_session(self) -> bool:
        """A ``>>>`` block: a doctest, whose outputs are inline."""
        return self.source.lstrip().startswith(">>>")


@dataclass
class Command:
    """One ``$ tinygraph ...`` line of a console block and the output shown under it."""

    path: Path
    line: int
    text: str
    output: ShownOutput


@dataclass
class Page:
    """The code blocks of a Markdown file, in order, and its checked shell commands."""

    code: list[CodeBlock] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)


@dataclass
class _Fence:
    """Where a fenced block opens and closes, its language, and whether it is marked not output."""

    language: str
    opened: int          # 0-based index of the opening fence line
    closed: int          # 0-based index of the closing fence line
    exempt: bool


def _fences(path: Path, lines: list[str]) -> list[_Fence]:
    """Every fenced block of ``lines``; raises DocFormatError on an unclosed fence or a stray marker."""
    fences = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            if NOT_OUTPUT.match(lines[i]) and not (i + 1 < len(lines) and FENCE.match(lines[i + 1])):
                raise DocFormatError(f"{path.name}: the <!-- not output --> at line {i + 1} must be "
                                     "directly above the fence of the block it exempts")
            i += 1
            continue
        fence = opening.group(1)
        end = i + 1
        while end < len(lines) and not lines[end].lstrip().startswith(fence):
            end += 1
        if end == len(lines):
            raise DocFormatError(f"{path.name}: the fence opened at line {i + 1} is never closed")
        exempt = i > 0 and bool(NOT_OUTPUT.match(lines[i - 1]))
        fences.append(_Fence(opening.group(2).lower(), i, end, exempt))
        i = end + 1
    return fences


def _directly_after(lines: list[str], before: _Fence, fence: _Fence) -> bool:
    """True when only blank lines separate ``before``'s closing fence from ``fence``'s opening."""
    return all(not line.strip() for line in lines[before.closed + 1:fence.opened])


def _commands(path: Path, fence: _Fence, lines: list[str]) -> list[Command]:
    """The ``$ tinygraph`` commands of a console block that show output; DocFormatError for others."""
    commands: list[Command] = []
    body = list(range(fence.opened + 1, fence.closed))
    starts = [i for i in body if lines[i].startswith(PROMPT)]
    if body and (not starts or starts[0] != body[0]):
        raise DocFormatError(f"{path.name}: the console block at line {fence.opened + 1} must start "
                             f"with a '{PROMPT}command' line")
    for start, stop in zip(starts, [*starts[1:], fence.closed]):
        shown = lines[start + 1:stop]
        if not shown:
            continue
        text = lines[start][len(PROMPT):]
        if shlex.split(text, comments=True)[:1] != [CHECKED_COMMAND]:
            raise DocFormatError(f"{path.name}: line {start + 1} shows the output of '{text}', which "
                                 f"the docs test cannot run: only '{CHECKED_COMMAND} ...' outputs are "
                                 "checked (show the command alone, or mark the block <!-- not output -->)")
        commands.append(Command(path, start + 1, text, ShownOutput(start + 2, "\n".join(shown) + "\n")))
    return commands


def read_page(path: Path) -> Page:
    """Split a Markdown file into its code blocks (with their shown outputs) and checked commands."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = Page()
    before: _Fence | None = None
    for fence in _fences(path, lines):
        content = "\n".join(lines[fence.opened + 1:fence.closed]) + "\n"
        follows_code = before is not None and before.language in RUNNABLE and _directly_after(
            lines, before, fence)
        if fence.exempt and fence.language not in PLAIN | SESSION:
            raise DocFormatError(f"{path.name}: the ```{fence.language} block at line {fence.opened + 1} "
                                 "is not an output block: the <!-- not output --> above it means nothing")
        if fence.language in RUNNABLE:
            page.code.append(CodeBlock(path, fence.opened + 2, content))
        elif fence.language in SESSION and not fence.exempt:
            page.commands += _commands(path, fence, lines)
        elif fence.language in PLAIN and not fence.exempt:
            if not follows_code:
                raise DocFormatError(
                    f"{path.name}: the text block at line {fence.opened + 1} is not directly below a "
                    "python block, so it shows no block's output: put <!-- not output --> on the "
                    "line above its fence, or move it right below the code that prints it")
            if page.code[-1].is_session:
                raise DocFormatError(
                    f"{path.name}: the text block at line {fence.opened + 1} follows a >>> session, "
                    "whose outputs are inline: mark it <!-- not output --> or fold it into the session")
            page.code[-1].output = ShownOutput(fence.opened + 2, content)
        before = fence
    return page


def python_blocks(path: Path) -> list[CodeBlock]:
    """The ```python blocks of a Markdown file, in order, each with the output it shows (if any)."""
    return read_page(path).code


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


def output_lines(text: str) -> list[str]:
    """The lines of ``text`` without the spaces at their ends: the only whitespace ignored."""
    return [line.rstrip() for line in text.splitlines()]


def output_mismatch(shown: ShownOutput, printed: str, normalise: Callable[[str], str],
                    what: str) -> str | None:
    """None if ``printed`` is ``shown`` after ``normalise``; else a message with the .md line and a diff."""
    want, got = output_lines(normalise(shown.text)), output_lines(normalise(printed))
    if want == got:
        return None
    first = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
    diff = difflib.unified_diff(want, got, fromfile=f"shown at line {shown.line}", tofile="printed",
                                lineterm="")
    return (f"the output shown at line {shown.line} is not what {what} printed (first difference at "
            f"line {shown.line + first}):\n" + "\n".join(diff))


class _NormalisingChecker(doctest.OutputChecker):
    """doctest's exact comparison, after the normalisations and without trailing spaces."""

    def __init__(self, normalise: Callable[[str], str]) -> None:
        self.normalise = normalise

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return output_lines(self.normalise(want)) == output_lines(self.normalise(got))


def run_block(block: CodeBlock, namespace: dict[str, object],
              normalise: Callable[[str], str] = lambda text: text) -> None:
    """exec one block in ``namespace``, compiled so that line numbers are the .md file's."""
    if block.is_session:
        run_doctest_block(block, namespace, normalise)
        return
    padded = "\n" * (block.line - 1) + block.source
    exec(compile(padded, str(block.path), "exec"), namespace)


def run_file(path: Path) -> dict[str, object]:
    """Run every python block of ``path`` in order in one fresh namespace; return it."""
    namespace: dict[str, object] = {"__name__": "__doc_" + path.stem}
    for block in python_blocks(path):
        run_block(block, namespace)
    return namespace


def run_doctest_block(block: CodeBlock, namespace: dict[str, object],
                      normalise: Callable[[str], str] = lambda text: text) -> None:
    """Run a ``>>>`` block as a doctest in ``namespace``; raise DocBlockError on a mismatch."""
    test = doctest.DocTestParser().get_doctest(
        block.source, namespace, block.path.name, str(block.path), block.line - 1)
    runner = doctest.DocTestRunner(checker=_NormalisingChecker(normalise))
    report = io.StringIO()
    runner.run(test, out=report.write, clear_globs=False)
    namespace.update(test.globs)  # doctest ran on a copy: later blocks see its names
    if runner.failures:
        raise DocBlockError(report.getvalue())


def run_command(command: Command) -> str:
    """Run a ``$ tinygraph ...`` line through ``rnn.cli.main``; return its stdout, then its stderr."""
    from rnn.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        main(shlex.split(command.text, comments=True)[1:])
    return out.getvalue() + err.getvalue()
