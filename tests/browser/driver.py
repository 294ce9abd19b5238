#!/usr/bin/env python3
"""Open delever HTML reports in headless Chromium and check them.

Talks the DevTools protocol over --remote-debugging-pipe (file descriptors 3 and 4), so it
needs nothing but the Python standard library and a Chromium binary. For every report it
asserts: no console errors, warnings or uncaught exceptions; no network request other than
the file itself; the charts' SVG elements are present; the player steps (the first-round
button shows round 0, "next" moves the round label, the price cursor and the sales bars).
A timeline's page (its data says `mode: timeline`) has one sales bar a day, a days table,
and day buttons that jump from one day's close to the next; its player steps through every
round of every day.
Every page is also checked for layout at 1400x900 and on A4 in print emulation
(LAYOUT_JS: nothing wider than its card, tables inside their containers, no overlapping
SVG text labels, no sideways scrolling); a run's page (timelines too) prints on at most
MAX_PRINT_PAGES A4 pages, and `?round=N` opens it at round N.
It saves screenshots (laptop screen, full page, print layout, a round-1 view) to OUT_DIR.

usage: driver.py CHROMIUM OUT_DIR REPORT.html...
"""

import base64
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TIMEOUT = 30.0
LAPTOP = (1366, 768)
# The review size: a 1400x900 window; and A4 at 96 dpi for print emulation.
DESKTOP = (1400, 900)
A4 = (794, 1123)
# Most A4 pages a run's report may print to (issue 17).
MAX_PRINT_PAGES = 4

# Layout checks run in the page: every element inside its card (a figure, a headline
# card, a table's box), SVG text labels that do not overlap one another, and no table
# wider than its container unless it sits in a scrolling data panel (.scroll, the sweep's
# full data table). Returns a list of problems, each naming the element.
LAYOUT_JS = r"""(() => {
  const out = [];
  const visible = (e) => {
    for (let n = e; n && n.nodeType === 1; n = n.parentElement) {
      const cs = getComputedStyle(n);
      if (cs.display === 'none' || cs.visibility === 'hidden' || parseFloat(cs.opacity) === 0) return false;
      if (n.tagName === 'DETAILS' && !n.open && e !== n && !e.closest('summary')) return false;
    }
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const name = (e) => {
    const id = e.id ? '#' + e.id : '';
    const card = e.closest('figure[id], table[id], section[id]');
    const where = card && card !== e ? ' in #' + card.id : '';
    const txt = (e.textContent || '').trim().slice(0, 40);
    return e.tagName.toLowerCase() + id + (e.getAttribute('class') ? '.' + e.getAttribute('class').split(' ')[0] : '') + where + (txt ? ' "' + txt + '"' : '');
  };
  const scrolls = (e) => !!e.closest('.scroll');
  // 1. Nothing wider than its card.
  for (const card of document.querySelectorAll('figure, .card')) {
    if (!visible(card)) continue;
    const c = card.getBoundingClientRect();
    for (const e of card.querySelectorAll('*')) {
      if (scrolls(e) || !visible(e) || e.closest('title, desc')) continue;
      const r = e.getBoundingClientRect();
      if (r.left < c.left - 1 || r.right > c.right + 1) {
        out.push('wider than its card: ' + name(e) + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + ', card ' + Math.round(c.left) + '..' + Math.round(c.right));
        break;
      }
    }
  }
  // 2. Tables inside their container, without scrolling.
  for (const t of document.querySelectorAll('table')) {
    if (scrolls(t) || !visible(t)) continue;
    const box = t.parentElement.getBoundingClientRect();
    const r = t.getBoundingClientRect();
    if (r.right > box.right + 1 || r.left < box.left - 1 || t.scrollWidth > t.clientWidth + 1) {
      out.push('table wider than its container: ' + name(t) + ' ' + Math.round(r.width) + 'px in ' + Math.round(box.width) + 'px');
    }
    const m = document.querySelector('main').getBoundingClientRect();
    if (r.right > m.right + 1) out.push('table past the page: ' + name(t));
  }
  // 3. SVG text labels that overlap (by more than 1 px each way).
  for (const svg of document.querySelectorAll('svg')) {
    if (!visible(svg)) continue;
    const boxes = [];
    for (const t of svg.querySelectorAll('text')) {
      if (!visible(t) || !(t.textContent || '').trim()) continue;
      boxes.push([t, t.getBoundingClientRect()]);
    }
    let found = 0;
    for (let i = 0; i < boxes.length && found < 3; i++) {
      for (let j = i + 1; j < boxes.length && found < 3; j++) {
        const a = boxes[i][1], b = boxes[j][1];
        const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
        const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
        if (w > 1 && h > 1) {
          found++;
          out.push('overlapping labels in svg#' + (svg.id || '?') + ': "' + boxes[i][0].textContent.trim().slice(0, 30) + '" and "' + boxes[j][0].textContent.trim().slice(0, 30) + '"');
        }
      }
    }
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    out.push('the page scrolls sideways: ' + document.documentElement.scrollWidth + 'px in ' + window.innerWidth + 'px');
  }
  return out;
})()"""


def layout(page, name, label):
    """The layout checks at the current size and media; fails with every problem found."""
    found = page.eval(LAYOUT_JS)
    assert not found, f"{name} ({label}): " + "; ".join(found)


def layout_both(page, name):
    """The layout checks at 1400x900 on screen, then on A4 in print emulation."""
    page.viewport(*DESKTOP)
    layout(page, name, "1400x900")
    page.call("Emulation.setEmulatedMedia", {"media": "print"})
    page.viewport(*A4)
    layout(page, name, "A4 print")
    page.call("Emulation.setEmulatedMedia", {"media": ""})
    page.viewport(*LAPTOP)


def print_pages(page):
    """Pages of the document printed on A4 (Chromium's print to PDF, counting its pages)."""
    data = page.call(
        "Page.printToPDF",
        {"paperWidth": 8.27, "paperHeight": 11.69, "preferCSSPageSize": True, "printBackground": True},
    )["data"]
    pdf = base64.b64decode(data)
    return pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")


class Chrome:
    """A headless Chromium with a DevTools pipe."""

    def __init__(self, binary):
        self.profile = tempfile.mkdtemp(prefix="delever-chromium-")
        to_chrome_r, to_chrome_w = os.pipe()
        from_chrome_r, from_chrome_w = os.pipe()
        # Keep the child's ends away from 3 and 4 until the child moves them there.
        child_r = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 100)
        child_w = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 100)
        os.close(to_chrome_r)
        os.close(from_chrome_w)

        def wire():
            os.dup2(child_r, 3)
            os.dup2(child_w, 4)

        args = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--mute-audio",
            "--user-data-dir=" + self.profile,
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(child_r)
        os.close(child_w)
        self.out = os.fdopen(to_chrome_w, "wb", buffering=0)
        self.inp = os.fdopen(from_chrome_r, "rb", buffering=0)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            if time.time() > deadline:
                raise TimeoutError("no answer from Chromium")
            chunk = self.inp.read(65536)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        mid = self.next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.out.write(json.dumps(msg).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m.get("id") == mid:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, method, session, deadline_s=TIMEOUT):
        deadline = time.time() + deadline_s
        for i, e in enumerate(self.events):
            if e.get("method") == method and e.get("sessionId") == session:
                del self.events[i]
                return e
        while True:
            m = self._read_message(deadline)
            if m.get("method") == method and m.get("sessionId") == session:
                return m
            self.events.append(m)

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    def __init__(self, chrome):
        self.c = chrome
        target = chrome.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = chrome.call(
            "Target.attachToTarget", {"targetId": target, "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def call(self, method, params=None):
        return self.c.call(method, params, self.session)

    def eval(self, expr):
        r = self.call(
            "Runtime.evaluate",
            {"expression": expr, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in r:
            raise AssertionError(f"script failed: {expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def viewport(self, width, height):
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def open(self, url):
        self.call("Page.navigate", {"url": url})
        self.c.wait_event("Page.loadEventFired", self.session)

    def screenshot(self, path, full=False):
        params = {"format": "png"}
        if full:
            size = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": size["width"],
                "height": size["height"],
                "scale": 1,
            }
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def screenshot_pages(self, prefix, page_height, pages):
        """The first `pages` page-sized slices of the full page (for reviewing print)."""
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        for i in range(pages):
            y = i * page_height
            if y >= size["height"]:
                break
            clip = {
                "x": 0,
                "y": y,
                "width": size["width"],
                "height": min(page_height, size["height"] - y),
                "scale": 1,
            }
            data = self.call(
                "Page.captureScreenshot",
                {"format": "png", "clip": clip, "captureBeyondViewport": True},
            )["data"]
            with open(f"{prefix}-{i + 1}.png", "wb") as f:
                f.write(base64.b64decode(data))

    def element_shot(self, selector, path):
        """A screenshot of one element (for reviewing a figure at full size)."""
        box = self.eval(
            f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect();"
            " return {x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height}; })()"
        )
        clip = {"x": box["x"], "y": box["y"], "width": box["w"], "height": box["h"], "scale": 1}
        data = self.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
        )["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def problems(self, own_url):
        """Console errors and warnings, exceptions, and requests to anything but the file."""
        found = []
        keep = []
        for e in self.c.events:
            if e.get("sessionId") != self.session:
                keep.append(e)
                continue
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                found.append(f"console.{p['type']}: {p.get('args')}")
            elif m == "Runtime.exceptionThrown":
                found.append(f"exception: {p.get('exceptionDetails')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                found.append(f"log {p['entry'].get('level')}: {p['entry'].get('text')} {p['entry'].get('url', '')}")
            elif m == "Page.javascriptDialogOpening":
                found.append(f"a dialog opened: {p.get('message')}")
            elif m == "Network.requestWillBeSent":
                url = p["request"]["url"]
                if url != own_url and not url.startswith("data:"):
                    found.append(f"network request: {url}")
        self.c.events = keep
        return found


def check(page, path, out_dir):
    name = os.path.splitext(os.path.basename(path))[0]
    url = "file://" + os.path.abspath(path)
    page.viewport(*LAPTOP)
    page.open(url)
    errors = page.problems(url)
    assert not errors, f"{name}: {errors}"

    data = page.eval("JSON.parse(document.getElementById('delever-data').textContent)")
    if data.get("mode") == "timeline":
        return check_timeline(page, name, url, data, out_dir)
    counts = page.eval(
        """({
        n: JSON.parse(document.getElementById('delever-data').textContent).n,
        lines: document.querySelectorAll('#price-chart polyline.pline').length,
        bars: document.querySelectorAll('#sales-chart g.bar').length,
        waterfall: document.querySelectorAll('#waterfall rect').length,
        holders: document.querySelectorAll('#network circle.hn').length,
        assets: document.querySelectorAll('#network circle.an').length,
        titles: document.querySelectorAll('svg > title').length,
        svgs: document.querySelectorAll('svg[role=img]').length,
        nojs: document.documentElement.classList.contains('no-js'),
        player: getComputedStyle(document.getElementById('player')).display,
        label: document.getElementById('round-label').textContent,
        remote: Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => /^(https?:)?\\/\\//.test(u)).length
    })"""
    )
    injected = page.eval("window.__pwned !== undefined || document.title.indexOf('pwned') >= 0")
    assert not injected, f"{name}: a scenario string ran as script"
    n = counts["n"]
    assert counts["lines"] >= 2, counts  # at least one asset and the index
    assert counts["bars"] == n, counts
    assert counts["waterfall"] >= 1, counts
    assert counts["holders"] >= 1 and counts["assets"] >= 1, counts
    assert counts["svgs"] == 4 and counts["titles"] == 4, counts
    assert not counts["nojs"], "the script did not run"
    assert counts["player"] != "none", counts
    assert counts["label"] == f"Round {n} of {n}", counts
    assert counts["remote"] == 0, counts

    layout_both(page, name)
    pages = print_pages(page)
    assert 1 <= pages <= MAX_PRINT_PAGES, f"{name}: prints on {pages} A4 pages, more than {MAX_PRINT_PAGES}"

    page.screenshot(os.path.join(out_dir, f"{name}-laptop.png"))
    page.screenshot(os.path.join(out_dir, f"{name}-full.png"), full=True)
    for fig in ("fig-prices", "fig-sales", "fig-network", "fig-waterfall"):
        page.element_shot("#" + fig, os.path.join(out_dir, f"{name}-{fig}.png"))

    # The player: back to just after the shock, then one step.
    state = """({
        label: document.getElementById('round-label').textContent,
        cursor: document.getElementById('price-cursor').getAttribute('x1'),
        future: document.querySelectorAll('#sales-chart g.bar.future').length,
        current: document.querySelectorAll('#sales-chart g.bar.current').length,
        classes: Array.from(document.querySelectorAll('#network circle.hn')).map(c => c.getAttribute('class')).join('|'),
        slider: document.getElementById('round-slider').value,
        summary: document.getElementById('round-summary').textContent
    })"""
    end = page.eval(state)
    page.eval("document.getElementById('btn-first').click()")
    first = page.eval(state)
    assert first["label"] == f"After the shock (0 of {n})", first
    assert first["future"] == n and first["current"] == 0, first
    assert first["slider"] == "0", first
    assert first["cursor"] != end["cursor"], (first, end)
    page.eval("document.getElementById('btn-next').click()")
    one = page.eval(state)
    assert one["label"] == f"Round 1 of {n}", one
    assert one["cursor"] != first["cursor"], (one, first)
    assert one["current"] == 1 and one["future"] == n - 1, one
    assert one["summary"].startswith("Round 1:"), one
    assert one["classes"] != first["classes"] or "st-unaffected" in one["classes"], one
    page.screenshot(os.path.join(out_dir, f"{name}-round1.png"))
    # Keyboard: the right arrow steps from anywhere on the page.
    page.eval("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}))")
    two = page.eval(state)
    assert two["label"] == (f"Round 2 of {n}" if n >= 2 else f"Round 1 of {n}"), two
    # Keyboard: End (focus in the player) goes to the final round.
    page.eval("document.getElementById('player').dispatchEvent(new KeyboardEvent('keydown', {key: 'End', bubbles: true}))")
    back = page.eval(state)
    assert back == end, (back, end)

    # Play: from the last round it restarts at 0 and advances on its own; a second click
    # pauses it.
    page.eval("document.getElementById('btn-play').click()")
    started = page.eval(state)
    assert started["label"] == f"After the shock (0 of {n})", started
    time.sleep(1.3)
    page.eval("document.getElementById('btn-play').click()")
    played = page.eval(state)
    assert played["label"] != started["label"], (played, started)
    assert page.eval("document.getElementById('btn-play').getAttribute('aria-pressed')") == "false"
    page.eval("document.getElementById('btn-last').click()")

    # Print layout.
    page.call("Emulation.setEmulatedMedia", {"media": "print"})
    page.viewport(794, 1123)
    width = page.eval("document.documentElement.scrollWidth")
    assert width <= 794, f"{name}: the print layout is {width}px wide, wider than A4"
    page.screenshot_pages(os.path.join(out_dir, f"{name}-print"), 1123, 3)
    page.call("Emulation.setEmulatedMedia", {"media": ""})
    errors = page.problems(url)
    assert not errors, f"{name}: {errors}"

    # `?round=0` opens at round 0 (for teaching), `?round=1` at round 1; too large a round
    # opens at the end.
    for query, want in (("0", f"After the shock (0 of {n})"), ("1", f"Round 1 of {n}"), ("99999", f"Round {n} of {n}")):
        page.viewport(*LAPTOP)
        page.open(url + "?round=" + query)
        got = page.eval("document.getElementById('round-label').textContent")
        slider = page.eval("document.getElementById('round-slider').value")
        assert got == want, f"{name}: ?round={query} opened at {got!r}, not {want!r}"
        assert slider == str(min(int(query), n)), (name, query, slider)
        errors = page.problems(url + "?round=" + query)
        assert not errors, f"{name}: {errors}"
    layout_both(page, name + " at round 1")
    return n


def check_timeline(page, name, url, data, out_dir):
    """A timeline's page: price paths over days, sales per day, the day player."""
    n, days, ends, steps = data["n"], data["days"], data["dayEnds"], data["steps"]
    assert days >= 2 and len(ends) == days and n >= days, (n, days, ends)
    counts = page.eval(
        """({
        closes: document.querySelectorAll('#price-chart polyline.pline').length,
        fundamentals: document.querySelectorAll('#price-chart polyline.fline').length,
        candles: document.querySelectorAll('#price-chart g.candle').length,
        bars: document.querySelectorAll('#sales-chart g.bar[data-day]').length,
        dayRows: document.querySelectorAll('#days-table tbody tr').length,
        waterfall: document.querySelectorAll('#waterfall rect').length,
        holders: document.querySelectorAll('#network circle.hn').length,
        titles: document.querySelectorAll('svg > title').length,
        svgs: document.querySelectorAll('svg[role=img]').length,
        nojs: document.documentElement.classList.contains('no-js'),
        player: getComputedStyle(document.getElementById('player')).display,
        label: document.getElementById('round-label').textContent,
        remote: Array.from(document.querySelectorAll('[src],[href]')).map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => /^(https?:)?\\/\\//.test(u)).length
    })"""
    )
    injected = page.eval("window.__pwned !== undefined || document.title.indexOf('pwned') >= 0")
    assert not injected, f"{name}: a scenario string ran as script"
    # Each drawn asset: a close line (twice: the faint whole path and the path so far), a
    # dashed fundamental and a candle a day; the index: a close line (twice).
    lines = counts["fundamentals"]
    assert lines >= 1 and counts["closes"] == 2 * (lines + 1), counts
    assert counts["candles"] == lines * days, counts
    assert counts["bars"] == days and counts["dayRows"] == days, counts
    assert counts["waterfall"] >= 1 and counts["holders"] >= 1, counts
    assert counts["svgs"] == 4 and counts["titles"] == 4, counts
    assert not counts["nojs"], "the script did not run"
    assert counts["player"] != "none", counts
    assert counts["label"] == steps[n]["label"], counts
    assert counts["remote"] == 0, counts

    layout_both(page, name)
    pages = print_pages(page)
    assert 1 <= pages <= MAX_PRINT_PAGES, f"{name}: prints on {pages} A4 pages, more than {MAX_PRINT_PAGES}"

    page.screenshot(os.path.join(out_dir, f"{name}-laptop.png"))
    page.screenshot(os.path.join(out_dir, f"{name}-full.png"), full=True)
    for fig in ("fig-prices", "fig-sales", "fig-network", "fig-waterfall"):
        page.element_shot("#" + fig, os.path.join(out_dir, f"{name}-{fig}.png"))

    state = """({
        label: document.getElementById('round-label').textContent,
        cursor: document.getElementById('price-cursor').getAttribute('x1'),
        dots: Array.from(document.querySelectorAll('#price-chart .pdot')).map(c => c.getAttribute('cy')).join('|'),
        clip: document.getElementById('price-clip-rect').getAttribute('width'),
        future: document.querySelectorAll('#sales-chart g.bar.future').length,
        current: document.querySelectorAll('#sales-chart g.bar.current').length,
        row: Array.from(document.querySelectorAll('#days-table tr.current')).map(r => r.getAttribute('data-day')).join(','),
        slider: document.getElementById('round-slider').value,
        summary: document.getElementById('round-summary').textContent
    })"""
    click = lambda b: page.eval(f"document.getElementById('{b}').click()")
    end = page.eval(state)
    assert end["row"] == str(days - 1) and end["future"] == 0, end
    click("btn-first")
    first = page.eval(state)
    assert first["label"] == steps[0]["label"], first
    assert first["future"] == days and first["current"] == 0 and first["row"] == "", first
    assert first["slider"] == "0", first
    assert first["cursor"] != end["cursor"] and first["clip"] != end["clip"], (first, end)
    click("btn-next")
    one = page.eval(state)
    assert one["label"] == steps[1]["label"] and one["label"].startswith("Day 0, round 1"), one
    assert one["current"] == 1 and one["future"] == days - 1 and one["row"] == "0", one
    assert one["summary"].startswith("Day 0, round 1"), one
    page.screenshot(os.path.join(out_dir, f"{name}-round1.png"))
    # The day buttons: from the first round, to the close of day 0, then of day 1, and back.
    click("btn-next-day")
    d0 = page.eval(state)
    assert d0["label"] == steps[ends[0]]["label"] and d0["slider"] == str(ends[0]), d0
    assert "Day 0 closes" in d0["summary"], d0
    click("btn-next-day")
    d1 = page.eval(state)
    assert d1["label"] == steps[ends[1]]["label"] and d1["row"] == "1", d1
    assert d1["cursor"] != d0["cursor"] and d1["clip"] != d0["clip"], (d1, d0)
    assert d1["current"] == 1 and d1["future"] == days - 2, d1
    click("btn-prev-day")
    back0 = page.eval(state)
    assert back0 == d0, (back0, d0)
    # Keyboard: the right arrow steps one round; PageDown (in the player) one day.
    page.eval("document.body.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}))")
    right = page.eval(state)
    assert right["slider"] == str(ends[0] + 1) and right["label"].startswith("Day 1, round 1"), right
    page.eval("document.getElementById('player').dispatchEvent(new KeyboardEvent('keydown', {key: 'PageDown', bubbles: true}))")
    # PageDown goes to the next day's close after the current step: day 1's, unless day 1
    # has a single round (then its first round is its close, and the next is day 2's).
    nxt = next((e for e in ends if e > ends[0] + 1), n)
    after = page.eval(state)
    if nxt == ends[1]:
        assert after == d1, (after, d1)
    else:
        assert after["slider"] == str(nxt) and after["label"] == steps[nxt]["label"], (after, nxt)
    page.eval("document.getElementById('player').dispatchEvent(new KeyboardEvent('keydown', {key: 'End', bubbles: true}))")
    back = page.eval(state)
    assert back == end, (back, end)
    page.screenshot(os.path.join(out_dir, f"{name}-day1.png"))

    click("btn-play")
    started = page.eval(state)
    assert started["label"] == steps[0]["label"], started
    time.sleep(1.3)
    click("btn-play")
    played = page.eval(state)
    assert played["label"] != started["label"], (played, started)
    click("btn-last")

    page.call("Emulation.setEmulatedMedia", {"media": "print"})
    page.viewport(794, 1123)
    width = page.eval("document.documentElement.scrollWidth")
    assert width <= 794, f"{name}: the print layout is {width}px wide, wider than A4"
    page.screenshot_pages(os.path.join(out_dir, f"{name}-print"), 1123, 3)
    page.call("Emulation.setEmulatedMedia", {"media": ""})
    errors = page.problems(url)
    assert not errors, f"{name}: {errors}"
    return n, days


def check_batch(page, path, out_dir):
    """A sweep or Monte Carlo page: no script, so only rendering, requests and charts."""
    name = os.path.splitext(os.path.basename(path))[0]
    url = "file://" + os.path.abspath(path)
    page.viewport(*LAPTOP)
    page.open(url)
    errors = page.problems(url)
    assert not errors, f"{name}: {errors}"
    counts = page.eval(
        """({
        svgs: document.querySelectorAll('svg[role=img]').length,
        titles: document.querySelectorAll('svg > title').length,
        paths: document.querySelectorAll('svg polyline, svg path, svg rect, svg circle').length,
        width: document.documentElement.scrollWidth,
    })"""
    )
    assert counts["svgs"] >= 1, counts
    assert counts["titles"] >= counts["svgs"], f"every chart has a title: {counts}"
    assert counts["paths"] > 10, f"charts are drawn: {counts}"
    layout_both(page, name)
    page.viewport(*DESKTOP)
    page.screenshot(os.path.join(out_dir, f"{name}.png"), full=True)
    for fig in page.eval("Array.from(document.querySelectorAll('figure[id]')).map(f => f.id)"):
        page.element_shot("#" + fig, os.path.join(out_dir, f"{name}-{fig}.png"))
    page.call("Emulation.setEmulatedMedia", {"media": "print"})
    page.viewport(*A4)
    page.screenshot_pages(os.path.join(out_dir, f"{name}-print"), A4[1], 3)
    page.call("Emulation.setEmulatedMedia", {"media": ""})
    errors = page.problems(url)
    assert not errors, f"{name}: {errors}"
    return counts["svgs"]


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    binary, out_dir, reports = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(out_dir, exist_ok=True)
    chrome = Chrome(binary)
    failed = 0
    try:
        for path in reports:
            page = Page(chrome)
            try:
                base = os.path.basename(path)
                if base.startswith(("sweep-", "mc-")):
                    n = check_batch(page, path, out_dir)
                    print(f"ok    {base}: {n} charts, no console errors, no requests")
                    continue
                n = check(page, path, out_dir)
                if isinstance(n, tuple):
                    print(f"ok    {base}: {n[0]} rounds over {n[1]} days, day player steps, no console errors, no requests")
                else:
                    print(f"ok    {base}: {n} round{'' if n == 1 else 's'}, player steps, no console errors, no requests")
            except AssertionError as e:
                failed += 1
                print(f"FAIL  {os.path.basename(path)}: {e}")
    finally:
        chrome.close()
    print(f"screenshots in {out_dir}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
