"""Tensor: an edge of the graph. It carries an array forward and a gradient backward.

A tensor made by an op knows its ``producer`` (the Node that wrote it) and its ``consumers``
(the Nodes that read it). A tensor read by several nodes is a junction: in the backward pass
its gradient is the sum of what every consumer sends back.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from tinygraph.errors import DTypeError, ShapeError
from tinygraph.spellings import TENSOR_NAMES, refuse_keywords, refusing_property
from tinygraph.versions import DataView, WriteStamp, view_of

if TYPE_CHECKING:
    from tinygraph.node import Node

NUMERIC_KINDS = "fiub"  # numpy dtype kinds the engine computes with (float, int, bool)


def as_array(data: Any) -> np.ndarray:
    """Convert user data to a new ndarray: lists and Python numbers become float64.

    numpy arrays are copied and keep their dtype (float32 stays float32, integer arrays stay
    integer so they can serve as class targets or indices), so a caller refilling its own
    buffer later cannot change what the graph holds; object, string and complex arrays are
    refused (every op is real-valued).
    """
    if isinstance(data, Tensor):
        data = data._data
    if isinstance(data, np.ndarray):
        array = np.array(data)  # a copy, and a plain ndarray even for a DataView
    elif isinstance(data, np.floating):  # a numpy float scalar keeps its precision
        array = np.asarray(data)
    elif isinstance(data, (bool, int, float, list, tuple, np.number, np.bool_)):
        try:
            array = np.asarray(data, dtype=np.float64)
        except (ValueError, TypeError) as exc:
            raise DTypeError(
                f"Tensor: cannot convert {type(data).__name__} to a float64 array "
                f"(ragged or non-numeric data?): {exc}"
            ) from None
    else:
        array = np.asarray(data)
    if array.dtype.kind not in NUMERIC_KINDS:
        raise DTypeError(_not_numeric(array.dtype))
    return array


def _not_numeric(dtype: np.dtype) -> str:
    if dtype.kind == "c":
        return (f"Tensor: dtype {dtype} is complex, but every op of tinygraph is real-valued; "
                "give the real and imaginary parts as separate real tensors (z.real, z.imag)")
    return f"Tensor: dtype {dtype} is not numeric; give floats (or integer class targets)"


class Tensor:
    """An edge of the graph: ``data`` forward, ``grad`` backward.

    Args:
        data: an ndarray (copied, dtype kept), or a number or nested list (made float64).
        requires_grad: whether backward computes a gradient for this tensor.
        name: a label used in traces, tables and pictures.
        copy: False shares the memory of a given plain ndarray instead of copying it (like
            ``np.asarray`` or ``torch.from_numpy``), for an array nobody else will write into:
            a write into that array itself is not noticed by the graph.
    """

    __slots__ = (
        "__weakref__",
        "_consumers",
        "_data",
        "_retain",
        "_view",
        "grad",
        "name",
        "producer",
        "requires_grad",
    )

    def __init__(self, data: Any, requires_grad: bool = False, name: str | None = None, *,
                 copy: bool = True) -> None:
        if not copy and type(data) is np.ndarray and data.dtype.kind in NUMERIC_KINDS:
            array = data
        else:
            array = as_array(data)
        if requires_grad and array.dtype.kind != "f":
            raise DTypeError(
                f"Tensor{_label(name)}: requires_grad=True needs a float array, got dtype "
                f"{array.dtype}; convert with data.astype(np.float64)"
            )
        self._data = array
        self._view: DataView | None = None
        self.grad: np.ndarray | None = None
        self.name = name
        self.producer: Node | None = None
        self.requires_grad = bool(requires_grad)
        self._consumers: list[weakref.ref] | weakref.ref | None = None
        self._retain = False

    @classmethod
    def _from_op(cls, data: np.ndarray, requires_grad: bool) -> Tensor:
        """Wrap an array without re-validating it: an op's output (the engine's fast path) or
        an input of a function tg.compile records."""
        tensor = cls.__new__(cls)
        tensor._data = data
        tensor._view = None
        tensor.grad = None
        tensor.name = None
        tensor.producer = None
        tensor.requires_grad = requires_grad
        tensor._consumers = None
        tensor._retain = False
        return tensor

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> np.ndarray:
        """The array this edge carries. Writing into it in place (``x.data[...] = v``,
        ``x.data += v``) is noticed: a backward pass through an op that saved the old values
        refuses to run (see ``tinygraph.versions``). Assigning ``x.data = new`` rebinds it."""
        view = self._view
        if view is None:
            view = self._view = view_of(self._data, WriteStamp())
        return view

    @data.setter
    def data(self, value: Any) -> None:
        if value is self._view and value is not None:
            return  # ``x.data += 1`` assigns the written view back: it was stamped, not rebound
        if type(value) is np.ndarray and value.dtype.kind in NUMERIC_KINDS:
            self._data = value
        else:
            self._data = _rebound(value)
        self._view = None

    def _write_stamp(self) -> WriteStamp:
        """The stamp that writes into this tensor's array update (made on first use)."""
        return self.data._stamp

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of ``data``."""
        return self._data.shape

    @property
    def ndim(self) -> int:
        """The number of axes of ``data``."""
        return self._data.ndim

    @property
    def size(self) -> int:
        """The number of entries of ``data``."""
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        """The dtype of ``data``."""
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """True for a tensor no recorded op produced (inputs and parameters)."""
        return self.producer is None

    @property
    def consumers(self) -> list[Node]:
        """The live nodes that read this tensor, in creation order."""
        refs = self._consumers
        if refs is None:
            return []
        outputs = [ref() for ref in refs] if type(refs) is list else [refs()]
        nodes = [out.producer for out in outputs if out is not None]
        return list(dict.fromkeys(nodes))  # a node reading the tensor twice (x * x) once

    @property
    def T(self) -> Tensor:  # noqa: N802 (numpy's name)
        """The transpose (axes reversed)."""
        return _shape.transpose(self)

    # ----------------------------------------------------------------- gradients
    def backward(self, grad: Any = None, retain_graph: bool = False) -> None:
        """Back-propagate from this tensor; see :func:`tinygraph.backward.backward`."""
        _backward.backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (same as ``tensor.grad = None``)."""
        self.grad = None

    def retain_grad(self) -> Tensor:
        """Keep ``.grad`` on this non-leaf tensor after backward (leaves always keep it)."""
        self._retain = True
        return self

    def detach(self) -> Tensor:
        """The same data and name as a new leaf that records nothing (shares memory, like
        PyTorch; a write into either is noticed by the graphs that saved the array)."""
        leaf = Tensor._from_op(self._data, False)
        leaf.name = self.name
        leaf._view = view_of(self._data, self._write_stamp())
        return leaf

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (not a copy): the same as ``.data``."""
        return self.data

    def item(self) -> float:
        """The value of a one-entry tensor as a Python number."""
        return _one_entry(self, "item()").item()

    # ----------------------------------------------------------------- Python protocols
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError(f"len() of a 0-d tensor{_label(self.name)}")
        return len(self._data)

    def __iter__(self) -> Iterator[Tensor]:
        """The entries along the first axis, each a recorded ``x[i]``."""
        for index in range(len(self)):
            yield self[index]

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """numpy's view of the tensor. Refused when it requires a gradient (np.asarray(x),
        np.array([x1, x2]), a[i] = x would silently cut the graph: use np.stack, tg ops, or
        .data / .detach()), and for an object array of tensors."""
        if self.requires_grad or (dtype is not None and np.dtype(dtype) == object):
            raise _refusals.conversion_refused(_label(self.name), self.shape, dtype)
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return self._data if dtype is None else self._data.astype(dtype, copy=False)

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """NEP 13: ``np.tanh(x)``, ``np.maximum(0, x)``, ``ndarray + x`` record the tg op they
        stand for (see ``tinygraph.numpy_protocols.ufuncs``); other ufuncs are refused."""
        return _ufuncs.array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: tuple[Any, ...],
                           kwargs: dict[str, Any]) -> Any:
        """NEP 18: ``np.dot``, ``np.sum``, ``np.concatenate`` and the others of the table record
        the tg op they stand for (see ``tinygraph.numpy_protocols.functions``); other numpy
        functions are refused."""
        return _functions.array_function(func, types, args, kwargs)

    def __float__(self) -> float:
        """float(x) of a one-entry tensor; refused when it requires grad (numpy calls float()
        for ``a[i] = x``, which would cut the graph): use x.item() for the number."""
        if self.requires_grad:
            raise _refusals.float_refused(_label(self.name))
        return float(_one_entry(self, "float()").item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise ShapeError(
                f"bool(): the truth value of a tensor{_label(self.name)} of shape {self.shape} is "
                "ambiguous; use (x.data > 0).any() or .all()"
            )
        return bool(self._data.reshape(()))

    # ----------------------------------------------------------------- operators
    def __add__(self, other: Any) -> Tensor:
        return _apply(_arith.Add(), (self, other))

    def __radd__(self, other: Any) -> Tensor:
        return _apply(_arith.Add(), (other, self))

    def __sub__(self, other: Any) -> Tensor:
        return _apply(_arith.Sub(), (self, other))

    def __rsub__(self, other: Any) -> Tensor:
        return _apply(_arith.Sub(), (other, self))

    def __mul__(self, other: Any) -> Tensor:
        return _apply(_arith.Mul(), (self, other))

    def __rmul__(self, other: Any) -> Tensor:
        return _apply(_arith.Mul(), (other, self))

    def __truediv__(self, other: Any) -> Tensor:
        return _apply(_arith.Div(), (self, other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _apply(_arith.Div(), (other, self))

    def __pow__(self, other: Any) -> Tensor:
        return _apply(_arith.Pow(), (self, other))

    def __rpow__(self, other: Any) -> Tensor:
        return _apply(_arith.Pow(), (other, self))

    def __matmul__(self, other: Any) -> Tensor:
        return _apply(_arith.MatMul(), (self, other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _apply(_arith.MatMul(), (other, self))

    def __neg__(self) -> Tensor:
        return _apply(_arith.Neg(), (self,))

    def __abs__(self) -> Tensor:
        return _apply(_elementwise.Abs(), (self,))

    # Comparisons are entrywise and make a bool Tensor with no gradient (numpy's and PyTorch's
    # meaning). Hashing stays by identity, so tensors remain usable as dict keys and in sets;
    # compare tensors as objects with ``is`` (``any(t is x for t in seq)``), never ``in``.
    __hash__ = object.__hash__

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        return _no_gradient.compare("==", self, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        return _no_gradient.compare("!=", self, other)

    def __lt__(self, other: Any) -> Tensor:
        return _no_gradient.compare("<", self, other)

    def __le__(self, other: Any) -> Tensor:
        return _no_gradient.compare("<=", self, other)

    def __gt__(self, other: Any) -> Tensor:
        return _no_gradient.compare(">", self, other)

    def __ge__(self, other: Any) -> Tensor:
        return _no_gradient.compare(">=", self, other)

    def __contains__(self, value: Any) -> bool:
        """``value in x``: whether some entry equals value (numpy's meaning; False for a value
        that is no number or array, such as None)."""
        equal = _no_gradient.compare("==", self, value)
        return equal is not NotImplemented and bool(equal._data.any())

    def __getitem__(self, index: Any) -> Tensor:
        return _shape.getitem(self, index)

    def __setitem__(self, index: Any, value: Any) -> None:
        """``x[index] = v``: x becomes a new version, recorded as a setitem node when a gradient
        is involved; the previous version keeps its place in the graph (see ``tinygraph.ops.setitem``)."""
        _setitem.setitem(self, index, value)

    def reshape(self, *shape: int | Sequence[int]) -> Tensor:
        """The same entries in a new shape (numpy rules, one -1 allowed)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _shape.reshape(self, shape)

    def transpose(self, *axes: int | Sequence[int] | None) -> Tensor:
        """Permute the axes: ``x.transpose(1, 0)`` or ``x.transpose((1, 0))``; reversed when none
        are given (or None), as in numpy."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])
        return _shape.transpose(self, axes or None)

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False,
            **torch_names: Any) -> Tensor:
        """Sum over ``axis`` (all axes by default)."""
        refuse_keywords("sum", torch_names, ("axis", "keepdims"))
        return _shape.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False,
             **torch_names: Any) -> Tensor:
        """Mean over ``axis`` (all axes by default)."""
        refuse_keywords("mean", torch_names, ("axis", "keepdims"))
        return _shape.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False,
            **torch_names: Any) -> Tensor:
        """The largest entry over ``axis`` (all axes by default); ties share the gradient evenly."""
        return _minmax.max(self, axis, keepdims, **torch_names)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False,
            **torch_names: Any) -> Tensor:
        """The smallest entry over ``axis`` (all axes by default); ties share the gradient evenly."""
        return _minmax.min(self, axis, keepdims, **torch_names)

    def argmax(self, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        """The index of the largest entry (flattened when axis is None): an int64 Tensor, no gradient."""
        return _no_gradient.argmax(self, axis, keepdims, **torch_names)

    def argmin(self, axis: int | None = None, keepdims: bool = False, **torch_names: Any) -> Tensor:
        """The index of the smallest entry (flattened when axis is None): an int64 Tensor, no gradient."""
        return _no_gradient.argmin(self, axis, keepdims, **torch_names)

    def clip(self, a_min: Any = None, a_max: Any = None, **torch_names: Any) -> Tensor:
        """The entries limited to [a_min, a_max] (numpy's clip); see :func:`tinygraph.clip`."""
        return _select.clip(self, a_min, a_max, **torch_names)

    def exp(self) -> Tensor:
        """Elementwise e^x (``tg.exp(x)``)."""
        return _apply(_elementwise.Exp(), (self,))

    def log(self) -> Tensor:
        """Elementwise natural logarithm (``tg.log(x)``)."""
        return _apply(_elementwise.Log(), (self,))

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent (``tg.tanh(x)``)."""
        return _apply(_elementwise.Tanh(), (self,))

    def sigmoid(self) -> Tensor:
        """Elementwise 1 / (1 + e^(−x)) (``tg.sigmoid(x)``)."""
        return _apply(_elementwise.Sigmoid(), (self,))

    def relu(self) -> Tensor:
        """Elementwise max(x, 0) (``tg.relu(x)``)."""
        return _apply(_elementwise.ReLU(), (self,))

    def abs(self) -> Tensor:
        """Elementwise |x| (``tg.abs(x)``, ``abs(x)``)."""
        return _apply(_elementwise.Abs(), (self,))

    def sqrt(self) -> Tensor:
        """Elementwise √x (``tg.sqrt(x)``)."""
        return _apply(_elementwise.Sqrt(), (self,))

    def __repr__(self) -> str:
        parts = [f"shape={self.shape}"]
        if self.name:
            parts.insert(0, f"name={self.name!r}")
        if self.producer is not None:
            parts.append(f"producer={self.producer.op.name}")
        if self.requires_grad:
            parts.append("requires_grad=True")
        if self._data.size <= 6:
            parts.append(f"data={np.array2string(self._data, precision=4, separator=', ')}")
        return f"Tensor({', '.join(parts)})"


def _one_entry(tensor: Tensor, who: str) -> np.ndarray:
    if tensor._data.size != 1:
        raise ShapeError(f"{who}: needs a tensor with one entry, but{_label(tensor.name)} has "
                         f"shape {tensor.shape}")
    return tensor._data


def _rebound(value: Any) -> np.ndarray:
    """A value assigned to ``.data``: an ndarray is taken as it is (a DataView as its plain
    array, sharing memory), anything else converted as the constructor does."""
    if isinstance(value, np.ndarray):
        array = value.view(np.ndarray)
        if array.dtype.kind not in NUMERIC_KINDS:
            raise DTypeError(_not_numeric(array.dtype))
        return array
    return as_array(value)


def describe(tensor: Tensor, with_shape: bool = False) -> str:
    """A tensor as every message writes it: ``tensor 'W'``, ``the output of tanh (t=3)`` or ``a
    tensor of shape (2, 3)``; ``with_shape`` adds ``, shape (2, 3)`` where it is not said."""
    if tensor.name:
        text = f"tensor {tensor.name!r}"
    elif tensor.producer is not None:
        text = f"the output of {tensor.producer.where()}"
    else:
        return f"a tensor of shape {tensor.shape}"
    return f"{text}, shape {tensor.shape}" if with_shape else text


def _label(name: str | None) -> str:
    return f" {name!r}" if name else ""


# PyTorch's spellings (x.view, x.dim(), ...) as properties that say what to write. Not a
# __getattr__ fallback: that would make every attribute access on a Tensor slower (Python could
# no longer specialise them), and a Tensor's attributes are the engine's hot path.
for _name, _hint in TENSOR_NAMES.items():
    setattr(Tensor, _name, refusing_property("x", _name, _hint))

# The one late import of the engine: Tensor's operators and methods dispatch to the ops, to the
# backward pass and to numpy's protocols, which need Tensor themselves, so they are imported
# once Tensor exists.
from tinygraph import backward as _backward  # noqa: E402
from tinygraph.node import apply as _apply  # noqa: E402
from tinygraph.ops import arith as _arith  # noqa: E402
from tinygraph.ops import elementwise as _elementwise  # noqa: E402
from tinygraph.ops import minmax as _minmax  # noqa: E402
from tinygraph.ops import no_gradient as _no_gradient  # noqa: E402
from tinygraph.ops import select as _select  # noqa: E402
from tinygraph.ops import setitem as _setitem  # noqa: E402
from tinygraph.ops import shape as _shape  # noqa: E402
from tinygraph.numpy_protocols import functions as _functions  # noqa: E402  isort: skip
from tinygraph.numpy_protocols import refusals as _refusals  # noqa: E402  isort: skip
from tinygraph.numpy_protocols import ufuncs as _ufuncs  # noqa: E402  isort: skip
