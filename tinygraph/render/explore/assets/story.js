// story: the backward pass one step of the trace at a time. Orange: the op (or Σ) working now
// and the gradients it sends; red and purple: gradients already sent; faded: not computed yet.
// Play/pause, a slider, previous/next, Home/End; the frame is in the URL hash (#frame=12).
var FRAME = -1;
var PLAYING = null;
var FIRST_CUR = {};   // key -> first frame in which it is worked on
var SENT_AT = {};     // key -> frame that sends it
var SPEEDS = [1400, 700, 350, 120];

function prepareStory() {
  DATA.frames.forEach(function (f, i) {
    f.cur.forEach(function (k) { if (!(k in FIRST_CUR)) { FIRST_CUR[k] = i; } });
    f.sent.forEach(function (k) { if (!(k in SENT_AT)) { SENT_AT[k] = i; } });
  });
}

function paintStory(nodes) {
  byId('strip').classList.toggle('story', FRAME >= 0);
  var frame = DATA.frames[FRAME];
  var now = {};
  if (frame) { frame.cur.forEach(function (k) { now[k] = true; }); }
  nodes.forEach(function (n) {
    var key = n.getAttribute('data-k');
    var keys = keyAliases(key);
    var current = keys.some(function (k) { return now[k]; });
    var done = !current && keys.some(function (k) { return k in FIRST_CUR && FIRST_CUR[k] < FRAME; });
    n.classList.toggle('tg-current', current);
    n.classList.toggle('tg-done', done);
    var sent = SENT_AT[key];
    n.classList.toggle('tg-sent', sent === FRAME);
    n.classList.toggle('tg-arrived', sent !== undefined && sent < FRAME);
  });
}

function allKeyed() { return Array.prototype.slice.call(byId('strip').querySelectorAll('[data-k]')); }

function captionLines(box, frame) {
  frame.cap.forEach(function (line) { box.appendChild(addRuns(el('div', 'line'), line)); });
}

function writeCaption() {
  var box = byId('caption');
  box.textContent = '';
  var count = DATA.frames.length;
  if (!count) {
    box.appendChild(el('div', 'step', 'No backward step: nothing needs a gradient.'));
    return;
  }
  if (FRAME < 0) {
    box.appendChild(el('div', 'step', 'The backward pass in ' + count + ' steps'));
    box.appendChild(el('div', null, 'Every gradient is drawn (dashed red; purple: from the next step). ' +
                       'Press ▶ play, or → when the picture has the focus, to follow the pass from the loss ' +
                       'down, one op or Σ at a time.'));
    FOLDBOXES.forEach(function (f) { f.box.classList.remove('tg-current'); });
    return;
  }
  var frame = DATA.frames[FRAME];
  box.appendChild(el('div', 'step', 'Backward step ' + (FRAME + 1) + ' of ' + count));
  captionLines(box, frame);
  var fold = foldOf(frame.t);
  FOLDBOXES.forEach(function (f) { f.box.classList.toggle('tg-current', f === fold); });
  if (fold) {
    box.appendChild(el('div', 'where', 'This step is inside the folded steps ' + stepsText(fold.a, fold.b) +
                       ': click the grey box (or "show it") to open them.'));
    var open = el('button', null, 'show it');
    open.type = 'button';
    open.addEventListener('click', function () { revealStep(frame.t).then(function () { showFrame(FRAME, true); }); });
    box.appendChild(open);
  } else if (frame.t !== null && frame.t !== undefined) {
    box.appendChild(el('div', 'where', timeLabel(frame.t)));
  }
}

function writeHash() {
  var parts = [];
  if (FRAME >= 0) { parts.push('frame=' + (FRAME + 1)); }
  if (DATA.film && UPDATE !== null) { parts.push('update=' + (UPDATE + 1)); }
  var url = parts.length ? '#' + parts.join('&') : location.pathname + location.search;
  try { history.replaceState(null, '', url); } catch (e) { /* a sandboxed srcdoc page has no URL to change */ }
}

function readHash() {
  var found = {};
  (location.hash || '').replace(/^#/, '').split('&').forEach(function (part) {
    var kv = part.split('=');
    if (kv.length === 2 && /^\d+$/.test(kv[1])) { found[kv[0]] = +kv[1] - 1; }
  });
  return found;
}

function showFrame(i, scroll) {
  var count = DATA.frames.length;
  FRAME = i < 0 ? -1 : Math.min(count - 1, i);
  paintStory(allKeyed());
  writeCaption();
  byId('slider').value = Math.max(FRAME, 0);
  byId('counter').textContent = !count ? 'no steps' : FRAME < 0 ? '– / ' + count : 'step ' + (FRAME + 1) + ' / ' + count;
  byId('prev').disabled = byId('first').disabled = FRAME <= 0;
  byId('next').disabled = byId('last').disabled = FRAME >= count - 1;
  writeHash();
  if (!HOVERED) { showDetails(restingKey()); }
  if (scroll && count && FRAME >= 0) {
    var frame = DATA.frames[FRAME];
    var fold = foldOf(frame.t);
    reveal(fold ? fold.box : elementsOf(frame.cur[0])[0]);
  }
}

function play(on) {
  if (PLAYING) { clearInterval(PLAYING); PLAYING = null; }
  if (on) {
    if (FRAME < 0 || FRAME >= DATA.frames.length - 1) { showFrame(0, true); }
    PLAYING = setInterval(function () {
      if (FRAME >= DATA.frames.length - 1) { play(false); return; }
      showFrame(FRAME + 1, true);
    }, SPEEDS[+byId('speed').value]);
  }
  byId('play').textContent = PLAYING ? '❚❚ pause' : '▶ play';
  byId('play').setAttribute('aria-pressed', PLAYING ? 'true' : 'false');
}

// keys act when the page or the picture has the focus, never inside the panel (which scrolls)
// or a field; the slider keeps its own arrow keys
function keyTarget(e) {
  var t = e.target;
  if (e.altKey || e.ctrlKey || e.metaKey) { return false; }
  if (t === document.body || t === document.documentElement || t.id === 'app' || t.id === 'viewport') {
    return true;
  }
  return t.tagName === 'BUTTON' && byId('bar').contains(t) && e.key !== ' ' && e.key !== 'Enter';
}

function setUpStory() {
  prepareStory();
  var slider = byId('slider');
  slider.max = Math.max(0, DATA.frames.length - 1);
  slider.addEventListener('input', function () { play(false); showFrame(+slider.value, true); });
  byId('prev').addEventListener('click', function () { play(false); showFrame(FRAME - 1, true); });
  byId('next').addEventListener('click', function () { play(false); showFrame(FRAME + 1, true); });
  byId('first').addEventListener('click', function () { play(false); showFrame(0, true); });
  byId('last').addEventListener('click', function () { play(false); showFrame(DATA.frames.length - 1, true); });
  byId('play').addEventListener('click', function () { play(!PLAYING); });
  byId('speed').addEventListener('change', function () { if (PLAYING) { play(true); } });
  document.addEventListener('keydown', function (e) {
    if (!keyTarget(e)) { return; }
    var moves = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1};
    if (e.key in moves) { play(false); showFrame(FRAME + moves[e.key], true); }
    else if (e.key === 'Home') { play(false); showFrame(0, true); }
    else if (e.key === 'End') { play(false); showFrame(DATA.frames.length - 1, true); }
    else if (e.key === ' ' && e.target.tagName !== 'BUTTON') { play(!PLAYING); }
    else { return; }
    e.preventDefault();
  });
  window.addEventListener('hashchange', function () {
    var h = readHash();
    var frame = 'frame' in h ? h.frame : -1;
    if (frame !== FRAME) { showFrame(frame, true); }
  });
  onAttach.push(function (svg) { paintStory(Array.prototype.slice.call(svg.querySelectorAll('[data-k]'))); });
  onStripChange.push(function () { writeCaption(); });
}
