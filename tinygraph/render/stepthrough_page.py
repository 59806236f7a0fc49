"""The HTML shell of the step-through page: style, buttons, and the script that moves frames.

Kept apart from :mod:`tinygraph.render.stepthrough` (which decides what each frame shows) so that
module stays about the backward pass. Everything is inline; nothing is fetched.

Classes set by the script on the SVG's ``g.node`` / ``g.edge`` elements:
``tg-current`` (processed in this frame), ``tg-sent`` (gradient produced in this frame),
``tg-arrived`` (produced in an earlier frame), ``tg-done`` (a node processed earlier).
Gradient edges (class ``gradient``) without one of these classes are not computed yet and
are faded; the forward edges beside them stay as drawn.
"""

from __future__ import annotations

import html

from tinygraph.render.safe_text import TEXT_LIMIT, shorten

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; color: #222; }
#bar { position: sticky; top: 0; background: #fff; padding: .4em 0; border-bottom: 1px solid #ddd; }
#bar button { font-size: 1em; padding: .2em .8em; }
#counter { margin: 0 1em; font-weight: bold; }
#frames { list-style: none; padding: 0; margin: .5em 0; min-height: 7em; font-family: monospace; }
#frames .step { font-weight: bold; font-family: Helvetica, Arial, sans-serif; }
#picture { overflow: auto; border: 1px solid #eee; }
#picture svg { height: auto; max-width: none; }
g.edge.gradient { opacity: .18; }
g.edge.tg-arrived { opacity: 1; }
g.edge.tg-sent { opacity: 1; }
g.edge.tg-sent path, g.edge.tg-sent polygon { stroke: #ff6f00; stroke-width: 3px; }
g.edge.tg-sent polygon { fill: #ff6f00; }
g.node.tg-done polygon, g.node.tg-done ellipse, g.node.tg-done path { stroke-width: 2px; }
g.node.tg-current polygon, g.node.tg-current ellipse, g.node.tg-current path {
  stroke: #ff6f00; stroke-width: 4px; fill: #ffe0b2; }
.help { color: #666; font-size: .9em; }
"""

SCRIPT = """
(function () {
  var frames = Array.prototype.slice.call(document.querySelectorAll('#frames li.frame'));
  var items = {};
  document.querySelectorAll('#picture g.node, #picture g.edge').forEach(function (el) {
    var t = el.querySelector('title');
    if (t) { items[t.textContent] = el; }
  });
  function names(li, key) {
    var v = li.getAttribute(key);
    return v ? v.split(' ') : [];
  }
  var index = 0;
  function show(i) {
    index = Math.max(0, Math.min(frames.length - 1, i));
    Object.keys(items).forEach(function (k) {
      items[k].classList.remove('tg-current', 'tg-sent', 'tg-arrived', 'tg-done');
    });
    frames.forEach(function (li, j) {
      li.hidden = j !== index;
      if (j > index) { return; }
      var now = j === index;
      names(li, 'data-current').forEach(function (n) {
        if (items[n]) { items[n].classList.add(now ? 'tg-current' : 'tg-done'); }
      });
      names(li, 'data-sent').forEach(function (n) {
        if (items[n]) { items[n].classList.add(now ? 'tg-sent' : 'tg-arrived'); }
      });
    });
    document.getElementById('counter').textContent = 'step ' + (index + 1) + ' / ' + frames.length;
    document.getElementById('prev').disabled = index === 0;
    document.getElementById('next').disabled = index === frames.length - 1;
    var cur = document.querySelector('#picture .tg-current');
    if (cur && cur.scrollIntoView) { cur.scrollIntoView({block: 'nearest', inline: 'nearest'}); }
  }
  document.getElementById('prev').addEventListener('click', function () { show(index - 1); });
  document.getElementById('next').addEventListener('click', function () { show(index + 1); });
  document.getElementById('first').addEventListener('click', function () { show(0); });
  document.getElementById('last').addEventListener('click', function () { show(frames.length - 1); });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') { show(index + 1); e.preventDefault(); }
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') { show(index - 1); e.preventDefault(); }
    else if (e.key === 'Home') { show(0); }
    else if (e.key === 'End') { show(frames.length - 1); }
  });
  show(0);
})();
"""


def page(title: str, svg: str, frames: list[str]) -> str:
    """The whole document: ``title`` is made safe and escaped here; ``svg`` and ``frames`` are
    markup already escaped by their makers (Graphviz escapes labels; frames their captions)."""
    heading = html.escape(shorten(title, TEXT_LIMIT))
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{heading}</title>",
        f"<style>{STYLE}</style>",
        "</head><body>",
        f"<h1>{heading}</h1>",
        '<p class="help">One frame per backward step (tg.trace_backward). Orange: the node '
        "being processed and the gradients it sends; red/purple: gradients that have arrived; "
        "faded: not computed yet. Keys: ← → (Home, End).</p>",
        '<div id="bar"><button id="first" type="button">first</button> '
        '<button id="prev" type="button">◀ previous</button>'
        '<span id="counter"></span>'
        '<button id="next" type="button">next ▶</button> '
        '<button id="last" type="button">last</button></div>',
        '<ol id="frames">', *frames, "</ol>",
        f'<div id="picture">{svg}</div>',
        f"<script>{SCRIPT}</script>",
        "</body></html>",
        "",
    ])
