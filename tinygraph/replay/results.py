"""What a compiled function returns, and the gradients given back for it.

A function compiled by ``tg.compile`` returns a Tensor, or a tuple, list or dict of Tensors
(the loss first when it is called for forward and backward). A call hands back the same
structure with each Tensor a new leaf holding that call's values; ``Compiled.backward`` takes
gradients in the same structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygraph.errors import DTypeError, GraphStateError
from tinygraph.replay.arguments import flatten, rebuild
from tinygraph.tensor import Tensor


def output_tensors(result: Any, name: str) -> list[Tensor]:
    """The Tensors a function returned, in order (each once)."""
    values, key = flatten(result, "compile")
    if not values or not all(isinstance(v, Tensor) for v in values) or _has_static(key):
        raise DTypeError(
            f"compile: {name} must return a Tensor, or a tuple, list or dict of Tensors (a plan "
            f"replays Tensors only), got {_kind_of(result)}"
        )
    return values


def _has_static(key: Any) -> bool:
    stack = [key]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple):
            if item and item[0] == "static":
                return True
            stack.extend(item)
    return False


def _kind_of(result: Any) -> str:
    if isinstance(result, (tuple, list)):
        return f"a {type(result).__name__} of " + ", ".join(type(r).__name__ for r in result)
    return f"a {type(result).__name__}"


def check_loss(loss: Tensor, name: str) -> None:
    """Refuse a first result that is not a scalar float loss (a call back-propagates from it)."""
    if loss._data.size != 1 or loss._data.dtype.kind != "f":
        raise GraphStateError(
            f"compile: {name} returned a Tensor of shape {loss.shape} ({loss.dtype}) first; a "
            "compiled call back-propagates from it, so it must be a scalar float loss (use "
            "step.forward and step.backward for other outputs)"
        )


def returned(graph: Any, outputs: list[Tensor], values: Sequence[Any]) -> Any:
    """The function's result ``graph`` with each of its Tensors ``outputs`` replaced by a new
    leaf holding ``values`` (and the recorded tensor's name)."""
    if type(graph) is Tensor:  # the loss alone: the common case
        leaf = Tensor._from_op(values[0], False)
        leaf.name = graph.name
        return leaf
    leaves = []
    for tensor, value in zip(outputs, values):
        leaf = Tensor._from_op(value, False)
        leaf.name = tensor.name
        leaves.append(leaf)
    return rebuild(graph, leaves)


def seeds_like(graph: Any, outputs: list[Tensor], grads: Any) -> list[np.ndarray | None]:
    """One seed (or None) per output, read from ``grads``, which mirrors the result ``graph``
    (an array or None in place of each Tensor, or None for a whole part)."""
    seeds: dict[int, np.ndarray | None] = {}
    stack = [(graph, grads, "grads")]
    while stack:
        part, given, where = stack.pop()
        if isinstance(part, Tensor):
            if id(part) in seeds and given is not None:
                raise GraphStateError(f"compile: backward() got a second gradient ({where}) for a "
                                      "tensor the result holds twice; give it in its first place")
            seeds.setdefault(id(part), None if given is None else _seed_array(given, part, where))
            continue
        items = list(part.values() if isinstance(part, dict) else part)
        if given is None:
            stack += [(p, None, where) for p in reversed(items)]
            continue
        given_items = list(given.values() if isinstance(given, dict) else given)
        if len(given_items) != len(items):
            raise GraphStateError(f"compile: backward() got {len(given_items)} gradients in "
                                  f"{where} for {len(items)} parts of the result there")
        pairs = list(enumerate(zip(items, given_items)))
        stack += [(p, g, f"{where}[{i}]") for i, (p, g) in reversed(pairs)]
    return [seeds[id(t)] for t in outputs]


def _seed_array(grad: Any, output: Tensor, where: str) -> np.ndarray:
    seed = np.asarray(grad._data if isinstance(grad, Tensor) else grad)
    if seed.shape != output.shape:
        raise GraphStateError(f"compile: backward() got a gradient of shape {seed.shape} ({where}) "
                              f"for an output of shape {output.shape}")
    return seed.astype(output.dtype, copy=False)
