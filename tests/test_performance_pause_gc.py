"""tg.pause_gc: the collector is off inside, restored after (nested or not, error or not)."""

from __future__ import annotations

import gc

import numpy as np
import pytest

import rnn
import tinygraph as tg


@pytest.fixture(autouse=True)
def _restore_gc():
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_pause_turns_the_collector_off_and_back_on_even_when_nested_or_raising():
    gc.enable()
    with tg.pause_gc():
        assert not gc.isenabled()
        with tg.pause_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the inner block must not re-enable inside the outer one
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), tg.pause_gc():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_one_pause_object_may_nest_in_itself():
    gc.enable()
    pause = tg.pause_gc()
    with pause:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_pause_leaves_a_disabled_collector_disabled():
    gc.disable()
    with tg.pause_gc():
        pass
    assert not gc.isenabled()


def test_train_runs_each_step_with_the_collector_paused_and_restores_it():
    gc.enable()
    seen = []
    W = tg.Tensor(np.array([[1.0]]), requires_grad=True)

    def loss_fn(x: float) -> tg.Tensor:
        seen.append(gc.isenabled())
        return ((tg.Tensor(np.array([[x]])) @ W) ** 2).sum()

    history = rnn.train(loss_fn, [1.0, 2.0], rnn.SGD([W], lr=0.1), progress=False)
    assert seen == [False, False] and gc.isenabled()
    # L = (x w)², dL/dw = 2 x² w: w = 1 → 1 − 0.1·2 = 0.8, then L = (2·0.8)² = 2.56
    assert history == [pytest.approx((1.0 + 2.56) / 2)]
    np.testing.assert_allclose(W.data, [[0.8 - 0.1 * 2 * 4 * 0.8]])
