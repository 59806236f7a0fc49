// main: decode the data, draw the first windows, then wire everything; body[data-ready="1"]
// says the page is interactive (the browser test and the benchmark wait for it).
function start() {
  return gunzip(blobText('tg-data')).then(function (text) {
    DATA = JSON.parse(text);
    return Promise.all(shownWindows(null, []).map(decodeWindow));
  }).then(function () {
    setUpView();
    setUpPanel();
    setUpStory();
    setUpFlow();
    renderStrip();
    setUpFilm();
    var h = readHash();
    showFrame('frame' in h ? h.frame : DATA.start, DATA.start >= 0);
    firstView();
    document.body.setAttribute('data-ready', '1');
  }).catch(function (error) {
    var box = byId('caption');
    box.textContent = 'This page could not start: ' + error + '. It needs a browser with ' +
      'DecompressionStream (Chrome 80, Firefox 113, Safari 16.4 or later).';
    document.body.setAttribute('data-ready', 'error');
  });
}

// for the console (and the browser test): move the picture from a script
window.tinygraphExplorer = {
  fit: fit, reveal: reveal, showFrame: function (i) { showFrame(i, true); },
  zoomTo: function (s) { zoomCentre(s / VIEW.s); }, pick: function (key) { pick(key, true); }
};

start();
