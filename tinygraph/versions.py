"""Write stamps: noticing that an array an op saved was changed in place before its backward ran.

An op's backward reads the arrays its forward saw (``Mul`` reads both inputs, ``Tanh`` its
output). Writing into one of them between the forward and the backward pass
(``b.data[:] = 100``, ``h.data += 1``) would silently change the gradient, so the engine
notices it, as PyTorch does with version counters:

* One clock numbers both events: recording a node (its ``id``) and writing into a tensor's data.
* ``tensor.data`` hands out a :class:`DataView` of the tensor's array. Writing through it
  (``view[...] = v``, ``view += v`` and the other augmented assignments, ``fill``, ``put``,
  ``sort``, ``partition``) stamps the tensor's :class:`WriteStamp` with the clock's next value.
* A backward pass checks, for each node, every saved array that is still its tensor's array:
  stamped after the node was recorded means changed since the forward pass used it, and the
  pass raises a GraphStateError naming the tensor, the op and its scope.

The check costs nothing while nobody writes: the pass compares the clock's last write with its
oldest node once. Not noticed (documented): writes into the original numpy array a tensor was
made from before the engine copied it, ``np.copyto`` / ufuncs with ``out=`` into ``.data``, and
writes through a view derived from ``.data`` (``v = x.data[0:2]; v[:] = 1``); ``x.data[0:2] = 1``
and ``x.data[0:2] += 1`` are noticed.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

clock = itertools.count()  # node ids and write stamps: next(clock), one clock, one order
last_write = -1  # the stamp of the most recent write through any DataView


class WriteStamp:
    """When the array of a tensor (and of the tensors that share it, e.g. ``detach()``) was last
    written in place: a value of the clock, −1 for never."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = -1


def stamp(cell: WriteStamp | None) -> None:
    """Record a write now."""
    global last_write
    last_write = next(clock)
    if cell is not None:
        cell.last = last_write


def _stamping(name: str) -> Any:
    method = getattr(np.ndarray, name)

    def write(self: DataView, *args: Any, **kwargs: Any) -> Any:
        stamp(getattr(self, "_stamp", None))
        return method(self, *args, **kwargs)

    write.__name__ = name
    write.__doc__ = f"ndarray.{name}, stamped as a write into the tensor's data."
    return write


class DataView(np.ndarray):
    """``tensor.data``: the tensor's array, with every in-place write stamped.

    It is an ndarray in every other way (its repr is an array's); results computed from it are
    new arrays and carry no stamp.
    """

    __slots__ = ("_stamp",)

    def __repr__(self) -> str:
        return repr(self.view(np.ndarray))

    def __reduce__(self) -> Any:  # pickles and copies as a plain ndarray
        return self.view(np.ndarray).__reduce__()


for _name in ("__setitem__", "__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__",
              "__imod__", "__ipow__", "__imatmul__", "__iand__", "__ior__", "__ixor__",
              "__ilshift__", "__irshift__", "fill", "put", "sort", "partition"):
    setattr(DataView, _name, _stamping(_name))


def view_of(array: np.ndarray, cell: WriteStamp) -> DataView:
    """``array`` as a DataView that stamps ``cell`` on every write."""
    view = array.view(DataView)
    view._stamp = cell
    return view
