"""numpy's functions on tensors (NEP 18): each of the table records the tg op it stands for.

For every recorded function: the same values as numpy on the arrays, the same nodes (op
class and label, in order) as its tg spelling, the same gradients (bit for bit) and central
differences, and PyTorch's gradients where torch is installed. np.dot against numpy's own dot
for every pair of shapes up to 3-D. The constants (zeros_like, argmax, allclose, ...). Then the
refusals, and the promise behind them: no numpy function returns an ndarray from a tensor that
requires grad.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg
from tinygraph.check.nodes import graph_nodes
from tinygraph.numpy_protocols.functions import TABLE

RNG_SHAPES = {"a": (2, 3), "b": (3, 4), "v": (3,), "c": (1, 3), "p": (2, 3)}


def arrays_for(names: str, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(RNG_SHAPES[n]) for n in names]


def _torch() -> Any:
    import torch

    return torch


# name: (inputs, numpy call, tg spelling, torch spelling); each receives the leaves
CASES: dict[str, tuple[str, Callable[..., Any], Callable[..., Any], Callable[..., Any]]] = {
    "dot 2-D": ("ab", lambda a, b: np.dot(a, b), tg.matmul, lambda a, b: a @ b),
    "dot 1-D, 2-D": ("vb", lambda v, b: np.dot(v, b), tg.matmul, lambda v, b: v @ b),
    "dot 2-D, 1-D": ("av", lambda a, v: np.dot(a, v), tg.matmul, lambda a, v: a @ v),
    "dot 1-D, 1-D": ("vv", lambda v, w: np.dot(v, w), tg.matmul, lambda v, w: v @ w),
    "dot 0-d": ("a", lambda a: np.dot(2.5, a), lambda a: tg.mul(2.5, a), lambda a: 2.5 * a),
    "sum": ("a", lambda a: np.sum(a), tg.sum, lambda a: a.sum()),
    "sum axis keepdims": ("a", lambda a: np.sum(a, 1, keepdims=True),
                          lambda a: tg.sum(a, axis=1, keepdims=True), lambda a: a.sum(1, keepdim=True)),
    "mean axis": ("a", lambda a: np.mean(a, axis=0), lambda a: tg.mean(a, axis=0),
                  lambda a: a.mean(0)),
    "max": ("a", lambda a: np.max(a, axis=1), lambda a: tg.max(a, axis=1), lambda a: a.amax(1)),
    "amax": ("a", lambda a: np.amax(a), tg.max, lambda a: a.amax()),
    "min keepdims": ("a", lambda a: np.min(a, axis=0, keepdims=True),
                     lambda a: tg.min(a, axis=0, keepdims=True), lambda a: a.amin(0, keepdim=True)),
    "amin": ("a", lambda a: np.amin(a, 0), lambda a: tg.min(a, axis=0), lambda a: a.amin(0)),
    "concatenate": ("ac", lambda a, c: np.concatenate([a, c]), lambda a, c: tg.concat([a, c]),
                    lambda a, c: _torch().cat([a, c])),
    "concatenate with an array": ("a", lambda a: np.concatenate((a, np.ones((2, 1))), axis=1),
                                  lambda a: tg.concat([a, np.ones((2, 1))], axis=1),
                                  lambda a: _torch().cat([a, _torch().ones(2, 1, dtype=a.dtype)], 1)),
    "stack": ("ap", lambda a, p: np.stack([a, p], axis=1), lambda a, p: tg.stack([a, p], axis=1),
              lambda a, p: _torch().stack([a, p], 1)),
    "hstack 2-D": ("ap", lambda a, p: np.hstack([a, p]), lambda a, p: tg.concat([a, p], axis=1),
                   lambda a, p: _torch().hstack([a, p])),
    "hstack 1-D": ("vv", lambda v, w: np.hstack([v, w]), lambda v, w: tg.concat([v, w]),
                   lambda v, w: _torch().hstack([v, w])),
    "vstack 1-D": ("vv", lambda v, w: np.vstack([v, w]),
                   lambda v, w: tg.concat([tg.reshape(v, (1, 3)), tg.reshape(w, (1, 3))]),
                   lambda v, w: _torch().vstack([v, w])),
    "vstack 2-D": ("ac", lambda a, c: np.vstack((a, c)), lambda a, c: tg.concat([a, c]),
                   lambda a, c: _torch().vstack([a, c])),
    "split": ("a", lambda a: np.split(a, 3, axis=1)[1] * 2.0,
              lambda a: tg.split(a, 3, axis=1)[1] * 2.0, lambda a: a[:, 1:2] * 2.0),
    "reshape": ("a", lambda a: np.reshape(a, (3, 2)), lambda a: tg.reshape(a, (3, 2)),
                lambda a: a.reshape(3, 2)),
    "reshape -1": ("a", lambda a: np.reshape(a, -1), lambda a: tg.reshape(a, (-1,)),
                   lambda a: a.reshape(-1)),
    "ravel": ("a", lambda a: np.ravel(a), lambda a: tg.reshape(a, (-1,)), lambda a: a.reshape(-1)),
    "squeeze": ("c", lambda c: np.squeeze(c), lambda c: tg.reshape(c, (3,)), lambda c: c.squeeze()),
    "expand_dims": ("a", lambda a: np.expand_dims(a, 1), lambda a: tg.reshape(a, (2, 1, 3)),
                    lambda a: a.unsqueeze(1)),
    "transpose": ("a", lambda a: np.transpose(a), tg.transpose, lambda a: a.T),
    "where": ("ap", lambda a, p: np.where(a > p, a, p), lambda a, p: tg.where(a > p, a, p),
              lambda a, p: _torch().where(a > p, a, p)),
    "clip": ("a", lambda a: np.clip(a, -0.5, 0.5), lambda a: tg.clip(a, -0.5, 0.5),
             lambda a: a.clamp(-0.5, 0.5)),
    "clip one bound": ("a", lambda a: np.clip(a, None, 0.2), lambda a: tg.clip(a, None, 0.2),
                       lambda a: a.clamp(max=0.2)),
    "copy": ("a", lambda a: np.copy(a), tg.copy, lambda a: a.clone()),
}


def labels(out: tg.Tensor) -> list[tuple[type, str]]:
    return [(type(node.op), node.where()) for node in graph_nodes(out)]


def run(f: Callable[..., Any], arrays: list[np.ndarray], w: np.ndarray) -> tuple[Any, list]:
    leaves = [tg.Tensor(a, requires_grad=True) for a in arrays]
    out = f(*leaves)
    (out * w).sum().backward()
    return out, [x.grad for x in leaves]


@pytest.mark.parametrize("name", list(CASES))
def test_a_numpy_function_records_the_tg_op(name: str):
    names, call, spelling, _ = CASES[name]
    arrays = arrays_for(names)
    expected = call(*arrays)  # numpy itself on the arrays
    w = np.random.default_rng(1).standard_normal(np.shape(expected))
    out, ours = run(call, arrays, w)
    out_tg, theirs = run(spelling, arrays, w)
    assert isinstance(out, tg.Tensor)
    np.testing.assert_array_equal(out.data, expected)
    assert labels(out) == labels(out_tg)
    for mine, tg_grad in zip(ours, theirs):
        np.testing.assert_array_equal(mine, tg_grad)
    leaves = [tg.Tensor(a, requires_grad=True) for a in arrays]
    for leaf, mine in zip(leaves, ours):
        numerical = tg.numerical_grad(lambda: (call(*leaves) * w).sum(), leaf)
        np.testing.assert_allclose(mine, numerical, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_agree_with_torch(name: str):
    torch = pytest.importorskip("torch")
    names, call, _, torch_spelling = CASES[name]
    arrays = arrays_for(names, seed=2)
    w = np.random.default_rng(3).standard_normal(np.shape(call(*arrays)))
    _, ours = run(call, arrays, w)
    leaves = [torch.tensor(a, requires_grad=True) for a in arrays]
    (torch_spelling(*leaves) * torch.tensor(w)).sum().backward()
    for mine, leaf in zip(ours, leaves):
        np.testing.assert_allclose(mine, leaf.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_every_recorded_function_has_a_case():
    recorded = {"dot", "sum", "mean", "max", "amax", "min", "amin", "concatenate", "stack", "hstack",
                "vstack", "split", "reshape", "ravel", "squeeze", "expand_dims", "transpose", "where",
                "clip", "copy"}
    assert recorded <= {func.__name__ for func in TABLE}
    covered = {case.split()[0] for case in CASES}
    assert recorded <= covered, recorded - covered


# ---------------------------------------------------------------- np.dot is numpy's dot
DOT_SHAPES = [(), (3,), (2, 3), (4, 2, 3)]


def _right_shape(a_shape: tuple[int, ...], b_ndim: int) -> tuple[int, ...]:
    """A shape of b_ndim axes that numpy's dot accepts with an a of a_shape."""
    inner = a_shape[-1] if a_shape else 2
    return {0: (), 1: (inner,), 2: (inner, 5), 3: (2, inner, 5)}[b_ndim]


@pytest.mark.parametrize("a_shape, b_ndim", list(itertools.product(DOT_SHAPES, range(4))))
def test_np_dot_is_numpys_dot_for_every_pair_of_shapes_or_is_refused(a_shape, b_ndim):
    b_shape = _right_shape(a_shape, b_ndim)
    rng = np.random.default_rng(4)
    a_data, b_data = rng.standard_normal(a_shape), rng.standard_normal(b_shape)
    a, b = tg.Tensor(a_data, requires_grad=True), tg.Tensor(b_data, requires_grad=True)
    if len(a_shape) >= 2 and b_ndim >= 3:
        expected = np.dot(a_data, b_data).shape
        expect(tg.ShapeError, lambda: np.dot(a, b), "np.dot", f"{a_shape} and {b_shape}",
               f"result of shape {expected}", "a @ b")
        return
    out = np.dot(a, b)
    np.testing.assert_allclose(out.data, np.dot(a_data, b_data), rtol=1e-14, atol=1e-14)
    w = rng.standard_normal(out.shape)
    (out * w).sum().backward()
    for x in (a, b):
        numerical = tg.numerical_grad(lambda: (np.dot(a, b) * w).sum(), x)
        np.testing.assert_allclose(x.grad, numerical, rtol=1e-6, atol=1e-8)


def test_np_dot_of_an_ndarray_and_a_tensor_records_a_matmul():
    W = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    out = np.dot(np.arange(2.0), W)
    assert out.producer.op.name == "matmul"
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 1.0])


# ---------------------------------------------------------------- constants and values only
def test_the_like_functions_give_constant_tensors():
    x = tg.Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    for result, value in ((np.zeros_like(x), 0.0), (np.ones_like(x), 1.0), (np.full_like(x, 7), 7.0)):
        assert isinstance(result, tg.Tensor) and not result.requires_grad and result.producer is None
        assert result.shape == (2, 3) and result.dtype == np.float32
        np.testing.assert_array_equal(result.data, value)
    assert np.zeros_like(x, dtype=np.int64, shape=(4,)).data.tolist() == [0, 0, 0, 0]


def test_argmax_isclose_any_all_give_tensors_without_gradient():
    x = tg.Tensor([[0.0, 3.0, 1.0], [5.0, 4.0, 5.0]], requires_grad=True)
    assert np.argmax(x).item() == 3 and np.argmin(x, axis=1).data.tolist() == [0, 1]
    np.testing.assert_array_equal(np.isclose(x, 5.0).data, [[False] * 3, [True, False, True]])
    assert np.any(x > 4.5).item() and not np.all(x > 0.5).item()
    np.testing.assert_array_equal(np.any(x > 4.5, axis=1).data, [False, True])
    for result in (np.argmax(x), np.isclose(x, 5.0), np.any(x > 0), np.all(x > 0)):
        assert isinstance(result, tg.Tensor) and not result.requires_grad


def test_allclose_array_equal_shape_ndim_size_give_python_values():
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    assert np.allclose(x, np.ones((2, 3))) is True and np.array_equal(x, x) is True
    assert np.array_equal(x, np.zeros((2, 3))) is False
    assert np.shape(x) == (2, 3) and np.ndim(x) == 2 and np.size(x) == 6 and np.size(x, 1) == 3


# ---------------------------------------------------------------- refusals
def x23() -> tg.Tensor:
    return tg.Tensor(np.linspace(0.1, 0.6, 6).reshape(2, 3), requires_grad=True, name="x")


@pytest.mark.parametrize("call, error, fragments", [
    (lambda x: np.cumsum(x), tg.SpellingError, ("np.cumsum", "not recorded on tensors", "running sum")),
    (lambda x: np.outer(x[0], x[1]), tg.SpellingError, ("np.outer", "np.reshape(a, (-1, 1))")),
    (lambda x: np.linalg.norm(x), tg.SpellingError, ("np.linalg.norm", "np.sqrt(np.sum(x * x))")),
    (lambda x: np.var(x), tg.SpellingError, ("np.var", "np.mean((x - np.mean(")),
    (lambda x: np.sort(x), tg.SpellingError, ("np.sort", "numpy functions on tensors")),
    (lambda x: np.sum(x, out=np.zeros(())), tg.SpellingError, ("np.sum(..., out=...)", "outside the graph")),
    (lambda x: np.sum(x, where=x.data > 0.2), tg.SpellingError, ("np.sum(..., where=mask)",)),
    (lambda x: np.sum(x, dtype=np.float32), tg.SpellingError, ("np.sum(..., dtype=", "axis, keepdims")),
    (lambda x: np.max(x, initial=0.0), tg.SpellingError, ("np.max(..., initial=0.0)",)),
    (lambda x: np.reshape(x, (3, 2), order="F"), tg.SpellingError, ("np.reshape(..., order='F')",)),
    (lambda x: np.clip(x, 0, 1, casting="unsafe"), tg.SpellingError, ("np.clip(..., casting='unsafe')",)),
    (lambda x: np.where(x > 0.3), tg.SpellingError, ("np.where(condition)", "np.nonzero(condition.data)")),
    (lambda x: np.where(x > 0.3, x), tg.SpellingError, ("np.where", "both x and y")),
    (lambda x: np.concatenate([x, x], axis=None), tg.ShapeError, ("np.concatenate", "axis=None")),
    (lambda x: np.squeeze(x, axis=0), tg.ShapeError, ("np.squeeze", "(2, 3)")),
    (lambda x: np.sum(x, 0, None, None, True, 0.0), tg.SpellingError, ("np.sum(..., initial=0.0)",)),
], ids=["cumsum", "outer", "norm", "var", "sort", "out", "where=", "dtype", "initial", "order",
        "clip casting", "where one argument", "where two arguments", "concatenate axis=None",
        "squeeze", "positional initial"])
def test_a_call_that_does_not_record_is_refused_with_advice(call, error, fragments):
    expect(error, lambda: call(x23()), *fragments)


def test_a_refused_function_names_the_scope_and_refuses_constant_tensors_too():
    with tg.scope(t=2):
        expect(tg.SpellingError, lambda: np.cumsum(x23()), "np.cumsum (t=2)")
    expect(tg.SpellingError, lambda: np.cumsum(tg.Tensor([1.0, 2.0])), "np.cumsum")


def test_an_argument_at_numpys_default_changes_nothing():
    x = x23()
    out = np.sum(x, axis=0, dtype=None, out=None, where=True)
    assert out.producer.op.describe() == "sum(axis=0)"
    assert np.reshape(x, (3, 2), order="C").shape == (3, 2)


def test_np_dot_of_a_two_by_three_and_a_stack_is_refused_with_the_shape_numpy_would_give():
    expect(tg.ShapeError, lambda: np.dot(x23(), np.ones((4, 3, 5))), "np.dot", "(2, 3) and (4, 3, 5)",
           "(2, 4, 5)", "np.matmul")


def dispatched_functions() -> list[Callable[..., Any]]:
    """Every numpy function that dispatches through __array_function__ (np, np.linalg, np.fft)."""
    kind = type(np.concatenate)
    found = {id(f): f for module in (np, np.linalg, np.fft) for f in vars(module).values()
             if isinstance(f, kind)}
    return sorted(found.values(), key=lambda f: (f.__module__, f.__name__))


def test_no_numpy_function_returns_an_ndarray_from_a_tensor_that_requires_grad():
    """Every dispatched numpy function, called on tensors: a Tensor (or a Python value) from
    the table, else our refusal (or numpy's own error about the arguments, e.g. a missing one,
    raised before the call reaches a tensor)."""
    functions = dispatched_functions()
    assert len(functions) > 200
    recorded_or_refused = 0
    for func in functions:
        for args in [(x23(),), (x23(), x23()), (x23(), 1)]:
            try:
                result = func(*args)
            except tg.TinygraphError:
                recorded_or_refused += 1
                continue
            except (TypeError, ValueError):  # numpy's own check of the arguments
                continue
            assert func in TABLE, func.__name__
            parts = result if isinstance(result, (tuple, list)) else [result]
            assert not any(isinstance(part, np.ndarray) for part in parts), func.__name__
            recorded_or_refused += 1
    assert recorded_or_refused > 200


def test_an_rnn_written_with_numpy_draws_and_traces_as_its_tg_spelling():
    """The same nodes in the same order: the DOT text and the trace table are identical."""
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape) for shape in [(3, 2), (3, 3), (3, 1)]]
    xs = rng.standard_normal((4, 2, 1))

    def build(spelling: str) -> tg.Tensor:
        Wxh, Whh, bh = (tg.Tensor(a, requires_grad=True, name=n)
                        for a, n in zip(arrays, ["Wxh", "Whh", "bh"]))
        h = np.zeros((3, 1))
        for t in range(4):
            with tg.scope(t=t):
                if spelling == "numpy":
                    h = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, h) + bh)
                else:
                    h = tg.tanh(tg.matmul(Wxh, xs[t]) + tg.matmul(Whh, h) + bh)
        return np.sum(h) if spelling == "numpy" else tg.sum(h)

    with_numpy, with_tg = build("numpy"), build("tg")
    assert tg.to_dot(with_numpy, view="both") == tg.to_dot(with_tg, view="both")
    assert str(tg.trace_backward(with_numpy)) == str(tg.trace_backward(with_tg))
    assert tg.gradcheck_nodes(with_numpy).ok
