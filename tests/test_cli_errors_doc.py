"""docs/errors.md, "The tinygraph command": every row is a real command line and its real line."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from rnn.cli import main

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
ROW = re.compile(r"^\| `tinygraph (?P<argv>[^`]+)` \| (?P<code>\d) \| (?P<message>.+) \|$")


def command_rows() -> list[tuple[str, int, str]]:
    """(arguments, exit code, stderr line) of every row of the section."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### The tinygraph command", 1)[1].split("\n## ", 1)[0]
    return [(m["argv"], int(m["code"]), m["message"]) for m in map(ROW.match, section.splitlines())
            if m]


def test_the_section_lists_the_refusals_of_every_subcommand():
    rows = command_rows()
    assert len(rows) >= 20
    assert {argv.split()[0] for argv, _, _ in rows} == {"demo", "render", "check", "train", "vanish"}


@pytest.mark.parametrize("argv, code, message", command_rows())
def test_each_row_is_what_the_command_prints(argv: str, code: int, message: str, capsys,
                                            tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(shlex.split(argv)) == code
    captured = capsys.readouterr()
    assert captured.out == "" and not list(tmp_path.iterdir())
    assert captured.err == message + "\n"
