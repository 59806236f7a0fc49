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
from random_graphs import builtin_op_names
from tinygraph.check.nodes import graph_nodes

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


def tied_pair(rng: np.random.Generator, *shape: int) -> list[tg.Tensor]:
    """Two tensors equal at about half of their entries (a tie of two: half the gradient each)."""
    a = rng.standard_normal(shape)
    b = np.where(rng.random(shape) < 0.5, a, rng.standard_normal(shape))
    return [tg.Tensor(a, requires_grad=True), tg.Tensor(b, requires_grad=True)]


def weighted(rng: np.random.Generator, op: Callable[..., tg.Tensor],
             inputs: list[tg.Tensor]) -> tuple[Callable[[], tg.Tensor], list[tg.Tensor]]:
    w = rng.standard_normal(op(*inputs).shape)
    return (lambda: (op(*inputs) * w).sum()), inputs


def where_case(rng: np.random.Generator, cond: np.ndarray) -> tuple[Callable[[], tg.Tensor], list]:
    """tg.where(cond, a, b) with a fixed mask broadcasting against a (4, 3) and b (3,)."""
    return weighted(rng, lambda a, b: tg.where(cond, a, b), [param(rng, 4, 3), param(rng, 3)])


def set_rows(a: tg.Tensor, b: tg.Tensor) -> tg.Tensor:
    """y = a with rows 0 and 2 replaced by b (broadcast): two gradients, both through setitem."""
    y = a * 1.0
    y[[0, 2]] = b
    return y


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
    "identity": lambda r: weighted(r, tg.identity, [param(r, 2, 3)]),
    "copy": lambda r: weighted(r, tg.copy, [param(r, 2, 3)]),
    "setitem": lambda r: weighted(r, set_rows, [param(r, 3, 4), param(r, 4)]),
    "abs": lambda r: weighted(r, tg.abs, [param(r, 3, 4, low=0.1)]),
    "abs operator": lambda r: weighted(r, abs, [param(r, 3, low=0.1)]),
    "methods chained": lambda r: weighted(
        r, lambda a: a.exp().log().tanh().sigmoid().relu().sqrt().max(axis=0), [param(r, 3, 2)]),
    "sqrt": lambda r: weighted(r, tg.sqrt, [positive(r, 2, 3)]),
    "square": lambda r: weighted(r, tg.square, [param(r, 2, 3)]),
    "sin": lambda r: weighted(r, tg.sin, [param(r, 2, 3)]),
    "cos": lambda r: weighted(r, tg.cos, [param(r, 2, 3)]),
    "maximum broadcast": lambda r: weighted(r, tg.maximum, [param(r, 2, 3), param(r, 3)]),
    "minimum broadcast both": lambda r: weighted(r, tg.minimum, [param(r, 3, 1), param(r, 1, 4)]),
    "maximum ties": lambda r: weighted(r, tg.maximum, tied_pair(r, 3, 4)),
    "minimum ties": lambda r: weighted(r, tg.minimum, tied_pair(r, 3, 4)),
    "maximum with constant": lambda r: weighted(r, lambda a: tg.maximum(a, 0.2), [param(r, 4, low=0.3)]),
    "max all": lambda r: weighted(r, tg.max, [param(r, 2, 3)]),
    "max axis": lambda r: weighted(r, lambda a: tg.max(a, axis=1), [param(r, 2, 3, 4)]),
    "max tie of two": lambda r: weighted(
        r, lambda a: tg.max(a, axis=1), [tg.Tensor([[1.0, 2.0, 2.0], [0.5, -1.0, 0.5]], requires_grad=True)]),
    "min axes keepdims": lambda r: weighted(r, lambda a: tg.min(a, axis=(0, 2), keepdims=True),
                                            [param(r, 2, 3, 4)]),
    "where broadcast": lambda r: where_case(r, r.standard_normal((2, 1, 3)) > 0),
    "where with constant": lambda r: weighted(
        r, lambda a: tg.where(np.array([True, False, True]), 0.0, a), [param(r, 2, 3)]),
    "clip numbers": lambda r: weighted(r, lambda a: tg.clip(a, -0.5, 0.5), [param(r, 3, 4, low=0.6)]),
    "clip tensor bounds": lambda r: weighted(
        r, tg.clip, [tg.Tensor([[0.0, 1.5, 3.0], [-1.0, 0.2, 0.8]], requires_grad=True),
                     tg.Tensor([0.5, 0.5, 0.5], requires_grad=True),
                     tg.Tensor([[2.0], [0.6]], requires_grad=True)]),
    "split pieces": lambda r: weighted(
        r, lambda a: tg.concat([p * float(i + 1) for i, p in enumerate(tg.split(a, [1, 3], axis=1))],
                               axis=1), [param(r, 2, 5)]),
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
    expected = builtin_op_names()
    assert {"add", "getitem", "softmax", "cross_entropy", "maximum", "clip", "where"} <= expected
    assert expected <= seen, expected - seen
