"""Fuzzing: random small graphs of random ops and shapes; gradients match central differences.

Hypothesis draws 1-3 leaves of random shapes and a program of 3 to 8 steps; each step applies
an op (chosen with its axis or index) to tensors made so far. Shapes that do not fit are
normal: such a step must raise one of our documented errors (a TinygraphError) and is then
dropped; any other exception fails the test. The loss L = Σ_k Σ (t_k · w_k) over every tensor
made, with fixed random weights w_k, is checked by tg.gradcheck (central differences).

Ops are smooth on the values drawn (entries in [−0.9, 0.9]; division and log and powers are
taken of 1 + b², exp of tanh), so a failed check is a wrong gradient, not a kink or overflow.
A second fuzzer feeds junk (ragged lists, None, strings, huge ints, NaN) to tg.Tensor and to
an op: again only our errors may come out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygraph as tg

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
JUNK = settings(max_examples=40, deadline=None, derandomize=True)
SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3), (3, 3), (2, 2, 3)]


def targets_for(a: tg.Tensor, k: int) -> np.ndarray:
    return np.full(a.shape[:-1], k, dtype=np.int64) if a.ndim else np.array(k)


OPS: dict[str, Callable[[tg.Tensor, tg.Tensor, int], tg.Tensor]] = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (1.0 + b * b),
    "pow": lambda a, b, k: (1.0 + a * a) ** tg.tanh(b),
    "square": lambda a, b, k: a**2,
    "neg": lambda a, b, k: -a,
    "matmul": lambda a, b, k: a @ b,
    "tanh": lambda a, b, k: tg.tanh(a),
    "sigmoid": lambda a, b, k: tg.sigmoid(a),
    "exp": lambda a, b, k: tg.exp(tg.tanh(a)),
    "log": lambda a, b, k: tg.log(1.0 + a * a),
    "softmax": lambda a, b, k: tg.softmax(a, axis=k),
    "log_softmax": lambda a, b, k: tg.log_softmax(a, axis=k),
    "cross_entropy": lambda a, b, k: tg.cross_entropy(a, targets_for(a, k)),
    "sum": lambda a, b, k: a.sum(axis=k),
    "mean": lambda a, b, k: a.mean(axis=k, keepdims=True),
    "sum_all": lambda a, b, k: a.sum(),
    "reshape": lambda a, b, k: a.reshape(-1),
    "reshape_k": lambda a, b, k: a.reshape(k, -1),
    "transpose": lambda a, b, k: a.T,
    "concat": lambda a, b, k: tg.concat([a, b], axis=k),
    "stack": lambda a, b, k: tg.stack([a, b], axis=k),
    "index": lambda a, b, k: a[k],
    "slice": lambda a, b, k: a[..., k:],
    "gather": lambda a, b, k: a[np.array([k, 0, k])],
}

step = st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 50), st.integers(0, 50),
                 st.integers(-3, 3))
Program = list[tuple[str, int, int, int]]


def run(leaves: list[tg.Tensor], program: Program) -> tuple[list[tg.Tensor], Program, list[str]]:
    """Apply the program; a step whose shapes do not fit must raise a TinygraphError."""
    pool = list(leaves)
    kept: Program = []
    refused = []
    for name, i, j, k in program:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        try:
            out = OPS[name](a, b, k)
        except tg.TinygraphError as error:
            assert str(error), name
            refused.append(type(error).__name__)
            continue
        assert isinstance(out, tg.Tensor) and np.isfinite(out.data).all(), name
        pool.append(out)
        kept.append((name, i % (len(pool) - 1), j % (len(pool) - 1), k))
    return pool, kept, refused


def replay(leaves: list[tg.Tensor], kept: Program) -> list[tg.Tensor]:
    pool = list(leaves)
    for name, i, j, k in kept:
        pool.append(OPS[name](pool[i], pool[j], k))
    return pool


@FUZZ
@given(st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3),
       st.lists(step, min_size=3, max_size=8), st.integers(0, 2**32 - 1))
def test_random_graphs_have_correct_gradients(shapes: list[tuple[int, ...]], program: Program,
                                              seed: int) -> None:
    rng = np.random.default_rng(seed)
    leaves = [tg.Tensor(rng.uniform(-0.9, 0.9, s), requires_grad=True, name=f"x{n}")
              for n, s in enumerate(shapes)]
    pool, kept, _ = run(leaves, program)
    weights = [rng.standard_normal(t.shape) for t in pool]

    def loss() -> tg.Tensor:
        made = replay(leaves, kept)
        return sum(((t * w).sum() for t, w in zip(made, weights)), tg.Tensor(0.0))

    report = tg.gradcheck(loss, leaves, eps=1e-6, atol=1e-6, rtol=1e-5)
    assert report.ok, f"{kept}\n{report}"
    engine = tg.grad(loss(), leaves)
    assert all(g.shape == x.shape for g, x in zip(engine, leaves))


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
