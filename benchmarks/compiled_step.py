"""The tinygraph step through ``tg.compile``, and where a replay's time goes.

``CompiledModel`` is the hoisted model (``rnn.RNN(..., hoist_inputs=True)``, what to build
for a compiled training step) with its loss as a function of (X, targets), compiled: the
first call records the graph, the second writes the plan's code, every later call replays.

``replay_parts`` splits a replay's time in three: the call itself (the signature, the
inputs, the returned leaf), the written code without the ops (its lines, the junction sums,
the ``.grad`` updates: measured by running the same code with every op's forward and backward
replaced by a function that returns its last result), and the ops' own forward and backward
(the rest). The middle part is the floor of the plan: what a no-op plan step costs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygraph as tg


class CompiledModel:
    """The hoisted tinygraph model's training step, compiled (see the module docstring)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.step = tg.compile(self.loss)

    def loss(self, X: Any, targets: Any) -> tg.Tensor:
        """The hoisted model's loss, its data as arguments (the plan's inputs)."""
        hs, _ = self.model.net(X)
        B, T = self.model.Y.shape
        every_step = tg.stack(hs, axis=0).reshape(T * B, -1)
        return tg.cross_entropy(self.model.readout(every_step), targets)

    def __call__(self) -> tuple[float, list[np.ndarray]]:
        tensors = self.model.tensors
        for tensor in tensors:
            tensor.grad = None
        with tg.pause_gc():
            loss = self.step(self.model.X, self.model.targets)
        return loss.item(), [t.grad for t in tensors]


def replay_parts(compiled: CompiledModel, repeats: int) -> dict[str, float]:
    """Best times (s), interleaved, of a whole replay, of the written code, and of the written
    code with no-op ops; the call, the plan's own lines and the ops are the differences."""
    record = compiled.step._last
    code = record.code
    if code is None or code.source is None:
        return {}
    arrays = [np.array(compiled.model.X), np.array(compiled.model.targets)]
    seeds, targets = [np.ones(*record.seed)], [None, None]
    tensors = compiled.model.tensors

    def written() -> None:
        for tensor in tensors:
            tensor.grad = None
        code.forward(arrays)
        code.backward(seeds, targets)

    noop = _no_op_ops(code, written)

    def floor() -> None:
        for tensor in tensors:
            tensor.grad = None
        noop["forward"](arrays)
        noop["backward"](seeds, targets)

    runs = {"replay": compiled, "written": written, "floor": floor}
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):  # interleaved: the machine's load affects the three alike
        for name, run in runs.items():
            best[name] = min(best[name], _timed(run))
    return {"call": best["replay"] - best["written"], "plan": best["floor"],
            "ops": best["written"] - best["floor"], "total": best["replay"]}


def _no_op_ops(code: Any, run: Callable[[], None]) -> dict[str, Any]:
    """The written code again, each op's forward (F) and backward (B) replaced by a function
    returning what it returned in one real run."""
    names = dict(code.forward.__globals__)
    results: dict[str, Any] = {}
    for key, fn in list(names.items()):
        if re.fullmatch(r"[FB]\d+", key):
            names[key] = _recording(fn, key, results)
    exec(compile(code.source, "<no-op plan>", "exec"), names)  # the real code, recording
    spy = dict(names)
    forward, backward = code.forward, code.backward
    code.forward, code.backward = spy["forward"], spy["backward"]
    try:
        run()
    finally:
        code.forward, code.backward = forward, backward
    for key in results:
        names[key] = (lambda value: lambda *args: value)(results[key])
    exec(compile(code.source, "<no-op plan>", "exec"), names)
    return names


def _recording(fn: Callable[..., Any], key: str, results: dict[str, Any]) -> Callable[..., Any]:
    def run(*args: Any) -> Any:
        results[key] = out = fn(*args)
        return out

    return run


def _timed(run: Callable[[], Any]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start
