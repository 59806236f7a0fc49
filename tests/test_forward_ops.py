"""Every op's jvp rule: against central differences (float64) and against torch.func.jvp.

Each case is an op applied to inputs of given shapes (broadcasting and 1-D matmul operands
included). tg.jvp with K = 3 batched random directions must give, for each direction v,
(f(x + h v) − f(x − h v)) / 2h to central-difference accuracy, and torch.func.jvp's tangent to
1e-10. Values are kept away from kinks (relu at 0) and domains' edges (log, pow, div).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import rnn
import tinygraph as tg
from rnn.embedding import EmbeddingLookup
from rnn.sequences import carry_where_masked
from tinygraph.check.nodes import graph_nodes
from tinygraph.checkpoint import Pack

Case = tuple[Callable[[np.random.Generator], list[np.ndarray]], Callable[..., Any], Callable[..., Any]]


def normal(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.standard_normal(shape)


def positive(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.uniform(0.5, 2.0, shape)


def away_from_zero(*shape: int) -> Callable[[np.random.Generator], np.ndarray]:
    return lambda rng: rng.choice([-1.0, 1.0], shape) * rng.uniform(0.2, 1.5, shape)


def inputs(*makers: Callable[[np.random.Generator], np.ndarray]) -> Callable[[np.random.Generator],
                                                                               list[np.ndarray]]:
    return lambda rng: [make(rng) for make in makers]


TARGETS = np.array([2, 0, 1])
TARGETS_3D = np.array([[0, 3], [1, 1], [3, 2]])
ROWS = np.array([1, 0, 1])
TOKENS = np.array([[3, 0], [3, 1]])
KEEP = np.array([1.0, 0.0, 1.0])
DROP_MASK = np.random.default_rng(4).random((3, 4)) >= 0.25
MASK = np.array([[True, False, True], [False, False, True]])

# name: (inputs, tg function, torch function); torch functions receive torch tensors.
CASES: dict[str, Case] = {
    "add": (inputs(normal(2, 3), normal(2, 3)), lambda a, b: a + b, lambda a, b: a + b),
    "add broadcast (3,)": (inputs(normal(2, 3), normal(3)), lambda a, b: a + b, lambda a, b: a + b),
    "add broadcast (2, 1) + (1, 3)": (inputs(normal(2, 1), normal(1, 3)), lambda a, b: a + b,
                                      lambda a, b: a + b),
    "add scalar tensor": (inputs(normal(), normal(2, 3)), lambda a, b: a + b, lambda a, b: a + b),
    "add constant": (inputs(normal(2, 3)), lambda a: a + np.ones(3), lambda a: a + 1.0),
    "sub broadcast": (inputs(normal(3), normal(4, 2, 3)), lambda a, b: a - b, lambda a, b: a - b),
    "mul broadcast": (inputs(normal(2, 1, 3), normal(4, 1)), lambda a, b: a * b, lambda a, b: a * b),
    "mul same tensor": (inputs(normal(2, 3)), lambda a: a * a, lambda a: a * a),
    "div broadcast": (inputs(normal(2, 3), away_from_zero(3)), lambda a, b: a / b,
                      lambda a, b: a / b),
    "pow tensor exponent": (inputs(positive(2, 3), normal(3)), lambda a, p: a**p,
                            lambda a, p: a**p),
    "pow number exponent": (inputs(normal(2, 3)), lambda a: a**3, lambda a: a**3),
    "rpow": (inputs(normal(4)), lambda p: 2.0**p, lambda p: 2.0**p),
    "neg": (inputs(normal(2, 3)), lambda a: -a, lambda a: -a),
    "matmul 2-D": (inputs(normal(2, 3), normal(3, 4)), lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul 1-D @ 2-D": (inputs(normal(3), normal(3, 4)), lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul 2-D @ 1-D": (inputs(normal(2, 3), normal(3)), lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul 1-D @ 1-D": (inputs(normal(3), normal(3)), lambda a, b: a @ b, lambda a, b: a @ b),
    "matmul stacked @ 2-D": (inputs(normal(4, 2, 3), normal(3, 5)), lambda a, b: a @ b,
                             lambda a, b: a @ b),
    "matmul 2-D @ stacked": (inputs(normal(2, 3), normal(4, 3, 5)), lambda a, b: a @ b,
                             lambda a, b: a @ b),
    "matmul 1-D @ stacked": (inputs(normal(3), normal(4, 3, 5)), lambda a, b: a @ b,
                             lambda a, b: a @ b),
    "matmul stacked @ 1-D": (inputs(normal(4, 2, 3), normal(3)), lambda a, b: a @ b,
                             lambda a, b: a @ b),
    "matmul batch broadcast": (inputs(normal(4, 1, 2, 3), normal(5, 3, 2)), lambda a, b: a @ b,
                               lambda a, b: a @ b),
    "tanh": (inputs(normal(2, 3)), tg.tanh, lambda t: t.tanh()),
    "sigmoid": (inputs(normal(2, 3)), tg.sigmoid, lambda t: t.sigmoid()),
    "relu": (inputs(away_from_zero(2, 3)), tg.relu, lambda t: t.relu()),
    "exp": (inputs(normal(2, 3)), tg.exp, lambda t: t.exp()),
    "log": (inputs(positive(2, 3)), tg.log, lambda t: t.log()),
    "identity": (inputs(normal(2, 3)), tg.identity, lambda t: t * 1.0),
    "copy": (inputs(normal(2, 3)), tg.copy, lambda t: t.clone()),
    "setitem row": (inputs(normal(3, 4), normal(4)), lambda a, b: _set_item(a, 1, b),
                    lambda a, b: _set_item(a, 1, b)),
    "setitem rows, broadcast": (inputs(normal(3, 4), normal(4)), lambda a, b: _set_item(a, [0, 2], b),
                                lambda a, b: _set_item(a, [0, 2], b)),
    "getitem int": (inputs(normal(3, 4)), lambda a: a[1], lambda a: a[1]),
    "getitem slices": (inputs(normal(3, 4, 2)), lambda a: a[1:, ::2], lambda a: a[1:, ::2]),
    "getitem ellipsis and None": (inputs(normal(3, 4, 2)), lambda a: a[..., 0, None],
                                  lambda a: a[..., 0, None]),
    "getitem array (repeats)": (inputs(normal(3, 4)), lambda a: a[np.array([2, 0, 2])],
                                lambda a: a[[2, 0, 2]]),
    "getitem list on axis 1": (inputs(normal(3, 4)), lambda a: a[:, [3, 1]], lambda a: a[:, [3, 1]]),
    "getitem bool mask": (inputs(normal(3, 4)), lambda a: a[np.array([True, False, True])],
                          lambda a: a[[True, False, True]]),
    "getitem non-adjacent arrays": (inputs(normal(2, 3, 4)), lambda a: a[ROWS, :, ROWS + 1],
                                    lambda a: a[list(ROWS), :, list(ROWS + 1)]),
    "transpose": (inputs(normal(2, 3)), lambda a: a.T, lambda a: a.T),
    "transpose 3-D reversed": (inputs(normal(2, 3, 4)), lambda a: a.transpose(),
                               lambda a: a.permute(2, 1, 0)),
    "transpose axes": (inputs(normal(2, 3, 4)), lambda a: a.transpose(1, 2, 0),
                       lambda a: a.permute(1, 2, 0)),
    "transpose negative axes": (inputs(normal(2, 3, 4)), lambda a: a.transpose(-1, 0, 1),
                                lambda a: a.permute(2, 0, 1)),
    "reshape": (inputs(normal(2, 3, 4)), lambda a: a.reshape(4, -1), lambda a: a.reshape(4, -1)),
    "sum all": (inputs(normal(2, 3)), lambda a: a.sum(), lambda a: a.sum()),
    "sum axis": (inputs(normal(2, 3, 4)), lambda a: a.sum(axis=1), lambda a: a.sum(dim=1)),
    "sum negative axis keepdims": (inputs(normal(2, 3, 4)), lambda a: a.sum(axis=-1, keepdims=True),
                                   lambda a: a.sum(dim=-1, keepdim=True)),
    "sum two axes": (inputs(normal(2, 3, 4)), lambda a: a.sum(axis=(0, 2)),
                     lambda a: a.sum(dim=(0, 2))),
    "mean all": (inputs(normal(2, 3)), lambda a: a.mean(), lambda a: a.mean()),
    "mean axis keepdims": (inputs(normal(2, 3, 4)), lambda a: a.mean(axis=0, keepdims=True),
                           lambda a: a.mean(dim=0, keepdim=True)),
    "concat axis 0": (inputs(normal(2, 3), normal(1, 3)), lambda a, b: tg.concat([a, b], axis=0),
                      lambda a, b: _torch().cat([a, b], dim=0)),
    "concat axis -1 with a constant": (inputs(normal(2, 3)),
                                       lambda a: tg.concat([a, np.ones((2, 2)), a], axis=-1),
                                       lambda a: _torch().cat([a, _ones(a, 2, 2), a], dim=-1)),
    "stack axis 0": (inputs(normal(2, 3), normal(2, 3)), lambda a, b: tg.stack([a, b]),
                     lambda a, b: _torch().stack([a, b])),
    "stack axis 1 with a constant": (inputs(normal(2, 3)),
                                     lambda a: tg.stack([np.ones((2, 3)), a], axis=1),
                                     lambda a: _torch().stack([_ones(a, 2, 3), a], dim=1)),
    "stack axis -1": (inputs(normal(2, 3), normal(2, 3)), lambda a, b: tg.stack([a, b], axis=-1),
                      lambda a, b: _torch().stack([a, b], dim=-1)),
    "softmax": (inputs(normal(3, 4)), tg.softmax, lambda t: t.softmax(-1)),
    "softmax axis 0": (inputs(normal(3, 4)), lambda a: tg.softmax(a, axis=0),
                       lambda t: t.softmax(0)),
    "softmax of a 0-d input": (inputs(normal()), lambda a: tg.softmax(a, axis=0),
                               lambda t: t.softmax(0)),
    "log_softmax": (inputs(normal(3, 4)), tg.log_softmax, lambda t: t.log_softmax(-1)),
    "log_softmax of a 0-d input": (inputs(normal()), lambda a: tg.log_softmax(a, axis=-1),
                                   lambda t: t.log_softmax(-1)),
    "log_softmax axis 1 of 3-D": (inputs(normal(2, 3, 4)), lambda a: tg.log_softmax(a, axis=1),
                                  lambda t: t.log_softmax(1)),
    "cross_entropy sum": (inputs(normal(3, 4)), lambda a: tg.cross_entropy(a, TARGETS),
                          lambda a: _cross_entropy(a, TARGETS, "sum")),
    "cross_entropy mean 3-D": (inputs(normal(3, 2, 4)),
                               lambda a: tg.cross_entropy(a, TARGETS_3D, reduction="mean"),
                               lambda a: _cross_entropy(a, TARGETS_3D, "mean")),
    "abs": (inputs(away_from_zero(2, 3)), tg.abs, lambda t: t.abs()),
    "abs method": (inputs(away_from_zero(3)), lambda a: abs(a), lambda t: t.abs()),
    "sqrt": (inputs(positive(2, 3)), tg.sqrt, lambda t: t.sqrt()),
    "square": (inputs(normal(2, 3)), tg.square, lambda t: t.square()),
    "sin": (inputs(normal(2, 3)), tg.sin, lambda t: t.sin()),
    "cos": (inputs(normal(2, 3)), tg.cos, lambda t: t.cos()),
    "maximum broadcast": (inputs(normal(2, 3), normal(3)), tg.maximum,
                          lambda a, b: _torch().maximum(a, b)),
    "minimum with a constant": (inputs(normal(2, 3)), lambda a: tg.minimum(a, 0.1),
                                lambda a: _torch().minimum(a, _torch().tensor(0.1, dtype=a.dtype))),
    "max all": (inputs(normal(2, 3)), lambda a: a.max(), lambda a: a.amax()),
    "max axis keepdims": (inputs(normal(2, 3, 4)), lambda a: tg.max(a, axis=1, keepdims=True),
                          lambda a: a.amax(dim=1, keepdim=True)),
    "min two axes": (inputs(normal(2, 3, 4)), lambda a: tg.min(a, axis=(0, 2)),
                     lambda a: a.amin(dim=(0, 2))),
    "where broadcast": (inputs(normal(2, 3), normal(3)), lambda a, b: tg.where(MASK, a, b),
                        lambda a, b: _torch().where(_torch().tensor(MASK), a, b)),
    "where with a constant": (inputs(normal(2, 3)), lambda a: tg.where(MASK, 0.0, a),
                              lambda a: _torch().where(_torch().tensor(MASK), 0.0, a)),
    "clip number bounds": (inputs(normal(2, 5)), lambda a: tg.clip(a, -0.5, 0.5),
                           lambda a: a.clamp(-0.5, 0.5)),
    "clip tensor bounds": (inputs(normal(2, 5), lambda rng: rng.standard_normal(5) - 1.0,
                                  lambda rng: rng.standard_normal((2, 1)) + 1.0),
                           lambda x, lo, hi: tg.clip(x, lo, hi),
                           lambda x, lo, hi: _torch().clamp(x, lo, hi)),
    "split": (inputs(normal(2, 6)), lambda a: tg.split(a, [1, 4], axis=1)[1] * 2.0,
              lambda a: a[:, 1:4] * 2.0),
    # the ops of rnn: an embedding lookup, dropout (seeded: the same mask every call), the
    # masked carry of variable-length batches
    "embedding": (inputs(normal(5, 2)), lambda W: EmbeddingLookup(TOKENS)(W), lambda W: W[TOKENS]),
    "dropout": (inputs(normal(3, 4)), lambda x: rnn.dropout(x, 0.25, rng=4),
                lambda x: x * _torch().tensor(DROP_MASK) / 0.75),
    "mask_carry": (inputs(normal(3, 2), normal(3, 2)), lambda a, b: carry_where_masked(a, b, KEEP),
                   lambda a, b: _torch().where(_torch().tensor(KEEP[:, None] > 0), a, b)),
    # tg.checkpoint: its node, the views of a tuple's packed output, and the pack op its
    # recomputation joins a tuple with
    "checkpoint (a closed-over tensor)": (inputs(normal(2, 3), normal(3, 4)),
                                          lambda a, b: tg.checkpoint(lambda x: tg.tanh(x @ b), a),
                                          lambda a, b: (a @ b).tanh()),
    "checkpoint of a tuple (unpack)": (inputs(normal(2, 3)),
                                       lambda a: (lambda p: p[0] * p[1])(
                                           tg.checkpoint(lambda x: (x * 2.0, tg.tanh(x)), a)),
                                       lambda a: (a * 2.0) * a.tanh()),
    "pack": (inputs(normal(2, 3), normal(4)), lambda a, b: Pack()(a, b),
             lambda a, b: _torch().cat([a.reshape(-1), b.reshape(-1)])),
}


def _set_item(a: Any, index: Any, b: Any) -> Any:
    """y = a with y[index] = b, written the same way for tinygraph and torch."""
    y = a * 1.0
    y[index] = b
    return y


def _torch() -> Any:
    import torch

    return torch


def _ones(like: Any, *shape: int) -> Any:
    return _torch().ones(shape, dtype=like.dtype)


def _cross_entropy(logits: Any, targets: np.ndarray, reduction: str) -> Any:
    torch = _torch()
    flat = logits.reshape(-1, logits.shape[-1])
    return torch.nn.functional.cross_entropy(flat, torch.tensor(targets.reshape(-1)),
                                             reduction=reduction)


def case_data(name: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The case's inputs and K = 3 random directions for each (seeded by the name)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    xs = CASES[name][0](rng)
    vs = [rng.standard_normal((3, *x.shape)) for x in xs]
    return xs, vs


def value(fn: Callable[..., Any], xs: list[np.ndarray]) -> np.ndarray:
    with tg.no_grad():
        return np.asarray(fn(*[tg.Tensor(x) for x in xs]).data, dtype=np.float64)


def central(fn: Callable[..., Any], xs: list[np.ndarray], vs: list[np.ndarray],
            eps: float = 1e-6) -> np.ndarray:
    """(f(x + h v) − f(x − h v)) / 2h for every direction k, all inputs moved together."""
    return np.stack([
        (value(fn, [x + eps * v[k] for x, v in zip(xs, vs)])
         - value(fn, [x - eps * v[k] for x, v in zip(xs, vs)])) / (2 * eps)
        for k in range(vs[0].shape[0])
    ])


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_central_differences(name: str) -> None:
    xs, vs = case_data(name)
    fn = CASES[name][1]
    out, tangent = tg.jvp(fn, xs, vs, batched=True)
    np.testing.assert_allclose(out.data, value(fn, xs), rtol=0, atol=0)
    expected = central(fn, xs, vs)
    assert tangent.shape == expected.shape
    np.testing.assert_allclose(tangent, expected, rtol=1e-6, atol=1e-7)


# Ties: y = max(a, b) at a = b moves by (ȧ + ḃ)/2 under a central difference, the rule's
# share (torch's forward AD breaks ties its own way, so these are checked numerically only).
TIES: dict[str, Case] = {
    "maximum tie": (lambda rng: [np.array([1.0, 2.0, -0.5]), np.array([1.0, 0.0, -0.5])],
                    tg.maximum, None),
    "max tie of two": (lambda rng: [np.array([[0.3, 0.9, 0.9], [1.0, -1.0, 0.2]])],
                       lambda a: tg.max(a, axis=1), None),
}


@pytest.mark.parametrize("name", sorted(TIES))
def test_jvp_at_ties_is_the_central_difference(name: str) -> None:
    xs = TIES[name][0](np.random.default_rng(0))
    vs = [np.random.default_rng(1).standard_normal((3, *x.shape)) for x in xs]
    fn = TIES[name][1]
    _, tangent = tg.jvp(fn, xs, vs, batched=True)
    np.testing.assert_allclose(tangent, central(fn, xs, vs), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", sorted(CASES))
def test_jvp_matches_torch_func_jvp(name: str) -> None:
    torch = pytest.importorskip("torch")
    xs, vs = case_data(name)
    _, tg_fn, torch_fn = CASES[name]
    _, tangent = tg.jvp(tg_fn, xs, vs, batched=True)
    for k in range(3):
        _, theirs = torch.func.jvp(torch_fn, tuple(torch.tensor(x) for x in xs),
                                   tuple(torch.tensor(v[k]) for v in vs))
        np.testing.assert_allclose(tangent[k], theirs.numpy(), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_direction_is_the_batched_rule_with_k_1(name: str) -> None:
    xs, vs = case_data(name)
    fn = CASES[name][1]
    _, batched = tg.jvp(fn, xs, vs, batched=True)
    _, single = tg.jvp(fn, xs, [v[1] for v in vs])
    assert single.shape == batched.shape[1:]
    np.testing.assert_allclose(single, batched[1], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", [n for n in sorted(CASES) if len(case_data(n)[0]) == 2])
def test_a_none_tangent_is_a_zero_direction(name: str) -> None:
    """Moving only input 0 (the tangent of input 1 is None) equals moving input 1 by zeros."""
    xs, vs = case_data(name)
    fn = CASES[name][1]
    _, none = tg.jvp(fn, xs, [vs[0], None], batched=True)
    _, zero = tg.jvp(fn, xs, [vs[0], np.zeros_like(vs[1])], batched=True)
    assert none.shape == zero.shape
    np.testing.assert_allclose(none, zero, rtol=1e-14, atol=1e-15)
    _, second_only = tg.jvp(fn, xs, [None, vs[1]], batched=True)
    np.testing.assert_allclose(none + second_only, tg.jvp(fn, xs, vs, batched=True)[1],
                               rtol=1e-12, atol=1e-13)


def project_ops() -> set[type]:
    """Every tg.Op subclass defined in tinygraph or rnn (each module imported first), except
    the planted bug of ``tinygraph check --inject-bug``, whose backward is wrong on purpose."""
    import importlib
    import pkgutil

    import tinygraph.ops

    for package in (tinygraph.ops, rnn):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    found, stack = set(), [tg.Op]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.split(".")[0] in ("tinygraph", "rnn"):
                found.add(sub)
    return {op for op in found if op.__module__ != "rnn.cli.check"}


def ops_in_case(name: str) -> set[type]:
    xs, _ = case_data(name)
    leaves = [tg.Tensor(x, requires_grad=True) for x in xs]
    out = CASES[name][1](*leaves)
    return {type(node.op) for node in graph_nodes(out)}


def test_every_op_of_the_project_has_a_jvp_rule_and_a_case_here():
    ops = project_ops()
    assert len(ops) >= 25
    missing_rule = sorted(op.__name__ for op in ops if op.jvp is tg.Op.jvp)
    assert missing_rule == []
    covered = set().union(*(ops_in_case(name) for name in CASES))
    assert sorted(op.__name__ for op in ops - covered) == []
