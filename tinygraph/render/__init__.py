"""Pictures of the graph: ``to_dot`` (DOT text), ``draw`` (graphviz.Digraph), ``render`` (file).

See docs/rendering.md. What is drawn: graph_view (one walk of the graph), steps (columns and
the fold), bands (layers, tagged or found from the recurrences), time_sum (Σ_t as one box),
names and labels (what things are called). Where: block_arrangement (one step of one layer),
layout and leaves (every box), routing (edges around boxes), placement (labels beside their
edge), geometry. The text: scene (which edges), dot_writer and rolled (the DOT), legend and
style. Files: formats, graphviz_run, drawing (the entry points); stepthrough
(``tg.stepthrough``: the explorer opened on the first frame of the backward pass); the
explore package (``tg.explore``: the interactive page; ``Film``: training as a film) and
html_table (notebook tables).
"""

from tinygraph.render.drawing import draw, picture_size, render, to_dot
from tinygraph.render.explore import Explorer, explore
from tinygraph.render.explore.film import Film
from tinygraph.render.formats import FORMATS, output_format
from tinygraph.render.graphviz_run import graphviz_missing
from tinygraph.render.options import Options

MAX_NODES: int = Options.max_nodes or 0  # to_dot's default limit on the boxes of one picture

__all__ = ["FORMATS", "MAX_NODES", "Explorer", "Film", "draw", "explore", "graphviz_missing",
           "output_format", "picture_size", "render", "to_dot"]
