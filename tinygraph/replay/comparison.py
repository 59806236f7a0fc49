"""``check``: a replay against a plain call of the same function, bit for bit.

A plan repeats the Python of its recording; a plain call runs it again. Where the two differ
in any bit, in an output or a gradient, the function's Python depended on values the plan
cannot see, and the error says which output or gradient and by how much.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.errors import GraphStateError
from tinygraph.replay.plan import INPUT, Slot
from tinygraph.tensor import Tensor


def compare(where: str, outputs: list[Tensor], plain: list[Tensor], values: list[Any],
            slots: list[Slot], got: list[Any], expected: list[np.ndarray]) -> None:
    """Raise when the plain call's outputs or gradients (``plain``, ``expected``) and the
    replay's (``values``, ``got``, for the gradient ``slots``) differ in any bit. ``where``
    names the replay: "replay 3 of loss_fn ... (check=1)"."""
    if len(plain) != len(values):
        raise differs(where, f"the plain call returned {len(plain)} tensors, the plan {len(values)}")
    pairs = [(f"output {_label(t, j)}", p._data, v)
             for j, (t, p, v) in enumerate(zip(outputs, plain, values))]
    pairs += [(f"the gradient of {_slot_label(s)}", e, g) for s, e, g in zip(slots, expected, got)]
    for what, want, have in pairs:
        have = np.zeros_like(want) if have is None else have  # no gradient reached it
        if not same_bits(np.asarray(want), np.asarray(have)):
            raise differs(where, f"{what}: {_difference(want, have)}")


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    """The same shape, dtype and bytes (so -0.0 differs from 0.0, and NaN equals its copy)."""
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def differs(where: str, what: str) -> GraphStateError:
    """The error of a check that found a difference."""
    return GraphStateError(
        f"compile: {where} differs from a plain call: {what}. The function's Python depends on "
        "values the plan cannot see (an if on a value, .item(), a closure over data that "
        "changes, numpy on an input); call it without tg.compile"
    )


def _label(tensor: Tensor, j: int) -> str:
    return f"{j} ({tensor.name!r})" if tensor.name else str(j)


def _slot_label(slot: Slot) -> str:
    name = slot.tensor.name
    what = "input" if slot.kind == INPUT else "parameter"
    return f"{what} {name!r}" if name else f"a {what} of shape {slot.shape}"


def _difference(want: Any, have: Any) -> str:
    want, have = np.asarray(want), np.asarray(have)
    if want.shape != have.shape:
        return f"shape {have.shape} from the plan, {want.shape} from the plain call"
    gap = float(np.max(np.abs(want.astype(float) - have.astype(float)))) if want.size else 0.0
    return f"the plan's values differ from the plain call's by up to {gap:.3g}"
