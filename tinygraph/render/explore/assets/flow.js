// flow: ‖∂L/∂h_t^(l)‖ over (layer, t) on a log colour scale, the loss's end on the right.
// Clicking a cell opens its step and picks the gradient of that state in the picture.
var RAMP = [[0, [217, 217, 217]], [0.35, [253, 174, 97]], [0.7, [230, 85, 13]], [1, [139, 0, 0]]];

function rampColour(f) {
  for (var i = 1; i < RAMP.length; i++) {
    if (f <= RAMP[i][0]) {
      var a = RAMP[i - 1], b = RAMP[i], w = (f - a[0]) / (b[0] - a[0]);
      return 'rgb(' + a[1].map(function (c, j) { return Math.round(c + (b[1][j] - c) * w); }).join(',') + ')';
    }
  }
  return 'rgb(139,0,0)';
}

// whole decades around every finite, positive norm of the cells given
function decades(cellLists) {
  var lo = Infinity, hi = -Infinity;
  cellLists.forEach(function (cells) {
    cells.forEach(function (row) {
      row.forEach(function (c) {
        if (c && !isBad(c[0]) && c[0] > 0) {
          var l = Math.log10(c[0]);
          lo = Math.min(lo, l); hi = Math.max(hi, l);
        }
      });
    });
  });
  if (lo === Infinity) { return [-1, 0]; }
  lo = Math.floor(lo); hi = Math.ceil(hi);
  return hi > lo ? [lo, hi] : [lo, lo + 1];
}

function normFraction(n, scale) {
  if (isBad(n)) { return 1; }
  if (!(n > 0)) { return 0; }
  return Math.max(0, Math.min(1, (Math.log10(n) - scale[0]) / (scale[1] - scale[0])));
}

function supDecade(d) {
  var digits = {'-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹'};
  return '10' + String(d).split('').map(function (c) { return digits[c]; }).join('');
}

// the edge that stands for tensor k's whole gradient: the Σ's sum, or its one gradient edge
function gradientKey(k) {
  var t = DATA.tensors[k];
  if (t.readers.length >= 2) { return 'T' + k; }
  var r = t.readers[0];
  return r ? 'g' + k + '_' + r[0] + '_' + r[1] : null;
}

function pickState(k) {
  var t = DATA.tensors[k];
  return revealStep(t.t).then(function () { pick(gradientKey(k), true); });
}

function drawFlow(flow, scale) {
  var box = byId('flow-grid');
  box.textContent = '';
  if (!flow.rows.length) {
    box.appendChild(el('div', 'hint', 'No state is carried from step to step (no recurrence found).'));
    return;
  }
  var T = flow.times.length;
  var label = 46, cw = Math.max(3, Math.min(18, Math.floor(300 / Math.max(T, 1)))), ch = 16;
  var svg = svgEl('svg', {width: label + T * cw + 2, height: flow.rows.length * ch + 16});
  flow.rows.forEach(function (runs, r) {
    var text = svgEl('text', {x: 2, y: r * ch + 12, 'font-size': 11});
    addSvgRuns(text, runs);
    svg.appendChild(text);
    flow.cells[r].forEach(function (c, t) {
      var attrs = {x: label + t * cw, y: r * ch, width: cw - (cw > 6 ? 1 : 0), height: ch - 1};
      if (!c) { attrs.fill = '#fff'; attrs.stroke = '#eee'; svg.appendChild(svgEl('rect', attrs)); return; }
      var bad = isBad(c[0]);
      attrs.fill = bad ? '#000' : c[0] > 0 ? rampColour(normFraction(c[0], scale)) : '#fff';
      attrs['class'] = 'cell';
      attrs['data-tensor'] = c[1];
      var rect = svgEl('rect', attrs);
      var tip = svgEl('title');
      tip.textContent = runsText(runs) + ' at t = ' + flow.times[t] + ': ‖∂L/∂h‖ = ' + fmt(c[0]);
      rect.appendChild(tip);
      rect.addEventListener('click', function () {
        box.querySelectorAll('.picked').forEach(function (p) { p.classList.remove('picked'); });
        rect.classList.add('picked');
        pickState(c[1]);
      });
      svg.appendChild(rect);
    });
  });
  var axis = svgEl('text', {x: label, y: flow.rows.length * ch + 12, 'font-size': 10, fill: '#555'});
  axis.textContent = 't = ' + flow.times[0];
  svg.appendChild(axis);
  var end = svgEl('text', {x: label + T * cw, y: flow.rows.length * ch + 12, 'font-size': 10, fill: '#555',
                           'text-anchor': 'end'});
  end.textContent = 't = ' + flow.times[T - 1];
  svg.appendChild(end);
  box.appendChild(svg);
  var legend = byId('flow-legend');
  legend.textContent = '';
  for (var d = scale[0]; d <= scale[1]; d++) {
    var swatch = el('span', null, ' ■ ');
    swatch.style.color = rampColour((d - scale[0]) / (scale[1] - scale[0]));
    legend.appendChild(swatch);
    legend.appendChild(document.createTextNode(supDecade(d)));
  }
  legend.appendChild(document.createTextNode('   (white: 0, black: NaN or Inf; click a cell)'));
}

function setUpFlow() {
  var lists = [DATA.flow.cells];
  if (DATA.film) { DATA.film.updates.forEach(function (u) { lists.push(u.flow.cells); }); }
  FLOW_SCALE = decades(lists);
  drawFlow(DATA.flow, FLOW_SCALE);
}

var FLOW_SCALE = [-1, 0];
