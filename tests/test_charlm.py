"""The character-level language model: vocabulary, streams, learning, seeded sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tinygraph as tg
from rnn import ConfigError
from rnn.charlm import (
    CharLM,
    TrainConfig,
    Vocabulary,
    evaluate,
    load_text,
    make_streams,
    train_charlm,
)


@pytest.fixture(scope="module")
def text():
    return load_text()


def test_shipped_text_is_a_few_kilobytes_of_sonnets(text):
    assert 3000 < len(text.encode("utf-8")) < 10000
    assert text.startswith("From fairest creatures we desire increase,")
    assert "Shall I compare thee to a summer's day?" in text


def test_vocabulary_round_trip_and_one_hot(text):
    vocab = Vocabulary(text)
    assert vocab.size == len(set(text)) == len(vocab)
    assert list(vocab.chars) == sorted(set(text))
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert ids.dtype == np.int64 and ids.min() == 0 and ids.max() == vocab.size - 1
    onehot = vocab.one_hot(ids[:5])
    assert onehot.shape == (5, vocab.size)
    assert np.array_equal(onehot.argmax(axis=1), ids[:5]) and np.all(onehot.sum(axis=1) == 1)


def test_unknown_character_names_it():
    with pytest.raises(ConfigError, match="'z'"):
        Vocabulary("abc").encode("abz")
    with pytest.raises(ConfigError, match="empty"):
        Vocabulary("")


def test_streams_predict_the_next_character():
    ids = np.arange(11)
    inputs, targets = make_streams(ids, batch_size=2)
    assert inputs.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert targets.tolist() == [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]]
    with pytest.raises(ConfigError, match="too few"):
        make_streams(np.arange(3), batch_size=4)


def test_untrained_loss_is_near_uniform_and_evaluate_matches_a_hand_sum():
    vocab = Vocabulary("abcab")
    model = CharLM(vocab, hidden_size=4, seed=1)
    inputs, targets = make_streams(vocab.encode("abcab"), 1)
    hs, _ = model.net(vocab.one_hot(inputs))
    by_hand = 0.0
    for t, h in enumerate(hs):
        logits = model.readout(h).data[0]
        by_hand += -(logits[targets[0, t]] - np.log(np.exp(logits).sum()))
    assert evaluate(model, inputs, targets) == pytest.approx(by_hand / 4, rel=1e-12)
    assert abs(evaluate(model, inputs, targets) - math.log(3)) < 0.5


def test_loss_drops_on_the_shipped_text_in_seconds(text):
    vocab = Vocabulary(text)
    model = CharLM(vocab, hidden_size=48, seed=0)
    inputs, targets = make_streams(vocab.encode(text), 16)
    before = evaluate(model, inputs, targets)
    assert abs(before - math.log(vocab.size)) < 0.2          # about ln V = 4.0 nats
    seen = []
    history = train_charlm(model, text, TrainConfig(epochs=12, batch_size=16, k1=20, k2=20),
                           on_epoch=lambda e, loss: seen.append((e, loss)))
    assert [e for e, _ in seen] == list(range(12)) and [x for _, x in seen] == history.losses
    assert history.updates == 12 * math.ceil(inputs.shape[1] / 20)
    after = evaluate(model, inputs, targets)
    assert history.losses[-1] < history.losses[0] - 0.8
    assert after < 2.7 < before - 1.0


def test_k2_smaller_than_k1_is_refused(text):
    model = CharLM(Vocabulary(text), hidden_size=8)
    with pytest.raises(ConfigError, match="k2"):
        train_charlm(model, text[:400], TrainConfig(epochs=1, k1=10, k2=5))


def test_sampling_is_deterministic_for_a_seed(text):
    model = CharLM(Vocabulary(text), hidden_size=16, seed=3)
    a = model.sample(80, seed=7, temperature=0.8)
    assert a == model.sample(80, seed=7, temperature=0.8)
    assert a != model.sample(80, seed=8, temperature=0.8)
    assert len(a) == 80 and set(a) <= set(text)
    assert model.sample(0) == ""


def test_low_temperature_sampling_is_greedy():
    vocab = Vocabulary("ab")
    model = CharLM(vocab, hidden_size=3, seed=0)
    with tg.no_grad():
        hs, _ = model.net(vocab.one_hot(vocab.encode("a")[None, :]))
        best = vocab.chars[int(model.readout(hs[0]).data[0].argmax())]
    assert model.sample(1, prime="a", temperature=1e-6, seed=0) == best
    with pytest.raises(ConfigError, match="temperature"):
        model.sample(5, temperature=0.0)
