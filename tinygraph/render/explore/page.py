"""The explorer's HTML: one file, nothing fetched, its data compressed inside it.

The page holds its style and script inline (their SHA-256 in the Content-Security-Policy,
which allows nothing else: no network, no other script, images only as ``data:``), the data
as gzip in base64 (JSON: tensors, nodes, frames, gradient flow, the fold tree) and each
window's SVG the same way, decoded when first shown. Base64 holds no ``<`` or ``&``, so no
name can end its element; the title, the only user text outside the data, is escaped.
The script is the files of ``assets/`` in the order of ``SCRIPTS``, inside one function.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
from functools import cache
from importlib import resources
from typing import Any

from tinygraph.render.safe_text import TEXT_LIMIT, shorten

SCRIPTS = ("core.js", "strip.js", "view.js", "panel.js", "story.js", "flow.js", "film.js", "main.js")


@cache
def asset(name: str) -> str:
    """The text of ``assets/<name>``."""
    return (resources.files("tinygraph.render.explore") / "assets" / name).read_text("utf-8")


def script() -> str:
    """The page's whole script."""
    return "(function () {\n'use strict';\n" + "\n".join(asset(n) for n in SCRIPTS) + "\n})();\n"


def packed(text: str) -> str:
    """``text`` as gzip in base64 (no timestamp: the same data makes the same page)."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), 9, mtime=0)).decode("ascii")


def csp_hash(text: str) -> str:
    """``'sha256-…'`` of an inline element's text, as a Content-Security-Policy source."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def policy(style: str, code: str) -> str:
    """A Content-Security-Policy allowing only this page's own style and script."""
    return (f"default-src 'none'; style-src {csp_hash(style)}; script-src {csp_hash(code)}; "
            "img-src data:; base-uri 'none'; form-action 'none'")


BAR = """<div id="bar">
<h1 id="title">{title}</h1>
<span class="group" role="group" aria-label="backward pass">
<button id="play" type="button" aria-pressed="false">▶ play</button>
<select id="speed" aria-label="speed"><option value="0">slow</option>
<option value="1" selected>normal</option><option value="2">fast</option>
<option value="3">fastest</option></select>
<button id="first" type="button" title="first step (Home)">first</button>
<button id="prev" type="button" title="previous step (←)">◀ prev</button>
<input id="slider" type="range" min="0" max="0" value="0" aria-label="backward step">
<button id="next" type="button" title="next step (→)">next ▶</button>
<button id="last" type="button" title="last step (End)">last</button>
<span id="counter"></span></span>
<span class="group" role="group" aria-label="picture">
<button id="fit" type="button">fit</button>
<button id="zoom-in" type="button" aria-label="zoom in">+</button>
<button id="zoom-out" type="button" aria-label="zoom out">−</button></span>
<span id="film" class="group" hidden><label for="update">training update</label>
<input id="update" type="range" min="0" max="0" value="0" aria-label="training update">
<span id="update-counter"></span></span>
</div>"""

SIDE = """<div id="side">
<div id="caption" aria-live="polite"></div>
<div id="details" tabindex="0"></div>
<div id="flow"><div id="film-box" hidden><h3>Training</h3><div id="film-info" class="meta"></div>
<div id="film-chart-box"></div></div>
<h3>Gradient flow ‖∂L/∂h<sub>t</sub><sup>(l)</sup>‖ (log scale)</h3>
<div class="scroll" id="flow-grid"></div><div class="legend" id="flow-legend"></div>
<div id="help">Keys (when the picture has the focus): ← → step, Home/End, space plays.</div></div>
</div>"""


def page_html(title: str, data: dict[str, Any], windows: list[str]) -> str:
    """The whole document: ``data`` (the JSON of the page) and the SVG of each window."""
    heading = html.escape(shorten(title, TEXT_LIMIT))
    style, code = asset("explore.css"), script()
    blobs = [f'<script type="application/octet-stream" id="tg-window-{k}">{packed(svg)}</script>'
             for k, svg in enumerate(windows)]
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{policy(style, code)}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title>",
        f"<style>{style}</style>",
        "</head><body>",
        '<div id="app" tabindex="-1">',
        BAR.format(title=heading),
        '<div id="main"><div id="viewport" tabindex="0" aria-label="the graph: drag to pan, '
        'wheel to zoom"><div id="strip"></div></div>',
        SIDE, "</div></div>",
        f'<script type="application/octet-stream" id="tg-data">'
        f'{packed(json.dumps(data, separators=(",", ":"), allow_nan=False))}'
        "</script>",
        *blobs,
        f"<script>{code}</script>",
        "</body></html>",
        "",
    ])
