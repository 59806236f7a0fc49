"""rnn.Embedding: e = W[i], one "embedding" node whose backward scatter-adds into W's rows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnn
import tinygraph as tg
from expect_error import expect

V, D = 6, 3


def table(seed: int = 0) -> rnn.Embedding:
    return rnn.Embedding(V, D, rng=seed)


@pytest.mark.parametrize("indices", [4, [0, 5, 2], [[1, 1], [3, 0]], np.arange(V).reshape(2, 3, 1)])
def test_lookup_is_the_rows_of_W(indices):
    emb = table()
    out = emb(indices)
    want = emb.W.data[np.asarray(indices)]
    assert out.shape == (*np.shape(indices), D)
    np.testing.assert_array_equal(out.data, want)
    assert emb.parameters() == [emb.W] and emb.W.shape == (V, D)


def test_repeated_indices_add_their_gradients_by_hand():
    emb = table()
    out = emb([2, 0, 2, 2])
    dy = np.arange(12.0).reshape(4, 3)
    out.backward(dy)
    want = np.zeros((V, D))
    want[2] = dy[0] + dy[2] + dy[3]  # [0+6+9, 1+7+10, 2+8+11]
    want[0] = dy[1]
    np.testing.assert_array_equal(emb.W.grad, want)
    np.testing.assert_array_equal(emb.W.grad[2], [15.0, 18.0, 21.0])


def test_the_lookup_is_one_node_reading_W():
    emb = table()
    out = emb(np.array([[1, 2], [2, 5]]))
    node = out.producer
    assert node.op.name == "embedding" and node.inputs == (emb.W,)
    assert out.name == "e"


def test_gradcheck_with_repeats_through_tanh():
    emb = table(1)
    idx = np.array([[0, 3, 3], [5, 0, 3]])
    w = np.random.default_rng(2).normal(size=(2, 3, D))
    report = tg.gradcheck(lambda: (tg.tanh(emb(idx)) * w).sum(), [emb.W])
    assert report.ok, str(report)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(vocab=st.integers(1, 7), width=st.integers(1, 4),
       shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=5),
       seed=st.integers(0, 2**32 - 1))
def test_property_forward_and_scatter_add_backward(vocab, width, shape, seed):
    rng = np.random.default_rng(seed)
    emb = rnn.Embedding(vocab, width, rng=seed)
    idx = rng.integers(0, vocab, size=shape)
    dy = rng.standard_normal((*shape, width))
    out = emb(idx)
    np.testing.assert_array_equal(out.data, emb.W.data[idx])
    out.backward(dy)
    want = np.zeros((vocab, width))
    for position in np.ndindex(shape):
        want[idx[position]] += dy[position]
    np.testing.assert_allclose(emb.W.grad, want, rtol=1e-12, atol=1e-12)
    report = tg.gradcheck(lambda: (emb(idx) * dy).sum(), [emb.W])
    assert report.ok, str(report)


def test_matches_torch_embedding():
    torch = pytest.importorskip("torch")
    emb = table(3)
    idx = np.array([[0, 5, 5, 1], [2, 2, 2, 0]])
    w = np.random.default_rng(4).normal(size=(2, 4, D))
    (tg.tanh(emb(idx)) * w).sum().backward()
    tW = torch.tensor(emb.W.data, requires_grad=True)
    tout = torch.nn.functional.embedding(torch.tensor(idx), tW)
    (torch.tanh(tout) * torch.tensor(w)).sum().backward()
    np.testing.assert_array_equal(emb(idx).data, tout.detach().numpy())
    np.testing.assert_allclose(emb.W.grad, tW.grad.numpy(), rtol=1e-14, atol=1e-15)


def test_refilling_the_callers_index_array_before_backward_changes_nothing():
    emb = table()
    idx = np.array([0, 1, 1])
    dy = np.ones((3, D))
    emb(idx.copy()).backward(dy)
    clean = emb.W.grad.copy()
    emb.W.grad = None
    out = emb(idx)
    idx[:] = 4
    out.backward(dy)
    np.testing.assert_array_equal(emb.W.grad, clean)


@pytest.mark.parametrize("hoist", [False, True])
def test_embeddings_feed_an_rnn_and_learn(hoist):
    emb = rnn.Embedding(V, D, rng=5)
    net = rnn.RNN(D, 4, rng=6, hoist_inputs=hoist)
    tokens = np.array([[0, 3, 3, 1], [5, 2, 0, 0]])

    def loss():
        hs, _ = net(emb(tokens))
        return sum((h * h).sum() for h in hs)

    report = tg.gradcheck(loss, [emb.W, net.layers[0].W_xh])
    assert report.ok, str(report)
    one_hot = np.eye(V)[tokens]  # the same network on one-hot inputs with W_xh' = W W_xh
    hs, _ = net(emb(tokens))
    check = rnn.RNN(V, 4, rng=6)
    check.layers[0].W_xh.data = emb.W.data @ net.layers[0].W_xh.data
    check.layers[0].W_hh.data = net.layers[0].W_hh.data
    check.layers[0].b_h.data = net.layers[0].b_h.data
    np.testing.assert_allclose(check(one_hot)[0][-1].data, hs[-1].data, rtol=1e-12, atol=1e-14)


def test_float32_table():
    emb = rnn.Embedding(V, D, rng=0, dtype=np.float32)
    out = emb([1, 1])
    out.sum().backward()
    assert emb.dtype == np.float32 and out.dtype == np.float32 and emb.W.grad.dtype == np.float32


def test_named_parameters_and_saving(tmp_path):
    emb = rnn.Embedding(V, D, rng=0, name="tokens")
    assert emb.named_parameters() == {"tokens": emb.W}
    rnn.save_parameters(tmp_path / "e.npz", emb)
    other = rnn.Embedding(V, D, rng=1, name="tokens")
    rnn.load_parameters(tmp_path / "e.npz", other)
    np.testing.assert_array_equal(other.W.data, emb.W.data)


@pytest.mark.parametrize("indices, error, fragments", [
    ([1, 6], tg.ShapeError, ("Embedding(6, 3)", "index 6 at position (1,)", "V = 6", "0..5")),
    ([[0, 1], [-1, 2]], tg.ShapeError, ("Embedding(6, 3)", "index -1 at position (1, 0)", "V = 6",
                                        "not wrapped")),
    ([1.0, 2.5], tg.DTypeError, ("Embedding(6, 3)", "integers", "float64", "index 2.5 at position (1,)")),
    (np.array([True, False]), tg.DTypeError, ("Embedding(6, 3)", "integers", "bool")),
    ("ab", tg.DTypeError, ("Embedding(6, 3)", "indices", "<U2")),
    ([[0], [1, 2]], tg.DTypeError, ("Embedding(6, 3)", "indices", "ragged")),
])
def test_bad_indices_are_named(indices, error, fragments):
    expect(error, lambda: table()(indices), *fragments)


def test_bad_indices_name_the_scope():
    with tg.scope(t=2):
        expect(tg.ShapeError, lambda: table()([9]), "Embedding(6, 3) (t=2)", "index 9")


@pytest.mark.parametrize("build, error, fragments", [
    (lambda: rnn.Embedding(0, D), rnn.ConfigError, ("Embedding", "num_embeddings", "0")),
    (lambda: rnn.Embedding(V, 2.5), rnn.ConfigError, ("Embedding", "embedding_dim", "2.5")),
    (lambda: rnn.Embedding(V, D, dtype=int), tg.DTypeError, ("Embedding", "float dtype")),
    (lambda: rnn.Embedding(V, D, rng="x"), tg.DTypeError, ("Embedding", "rng")),
    (lambda: rnn.Embedding(V, D, name=""), tg.DTypeError, ("Embedding", "name")),
])
def test_bad_settings_are_named(build, error, fragments):
    expect(error, build, *fragments)
