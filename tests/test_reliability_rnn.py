"""rnn's catalogue of bad inputs: inputs, h0, masks, nonlinearities, sizes and loss targets.

Each case asserts the exception type and that the message names the function, the scope
(``layer=..``, ``t=..``) where it applies, and the shapes or values at fault. The last tests
check that what is accepted is also right (int inputs are made float, nothing turns to NaN).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect

B, T, D, H, V = 2, 5, 3, 4, 3


@pytest.fixture
def net() -> rnn.RNN:
    return rnn.RNN(D, H, num_layers=2, rng=0)


@pytest.fixture
def logits(net: rnn.RNN) -> list[tg.Tensor]:
    readout = rnn.Linear(H, V, rng=1)
    hs, _ = net(np.random.default_rng(0).normal(size=(B, T, D)))
    return [readout(h) for h in hs]


XS = np.zeros((B, T, D))

INPUT_CASES: dict[str, tuple[type[Exception], Any, tuple[str, ...]]] = {
    "width": (tg.ShapeError, np.zeros((B, T, 4)), ("rnn.RNN (layer=0)", "(2, 4)", "D = 3")),
    "rank 2": (tg.ShapeError, np.zeros((T, D)), ("rnn.RNN", "(5, 3)", "rank 2", "xs[None]")),
    "rank 4": (tg.ShapeError, np.zeros((1, B, T, D)), ("rnn.RNN", "(1, 2, 5, 3)", "rank 4")),
    "no steps": (tg.ShapeError, np.zeros((B, 0, D)), ("rnn.RNN", "(2, 0, 3)", "T = 0")),
    "empty list": (tg.ShapeError, [], ("rnn.RNN", "empty")),
    "ragged batch": (tg.ShapeError, [np.zeros((2, 3)), np.zeros((3, 3))],
                     ("rnn.RNN", "ragged", "t=1", "(3, 3)", "(2, 3)", "pad_sequences")),
    "ragged width": (tg.ShapeError, [np.zeros((2, 3)), np.zeros((2, 4))],
                     ("rnn.RNN", "ragged", "t=1", "(2, 4)")),
    "step rank": (tg.ShapeError, [np.zeros(3)], ("rnn.RNN", "step t=0", "(3,)", "(B, D)")),
    "ragged nested list": (tg.DTypeError, [[[1.0, 2.0, 3.0], [1.0]]],
                           ("rnn.RNN", "input step t=0", "ragged")),
    "strings": (tg.DTypeError, np.array([[["a", "b", "c"]]]), ("rnn.RNN", "<U1", "not numeric")),
    "objects": (tg.DTypeError, np.array([[[{}] * 3]], dtype=object), ("rnn.RNN", "object")),
    "None": (tg.DTypeError, None, ("rnn.RNN", "object")),
}


@pytest.mark.parametrize("case", sorted(INPUT_CASES))
def test_bad_inputs_are_named(net: rnn.RNN, case: str) -> None:
    error, xs, fragments = INPUT_CASES[case]
    expect(error, lambda: net(xs), *fragments)


H0_CASES: dict[str, tuple[type[Exception], Any, tuple[str, ...]]] = {
    "too few": (tg.ShapeError, [np.zeros((B, H))], ("rnn.RNN", "list of 2 states", "got 1")),
    "bare array": (tg.ShapeError, np.zeros((B, H)), ("rnn.RNN", "list of 2 states", "ndarray")),
    "batch": (tg.ShapeError, [np.zeros((B, H)), np.zeros((3, H))],
              ("rnn.RNN (layer=1)", "h0 has shape (3, 4)", "expected (2, 4)", "batch 2")),
    "width": (tg.ShapeError, [np.zeros((B, 5)), np.zeros((B, H))],
              ("rnn.RNN (layer=0)", "(2, 5)", "hidden_size 4")),
    "rank": (tg.ShapeError, [np.zeros(H), np.zeros((B, H))], ("rnn.RNN (layer=0)", "(4,)", "(2, 4)")),
    "ragged": (tg.DTypeError, [[[0.0] * 4, [0.0] * 3], np.zeros((B, H))],
               ("rnn.RNN (layer=0)", "h0", "ragged")),
    "objects": (tg.DTypeError, [np.array([[None] * H] * B), np.zeros((B, H))],
                ("rnn.RNN (layer=0)", "h0", "object")),
    "string": (tg.DTypeError, [np.zeros((B, H)), "ab"], ("rnn.RNN (layer=1)", "h0", "<U2")),
}


@pytest.mark.parametrize("case", sorted(H0_CASES))
def test_bad_initial_states_are_named_with_their_layer(net: rnn.RNN, case: str) -> None:
    error, h0, fragments = H0_CASES[case]
    expect(error, lambda: net(XS, h0=h0), *fragments)


def test_h0_as_nested_lists_of_numbers_is_one_state_per_layer(net: rnn.RNN) -> None:
    """A (B, H) nested list is one state (not a tuple of rows); same result as the array."""
    h0 = [[[0.5] * H] * B, [[-0.5] * H] * B]
    xs = np.random.default_rng(1).normal(size=(B, T, D))
    from_lists = net(xs, h0=h0)[0][-1].data
    from_arrays = net(xs, h0=[np.full((B, H), 0.5), np.full((B, H), -0.5)])[0][-1].data
    np.testing.assert_array_equal(from_lists, from_arrays)
    assert not np.array_equal(from_lists, net(xs)[0][-1].data)


MASK_CASES: dict[str, tuple[Any, tuple[str, ...]]] = {
    "shape": (np.ones((B, 4)), ("rnn.RNN", "mask has shape (2, 4)", "(2, 5)")),
    "values": (np.full((B, T), 2.0), ("rnn.RNN", "0 or 1")),
    "left padding": (np.array([[0, 1, 1, 1, 1], [1, 1, 1, 1, 1]]), ("rnn.RNN", "row 0", "[0, 1, 1, 1, 1]")),
}


@pytest.mark.parametrize("case", sorted(MASK_CASES))
def test_bad_masks_are_named(net: rnn.RNN, case: str) -> None:
    mask, fragments = MASK_CASES[case]
    expect(tg.ShapeError, lambda: net(XS, mask=mask), *fragments)


def test_cell_step_names_its_scope_and_shapes():
    cell = rnn.ElmanCell(D, H, rng=0)
    with tg.scope(t=3, layer=1):
        expect(tg.ShapeError, lambda: cell.step(tg.Tensor(np.ones((B, 5))), tg.Tensor(np.zeros((B, H)))),
               "ElmanCell.step (t=3, layer=1)", "x_t has shape (2, 5)", "(B, 3)")
        expect(tg.ShapeError, lambda: cell.step(tg.Tensor(np.ones((B, D))), tg.Tensor(np.zeros((3, H)))),
               "ElmanCell.step (t=3, layer=1)", "h_prev has shape (3, 4)", "(2, 4)")


def test_linear_checks_width_and_accepts_arrays():
    readout = rnn.Linear(H, V, rng=0)
    with tg.scope(t=2):
        expect(tg.ShapeError, lambda: readout(np.ones((B, 5))), "Linear(4, 3) (t=2)", "(2, 5)", "(B, 4)")
    expect(tg.DTypeError, lambda: readout([[1.0] * 4, [1.0]]), "Linear(4, 3)", "ragged")
    h = np.random.default_rng(0).normal(size=(B, H))
    np.testing.assert_allclose(readout(h).data, h @ readout.W.data + readout.b.data, rtol=0, atol=1e-15)


# ---------------------------------------------------------------- configuration
VALID = "'tanh', 'relu', 'sigmoid', 'identity'"


@pytest.mark.parametrize("build, fragments", [
    (lambda: rnn.RNN(D, H, nonlinearity="tahn"), ("rnn.RNN (layer=0)", "'tahn'", VALID)),
    (lambda: rnn.RNN(D, H, num_layers=2, nonlinearity=["tanh", "softplus"]),
     ("rnn.RNN (layer=1)", "'softplus'", VALID)),
    (lambda: rnn.RNN(D, H, nonlinearity=None), ("rnn.RNN (layer=0)", "None", VALID)),
    (lambda: rnn.RNN(D, H, nonlinearity=3), ("rnn.RNN (layer=0)", "3", VALID)),
    (lambda: rnn.ElmanCell(D, H, nonlinearity="Tanh"), ("ElmanCell", "'Tanh'", VALID)),
    (lambda: rnn.RNN(D, H, num_layers=3, nonlinearity=["tanh", "relu"]),
     ("rnn.RNN", "2 nonlinearities given for 3 layers")),
])
def test_unknown_nonlinearities_list_the_valid_ones(build: Callable[[], Any],
                                                     fragments: tuple[str, ...]) -> None:
    expect(rnn.ConfigError, build, *fragments)


@pytest.mark.parametrize("build, fragments", [
    (lambda: rnn.RNN(D, 0), ("rnn.RNN", "hidden_size", "0")),
    (lambda: rnn.RNN(-3, H), ("rnn.RNN", "input_size", "-3")),
    (lambda: rnn.RNN(D, 4.0), ("rnn.RNN", "hidden_size", "4.0")),
    (lambda: rnn.RNN(D, True), ("rnn.RNN", "hidden_size", "True")),
    (lambda: rnn.RNN(D, H, num_layers=0), ("rnn.RNN", "num_layers", "0")),
    (lambda: rnn.RNN(D, H, num_layers=True), ("rnn.RNN", "num_layers", "True")),
    (lambda: rnn.ElmanCell(D, False), ("ElmanCell", "hidden_size", "False")),
    (lambda: rnn.Linear(0, V), ("Linear", "in_features", "0")),
    (lambda: rnn.RNN(None, H), ("rnn.RNN", "input_size and hidden_size")),
    (lambda: rnn.tbptt(rnn.RNN(D, H), XS, lambda t, h: None, k1=3, k2=2), ("tbptt", "k2=2 < k1=3")),
    (lambda: rnn.SGD(rnn.RNN(D, H).parameters(), lr=0), ("SGD", "lr", "0")),
])
def test_invalid_sizes_and_settings_are_config_errors(build: Callable[[], Any],
                                                      fragments: tuple[str, ...]) -> None:
    expect(rnn.ConfigError, build, *fragments)


def test_numpy_integer_sizes_are_accepted():
    net = rnn.RNN(np.int64(D), np.int32(H), num_layers=2, rng=0)
    assert (net.input_size, net.hidden_size) == (D, H) and type(net.hidden_size) is int


# ---------------------------------------------------------------- loss targets
def test_sequence_cross_entropy_targets(logits: list[tg.Tensor]) -> None:
    ce = rnn.sequence_cross_entropy
    expect(tg.ShapeError, lambda: ce(logits, np.full((B, T), V)), "cross_entropy (t=0)", "target 3",
           "3 classes")
    bad = np.zeros((B, T), dtype=int)
    bad[1, 3] = -1
    expect(tg.ShapeError, lambda: ce(logits, bad), "cross_entropy (t=3)", "target -1", "index (1,)")
    expect(tg.ShapeError, lambda: ce(logits, np.zeros((B, 4), dtype=int)), "sequence_cross_entropy",
           "(2, 4)", "(2, 5)")
    expect(tg.DTypeError, lambda: ce(logits, np.zeros((B, T))), "cross_entropy (t=0)", "float64")
    expect(tg.DTypeError, lambda: ce(logits, [[0, 1], [0]]), "sequence_cross_entropy", "targets",
           "ragged")
    expect(tg.DTypeError, lambda: ce(logits, "abc"), "sequence_cross_entropy", "<U3")
    expect(tg.ShapeError, lambda: ce(logits[-1], np.zeros((B, T), dtype=int)),
           "sequence_cross_entropy", "(2, 3)", "last_step_cross_entropy")
    expect(tg.ShapeError, lambda: ce([], np.zeros((B, 0), dtype=int)), "sequence_cross_entropy", "empty")
    expect(tg.ShapeError, lambda: ce([logits[0], np.ones((B, V))], np.zeros((B, 2), dtype=int)),
           "sequence_cross_entropy", "step t=1", "ndarray")
    expect(tg.ShapeError, lambda: ce(logits, np.zeros((B, T), dtype=int), mask=np.zeros((B, T))),
           "sequence_cross_entropy", "mask is 0 everywhere")
    expect(rnn.ConfigError, lambda: ce(logits, np.zeros((B, T), dtype=int), reduction="avg"),
           "sequence_cross_entropy", "'avg'")


def test_last_step_cross_entropy_targets(logits: list[tg.Tensor]) -> None:
    last = rnn.last_step_cross_entropy
    expect(tg.ShapeError, lambda: last(logits[-1], [0, 7]), "cross_entropy", "target 7", "index (1,)")
    expect(tg.ShapeError, lambda: last(logits[-1], [0, 1, 2]), "cross_entropy", "(2, 3)", "(2,)", "(3,)")
    expect(tg.DTypeError, lambda: last(logits[-1], [0.5, 1.0]), "cross_entropy", "float64")
    expect(tg.DTypeError, lambda: last(logits[-1], [[0], [1, 2]]), "last_step_cross_entropy", "ragged")
    expect(tg.ShapeError, lambda: last(logits, [0, 1]), "last_step_cross_entropy", "list",
           "sequence_cross_entropy")


def test_mse_loss_targets(logits: list[tg.Tensor]) -> None:
    expect(tg.ShapeError, lambda: rnn.mse_loss(logits[-1], np.zeros((B, 4))), "mse_loss", "(2, 3)", "(2, 4)")
    expect(tg.ShapeError, lambda: rnn.mse_loss(logits, np.zeros((B, T))), "mse_loss", "5 step", "(2, 5)")
    expect(tg.DTypeError, lambda: rnn.mse_loss(logits[-1], "ab"), "mse_loss", "targets", "<U2")
    expect(tg.DTypeError, lambda: rnn.mse_loss(logits, [[0, 1, 2], [0]]), "mse_loss", "ragged")
    expect(tg.ShapeError, lambda: rnn.mse_loss(logits, np.zeros((B, T, V)), mask=np.ones((B, 4))),
           "mse_loss", "mask (2, 4)", "(2, 5)")


def test_pad_sequences_names_the_bad_sequence():
    expect(tg.ShapeError, lambda: rnn.pad_sequences([]), "pad_sequences", "empty")
    expect(tg.ShapeError, lambda: rnn.pad_sequences([np.ones((2, 3)), np.ones((2, 4))]),
           "pad_sequences", "sequence 1", "D = 4", "D = 3")
    expect(tg.ShapeError, lambda: rnn.pad_sequences([np.ones(3)]), "pad_sequences", "sequence 0", "(3,)")
    expect(tg.DTypeError, lambda: rnn.pad_sequences([np.ones((2, 3)), [[1.0, 2.0], [3.0]]]),
           "pad_sequences", "sequence 1", "ragged")


# ---------------------------------------------------------------- accepted means right
@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float32])
def test_integer_bool_and_float32_inputs_run_as_floats(net: rnn.RNN, dtype: type) -> None:
    xs = (np.random.default_rng(2).integers(0, 2, size=(B, T, D))).astype(dtype)
    hs, _ = net(xs)
    want, _ = net(xs.astype(np.float64))
    assert hs[-1].dtype == np.float64
    np.testing.assert_allclose(hs[-1].data, want[-1].data, rtol=1e-6)
    assert np.isfinite(hs[-1].data).all()


# ---------------------------------------------------------------- cells and other API edges
@pytest.mark.parametrize("build, fragments", [
    (lambda: rnn.RNN(2, 3, cell="lstm"), ("rnn.RNN", "cell='lstm' is a name", "cell=rnn.LSTMCell(2, 3)",
                                          "nonlinearity=", "'tanh'")),
    (lambda: rnn.RNN(2, 3, cell="GRU"), ("rnn.RNN", "cell=rnn.GRUCell(2, 3)")),
    (lambda: rnn.RNN(cell="tanh"), ("rnn.RNN", "cell=rnn.LSTMCell(D, H) or cell=rnn.GRUCell(D, H)",
                                    "nonlinearity=")),
    (lambda: rnn.RNN(cell=[rnn.ElmanCell(2, 3), "gru"]), ("rnn.RNN (layer=1)", "'gru'", "GRUCell")),
    (lambda: rnn.RNN(2, 3, cell=rnn.LSTMCell),
     ("rnn.RNN", "cell=rnn.LSTMCell is a class", "cell=rnn.LSTMCell(2, 3)")),
    (lambda: rnn.RNN(cell=3),
     ("rnn.RNN", "of type int", "input_size, hidden_size, initial_state", "rnn.cell")),
    (lambda: rnn.RNN(cell=[]), ("rnn.RNN", "cell=[] holds no cells")),
])
def test_a_cell_that_is_not_a_cell_object_says_what_to_pass(build, fragments):
    expect(rnn.ConfigError, build, *fragments)


@pytest.mark.parametrize("build, error, fragments", [
    (lambda: rnn.RNN(D, H, learn_h0="no"), tg.DTypeError, ("rnn.RNN", "learn_h0", "True or False", "'no'")),
    (lambda: rnn.RNN(D, H, hoist_inputs=1), tg.DTypeError, ("rnn.RNN", "hoist_inputs", "1")),
    (lambda: rnn.ElmanCell(D, H, fused="yes"), tg.DTypeError, ("ElmanCell", "fused", "'yes'")),
    (lambda: rnn.LSTMCell(D, H, forget_bias="1"), tg.DTypeError, ("LSTMCell", "forget_bias", "'1'", "str")),
    (lambda: rnn.LSTMCell(D, H, forget_bias=float("nan")), rnn.ConfigError,
     ("LSTMCell", "forget_bias", "finite", "nan")),
    (lambda: rnn.Linear(H, V, names=("W",)), tg.DTypeError, ("Linear", "names", "two non-empty strings")),
    (lambda: rnn.Linear(H, V, names="Wb"), tg.DTypeError, ("Linear", "names", "'Wb'")),
    (lambda: rnn.RNN(D, H).forward_states(XS, t0=-1), rnn.ConfigError, ("forward_states", "t0", "-1")),
    (lambda: rnn.RNN(D, H).forward_states(XS, t0="a"), rnn.ConfigError, ("forward_states", "t0", "'a'")),
    (lambda: rnn.RNN(D, H).initial_states(2.0), rnn.ConfigError, ("initial_states", "batch_size", "2.0")),
])
def test_flags_and_settings_of_the_layers_are_checked(build, error, fragments):
    expect(error, build, *fragments)


def test_masks_that_are_not_numbers_are_named(net: rnn.RNN, logits: list[tg.Tensor]) -> None:
    expect(tg.DTypeError, lambda: net(XS, mask="abc"), "rnn.RNN", "mask", "<U3")
    expect(tg.DTypeError, lambda: net(XS, mask=[[1, 1], [1]]), "rnn.RNN", "mask", "ragged")
    y = np.zeros((B, T), dtype=int)
    expect(tg.DTypeError, lambda: rnn.sequence_cross_entropy(logits, y, mask=[[1, 1], [1]]),
           "sequence_cross_entropy", "mask", "ragged")
    expect(tg.DTypeError, lambda: rnn.mse_loss(logits, np.zeros((B, T, V)), mask="ab"), "mse_loss", "mask",
           "<U2")


@pytest.mark.parametrize("build, error, fragments", [
    (lambda: rnn.RNN(rng="abc"), tg.DTypeError, ("rnn.RNN", "rng must be a numpy Generator", "'abc'")),
    (lambda: rnn.RNN(D, H, rng=1.5), tg.DTypeError, ("rnn.RNN", "rng", "1.5")),
    (lambda: rnn.RNN(D, H, rng=-1), rnn.ConfigError, ("rnn.RNN", "rng must be a seed >= 0", "-1")),
    (lambda: rnn.Linear(H, V, rng="x"), tg.DTypeError, ("Linear", "rng", "'x'")),
    (lambda: rnn.GRUCell(D, H, rng=True), tg.DTypeError, ("GRUCell", "rng", "True")),
    (lambda: rnn.ElmanCell(D, H, rng=[1]), tg.DTypeError, ("ElmanCell", "rng", "[1]")),
])
def test_rng_must_be_a_generator_a_seed_or_none(build, error, fragments):
    expect(error, build, *fragments)


def test_numpy_int_seeds_and_generators_are_accepted():
    a = rnn.RNN(D, H, rng=np.int64(3))
    b = rnn.RNN(D, H, rng=np.random.default_rng(3))
    for p, q in zip(a.parameters(), b.parameters()):
        np.testing.assert_array_equal(p.data, q.data)


# ---------------------------------------------------------------- optimizers, clipping, training
def params() -> list[tg.Tensor]:
    return rnn.RNN(D, H, rng=0).parameters()


INF, NAN = float("inf"), float("nan")
OPTIMIZER_CASES: dict[str, tuple[Callable[[], Any], type[Exception], tuple[str, ...]]] = {
    "SGD lr inf": (lambda: rnn.SGD(params(), lr=INF), rnn.ConfigError,
                   ("SGD", "lr", "finite number > 0", "inf")),
    "SGD lr nan": (lambda: rnn.SGD(params(), lr=NAN), rnn.ConfigError, ("SGD", "lr", "nan")),
    "SGD lr 0": (lambda: rnn.SGD(params(), lr=0), rnn.ConfigError, ("SGD", "lr", "got 0")),
    "SGD lr str": (lambda: rnn.SGD(params(), lr="0.1"), tg.DTypeError,
                   ("SGD", "lr must be a number", "'0.1'")),
    "SGD lr bool": (lambda: rnn.SGD(params(), lr=True), tg.DTypeError, ("SGD", "lr", "True")),
    "SGD momentum 1": (lambda: rnn.SGD(params(), momentum=1.0), rnn.ConfigError,
                       ("SGD", "momentum must be in [0, 1)", "1.0")),
    "SGD momentum <0": (lambda: rnn.SGD(params(), momentum=-0.1), rnn.ConfigError,
                        ("SGD", "momentum", "-0.1")),
    "SGD momentum str": (lambda: rnn.SGD(params(), momentum="0.5"), tg.DTypeError,
                         ("SGD", "momentum", "'0.5'")),
    "SGD(net)": (lambda: rnn.SGD(rnn.RNN(D, H)), tg.DTypeError,
                 ("SGD", "type RNN, not a list", "pass net.parameters()")),
    "SGD(None)": (lambda: rnn.SGD(None), tg.DTypeError,
                  ("SGD", "params must be a list of Tensors", "NoneType")),
    "SGD(tensor)": (lambda: rnn.SGD(params()[0]), tg.DTypeError, ("SGD", "type Tensor", "[tensor]")),
    "SGD([1, 2])": (lambda: rnn.SGD([1, 2]), tg.DTypeError,
                    ("SGD", "parameter 0 is of type int", "tg.Tensor")),
    "SGD twice": (lambda: rnn.SGD(params() * 2), rnn.ConfigError, ("SGD", "parameter 3", "W_xh", "twice")),
    "Adam beta1 1": (lambda: rnn.Adam(params(), betas=(1.0, 0.999)), rnn.ConfigError,
                     ("Adam", "betas[0] must be in [0, 1)", "1.0")),
    "Adam beta2 1.5": (lambda: rnn.Adam(params(), betas=(0.9, 1.5)), rnn.ConfigError,
                       ("Adam", "betas[1]", "1.5")),
    "Adam beta nan": (lambda: rnn.Adam(params(), betas=(NAN, 0.9)), rnn.ConfigError,
                      ("Adam", "betas[0]", "nan")),
    "Adam betas float": (lambda: rnn.Adam(params(), betas=0.9), tg.DTypeError,
                         ("Adam", "betas must be a pair", "0.9")),
    "Adam betas one": (lambda: rnn.Adam(params(), betas=(0.9,)), tg.DTypeError, ("Adam", "betas", "(0.9,)")),
    "Adam eps 0": (lambda: rnn.Adam(params(), eps=0), rnn.ConfigError,
                   ("Adam", "eps", "finite number > 0", "0")),
    "Adam eps <0": (lambda: rnn.Adam(params(), eps=-1e-8), rnn.ConfigError, ("Adam", "eps", "-1e-08")),
    "Adam lr inf": (lambda: rnn.Adam(params(), lr=INF), rnn.ConfigError, ("Adam", "lr", "inf")),
    "Adam(net)": (lambda: rnn.Adam(rnn.Linear(H, V)), tg.DTypeError,
                  ("Adam", "type Linear", "net.parameters()")),
    "clip 0": (lambda: rnn.clip_grad_norm(params(), 0), rnn.ConfigError, ("clip_grad_norm", "max_norm", "0")),
    "clip <0": (lambda: rnn.clip_grad_norm(params(), -1.0), rnn.ConfigError,
                ("clip_grad_norm", "max_norm", "-1.0")),
    "clip nan": (lambda: rnn.clip_grad_norm(params(), NAN), rnn.ConfigError,
                 ("clip_grad_norm", "max_norm", "nan")),
    "clip inf": (lambda: rnn.clip_grad_norm(params(), INF), rnn.ConfigError,
                 ("clip_grad_norm", "max_norm must be a finite number > 0", "inf")),
    "clip str": (lambda: rnn.clip_grad_norm(params(), "1"), tg.DTypeError,
                 ("clip_grad_norm", "max_norm", "'1'")),
    "clip(net)": (lambda: rnn.clip_grad_norm(rnn.RNN(D, H), 1.0), tg.DTypeError,
                  ("clip_grad_norm", "type RNN", "net.parameters()")),
    "zero_grad(net)": (lambda: rnn.zero_grad(rnn.RNN(D, H)), tg.DTypeError,
                       ("zero_grad", "type RNN", "net.parameters()")),
}


@pytest.mark.parametrize("case", sorted(OPTIMIZER_CASES))
def test_optimizer_and_clipping_settings_are_validated(case: str) -> None:
    build, error, fragments = OPTIMIZER_CASES[case]
    expect(error, build, *fragments)


def test_a_parameter_listed_twice_would_count_twice_in_the_norm():
    w = tg.Tensor(np.ones(2), requires_grad=True, name="w")
    w.grad = np.array([3.0, 4.0])
    assert rnn.clip_grad_norm([w], 10.0) == 5.0
    expect(rnn.ConfigError, lambda: rnn.clip_grad_norm([w, w], 10.0), "clip_grad_norm", "parameter 1 (w",
           "twice")


def test_numpy_numbers_are_accepted_as_settings():
    opt = rnn.Adam(params(), lr=np.float32(0.01), betas=(np.float64(0.9), 0.99), eps=np.float64(1e-7))
    assert (type(opt.lr), type(opt.beta1), type(opt.eps)) == (float, float, float)
    assert rnn.SGD(params(), lr=np.int64(1), momentum=np.float64(0.5)).momentum == 0.5


# ---------------------------------------------------------------- pad_sequences
@pytest.mark.parametrize("call, error, fragments", [
    (lambda: rnn.pad_sequences(None), tg.DTypeError, ("pad_sequences", "list of arrays", "NoneType")),
    (lambda: rnn.pad_sequences(5), tg.DTypeError, ("pad_sequences", "list of arrays", "int")),
    (lambda: rnn.pad_sequences([np.ones((2, 3))], pad_value="x"), tg.DTypeError,
     ("pad_sequences", "pad_value must be a number", "'x'")),
    (lambda: rnn.pad_sequences([np.ones((2, 3))], pad_value=NAN), rnn.ConfigError,
     ("pad_sequences", "pad_value must be a finite number", "nan")),
    (lambda: rnn.pad_sequences([np.ones((2, 3))], pad_value=-INF), rnn.ConfigError,
     ("pad_sequences", "pad_value", "-inf")),
])
def test_pad_sequences_settings(call, error, fragments):
    expect(error, call, *fragments)


def test_a_nan_pad_would_have_reached_the_gradient():
    """Why pad_value must be finite: padded steps run, and 0 · NaN = NaN in their backward."""
    net = rnn.RNN(D, H, rng=0)
    batch = rnn.pad_sequences([np.ones((3, D)), np.ones((1, D))])
    batch.xs[1, 1:] = np.nan
    hs, _ = net(batch.xs, mask=batch.mask)
    assert np.isfinite(hs[-1].data).all()
    hs[-1].sum().backward()
    assert np.isnan(net.layers[0].W_xh.grad).any()


# ---------------------------------------------------------------- tbptt and train
def tbptt_call(**kwargs: Any) -> Callable[[], Any]:
    settings = {"k1": 2, "k2": 2, "step_loss": lambda t, h: h.sum()}
    settings.update(kwargs)
    step_loss = settings.pop("step_loss")
    return lambda: rnn.tbptt(rnn.RNN(D, H, rng=0), XS, step_loss, **settings)


@pytest.mark.parametrize("call, error, fragments", [
    (tbptt_call(step_loss=lambda t, h: 1.0), tg.DTypeError,
     ("tbptt: step_loss(0, h) returned a float", "scalar Tensor", "or None")),
    (tbptt_call(step_loss=lambda t, h: h), tg.ShapeError,
     ("tbptt: step_loss(0, h) returned a Tensor of shape (2, 4)", "scalar", ".sum()")),
    (tbptt_call(step_loss="loss"), tg.DTypeError, ("tbptt", "step_loss must be a function", "str")),
    (tbptt_call(k1=True), rnn.ConfigError, ("tbptt", "k1 must be a positive int", "True")),
    (tbptt_call(k2=2.0), rnn.ConfigError, ("tbptt", "k2", "2.0")),
    (tbptt_call(k1=0), rnn.ConfigError, ("tbptt", "k1", "0")),
    (tbptt_call(optimizer="sgd"), tg.DTypeError, ("tbptt", "optimizer must be an rnn optimizer", "str")),
    (tbptt_call(clip_norm=-1.0, optimizer=rnn.SGD(params())), rnn.ConfigError,
     ("tbptt", "clip_norm", "-1.0")),
    (tbptt_call(clip_norm=1.0), rnn.ConfigError, ("tbptt", "clip_norm needs an optimizer")),
    (lambda: rnn.tbptt(rnn.Linear(D, H), XS, lambda t, h: None, k1=2, k2=2), tg.DTypeError,
     ("tbptt", "net must be an rnn.RNN", "Linear")),
])
def test_tbptt_settings_and_step_losses_are_checked(call, error, fragments):
    expect(error, call, *fragments)


def test_tbptt_accepts_numpy_ints_for_k1_and_k2():
    net = rnn.RNN(D, H, rng=0)
    xs = np.random.default_rng(0).normal(size=(B, T, D))
    with_ints = rnn.tbptt(net, xs, lambda t, h: (h * h).sum(), k1=2, k2=3).losses
    with_numpy = rnn.tbptt(net, xs, lambda t, h: (h * h).sum(), k1=np.int64(2), k2=np.int32(3)).losses
    assert with_numpy == with_ints and len(with_ints) == 3


def train_call(**kwargs: Any) -> Callable[[], Any]:
    net = rnn.RNN(D, H, rng=0)
    settings: dict[str, Any] = {"loss_fn": lambda b: net(XS)[0][-1].sum(), "batches": [0],
                                "optimizer": rnn.SGD(net.parameters()), "progress": False}
    settings.update(kwargs)
    return lambda: rnn.train(**settings)


@pytest.mark.parametrize("call, error, fragments", [
    (train_call(loss_fn=lambda b: 1.0), tg.DTypeError, ("train: loss_fn (epoch 0) returned a float",
                                                        "scalar Tensor")),
    (train_call(loss_fn=lambda b: rnn.RNN(D, H)(XS)[0][-1]), tg.ShapeError,
     ("train: loss_fn (epoch 0)", "shape (2, 4)")),
    (train_call(loss_fn=None), tg.DTypeError, ("train", "loss_fn must be a function", "NoneType")),
    (train_call(optimizer=rnn.RNN(D, H)), tg.DTypeError,
     ("train", "optimizer must be an rnn optimizer", "RNN")),
    (train_call(epochs=0), rnn.ConfigError, ("train", "epochs", "0")),
    (train_call(epochs=2.0), rnn.ConfigError, ("train", "epochs", "2.0")),
    (train_call(clip_norm=0.0, batches=None), rnn.ConfigError, ("train", "clip_norm", "0.0")),
    (train_call(progress="no"), tg.DTypeError, ("train", "progress", "'no'")),
])
def test_train_settings_are_checked_before_any_batch(call, error, fragments):
    expect(error, call, *fragments)


def test_train_accepts_numpy_int_epochs():
    assert len(train_call(epochs=np.int64(2))()) == 2
