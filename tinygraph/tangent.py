"""Tangents: the helpers every op's ``jvp`` rule shares (forward mode's side of broadcasting).

A tangent ẋ of an input x holds K directions at once: shape (K, *x.shape), the leading axis
numbering the directions. A rule computes ẏ = Σ_i ∂y/∂x_i · ẋ_i for all K in one numpy call.

Broadcasting goes the other way round from backward. Where the forward broadcast b (H,)
against a (B, H), the backward sums b's gradient over the broadcast axes
(``tinygraph.broadcast.sum_to``); the forward mode instead broadcasts b's tangent (K, H) up to
y's shape. With the K axis in front, numpy would align (K, H) with the trailing axes of
(B, H) (K against B), so :func:`lift` first puts axes of size 1 right after K: (K, 1, H).
Then ẋ times any y-shaped (or x-shaped) factor broadcasts as the forward did.

None stands for a zero tangent (an input that does not move): :func:`scaled` and
:func:`total` skip it, so a constant operand costs nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def lift(tangent: np.ndarray, ndim: int) -> np.ndarray:
    """ẋ (K, *s) as (K, 1, ..., 1, *s) with 1 + ndim axes, so it broadcasts like x against
    an output of ``ndim`` axes (unchanged when it has that many already)."""
    missing = ndim + 1 - tangent.ndim
    if missing <= 0:
        return tangent
    return tangent.reshape(tangent.shape[:1] + (1,) * missing + tangent.shape[1:])


def scaled(tangent: np.ndarray | None, factor: np.ndarray | float, ndim: int) -> np.ndarray | None:
    """factor · ẋ broadcast to an output of ``ndim`` axes (None for a zero tangent)."""
    if tangent is None:
        return None
    return lift(tangent, ndim) * factor


def total(*terms: np.ndarray | None) -> np.ndarray | None:
    """The sum of the terms that are not None (None when every term is)."""
    present = [t for t in terms if t is not None]
    if not present:
        return None
    result = present[0]
    for term in present[1:]:
        result = result + term
    return result


def batch_axis(axis: int) -> int:
    """Where axis ``axis`` of x sits in the tangent (K, *x.shape): one further right, except
    that a negative axis, counted from the end, stays where it is."""
    return axis + 1 if axis >= 0 else axis


def filled(tangents: tuple[np.ndarray | None, ...], arrays: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Every tangent as an array: a None (zero) tangent as zeros (K, *x.shape) of its input,
    for the rules that lay their inputs side by side (concat, stack)."""
    first = next(t for t in tangents if t is not None)
    return [np.zeros((first.shape[0], *x.shape), dtype=first.dtype) if t is None else t
            for t, x in zip(tangents, arrays)]


def take(tangent: np.ndarray, index: tuple, shape: tuple[int, ...], basic: bool) -> np.ndarray:
    """ẏ = ẋ[index] for every direction, y = x[index].

    A basic index (ints, slices, None, Ellipsis) is applied after a full slice over K. An
    advanced one (arrays, lists, masks) is read through the map m = arange(x.size) laid out
    in x's shape and indexed like x: y's entry j is x's flat entry m_j, so ẏ = ẋ.flat[:, m].
    (Putting ``:`` in front of an advanced index would move the K axis when the index arrays
    are not next to each other.)
    """
    if basic:
        return tangent[(slice(None), *index)]
    return tangent.reshape(tangent.shape[0], -1)[:, flat_positions(shape, index)]


def flat_positions(shape: tuple[int, ...], index: Any) -> np.ndarray:
    """The flat positions ``index`` selects in an array of ``shape``: arange(size) laid out
    in ``shape``, indexed."""
    return np.arange(int(np.prod(shape)), dtype=np.intp).reshape(shape)[index]
