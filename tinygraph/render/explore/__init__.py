"""The explorer: ``tg.explore(loss)``, one interactive page of a backward pass (docs/explore.md).

Modules by job: graph (what is known about the pass), folds (which steps are drawn together),
pictures and edge_keys (the windows' SVG, every edge named), numbers (arrays for the page),
payload (tensor and node records), derivatives (an op's local derivative, from its docstring),
captions (the story's frames), flow (‖∂L/∂h_t^(l)‖ over layers and steps), page (the HTML and
its policy; the style and script are in assets/), explorer (``explore`` and ``Explorer``),
film (training as a film, for ``rnn.train(..., explore_every=N)``).
"""

from tinygraph.render.explore.explorer import Explorer, explore

__all__ = ["Explorer", "explore"]
