"""``stepthrough``: the explorer (:func:`tinygraph.explore`) opened on the story of the
backward pass, one frame per step of ``tg.trace_backward``: the first one shown, play, the
slider and the arrow keys move on. Kept for its name; ``tg.explore(loss, path, frame=0)``
writes the same page.
"""

from __future__ import annotations

import os
from pathlib import Path

from tinygraph.render.explore.explorer import explore_page, html_path
from tinygraph.tensor import Tensor
from tinygraph.trace import Trace


def stepthrough_html(out: Tensor, *, trace: Trace | None = None, title: str | None = None,
                     timeout: float = 60.0, max_steps: int | None = 8,
                     max_nodes: int | None = 6000) -> str:
    """The explorer page of ``out`` opened on the first step of its backward pass, as a string
    (the arguments are :func:`tinygraph.explore`'s; errors name ``stepthrough``)."""
    return explore_page(out, None, "stepthrough", trace=trace, title=title, max_steps=max_steps,
                        frame=0, timeout=timeout, max_nodes=max_nodes).html


def stepthrough(out: Tensor, path: str | os.PathLike, *, trace: Trace | None = None,
                title: str | None = None, timeout: float = 60.0, max_steps: int | None = 8,
                max_nodes: int | None = 6000) -> Path:
    """Write :func:`stepthrough_html` to ``path`` (".html" added if absent) and return the path."""
    page = explore_page(out, html_path(path), "stepthrough", trace=trace, title=title,
                        max_steps=max_steps, frame=0, timeout=timeout, max_nodes=max_nodes)
    return page.path
