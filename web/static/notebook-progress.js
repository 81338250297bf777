// The notebook progress page: follows the start of a notebook instance
// through server-sent events and opens the notebook when it is InService.
// Without script the page reloads itself (a <noscript> refresh), so this
// only makes it live.
(function () {
  'use strict';
  var box = document.getElementById('progress');
  if (!box || !window.EventSource) return;
  var stateEl = document.getElementById('state');
  var elapsedEl = document.getElementById('elapsed');
  var historyEl = document.getElementById('history');
  var problemEl = document.getElementById('problem');
  var launch = box.getAttribute('data-launch');
  var elapsed = parseInt(box.getAttribute('data-elapsed'), 10) || 0;
  var shown = historyEl.children.length;
  var finished = false;

  function text(sec) {
    return sec < 60 ? sec + ' s' : Math.floor(sec / 60) + ' min ' + ('0' + (sec % 60)).slice(-2) + ' s';
  }
  var ticker = setInterval(function () { elapsed += 1; elapsedEl.textContent = text(elapsed); }, 1000);

  function classOf(state) {
    switch (state) {
      case 'InService': return 'ok';
      case 'Pending': case 'Updating': case 'Stopping': return 'busy';
      case 'Stopped': case 'Not created': return 'stopped';
      case 'Failed': case 'Deleting': return 'failed';
    }
    return '';
  }

  function show(st) {
    stateEl.textContent = st.state;
    stateEl.className = 'state state-' + classOf(st.state);
    elapsed = st.elapsedSeconds;
    elapsedEl.textContent = text(elapsed);
    var history = st.history || [];
    for (; shown < history.length; shown++) {
      var li = document.createElement('li');
      var name = document.createElement('span');
      name.className = 'history-state';
      name.textContent = history[shown].state;
      var at = document.createElement('span');
      at.className = 'meta';
      at.textContent = 'at ' + new Date(history[shown].at).toISOString().substr(11, 8) + ' UTC';
      li.appendChild(name);
      li.appendChild(document.createTextNode(' '));
      li.appendChild(at);
      historyEl.appendChild(li);
    }
  }

  function end() {
    finished = true;
    clearInterval(ticker);
    source.close();
  }

  var source = new EventSource(box.getAttribute('data-events'));
  source.addEventListener('state', function (e) { show(JSON.parse(e.data)); });
  source.addEventListener('ready', function () {
    end();
    document.getElementById('title').textContent = 'Opening your notebook';
    window.location.replace(launch);
  });
  source.addEventListener('failed', function (e) {
    end();
    var st = JSON.parse(e.data);
    problemEl.textContent = st.error ? st.error.detail : 'The notebook did not start.';
    problemEl.hidden = false;
    document.getElementById('check').textContent = 'Try again';
  });
  source.addEventListener('idle', function () {
    // Nothing is waiting here any more: opening starts (or joins) it.
    end();
    window.location.replace(launch);
  });
  source.onerror = function () {
    if (finished) return;
    // The stream broke (a proxy, a restart): reload, which joins the wait.
    end();
    setTimeout(function () { window.location.reload(); }, 3000);
  };
})();
