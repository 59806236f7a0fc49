"""docs/checking_gradients.md is real: its code blocks run and print the outputs shown there.

Errors below 1e-6 (rounding noise, e.g. 3.61e-10) may differ across platforms and BLAS
builds, so they are compared as "tiny"; every other character must match.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import re
import warnings
from pathlib import Path

import numpy as np

DOC = Path(__file__).resolve().parent.parent / "docs" / "checking_gradients.md"
BLOCK = re.compile(r"```(python|text)\n(.*?)```", re.DOTALL)
TINY = re.compile(r"\b\d\.\d+e-(?:0[7-9]|[1-9]\d)\b")


def doc_examples(text: str) -> list[tuple[str, str]]:
    """(code, expected output) for each python block followed by a text block."""
    blocks = BLOCK.findall(text)
    return [(code, out) for (kind, code), (next_kind, out) in itertools.pairwise(blocks)
            if kind == "python" and next_kind == "text"]


def run_examples(examples: list[tuple[str, str]]) -> list[str]:
    """Run the code blocks one after the other in one namespace; return what each printed."""
    namespace: dict[str, object] = {"__name__": "checking_gradients"}
    printed = []
    with np.printoptions(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for code, _ in examples:
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, str(DOC), "exec"), namespace)
            printed.append(buffer.getvalue())
    return printed


def normalise(text: str) -> str:
    return TINY.sub("tiny", text).rstrip()


def test_doc_blocks_print_what_the_doc_shows() -> None:
    examples = doc_examples(DOC.read_text())
    assert len(examples) == 5
    for (code, expected), got in zip(examples, run_examples(examples)):
        assert normalise(got) == normalise(expected), f"block:\n{code}\nprinted:\n{got}"
