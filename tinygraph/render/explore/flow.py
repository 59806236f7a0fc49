"""Gradient flow at a glance: ‖∂L/∂h_t^(l)‖ for every carried state, over (layer, t).

A *state* is what a recurrence carries: a tensor made at one step in a layer's band and read
at another step (h; an LSTM's h and c). Every tensor of the same band with the same name (the
op's label when unnamed) is that state at its own step, the last step's included, so the
grid has one row per (band, state) and one column per step; a cell holds the norm of the
state's whole gradient (every reader's part added) and the tensor's number, which the page
uses to select its edge in the picture.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygraph.render.bands import TOP, band_key
from tinygraph.render.explore.graph import ExploredGraph, runs_json
from tinygraph.render.explore.numbers import number
from tinygraph.render.names import band_mark, symbol_runs
from tinygraph.render.scene import step_gap
from tinygraph.tensor import Tensor


def _role(graph: ExploredGraph, tensor: Tensor) -> tuple[Any, str] | None:
    producer = tensor.producer
    if producer is None or graph.column(producer) is None or id(producer) in graph.sums:
        return None
    band = graph.bands.of.get(id(producer))
    if band in (None, TOP):
        return None
    return band, tensor.name or producer.op.name


def gradient_flow(graph: ExploredGraph) -> dict[str, Any]:
    """``rows`` (label runs, top band first), ``cells`` (per row, per step: ``[norm,
    tensor]`` or None) and ``times`` (the step labels)."""
    view = graph.view
    carried = set()
    for tensor in view.tensors:
        role = _role(graph, tensor)
        if role is not None and any(step_gap(tensor.producer, r) != 0
                                    for r, _ in view.readers.get(id(tensor), ())):
            carried.add(role)
    rows = sorted(carried, key=lambda role: (band_key(role[0]), role[1]), reverse=True)
    index = {role: k for k, role in enumerate(rows)}
    cells: list[list[Any]] = [[None] * graph.count for _ in rows]
    for tensor in view.tensors:
        role = _role(graph, tensor)
        if role not in index:
            continue
        grad = view.total_grad(tensor)
        norm = number(float(np.linalg.norm(grad))) if grad is not None else None
        cells[index[role]][graph.column(tensor.producer)] = [norm, view.tensor_number(tensor)]
    mark = graph.bands.layered
    labels = [runs_json(symbol_runs(name, None, band_mark(band) if mark else None))
              for band, name in rows]
    return {"rows": labels, "layers": [graph.bands.label(band) for band, _ in rows],
            "cells": cells, "times": [str(t) for t in graph.steps.times]}
