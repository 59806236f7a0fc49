// film: training as a film. A slider runs over the recorded updates; each one shows its loss,
// its gradient norm before and after clipping, its gradient flow, and the picture's gradient
// arrows shaded by their norm at that update. The numbers in the panel are those of the update
// the picture was drawn from (the first one recorded).
var UPDATE = null;
var CHART_W = 340, CHART_PAD = 4;   // the chart's width and inner margin (pixels)

// the x of update i (of n) on the chart
function chartX(i, n) { return n > 1 ? CHART_PAD + i * (CHART_W - 2 * CHART_PAD) / (n - 1) : CHART_W / 2; }

function shadeKeys(norms, keys, scale) {
  var strip = byId('strip');
  strip.classList.toggle('shaded', !!norms);
  if (!norms) { return; }
  keys.forEach(function (key, j) {
    var n = norms[j];
    elementsOf(key).forEach(function (node) {
      if (n === null || n === undefined) { node.style.removeProperty('--shade'); return; }
      var f = normFraction(n, scale);
      node.style.setProperty('--shade', isBad(n) ? '#000' : rampColour(f));
      node.style.setProperty('--shade-width', (0.8 + 2.4 * f).toFixed(2) + 'px');
    });
  });
}

function updateText(u) {
  var film = DATA.film, rec = film.updates[u];
  var text = 'update ' + rec.u + ' · loss ' + fmt(rec.loss) + ' · ‖∇θ‖ = ' + fmt(rec.norm);
  if (film.clip !== null) {
    text += rec.norm > film.clip ? ' > clip ' + fmt(film.clip) + ': scaled by ' + fmt(film.clip / rec.norm) +
      ' to ' + fmt(film.clip) : ' ≤ clip ' + fmt(film.clip) + ': not clipped';
  }
  if (!rec.norms) { text += ' (a graph of another shape: arrows not shaded)'; }
  return text;
}

function chart() {
  var film = DATA.film, n = film.updates.length;
  var w = CHART_W, h = 44, pad = CHART_PAD;
  var svg = svgEl('svg', {width: w, height: 2 * h + 18, id: 'film-chart'});
  function series(values, top, logScale, colour, name) {
    var finite = values.filter(function (v) { return !isBad(v) && v !== null && (!logScale || v > 0); });
    if (!finite.length) { return null; }
    var f = logScale ? function (v) { return Math.log10(v); } : function (v) { return v; };
    var lo = Math.min.apply(null, finite.map(f)), hi = Math.max.apply(null, finite.map(f));
    if (hi <= lo) { hi = lo + 1; }
    function y(v) { return top + h - pad - (f(v) - lo) / (hi - lo) * (h - 2 * pad); }
    var points = values.map(function (v, i) {
      var x = chartX(i, n);
      return isBad(v) || v === null || (logScale && !(v > 0)) ? null : x.toFixed(1) + ',' + y(v).toFixed(1);
    }).filter(Boolean).join(' ');
    svg.appendChild(svgEl('polyline', {points: points, fill: 'none', stroke: colour, 'stroke-width': 1.5}));
    var label = svgEl('text', {x: w - pad, y: top + 10, 'font-size': 10, fill: colour, 'text-anchor': 'end'});
    label.textContent = name;
    svg.appendChild(label);
    return y;
  }
  series(film.updates.map(function (r) { return r.loss; }), 0, false, '#1565c0', 'loss');
  var y = series(film.updates.map(function (r) { return r.norm; }), h + 4, true, '#c62828',
                 '‖∇θ‖ before clipping (log)');
  if (y && film.clip !== null) {
    var cy = Math.max(h + 4, Math.min(2 * h + 4, y(film.clip)));
    svg.appendChild(svgEl('line', {x1: 0, x2: w, y1: cy, y2: cy, stroke: '#8e24aa', 'stroke-dasharray': '4,3'}));
    var clipLabel = svgEl('text', {x: pad, y: cy - 2, 'font-size': 9, fill: '#8e24aa'});
    clipLabel.textContent = 'clip ' + fmt(film.clip);
    svg.appendChild(clipLabel);
  }
  svg.appendChild(svgEl('line', {id: 'film-marker', x1: 0, x2: 0, y1: 0, y2: 2 * h + 4, stroke: '#333'}));
  var axis = svgEl('text', {x: pad, y: 2 * h + 16, 'font-size': 10, fill: '#555'});
  axis.textContent = 'updates ' + film.updates[0].u + ' … ' + film.updates[n - 1].u + ' (click to choose)';
  svg.appendChild(axis);
  svg.addEventListener('click', function (e) {
    var rect = svg.getBoundingClientRect();
    var u = Math.round((e.clientX - rect.left - pad) / (w - 2 * pad) * (n - 1));
    setUpdate(Math.max(0, Math.min(n - 1, u)));
  });
  return svg;
}

function setUpdate(u) {
  var film = DATA.film, n = film.updates.length;
  UPDATE = Math.max(0, Math.min(n - 1, u));
  var rec = film.updates[UPDATE];
  byId('update').value = UPDATE;
  byId('update-counter').textContent = 'recorded ' + (UPDATE + 1) + ' of ' + n;
  byId('film-info').textContent = updateText(UPDATE);
  drawFlow(rec.flow, FLOW_SCALE);
  shadeKeys(rec.norms, film.keys, FLOW_SCALE);
  var x = chartX(UPDATE, n);
  var marker = byId('film-marker');
  if (marker) { marker.setAttribute('x1', x); marker.setAttribute('x2', x); }
  writeHash();
}

function setUpFilm() {
  if (!DATA.film) { return; }
  byId('film').hidden = false;
  byId('film-box').hidden = false;
  var slider = byId('update');
  slider.max = DATA.film.updates.length - 1;
  slider.addEventListener('input', function () { setUpdate(+slider.value); });
  byId('film-chart-box').appendChild(chart());
  onAttach.push(function () { if (UPDATE !== null) { shadeKeys(DATA.film.updates[UPDATE].norms, DATA.film.keys, FLOW_SCALE); } });
  var h = readHash();
  setUpdate('update' in h ? h.update : 0);
}
