"""Training as a film: one explorer page whose second slider runs over training updates.

``Film.record(loss, trace, update)`` keeps, for each update it is given, the loss, the norm
of the parameters' gradient ‖∇θ‖ = √(Σ_p ‖∂L/∂p‖²) before clipping, the gradient flow
‖∂L/∂h_t^(l)‖ and the norm of every gradient arrow of the picture. The picture and the
numbers of the panels are those of the first update recorded (its graph is drawn once); the
slider shades the arrows by their norm at the chosen update (when its graph has the same
shape), redraws the flow and says what clipping did. ``rnn.train(..., explore_every=N,
explore_path=...)`` records every N-th update and writes the page at the end.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from tinygraph.errors import GraphStateError
from tinygraph.performance import pause_gc
from tinygraph.render.explore.explorer import Explorer, explore_data, html_path
from tinygraph.render.explore.flow import gradient_flow
from tinygraph.render.explore.graph import ExploredGraph, explored_graph
from tinygraph.render.explore.numbers import number
from tinygraph.render.explore.page import page_html
from tinygraph.render.drawing import check_output_path
from tinygraph.tensor import Tensor
from tinygraph.trace import Trace


def arrow_norms(graph: ExploredGraph) -> tuple[list[str], list[float | str | None]]:
    """The key of every gradient arrow (the seed ``gout``, a reader's part ``g…``, a Σ's sum
    ``T…``) and its norm, in a fixed order: the same for two graphs of the same shape."""
    view = graph.view
    keys, norms = ["gout"], [_norm(view.total_grad(view.output))]
    for number_, tensor in enumerate(view.tensors):
        readers = view.readers.get(id(tensor), [])
        for reader, index in readers:
            keys.append(f"g{number_}_{view.number(reader)}_{index}")
            norms.append(_norm(view.contribution(tensor, reader, index)))
        if len(readers) >= 2 and tensor.producer is not None:
            keys.append(f"T{number_}")
            norms.append(_norm(view.total_grad(tensor)))
    return keys, norms


def _norm(array: Any) -> float | str | None:
    return None if array is None else number(float(np.linalg.norm(array)))


def _shape(graph: ExploredGraph) -> tuple[Any, ...]:
    view = graph.view
    return (len(view.tensors), tuple(n.op.name for n in view.nodes))


class Film:
    """The updates of a training run, recorded for one explorer page.

    Args:
        path: the file :meth:`write` writes (".html" added when it has no suffix), checked
            now, before any training (RenderError when no file can be written there).
        clip_norm: the clipping threshold of the run (None: no clipping), drawn on the chart.
        title: the page's heading.
        timeout: seconds Graphviz may take for each window of the picture.
    """

    def __init__(self, path: str | os.PathLike, *, clip_norm: float | None = None,
                 title: str | None = None, timeout: float = 60.0) -> None:
        self.path = check_output_path(html_path(path))
        self.clip_norm = clip_norm
        self.title = title
        self.timeout = timeout
        self.updates: list[dict[str, Any]] = []
        self._base: tuple[dict[str, Any], list[str], list[str], tuple[Any, ...]] | None = None

    def record(self, loss: Tensor, trace: Trace, update: int, grad_norm: float | None = None) -> None:
        """Keep update number ``update``: its loss, ‖∇θ‖ (``grad_norm``, else from the
        trace's leaf gradients), its gradient flow and arrow norms. The first update recorded
        is drawn now, while its graph is alive."""
        with pause_gc():
            graph = explored_graph(loss, trace, "Film.record")
            if self._base is None:
                data, pictures = explore_data(graph, self.timeout, None, self.title)
                keys, norms = arrow_norms(graph)
                self._base = (data, pictures, keys, _shape(graph))
                flow = data["flow"]
            else:
                norms = arrow_norms(graph)[1] if _shape(graph) == self._base[3] else None
                flow = gradient_flow(graph)
            if grad_norm is None:
                grad_norm = float(np.sqrt(sum(float(np.sum(np.square(g)))
                                              for g in trace.grads.values())))
            self.updates.append({"u": int(update), "loss": number(float(loss.item())),
                                 "norm": number(float(grad_norm)), "flow": flow, "norms": norms})

    def page(self) -> Explorer:
        """The explorer page of the first update, with the film of every update recorded."""
        if self._base is None:
            raise GraphStateError("Film.page: no update was recorded (call record first)")
        data, pictures, keys, _ = self._base
        count = len(self.updates)
        title = self.title or f"Training: {count} update{'s' if count != 1 else ''} recorded"
        film = {"clip": self.clip_norm, "keys": keys, "updates": self.updates}
        page_data = {**data, "title": title, "film": film}
        return Explorer(page_html(title, page_data, pictures), None, len(data["frames"]))

    def write(self) -> Path:
        """Write :meth:`page` to the film's path and return it."""
        return self.page().save(self.path)
