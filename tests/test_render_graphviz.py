"""Rendering with the real Graphviz binary, and the errors around it."""

from __future__ import annotations

import shutil
import subprocess

import graphviz
import pytest
from render_graphs import build_rnn_loss

import tinygraph as tg
from fake_graphviz import fake_neato
from tinygraph.render import graphviz_run as run_module
from tinygraph.render.graphviz_run import pipe_with_timeout

needs_graphviz = pytest.mark.skipif(
    shutil.which("neato") is None,
    reason="Graphviz's neato is not installed (sudo apt-get install graphviz)")


@pytest.fixture(scope="module")
def loss():
    return build_rnn_loss(4, 2)[0]


@needs_graphviz
@pytest.mark.parametrize("view", ["forward", "backward", "both", "rolled"])
def test_svg_is_complete_and_keeps_our_positions(loss, view, tmp_path):
    path = tg.render(loss, tmp_path / "bptt", format="svg", view=view)
    svg = path.read_text()
    assert path.name == "bptt.svg" and svg.rstrip().endswith("</svg>")
    if view != "rolled":
        assert all(f">t = {t}</text>" in svg for t in range(4))
    assert ">How to read</text>" in svg


@needs_graphviz
def test_png_and_large_png_stay_under_the_bitmap_cap(loss, tmp_path):
    data = tg.render(loss, tmp_path / "bptt", format="png", view="both").read_bytes()
    assert data.startswith(b"\x89PNG")
    width = int.from_bytes(data[16:20], "big")
    assert 1000 < width < 32767
    long_loss = build_rnn_loss(128, 1)[0]
    big = tg.render(long_loss, tmp_path / "long", format="png", view="forward").read_bytes()
    assert int.from_bytes(big[16:20], "big") <= 32000


@needs_graphviz
def test_draw_returns_a_digraph_that_renders_the_same(loss, tmp_path):
    dot = tg.draw(loss, view="backward")
    assert isinstance(dot, graphviz.Digraph) and dot.engine == "neato"
    notebook = tg.to_dot(loss, "backward", width=1000, max_steps=8)   # draw's defaults
    assert dot.source.splitlines()[1:] == notebook.splitlines()[1:]
    out = dot.render(tmp_path / "d", format="svg")      # neato -n2 by default
    assert open(out).read().rstrip().endswith("</svg>")
    assert dot._repr_image_svg_xml().startswith("<?xml")
    assert tg.render(dot, tmp_path / "again", format="svg").exists()


@needs_graphviz
def test_escaped_names_render_as_text(tmp_path):
    W = tg.Tensor([[1.0]], requires_grad=True, name='<script>"];')
    y = (tg.Tensor([[2.0]], name="x") @ W).sum()
    svg = tg.render(y, tmp_path / "esc", format="svg", view="both").read_text()
    assert "&lt;script&gt;&quot;];" in svg and "<script>" not in svg


def test_missing_binary_raises_with_install_hint(loss, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(tg.RenderError, match="apt-get install graphviz"):
        tg.render(loss, tmp_path / "x", format="svg")
    assert "digraph" in tg.to_dot(loss, "backward")      # text needs no binary


def test_timeout_raises_with_the_fold_hint(tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, "exec sleep 30")
    with pytest.raises(tg.RenderError, match=r"longer than 0.5 s.* 24 steps.*max_steps=12"):
        pipe_with_timeout(tg.to_dot(build_rnn_loss(24, 1)[0]), "svg", timeout=0.5)


def test_exit_code_one_with_a_complete_file_is_accepted(tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, "echo '<svg>ok</svg>'; echo init_rank >&2; exit 1")
    assert pipe_with_timeout("digraph {}", "svg") == b"<svg>ok</svg>\n"
    fake_neato(tmp_path, monkeypatch, "printf '<svg>cut'; echo syntax error >&2; exit 1")
    with pytest.raises(tg.RenderError, match="exited with code 1: syntax error"):
        pipe_with_timeout("digraph {}", "svg")


def test_digraph_pipe_and_render_use_the_timeout_runner(loss, tmp_path, monkeypatch):
    dot = tg.draw(loss, "backward")
    svg = dot.pipe(format="svg", encoding="utf-8")
    assert svg.rstrip().endswith("</svg>")
    written = dot.render(tmp_path / "bptt", format="svg")
    assert written == str(tmp_path / "bptt.svg") and (tmp_path / "bptt").read_text() == dot.source

    fake_neato(tmp_path, monkeypatch, "exec sleep 30")
    with pytest.raises(tg.RenderError, match=r"longer than 0.25 s.*raise timeout="):
        dot.pipe(format="svg", timeout=0.25)

    class TimesOutAtOnce(subprocess.Popen):
        def communicate(self, input=None, timeout=None):  # noqa: A002
            raise subprocess.TimeoutExpired(self.args, timeout)
    monkeypatch.setattr(run_module.subprocess, "Popen", TimesOutAtOnce)
    with pytest.raises(tg.RenderError, match=r"longer than 60 s.*raise timeout="):
        dot.render(tmp_path / "slow", format="svg")


def test_digraph_without_the_binary_raises_with_install_hint(loss, tmp_path, monkeypatch):
    dot = tg.draw(loss, "forward")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(tg.RenderError, match="apt-get install graphviz"):
        dot.pipe(format="svg")
    with pytest.raises(tg.RenderError, match="apt-get install graphviz"):
        dot.render(tmp_path / "x", format="png")


def test_digraph_failure_is_a_render_error(loss, tmp_path, monkeypatch):
    fake_neato(tmp_path, monkeypatch, "echo 'Error: bad label' >&2; exit 1")
    with pytest.raises(tg.RenderError, match="exited with code 1: Error: bad label"):
        tg.draw(loss).pipe(format="svg")


def test_unwritable_paths_are_refused_before_graphviz_runs(loss, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("Graphviz must not run")
    monkeypatch.setattr(run_module.subprocess, "Popen", never)
    missing = tmp_path / "missing" / "dir" / "a"
    with pytest.raises(tg.RenderError, match=r"a\.svg'.*directory '.*dir' does not exist"):
        tg.render(loss, missing)
    (tmp_path / "out.svg").mkdir()
    with pytest.raises(tg.RenderError, match=r"out\.svg': it is an existing directory"):
        tg.render(loss, tmp_path / "out", format="svg")
    (tmp_path / "afile").write_text("")
    with pytest.raises(tg.RenderError, match="is a file, not a directory"):
        tg.render(loss, tmp_path / "afile" / "x.svg")
    with pytest.raises(tg.RenderError, match="does not exist"):
        tg.draw(loss).render(missing, format="svg")
