// core: the embedded data (gzip, base64) and small DOM helpers. Every text from the data goes
// in through textContent or createTextNode, never as markup.
var SVGNS = 'http://www.w3.org/2000/svg';
var DATA = null;

function byId(id) { return document.getElementById(id); }

function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) { e.className = cls; }
  if (text !== undefined && text !== null) { e.textContent = text; }
  return e;
}

function svgEl(tag, attrs) {
  var e = document.createElementNS(SVGNS, tag);
  Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
  return e;
}

function gunzip(base64) {
  var bin = atob(base64.replace(/\s+/g, ''));
  var bytes = new Uint8Array(bin.length);
  for (var i = 0; i < bin.length; i++) { bytes[i] = bin.charCodeAt(i); }
  var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}

function blobText(id) { return byId(id).textContent; }

// a key and what else it stands for: a parameter's copy (p4_12_1) is also the parameter (p4)
function keyAliases(key) {
  var copy = /^p(\d+)_\d+_\d+$/.exec(key);
  return copy ? [key, 'p' + copy[1]] : [key];
}

// runs: a plain string, or [text, "sub" | "sup"] (names typeset as in the pictures)
function addRuns(parent, runs) {
  (runs || []).forEach(function (r) {
    if (typeof r === 'string') { parent.appendChild(document.createTextNode(r)); return; }
    var tag = r[1] === 'sub' ? 'sub' : 'sup';
    parent.appendChild(el(tag, null, r[0]));
  });
  return parent;
}

// runs inside an SVG <text>: sub- and superscripts as shifted, smaller tspans
function addSvgRuns(text, runs) {
  (runs || []).forEach(function (r) {
    if (typeof r === 'string') { text.appendChild(document.createTextNode(r)); return; }
    var span = svgEl('tspan', {'baseline-shift': r[1] === 'sub' ? 'sub' : 'super', 'font-size': '75%'});
    span.textContent = r[0];
    text.appendChild(span);
  });
  return text;
}

function runsText(runs) {
  return (runs || []).map(function (r) {
    return typeof r === 'string' ? r : (r[1] === 'sub' ? '_' : '^') + r[0];
  }).join('');
}

// numbers: as Python wrote them (4 significant digits), "NaN", "Inf", "-Inf" by name
function isBad(v) { return typeof v === 'string'; }

function fmt(v) {
  if (v === null || v === undefined) { return '–'; }
  if (v === 'NaN') { return 'NaN'; }
  if (v === 'Inf') { return '∞'; }
  if (v === '-Inf') { return '−∞'; }
  var text = String(Number(v.toPrecision(4)));
  return text.replace('-', '−');
}

function shapeText(shape) { return shape.length ? shape.join('×') : 'scalar'; }

// an encoded array: written out up to 8 entries (rows in brackets), else its norm
function valuesText(a) {
  if (!a) { return 'none (no gradient reached it)'; }
  var size = a.shape.reduce(function (p, n) { return p * n; }, 1);
  if (size === 1) { return fmt(a.v[0]); }
  if (size <= 8) {
    var rows = [];
    for (var r = 0; r < a.rows; r++) {
      rows.push('[' + a.v.slice(r * a.cols, (r + 1) * a.cols).map(fmt).join(', ') + ']');
    }
    return rows.length === 1 ? rows[0] : '[' + rows.join(', ') + ']';
  }
  return '‖·‖ = ' + fmt(a.norm) + ' (' + size + ' entries)';
}

function timeLabel(t) { return t === null || t === undefined ? '' : 't = ' + DATA.times[t]; }
