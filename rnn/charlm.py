"""A character-level Elman language model: P(x_t | x_(t−1), ..., x_0) ≈ P(x_t | h_t).

The latent-state view: the hidden state h_t summarises the text read so far,

    h_t = tanh(x_t W_xh + h_(t−1) W_hh + b_h),    x_t = one-hot of character t (so x_t W_xh is
                                                  row x_t of W_xh: an embedding lookup),
    o_t = h_t W_hy + b_y,                         P(x_(t+1) = c | h_t) = softmax(o_t)[c],

and the loss is the mean negative log-likelihood of the next character, in nats per character.
A uniform guess over V characters scores ln V. Training cuts the text into ``batch_size``
parallel streams and runs truncated BPTT (:func:`rnn.tbptt`) along them; sampling draws one
character at a time from softmax(o_t / temperature) with a seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

import tinygraph as tg
from rnn.errors import ConfigError
from rnn.linear import Linear
from rnn.network import RNN
from rnn.optim import Adam
from rnn.tbptt import tbptt

DEFAULT_TEXT = "sonnets.txt"


def load_text(name: str = DEFAULT_TEXT) -> str:
    """A text shipped in ``rnn/data`` (default: eight Shakespeare sonnets, public domain)."""
    return resources.files("rnn").joinpath("data", name).read_text(encoding="utf-8")


class Vocabulary:
    """The distinct characters of a text, sorted; character ↔ index 0..V−1."""

    def __init__(self, chars: str) -> None:
        self.chars = "".join(sorted(set(chars)))
        if not self.chars:
            raise ConfigError("Vocabulary: the text is empty")
        self.index = {c: i for i, c in enumerate(self.chars)}

    @property
    def size(self) -> int:
        """V, the number of distinct characters."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """The indices of ``text``'s characters (ConfigError naming an unknown character)."""
        missing = sorted(set(text) - set(self.index))
        if missing:
            raise ConfigError(f"Vocabulary.encode: characters not in the vocabulary: {missing!r}")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids: np.ndarray | list[int]) -> str:
        """The text of a sequence of indices."""
        return "".join(self.chars[int(i)] for i in ids)

    def one_hot(self, ids: np.ndarray) -> np.ndarray:
        """One-hot rows: shape ids.shape + (V,), float64."""
        return np.eye(self.size)[np.asarray(ids)]

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"Vocabulary({self.size} characters)"


class CharLM:
    """An Elman RNN over one-hot characters with a linear readout to next-character scores.

    Args:
        vocab: the characters the model reads and writes.
        hidden_size: H of every layer.
        num_layers: stacked Elman layers.
        nonlinearity: "tanh" (default), "relu", "sigmoid" or "identity".
        seed: seeds the parameters.
    """

    def __init__(self, vocab: Vocabulary, hidden_size: int = 64, num_layers: int = 1,
                 nonlinearity: str = "tanh", seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.vocab = vocab
        self.net = RNN(vocab.size, hidden_size, num_layers, nonlinearity, rng=rng)
        self.readout = Linear(hidden_size, vocab.size, rng=rng)

    def parameters(self) -> list[tg.Tensor]:
        """The RNN's parameters, then W_hy and b_y."""
        return self.net.parameters() + self.readout.parameters()

    def sample(self, length: int, *, prime: str | None = None, temperature: float = 1.0,
               seed: int = 0) -> str:
        """``length`` characters drawn one by one from softmax(o_t / temperature) after reading
        ``prime`` (default: a newline, or the first vocabulary character if the text has no
        newline); the same seed gives the same text. Temperature → 0 approaches argmax."""
        if length < 0:
            raise ConfigError(f"CharLM.sample: length must be >= 0, got {length}")
        if not temperature > 0:
            raise ConfigError(f"CharLM.sample: temperature must be > 0, got {temperature}")
        if prime is None:
            prime = "\n" if "\n" in self.vocab.index else self.vocab.chars[0]
        if not prime:
            raise ConfigError("CharLM.sample: prime must hold at least one character")
        rng = np.random.default_rng(seed)
        ids = list(self.vocab.encode(prime))
        out: list[int] = []
        with tg.no_grad():
            states = None
            for i in range(len(ids) + length - 1):
                current = ids[i] if i < len(ids) else out[-1]
                x = self.vocab.one_hot(np.array([[current]]))
                hs, states = self.net.forward_states(x, states)
                if i >= len(ids) - 1:
                    logits = self.readout(hs[0]).data[0] / temperature
                    p = np.exp(logits - logits.max())
                    out.append(int(rng.choice(self.vocab.size, p=p / p.sum())))
        return self.vocab.decode(out[:length])

    def __repr__(self) -> str:
        return (f"CharLM(V={self.vocab.size}, H={self.net.hidden_size}, "
                f"layers={self.net.num_layers})")


def make_streams(ids: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Cut a text of N indices into ``batch_size`` streams of T = (N − 1) // batch_size steps.

    Returns inputs (B, T) and targets (B, T), the targets one character ahead: row b reads
    text[b·T : (b+1)·T] and predicts text[b·T + 1 : (b+1)·T + 1].
    """
    T = (len(ids) - 1) // batch_size
    if T < 1:
        raise ConfigError(f"make_streams: {len(ids)} characters are too few for "
                          f"batch_size={batch_size}")
    inputs = ids[: batch_size * T].reshape(batch_size, T)
    targets = ids[1: batch_size * T + 1].reshape(batch_size, T)
    return inputs, targets


@dataclass
class TrainConfig:
    """Settings of :func:`train_charlm` (the defaults train in a few seconds on the sonnets)."""

    epochs: int = 60
    batch_size: int = 16
    k1: int = 25
    k2: int = 25
    lr: float = 0.01
    clip_norm: float | None = 5.0


@dataclass
class TrainHistory:
    """Mean loss per character (nats) after each epoch, and the number of updates."""

    losses: list[float] = field(default_factory=list)
    updates: int = 0


def evaluate(model: CharLM, inputs: np.ndarray, targets: np.ndarray) -> float:
    """The mean −log P(next character | h_t) over the streams, without recording a graph."""
    with tg.no_grad():
        hs, _ = model.net(model.vocab.one_hot(inputs))
        total = sum(float(tg.cross_entropy(model.readout(h), targets[:, t]).item())
                    for t, h in enumerate(hs))
    return total / targets.size


def train_charlm(model: CharLM, text: str, config: TrainConfig | None = None,
                 on_epoch: Callable[[int, float], None] | None = None) -> TrainHistory:
    """Train ``model`` on ``text`` with Adam and truncated BPTT(k2; k1) along parallel streams.

    Each epoch makes one pass: every k1 steps, L = Σ_(last k1 steps) mean_b −log P(y_t | h_t)
    is back-propagated k2 steps and Adam steps. The hidden state runs on across blocks
    (detached), so the model sees the streams as one long text. ``on_epoch(epoch, loss)`` is
    called after each epoch with the mean loss per character of that epoch.
    """
    config = config or TrainConfig()
    if config.epochs < 1:
        raise ConfigError(f"train_charlm: epochs must be >= 1, got {config.epochs}")
    inputs, targets = make_streams(model.vocab.encode(text), config.batch_size)
    xs = model.vocab.one_hot(inputs)
    optimizer = Adam(model.parameters(), lr=config.lr)
    history = TrainHistory()

    def step_loss(t: int, h: tg.Tensor) -> tg.Tensor:
        return tg.cross_entropy(model.readout(h), targets[:, t], reduction="mean")

    for epoch in range(config.epochs):
        result = tbptt(model.net, xs, step_loss, k1=config.k1, k2=config.k2,
                       optimizer=optimizer, clip_norm=config.clip_norm)
        history.updates += result.updates
        history.losses.append(sum(result.losses) / inputs.shape[1])
        if on_epoch is not None:
            on_epoch(epoch, history.losses[-1])
    return history
