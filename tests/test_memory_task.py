"""The long-range memory task: the LSTM learns it, the Elman cell does not, and lag 50 shows why.

The thresholds come from the seeded run (seed 0, T = 60, K = 4, H = 16, 300 Adam updates,
forget bias 5): Elman accuracy 0.285 (chance 0.25), LSTM 1.0; at lag 50 the gradient ratio
LSTM / Elman is 2.7e12 untrained and 1.7e5 trained.
"""

from __future__ import annotations

import numpy as np
import pytest

import rnn
from rnn.memory_task import MemoryTask, lag_ratio, memory_task_experiment, train_on_memory_task


def test_batch_has_the_symbol_first_and_one_distractor_per_later_step() -> None:
    task = MemoryTask(length=5, symbols=3, distractors=2, distractor_scale=0.5)
    xs, y = task.batch(4, rng=1)
    assert xs.shape == (4, 5, 5) and y.shape == (4,)
    np.testing.assert_array_equal(xs[:, 0, :3], np.eye(3)[y])
    np.testing.assert_array_equal(xs[:, 0, 3:], 0.0)
    np.testing.assert_array_equal(xs[:, 1:, :3], 0.0)
    np.testing.assert_array_equal(xs[:, 1:, 3:].sum(axis=2), 0.5)
    np.testing.assert_array_equal(np.count_nonzero(xs[:, 1:], axis=2), 1)
    again, y_again = task.batch(4, rng=1)
    np.testing.assert_array_equal(xs, again)
    np.testing.assert_array_equal(y, y_again)
    assert task.input_size == 5 and task.chance == pytest.approx(1 / 3)


@pytest.mark.parametrize("kwargs", [{"length": 1}, {"symbols": 1}, {"distractors": 0}, {"length": 2.0}])
def test_bad_task_sizes_are_refused(kwargs: dict) -> None:
    with pytest.raises(rnn.ConfigError, match="MemoryTask"):
        MemoryTask(**kwargs)


def test_cell_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(rnn.ConfigError, match=r"train_on_memory_task\(Elman\).*input_size is 3.*width 8"):
        train_on_memory_task("Elman", rnn.ElmanCell(3, 4, rng=0), MemoryTask(), updates=1)


def test_short_training_is_deterministic() -> None:
    task = MemoryTask(length=8)
    runs = [train_on_memory_task("LSTM", rnn.LSTMCell(8, 4, forget_bias=5.0, rng=2), task, updates=3,
                                 batch_size=4, eval_size=8, seed=2) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].losses, runs[1].losses)
    np.testing.assert_array_equal(runs[0].lag_norms_trained, runs[1].lag_norms_trained)
    assert runs[0].losses.shape == (3,) and runs[0].lag_norms_init.shape == (8,)
    assert not np.array_equal(runs[0].lag_norms_init, runs[0].lag_norms_trained)


def test_lstm_learns_the_task_and_keeps_a_gradient_at_lag_50() -> None:
    runs = memory_task_experiment(seed=0)
    elman, lstm = runs["Elman (tanh)"], runs["LSTM, forget bias 5"]
    # Accuracy on 256 held-out sequences: the LSTM solves it, the Elman cell stays near chance 0.25.
    assert lstm.accuracy >= 0.98 and lstm.eval_loss < 0.1
    assert elman.accuracy <= 0.35 and elman.eval_loss > 1.3
    assert lstm.losses[-1] < 0.1 < 1.3 < elman.losses[-1]
    # The first symbol sits at lag 59; lag 50 is 50 steps of recurrence away from the readout.
    assert lag_ratio(lstm, elman, 50, trained=False) >= 1e10
    assert lag_ratio(lstm, elman, 50, trained=True) >= 1e4
    # The Elman cell's gradient vanishes geometrically; the trained LSTM's is flat past lag 10.
    assert elman.lag_norms_trained[50] / elman.lag_norms_trained[10] < 1e-6
    assert 0.1 < lstm.lag_norms_trained[50] / lstm.lag_norms_trained[10] < 10
    # Lag 0 is the same readout gradient for both cells before training (same readout init).
    assert lstm.lag_norms_init[0] == pytest.approx(elman.lag_norms_init[0], rel=0.05)
