"""The house rules that hold the architecture: rnn is built only from tinygraph's public names,
tinygraph never imports rnn, and the backward schedule is a topological order of any graph."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg

ROOT = Path(__file__).resolve().parent.parent
RENDER = importlib.import_module("tinygraph.render")  # tg.render is the function of that name
PUBLIC = {"tinygraph": set(tg.__all__), "tinygraph.render": set(RENDER.__all__)}


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def wall_breaches(path: Path) -> list[str]:
    """Every use of tinygraph in ``path`` that is not a public name: imports of other
    submodules, names outside a public module's __all__, and tg.<name> outside tg.__all__."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygraph"):
            allowed = PUBLIC.get(node.module)
            if allowed is None:
                found.append(f"{where}: from {node.module} import ... (not a public module)")
            else:
                found += [f"{where}: {node.module}.{a.name} is not public" for a in node.names
                          if a.name not in allowed]
        elif isinstance(node, ast.Import):
            found += [f"{where}: import {a.name}" for a in node.names
                      if a.name.startswith("tinygraph.")]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id == "tg" and node.attr not in PUBLIC["tinygraph"]):
            found.append(f"{where}: tg.{node.attr} is not in tg.__all__")
    return found


def test_rnn_uses_only_public_tinygraph_names() -> None:
    breaches = [b for path in python_files("rnn") for b in wall_breaches(path)]
    assert breaches == []


def test_the_wall_check_finds_a_private_import(tmp_path: Path) -> None:
    sample = ROOT / "rnn" / "_wall_sample_for_test.py"
    sample.write_text("from tinygraph.scope import scoped_range\nimport tinygraph as tg\n"
                      "tg.backward\ntg._private\nfrom tinygraph import Tensor\n", encoding="utf-8")
    try:
        breaches = wall_breaches(sample)
    finally:
        sample.unlink()
    assert len(breaches) == 2
    assert "from tinygraph.scope import" in breaches[0] and "tg._private" in breaches[1]


def test_tinygraph_never_imports_rnn() -> None:
    """The library never imports rnn; only tinygraph/__main__.py, the ``python -m tinygraph``
    entry to the command line (which lives in rnn.cli), starts it."""
    imports = []
    for path in python_files("tinygraph"):
        if path.name == "__main__.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "rnn":
                imports.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "rnn" for a in node.names):
                imports.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert imports == []


@st.composite
def random_graph(draw: st.DrawFn) -> tuple[tg.Tensor, list[tg.Tensor]]:
    """A random DAG: each new tensor combines one or two earlier ones (fan-out everywhere)."""
    leaves = [tg.Tensor(np.full(2, 0.1 * (i + 1)), requires_grad=True) for i in range(3)]
    pool = list(leaves)
    for _ in range(draw(st.integers(1, 25))):
        a = pool[draw(st.integers(0, len(pool) - 1))]
        b = pool[draw(st.integers(0, len(pool) - 1))]
        kind = draw(st.sampled_from(["add", "mul", "tanh", "sub"]))
        pool.append(a + b if kind == "add" else a * b if kind == "mul" else
                    tg.tanh(a) if kind == "tanh" else a - b)
    return pool[-1].sum(), leaves


@settings(max_examples=60, deadline=None)
@given(random_graph())
def test_the_backward_schedule_is_a_topological_order(graph: tuple[tg.Tensor, list[tg.Tensor]]) -> None:
    loss, _ = graph
    nodes = tg.graph_nodes(loss)
    position = {id(node): i for i, node in enumerate(nodes)}
    assert len(position) == len(nodes)  # each node once
    for node in nodes:
        for tensor in node.inputs:
            if tensor.producer is not None:  # every producer of an input comes before its reader
                assert position[id(tensor.producer)] < position[id(node)]
    assert nodes[-1] is loss.producer
