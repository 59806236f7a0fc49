"""Pictures of the graph: ``to_dot`` (DOT text), ``draw`` (graphviz.Digraph), ``render`` (file).

See docs/rendering.md. Modules: graph_view (what is drawn), layout (where), dot_writer and
rolled (the DOT text), legend and style (how it looks), formats (which file, which format),
drawing (entry points, Graphviz runner).
"""

from tinygraph.render.drawing import draw, render, to_dot
from tinygraph.render.formats import FORMATS, output_format

__all__ = ["FORMATS", "draw", "output_format", "render", "to_dot"]
