/* delever report: the round-by-round player. No dependencies, no network access.
   Reads the JSON in #delever-data and moves the charts and the network through the rounds:
   step 0 is just after the shock (before any forced sale), step k the end of round k.
   A timeline's steps are every round of every day (step 0: the first day's open); its
   data also says which step closes each day (dayEnds), for the day buttons, and each
   step's day (d), which the per-day sales bars and the days table follow. */
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  var node = document.getElementById("delever-data");
  if (!node) { return; }
  var data = JSON.parse(node.textContent);
  var n = data.n;
  var steps = data.steps;

  function all(sel) { return Array.prototype.slice.call(document.querySelectorAll(sel)); }
  function byId(id) { return document.getElementById(id); }

  var slider = byId("round-slider");
  var label = byId("round-label");
  var summary = byId("round-summary");
  var cursor = byId("price-cursor");
  var clip = byId("price-clip-rect");
  var ends = document.querySelector("#price-chart .end-labels");
  var dots = all("#price-chart .pdot");
  var bars = all("#sales-chart .bar");
  var holders = all("#network .hn");
  var holderText = all("#network .status[data-h]");
  var lenders = all("#network .ln");
  var lenderText = all("#network .status[data-l]");
  var moves = all("#network .move");
  var nowCells = all("td.now");
  var nowHead = byId("now-head");
  var dayEnds = data.dayEnds || null;
  var dayRows = all("#days-table tbody tr");
  var prevDay = byId("btn-prev-day");
  var nextDay = byId("btn-next-day");
  var buttons = {
    first: byId("btn-first"), prev: byId("btn-prev"), play: byId("btn-play"),
    next: byId("btn-next"), last: byId("btn-last")
  };
  var PLAY = buttons.play.innerHTML;
  var PAUSE = '<svg viewBox="0 0 16 16" aria-hidden="true"><rect x="3" y="3" width="3.5" height="10"/>' +
    '<rect x="9.5" y="3" width="3.5" height="10"/></svg> Pause';
  var current = n;
  var timer = null;

  function setClass(el, base, cls) { el.setAttribute("class", base + " " + cls); }

  function show(k) {
    k = Math.max(0, Math.min(n, k));
    current = k;
    var s = steps[k];
    slider.value = String(k);
    slider.setAttribute("aria-valuetext", s.label);
    label.textContent = s.label;
    summary.textContent = s.summary;
    if (cursor) {
      cursor.setAttribute("x1", s.x);
      cursor.setAttribute("x2", s.x);
    }
    if (clip) { clip.setAttribute("width", s.clip !== undefined ? s.clip : s.x + 4); }
    // The final moves are labelled at the right; faint until the player gets there.
    if (ends) { ends.setAttribute("class", k === n ? "end-labels" : "end-labels pending"); }
    dots.forEach(function (d, i) {
      d.setAttribute("cx", s.x);
      d.setAttribute("cy", s.dots[i]);
    });
    bars.forEach(function (b) {
      // Bars are rounds (compared with the step) or days (with the step's day).
      var day = b.getAttribute("data-day");
      var r = Number(day !== null ? day : b.getAttribute("data-round"));
      var at = day !== null ? s.d : k;
      var cls = r > at ? "bar future" : (r === at ? "bar current" : "bar");
      b.setAttribute("class", cls);
    });
    dayRows.forEach(function (tr) {
      tr.classList.toggle("current", Number(tr.getAttribute("data-day")) === s.d);
    });
    holders.forEach(function (c, i) {
      setClass(c, "hn", data.statusClass[s.h[i]]);
    });
    holderText.forEach(function (t, i) {
      t.textContent = " \u00b7 " + data.statusLabel[s.h[i]];
    });
    lenders.forEach(function (r, i) {
      setClass(r, "ln", data.lenderClass[s.l[i]]);
    });
    lenderText.forEach(function (t, i) {
      t.textContent = data.lenderLabel[s.l[i]];
    });
    moves.forEach(function (t, i) { t.textContent = s.a[i]; });
    nowCells.forEach(function (td, i) { td.textContent = s.p[i]; });
    if (nowHead) {
      nowHead.textContent = s.head !== undefined ? s.head : (k === 0 ? "after the shock" : "after round " + k);
    }
    buttons.first.disabled = k === 0;
    buttons.prev.disabled = k === 0;
    buttons.next.disabled = k === n;
    buttons.last.disabled = k === n;
    if (prevDay) { prevDay.disabled = k === 0; }
    if (nextDay) { nextDay.disabled = k === n; }
    root.setAttribute("data-step", String(k));
  }

  function stop() {
    if (timer !== null) {
      clearInterval(timer);
      timer = null;
    }
    buttons.play.innerHTML = PLAY;
    buttons.play.setAttribute("aria-pressed", "false");
  }

  function play() {
    if (timer !== null) { stop(); return; }
    if (current >= n) { show(0); }
    buttons.play.innerHTML = PAUSE;
    buttons.play.setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      if (current >= n) { stop(); return; }
      show(current + 1);
    }, data.interval);
  }

  // A day step goes to the close of the next (previous) day from the step on show.
  function dayStep(dir) {
    if (!dayEnds) { return; }
    var i;
    if (dir > 0) {
      for (i = 0; i < dayEnds.length; i++) {
        if (dayEnds[i] > current) { show(dayEnds[i]); return; }
      }
      show(n);
    } else {
      for (i = dayEnds.length - 1; i >= 0; i--) {
        if (dayEnds[i] < current) { show(dayEnds[i]); return; }
      }
      show(0);
    }
  }

  if (prevDay) { prevDay.addEventListener("click", function () { stop(); dayStep(-1); }); }
  if (nextDay) { nextDay.addEventListener("click", function () { stop(); dayStep(1); }); }
  buttons.first.addEventListener("click", function () { stop(); show(0); });
  buttons.prev.addEventListener("click", function () { stop(); show(current - 1); });
  buttons.next.addEventListener("click", function () { stop(); show(current + 1); });
  buttons.last.addEventListener("click", function () { stop(); show(n); });
  buttons.play.addEventListener("click", play);
  slider.addEventListener("input", function () { stop(); show(Number(slider.value)); });
  // The arrow keys step the player from anywhere on the page (the slider handles its own
  // keys; modified keys are left to the browser).
  document.addEventListener("keydown", function (e) {
    if (e.target === slider || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    var tag = e.target && e.target.tagName;
    if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT") { return; }
    if (e.key === "ArrowRight") { stop(); show(current + 1); e.preventDefault(); }
    if (e.key === "ArrowLeft") { stop(); show(current - 1); e.preventDefault(); }
    // Home and End scroll the page unless the player has the focus.
    var inPlayer = byId("player").contains(e.target);
    if (e.key === "Home" && inPlayer) { stop(); show(0); e.preventDefault(); }
    if (e.key === "End" && inPlayer) { stop(); show(n); e.preventDefault(); }
    if (e.key === "PageDown" && inPlayer && dayEnds) { stop(); dayStep(1); e.preventDefault(); }
    if (e.key === "PageUp" && inPlayer && dayEnds) { stop(); dayStep(-1); e.preventDefault(); }
  });
  // Print the final state, whatever round is on screen.
  var before = n;
  window.addEventListener("beforeprint", function () { before = current; stop(); show(n); });
  window.addEventListener("afterprint", function () { show(before); });
  // `?round=N` (or `#round=N`) in the address opens at step N, for teaching from the
  // shock onwards; anything else opens at the end.
  var asked = /[?&#]round=(\d+)(?:&|$)/.exec(location.search + location.hash);
  show(asked ? Math.min(n, parseInt(asked[1], 10)) : n);
}());
