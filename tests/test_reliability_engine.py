"""The engine's catalogue of bad inputs: each raises our own type, naming op, scope and shapes.

Every case asserts the exception TYPE and that the message contains the op (or function), the
scope written ``t=3, layer=1`` where one is in force, and the shapes or values at fault. Cases
the engine does not meet yet are ``xfail(strict=True)`` with the change they need, so they
turn into failures (and must be un-marked) the moment the engine is fixed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import rnn
import tinygraph as tg
from expect_error import expect

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"


def param(shape: tuple[int, ...], name: str = "x") -> tg.Tensor:
    return tg.Tensor(np.ones(shape), requires_grad=True, name=name)


def in_scope(fn: Callable[[], Any]) -> Callable[[], Any]:
    """Run fn inside tg.scope(t=3, layer=1), the scope every op case below expects to be named."""

    def run() -> Any:
        with tg.scope(t=3, layer=1):
            return fn()

    return run


# ---------------------------------------------------------------- shape mismatch in every op
SHAPE_CASES: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
    "add": (lambda: param((2, 3)) + param((4,)), ("add (t=3, layer=1)", "(2, 3), (4,)")),
    "sub": (lambda: param((2, 3)) - param((3, 2)), ("sub (t=3, layer=1)", "(2, 3), (3, 2)")),
    "mul": (lambda: param((2, 3)) * param((3, 2)), ("mul (t=3, layer=1)", "(2, 3), (3, 2)")),
    "div": (lambda: param((2, 3)) / param((3, 2)), ("div (t=3, layer=1)", "(2, 3), (3, 2)")),
    "pow": (lambda: param((2, 3)) ** param((3, 2)), ("pow (t=3, layer=1)", "(2, 3), (3, 2)")),
    "add with a list": (lambda: tg.add(param((2, 3)), [1.0, 2.0]), ("add (t=3, layer=1)", "(2, 3), (2,)")),
    "matmul inner": (lambda: param((2, 3)) @ param((2, 3)),
                     ("matmul (t=3, layer=1)", "(2, 3) and (2, 3)", "inner dimensions 3 and 2")),
    "matmul scalar": (lambda: param(()) @ param((2, 3)), ("matmul (t=3, layer=1)", "()", "1-D")),
    "matmul batch": (lambda: param((4, 2, 3)) @ param((5, 3, 2)),
                     ("matmul (t=3, layer=1)", "(4, 2, 3) and (5, 3, 2)")),
    "concat sizes": (lambda: tg.concat([param((2, 3)), param((3, 2))], axis=0),
                     ("concat (t=3, layer=1)", "(2, 3), (3, 2)")),
    "concat ranks": (lambda: tg.concat([param((2, 3)), param((3,))], axis=0),
                     ("concat (t=3, layer=1)", "(2, 3), (3,)")),
    "concat axis": (lambda: tg.concat([param((2, 3)), param((2, 3))], axis=2),
                    ("concat (t=3, layer=1)", "axis 2")),
    "concat empty": (lambda: tg.concat([], axis=0), ("concat", "at least one")),
    "stack shapes": (lambda: tg.stack([param((2, 3)), param((3, 2))]),
                     ("stack (t=3, layer=1)", "(2, 3), (3, 2)", "same shape")),
    "stack axis": (lambda: tg.stack([param((2, 3)), param((2, 3))], axis=4),
                   ("stack (t=3, layer=1)", "axis 4")),
    "stack empty": (lambda: tg.stack([]), ("stack", "at least one")),
    "reshape size": (lambda: param((2, 3)).reshape(4, 2),
                     ("reshape(4, 2) (t=3, layer=1)", "(2, 3)", "size 6")),
    "reshape two -1": (lambda: param((2, 3)).reshape(-1, -1), ("reshape(-1, -1) (t=3, layer=1)",)),
    "index out of range": (lambda: param((2, 3))[5],
                           ("getitem[5] (t=3, layer=1)", "(2, 3)", "index 5", "size 2")),
    "index second axis": (lambda: param((2, 3))[:, 3],
                          ("getitem[:, 3] (t=3, layer=1)", "index 3", "axis 1 with size 3")),
    "index array": (lambda: param((2, 3))[np.array([0, 7])],
                    ("getitem[array(2,)] (t=3, layer=1)", "index 7")),
    "too many indices": (lambda: param((2, 3))[0, 0, 0],
                         ("getitem[0, 0, 0] (t=3, layer=1)", "(2, 3)", "too many indices")),
    "float index": (lambda: param((2, 3))[1.5], ("getitem[1.5] (t=3, layer=1)", "(2, 3)")),
    "sum axis": (lambda: param((2, 3)).sum(axis=2),
                 ("sum(axis=2) (t=3, layer=1)", "axis 2 is out of range", "2 axes")),
    "sum negative axis": (lambda: param((2, 3)).sum(axis=-3), ("sum(axis=-3) (t=3, layer=1)", "axis -3")),
    "sum repeated axis": (lambda: param((2, 3)).sum(axis=(0, 0)), ("sum(axis=(0, 0)) (t=3, layer=1)",)),
    "mean axis": (lambda: param((2, 3)).mean(axis=5), ("mean(axis=5) (t=3, layer=1)", "axis 5")),
    "softmax axis": (lambda: tg.softmax(param((2, 3)), axis=2),
                     ("softmax (t=3, layer=1)", "(2, 3)", "axis 2")),
    "log_softmax axis": (lambda: tg.log_softmax(param((2, 3)), axis=-3),
                         ("log_softmax (t=3, layer=1)", "(2, 3)", "axis -3")),
    "transpose axes": (lambda: param((2, 3)).transpose(0, 2), ("transpose (t=3, layer=1)", "axis 2")),
    "transpose repeated": (lambda: param((2, 3)).transpose(0, 0), ("transpose (t=3, layer=1)", "repeated")),
}


@pytest.mark.parametrize("case", sorted(SHAPE_CASES))
def test_shape_mismatch_is_a_shape_error_naming_op_scope_and_shapes(case: str) -> None:
    fn, fragments = SHAPE_CASES[case]
    expect(tg.ShapeError, in_scope(fn), *fragments)


# ---------------------------------------------------------------- cross_entropy targets
CE_CASES: dict[str, tuple[type[Exception], Any, tuple[str, ...]]] = {
    "too large": (tg.ShapeError, [0, 3], ("cross_entropy (t=3, layer=1)", "target 3", "index (1,)",
                                         "3 classes", "0..2")),
    "negative": (tg.ShapeError, [-1, 0], ("cross_entropy (t=3, layer=1)", "target -1", "index (0,)")),
    "float dtype": (tg.DTypeError, np.array([0.0, 1.0]),
                    ("cross_entropy (t=3, layer=1)", "integer class indices", "float64")),
    "float list": (tg.DTypeError, [0.0, 1.0], ("cross_entropy (t=3, layer=1)", "float64")),
    "bool dtype": (tg.DTypeError, np.array([True, False]), ("cross_entropy (t=3, layer=1)", "bool")),
    "too many": (tg.ShapeError, [0, 1, 2],
                 ("cross_entropy (t=3, layer=1)", "(2, 3)", "targets of shape (2,)", "got (3,)")),
    "extra axis": (tg.ShapeError, [[0], [1]], ("cross_entropy (t=3, layer=1)", "got (2, 1)")),
}


@pytest.mark.parametrize("case", sorted(CE_CASES))
def test_cross_entropy_targets_are_checked(case: str) -> None:
    error, targets, fragments = CE_CASES[case]
    expect(error, in_scope(lambda: tg.cross_entropy(param((2, 3)), targets)), *fragments)


def test_cross_entropy_checks_targets_in_no_grad_too():
    with tg.no_grad():
        expect(tg.ShapeError, lambda: tg.cross_entropy(np.zeros((2, 3)), [0, 9]), "target 9")


def test_cross_entropy_reduction_name_is_checked():
    expect(tg.TinygraphError, lambda: tg.cross_entropy(param((2, 3)), [0, 1], reduction="max"),
           "cross_entropy", "'sum' or 'mean'", "'max'")


@pytest.mark.parametrize("targets", [[[0], [1, 2]], None])
def test_cross_entropy_unconvertible_targets_name_the_op(targets: Any) -> None:
    expect(tg.DTypeError, in_scope(lambda: tg.cross_entropy(param((2, 3)), targets)),
           "cross_entropy (t=3, layer=1)", "targets")


def test_cross_entropy_on_scalar_logits_asks_for_a_class_axis():
    expect(tg.ShapeError, in_scope(lambda: tg.cross_entropy(param(()), 0)),
           "cross_entropy (t=3, layer=1)", "class axis")


# ---------------------------------------------------------------- wrong kinds of arguments
@pytest.mark.parametrize("join", [tg.concat, tg.stack])
def test_concat_and_stack_need_a_list(join: Callable[..., tg.Tensor]) -> None:
    expect(tg.TinygraphError, lambda: join(param((2, 3))), join.__name__, "list")


@pytest.mark.parametrize("call", ["reshape", "sum", "softmax", "transpose"])
def test_non_integer_axes_and_shapes_name_the_op(call: str) -> None:
    x = param((2, 3))
    calls = {
        "reshape": lambda: x.reshape(2.5),
        "sum": lambda: x.sum(axis=1.5),
        "softmax": lambda: tg.softmax(x, axis=0.5),
        "transpose": lambda: x.transpose(0.5, 1),
    }
    expect(tg.ShapeError, in_scope(calls[call]), call, "t=3, layer=1")


# ---------------------------------------------------------------- data conversion and dtypes
def test_float_conversion_rules():
    """Lists and Python numbers become float64; numpy arrays and numpy float scalars keep their
    dtype."""
    assert tg.Tensor([1, 2]).dtype == np.float64
    assert tg.Tensor(3).dtype == np.float64
    assert tg.Tensor(True).dtype == np.float64
    assert tg.Tensor(np.float32(1.5)).dtype == np.float32
    assert tg.Tensor(np.array([1.5], dtype=np.float32)).dtype == np.float32
    assert tg.Tensor(np.array([1, 2])).dtype.kind == "i"
    assert tg.Tensor(np.array([True])).dtype == np.bool_
    assert tg.Tensor(3, requires_grad=True).dtype == np.float64  # a Python int may require grad
    assert (tg.Tensor(np.array([1, 2])) * param((2,))).dtype == np.float64


@pytest.mark.parametrize("data, fragment", [
    (np.array([1, 2]), "int64"),
    (np.array([True, False]), "bool"),
    (np.array([1, 2], dtype=np.uint8), "uint8"),
])
def test_requires_grad_on_an_integer_or_bool_array_is_refused(data: np.ndarray, fragment: str) -> None:
    expect(tg.DTypeError, lambda: tg.Tensor(data, requires_grad=True, name="w"),
           "Tensor 'w'", "requires_grad=True", fragment, "astype(np.float64)")


@pytest.mark.parametrize("data, fragment", [
    ([[1.0, 2.0], [3.0]], "ragged"),
    (np.array([{}, {}], dtype=object), "object"),
    (np.array(["a", "b"]), "<U1"),
    ("abc", "<U3"),
    (None, "object"),
    ({"a": 1}, "object"),
])
def test_ragged_and_non_numeric_data_is_refused(data: Any, fragment: str) -> None:
    expect(tg.DTypeError, lambda: tg.Tensor(data), "Tensor", fragment)


@pytest.mark.parametrize("other, error, fragment", [
    ([[1.0, 2.0], [3.0]], tg.DTypeError, "ragged"),
    ("a", tg.DTypeError, "<U1"),
    (np.array([{}, {}], dtype=object), tg.DTypeError, "object"),
    (None, tg.GraphStateError, "None"),
])
def test_bad_operands_of_an_op_are_refused(other: Any, error: type[Exception], fragment: str) -> None:
    expect(error, lambda: param((2,)) + other, fragment)


# ---------------------------------------------------------------- backward misuse
def test_backward_on_a_non_scalar_without_a_seed():
    with tg.scope(t=4):
        y = param((2, 3), "h") * 2.0
    expect(tg.GraphStateError, y.backward, "backward", "mul (t=4)", "shape (2, 3)", "not a scalar",
           "np.ones(out.shape)", "out.sum()")


def test_backward_seed_of_the_wrong_shape():
    y = param((2, 3)) * 2.0
    expect(tg.ShapeError, lambda: y.backward(np.ones(3)), "backward", "seed has shape (3,)", "(2, 3)")
    expect(tg.DTypeError, lambda: y.backward([[1.0, 2.0, 3.0], [1.0]]), "ragged")


def test_backward_from_a_constant():
    y = tg.Tensor(np.ones(1), name="c") * 2.0
    expect(tg.GraphStateError, y.backward, "backward", "does not require grad", "no_grad")


def test_backward_through_a_used_or_freed_graph_names_the_first_node_it_meets():
    x = param((2,))
    with tg.scope(t=4, layer=0):
        h = tg.tanh(x)
    h.sum().backward()
    expect(tg.GraphStateError, lambda: (h * 2.0).sum().backward(),
           "tanh (t=4, layer=0)", "already went through", "retain_graph=True")
    loss = tg.sigmoid(x).sum()
    tg.grad(loss, [x], retain_graph=False)
    expect(tg.GraphStateError, loss.backward, "sum", "freed")


def test_retain_graph_allows_a_second_backward():
    x = param((2,))
    loss = tg.tanh(x).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    np.testing.assert_allclose(first, 1 - np.tanh(1.0) ** 2)


def test_grad_refuses_inputs_that_are_not_differentiable_tensors():
    x = param((2,))
    loss = x.sum()
    expect(tg.GraphStateError, lambda: tg.grad(loss, [np.ones(2)]), "grad: input 0", "ndarray")
    expect(tg.GraphStateError, lambda: tg.grad(loss, [tg.Tensor(np.ones(2), name="c")]),
           "grad: input 0", "'c'", "does not require grad")


def test_item_needs_one_entry():
    expect(tg.ShapeError, param((2,), "v").item, "item()", "'v'", "(2,)")


# ---------------------------------------------------------------- custom ops breaking the contract
class TooFew(tg.Op):
    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad,)


class TooMany(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> tuple:
        return grad, grad


class WrongShape(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad.sum(axis=0),)


class ReturnsNone(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> None:
        return None


class ReturnsText(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> str:
        return "oops"


class TextGradient(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> tuple:
        return ("oops",)


class RaisesInBackward(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        return 2 * a

    def backward(self, grad: np.ndarray) -> tuple:
        raise KeyError("missing cache")


class RaisesInForward(tg.Op):
    def forward(self, a: np.ndarray) -> np.ndarray:
        raise RuntimeError("forward failed")

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad,)


class ReturnsObject(tg.Op):
    def forward(self, a: np.ndarray) -> Any:
        return {"not": "an array"}

    def backward(self, grad: np.ndarray) -> tuple:
        return (grad,)


def run_custom(op: type[tg.Op], inputs: int = 1) -> tg.Tensor:
    x = param((2, 3), "a")
    with tg.scope(t=7, layer=0):
        y = op()(*([x] * inputs))
    y.sum().backward()
    return x


@pytest.mark.parametrize("op, inputs, fragments", [
    (TooFew, 2, ("backward of toofew (t=7, layer=0)", "returned 1 gradients for 2 input(s)")),
    (TooMany, 1, ("backward of toomany (t=7, layer=0)", "returned 2 gradients for 1 input(s)")),
    (WrongShape, 1, ("backward of wrongshape (t=7, layer=0)", "shape (3,)", "input 0", "'a'",
                     "(2, 3)")),
    (ReturnsNone, 1, ("backward of returnsnone (t=7, layer=0)", "NoneType", "1 input(s)")),
    (ReturnsText, 1, ("backward of returnstext (t=7, layer=0)", "str")),
])
def test_a_custom_backward_breaking_the_contract_is_named(op: type[tg.Op], inputs: int,
                                                          fragments: tuple[str, ...]) -> None:
    expect(tg.BackwardError, lambda: run_custom(op, inputs), *fragments)


def test_a_custom_backward_returning_a_non_array_gradient_says_so():
    expect(tg.BackwardError, lambda: run_custom(TextGradient), "textgradient (t=7, layer=0)", "str")


def test_a_custom_backward_that_raises_keeps_its_error_and_gets_a_note_naming_the_op():
    error = expect(KeyError, lambda: run_custom(RaisesInBackward), "missing cache")
    assert "raised in the backward of raisesinbackward (t=7, layer=0)" in error.__notes__


def test_a_custom_forward_that_raises_gets_a_note_naming_the_op():
    error = expect(RuntimeError, lambda: run_custom(RaisesInForward), "forward failed")
    assert any("raisesinforward (t=7, layer=0)" in note for note in getattr(error, "__notes__", []))


def test_a_custom_forward_returning_non_numbers_is_refused():
    expect(tg.DTypeError, lambda: run_custom(ReturnsObject), "returnsobject (t=7, layer=0)", "object")


# ---------------------------------------------------------------- gradcheck's own inputs
def test_gradcheck_refuses_a_non_callable():
    x = param((2,))
    expect(tg.DTypeError, lambda: tg.gradcheck(x.sum(), [x]), "gradcheck", "zero-argument function",
           "Tensor")
    expect(tg.DTypeError, lambda: tg.numerical_grad(None, x), "numerical_grad", "NoneType")


def test_gradcheck_refuses_a_non_scalar_function():
    x = param((2,))
    expect(tg.ShapeError, lambda: tg.gradcheck(lambda: x * 2.0, [x]), "gradcheck", "scalar Tensor",
           "shape (2,)", ".sum()")
    expect(tg.DTypeError, lambda: tg.gradcheck(lambda: 1.0, [x]), "gradcheck", "float")
    expect(tg.DTypeError, lambda: tg.gradcheck(lambda: None, [x]), "gradcheck", "NoneType")


def test_gradcheck_refuses_bad_inputs():
    x = param((2,))
    expect(tg.DTypeError, lambda: tg.gradcheck(lambda: x.sum(), [np.ones(2)]), "gradcheck", "input 0",
           "ndarray")
    expect(tg.DTypeError, lambda: tg.gradcheck(lambda: x.sum(), [tg.Tensor(np.array([1, 2]))]),
           "gradcheck", "input 0", "int64")
    expect(tg.GraphStateError, lambda: tg.gradcheck(lambda: x.sum(), []), "gradcheck", "no inputs")


def test_gradcheck_refuses_a_function_that_needs_arguments():
    x = param((2,))
    expect(tg.DTypeError, lambda: tg.gradcheck(lambda y: y.sum(), [x]), "gradcheck", "zero-argument")


# ---------------------------------------------------------------- the exception hierarchy
def test_every_error_type_is_a_tinygraph_error_and_a_builtin_family():
    assert issubclass(tg.ShapeError, ValueError)
    assert issubclass(tg.DTypeError, TypeError)
    assert issubclass(tg.GraphStateError, RuntimeError)
    assert issubclass(tg.BackwardError, RuntimeError)
    assert issubclass(tg.NumericsError, FloatingPointError)
    assert issubclass(rnn.ConfigError, ValueError)
    assert issubclass(rnn.ParameterFileError, ValueError)
    for error in (tg.ShapeError, tg.DTypeError, tg.GraphStateError, tg.BackwardError,
                  tg.NumericsError, tg.RenderError, rnn.ConfigError, rnn.ParameterFileError):
        assert issubclass(error, tg.TinygraphError)


# ---------------------------------------------------------------- docs/errors.md is the real thing
ROW = re.compile(r"^\| `(?P<code>[^`]+)` \| `(?P<type>\w+)` \| (?P<message>.+) \|$")


def doc_rows() -> list[tuple[str, str, str]]:
    """(code, error type, message) for every row of the catalogue tables in docs/errors.md."""
    rows = []
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match["code"], match["type"], match["message"]))
    return rows


def doc_namespace() -> dict[str, Any]:
    """The names that docs/errors.md's preamble defines (executed from the doc itself)."""
    text = DOCS.read_text(encoding="utf-8")
    setup = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {}
    exec(setup, namespace)
    return namespace


def test_docs_errors_md_lists_many_bad_inputs():
    rows = doc_rows()
    assert len(rows) >= 40
    assert {kind for _, kind, _ in rows} >= {"ShapeError", "DTypeError", "GraphStateError",
                                             "BackwardError", "ConfigError", "ParameterFileError"}


@pytest.mark.parametrize("code, kind, message", doc_rows())
def test_docs_errors_md_shows_the_real_message(code: str, kind: str, message: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each row runs; it raises the listed type; the message matches ('…' stands for any text)."""
    monkeypatch.chdir(tmp_path)
    namespace = doc_namespace()
    with pytest.raises(Exception) as info, np.errstate(all="ignore"):
        exec(code, namespace)
    assert type(info.value).__name__ == kind
    expected = message.replace("\\|", "|")
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    assert re.fullmatch(pattern, str(info.value).strip(), flags=re.DOTALL), str(info.value)
