"""``gradcheck``: compare the engine's gradient of a function with central differences.

Full mode compares every entry: ∂f/∂x_j from ``tg.grad`` against
(f(x + h e_j) − f(x − h e_j)) / 2h, at 2 · (number of entries) evaluations of f.
Directional mode draws k random directions v per input (seeded, entries ~ N(0, 1) so each
entry moves by about h as in full mode) and compares ⟨∇f, v⟩ with
(f(x + h v) − f(x − h v)) / 2h: 2k evaluations per input, whatever its size.
Mode "jvp-vjp" needs no finite differences at all: it is the dot-product test of the two
modes of differentiation on f's one graph, ⟨u, J v⟩ by forward mode (``tg.jvp``'s walk) against
⟨Jᵀ u, v⟩ by reverse mode (``tg.grad``), for u = 1 (f is a scalar) and k random v per input.
Both sides are exact, so they agree to rounding (about 1e-15 relative); any larger gap means
that some op's jvp or backward is wrong, and the localisation names which op.

The report says, per input, how large the disagreement is, where it is worst and with which
values, so a wrong gradient is found, not just detected.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from tinygraph.backward import grad as engine_grad
from tinygraph.errors import GraphStateError, TinygraphError, add_note
from tinygraph.forward import propagate_tangents
from tinygraph.check.nodes import MODES, gradcheck_nodes
from tinygraph.check.compare import Comparison, compare, compare_directional, raise_if_failed
from tinygraph.check.report import GradcheckReport
from tinygraph.check.numerical import (
    ScalarFunction,
    check_callable,
    check_settings,
    check_float_tensor,
    directional_derivative,
    evaluate,
    float64_workspace,
    gradient_of_entries,
    scalar_value,
)
from tinygraph.scope import enable_grad, no_grad
from tinygraph.tensor import Tensor, describe

def gradcheck(
    f: ScalarFunction,
    inputs: Sequence[Tensor],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    mode: str = "full",
    raise_on_fail: bool = False,
    *,
    directions: int = 3,
    seed: int = 0,
    localise: bool = True,
) -> GradcheckReport:
    """Check ∂f/∂x from the engine against central differences for every input x.

    Args:
        f: a zero-argument function that recomputes the scalar loss from ``inputs`` and returns
            it as a Tensor, e.g. ``lambda: loss_fn()``.
        inputs: float Tensors with ``requires_grad=True``; their ``.data`` is perturbed in
            place and restored exactly, also when ``f`` raises. A non-float64 input gets a
            warning and is checked through a float64 copy.
        eps: the step h of the central differences.
        atol, rtol: an entry passes when |analytic − numerical| ≤ atol + rtol · |numerical|.
        mode: ``"full"`` (every entry), ``"directional"`` (``directions`` random
            directions per input, cost independent of the input's size) or ``"jvp-vjp"``
            (forward mode against reverse mode along ``directions`` random directions per
            input; ``eps`` is then used only to tell, on a failure, which node's rule is off).
            Its two sides agree to rounding, so tolerances such as atol=rtol=1e-10 may be used.
        raise_on_fail: raise ``NumericsError`` carrying the report's table when a check fails.
        directions: k, the number of directions per input in directional mode.
        seed: seeds the random directions.
        localise: when the check fails, rebuild f's graph once and run ``gradcheck_nodes`` on
            it (same mode and tolerances) to name the first node whose backward is wrong.

    Returns:
        A :class:`GradcheckReport`: ``.ok``, one row per input, ``print(report)`` for a table.
        The analytic gradient comes from ``tg.grad``, so the inputs' ``.grad`` is untouched.
    """
    check_callable(f, "gradcheck")
    inputs = _checked_inputs(inputs)
    check_settings("gradcheck", eps, atol, rtol, mode, directions, MODES)
    _warn_if_not_float64(inputs)
    with float64_workspace(inputs) as works:
        with enable_grad():
            out = f()
        value = scalar_value(out, "gradcheck", allow_number=False)
        notes = _determinism_notes(f, out, value)
        if not np.isfinite(value):
            notes.append(f"note: f itself is {value} at the given inputs, so every derivative "
                         "is meaningless there")

        def value_of_f() -> float:
            return evaluate(f, "gradcheck", allow_number=False)

        if out.requires_grad:
            analytic = engine_grad(out, inputs)
        else:
            analytic = [np.zeros(x.shape) for x in inputs]
            notes.append("note: f's result does not require grad, so its analytic gradient is "
                         "zero: was it computed under tg.no_grad() or from .data arrays?")
        if mode == "full":
            rows = _full_rows(value_of_f, inputs, works, analytic, eps, atol, rtol)
        elif mode == "directional":
            rows = _directional_rows(value_of_f, inputs, works, analytic, eps, atol, rtol,
                                     directions, seed)
        else:
            rows = _dot_product_rows(out, inputs, analytic, atol, rtol, directions, seed)
        unused = [row.label for row, g in zip(rows, analytic)
                  if row.ok and not np.any(g) and row.numerical == 0.0]
        if unused:
            notes.append(f"note: f does not depend on {', '.join(unused)} here (both gradients "
                         "are 0 everywhere): is that input really used, and returned through f?")
        culprit = None
        if localise and not all(row.ok for row in rows) and out.requires_grad:
            culprit, note = _localise(f, eps, atol, rtol, mode, directions, seed)
            notes.append(note)
    report = GradcheckReport(tuple(rows), mode, eps, atol, rtol, value, tuple(notes), culprit)
    if raise_on_fail:
        raise_if_failed(report)
    return report


def _full_rows(value_of_f: Any, inputs: list[Tensor], works: list[np.ndarray],
               analytic: list[np.ndarray], eps: float, atol: float,
               rtol: float) -> list[Comparison]:
    rows = []
    for i, (x, work, a) in enumerate(zip(inputs, works, analytic)):
        try:
            numerical = gradient_of_entries(value_of_f, work, eps)
        except Exception as exc:
            add_note(exc, f"gradcheck: raised by f while input {i} ({describe(x, with_shape=True)}) "
                         "was perturbed; every input has been restored")
            raise
        rows.append(compare(_label(x, i), x.shape, a, numerical, atol, rtol))
    return rows


def _directional_rows(value_of_f: Any, inputs: list[Tensor], works: list[np.ndarray],
                      analytic: list[np.ndarray], eps: float, atol: float, rtol: float,
                      directions: int, seed: int) -> list[Comparison]:
    rng = np.random.default_rng(seed)
    rows = []
    for i, (x, work, a) in enumerate(zip(inputs, works, analytic)):
        vs = [rng.standard_normal(x.shape) for _ in range(directions)]
        try:
            rows.append(compare_directional(
                _label(x, i), x.shape, a,
                lambda v, work=work: directional_derivative(value_of_f, [work], [v], eps),
                vs, atol, rtol))
        except Exception as exc:
            add_note(exc, f"gradcheck: raised by f while input {i} ({describe(x, with_shape=True)}) "
                         "was moved along a random direction; every input has been restored")
            raise
    return rows


def _dot_product_rows(out: Tensor, inputs: list[Tensor], analytic: list[np.ndarray], atol: float,
                      rtol: float, directions: int, seed: int) -> list[Comparison]:
    """Per input x_i: ⟨∇_i f, v⟩ (reverse) against ∂f/∂x_i · v (forward) for k random v, one
    batched forward-mode walk of f's graph per input."""
    rng = np.random.default_rng(seed)
    rows = []
    for i, (x, a) in enumerate(zip(inputs, analytic)):
        vs = rng.standard_normal((directions, *x.shape))
        reverse = np.array([np.vdot(a, v) for v in vs])
        moved = propagate_tangents(out, {x: vs}) if out.requires_grad else None
        forward = np.zeros(directions) if moved is None else moved.reshape(directions)
        rows.append(compare(_label(x, i), x.shape, reverse, forward, atol, rtol,
                            by_direction=True))
    return rows


def _localise(f: ScalarFunction, eps: float, atol: float, rtol: float, mode: str,
              directions: int, seed: int) -> tuple[str | None, str]:
    """Name the first node of f's graph whose backward (or, in mode "jvp-vjp", backward or
    jvp) disagrees with its own forward."""
    with enable_grad():
        out = f()
    try:
        nodes = gradcheck_nodes(out, eps, atol, rtol, mode, directions=directions, seed=seed)
    except TinygraphError as exc:
        return None, f"localisation: could not check f's nodes one by one: {exc}"
    node = nodes.first_failing_node
    if node is None:
        return None, ("localisation: every node's backward agrees with its own forward, so the "
                      "mismatch comes from outside the graph (does f read .data or numpy "
                      "arrays directly, or depend on randomness?)")
    rules = "jvp and backward disagree" if mode == "jvp-vjp" else "backward disagrees"
    note = nodes.first_failure.comparison.note
    why = f" ({note})" if note and mode == "jvp-vjp" else ""
    return node.where(), (f"localisation: first node whose {rules}: {node.where()}{why} "
                          "(tg.gradcheck_nodes on f's graph gives the per-node table)")


def _label(x: Tensor, i: int) -> str:
    return x.name if x.name else f"input {i}"


def _checked_inputs(inputs: Any) -> list[Tensor]:
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    try:
        inputs = list(inputs)
    except TypeError:
        raise GraphStateError(
            f"gradcheck: inputs must be a list of Tensors, got a {type(inputs).__name__}"
        ) from None
    if not inputs:
        raise GraphStateError("gradcheck: no inputs to check; pass the Tensors f depends on")
    for i, x in enumerate(inputs):
        check_float_tensor(x, "gradcheck", f"input {i}")
        if not x.requires_grad:
            raise GraphStateError(
                f"gradcheck: input {i} ({describe(x, with_shape=True)}) does not require grad; create it "
                "with requires_grad=True"
            )
        if x.producer is not None:
            raise GraphStateError(
                f"gradcheck: input {i} ({describe(x, with_shape=True)}) is the output of "
                f"{x.producer.where()}, not a leaf; f must recompute everything from leaves"
            )
    return inputs


def _warn_if_not_float64(inputs: list[Tensor]) -> None:
    for i, x in enumerate(inputs):
        if x.dtype != np.float64:
            warnings.warn(
                f"gradcheck: input {i} ({describe(x, with_shape=True)}) is {x.dtype}; central "
                "differences need float64, so the check runs on a float64 copy of it (your "
                "array is left as it is)",
                RuntimeWarning,
                stacklevel=3,
            )


def _determinism_notes(f: ScalarFunction, out: Tensor, value: float) -> list[str]:
    """Refuse a stale result and flag a function that is not deterministic."""
    with no_grad():
        again = f()
    if again is out:
        raise GraphStateError(
            "gradcheck: f returned the same Tensor object twice; it must recompute the loss "
            "from the inputs on every call (write lambda: loss_fn(), not lambda: loss)"
        )
    second = scalar_value(again, "gradcheck", allow_number=False)
    if second != value and not (np.isnan(second) and np.isnan(value)):
        return [f"note: f is not deterministic (two calls gave {value!r} and {second!r}); "
                "numerical derivatives of it are meaningless (fix seeds, disable dropout)"]
    return []
