"""A Graphviz that misbehaves (fake ``neato`` scripts first on PATH): garbage, truncated files,
hanging wrappers. Nothing but a whole picture is ever written, and no process outlives a timeout.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from fake_graphviz import alive, fake_neato, kill_if_alive, wait_until_gone
from render_graphs import build_rnn_loss

import tinygraph as tg
from expect_error import expect
from tinygraph.render.formats import PNG_END, PNG_SIGNATURE, picture_fault
from tinygraph.render.graphviz_run import pipe_with_timeout

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake binaries are sh scripts")
pytestmark = posix_only

WHOLE_SVG = '<?xml version="1.0"?>\\n<svg width="8pt"><g id="graph0"></g></svg>'
CUT_SVG = WHOLE_SVG.removesuffix("</g></svg>")


def octal(data: bytes) -> str:
    """``data`` as a printf format string of octal escapes (any bytes, from sh)."""
    return "".join(f"\\{b:03o}" for b in data)


@pytest.fixture
def loss() -> tg.Tensor:
    return build_rnn_loss(3, 1)[0]


@pytest.mark.parametrize("body, fault", [
    ("echo 'this is not a picture'", "not well-formed XML"),
    (f"printf '{CUT_SVG}'", "not well-formed XML: no element found"),
    ("echo '<html><svg></svg></html>'", "its root element is <html>, not <svg>"),
    ("exit 0", "it is empty"),
])
def test_an_svg_that_graphviz_did_not_finish_is_never_written(loss, tmp_path, monkeypatch, body,
                                                              fault):
    fake_neato(tmp_path, monkeypatch, body)
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.svg"),
           "neato -Tsvg exited with code 0 but wrote no whole svg file", fault, "Nothing was written")
    assert not (tmp_path / "pic.svg").exists()


def test_a_whole_svg_from_a_quiet_graphviz_is_written(loss, tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, f"printf '{WHOLE_SVG}'")
    path = tg.render(loss, tmp_path / "pic.svg")
    assert path.read_text() == WHOLE_SVG.replace("\\n", "\n")


@pytest.mark.parametrize("data, fault", [
    (PNG_SIGNATURE + b"\x00\x00\x00\x0dIHDR" + bytes(17), "no IEND chunk at the end: truncated"),
    (b"GIF89a" + PNG_END, "no PNG signature"),
])
def test_a_png_without_its_signature_or_end_is_refused(loss, tmp_path, monkeypatch, data, fault):
    fake_neato(tmp_path, monkeypatch, f"printf '{octal(data)}'")
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.png"), "no whole png file", fault)
    assert not (tmp_path / "pic.png").exists()
    fake_neato(tmp_path, monkeypatch, f"printf '{octal(PNG_SIGNATURE + bytes(25) + PNG_END)}'")
    assert tg.render(loss, tmp_path / "pic.png").read_bytes().endswith(PNG_END)


def test_a_truncated_pdf_and_an_empty_json_are_refused(loss, tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, "printf '%%PDF-1.5\\n1 0 obj'")
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.pdf"),
           "no whole pdf file (no %%EOF at the end: truncated)")
    fake_neato(tmp_path, monkeypatch, "printf '  \\n'")
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.json"),
           "no whole json file (it is empty)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-bin"]


def test_picture_fault_reads_no_external_entity():
    evil = (b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b"<svg>&x;</svg>")
    assert picture_fault(evil, "svg") is None            # parsed, the entity is left unread
    assert picture_fault(b"<svg><g></svg>", "svg").startswith("not well-formed XML")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_timeout_kills_the_wrapper_and_everything_it_started(loss, tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    fake_neato(tmp_path, monkeypatch,        # a child, a grandchild in a subshell, and itself
               f"sleep 30 & echo $! >> {pids}\n"
               f"(sleep 30 & echo $! >> {pids}; wait) & echo $! >> {pids}\n"
               f"echo $$ >> {pids}\nwait")
    try:
        expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.svg", timeout=0.5),
               "ran longer than 0.5 s")
        started = [int(line) for line in pids.read_text().split()]
        assert len(started) == 4
        assert all(wait_until_gone(pid) for pid in started), [p for p in started if alive(p)]
    finally:
        for pid in (int(line) for line in pids.read_text().split()) if pids.exists() else ():
            kill_if_alive(pid)
    assert not (tmp_path / "pic.svg").exists()


def test_a_small_picture_that_times_out_gets_no_fold_advice(loss, tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, "exec sleep 30")
    error = expect(tg.RenderError, lambda: pipe_with_timeout(tg.to_dot(loss), timeout=0.3),
                   "longer than 0.3 s on a picture of", "nodes in 3 steps",
                   "which Graphviz draws in well under a second: check that",
                   "fake-bin/neato works", "or raise timeout=")
    assert "max_steps" not in str(error)
    folded = tg.to_dot(build_rnn_loss(30, 1)[0], max_steps=4)
    error = expect(tg.RenderError, lambda: pipe_with_timeout(folded, timeout=0.3),
                   "in 4 steps (folded)")
    assert "max_steps" not in str(error)


@pytest.mark.parametrize("timeout", ["abc", -1, 0, math.inf, math.nan, True, None, np.array(3.0)])
def test_timeout_must_be_a_positive_number_of_seconds(loss, tmp_path, monkeypatch, timeout):
    fake_neato(tmp_path, monkeypatch, "echo 'Graphviz must not run' >&2; exit 3")
    message = ("timeout must be a positive, finite number of seconds", f"got {timeout!r}")
    expect(tg.ConfigError, lambda: tg.render(loss, tmp_path / "pic", timeout=timeout), "render:",
           *message)
    expect(tg.ConfigError, lambda: tg.draw(loss).pipe(format="svg", timeout=timeout), *message)
    expect(tg.ConfigError, lambda: tg.stepthrough(loss, tmp_path / "p", timeout=timeout),
           "stepthrough:", *message)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-bin"]
