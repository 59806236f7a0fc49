"""Reading tg.to_dot's text in tests: edges, nodes, labels (HTML labels as plain text), and the
geometry Graphviz computes from it (``neato -n2 -Tjson``)."""

from __future__ import annotations

import html
import json
import re
import subprocess

EDGE = re.compile(r"^\s*(\w+) -> (\w+) \[(.*)\]$")
NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
HTML_LABEL = re.compile(r"label=<(.*?)>(?:, |\]$)")
PLAIN_LABEL = re.compile(r'label="((?:[^"\\]|\\.)*)"')
SUB = re.compile(r"<SUB>(?:<FONT[^>]*>)?(.*?)(?:</FONT>)?</SUB>")
SUP = re.compile(r"<SUP>(?:<FONT[^>]*>)?(.*?)(?:</FONT>)?</SUP>")
TAG = re.compile(r"<[^>]+>")


def edges(text: str) -> list[tuple[str, str, str]]:
    """(source id, target id, attribute text) of every edge line."""
    return [m.groups() for line in text.splitlines() if (m := EDGE.match(line))]


def nodes(text: str) -> dict[str, str]:
    """Node id -> attribute text, for every node line (not edges, not graph attributes)."""
    found = {}
    for line in text.splitlines():
        if EDGE.match(line) or line.strip().startswith(("graph", "node [", "edge [")):
            continue
        m = NODE.match(line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def label(attributes: str) -> str:
    """The label of an edge or node as plain text: ``h_3^(1)`` for h<SUB>3</SUB><SUP>(1)</SUP>,
    a line break as a space ("" when it has none)."""
    m = HTML_LABEL.search(attributes + "]") if "label=<" in attributes else None
    if m:
        body = SUB.sub(lambda s: "_" + s.group(1), m.group(1).replace("<BR/>", " "))
        body = SUP.sub(lambda s: "^" + s.group(1), body)
        return html.unescape(TAG.sub("", body))
    m = PLAIN_LABEL.search(attributes)
    return m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m else ""


def geometry(text: str) -> dict:
    """Graphviz's own layout of the DOT text (``neato -n2 -Tjson``), as a dict."""
    done = subprocess.run(["neato", "-n2", "-Tjson"], input=text.encode("utf-8"),
                          capture_output=True, check=True)
    return json.loads(done.stdout)


def bezier_points(spline: str, per_piece: int = 12) -> list[tuple[float, float]]:
    """Points along a Graphviz edge ``pos`` (its arrowhead tip included)."""
    parts = spline.split()
    tip = next((tuple(map(float, p[2:].split(","))) for p in parts if p.startswith("e,")), None)
    ctrl = [tuple(map(float, p.split(","))) for p in parts if not p.startswith(("e,", "s,"))]
    out = []
    for i in range(0, len(ctrl) - 3, 3):
        p0, p1, p2, p3 = ctrl[i:i + 4]
        for k in range(per_piece + 1):
            s = k / per_piece
            out.append(tuple((1 - s) ** 3 * a + 3 * (1 - s) ** 2 * s * b + 3 * (1 - s) * s * s * c
                             + s ** 3 * d for a, b, c, d in zip(p0, p1, p2, p3)))
    if tip is not None:
        out.append(tip)
    return out


def text_box(draw: list[dict]) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) around the text a Graphviz ``_ldraw_`` list draws."""
    size, found = 10.0, []
    for op in draw:
        if op["op"] == "F":
            size = op["size"]
        elif op["op"] == "T":
            x, y = op["pt"]
            w = op["width"]
            x0 = {"l": x, "c": x - w / 2, "r": x - w}[op["align"]]
            found.append((x0, y - 0.25 * size, x0 + w, y + 0.75 * size))
    if not found:
        return None
    return (min(f[0] for f in found), min(f[1] for f in found), max(f[2] for f in found),
            max(f[3] for f in found))


def font_sizes(data: dict) -> list[float]:
    """Every font size Graphviz draws text in (nodes, edge labels, clusters)."""
    sizes = []
    for item in [*data.get("objects", []), *data.get("edges", [])]:
        draw = item.get("_ldraw_", [])
        size = None
        for op in draw:
            if op["op"] == "F":
                size = op["size"]
            elif op["op"] == "T" and size is not None and op["text"].strip():
                sizes.append(size)
    return sizes


def drawn_items(data: dict) -> tuple[dict, list]:
    """Node boxes by name ((x0, y0, x1, y1), the legend left out) and edges as (tail name,
    head name, points along it, label box or None), from Graphviz's JSON."""
    by_id, boxes = {}, {}
    for item in data.get("objects", []):
        if "pos" not in item or "width" not in item:
            continue
        x, y = map(float, item["pos"].split(","))
        w, h = float(item["width"]) * 36, float(item["height"]) * 36
        by_id[item["_gvid"]] = item["name"]
        if item["name"] != "legend":
            boxes[item["name"]] = (x - w, y - h, x + w, y + h)
    drawn = []
    for edge in data.get("edges", []):
        drawn.append((by_id[edge["tail"]], by_id[edge["head"]], bezier_points(edge["pos"]),
                      text_box(edge.get("_ldraw_", []))))
    return boxes, drawn
