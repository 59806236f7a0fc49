"""Pictures of the graph: ``to_dot`` (DOT text), ``draw`` (graphviz.Digraph), ``render`` (file).

See docs/rendering.md. Modules: graph_view (what is drawn), layout (where), dot_writer and
rolled (the DOT text), legend and style (how it looks), formats (which file, which format),
drawing (entry points, Graphviz runner).
"""

from tinygraph.render.drawing import draw, picture_size, render, to_dot
from tinygraph.render.formats import FORMATS, output_format
from tinygraph.render.graphviz_run import graphviz_missing
from tinygraph.render.options import Options

MAX_NODES: int = Options.max_nodes or 0  # to_dot's default limit on the boxes of one picture

__all__ = ["FORMATS", "MAX_NODES", "draw", "graphviz_missing", "output_format", "picture_size",
           "render", "to_dot"]
