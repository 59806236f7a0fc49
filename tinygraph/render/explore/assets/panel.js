// panel: what the side panel says about a hovered or picked item. An edge: its tensor's name,
// step, layer, shape, forward value and gradient (numbers and a colour grid, NaN and Inf
// marked). An op: where it ran, its local derivative in symbols and words, what its backward
// received and sent. A Σ or a parameter: the table of the gradients added and their sum.
var PICKED = null;    // the key picked by a click (shown when the pointer leaves the picture)
var HOVERED = null;

function readerText(r) {
  var node = DATA.nodes[r];
  var span = addRuns(el('span'), node.op);
  if (node.where) { span.appendChild(document.createTextNode(' at ' + node.where)); }
  return span;
}

function partOf(k, r, i) {
  var t = DATA.tensors[k];
  if (t.parts) { return t.parts[r + '_' + i] || null; }
  return t.grad;
}

// a diverging colour for v in [-m, m]: blue below 0, white at 0, red above
function cellColour(v, m) {
  var f = m > 0 ? Math.max(-1, Math.min(1, v / m)) : 0;
  var to = f < 0 ? [33, 102, 172] : [178, 24, 43];
  var a = Math.abs(f);
  var rgb = [255, 255, 255].map(function (w, j) { return Math.round(w + (to[j] - w) * a); });
  return 'rgb(' + rgb.join(',') + ')';
}

function grid(a) {
  var cell = Math.max(6, Math.min(14, Math.floor(320 / Math.max(a.cols, 1))));
  var svg = svgEl('svg', {width: a.cols * cell + 1, height: a.rows * cell + 1, 'class': 'grid'});
  var m = 0;
  a.v.forEach(function (v) { if (!isBad(v)) { m = Math.max(m, Math.abs(v)); } });
  a.v.forEach(function (v, n) {
    var x = (n % a.cols) * cell, y = Math.floor(n / a.cols) * cell;
    var fill = v === 'NaN' ? '#000' : v === 'Inf' ? '#ffd400' : v === '-Inf' ? '#00bcd4' : cellColour(v, m);
    var rect = svgEl('rect', {x: x + 0.5, y: y + 0.5, width: cell, height: cell, fill: fill,
                              stroke: '#ddd', 'stroke-width': 0.5, 'class': isBad(v) ? 'bad-cell' : 'cell'});
    var tip = svgEl('title');
    tip.textContent = '[' + Math.floor(n / a.cols) + ', ' + (n % a.cols) + '] = ' + fmt(v);
    rect.appendChild(tip);
    svg.appendChild(rect);
    if (isBad(v) && cell >= 8) {
      var mark = svgEl('text', {x: x + cell / 2 + 0.5, y: y + cell * 0.78, 'text-anchor': 'middle',
                                'font-size': cell * 0.8, fill: v === 'NaN' ? '#fff' : '#000'});
      mark.textContent = v === 'NaN' ? 'N' : '∞';
      svg.appendChild(mark);
    }
  });
  return svg;
}

function arrayBlock(parent, a) {
  if (!a) {
    parent.appendChild(el('div', 'hint', 'none: no gradient reached it'));
    return;
  }
  var size = a.shape.reduce(function (p, n) { return p * n; }, 1);
  if (a.rows * a.cols <= 64 && a.cols <= 8) {
    var table = el('table', 'numbers');
    for (var r = 0; r < a.rows; r++) {
      var tr = el('tr');
      for (var c = 0; c < a.cols; c++) {
        var v = a.v[r * a.cols + c];
        tr.appendChild(el('td', isBad(v) ? 'bad' : null, fmt(v)));
      }
      table.appendChild(tr);
    }
    parent.appendChild(table);
  }
  var stats = el('div', 'meta', 'shape ' + shapeText(a.shape) + ' · ‖·‖ = ' + fmt(a.norm) +
                 (a.min !== null ? ' · min ' + fmt(a.min) + ' · max ' + fmt(a.max) : ''));
  parent.appendChild(stats);
  if (a.nan || a.inf) {
    parent.appendChild(el('div', 'bad', (a.nan ? a.nan + ' NaN ' : '') + (a.inf ? a.inf + ' Inf ' : '') +
                          '(marked N and ∞ in the grid)'));
  }
  if (a.rows * a.cols < size) {
    parent.appendChild(el('div', 'note', 'grid: the first ' + a.rows + '×' + a.cols + ' entries of ' + size));
  }
  parent.appendChild(grid(a));
}

function heading(parent, prefix, runs, suffix) {
  var h = el('h2');
  if (prefix) { h.appendChild(document.createTextNode(prefix)); }
  addRuns(h, runs);
  if (suffix) { h.appendChild(document.createTextNode(suffix)); }
  parent.appendChild(h);
  return h;
}

function tensorMeta(t) {
  var parts = [];
  if (t.kind === 'param') {
    parts.push('parameter: one tensor, read by ' + t.readers.length + (t.readers.length === 1 ? ' op' : ' ops'));
  }
  else if (t.kind === 'const') { parts.push('constant (no gradient)'); }
  if (t.t !== null) { parts.push(timeLabel(t.t)); }
  if (t.layer) { parts.push(t.layer); }
  parts.push('shape ' + shapeText(t.shape));
  return el('div', 'meta', parts.join(' · '));
}

function showTensor(box, k, reader, index) {
  var t = DATA.tensors[k];
  heading(box, '', t.name);
  box.appendChild(tensorMeta(t));
  box.appendChild(el('h3', null, 'value (forward)'));
  arrayBlock(box, t.value);
  if (t.kind === 'const') { return; }
  var readers = t.readers.length;
  if (reader !== null && reader !== undefined && readers >= 2) {
    var h = el('h3', null, 'gradient sent back by ');
    h.appendChild(readerText(reader));
    var kind = t.readers.filter(function (x) { return x[0] === reader && x[1] === index; })[0];
    if (kind && kind[2]) { h.appendChild(document.createTextNode(' (' + kind[2] + ')')); }
    box.appendChild(h);
    arrayBlock(box, partOf(k, reader, index));
    var total = el('h3', null, '');
    total.appendChild(document.createTextNode('whole gradient ∂L/∂'));
    addRuns(total, t.name);
    total.appendChild(document.createTextNode(' (Σ over its ' + readers + ' readers)'));
    box.appendChild(total);
  } else {
    var g = el('h3', null, 'gradient ∂L/∂');
    addRuns(g, t.name);
    box.appendChild(g);
  }
  arrayBlock(box, t.grad);
}

function sigmaTable(box, k) {
  var t = DATA.tensors[k];
  var table = el('table', 'sigma');
  var head = el('tr');
  ['from', 'step', 'kind', '∂L/∂ part'].forEach(function (h) { head.appendChild(el('th', null, h)); });
  table.appendChild(head);
  t.readers.forEach(function (x) {
    var part = partOf(k, x[0], x[1]);
    var tr = el('tr', 'part');
    var who = el('td');
    who.appendChild(readerText(x[0]));
    tr.appendChild(who);
    tr.appendChild(el('td', null, timeLabel(DATA.nodes[x[0]].t)));
    tr.appendChild(el('td', x[2] && x[2] !== 'local' ? 'kind-nonlocal' : null, x[2] || 'copy'));
    tr.appendChild(el('td', 'v', valuesText(part)));
    tr.addEventListener('mouseenter', function () { hoverKey('g' + k + '_' + x[0] + '_' + x[1], true); });
    tr.addEventListener('mouseleave', function () { hoverKey(null, true); });
    table.appendChild(tr);
  });
  var total = el('tr', 'total');
  total.appendChild(addRuns(el('td', null, 'Σ = ∂L/∂'), t.name));
  total.appendChild(el('td'));
  total.appendChild(el('td'));
  total.appendChild(el('td', 'v', valuesText(t.grad)));
  table.appendChild(total);
  box.appendChild(table);
}

function showSigma(box, k, copyOf) {
  var t = DATA.tensors[k];
  if (t.kind === 'param') {
    heading(box, '', t.name, ': Σ over its copies');
    box.appendChild(tensorMeta(t));
    var words = el('div', 'words', 'One tensor read by ' + t.readers.length + ' ops: each green copy in ' +
                   'the picture gets its own gradient, and ∂L/∂');
    addRuns(words, t.name).appendChild(document.createTextNode(' adds them up.'));
    box.appendChild(words);
  } else {
    heading(box, 'Σ of ', t.name);
    box.appendChild(tensorMeta(t));
    box.appendChild(el('div', 'words', t.readers.length + ' nodes read this tensor, so ' + t.readers.length +
                       ' gradients come back; its gradient is their sum (the one from t+1 is carried ' +
                       'back by the recurrence).'));
  }
  sigmaTable(box, k);
  if (copyOf !== undefined) {
    box.appendChild(el('h3', null, 'the value of this parameter'));
    arrayBlock(box, t.value);
  }
  box.appendChild(el('h3', null, 'the sum, entry by entry'));
  arrayBlock(box, t.grad);
}

function showNode(box, k) {
  var node = DATA.nodes[k];
  var m = node.math;
  if (node.sum) {
    heading(box, '', ['L = Σ', ['t', 'sub'], ' L', ['t', 'sub']]);
    box.appendChild(el('div', 'words', 'The loss adds the losses of the ' + node.sum.length +
                       ' steps, however the code added them up; its backward sends ∂L/∂L_t = ∂L/∂L to every term.'));
  } else {
    heading(box, '', node.op, node.where ? ' at ' + node.where : '');
    if (m.forward) { box.appendChild(el('div', 'math', m.forward)); }
  }
  if (!node.sum && (m.backward.length || m.doc)) {
    box.appendChild(el('h3', null, 'local derivative (its backward)'));
    m.backward.forEach(function (line) { box.appendChild(el('div', 'math', line)); });
    if (m.legend) { box.appendChild(el('div', 'note', 'where ' + m.legend)); }
    if (m.words) { box.appendChild(el('div', 'words', 'In words: it ' + m.words + '.')); }
    (m.notes || []).forEach(function (n) { box.appendChild(el('div', 'note', n)); });
    if (m.doc) { box.appendChild(el('div', 'words', m.doc)); }
  }
  if (!node.done) {
    box.appendChild(el('div', 'hint', 'Its backward did not run: no gradient reached its output.'));
    return;
  }
  if (node.out !== null) {
    var got = el('h3', null, 'received ∂L/∂');
    addRuns(got, DATA.tensors[node.out].name);
    box.appendChild(got);
    arrayBlock(box, DATA.tensors[node.out].grad);
  }
  node.sent.forEach(function (s) {
    var t = DATA.tensors[s[0]];
    if (t.partial) { return; }
    var h = el('h3', null, 'sent ∂L/∂');
    addRuns(h, t.name);
    box.appendChild(h);
    arrayBlock(box, partOf(s[0], k, s[1]));
  });
  if (!node.sent.length) {
    box.appendChild(el('div', 'hint', node.name === 'checkpoint' ? CHECKPOINT_SENDS : 'It sent nothing: no input needs a gradient.'));
  }
}

var CHECKPOINT_SENDS = 'It sent nothing itself: its backward runs its segment again, and the ' +
  'steps of that segment (the next steps of the story) send the gradients to its inputs.';

// what a key stands for: {kind, k, r, i}
function parseKey(key) {
  var m = /^([fgpcso])(\d+)_(\d+)_(\d+)$/.exec(key);
  if (m) { return {kind: m[1], k: +m[2], r: +m[3], i: +m[4]}; }
  m = /^([nFTjp])(\d+)$/.exec(key);
  if (m) { return {kind: m[1], k: +m[2]}; }
  if (key === 'out' || key === 'gout' || key === 'output') { return {kind: key, k: DATA.out}; }
  return null;
}

function describe(key) {
  var box = el('div');
  var p = parseKey(key);
  if (!p) { return null; }
  if (p.kind === 'n') { showNode(box, p.k); }
  else if (p.kind === 'j') { showSigma(box, p.k); }
  else if (p.kind === 'p') { showSigma(box, p.k, p.r); }
  else if (p.kind === 'g' || p.kind === 's' || p.kind === 'o') { showTensor(box, p.k, p.r, p.i); }
  else { showTensor(box, p.k, null, null); }
  if (p.kind === 's' || p.kind === 'o') {
    box.appendChild(el('div', 'hint', p.kind === 's' ? 'It comes from the step before (the picture to the left).'
                                                     : 'It goes on to the next step (the picture to the right).'));
  }
  return box;
}

function showDetails(key) {
  var details = byId('details');
  details.textContent = '';
  var box = key ? describe(key) : null;
  if (box) { details.appendChild(box); details.setAttribute('data-key', key); return; }
  details.removeAttribute('data-key');
  details.appendChild(el('div', 'hint', 'Hover or tap an arrow for its tensor and gradient; click an op for ' +
                         'its derivative, a Σ or a green parameter for the gradients it adds. Drag to pan, ' +
                         'wheel to zoom.'));
}

function mark(key, cls, on) {
  if (!key) { return; }
  elementsOf(key).forEach(function (n) { n.classList.toggle(cls, on); });
}

// what the panel shows when nothing is hovered: the picked item, else the story's current one
function restingKey() {
  if (PICKED) { return PICKED; }
  return FRAME >= 0 && DATA.frames[FRAME] ? DATA.frames[FRAME].cur[0] : null;
}

function hoverKey(key, fromPanel) {
  if (key === HOVERED) { return; }
  mark(HOVERED, 'tg-hover', false);
  HOVERED = key;
  mark(key, 'tg-hover', true);
  if (!fromPanel) { showDetails(key || restingKey()); }
}

function pick(key, scroll) {
  mark(PICKED, 'tg-picked', false);
  PICKED = key;
  mark(key, 'tg-picked', true);
  showDetails(key);
  if (scroll && key) { reveal(elementsOf(key)[0]); }
}

function keyAt(target) {
  var node = target.closest ? target.closest('[data-k]') : null;
  if (!node) { return null; }
  var key = node.getAttribute('data-k');
  return /^(cluster|legend|band|tlabel)/.test(key) ? null : key;
}

function setUpPanel() {
  var strip = byId('strip');
  strip.addEventListener('mouseover', function (e) { if (!DRAG) { hoverKey(keyAt(e.target)); } });
  strip.addEventListener('mouseleave', function () { hoverKey(null); });
  strip.addEventListener('click', function (e) {
    if (dragged()) { return; }
    var key = keyAt(e.target);
    if (key) { pick(key, false); }
  });
  onAttach.push(function () { mark(PICKED, 'tg-picked', true); });
  showDetails(null);
}
