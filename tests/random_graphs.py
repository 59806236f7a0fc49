"""Random small graphs for the fuzzers: the table of steps (every built-in op, old and new) and
the runner that applies a drawn program, dropping the steps whose shapes do not fit.

A step is (op name, i, j, k): the op applied to tensors i and j of the pool made so far (taken
modulo its size), with k its axis, index or count. Steps stay smooth on the values drawn
(entries in [−0.9, 0.9]; division, log, sqrt and powers are taken of 1 + b², exp of tanh;
clip bounds and comparisons meet an entry only with probability 0), so a failed check is a
wrong gradient, not a kink. Ties do occur (maximum(a, a), max over stack([a, a]), entries
clipped to one bound); every op splits them so that the central difference agrees.
``tests/test_torch_oracle.py`` replays the same programs in PyTorch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

import tinygraph as tg

SHAPES = [(), (3,), (1, 3), (2, 1), (2, 3), (3, 3), (2, 2, 3)]
Program = list[tuple[str, int, int, int]]


def targets_for(a: tg.Tensor, k: int) -> np.ndarray:
    return np.full(a.shape[:-1], k, dtype=np.int64) if a.ndim else np.array(k)


def pieces_of_one(a: Any, k: int) -> int:
    """How many equal pieces of width 1 axis k has (2 when k is not an axis of a: refused)."""
    return a.shape[k] if -a.ndim <= k < a.ndim else 2


def set_first(a: tg.Tensor, b: tg.Tensor) -> tg.Tensor:
    """y = a * 2 with y[0] = b[0] (x[i] = v: setitem, a new version of y)."""
    y = a * 2.0
    y[0] = b[0]
    return y


OPS: dict[str, Callable[[tg.Tensor, tg.Tensor, int], tg.Tensor]] = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (1.0 + b * b),
    "pow": lambda a, b, k: (1.0 + a * a) ** tg.tanh(b),
    "pow2": lambda a, b, k: a**2,
    "neg": lambda a, b, k: -a,
    "matmul": lambda a, b, k: a @ b,
    "tanh": lambda a, b, k: tg.tanh(a),
    "sigmoid": lambda a, b, k: tg.sigmoid(a),
    "relu": lambda a, b, k: tg.relu(a),
    "identity": lambda a, b, k: tg.identity(a),
    "copy": lambda a, b, k: tg.copy(a),
    "setitem": lambda a, b, k: set_first(a, b),
    "exp": lambda a, b, k: tg.exp(tg.tanh(a)),
    "log": lambda a, b, k: tg.log(1.0 + a * a),
    "abs": lambda a, b, k: abs(a),
    "sqrt": lambda a, b, k: tg.sqrt(1.0 + a * a),
    "square": lambda a, b, k: tg.square(a),
    "sin": lambda a, b, k: tg.sin(a),
    "cos": lambda a, b, k: tg.cos(a),
    "maximum": lambda a, b, k: tg.maximum(a, b),
    "minimum": lambda a, b, k: tg.minimum(a, b),
    "max": lambda a, b, k: a.max(axis=k),
    "min_keepdims": lambda a, b, k: tg.min(a, axis=k, keepdims=True),
    "max_all": lambda a, b, k: tg.max(a),
    "where": lambda a, b, k: tg.where(a > b, a, b * 2.0),
    "mask": lambda a, b, k: a * (a <= b),
    "clip": lambda a, b, k: tg.clip(a, -0.5, 0.5),
    "clip_tensors": lambda a, b, k: tg.clip(a, b - 0.3, b + 0.3),
    "argmax": lambda a, b, k: a.reshape(-1)[tg.argmax(a)],
    "split": lambda a, b, k: tg.concat(tg.split(a, [1], axis=k)[::-1], axis=k),
    "split_equal": lambda a, b, k: tg.split(a, pieces_of_one(a, k), axis=k)[-1],
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
programs = st.lists(step, min_size=3, max_size=8)
leaf_shapes = st.lists(st.sampled_from(SHAPES), min_size=1, max_size=3)


def builtin_op_names() -> set[str]:
    """The name of every Op subclass that the modules of tinygraph.ops define (all built-in ops)."""
    found, stack = set(), [tg.Op]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("tinygraph.ops."):
            found.add(cls.name)
    return found


def seeded_programs(count: int, seed: int) -> list[tuple[list[tuple[int, ...]], Program, int]]:
    """``count`` (leaf shapes, program, value seed) drawn with every op equally likely.

    Hypothesis's derandomized draws favour the first entries of a table; these uniform draws
    make sure every op of the table meets many shapes.
    """
    rng = np.random.default_rng(seed)
    names = sorted(OPS)
    drawn = []
    for _ in range(count):
        shapes = [SHAPES[i] for i in rng.integers(0, len(SHAPES), rng.integers(1, 4))]
        program = [(names[rng.integers(len(names))], int(rng.integers(0, 51)), int(rng.integers(0, 51)),
                    int(rng.integers(-3, 4))) for _ in range(rng.integers(3, 9))]
        drawn.append((shapes, program, int(rng.integers(2**32))))
    return drawn


def make_leaves(shapes: list[tuple[int, ...]], rng: np.random.Generator) -> list[tg.Tensor]:
    return [tg.Tensor(rng.uniform(-0.9, 0.9, s), requires_grad=True, name=f"x{n}")
            for n, s in enumerate(shapes)]


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


def replay(leaves: list, kept: Program, ops: dict[str, Callable] = OPS) -> list:
    """The kept steps again, on the same leaves (or on another library's, with its table)."""
    pool = list(leaves)
    for name, i, j, k in kept:
        pool.append(ops[name](pool[i], pool[j], k))
    return pool
