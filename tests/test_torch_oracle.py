"""The engine against PyTorch's autograd (skipped when torch is not installed): an RNN step, every
new op one by one (ties, bounds and kinks included), and random graphs of every op.

The random graphs are the fuzzer's programs (tests/random_graphs.py), replayed step by step in
torch with the table TORCH_OPS below: every tensor made, the loss and the gradient of every
leaf must agree in float64.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_graphs import (OPS, leaf_shapes, make_leaves, pieces_of_one, programs, replay, run,
                           seeded_programs, set_first)

import tinygraph as tg

torch = pytest.importorskip("torch")


def test_rnn_step_with_softmax_readout_matches_torch():
    rng = np.random.default_rng(1)
    x, h = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    W_xh, W_hh, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 5)), rng.standard_normal(5)
    W_hy = rng.standard_normal((5, 6))
    targets = np.array([0, 5, 2, 2])

    params = [tg.Tensor(a, requires_grad=True) for a in (W_xh, W_hh, b, W_hy)]
    h_new = tg.tanh(tg.Tensor(x) @ params[0] + tg.Tensor(h) @ params[1] + params[2])
    loss = tg.cross_entropy(h_new @ params[3], targets, reduction="mean")
    ours = tg.grad(loss, params)

    tparams = [torch.tensor(a, requires_grad=True) for a in (W_xh, W_hh, b, W_hy)]
    th = torch.tanh(torch.tensor(x) @ tparams[0] + torch.tensor(h) @ tparams[1] + tparams[2])
    tloss = torch.nn.functional.cross_entropy(th @ tparams[3], torch.tensor(targets))
    theirs = torch.autograd.grad(tloss, tparams)
    assert loss.item() == pytest.approx(tloss.item(), abs=1e-12)
    for g, tgrad in zip(ours, theirs):
        np.testing.assert_allclose(g, tgrad.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "exp", "log_softmax", "softmax"])
def test_elementwise_and_softmax_match_torch(name):
    rng = np.random.default_rng(2)
    x = np.abs(rng.standard_normal((3, 4))) + 0.1
    weights = rng.standard_normal((3, 4))
    ours_fn = {"sigmoid": tg.sigmoid, "relu": tg.relu, "exp": tg.exp,
               "log_softmax": tg.log_softmax, "softmax": tg.softmax}[name]
    theirs_fn = {"sigmoid": torch.sigmoid, "relu": torch.relu, "exp": torch.exp,
                 "log_softmax": lambda t: torch.log_softmax(t, -1),
                 "softmax": lambda t: torch.softmax(t, -1)}[name]
    xt = tg.Tensor(x, requires_grad=True)
    (ours,) = tg.grad((ours_fn(xt) * weights).sum(), [xt])
    tx = torch.tensor(x, requires_grad=True)
    (theirs,) = torch.autograd.grad((theirs_fn(tx) * torch.tensor(weights)).sum(), [tx])
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)


# ---------------------------------------------------------------- the new ops, one by one
def both(*arrays):
    """Each array as a requires-grad tg.Tensor and as a requires-grad float64 torch tensor."""
    ours = [tg.Tensor(np.array(a, dtype=float), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(np.array(a, dtype=float), requires_grad=True) for a in arrays]
    return ours, theirs


def assert_same(ours_fn, theirs_fn, *arrays, seed=0):
    """Same values and same gradients of Σ f(inputs) · w, for every input."""
    (ours, theirs), rng = both(*arrays), np.random.default_rng(seed)
    out, tout = ours_fn(*ours), theirs_fn(*theirs)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-13, atol=1e-15)
    w = rng.standard_normal(out.shape)
    grads = tg.grad((out * w).sum(), ours)
    tgrads = torch.autograd.grad((tout * torch.tensor(w)).sum(), theirs, allow_unused=True)
    for g, tgrad in zip(grads, tgrads):
        expected = np.zeros_like(g) if tgrad is None else tgrad.numpy()
        np.testing.assert_allclose(g, expected, rtol=1e-13, atol=1e-15)


R = np.random.default_rng(5)


@pytest.mark.parametrize("name, ours, theirs, values", [
    ("abs", tg.abs, torch.abs, [[-1.5, 0.0, 2.0]]),  # the derivative at 0 is 0 in both
    ("sqrt", tg.sqrt, torch.sqrt, [[0.25, 1.0, 4.0]]),
    ("square", tg.square, torch.square, [R.standard_normal((2, 3))]),
    ("sin", tg.sin, torch.sin, [R.standard_normal((2, 3))]),
    ("cos", tg.cos, torch.cos, [R.standard_normal((2, 3))]),
    ("maximum", tg.maximum, torch.maximum, [R.standard_normal((2, 3)), R.standard_normal(3)]),
    ("maximum ties", tg.maximum, torch.maximum, [[[1.0, 2.0, 0.0], [1.0, 1.0, 3.0]], [1.0, 2.0, 3.0]]),
    ("minimum ties", tg.minimum, torch.minimum, [[[1.0, 2.0, 0.0], [1.0, 1.0, 3.0]], [1.0, 2.0, 3.0]]),
    ("max all, ties of 3", tg.max, torch.amax, [[[3.0, 1.0, 3.0], [3.0, 0.0, -1.0]]]),
    ("max axis 1 ties", lambda x: x.max(axis=1), lambda t: torch.amax(t, dim=1),
     [[[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]]),
    ("min axes keepdims", lambda x: tg.min(x, axis=(0, 2), keepdims=True),
     lambda t: torch.amin(t, dim=(0, 2), keepdim=True), [R.integers(0, 3, (2, 3, 4))]),
    ("where", lambda a, b: tg.where(a > b, a, b), lambda a, b: torch.where(a > b, a, b),
     [R.standard_normal((3, 4)), R.standard_normal(4)]),
    ("clip numbers, at the bounds", lambda x: tg.clip(x, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5),
     [[-1.0, -0.5, 0.0, 0.5, 1.0]]),
    ("clip tensor bounds", tg.clip, torch.clamp,
     [[[0.0, 1.5, 3.0], [-1.0, 0.2, 0.8]], [0.5, 0.5, 0.5], [[2.0], [0.6]]]),
    ("clip crossed bounds", tg.clip, torch.clamp, [[0.0, 1.5, 5.0], [3.0, 3.0, 3.0], [1.0, 1.0, 1.0]]),
    ("split", lambda x: tg.concat(tg.split(x, [1, 3], axis=1)[::-1], axis=1),
     lambda t: torch.cat(torch.tensor_split(t, [1, 3], dim=1)[::-1], dim=1), [R.standard_normal((2, 5))]),
    ("argmax as index", lambda x: x.reshape(-1)[tg.argmax(x)], lambda t: t.reshape(-1)[torch.argmax(t)],
     [[[1.0, 5.0, 5.0], [0.0, 2.0, 5.0]]]),
    ("mask", lambda x: x * (x >= 0.0), lambda t: t * (t >= 0.0), [[-1.0, 0.0, 2.0]]),
])
def test_new_ops_match_torch(name, ours, theirs, values):
    assert_same(ours, theirs, *values)


def test_clip_with_equal_bounds_is_where_we_differ_from_torch_on_purpose():
    """Below lo = hi the output is lo: we send dy to lo; torch.clamp sends it to no input at all."""
    (x, lo, hi), (tx, tlo, thi) = both([0.0, 1.0, 2.0], 1.0, 1.0)
    tg.clip(x, lo, hi).sum().backward()
    torch.clamp(tx, tlo, thi).sum().backward()
    assert (lo.grad, hi.grad) == (1.0, 1.0) and x.grad.tolist() == [0.0, 1.0, 0.0]
    assert (tlo.grad.item(), thi.grad.item()) == (0.0, 1.0)  # the entry 0.0 lost its gradient


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_and_comparisons_match_torch(name):
    x = R.integers(0, 3, (3, 4)).astype(float)  # many ties: the first wins in both
    for axis in (None, 0, 1):
        ours = getattr(tg, name)(x, axis=axis).data
        theirs = getattr(torch, name)(torch.tensor(x), dim=axis).numpy()
        np.testing.assert_array_equal(ours, theirs)
    y = R.integers(0, 3, 4).astype(float)
    for compare in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__", "__ne__"):
        ours = getattr(tg.Tensor(x), compare)(tg.Tensor(y)).data
        theirs = getattr(torch.tensor(x), compare)(torch.tensor(y)).numpy()
        np.testing.assert_array_equal(ours, theirs)


# ---------------------------------------------------------------- random graphs of every op
def torch_targets(a, k):
    return torch.full(a.shape[:-1], k, dtype=torch.int64)


TORCH_OPS = {
    "add": lambda a, b, k: a + b,
    "sub": lambda a, b, k: a - b,
    "mul": lambda a, b, k: a * b,
    "div": lambda a, b, k: a / (1.0 + b * b),
    "pow": lambda a, b, k: (1.0 + a * a) ** torch.tanh(b),
    "pow2": lambda a, b, k: a**2,
    "neg": lambda a, b, k: -a,
    "matmul": lambda a, b, k: a @ b,
    "tanh": lambda a, b, k: torch.tanh(a),
    "sigmoid": lambda a, b, k: torch.sigmoid(a),
    "relu": lambda a, b, k: torch.relu(a),
    "identity": lambda a, b, k: a,
    "copy": lambda a, b, k: a.clone(),
    "setitem": lambda a, b, k: set_first(a, b),  # the same code for torch: y[0] = b[0] on a * 2
    "exp": lambda a, b, k: torch.exp(torch.tanh(a)),
    "log": lambda a, b, k: torch.log(1.0 + a * a),
    "abs": lambda a, b, k: torch.abs(a),
    "sqrt": lambda a, b, k: torch.sqrt(1.0 + a * a),
    "square": lambda a, b, k: torch.square(a),
    "sin": lambda a, b, k: torch.sin(a),
    "cos": lambda a, b, k: torch.cos(a),
    "maximum": lambda a, b, k: torch.maximum(a, b),
    "minimum": lambda a, b, k: torch.minimum(a, b),
    "max": lambda a, b, k: torch.amax(a, dim=k),
    "min_keepdims": lambda a, b, k: torch.amin(a, dim=k, keepdim=True),
    "max_all": lambda a, b, k: torch.amax(a),
    "where": lambda a, b, k: torch.where(a > b, a, b * 2.0),
    "mask": lambda a, b, k: a * (a <= b),
    "clip": lambda a, b, k: torch.clamp(a, -0.5, 0.5),
    "clip_tensors": lambda a, b, k: torch.clamp(a, b - 0.3, b + 0.3),
    "argmax": lambda a, b, k: a.reshape(-1)[torch.argmax(a)],
    "split": lambda a, b, k: torch.cat(torch.tensor_split(a, [1], dim=k)[::-1], dim=k),
    "split_equal": lambda a, b, k: torch.tensor_split(a, pieces_of_one(a, k), dim=k)[-1],
    "softmax": lambda a, b, k: torch.softmax(a, dim=k),
    "log_softmax": lambda a, b, k: torch.log_softmax(a, dim=k),
    "cross_entropy": lambda a, b, k: torch.nn.functional.cross_entropy(
        a.reshape(-1, a.shape[-1]), torch_targets(a, k).reshape(-1), reduction="sum"),
    "sum": lambda a, b, k: a.sum(dim=k),
    "mean": lambda a, b, k: a.mean(dim=k, keepdim=True),
    "sum_all": lambda a, b, k: a.sum(),
    "reshape": lambda a, b, k: a.reshape(-1),
    "reshape_k": lambda a, b, k: a.reshape(k, -1),
    "transpose": lambda a, b, k: a.permute(tuple(reversed(range(a.ndim)))),
    "concat": lambda a, b, k: torch.cat([a, b], dim=k),
    "stack": lambda a, b, k: torch.stack([a, b], dim=k),
    "index": lambda a, b, k: a[k],
    "slice": lambda a, b, k: a[..., k:],
    "gather": lambda a, b, k: a[torch.tensor([k, 0, k])],
}


def test_the_torch_table_has_every_step_of_the_fuzzer():
    assert set(TORCH_OPS) == set(OPS)


def assert_torch_agrees(shapes, program, seed):
    """The program's kept steps, replayed in torch: same tensors, same loss, same gradients."""
    rng = np.random.default_rng(seed)
    leaves = make_leaves(shapes, rng)
    pool, kept, _ = run(leaves, program)
    weights = [rng.standard_normal(t.shape) for t in pool]
    loss = sum(((t * w).sum() for t, w in zip(pool, weights)), tg.Tensor(0.0))
    ours = tg.grad(loss, leaves)
    tleaves = [torch.tensor(x.data, requires_grad=True) for x in leaves]
    tpool = replay(tleaves, kept, TORCH_OPS)
    for t, tt, step in zip(pool[len(leaves):], tpool[len(leaves):], kept):
        np.testing.assert_allclose(t.data, tt.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=str(step))
    tloss = sum((tt * torch.tensor(w)).sum() for tt, w in zip(tpool, weights))
    theirs = torch.autograd.grad(tloss, tleaves, allow_unused=True)
    assert loss.item() == pytest.approx(tloss.item(), rel=1e-10, abs=1e-12)
    for g, tgrad in zip(ours, theirs):
        expected = np.zeros_like(g) if tgrad is None else tgrad.numpy()
        np.testing.assert_allclose(g, expected, rtol=1e-9, atol=1e-12, err_msg=str(kept))
    return kept


def test_random_graphs_of_every_op_match_torch():
    used = Counter()
    for shapes, program, seed in seeded_programs(400, seed=15):
        used.update(name for name, *_ in assert_torch_agrees(shapes, program, seed))
    assert all(used[name] >= 5 for name in OPS), sorted(used.items(), key=lambda item: item[1])


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(leaf_shapes, programs, st.integers(0, 2**32 - 1))
def test_hypothesis_graphs_match_torch(shapes, program, seed):
    assert_torch_agrees(shapes, program, seed)
