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
    """The label of an edge or node as plain text: ``h_3^(1)`` for h<SUB>3</SUB><SUP>(1)</SUP>
    (None-like "" when it has none)."""
    m = HTML_LABEL.search(attributes + "]") if "label=<" in attributes else None
    if m:
        body = SUB.sub(lambda s: "_" + s.group(1), m.group(1))
        body = SUP.sub(lambda s: "^" + s.group(1), body)
        return html.unescape(TAG.sub("", body))
    m = PLAIN_LABEL.search(attributes)
    return m.group(1).replace('\\"', '"').replace("\\\\", "\\") if m else ""


def geometry(text: str) -> dict:
    """Graphviz's own layout of the DOT text (``neato -n2 -Tjson``), as a dict."""
    done = subprocess.run(["neato", "-n2", "-Tjson"], input=text.encode("utf-8"),
                          capture_output=True, check=True)
    return json.loads(done.stdout)
