"""Names cannot break or change a picture: any str as a tensor name, scope value or title.

A hostile name (DOT syntax, HTML, NUL, a lone surrogate, control characters, 16,385
characters) must give the same picture as a plain one, with the name shown safely, in the
DOT text, in Graphviz's SVG and in the step-through page; a scope tag that cannot name a
step (a list) is refused where the scope is entered.
"""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

import tinygraph as tg
from dot_text import edges, label, nodes
from expect_error import expect
from tinygraph.render.safe_text import NAME_LIMIT, TEXT_LIMIT, safe_text, shorten
from tinygraph.scope import scoped_range

needs_graphviz = pytest.mark.skipif(shutil.which("neato") is None,
                                    reason="Graphviz's neato is not installed")

HOSTILE = {
    "nul": "a\x00b",
    "lone surrogate": "h\udc80",
    "control": "\x1b[31mred\r\x7f",
    "non-character": "x\ufffe",
    "long": "w" * 16385,
    "script": "<script>alert(1)</script>",
    "dot syntax": '"]; a -> b [',
    "quoted edge": 'x" -> "y',
    "label escapes": "\\N\\G\\l",
    "entities": "&lt;b&gt;&amp;",
    "newline": "two\nlines",
}
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def named_rnn(name: str) -> tg.Tensor:
    """L = Σ_t sum(tanh(x_t W + h_(t−1) U)), T = 3, every tensor and the layer tag is ``name``."""
    rng = np.random.default_rng(0)
    W = tg.Tensor(rng.normal(size=(2, 2)), requires_grad=True, name=name)
    U = tg.Tensor(rng.normal(size=(2, 2)), requires_grad=True, name=name)
    h = tg.Tensor(np.zeros((1, 2)), name=name)
    terms = []
    for t in range(3):
        with tg.scope(t=t, layer=name):
            h = tg.tanh(tg.Tensor(rng.normal(size=(1, 2)), name=name) @ W + h @ U)
            h.name = name
            terms.append(h.sum())
    loss = terms[0] + terms[1] + terms[2]
    loss.name = name
    return loss


def labels_of(text: str) -> set[str]:
    """Every node and edge label, as plain text."""
    return {label(a) for a in nodes(text).values()} | {label(a) for *_, a in edges(text)}


def tooltips_of(text: str) -> set[str]:
    """Every tooltip (an edge whose label found no room carries it as its tooltip)."""
    return {m.replace('\\"', '"') for m in re.findall(r'tooltip="((?:[^"\\]|\\.)*)"', text)}


def skeleton(text: str) -> list[str]:
    """The DOT text without its strings and attributes: which nodes, edges and clusters."""
    return [re.sub(r"\[.*\]", "[…]", QUOTED.sub('""', line)) for line in text.splitlines()]


PLAIN = {view: skeleton(tg.to_dot(named_rnn("h"), view))
         for view in ("forward", "backward", "both", "rolled")}


@pytest.mark.parametrize("view", ["forward", "backward", "both", "rolled"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_name_changes_nothing_in_the_dot_text(case, view):
    text = tg.to_dot(named_rnn(HOSTILE[case]), view)
    assert skeleton(text) == PLAIN[view]
    text.encode("utf-8")                                   # no lone surrogate is left
    assert not UNSAFE.search(text)
    assert max(len(q) for q in QUOTED.findall(text)) < 16384   # Graphviz's limit per string


def test_unsafe_characters_are_shown_as_escapes_and_long_names_cut():
    assert safe_text("a\x00b\udc80\x1b\ufffe\ttab\nline") == "a\\x00b\\udc80\\x1b\\ufffe\ttab\nline"
    text = tg.to_dot(named_rnn("a\x00b"), "forward", show_shapes=True)
    assert "a\\x00b [1×2]" in labels_of(text)               # shown as the escape \x00
    long = "w" * 500
    text = tg.to_dot(named_rnn(long), "both")
    cut = "w" * (NAME_LIMIT - 1) + "…"
    assert cut in labels_of(text) and f"∂L/∂{cut}" in labels_of(text) | tooltips_of(text)
    assert f'tooltip="{long}"' in text                     # the whole name where there is room
    assert f'tooltip="parameter {long} [2×2], the same tensor at every step"' in text
    huge = tg.to_dot(named_rnn("w" * 16385), "forward")
    assert f'tooltip="{"w" * (TEXT_LIMIT - 1)}…"' in huge
    assert shorten(["a", 1]) == "['a', 1]"


@needs_graphviz
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_name_renders_the_same_svg_with_the_name_as_text(case, tmp_path):
    svg = tg.render(named_rnn(HOSTILE[case]), tmp_path / "pic.svg", view="both").read_text("utf-8")
    plain = tg.render(named_rnn("h"), tmp_path / "plain.svg", view="both").read_text("utf-8")
    for kind in ("node", "edge", "cluster"):
        assert svg.count(f'class="{kind}"') == plain.count(f'class="{kind}"')
    assert "<script" not in svg and not UNSAFE.search(svg)
    shown = {"nul": "a\\x00b", "lone surrogate": "h\\udc80", "script": "&lt;script&gt;alert(1)",
             "dot syntax": "&quot;]; a &#45;&gt; b [", "entities": "&amp;lt;b&amp;gt;&amp;amp;",
             "label escapes": "\\N\\G\\l"}
    if case in shown:
        assert f">{shown[case]}" in svg


@needs_graphviz
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_name_makes_the_same_stepthrough_page(case, tmp_path):
    from explore_pages import page_data, svg_keys
    path = tg.stepthrough(named_rnn(HOSTILE[case]), tmp_path / "page", title=HOSTILE[case])
    page = path.read_text("utf-8")
    plain = tg.stepthrough_html(named_rnn("h"), title="h")
    assert svg_keys(page) == svg_keys(plain)
    assert len(page_data(page)["frames"]) == len(page_data(plain)["frames"])
    for marker in ("<script", "<div", "<button"):
        assert page.count(marker) == plain.count(marker), marker
    assert not UNSAFE.search(page)
    if case == "script":
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("value", [[1, 2], (1, 2), {"a": 1}, np.array(3), np.zeros(3), 1j, object])
def test_a_scope_tag_that_cannot_name_a_step_is_refused_where_it_is_entered(value):
    expect(tg.ConfigError, lambda: tg.scope(t=value), f"scope: tag t={value!r}"[:20],
           f"is a {type(value).__name__}", "must be an int, float, str, bool or None")
    expect(tg.ConfigError, lambda: next(scoped_range(2, layer=value)),
           "scoped_range: tag layer=")


def test_numpy_scalar_tags_are_numbers_and_steps_sort_by_value():
    x = tg.Tensor(np.ones(2), requires_grad=True, name="x")
    for t in np.arange(12):
        with tg.scope(t=t, layer=np.int32(0)):
            x = tg.tanh(x)
    assert x.producer.scope == {"t": 11, "layer": 0} and type(x.producer.scope["t"]) is int
    labels = re.findall(r'graph \[label="(t = \d+)"', tg.to_dot(x.sum()))
    assert labels == [f"t = {t}" for t in range(12)]
