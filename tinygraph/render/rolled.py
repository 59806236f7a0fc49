"""The rolled (folded) picture of a recurrent graph: one step, recurrences through a delay z⁻¹.

From the unrolled graph it keeps one step s (the last step that still feeds a next one) and
draws it exactly as the unrolled picture draws step s. Every tensor that step s hands to
step s+1 (h_t read by the recurrence) loops back through a delay node ``z⁻¹`` into the op
of step s that plays the same role (same block of ops, same position): h_t = f(x_t, h_(t−1)).
Tensors read by nodes outside the steps (the sum of the losses) go to one output node.
"""

from __future__ import annotations

from tinygraph.node import Node
from tinygraph.render import style
from tinygraph.render.dot_writer import attrs, header, pos, tensor_text
from tinygraph.render.graph_view import GraphView
from tinygraph.render.block_shape import signature
from tinygraph.render.layout import Layout
from tinygraph.render.legend import legend_label
from tinygraph.render.options import Options
from tinygraph.render.safe_text import shorten

SHIFT_TO = 230.0


def write_rolled(view: GraphView, lay: Layout, opts: Options) -> str:
    """DOT text of the rolled view (forward tensors only)."""
    steps = [i for i, c in enumerate(lay.columns) if c.clustered]
    step = steps[-2] if len(steps) >= 2 else (steps[0] if steps else len(lay.columns) - 1)
    column = lay.columns[step]
    dx = SHIFT_TO - column.x
    members = [n for n in view.nodes if lay.node_col[view.rank(n)] == step and "t" in n.scope]
    nxt = steps[steps.index(step) + 1] if step in steps and step != steps[-1] else None
    counterpart = _counterparts(view, lay, step, nxt)
    in_step = {id(n) for n in members}
    lines: list[str] = []
    edges: list[str] = []
    delayed: dict[tuple[int, int], str] = {}     # (reader rank, input index) -> delay node
    top = 0.0

    def at(x: float, y: float) -> str:
        return pos(x + dx, y)

    lines.append("  subgraph cluster_step {")
    lines.append("    graph " + attrs(
        label="one step t (the same ops at every t)", style="rounded,dashed", color="#b0b0b0",
        bb=f"{column.x0 + 8 + dx:.1f},{lay.cluster_y[0]:.1f},{column.x1 - 8 + dx:.1f},"
           f"{lay.cluster_y[1]:.1f}", lp=f"{column.x + dx:.1f},{lay.cluster_y[0] + 12:.1f}",
        fontsize="13"))
    for node in members:
        rank = view.rank(node)
        x, y = lay.node_pos[rank]
        top = max(top, y)
        label = style.op_label(node)
        lines.append(f"    n{rank} " + attrs(
            label=label, pos=at(x, y), shape="box", style="rounded,filled",
            fillcolor=style.OP_FILL, color=style.OP_LINE, fixedsize="true",
            width=f"{style.text_width(label, 10) / 72:.2f}", tooltip=node.where()))
    lines.append("  }")
    for node in members:
        out = node.output
        if out is None:
            continue
        trank = view.trank(out)
        readers = view.readers.get(id(out), [])
        source = f"n{view.rank(node)}"
        if trank in lay.junction_pos:
            x, y = lay.junction_pos[trank]
            lines.append(f"  j{trank} " + attrs(
                label="Σ", pos=at(x, y), shape="circle", style="filled", width="0.26",
                fixedsize="true", fillcolor=style.JUNCTION_FILL, color=style.JUNCTION_LINE))
            edges.append(f"  {source} -> j{trank} " + attrs(label=tensor_text(out, opts)))
            source = f"j{trank}"
        to_output = False
        for reader, index in readers:
            if id(reader) in in_step:
                label = None if source.startswith("j") else tensor_text(out, opts)
                edges.append(f"  {source} -> n{view.rank(reader)} " + attrs(label=label))
            elif "t" not in reader.scope:
                to_output = True
            elif id(reader) in counterpart:
                local = counterpart[id(reader)]
                key = (view.rank(local), index)
                name = f"z{trank}"
                if key in delayed:
                    continue
                delayed[key] = name
                if name not in {v for k, v in delayed.items() if k != key}:
                    rx, ry = lay.node_pos[view.rank(local)]
                    sx, sy = lay.junction_pos.get(trank, lay.node_pos[view.rank(node)])
                    lines.append(f"  {name} " + attrs(
                        label="z⁻¹", pos=at(min(rx, sx) - 62.0, (ry + sy) / 2), shape="box",
                        style="rounded,filled", fillcolor="#efe1f5", color=style.NONLOCAL,
                        fontcolor=style.NONLOCAL, tooltip="delay: the value of the previous "
                        "step"))
                    edges.append(f"  {source} -> {name} " + attrs(
                        color=style.NONLOCAL, label=tensor_text(out, opts)))
                name_t = f"{shorten(out.name)}(t−1)" if out.name else "(t−1)"
                edges.append(f"  {name} -> n{view.rank(local)} " + attrs(
                    color=style.NONLOCAL, fontcolor=style.NONLOCAL, label=name_t))
        if to_output:
            edges.append(f"  {source} -> output " + attrs(label=tensor_text(out, opts)))
    for node in members:
        rank = view.rank(node)
        for index, tensor in enumerate(node.inputs):
            if tensor.producer is not None or (rank, index) in delayed:
                continue
            lines.append(_leaf(view, lay, tensor, rank, index, dx))
            leaf = f"l{view.trank(tensor)}_{rank}_{index}"
            color = style.PARAM_LINE if view.is_parameter(tensor) else style.CONST_COLOR
            edges.append(f"  {leaf} -> n{rank} " + attrs(color=color))
    name = shorten(view.output.name) if view.output.name else "output"
    lines.append("  output " + attrs(
        label=f"{name} = Σ over t", pos=pos(SHIFT_TO, top + 70.0), shape="box", style="filled",
        fillcolor=style.OUTPUT_FILL, color="#9e3a44"))
    width = column.x1 - column.x0 + 2 * SHIFT_TO - column.x1 + column.x0 + 400.0
    if opts.legend:
        label = legend_label("rolled", params=any(view.is_parameter(t) for t in view.tensors),
                             junctions=bool(lay.junction_pos), nonlocal_edges=False,
                             folded=False, scale=None, delays=bool(delayed))
        lines.append(f"  legend [label=<{label}>, shape=plaintext, "
                     f'pos="{SHIFT_TO + 420.0:.1f},{top - 40.0:.1f}!", margin="0"];')
        width += 300.0
    lay.width = width
    lay.height = top + 110.0
    return "\n".join([*header(lay, opts.title), *lines, *edges, "}"]) + "\n"


def _leaf(view: GraphView, lay: Layout, tensor: object, rank: int, index: int,
          dx: float) -> str:
    trank = view.trank(tensor)
    x, y = lay.leaf_pos[(trank, rank, index)]
    name = f"l{trank}_{rank}_{index}"
    if view.is_parameter(tensor):
        label = shorten(tensor.name) if tensor.name else "param"
        return f"  {name} " + attrs(
            label=label, pos=pos(x + dx, y), shape="box", style="filled", fontsize="9",
            fillcolor=style.PARAM_FILL, color=style.PARAM_LINE, height="0.24", fixedsize="true",
            width=f"{style.text_width(label, 9) / 72:.2f}")
    label = style.constant_name(tensor)
    return f"  {name} " + attrs(label=label, pos=pos(x + dx, y), shape="plaintext",
                                fontsize="9", fontcolor=style.CONST_COLOR)


def _counterparts(view: GraphView, lay: Layout, step: int, nxt: int | None) -> dict[int, Node]:
    """For each node of step ``nxt``: the node of ``step`` in the same place of the same block."""
    if nxt is None:
        return {}
    blocks: dict[tuple[int, object], list[Node]] = {}
    for node in view.nodes:
        col = lay.node_col[view.rank(node)]
        if col in (step, nxt) and "t" in node.scope:
            blocks.setdefault((col, node.scope.get("layer")), []).append(node)
    result: dict[int, Node] = {}
    for (col, band), later in blocks.items():
        if col != nxt:
            continue
        here = blocks.get((step, band), [])
        if signature(here) == signature(later):
            result.update({id(b): a for a, b in zip(here, later)})
    return result
