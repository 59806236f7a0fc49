"""Node and Op: the vertices of the graph.

An ``Op`` is a forward/backward pair; subclass it to add an operation. Calling an op instance
on tensors runs ``forward`` on their arrays and, when some input requires a gradient, records
one ``Node``: the op (holding what its backward needs), its input tensors, its output tensor
and the scope tags in force (``t``, ``layer``, ...).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from tinygraph.anomaly import check_forward
from tinygraph.errors import DTypeError, GraphStateError, ShapeError, TinygraphError, add_note
from tinygraph.scope import STATE, format_scope
from tinygraph.tensor import NUMERIC_KINDS, Tensor, as_array
from tinygraph.versions import clock


class Op:
    """A differentiable operation: ``forward(*arrays) -> array``, ``backward(grad) -> tuple``
    and, for forward mode, ``jvp(*tangents) -> array`` (optional; see :meth:`jvp`).

    Subclasses define ``forward`` (numpy in, numpy out) and ``backward`` (the vector-Jacobian
    product: given dL/dy, return dL/dx_i for every input, in order; ``None`` for an input that
    needs no gradient). While they run, ``self.inputs`` holds the input arrays and, in backward,
    ``self.output`` the output array. ``self.needs_input_grad`` tells which inputs want one.

    ``broadcasts = True`` declares that the forward broadcasts its inputs numpy-style; the
    engine then sums each returned gradient back to its input's shape. Without it a gradient
    of the wrong shape is an error naming the op. ``saved_arrays`` names any other attributes
    holding arrays for backward; they are dropped with ``inputs`` and ``output`` when a pass
    runs with ``retain_graph=False`` (``tg.grad``, ``tg.trace_backward``).
    A built-in op whose backward needs only ``grad`` and ``output`` sets ``keeps_inputs =
    False``, so a recorded node does not hold a tuple of its inputs' arrays (memory); one whose
    backward never reads ``output`` sets ``saves_output = False``, so writing into its output
    in place is not mistaken for a change of what its backward reads (``tinygraph.versions``).
    """

    __slots__ = ("inputs", "needs_input_grad", "output")

    name: ClassVar[str] = ""
    broadcasts: ClassVar[bool] = False
    saved_arrays: ClassVar[tuple[str, ...]] = ()
    keeps_inputs: ClassVar[bool] = True
    saves_output: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("name"):
            cls.name = cls.__name__.lower()
        for flag in ("keeps_inputs", "saves_output"):  # a subclass's own backward may read them
            if flag not in cls.__dict__:
                setattr(cls, flag, True)
        if "forward" in cls.__dict__ and not cls.__module__.startswith("tinygraph."):
            cls.forward = _real_valued(cls.__dict__["forward"])  # the engine trusts only its own ops

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        """Compute the output array from the input arrays."""
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray | None, ...]:
        """Return the gradient for each input given the gradient of the output."""
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def jvp(self, *tangents: np.ndarray | None) -> np.ndarray:
        """Forward mode: the tangent of the output, ẏ = Σ_i ∂y/∂x_i · ẋ_i (a Jacobian-vector product).

        ``tangents`` has one entry per input: None for an input that does not move (a
        constant, integer class targets), else ẋ_i of shape (K, *x_i.shape): K directions at
        once along a leading axis, so a Jacobian costs one pass. Return ẏ of shape
        (K, *y.shape) (an array that broadcasts to it is accepted). The rule reads the state
        ``backward`` reads: ``self.inputs`` (the engine puts the input arrays back for the call
        when ``keeps_inputs`` is False), ``self.output`` and the saved attributes.
        Broadcasting goes the other way round: where ``backward`` sums a gradient back to an
        input's shape, ``jvp`` broadcasts that input's tangent up to the output's
        (``tinygraph.tangent.lift``). An op that does not define ``jvp`` cannot be used in
        forward mode (``tg.jvp``, ``tg.jacobian(mode="forward")``, the "jvp-vjp" checks):
        those raise a ForwardModeError naming it.
        """
        raise NotImplementedError(f"{type(self).__name__}.jvp")

    def describe(self) -> str:
        """A short label for tables and pictures (subclasses add their settings)."""
        return self.name

    def state(self) -> dict[str, Any]:
        """Every attribute the op holds (slots and ``__dict__``), e.g. to restore it later."""
        names = [n for cls in type(self).__mro__ for n in getattr(cls, "__slots__", ())]
        values = {n: getattr(self, n) for n in names if n != "__dict__" and hasattr(self, n)}
        values.update(getattr(self, "__dict__", {}))
        return values

    def restore(self, state: dict[str, Any]) -> None:
        """Put back the attributes returned by :meth:`state`."""
        for key, value in state.items():
            setattr(self, key, value)

    def explain(self, *arrays: np.ndarray) -> str | None:
        """Why ``forward`` rejected these arrays, in words (called only after it raised)."""
        return None

    def __call__(self, *args: Any) -> Tensor:
        return apply(self, args)


def _real_valued(forward: Callable[..., Any]) -> Callable[..., Any]:
    """A custom op's forward, refusing a complex result (every op of the engine is real-valued;
    the built-in ops cannot produce one from real inputs, so only custom ops are checked)."""

    @functools.wraps(forward)
    def checked(self: Op, *arrays: np.ndarray) -> Any:
        out = forward(self, *arrays)
        if isinstance(out, np.ndarray) and out.dtype.kind == "c":
            raise DTypeError(f"forward returned a complex array (dtype {out.dtype}); it must "
                             "return a real (not complex) ndarray")
        return out

    return checked


class Node:
    """One application of an op: ``op``, ``inputs`` (Tensors), ``outputs``, ``scope``.

    ``id`` is a global creation counter: sorting by it gives a topological order, and it makes
    every walk, table and picture deterministic. ``consumed``: a ``backward()`` without
    ``retain_graph=True`` went through it, so another ``backward()`` is refused. ``freed``: its
    saved arrays were dropped, so no pass can go through it.
    """

    __slots__ = ("_output", "consumed", "freed", "id", "inputs", "op", "scope")  # set by apply

    @property
    def output(self) -> Tensor | None:
        """The tensor this node wrote (None once nothing refers to it any more)."""
        return self._output()

    @property
    def outputs(self) -> tuple[Tensor, ...]:
        """The output tensors (one per node in this engine)."""
        out = self._output()
        return () if out is None else (out,)

    def where(self) -> str:
        """The op with its scope, as messages write it: ``tanh (t=3, layer=1)``."""
        return locate(self.op, self.scope)

    def free(self) -> None:
        """Drop the arrays the op saved for backward; a later pass through the node raises."""
        op = self.op
        op.inputs = op.output = None
        for key in op.saved_arrays:
            setattr(op, key, None)
        self.freed = True

    def __repr__(self) -> str:
        return f"Node({self.where()}, id={self.id})"


def locate(op: Op, scope: dict[str, Any]) -> str:
    """``name (t=3, layer=1)``, or just the name when there is no scope."""
    text = format_scope(scope)
    return f"{op.describe()} ({text})" if text else op.describe()


def apply(op: Op, args: tuple[Any, ...]) -> Tensor:
    """Run ``op`` on ``args`` (Tensors or array-likes) and record a Node when needed.

    The algorithm: the inputs' arrays go through ``op.forward``; the result becomes a new
    Tensor; when gradients are enabled and some input requires one, a Node remembering the op,
    its input tensors and the scope in force becomes the output's producer, and each input
    learns that the node reads it. Constants and ``no_grad`` blocks cost only the numpy call.
    """
    if getattr(op, "output", None) is not None:
        raise _already_applied(op)
    count = len(args)  # one and two inputs unpacked inline: every op of every graph passes here
    if count == 2:
        a, b = args
        if type(a) is not Tensor or type(b) is not Tensor:
            a, b = args = _as_tensors(a, b)
        arrays = (a._data, b._data)
        needs = _PAIRS[a.requires_grad][b.requires_grad]
    elif count == 1:
        a = args[0]
        if type(a) is not Tensor:
            a = _as_tensor(a)
            args = (a,)
        arrays = (a._data,)
        needs = _SINGLES[a.requires_grad]
    else:
        args, arrays, needs = _unpack(args)
    op.inputs = arrays
    try:
        data = op.forward(*arrays)
    except Exception as exc:
        raise _forward_failed(op, arrays, exc) from None
    if type(data) is not np.ndarray:  # numpy scalars from full reductions, lists from custom ops
        data = _as_output(op, data)
    state = STATE
    if state.detect_anomaly:
        check_forward(locate(op, state.tags), arrays, data)
    out = _new(Tensor)
    out._data = data
    out.grad = out.name = out.producer = out._consumers = out._view = None
    out._retain = False
    if not (state.grad_enabled and True in needs):
        out.requires_grad = False
        op.inputs = None
        return out
    out.requires_grad = True
    op.output = data
    op.needs_input_grad = needs
    if not op.keeps_inputs:
        op.inputs = None
    node = _new(Node)
    node.op = op
    node.inputs = args
    node.scope = state.tags
    node.id = next(clock)
    node.freed = node.consumed = False
    node._output = ref = _ref(out)
    out.producer = node
    for t in args:  # a tensor's consumers are found through the weak references to their outputs
        consumers = t._consumers
        if consumers is None:  # one consumer (most tensors): the reference itself, no list
            t._consumers = ref
        elif type(consumers) is list:
            consumers.append(ref)
            count = len(consumers)
            if count >= 64 and count & (count - 1) == 0:  # prune dead nodes at powers of 2
                consumers[:] = [r for r in consumers if r() is not None]
        else:
            t._consumers = [consumers, ref]
    return out


def _already_applied(op: Op) -> GraphStateError:
    return GraphStateError(
        f"{locate(op, STATE.tags)}: this {type(op).__name__} instance was already applied; "
        f"an op instance holds the arrays of one application, so create one per call: "
        f"{type(op).__name__}()(x)"
    )


def _forward_failed(op: Op, arrays: tuple[np.ndarray, ...], exc: Exception) -> Exception:
    """The error to raise for a forward that raised ``exc``: ours, naming the op and its scope
    (a numpy shape error becomes a ShapeError with the op's own explanation); any other
    exception is kept, with a note naming the op."""
    where = locate(op, STATE.tags)
    if isinstance(exc, TinygraphError):
        return type(exc)(f"{where}: {exc}")
    if isinstance(exc, (ValueError, IndexError)):
        shapes = ", ".join(str(a.shape) for a in arrays)
        reason = op.explain(*arrays) or f"inputs of shapes {shapes} do not fit: {exc}"
        return ShapeError(f"{where}: {reason}")
    add_note(exc, f"raised in the forward of {where}")
    return exc


_new = object.__new__
_ref = weakref.ref


def _unpack(args: tuple[Any, ...]) -> tuple[tuple[Tensor, ...], tuple[np.ndarray, ...], tuple[bool, ...]]:
    """The inputs as Tensors, their arrays and their requires_grad flags (three or more)."""
    other = next((a for a in args if type(a) is Tensor), None)
    tensors = tuple([a if type(a) is Tensor else _as_tensor(a, other) for a in args])
    return tensors, tuple([t._data for t in tensors]), tuple([t.requires_grad for t in tensors])


def _as_tensors(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Two op arguments as Tensors (a number beside a tensor takes its float dtype)."""
    if type(a) is not Tensor:
        a = _as_tensor(a, b)
    if type(b) is not Tensor:
        b = _as_tensor(b, a)
    return a, b


# Shared flag tuples: most nodes have one or two inputs, and a tuple per node costs memory.
_SINGLES = ((False,), (True,))
_PAIRS = (((False, False), (False, True)), ((True, False), (True, True)))


def _as_output(op: Op, data: Any) -> np.ndarray:
    """A forward's result as a numeric ndarray, or an error naming the op."""
    array = np.asarray(data)
    if array.dtype.kind not in NUMERIC_KINDS:
        kind = "a real (not complex) ndarray" if array.dtype.kind == "c" else "a numeric ndarray"
        raise DTypeError(
            f"{locate(op, STATE.tags)}: forward returned a {type(data).__name__} (dtype "
            f"{array.dtype}); it must return {kind}"
        )
    return array


def _as_tensor(value: Any, other: Any = None) -> Tensor:
    """An op's argument as a Tensor. A Python number beside a float32 (or float16) Tensor takes
    that dtype, as numpy does with scalars, so ``x * 2`` keeps x's precision. An ndarray is
    copied: the op may keep it for backward, and the caller may refill its buffer meanwhile."""
    if isinstance(value, Tensor):
        return value
    if type(value) in (int, float, bool) and type(other) is Tensor and other._data.dtype.kind == "f":
        return Tensor._from_op(np.asarray(value, dtype=other._data.dtype), False)
    if type(value) is np.ndarray and value.dtype.kind in NUMERIC_KINDS:
        return Tensor._from_op(value.copy(), False)
    if value is None:
        raise GraphStateError("an op received None where a tensor or array was expected")
    return Tensor._from_op(as_array(value), False)  # as_array made it a new array
