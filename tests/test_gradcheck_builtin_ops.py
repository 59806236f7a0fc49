"""Every built-in op passes gradcheck (full and directional) and gradcheck_nodes in float64.

Each case builds L = Σ (op(inputs) · w) with a fixed random weight w of the output's shape, so
that no part of the gradient is hidden by symmetry (Σ softmax(x) = 1 has zero gradient).
Values stay away from kinks and poles: relu inputs are not near 0, log and pow bases and
denominators are in [0.5, 2] in absolute value.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.gradcheck_nodes import graph_nodes

Case = Callable[[np.random.Generator], tuple[Callable[[], tg.Tensor], list[tg.Tensor]]]


def param(rng: np.random.Generator, *shape: int, low: float | None = None) -> tg.Tensor:
    """A requires-grad tensor: N(0, 1) entries, or |x| in [low, 2] with random signs."""
    if low is None:
        data = rng.standard_normal(shape)
    else:
        data = rng.uniform(low, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    return tg.Tensor(data, requires_grad=True)


def positive(rng: np.random.Generator, *shape: int) -> tg.Tensor:
    return tg.Tensor(rng.uniform(0.5, 2.0, shape), requires_grad=True)


def weighted(rng: np.random.Generator, op: Callable[..., tg.Tensor],
             inputs: list[tg.Tensor]) -> tuple[Callable[[], tg.Tensor], list[tg.Tensor]]:
    w = rng.standard_normal(op(*inputs).shape)
    return (lambda: (op(*inputs) * w).sum()), inputs


CASES: dict[str, Case] = {
    "add broadcast": lambda r: weighted(r, lambda a, b: a + b, [param(r, 2, 3), param(r, 3)]),
    "add broadcast both": lambda r: weighted(r, lambda a, b: a + b,
                                             [param(r, 2, 1, 3), param(r, 4, 1)]),
    "sub broadcast": lambda r: weighted(r, lambda a, b: a - b, [param(r, 3, 1), param(r, 1, 4)]),
    "sub constant": lambda r: weighted(r, lambda a: 1.5 - a, [param(r, 2, 3)]),
    "mul broadcast": lambda r: weighted(r, lambda a, b: a * b, [param(r, 2, 3, 4), param(r, 4)]),
    "mul same tensor": lambda r: weighted(r, lambda a: a * a, [param(r, 3, 2)]),
    "div broadcast": lambda r: weighted(r, lambda a, b: a / b,
                                        [param(r, 2, 3), param(r, 2, 1, low=0.5)]),
    "div constant over": lambda r: weighted(r, lambda b: 2.0 / b, [param(r, 4, low=0.5)]),
    "pow constant exponent": lambda r: weighted(r, lambda a: a**3, [param(r, 2, 3)]),
    "pow both": lambda r: weighted(r, lambda a, p: a**p, [positive(r, 2, 3), param(r, 3)]),
    "neg": lambda r: weighted(r, lambda a: -a, [param(r, 2, 3)]),
    "matmul 1d 1d": lambda r: weighted(r, lambda a, b: a @ b, [param(r, 4), param(r, 4)]),
    "matmul 1d 2d": lambda r: weighted(r, lambda a, b: a @ b, [param(r, 3), param(r, 3, 4)]),
    "matmul 2d 1d": lambda r: weighted(r, lambda a, b: a @ b, [param(r, 2, 3), param(r, 3)]),
    "matmul 2d 2d": lambda r: weighted(r, lambda a, b: a @ b, [param(r, 2, 3), param(r, 3, 4)]),
    "matmul batched": lambda r: weighted(r, lambda a, b: a @ b,
                                         [param(r, 2, 3, 4), param(r, 2, 4, 5)]),
    "matmul batch broadcast": lambda r: weighted(r, lambda a, b: a @ b,
                                                 [param(r, 3, 4), param(r, 2, 4, 2)]),
    "matmul batched 1d": lambda r: weighted(r, lambda a, b: a @ b,
                                            [param(r, 2, 3, 4), param(r, 4)]),
    "getitem int": lambda r: weighted(r, lambda a: a[1], [param(r, 3, 4)]),
    "getitem slices": lambda r: weighted(r, lambda a: a[:, 1:3], [param(r, 3, 4)]),
    "getitem none ellipsis": lambda r: weighted(r, lambda a: a[None, ..., 0], [param(r, 2, 3)]),
    "getitem repeated rows": lambda r: weighted(r, lambda a: a[np.array([0, 2, 0, 0])],
                                                [param(r, 3, 4)]),
    "getitem repeated pairs": lambda r: weighted(r, lambda a: a[[0, 1, 1, 0], [2, 0, 0, 2]],
                                                 [param(r, 2, 3)]),
    "getitem boolean mask": lambda r: weighted(
        r, lambda a: a[np.array([[True, False, True], [False, True, True]])], [param(r, 2, 3)]),
    "transpose": lambda r: weighted(r, lambda a: a.T, [param(r, 2, 3)]),
    "transpose axes": lambda r: weighted(r, lambda a: a.transpose(2, 0, 1), [param(r, 2, 3, 4)]),
    "reshape": lambda r: weighted(r, lambda a: a.reshape(3, -1), [param(r, 2, 3, 2)]),
    "sum all": lambda r: weighted(r, lambda a: a.sum(), [param(r, 2, 3)]),
    "sum axis": lambda r: weighted(r, lambda a: a.sum(axis=1), [param(r, 2, 3, 4)]),
    "sum axes keepdims": lambda r: weighted(r, lambda a: a.sum(axis=(0, 2), keepdims=True),
                                            [param(r, 2, 3, 4)]),
    "sum negative axis": lambda r: weighted(r, lambda a: tg.sum(a, axis=-1), [param(r, 2, 3)]),
    "mean all": lambda r: weighted(r, lambda a: a.mean(), [param(r, 2, 3)]),
    "mean axis keepdims": lambda r: weighted(r, lambda a: a.mean(axis=0, keepdims=True),
                                             [param(r, 4, 3)]),
    "mean axes": lambda r: weighted(r, lambda a: a.mean(axis=(1, 2)), [param(r, 2, 3, 4)]),
    "tanh": lambda r: weighted(r, tg.tanh, [param(r, 2, 3)]),
    "sigmoid": lambda r: weighted(r, tg.sigmoid, [param(r, 2, 3)]),
    "relu": lambda r: weighted(r, tg.relu, [param(r, 3, 4, low=0.1)]),
    "exp": lambda r: weighted(r, tg.exp, [param(r, 2, 3)]),
    "log": lambda r: weighted(r, tg.log, [positive(r, 2, 3)]),
    "softmax last": lambda r: weighted(r, tg.softmax, [param(r, 2, 5)]),
    "softmax axis 0": lambda r: weighted(r, lambda a: tg.softmax(a, axis=0), [param(r, 3, 2, 2)]),
    "log_softmax": lambda r: weighted(r, tg.log_softmax, [param(r, 3, 4)]),
    "log_softmax axis 1": lambda r: weighted(r, lambda a: tg.log_softmax(a, axis=1),
                                             [param(r, 2, 3, 4)]),
    "cross_entropy sum": lambda r: weighted(
        r, lambda a: tg.cross_entropy(a, np.array([0, 3, 3])), [param(r, 3, 4)]),
    "cross_entropy mean 3d": lambda r: weighted(
        r, lambda a: tg.cross_entropy(a, np.array([[1, 0], [4, 2]]), reduction="mean"),
        [param(r, 2, 2, 5)]),
    "concat axis 0": lambda r: weighted(r, lambda a, b: tg.concat([a, b], axis=0),
                                        [param(r, 2, 3), param(r, 1, 3)]),
    "concat axis 1 three": lambda r: weighted(r, lambda a, b, c: tg.concat([a, b, c], axis=1),
                                              [param(r, 2, 1), param(r, 2, 3), param(r, 2, 2)]),
    "stack axis 0": lambda r: weighted(r, lambda a, b: tg.stack([a, b]),
                                       [param(r, 2, 3), param(r, 2, 3)]),
    "stack axis -1": lambda r: weighted(r, lambda a, b: tg.stack([a, b], axis=-1),
                                        [param(r, 3), param(r, 3)]),
    "stack with constant": lambda r: weighted(
        r, lambda a: tg.stack([a, tg.Tensor(np.ones(3))], axis=1), [param(r, 3)]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_builtin_op_passes_every_check(name: str) -> None:
    f, inputs = CASES[name](np.random.default_rng(zlib.crc32(name.encode())))
    before = [x.data.tobytes() for x in inputs]
    for mode in ("full", "directional"):
        report = tg.gradcheck(f, inputs, mode=mode)
        assert report.ok, f"{name}, {mode}:\n{report}"
    nodes = tg.gradcheck_nodes(f())
    assert nodes.ok, f"{name}:\n{nodes}"
    assert [x.data.tobytes() for x in inputs] == before


def test_every_builtin_op_is_covered() -> None:
    seen: set[str] = set()
    for case in CASES.values():
        f, _ = case(np.random.default_rng(0))
        seen.update(node.op.name for node in graph_nodes(f()))
    expected = {"add", "sub", "mul", "div", "pow", "neg", "matmul", "getitem", "transpose",
                "reshape", "sum", "mean", "tanh", "sigmoid", "relu", "exp", "log", "softmax",
                "log_softmax", "cross_entropy", "concat", "stack"}
    assert expected <= seen, expected - seen
