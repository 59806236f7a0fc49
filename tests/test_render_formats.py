"""Which file a picture goes to and in which format: decided once, before any work."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from expect_error import expect
from tinygraph.render import FORMATS, output_format
from tinygraph.render import drawing as draw_module

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz's neato is not installed")


def small_loss() -> tg.Tensor:
    W = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W")
    with tg.scope(t=0):
        h = tg.tanh(tg.Tensor(np.ones((1, 2)), name="x") @ W)
    return h.sum()


@pytest.mark.parametrize("path, fmt, expected", [
    ("pic", None, ("pic.svg", "svg")),
    ("pic", "png", ("pic.png", "png")),
    ("pic.png", None, ("pic.png", "png")),
    ("pic.PNG", None, ("pic.PNG", "png")),
    ("pic.pdf", "pdf", ("pic.pdf", "pdf")),
    ("pic.jpeg", "jpg", ("pic.jpeg", "jpg")),
    ("out/bptt.svg", "SVG", ("out/bptt.svg", "svg")),
    ("pic.dot", None, ("pic.dot", "dot")),
])
def test_the_format_comes_from_format_else_the_suffix_else_svg(path, fmt, expected):
    target, chosen = output_format(path, fmt)
    assert (str(target), chosen) == (str(Path(expected[0])), expected[1])


def test_a_suffix_that_disagrees_or_is_unknown_is_refused_naming_both():
    expect(tg.RenderError, lambda: output_format("pic.png", "svg"),
           "'pic.png' ends in '.png' but format='svg'")
    expect(tg.RenderError, lambda: output_format("pic.xyz"),
           "'pic.xyz' ends in '.xyz', which is not a format Graphviz writes", "'pic.xyz.svg'")
    expect(tg.RenderError, lambda: output_format("lr_0.01", "png"), "'.01'", "'lr_0.01.png'")


@pytest.mark.parametrize("fmt", ["x/y", "png:cairo", "", "exe", 3, True])
def test_a_format_graphviz_does_not_write_is_a_config_error(fmt):
    expect(tg.ConfigError, lambda: output_format("pic", fmt), "render: format must be one of",
           "svg, svgz, png, pdf", f"got {fmt!r}")


def test_every_known_format_maps_to_itself_and_a_directory_is_no_file_name():
    assert all(output_format(f"pic.{f}") == (Path(f"pic.{f}"), f) for f in FORMATS)
    expect(tg.RenderError, lambda: output_format("."), "cannot write '.'", "directory")
    expect(tg.DTypeError, lambda: output_format(None), "a str or a path, got NoneType")


def test_render_refuses_bad_formats_before_any_work(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("no work may happen before the format is checked")
    loss = small_loss()
    dot = tg.draw(loss)
    monkeypatch.setattr(draw_module, "to_dot", never)
    monkeypatch.setattr(draw_module, "pipe_with_timeout", never)
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.png", format="svg"),
           "ends in '.png' but format='svg'")
    expect(tg.RenderError, lambda: tg.render(loss, tmp_path / "pic.jpgg"), "'.jpgg'")
    expect(tg.ConfigError, lambda: tg.render(loss, tmp_path / "pic", format="x/y"), "'x/y'")
    expect(tg.ConfigError, lambda: dot.render(tmp_path / "d", format="x/y"), "'x/y'")
    assert list(tmp_path.iterdir()) == []


@needs_graphviz
def test_render_to_pic_png_writes_a_png_named_pic_png(tmp_path):
    path = tg.render(small_loss(), tmp_path / "pic.png")
    assert path == tmp_path / "pic.png"
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pic.png"]
    assert tg.render(small_loss(), tmp_path / "pic").name == "pic.svg"
    assert tg.render(small_loss(), tmp_path / "doc.PDF").read_bytes().startswith(b"%PDF")
