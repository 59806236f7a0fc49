// view: pan (drag) and zoom (wheel, + and − buttons) of the strip inside the viewport, "fit",
// and moving an element into view. A drag of more than a few pixels is not a click.
var VIEW = {s: 1, x: 0, y: 0};
var DRAG = null;
var lastDragEnd = 0;

function applyView() {
  byId('strip').style.transform = 'translate(' + VIEW.x + 'px,' + VIEW.y + 'px) scale(' + VIEW.s + ')';
}

function dragged() { return Date.now() - lastDragEnd < 50; }

function zoomAt(px, py, factor) {
  var s = Math.min(4, Math.max(0.05, VIEW.s * factor));
  VIEW.x = px - (px - VIEW.x) * s / VIEW.s;
  VIEW.y = py - (py - VIEW.y) * s / VIEW.s;
  VIEW.s = s;
  applyView();
}

function zoomCentre(factor) {
  var vp = byId('viewport');
  zoomAt(vp.clientWidth / 2, vp.clientHeight / 2, factor);
}

function stripSize() {
  var strip = byId('strip');
  return [strip.offsetWidth, strip.offsetHeight];
}

function fit() {
  var vp = byId('viewport');
  var size = stripSize();
  var s = Math.min(vp.clientWidth / size[0], vp.clientHeight / size[1], 1.5);
  VIEW.s = s;
  VIEW.x = (vp.clientWidth - size[0] * s) / 2;
  VIEW.y = (vp.clientHeight - size[1] * s) / 2;
  applyView();
}

// the first view: the whole picture when it is readable so, else full height at the right end
// (where the backward pass starts)
function firstView() {
  var vp = byId('viewport');
  var size = stripSize();
  fit();
  if (VIEW.s < 0.55) {
    VIEW.s = Math.max(VIEW.s, Math.min(1, vp.clientHeight / size[1]));
    VIEW.x = vp.clientWidth - size[0] * VIEW.s;
    VIEW.y = (vp.clientHeight - size[1] * VIEW.s) / 2;
    applyView();
  }
}

function reveal(node) {
  if (!node || !attached(node)) { return; }
  var vp = byId('viewport').getBoundingClientRect();
  var r = node.getBoundingClientRect();
  if (r.width < 3 && r.height < 3 && VIEW.s < 0.6) {
    zoomAt((r.left + r.right) / 2 - vp.left, (r.top + r.bottom) / 2 - vp.top, 0.8 / VIEW.s);
    r = node.getBoundingClientRect();
  }
  var margin = 40;
  if (r.left >= vp.left + margin && r.right <= vp.right - margin &&
      r.top >= vp.top + margin && r.bottom <= vp.bottom - margin) { return; }
  VIEW.x += (vp.left + vp.right) / 2 - (r.left + r.right) / 2;
  VIEW.y += (vp.top + vp.bottom) / 2 - (r.top + r.bottom) / 2;
  applyView();
}

function setUpView() {
  var vp = byId('viewport');
  vp.addEventListener('wheel', function (e) {
    e.preventDefault();
    var rect = vp.getBoundingClientRect();
    var step = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    zoomAt(e.clientX - rect.left, e.clientY - rect.top, Math.exp(-step * 0.0015));
  }, {passive: false});
  vp.addEventListener('pointerdown', function (e) {
    if (e.button !== 0) { return; }
    DRAG = {x: e.clientX, y: e.clientY, vx: VIEW.x, vy: VIEW.y, moved: false};
  });
  window.addEventListener('pointermove', function (e) {
    if (!DRAG) { return; }
    var dx = e.clientX - DRAG.x, dy = e.clientY - DRAG.y;
    if (!DRAG.moved && Math.abs(dx) + Math.abs(dy) < 5) { return; }
    DRAG.moved = true;
    vp.classList.add('dragging');
    VIEW.x = DRAG.vx + dx;
    VIEW.y = DRAG.vy + dy;
    applyView();
  });
  window.addEventListener('pointerup', function () {
    if (DRAG && DRAG.moved) { lastDragEnd = Date.now(); }
    DRAG = null;
    vp.classList.remove('dragging');
  });
  byId('fit').addEventListener('click', fit);
  byId('zoom-in').addEventListener('click', function () { zoomCentre(1.25); });
  byId('zoom-out').addEventListener('click', function () { zoomCentre(0.8); });
}
