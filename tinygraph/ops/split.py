"""split: cut a tensor into pieces along an axis (numpy.split), each piece a recorded slice.

split adds no op of its own: piece i is ``x[..., a_i:b_i]`` along the axis, one getitem node
reading x. In the graph x is then a junction of the pieces, and its gradient is the pieces'
gradients side by side (zeros where a piece was not used): dx[a_i:b_i] = dpiece_i.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Any

import numpy as np

from tinygraph.errors import ShapeError
from tinygraph.ops.no_gradient import located
from tinygraph.ops.shape import check_ints, getitem
from tinygraph.spellings import refuse_keywords
from tinygraph.tensor import Tensor


def split(x: Any, sections: int | Sequence[int], axis: int = 0, **torch_names: Any) -> list[Tensor]:
    """Pieces of x along ``axis``, as numpy.split: ``sections`` = n cuts it into n equal pieces
    (the axis length must divide by n); a list of indices [i_1, ..., i_k] gives the k + 1
    pieces x[:i_1], x[i_1:i_2], ..., x[i_k:] along the axis (numpy's slicing rules).

    Each piece is a getitem node reading x, so the gradient of every piece flows back to x.
    (PyTorch's torch.split(x, 2) means pieces of size 2; here 2 means two pieces.)
    """
    refuse_keywords("split", torch_names, ("axis",))
    tensor = x if isinstance(x, Tensor) else Tensor(x)
    axis = _axis(tensor, axis)
    length = tensor.shape[axis]
    bounds = [0, *_cuts(sections, length, axis, tensor.shape), length]
    lead = (slice(None),) * axis
    return [getitem(tensor, (*lead, slice(start, stop))) for start, stop in pairwise(bounds)]


def _axis(x: Tensor, axis: Any) -> int:
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise ShapeError(f"{located('split')}: axis must be one integer, got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ShapeError(f"{located('split')}: axis {axis} is out of range for an input of shape "
                         f"{x.shape}")
    return int(axis) % x.ndim


def _cuts(sections: Any, length: int, axis: int, shape: tuple[int, ...]) -> list[int]:
    """The inner cut points: n − 1 equal steps for an int n, else the given indices."""
    if isinstance(sections, (int, np.integer)) and not isinstance(sections, bool):
        count = int(sections)
        if count <= 0:
            raise ShapeError(f"{located('split')}: the number of sections must be positive, got "
                             f"{count}")
        if length % count:
            raise ShapeError(
                f"{located('split')}: {count} equal sections do not divide axis {axis} of length "
                f"{length} (shape {shape}); give a list of indices for unequal pieces"
            )
        step = length // count
        return [step * i for i in range(1, count)]
    if isinstance(sections, np.ndarray):
        sections = sections.tolist()
    if not isinstance(sections, (list, tuple)):
        raise ShapeError(f"{located('split')}: sections must be an int or a list of indices, got "
                         f"{type(sections).__name__}")
    try:
        return list(check_ints(sections, "split indices"))
    except ShapeError as error:
        raise ShapeError(f"{located('split')}: {error}") from None
