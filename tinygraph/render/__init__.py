"""Pictures of the graph: ``to_dot`` (DOT text), ``draw`` (graphviz.Digraph), ``render`` (file).

See docs/rendering.md. Modules: graph_view (what is drawn), layout (where), dot_writer and
rolled (the DOT text), legend and style (how it looks), drawing (entry points, Graphviz runner).
"""

from tinygraph.render.drawing import draw, render, to_dot

__all__ = ["draw", "render", "to_dot"]
