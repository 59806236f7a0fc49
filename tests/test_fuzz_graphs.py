"""Fuzzing: random small graphs of random ops and shapes; gradients match central differences.

Hypothesis draws 1-3 leaves of random shapes and a program of 3 to 8 steps; each step applies
an op (chosen with its axis or index) to tensors made so far (the table of steps, every
built-in op among them, is in random_graphs.py). Shapes that do not fit are normal: such a
step must raise one of our documented errors (a TinygraphError) and is then dropped; any
other exception fails the test. The loss L = Σ_k Σ (t_k · w_k) over every tensor made, with
fixed random weights w_k, is checked by tg.gradcheck (central differences).

A second fuzzer feeds junk (ragged lists, None, strings, huge ints, NaN) to tg.Tensor and to
an op: again only our errors may come out.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygraph as tg
from random_graphs import (OPS, Program, builtin_op_names, leaf_shapes, make_leaves, programs,
                           replay, run, seeded_programs)
from tinygraph.check.nodes import graph_nodes

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
JUNK = settings(max_examples=40, deadline=None, derandomize=True)


def check_program(shapes: list[tuple[int, ...]], program: Program, seed: int) -> Program:
    """Run the program and gradcheck the weighted sum of every tensor it made; the kept steps."""
    rng = np.random.default_rng(seed)
    leaves = make_leaves(shapes, rng)
    pool, kept, _ = run(leaves, program)
    weights = [rng.standard_normal(t.shape) for t in pool]

    def loss() -> tg.Tensor:
        made = replay(leaves, kept)
        return sum(((t * w).sum() for t, w in zip(made, weights)), tg.Tensor(0.0))

    report = tg.gradcheck(loss, leaves, eps=1e-6, atol=1e-6, rtol=1e-5)
    assert report.ok, f"{kept}\n{report}"
    engine = tg.grad(loss(), leaves)
    assert all(g.shape == x.shape for g, x in zip(engine, leaves))
    return kept


@FUZZ
@given(leaf_shapes, programs, st.integers(0, 2**32 - 1))
def test_random_graphs_have_correct_gradients(shapes: list[tuple[int, ...]], program: Program,
                                              seed: int) -> None:
    check_program(shapes, program, seed)


def test_uniformly_drawn_graphs_have_correct_gradients_and_use_every_op():
    used = Counter()
    for shapes, program, seed in seeded_programs(300, seed=14):
        used.update(name for name, *_ in check_program(shapes, program, seed))
    assert all(used[name] >= 5 for name in OPS), sorted(used.items(), key=lambda item: item[1])


def test_the_fuzzer_reaches_every_builtin_op():
    """Every step of the table fits some tensors, and together they record every built-in op."""
    rng = np.random.default_rng(0)
    seen = set()
    for name, op in OPS.items():
        fits = []
        for shape_a, shape_b in [((2, 4), (2, 4)), ((2, 3), (3, 2))]:
            a = tg.Tensor(rng.uniform(-0.9, 0.9, shape_a), requires_grad=True)
            b = tg.Tensor(rng.uniform(-0.9, 0.9, shape_b), requires_grad=True)
            try:
                fits.append(op(a, b, 1))
            except tg.TinygraphError:
                continue
        assert fits, name
        seen.update(node.op.name for out in fits for node in graph_nodes(out))
    assert builtin_op_names() <= seen, builtin_op_names() - seen


def test_the_fuzzer_exercises_both_fitting_and_refused_steps():
    """A fixed program: some steps fit, some are refused; the refusals are our own errors."""
    rng = np.random.default_rng(0)
    leaves = [tg.Tensor(rng.uniform(-0.9, 0.9, s), requires_grad=True) for s in [(2, 3), (3,)]]
    program = [("matmul", 0, 0, 0), ("add", 0, 1, 0), ("concat", 0, 1, 0), ("index", 1, 0, 3),
               ("softmax", 0, 0, 2), ("cross_entropy", 0, 0, 3), ("stack", 0, 2, 0)]
    pool, kept, refused = run(leaves, program)
    assert [name for name, *_ in kept] == ["add", "stack"]
    assert refused == ["ShapeError"] * 5
    assert len(pool) == 4


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=2)
    | st.just(np.array([{}], dtype=object)),
    lambda children: st.lists(children, max_size=3) | st.tuples(children, children),
    max_leaves=8,
)


@JUNK
@given(junk)
def test_junk_data_raises_only_our_errors(data: Any) -> None:
    try:
        tensor = tg.Tensor(data)
    except tg.TinygraphError as error:
        assert isinstance(error, tg.DTypeError), repr(error)
    else:
        assert tensor.dtype == np.float64
    x = tg.Tensor(np.ones(3), requires_grad=True)
    try:
        with np.errstate(all="ignore"):
            out = x + data
    except tg.TinygraphError:
        return
    assert isinstance(out, tg.Tensor)
