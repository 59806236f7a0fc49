"""Training as a film: rnn.train(..., explore_every=N, explore_path=...) writes one page whose
slider runs over the recorded updates; recording changes nothing in the training."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect
from explore_pages import page_data
from rnn.memory_task import MemoryTask

pytestmark = pytest.mark.skipif(shutil.which("neato") is None,
                                reason="Graphviz's neato is not installed")

TASK = MemoryTask(length=12, symbols=3, distractors=2)


def run(explore_every=None, explore_path=None, clip_norm=1.0, updates=6, scale=1.0):
    """Train a small Elman network on the memory task; returns its parameters and the losses."""
    net = rnn.RNN(TASK.input_size, 6, rng=0)
    readout = rnn.Linear(6, TASK.symbols, rng=1)
    for p in net.parameters():
        p.data *= scale
    data = [TASK.batch(8, rng=k) for k in range(updates)]
    seen = []

    def loss_fn(batch):
        xs, y = batch
        hs, _ = net(xs)
        loss = rnn.last_step_cross_entropy(readout(hs[-1]), y, reduction="mean")
        seen.append(float(loss.item()))
        return loss

    params = net.parameters() + readout.parameters()
    rnn.train(loss_fn, data, rnn.SGD(params, lr=0.5), clip_norm=clip_norm, progress=False,
              explore_every=explore_every, explore_path=explore_path)
    return [p.data.copy() for p in params], seen


def test_the_film_records_every_nth_update_and_changes_nothing(tmp_path):
    plain, _ = run()
    filmed, losses = run(explore_every=2, explore_path=tmp_path / "film")
    for a, b in zip(plain, filmed):
        np.testing.assert_array_equal(a, b)         # the extra trace leaves training as it was
    data = page_data((tmp_path / "film.html").read_text())
    film = data["film"]
    assert [u["u"] for u in film["updates"]] == [0, 2, 4] and film["clip"] == 1.0
    assert [u["loss"] for u in film["updates"]] == pytest.approx([losses[k] for k in (0, 2, 4)],
                                                                  rel=1e-3)
    assert data["title"] == "Training: 3 updates recorded"
    assert all(len(u["norms"]) == len(film["keys"]) for u in film["updates"])
    assert len(data["frames"]) > 0 and len(data["times"]) == TASK.length


def test_the_recorded_norm_is_the_one_clipping_saw(tmp_path):
    _, _ = run(explore_every=1, explore_path=tmp_path / "film.html", updates=1)
    film = page_data((tmp_path / "film.html").read_text())["film"]
    net = rnn.RNN(TASK.input_size, 6, rng=0)
    readout = rnn.Linear(6, TASK.symbols, rng=1)
    xs, y = TASK.batch(8, rng=0)
    hs, _ = net(xs)
    rnn.last_step_cross_entropy(readout(hs[-1]), y, reduction="mean").backward()
    norm = np.sqrt(sum(np.sum(p.grad ** 2) for p in net.parameters() + readout.parameters()))
    assert film["updates"][0]["norm"] == pytest.approx(norm, rel=1e-3)


def test_at_a_small_init_the_first_steps_get_a_vanishing_gradient(tmp_path):
    run(explore_every=1, explore_path=tmp_path / "film.html", updates=1, scale=0.3)
    film = page_data((tmp_path / "film.html").read_text())["film"]
    norms = [cell[0] for cell in film["updates"][0]["flow"]["cells"][0]]
    assert norms[0] < 1e-3 * norms[-1]


def test_explore_every_and_explore_path_go_together_and_are_checked_before_training(tmp_path):
    expect(rnn.ConfigError, lambda: run(explore_every=2), "train: explore_every and explore_path "
           "go together")
    expect(rnn.ConfigError, lambda: run(explore_path=tmp_path / "f.html"), "go together")
    expect(rnn.ConfigError, lambda: run(explore_every=0, explore_path=tmp_path / "f.html"),
           "train: explore_every must be a positive int, got 0")
    expect(tg.RenderError, lambda: run(explore_every=1, explore_path=tmp_path / "no" / "f.html"),
           "cannot write", "no")
    p = tg.Tensor(np.ones(2), requires_grad=True)
    expect(rnn.ConfigError, lambda: rnn.train(lambda b: (p * p).sum(), [None], rnn.SGD([p], lr=0.1),
                                              progress=False, compile=True, explore_every=1,
                                              explore_path=tmp_path / "f.html"),
           "train: compile=True with explore_every")


def test_a_film_of_graphs_of_another_shape_keeps_their_flow_but_shades_nothing(tmp_path):
    from tinygraph.render import Film
    film = Film(tmp_path / "shapes")
    for T in (3, 4):
        w = tg.Tensor(np.full((2, 2), 0.5), requires_grad=True, name="W")
        h = tg.Tensor(np.ones((1, 2)), name="h0")
        for t in range(T):
            with tg.scope(t=t, layer=0):
                h = tg.tanh(h @ w)
                h.name = "h"
        loss = h.sum()
        film.record(loss, tg.trace_backward(loss), update=T)
    data = page_data(film.page().html)["film"]["updates"]
    assert data[0]["norms"] is not None and data[1]["norms"] is None
    assert len(data[1]["flow"]["times"]) == 4


def test_a_trace_of_another_loss_is_refused(tmp_path):
    from tinygraph.render import Film
    w = tg.Tensor(np.ones((2, 2)), requires_grad=True, name="W")
    h = tg.tanh(tg.Tensor(np.ones((1, 2))) @ w)
    expect(tg.RenderError, lambda: Film(tmp_path / "f").record(h.sum(), tg.trace_backward(h.sum()), update=0),
           "Film.record: the trace is not of this loss", "tg.trace_backward(loss)")
    expect(tg.RenderError, lambda: tg.explore(h.sum(), trace=tg.trace_backward(h.sum())),
           "explore: the trace is not of this loss")
