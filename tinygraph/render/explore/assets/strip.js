// strip: the pictures side by side. A window (a few steps) is an SVG decoded when first shown;
// a fold is a grey box that opens into its parts; an opened fold has a bar below its parts that
// folds them back. INDEX maps each key (data-k: n12, j3, g5_12_1, ...) to its elements.
var WINDOWS = {};     // window number -> its <div> holding the SVG (kept once decoded)
var DECODING = {};    // window number -> promise
var OPEN = {};        // "a-b" -> true for an opened fold
var INDEX = {};       // key -> [element]
var FOLDBOXES = [];   // the closed folds shown: {box, a, b}
var onAttach = [];    // called with each window's SVG when it is first decoded

function segKey(s) { return s.a + '-' + s.b; }

function stepsText(a, b) {
  return b - a === 1 ? 't = ' + DATA.times[a] : 't = ' + DATA.times[a] + ' … ' + DATA.times[b - 1];
}

function indexWindow(svg) {
  svg.querySelectorAll('[data-k]').forEach(function (node) {
    keyAliases(node.getAttribute('data-k')).forEach(function (k) {
      (INDEX[k] = INDEX[k] || []).push(node);
    });
    if (node.classList.contains('edge')) {
      node.querySelectorAll('path').forEach(function (p) {
        var hit = p.cloneNode(false);
        hit.setAttribute('class', 'hit');
        node.appendChild(hit);
      });
    }
  });
}

function decodeWindow(w) {
  if (WINDOWS[w]) { return Promise.resolve(WINDOWS[w]); }
  if (!DECODING[w]) {
    DECODING[w] = gunzip(blobText('tg-window-' + w)).then(function (text) {
      var holder = el('div', 'seg win');
      holder.setAttribute('data-w', w);
      var xml = text.replace('<svg ', '<svg xmlns="' + SVGNS + '" ');
      var doc = new DOMParser().parseFromString(xml, 'image/svg+xml');
      var svg = document.importNode(doc.documentElement, true);
      if (svg.localName !== 'svg') { throw new Error('window ' + w + ' is not an SVG'); }
      holder.appendChild(svg);
      indexWindow(svg);
      WINDOWS[w] = holder;
      onAttach.forEach(function (f) { f(svg); });
      return holder;
    });
  }
  return DECODING[w];
}

function windowNode(s) {
  if (WINDOWS[s.w]) { return WINDOWS[s.w]; }
  var size = DATA.sizes[s.w];
  var wait = el('div', 'seg loading', 'drawing ' + stepsText(s.a, s.b) + ' …');
  wait.style.width = size[0] + 'px';
  wait.style.height = size[1] + 'px';
  decodeWindow(s.w).then(function (holder) {
    if (wait.parentNode) { wait.parentNode.replaceChild(holder, wait); }
  });
  return wait;
}

function foldNode(s) {
  var seg = el('div', 'seg fold');
  var box = el('div', 'foldbox');
  box.style.height = (DATA.height - 40) + 'px';
  box.setAttribute('data-a', s.a);
  box.setAttribute('data-b', s.b);
  box.appendChild(el('div', null, stepsText(s.a, s.b)));
  box.appendChild(el('div', null, (s.b - s.a) + ' steps folded'));
  box.appendChild(el('div', 'open', 'click to open'));
  box.addEventListener('click', function (e) {
    e.stopPropagation();
    if (dragged()) { return; }
    openFold(s);
  });
  seg.appendChild(box);
  FOLDBOXES.push({box: box, a: s.a, b: s.b});
  return seg;
}

function segmentNode(s) {
  if (s.w !== undefined) { return windowNode(s); }
  if (!OPEN[segKey(s)]) { return foldNode(s); }
  var group = el('div', 'seg opened');
  var row = el('div', 'row');
  s.parts.forEach(function (p) { row.appendChild(segmentNode(p)); });
  group.appendChild(row);
  var back = el('div', 'fold-back', '▴ fold ' + stepsText(s.a, s.b) + ' back (' + (s.b - s.a) + ' steps)');
  back.setAttribute('data-a', s.a);
  back.setAttribute('data-b', s.b);
  back.addEventListener('click', function (e) {
    e.stopPropagation();
    if (dragged()) { return; }
    closeFold(s);
  });
  group.appendChild(back);
  return group;
}

var onStripChange = [];

function renderStrip() {
  var strip = byId('strip');
  FOLDBOXES = [];
  strip.textContent = '';
  DATA.tree.forEach(function (s) { strip.appendChild(segmentNode(s)); });
  onStripChange.forEach(function (f) { f(); });
}

// the windows shown now (to decode before showing them)
function shownWindows(list, out) {
  (list || DATA.tree).forEach(function (s) {
    if (s.w !== undefined) { out.push(s.w); } else if (OPEN[segKey(s)]) { shownWindows(s.parts, out); }
  });
  return out;
}

function refresh() {
  return Promise.all(shownWindows(null, []).map(decodeWindow)).then(renderStrip);
}

function openFold(s) { OPEN[segKey(s)] = true; return refresh(); }

function closeFold(s) {
  var stack = [s];
  while (stack.length) {
    var f = stack.pop();
    delete OPEN[segKey(f)];
    (f.parts || []).forEach(function (p) { if (p.parts) { stack.push(p); } });
  }
  return refresh();
}

// open every fold on the way to step t; resolves when its window is shown
function revealStep(t) {
  var list = DATA.tree;
  var changed = false;
  for (;;) {
    var s = list.filter(function (x) { return x.a <= t && t < x.b; })[0];
    if (!s || s.w !== undefined) { break; }
    if (!OPEN[segKey(s)]) { OPEN[segKey(s)] = true; changed = true; }
    list = s.parts;
  }
  return changed ? refresh() : Promise.resolve();
}

function attached(node) { return document.body.contains(node); }

function elementsOf(key) {
  return (INDEX[key] || []).filter(attached);
}

function foldOf(t) {
  if (t === null || t === undefined) { return null; }
  return FOLDBOXES.filter(function (f) { return f.a <= t && t < f.b; })[0] || null;
}
