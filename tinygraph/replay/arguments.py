"""A compiled function's arguments: which are the plan's inputs, and what the signature is.

Arrays and Tensors are the plan's inputs (dynamic): a replay reads their new values. Tuples,
lists and dicts are opened, so ``step((xs, ys))`` works as ``step(xs, ys)`` does. Anything else
(numbers, strings, None, any hashable value) is static: it is part of the signature, so a new
value records again. The signature is what a plan is valid for: the structure, every static
value, and each input's kind, shape, dtype and requires_grad.

While the graph is recorded, each input reaches the function as an ``ArgumentTensor``: a Tensor
that requires grad for the recording (so that every op reading it is recorded, even one a plain
call would have computed as a constant) and refuses to give its values to Python or numpy
(``.data``, ``.item()``, ``bool()``, ``np.asarray``), which the plan could not replay.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, GraphStateError
from tinygraph.tensor import NUMERIC_KINDS, Tensor



def flatten(value: Any, where: str, what: str = "the result") -> tuple[list[Any], Hashable]:
    """Take ``value`` apart: the inputs (arrays and Tensors, in order) and the signature. A
    Tensor passed twice is one input (the function sees one tensor, as a plain call does).
    ``what`` names the value in messages; "arguments" means ``value`` is (args, kwargs)."""
    inputs: list[Any] = []
    if what == "arguments" and not value[1]:  # positional arrays only: the common call, fast
        key = _plain_arrays(value[0], inputs)
        if key is not None:
            return inputs, key
        inputs = []
    try:
        key = _walk(value, inputs, {})
    except _RefusedError as refused:
        item, path = refused.args
        path = _path_text(path, what)
        reason = (f"has dtype {item.dtype}, which is not numeric" if isinstance(item, np.ndarray)
                  else f"is a {type(item).__name__}, which is neither an array, a Tensor, a "
                  "tuple, list or dict of them, nor a hashable value (a static argument)")
        raise DTypeError(f"{where}: {path} {reason}") from None
    return inputs, key


def _plain_arrays(args: tuple[Any, ...], inputs: list[Any]) -> Hashable | None:
    """The signature of positional float or integer ndarrays, or None for any other call."""
    keys = []
    for item in args:
        if type(item) is not np.ndarray or item.dtype.kind not in "fiu":
            return None
        inputs.append(item)
        keys.append(("array", item.shape, item.dtype))
    return tuple(keys)


class _RefusedError(Exception):
    """An argument that is neither an input nor a static value: (the item, where it is)."""


def _walk(item: Any, inputs: list[Any], seen: dict[int, int]) -> Hashable:
    kind = type(item)
    if kind is np.ndarray or isinstance(item, np.ndarray):
        if item.dtype.kind not in NUMERIC_KINDS:
            raise _RefusedError(item, "")
        inputs.append(item)
        return "array", item.shape, item.dtype
    if kind is Tensor or isinstance(item, Tensor):
        position = seen.get(id(item))
        if position is not None:
            return "same", position
        seen[id(item)] = len(inputs)
        inputs.append(item)
        return "tensor", item._data.shape, item._data.dtype, item.requires_grad
    if kind is tuple or kind is list or kind is dict or isinstance(item, tuple):
        parts = item.values() if kind is dict else item
        try:
            keys = tuple([_walk(x, inputs, seen) for x in parts])
        except _RefusedError as refused:
            inner, path = refused.args
            where = f"[{list(item)[_index_of(parts, inner)]!r}]" if kind is dict else \
                f"[{_index_of(parts, inner)}]"
            raise _RefusedError(inner, where + path) from None
        return (kind, tuple(item), keys) if kind is dict else (kind, keys)
    try:
        hash(item)
    except TypeError:
        raise _RefusedError(item, "") from None
    return "static", kind, item


def _path_text(path: str, what: str) -> str:
    """``[0][2][1]`` of (args, kwargs) as "argument 2[1]"; of anything else "the result[0]"."""
    if what != "arguments":
        return what + path
    first, _, rest = path[4:].partition("]")
    return f"argument {first}{rest}"


def _index_of(parts: Any, inner: Any) -> int:
    """Which element of ``parts`` holds ``inner`` (itself, or somewhere inside it)."""
    for i, x in enumerate(parts):
        stack = [x]
        while stack:
            y = stack.pop()
            if y is inner:
                return i
            if isinstance(y, (tuple, list)):
                stack.extend(y)
            elif isinstance(y, dict):
                stack.extend(y.values())
    return 0


def rebuild(value: Any, replacements: list[Any]) -> Any:
    """``value`` with its inputs (in ``flatten``'s order) replaced by ``replacements``."""
    seen: dict[int, Any] = {}
    queue = iter(replacements)

    def walk(item: Any) -> Any:
        kind = type(item)
        if isinstance(item, (Tensor, np.ndarray)):
            if isinstance(item, Tensor) and id(item) in seen:
                return seen[id(item)]
            new = next(queue)
            if isinstance(item, Tensor):
                seen[id(item)] = new
            return new
        if kind is tuple or kind is list:
            return kind([walk(x) for x in item])
        if isinstance(item, tuple):  # a namedtuple
            return kind(*[walk(x) for x in item])
        if kind is dict:
            return {k: walk(x) for k, x in item.items()}
        return item

    return walk(value)


def describe_key(key: Hashable) -> str:
    """The shapes and dtypes of a signature, for the debug log: ``(4, 10, 8) float64, ...``."""
    parts: list[str] = []
    stack = [key]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple) and item and item[0] in ("tensor", "array"):
            grad = " requires_grad" if item[0] == "tensor" and item[3] else ""
            parts.append(f"{item[1]} {np.dtype(item[2])}{grad}")
        elif isinstance(item, tuple) and item and item[0] == "static":
            parts.append(repr(item[2]))
        elif isinstance(item, tuple):
            stack.extend(reversed(item))
    return ", ".join(parts)


class ArgumentTensor(Tensor):
    """A compiled function's input while its graph is recorded (see the module docstring).

    It adds no slot, so that the recording can turn it back into a plain Tensor afterwards
    (pictures and traces of the recorded graph read its data).
    """

    __slots__ = ()

    @property
    def data(self) -> np.ndarray:
        """Refused while recording: the plan could not replay what Python does with values."""
        raise value_read(self, ".data")

    @data.setter
    def data(self, value: Any) -> None:
        raise value_read(self, ".data = ...")

    def numpy(self) -> np.ndarray:
        """Refused while recording (see ``data``)."""
        raise value_read(self, ".numpy()")

    def item(self) -> float:
        """Refused while recording (see ``data``)."""
        raise value_read(self, ".item()")

    def __float__(self) -> float:
        raise value_read(self, "float()")

    def __bool__(self) -> bool:
        raise value_read(self, "bool() (an if or while on its values)")

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        raise value_read(self, "numpy (np.asarray)")

    def __setitem__(self, index: Any, value: Any) -> None:
        label = LABELS.get(id(self), "an input")
        raise GraphStateError(
            f"compile: the function wrote into {label} (x[index] = v); write into a copy of it "
            "instead (y = tg.copy(x); y[index] = v), which the plan records and replays"
        )


LABELS: dict[int, str] = {}  # id(ArgumentTensor) -> "input 0 (shape (4, 10))", while recording


def value_read(tensor: Tensor, how: str) -> GraphStateError:
    """The error for a function that reads an input's values while its graph is recorded."""
    label = LABELS.get(id(tensor), "an input")
    return GraphStateError(
        f"compile: the function read the values of {label} with {how}. A plan replays tinygraph "
        "ops only: what Python or numpy computes from the values would be frozen at the first "
        "call's. Use tinygraph ops on it, pass it as a static value (a number, a tuple), or call "
        "the function without tg.compile"
    )


def as_argument(item: Tensor | np.ndarray, position: int) -> ArgumentTensor:
    """The ArgumentTensor standing for input ``position`` while the function is recorded.

    An array is copied (as ``tg.Tensor`` copies it); a Tensor's array is shared.
    """
    if isinstance(item, Tensor):
        array, name = item._data, item.name
    else:
        array, name = np.array(item), None
    # requires grad for the recording: every op reading it is recorded
    tensor = ArgumentTensor._from_op(array, requires_grad=True)
    tensor.name = name
    LABELS[id(tensor)] = f"input {position} (shape {array.shape}, {array.dtype})"
    return tensor


def disarm(tensor: ArgumentTensor, requires_grad: bool) -> None:
    """After the recording: a plain Tensor again, requiring grad only if the caller's did."""
    LABELS.pop(id(tensor), None)
    tensor.__class__ = Tensor
    tensor.requires_grad = requires_grad
