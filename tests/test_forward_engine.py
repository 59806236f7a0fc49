"""tg.jvp as an engine: the walk, junctions, custom ops, and what it refuses (with our errors)."""

from __future__ import annotations

import numpy as np
import pytest
from expect_error import expect

import tinygraph as tg
from tinygraph.forward import propagate_tangents


class Cube(tg.Op):
    """y = x³;  dx = dy · 3x²;  jvp: ẏ = 3x² · ẋ."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x**3

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (grad * 3 * self.inputs[0] ** 2,)

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        return 3 * self.inputs[0] ** 2 * x_dot


class NoJvp(tg.Op):
    """y = 2x, with a backward but no jvp rule."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 2 * x

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray]:
        return (2 * grad,)


class WrongShapeJvp(NoJvp):
    """y = 2x whose jvp forgets the K axis and sums the entries."""

    name = "wrong_shape"

    def jvp(self, x_dot: np.ndarray) -> np.ndarray:
        return x_dot.sum(axis=-1)


def test_hand_derived_tangent_of_a_small_graph():
    """f(x, w) = tanh(x · w) + x²: ḟ = (1 − tanh²(xw)) (ẋ w + x ẇ) + 2x ẋ, by hand."""
    x, w = np.array([0.5, -1.0]), np.array([2.0, 0.3])
    xd, wd = np.array([1.0, 2.0]), np.array([-1.0, 0.5])
    out, tangent = tg.jvp(lambda x, w: tg.tanh(x * w) + x * x, [x, w], [xd, wd])
    y = np.tanh(x * w)
    np.testing.assert_allclose(out.data, y + x * x, rtol=1e-15)
    np.testing.assert_allclose(tangent, (1 - y**2) * (xd * w + x * wd) + 2 * x * xd, rtol=1e-14)


def test_a_junction_hands_the_same_tangent_to_every_reader():
    """x read by four slots of three nodes: ḟ = Σ (2x + e^x − 1) · v, each reader's rule
    applied to the same tangent and the results added where the paths meet."""
    x = np.array([0.3, -0.7, 1.1])
    v = np.array([1.0, -2.0, 0.5])
    _, tangent = tg.jvp(lambda x: (x * x + tg.exp(x) - x).sum(), [x], [v])
    np.testing.assert_allclose(tangent, np.sum((2 * x + np.exp(x) - 1) * v), rtol=1e-14)


def test_parameters_that_are_not_inputs_stay_put():
    W = tg.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True, name="W")
    x = np.array([1.0, 1.0])
    _, tangent = tg.jvp(lambda x: x @ W, [x], [np.array([1.0, 0.0])])
    np.testing.assert_allclose(tangent, [1.0, 2.0])  # d(x W)/dx · e_0 = row 0 of W
    assert W.grad is None


def test_a_tensor_input_is_not_changed_and_gets_no_gradient():
    x = tg.Tensor(np.array([0.2, 0.4]), requires_grad=True, name="x")
    before = x.data.copy()
    out, tangent = tg.jvp(lambda x: tg.sigmoid(x).sum(), x, np.ones(2))
    s = 1 / (1 + np.exp(-before))
    np.testing.assert_allclose(tangent, np.sum(s * (1 - s)), rtol=1e-15)
    assert x.grad is None and x.producer is None
    np.testing.assert_array_equal(x.data, before)
    assert out.producer is None and not out.requires_grad


def test_the_output_does_not_depend_on_the_input():
    _, tangent = tg.jvp(lambda x: tg.Tensor(np.ones(3)) * 2.0, [np.ones(2)], [np.ones(2)])
    np.testing.assert_array_equal(tangent, np.zeros(3))
    _, batched = tg.jvp(lambda x: x * 0.0 + 1.0, [np.ones(2)], [np.ones((4, 2))], batched=True)
    assert batched.shape == (4, 2)


def test_the_identity_function_returns_the_tangent():
    _, tangent = tg.jvp(lambda x: x, [np.ones(2)], [np.array([3.0, 4.0])])
    np.testing.assert_array_equal(tangent, [3.0, 4.0])


def test_a_custom_op_with_a_jvp_rule():
    x = np.array([1.0, -2.0])
    _, tangent = tg.jvp(lambda x: Cube()(x), [x], [np.ones((2, 2))], batched=True)
    np.testing.assert_allclose(tangent, [3 * x**2, 3 * x**2])


def test_an_op_without_jvp_is_our_error_naming_the_op_and_scope():
    def f(x: tg.Tensor) -> tg.Tensor:
        with tg.scope(t=3, layer=1):
            return NoJvp()(tg.tanh(x)).sum()

    expect(tg.ForwardModeError, lambda: tg.jvp(f, [np.ones(2)], [np.ones(2)]),
           "forward mode through nojvp (t=3, layer=1): NoJvp has no jvp rule",
           "define jvp(self, *tangents) beside its backward", "or use reverse mode (tg.grad)")
    assert issubclass(tg.ForwardModeError, tg.TinygraphError)
    assert issubclass(tg.ForwardModeError, RuntimeError)


def test_reverse_mode_through_an_op_without_jvp_still_works():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    NoJvp()(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_a_jvp_of_the_wrong_shape_names_the_op():
    def f(x: tg.Tensor) -> tg.Tensor:
        with tg.scope(t=0):
            return WrongShapeJvp()(x)

    expect(tg.ForwardModeError, lambda: tg.jvp(f, [np.ones((2, 3))], [np.ones((2, 3))]),
           "jvp of wrong_shape (t=0) returned a tangent of shape (1, 2), but its output has shape "
           "(2, 3), so (1, 2, 3) was expected (K = 1 directions first)")


@pytest.mark.parametrize("returned, got", [(None, "None"), (np.ones((1, 2)) * 1j, "dtype complex128"),
                                            ("ab", "dtype <U2")])
def test_a_jvp_that_returns_no_real_array_names_the_op(returned: object, got: str) -> None:
    class Returns(NoJvp):
        name = "returns"

        def jvp(self, x_dot: np.ndarray) -> object:
            return returned

    expect(tg.ForwardModeError, lambda: tg.jvp(lambda x: Returns()(x), [np.ones(2)], [np.ones(2)]),
           f"jvp of returns returned {got}; return a real ndarray of shape (1, 2) (K directions, "
           "then the output's shape)")


def test_an_exception_inside_a_jvp_rule_keeps_its_type_and_gets_a_note():
    class Broken(NoJvp):
        def jvp(self, x_dot: np.ndarray) -> np.ndarray:
            raise KeyError("oops")

    with pytest.raises(KeyError) as info:
        tg.jvp(lambda x: Broken()(x), [np.ones(2)], [np.ones(2)])
    assert "raised in the jvp of broken" in "".join(getattr(info.value, "__notes__", []))


def test_ops_that_keep_no_inputs_get_them_for_their_rule_and_lose_them_again():
    """tg.concat keeps no input arrays; forward mode hands them over for the call only."""
    x = tg.Tensor(np.ones((2, 3)), requires_grad=True)
    out = tg.concat([x, np.zeros((1, 3))], axis=0)
    op = out.producer.op
    assert op.inputs is None
    tangent = propagate_tangents(out, {x: np.ones((1, 2, 3))})
    np.testing.assert_array_equal(tangent[0], np.concatenate([np.ones((2, 3)), np.zeros((1, 3))]))
    assert op.inputs is None  # no node keeps more memory for having been through forward mode


def test_a_long_chain_needs_no_recursion():
    def f(x: tg.Tensor) -> tg.Tensor:
        for _ in range(20_000):
            x = x * 0.9999 + 0.0001
        return x

    _, tangent = tg.jvp(f, [np.array(1.0)], [np.array(1.0)])
    np.testing.assert_allclose(tangent, 0.9999**20_000, rtol=1e-10)


def test_float32_inputs_keep_their_dtype():
    x = np.ones(3, dtype=np.float32)
    out, tangent = tg.jvp(lambda x: tg.tanh(x) * 2.0, [x], [np.ones(3)])
    assert out.dtype == np.float32 and tangent.dtype == np.float32


def test_forward_mode_refuses_a_graph_whose_arrays_were_freed():
    x = tg.Tensor(np.ones(2), requires_grad=True)
    with tg.scope(t=2):
        y = tg.tanh(x).sum()
    tg.grad(y, [x], retain_graph=False)
    expect(tg.GraphStateError, lambda: propagate_tangents(y, {x: np.ones((1, 2))}),
           "forward mode through tanh (t=2): its saved arrays were freed")


def test_forward_mode_refuses_an_input_changed_in_place():
    x = tg.Tensor(np.ones(2), requires_grad=True, name="x")
    y = (x * x).sum()
    x.data[0] = 5.0
    expect(tg.GraphStateError, lambda: propagate_tangents(y, {x: np.ones((1, 2))}),
           "mul", "was changed in place")


BAD_CALLS = {
    "tangent shape": (lambda: tg.jvp(lambda x: x, [np.ones(3)], [np.ones(2)]),
                      tg.ShapeError, "jvp: tangent 0 has shape (2,) but input 0 has shape (3,), so "
                      "(3,) was expected"),
    "batched without batched=True": (
        lambda: tg.jvp(lambda x: x, [np.ones(3)], [np.ones((4, 3))]), tg.ShapeError,
        "jvp: tangent 0 has shape (4, 3) but input 0 has shape (3,), so (3,) was expected; for K "
        "directions at once pass batched=True"),
    "batched of the wrong shape": (
        lambda: tg.jvp(lambda x: x, [np.ones(3)], [np.ones(3)], batched=True), tg.ShapeError,
        "jvp: tangent 0 has shape (3,) but input 0 has shape (3,), so (K, 3) was expected"),
    "different K": (
        lambda: tg.jvp(lambda a, b: a + b, [np.ones(3), np.ones(3)],
                       [np.ones((2, 3)), np.ones((5, 3))], batched=True), tg.ShapeError,
        "jvp: the batched tangents have different numbers of directions [2, 5]"),
    "no K": (lambda: tg.jvp(lambda x: x, [np.ones(3)], [None], batched=True), tg.ShapeError,
             "jvp: every tangent is None, so the number of directions K is unknown"),
    "count": (lambda: tg.jvp(lambda a, b: a + b, [np.ones(3), np.ones(3)], [np.ones(3)]),
              tg.ShapeError, "jvp: 2 input(s) but 1 tangent(s)"),
    "integer input": (lambda: tg.jvp(lambda x: x, [np.array([1, 2])], [np.ones(2)]),
                      tg.DTypeError, "jvp: input 0 has dtype int64; differentiating needs a float "
                      "input"),
    "string input": (lambda: tg.jvp(lambda x: x, ["ab"], [np.ones(2)]), tg.DTypeError,
                     "jvp: input 0: dtype <U2 is not numeric"),
    "inputs not a list": (lambda: tg.jvp(lambda x: x, 3.0, 1.0), tg.DTypeError,
                          "jvp: inputs must be a list or tuple (one entry per input), or one "
                          "Tensor or ndarray, got a float"),
    "complex tangent": (lambda: tg.jvp(lambda x: x, [np.ones(2)], [np.ones(2) * 1j]),
                        tg.DTypeError, "jvp: tangent 0: dtype complex128 is complex"),
    "f returns an array": (lambda: tg.jvp(lambda x: x.data, [np.ones(2)], [np.ones(2)]),
                           tg.DTypeError, "jvp: f must return a tg.Tensor, got a numpy array "
                           "(not part of the graph: use tg ops)"),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_bad_calls_are_our_errors(name: str) -> None:
    call, error, message = BAD_CALLS[name]
    expect(error, call, message)
