"""The dot-product test ⟨u, J v⟩ (forward) = ⟨Jᵀ u, v⟩ (reverse): gradcheck(mode="jvp-vjp") and
gradcheck_nodes(mode="jvp-vjp") catch a wrong jvp or a wrong backward and name the op."""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect
from planted_ops import PlantedTanh

import rnn
import tinygraph as tg


class TanhWithJvp(PlantedTanh):
    """The planted tanh (backward off by 1e-2 at entry (0, 1)) with a correct jvp."""

    name = "planted_tanh"

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        return (1.0 - self.output**2) * x_dot


class WrongJvpTanh(tg.Op):
    """tanh with a correct backward and a jvp that forgets the square: ẏ = (1 − y) · ẋ."""

    name = "wrong_jvp_tanh"

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * (1.0 - self.output**2),)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        return (1.0 - self.output) * x_dot


class NoJvp(WrongJvpTanh):
    """tanh with a backward only."""

    name = "no_jvp"
    jvp = tg.Op.jvp


def small_rnn() -> tuple[rnn.RNN, rnn.Linear, np.ndarray, np.ndarray]:
    net = rnn.RNN(input_size=3, hidden_size=4, num_layers=2, nonlinearity=["tanh", "relu"], rng=0)
    readout = rnn.Linear(4, 3, rng=1)
    data = np.random.default_rng(2)
    return net, readout, data.standard_normal((2, 5, 3)), data.integers(0, 3, size=(2, 5))


def test_forward_and_reverse_agree_to_rounding_on_an_rnn_loss():
    net, readout, xs, ys = small_rnn()
    params = net.parameters() + readout.parameters()

    def loss() -> tg.Tensor:
        hs, _ = net(xs)
        return rnn.sequence_cross_entropy([readout(h) for h in hs], ys)

    report = tg.gradcheck(loss, params, mode="jvp-vjp", atol=1e-12, rtol=1e-12, directions=4)
    assert report.ok, report
    assert max(row.max_abs_error for row in report.rows) < 1e-13
    assert all(row.analytic != 0.0 for row in report.rows)  # real directional derivatives
    nodes = tg.gradcheck_nodes(loss(), mode="jvp-vjp", atol=1e-12, rtol=1e-12)
    assert nodes.ok and nodes.nodes_checked > 50


def test_the_two_sides_are_the_two_modes_of_the_same_directional_derivative():
    """reverse = ⟨∇f, v⟩ and forward = ∂f·v from tg.jvp, for the same seeded v."""
    x = tg.Tensor(np.array([[0.2, -0.4], [1.0, 0.3]]), requires_grad=True, name="x")
    f = lambda: tg.log_softmax(x * x, axis=1)[:, 0].sum()  # noqa: E731
    report = tg.gradcheck(f, [x], mode="jvp-vjp", directions=2, seed=5)
    (row,) = report.rows
    v = np.random.default_rng(5).standard_normal((2, 2, 2))
    _, moved = tg.jvp(lambda a: tg.log_softmax(a * a, axis=1)[:, 0].sum(), [x], [v], batched=True)
    (g,) = tg.grad(f(), [x])
    worst = row.worst_index
    assert row.numerical == moved[worst]
    np.testing.assert_allclose(row.analytic, np.vdot(g, v[worst]), rtol=1e-15)


def test_a_planted_wrong_jvp_is_caught_and_named_with_its_scope():
    W = tg.Tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True, name="W")
    x = np.random.default_rng(1).standard_normal((2, 3))

    def f() -> tg.Tensor:
        h = tg.tanh(x @ W)
        with tg.scope(t=2, layer=1):
            h = WrongJvpTanh()(h @ W)
        return (h * h).sum()

    assert tg.gradcheck(f, [W]).ok  # the backward is right: central differences agree
    report = tg.gradcheck(f, [W], mode="jvp-vjp")
    assert not report.ok
    assert report.culprit == "wrong_jvp_tanh (t=2, layer=1)"
    assert any("first node whose jvp and backward disagree: wrong_jvp_tanh (t=2, layer=1) (jvp "
               "disagrees with a central difference)" in note for note in report.notes), report
    nodes = tg.gradcheck_nodes(f(), mode="jvp-vjp")
    (bad,) = nodes.failures
    assert bad.where == "wrong_jvp_tanh (t=2, layer=1)"
    assert bad.comparison.verdict == "FAIL (jvp disagrees with a central difference)"


def test_a_planted_wrong_backward_is_caught_and_named_with_its_scope():
    x = tg.Tensor(np.random.default_rng(3).standard_normal((2, 3)), requires_grad=True, name="x")

    def f() -> tg.Tensor:
        with tg.scope(t=4):
            h = TanhWithJvp()(x * 2.0)
        return (h * np.arange(6.0).reshape(2, 3)).sum()

    report = tg.gradcheck(f, [x], mode="jvp-vjp")
    assert not report.ok and report.culprit == "planted_tanh (t=4)"
    assert "backward disagrees with a central difference" in "\n".join(report.notes)
    (bad,) = tg.gradcheck_nodes(f(), mode="jvp-vjp").failures
    assert bad.where == "planted_tanh (t=4)"
    assert bad.comparison.verdict == "FAIL (backward disagrees with a central difference)"


def test_the_report_names_its_two_sides():
    x = tg.Tensor(np.ones(2), requires_grad=True, name="x")
    text = str(tg.gradcheck(lambda: tg.tanh(x).sum(), [x], mode="jvp-vjp"))
    assert text.splitlines()[0] == "gradcheck (mode=jvp-vjp, atol=1e-05, rtol=0.0001): ok"
    assert text.splitlines()[1].split()[-3:] == ["reverse", "forward", "verdict"]
    assert "reverse = <J^T u, v> (backward) and forward = <u, J v> (jvp)" in text
    nodes = str(tg.gradcheck_nodes(tg.tanh(x).sum(), mode="jvp-vjp"))
    assert "reverse" in nodes.splitlines()[1] and nodes.endswith("for each node on its own")


def test_an_op_without_jvp_is_our_error_in_both_checks():
    x = tg.Tensor(np.ones(2), requires_grad=True)

    def f() -> tg.Tensor:
        with tg.scope(t=1):
            return NoJvp()(x).sum()

    expect(tg.ForwardModeError, lambda: tg.gradcheck(f, [x], mode="jvp-vjp"),
           "forward mode through no_jvp (t=1): NoJvp has no jvp rule")
    expect(tg.ForwardModeError, lambda: tg.gradcheck_nodes(f(), mode="jvp-vjp"),
           "forward mode through no_jvp (t=1): NoJvp has no jvp rule")


def test_a_function_of_constants_passes_with_a_note():
    x = tg.Tensor(np.ones(2), requires_grad=True, name="x")
    report = tg.gradcheck(lambda: tg.Tensor(np.ones(2)).sum() + 0.0 * 0.0, [x], mode="jvp-vjp")
    assert report.ok and any("does not require grad" in note for note in report.notes)


@pytest.mark.parametrize("mode", ["full", "directional"])
def test_the_other_modes_report_as_before(mode: str) -> None:
    x = tg.Tensor(np.ones(2), requires_grad=True, name="x")
    text = str(tg.gradcheck(lambda: tg.tanh(x).sum(), [x], mode=mode))
    assert "analytic" in text and "reverse" not in text and "eps=1e-06" in text
