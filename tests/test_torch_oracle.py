"""A few ops against PyTorch's autograd (skipped when torch is not installed)."""

from __future__ import annotations

import numpy as np
import pytest

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
