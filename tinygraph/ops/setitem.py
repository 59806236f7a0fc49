"""``x[index] = v`` on a Tensor: a new version of x, recorded as a ``setitem`` node.

Tensors have value semantics under item assignment, as JAX's ``x.at[index].set(v)``: the write
does not go into x's array. It makes a new array, x's values with v at ``index``, and the Python
object ``x`` names that new version from then on. When a gradient is involved (recording is on
and x or v requires grad), the new version is the output of a node:

    y = x with y[index] = v;  dx = dy with zeros at index;  dv = dy[index] (summed back to v's
    shape where v was broadcast)

The previous version keeps its place in the graph as a new Tensor object with the same name:
its producer and the nodes that read x before the write now refer to it, so each of them still
reads the values it saw, and the picture shows the setitem box with an edge named ``x`` going
in and one coming out. A tensor computed from x before the write (``row = x[0]``) keeps the old
values: it is a tensor of its own, not a numpy view.

When nothing is recorded (no gradient involved, or inside ``tg.no_grad()``) a leaf simply names
its new array (as ``x.data = new`` would); a tensor that an op produced is split the same way,
the new version becoming a leaf constant.

Refused: a leaf that requires grad while recording (a parameter: change its values with
``x.data[index] = v`` or inside ``tg.no_grad()``), an integer x that would need a gradient
(numpy truncates what is written into it), and an advanced index that names one entry twice
(numpy keeps one of the values without saying which, so no gradient is defined).
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, GraphStateError, ShapeError
from tinygraph.node import Op, apply, locate
from tinygraph.ops.shape import _format_index, _is_basic, own_index
from tinygraph.scope import STATE
from tinygraph.tangent import flat_positions, lift
from tinygraph.tensor import Tensor, _label


class SetItem(Op):
    """y = x with y[index] = v (v broadcast to x[index]'s shape);
    dx = dy with zeros at index;  dv = dy[index], summed back to v's shape."""

    __slots__ = ("index",)
    keeps_inputs = False
    saves_output = False

    name = "setitem"
    broadcasts = True  # v is broadcast to x[index]: the engine sums its gradient back

    def __init__(self, index: Any) -> None:
        self.index = index

    def describe(self) -> str:
        return f"setitem[{_format_index(self.index)}]"

    def forward(self, x: np.ndarray, v: np.ndarray) -> np.ndarray:
        if not _is_basic(self.index):
            positions = flat_positions(x.shape, self.index)
            if np.unique(positions).size != positions.size:
                raise ShapeError(
                    f"the index names an entry of the shape {x.shape} more than once; numpy keeps "
                    "one of the values written there without saying which, so no gradient is "
                    "defined: give each position once"
                )
        out = x.copy()  # the previous version keeps its own array
        out[self.index] = v
        return out

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        need_x, need_v = self.needs_input_grad
        dx = dv = None
        if need_x:
            dx = np.array(grad)  # a writable copy: grad may be a read-only broadcast
            dx[self.index] = 0
        if need_v:
            dv = grad[self.index]
        return dx, dv

    def jvp(self, x_dot: np.ndarray | None, v_dot: np.ndarray | None) -> np.ndarray:
        """jvp: ẏ = ẋ with ẏ[index] = v̇ (v̇ broadcast to x[index]'s shape), per direction."""
        y = self.output
        first = x_dot if x_dot is not None else v_dot
        y_dot = np.zeros((first.shape[0], *y.shape), dtype=first.dtype)
        if x_dot is not None:
            y_dot[...] = x_dot
        if _is_basic(self.index):
            parts = self.index if type(self.index) is tuple else (self.index,)
            target = (slice(None), *parts)
            y_dot[target] = 0.0 if v_dot is None else lift(v_dot, y_dot[target].ndim - 1)
        else:  # through the flat positions, so the K axis stays in front (tangent.take)
            positions = flat_positions(y.shape, self.index)
            flat = y_dot.reshape(y_dot.shape[0], -1)
            flat[:, positions] = 0.0 if v_dot is None else lift(v_dot, positions.ndim)
        return y_dot


def setitem(x: Tensor, index: Any, value: Any) -> None:
    """``x[index] = value``: x becomes the new version (see the module's docstring)."""
    index = own_index(index)
    value_grad = isinstance(value, Tensor) and value.requires_grad
    recording = STATE.grad_enabled and (x.requires_grad or value_grad)
    if recording:
        _check_recordable(x, index)
    elif x.producer is None:  # a leaf, nothing recorded: x names its new array
        x.data = SetItem(index)(x, value)._data
        return
    before = _previous_version(x)
    new = apply(SetItem(index), (before, before if value is x else value))
    _become(x, new)


def _check_recordable(x: Tensor, index: Any) -> None:
    """Refuse writing into a parameter or a non-float tensor while recording (the messages are
    built only then: this runs at every recorded ``x[i] = v``)."""
    if x.is_leaf and x.requires_grad:
        raise GraphStateError(
            f"{_where(index)}: the tensor{_label(x.name)} is a leaf that requires grad (a "
            "parameter); writing into it would make it a computed tensor. Change a parameter's "
            "values with x.data[index] = v (or inside tg.no_grad()), or build a new tensor: "
            "y = np.where(mask, v, x) (tg.where)"
        )
    if x.dtype.kind != "f":
        raise DTypeError(
            f"{_where(index)}: the tensor{_label(x.name)} has dtype {x.dtype}, so numpy would "
            "truncate the values written into it and no gradient could flow; make x a float "
            "tensor (np.zeros_like(x, dtype=float))"
        )


def _previous_version(x: Tensor) -> Tensor:
    """A new Tensor object that takes x's place in the graph: x's array, name and producer,
    and the nodes that read x now read it. x is left with no producer and no readers."""
    before = Tensor._from_op(x._data, x.requires_grad)
    before.name, before.grad, before._retain = x.name, x.grad, x._retain
    before._view, before._consumers, before.producer = x._view, x._consumers, x.producer
    if x.producer is not None:
        x.producer._output = weakref.ref(before)
    for node in x.consumers:
        node.inputs = tuple(before if t is x else t for t in node.inputs)
    x.grad, x._retain, x._view, x._consumers, x.producer = None, False, None, None, None
    return before


def _where(index: Any) -> str:
    return locate(SetItem(index), STATE.tags)


def _become(x: Tensor, new: Tensor) -> None:
    """Let the Python object x be the tensor ``new``: its array, flag and producer, with the
    producer's inputs' references to their reader moved from ``new`` to x."""
    x._data, x.requires_grad, x.producer = new._data, new.requires_grad, new.producer
    node = new.producer
    if node is None:
        return
    node._output = ref = weakref.ref(x)
    for tensor in node.inputs:
        refs = tensor._consumers
        if type(refs) is list:
            refs[:] = [ref if r() is new else r for r in refs]
        elif refs is not None and refs() is new:
            tensor._consumers = ref
