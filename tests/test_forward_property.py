"""Hypothesis: on random small graphs of every op, forward mode and reverse mode agree.

The graphs are the fuzzer's (tests/random_graphs.py: 1-3 leaves, 3-8 steps of random ops,
every built-in op among them, with random axes and indices; steps whose shapes do not fit are
dropped; ties such as maximum(a, a) do occur). For random u and v
the dot-product test ⟨u, J v⟩ = ⟨Jᵀ u, v⟩ must hold to rounding, once for the scalar loss
through tg.gradcheck(mode="jvp-vjp") and once for the last tensor made (any shape) with
tg.jvp against tg.grad seeded with u. No finite differences, so the tolerance is 1e-10.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from random_graphs import OPS, Program, leaf_shapes, make_leaves, programs, replay, run, seeded_programs
from test_fuzz_graphs import FUZZ

import tinygraph as tg


def check_program(shapes: list[tuple[int, ...]], program: Program, seed: int) -> Program:
    """Both dot-product tests on one drawn graph; returns the steps that were kept."""
    rng = np.random.default_rng(seed)
    leaves = make_leaves(shapes, rng)
    pool, kept, _ = run(leaves, program)
    weights = [rng.standard_normal(t.shape) for t in pool]

    def loss() -> tg.Tensor:
        made = replay(leaves, kept)
        return sum(((t * w).sum() for t, w in zip(made, weights)), tg.Tensor(0.0))

    report = tg.gradcheck(loss, leaves, mode="jvp-vjp", atol=1e-10, rtol=1e-10, directions=2)
    assert report.ok, f"{kept}\n{report}"

    vs = [rng.standard_normal(x.shape) for x in leaves]
    y, y_dot = tg.jvp(lambda *xs: replay(list(xs), kept)[-1], leaves, vs)
    u = rng.standard_normal(y.shape)
    out = replay(leaves, kept)[-1]
    backward = tg.grad(out, leaves, grad_output=u) if out.requires_grad else [0 * v for v in vs]
    forward_side = float(np.vdot(u, y_dot))
    reverse_side = sum(float(np.vdot(g, v)) for g, v in zip(backward, vs))
    assert abs(forward_side - reverse_side) <= 1e-10 * (1 + abs(reverse_side)), kept
    return kept


@FUZZ
@given(leaf_shapes, programs, st.integers(0, 2**32 - 1))
def test_random_graphs_pass_the_dot_product_test(shapes: list[tuple[int, ...]], program: Program,
                                                  seed: int) -> None:
    check_program(shapes, program, seed)


def test_uniformly_drawn_graphs_pass_it_and_use_every_op():
    used = Counter()
    for shapes, program, seed in seeded_programs(300, seed=20):
        used.update(name for name, *_ in check_program(shapes, program, seed))
    assert all(used[name] >= 5 for name in OPS), sorted(used.items(), key=lambda item: item[1])
