"""A long-range memory task: report the first symbol of a 60-step sequence at the last step.

The task (``MemoryTask``): a class y ∈ {0, …, K−1} arrives as a one-hot vector at step 0; the
steps 1 … T−1 carry distractors, one-hot vectors over M other channels chosen at random; the
network must output y after the last step (many-to-one cross-entropy on a Linear readout of
h_(T−1)). Only x_0 says anything about y, so the gradient that teaches the cell to keep y has to
travel T−1 steps back through the recurrence. Chance accuracy is 1/K.

The experiment (``memory_task_experiment``): an Elman cell (tanh) and an LSTM cell of the same
hidden size, the same readout initialisation, the same training batches and the same seeds, each
trained with Adam and full BPTT. For each cell it records the loss per update, the accuracy on a
held-out batch, and the gradient norm by lag k, ||∂L/∂h_(T−k)|| (h_T the last output), for the task's loss at
initialisation and after training (``rnn.analysis.gradient_norms_by_lag`` with the loss of the
readout). Numbers only; the figure is ``rnn.plots.plot_memory_task``.

The LSTM's forget bias is 5 by default: σ(5) = 0.993, so the untrained cell keeps
0.993^59 ≈ 0.67 of its cell state over the sequence. With forget bias 1 (σ = 0.73, 0.73^59 ≈ 1e-8)
the untrained LSTM forgets the symbol as fast as the Elman cell does, and in our runs it did not
learn the task within the same few hundred updates (see docs/vanishing_gradients.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import tinygraph as tg
from rnn.analysis import LossFn, gradient_norms_by_lag
from rnn.cell import ElmanCell, RngLike, make_rng
from rnn.errors import ConfigError
from rnn.linear import Linear
from rnn.losses import last_step_cross_entropy
from rnn.lstm import LSTMCell
from rnn.network import RNN
from rnn.optim import Adam


@dataclass(frozen=True)
class MemoryTask:
    """Remember the first of ``length`` inputs: x_0 = e_y, x_t = scale · e_(K + d_t) for t ≥ 1.

    e_j is the j-th unit vector of width K + M (K = ``symbols``, M = ``distractors``), y is
    uniform in {0, …, K−1} and every d_t uniform in {0, …, M−1}. The target is y.
    """

    length: int = 60
    symbols: int = 4
    distractors: int = 4
    distractor_scale: float = 1.0

    def __post_init__(self) -> None:
        for label in ("length", "symbols", "distractors"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"MemoryTask: {label} must be a positive int, got {value!r}")
        if self.length < 2 or self.symbols < 2:
            raise ConfigError(
                f"MemoryTask: needs length >= 2 and symbols >= 2, got length={self.length}, "
                f"symbols={self.symbols}"
            )

    @property
    def input_size(self) -> int:
        """D = K + M, the width of every x_t."""
        return self.symbols + self.distractors

    @property
    def chance(self) -> float:
        """1/K, the accuracy of guessing."""
        return 1.0 / self.symbols

    def batch(self, size: int, rng: RngLike = None) -> tuple[np.ndarray, np.ndarray]:
        """(xs, y): inputs (size, T, K + M) and targets (size,) of ints, drawn from ``rng``."""
        if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
            raise ConfigError(f"MemoryTask.batch: size must be a positive int, got {size!r}")
        generator = make_rng(rng)
        K, T = self.symbols, self.length
        y = generator.integers(0, K, size)
        distractor = generator.integers(K, K + self.distractors, (size, T - 1))
        xs = np.zeros((size, T, self.input_size))
        rows = np.arange(size)
        xs[rows, 0, y] = 1.0
        xs[rows[:, None], np.arange(1, T)[None, :], distractor] = self.distractor_scale
        return xs, y


def readout_loss(readout: Linear, targets: np.ndarray) -> LossFn:
    """The task's loss as a function of the top layer's outputs: mean_b CE(h_(T−1)[b] W + b, y[b])."""
    return lambda hs: last_step_cross_entropy(readout(hs[-1]), targets, reduction="mean")


@dataclass
class MemoryRun:
    """One cell trained on a ``MemoryTask``.

    Attributes:
        label: the cell's name ("Elman (tanh)", "LSTM, forget bias 5").
        losses: the training loss (mean cross-entropy of the batch) before every update.
        accuracy: the fraction of the held-out batch classified correctly after training.
        eval_loss: the mean cross-entropy on the held-out batch after training.
        lag_norms_init: ||∂L/∂h_(T−k)|| (hs[T−1−k]) for k = 0 … T−1 on the held-out batch, untrained.
        lag_norms_trained: the same after training.
    """

    label: str
    losses: np.ndarray
    accuracy: float
    eval_loss: float
    lag_norms_init: np.ndarray
    lag_norms_trained: np.ndarray


def evaluate(net: RNN, readout: Linear, xs: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) of argmax(h_(T−1) W + b) against y, without a graph."""
    with tg.no_grad():
        hs, _ = net(xs)
        logits = readout(hs[-1])
        loss = last_step_cross_entropy(logits, y, reduction="mean").item()
    return float(np.mean(np.argmax(logits.data, axis=1) == y)), float(loss)


def train_on_memory_task(
    label: str,
    cell: ElmanCell | LSTMCell,
    task: MemoryTask,
    *,
    updates: int = 300,
    batch_size: int = 32,
    lr: float = 0.01,
    eval_size: int = 256,
    seed: int = 0,
) -> MemoryRun:
    """Train ``RNN(cell=cell)`` plus a Linear(H, K) readout with Adam and full BPTT.

    Update u: a fresh batch from the generator seeded ``seed + 2``, L = mean_b CE(logits, y),
    ``L.backward()`` through all T steps, one Adam step (no clipping). The readout is
    initialised from ``seed + 1`` and the held-out batch (``eval_size`` sequences) is drawn
    from ``seed + 3``, so two cells trained with the same seed see the same data.
    The lag norms are measured on the held-out batch before the first and after the last update.
    """
    if isinstance(updates, bool) or not isinstance(updates, (int, np.integer)) or updates < 0:
        raise ConfigError(f"train_on_memory_task({label}): updates must be an int >= 0, got {updates!r}")
    if cell.input_size != task.input_size:
        raise ConfigError(
            f"train_on_memory_task({label}): the cell's input_size is {cell.input_size} but the "
            f"task's inputs have width {task.input_size}"
        )
    net = RNN(cell=cell)
    readout = Linear(cell.hidden_size, task.symbols, rng=seed + 1)
    params = net.parameters() + readout.parameters()
    optimiser = Adam(params, lr=lr)
    data = np.random.default_rng(seed + 2)
    eval_xs, eval_y = task.batch(eval_size, seed + 3)
    held_out_loss = readout_loss(readout, eval_y)
    lag_init = gradient_norms_by_lag(net, eval_xs, held_out_loss)
    losses = np.empty(updates)
    for update in range(updates):
        xs, y = task.batch(batch_size, data)
        optimiser.zero_grad()
        hs, _ = net(xs)
        loss = last_step_cross_entropy(readout(hs[-1]), y, reduction="mean")
        loss.backward()
        optimiser.step()
        losses[update] = loss.item()
    accuracy, eval_loss = evaluate(net, readout, eval_xs, eval_y)
    lag_trained = gradient_norms_by_lag(net, eval_xs, held_out_loss)
    return MemoryRun(label, losses, accuracy, eval_loss, lag_init, lag_trained)


def memory_task_experiment(
    task: MemoryTask | None = None,
    *,
    hidden_size: int = 16,
    forget_bias: float = 5.0,
    updates: int = 300,
    batch_size: int = 32,
    lr: float = 0.01,
    seed: int = 0,
) -> dict[str, MemoryRun]:
    """Train an Elman (tanh) cell and an LSTM cell with the same H, seeds and batches.

    Both cells are initialised from ``seed`` (PyTorch's default U(−1/√H, 1/√H)); the LSTM's
    forget block of b_ih gets ``forget_bias`` added. Returns {"Elman (tanh)": …,
    "LSTM, forget bias <fb>": …} in that order. Default task: T = 60, K = 4, M = 4.
    """
    task = MemoryTask() if task is None else task
    D = task.input_size
    cells = {
        "Elman (tanh)": ElmanCell(D, hidden_size, rng=seed),
        f"LSTM, forget bias {forget_bias:g}": LSTMCell(D, hidden_size, forget_bias=forget_bias, rng=seed),
    }
    return {
        label: train_on_memory_task(label, cell, task, updates=updates, batch_size=batch_size, lr=lr,
                                    seed=seed)
        for label, cell in cells.items()
    }


def lag_ratio(numerator: MemoryRun, denominator: MemoryRun, lag: int = 50,
              trained: bool = True) -> float:
    """||∂L/∂h_(T−lag)|| of one run divided by the other's, after (or before) training."""
    first = numerator.lag_norms_trained if trained else numerator.lag_norms_init
    second = denominator.lag_norms_trained if trained else denominator.lag_norms_init
    if not 0 <= lag < len(first):
        raise ConfigError(f"lag_ratio: lag must be in 0 … {len(first) - 1}, got {lag}")
    return float(first[lag] / second[lag])
