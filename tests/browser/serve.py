#!/usr/bin/env python3
"""Drive `delever serve`'s page in headless Chromium like a student would.

Starts `delever serve --port 0` on 127.0.0.1, opens its page over the DevTools protocol
(driver.py's Chrome and Page: standard library only), and for each textbook scenario moves
every slider and checks that the numbers shown become the engine's own values for that
setting (`delever run NAME --set PATH=VALUE … --format json`). On cifuentes-shin-ferrucci
it plays both equilibria round by round; it uploads a bad scenario and sees its located
error. Throughout: no console errors or exceptions, and no request leaves 127.0.0.1 (the
one expected log line is the 422 the bad upload gets). The server is stopped with SIGINT
(Ctrl-C) and must exit 0; everything is bounded by a timeout and cleaned up.

usage: serve.py CHROMIUM DELEVER OUT_DIR
"""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import LAPTOP, Chrome, Page  # noqa: E402

TEXTBOOK = [
    "cifuentes-shin-ferrucci",
    "caccioli-overlapping-portfolios",
    "glt-vulnerable-banks",
    "cont-schaanning-threshold",
]
WHOLE_RUN_S = 600

BAD = """name: bad-upload
description: a scenario with a misspelt key
as_of: 2024-01-01
assets: [ { id: A, price: 1.0, shares_outstanding: 1.0e9 } ]
holdres: []
"""


def cli(delever, name, sets):
    args = [delever, "--quiet", "run", name, "--format", "json"]
    for s in sets:
        args += ["--set", s]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 3), f"{args}: {r.stderr}"
    return json.loads(r.stdout)


def wait_for(page, expr, what, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = page.eval(expr)
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}: {expr}")


def solves(page):
    return int(page.eval("Number(document.body.dataset.solves || 0)"))


def shown(page):
    return page.eval(
        """({
        total: Number(document.getElementById('total-loss').dataset.value),
        sales: Number(document.getElementById('forced-sales').dataset.value),
        defaults: Number(document.getElementById('defaults').dataset.value),
        error: document.getElementById('error').textContent,
        changed: document.getElementById('changed').textContent,
        sets: Array.from(document.querySelectorAll('#sliders input[data-moved]')).map(i => i.dataset.path + '=' + i.value),
        title: document.getElementById('report').contentDocument.title
    })"""
    )


def problems(page, origin):
    """Console errors and warnings, exceptions, and requests beyond the server."""
    found = []
    keep = []
    for e in page.c.events:
        if e.get("sessionId") != page.session:
            keep.append(e)
            continue
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
            found.append(f"console.{p['type']}: {p.get('args')}")
        elif m == "Runtime.exceptionThrown":
            found.append(f"exception: {p.get('exceptionDetails')}")
        elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            entry = p["entry"]
            expected = (
                entry.get("source") == "network"
                and entry.get("url", "").endswith("/api/solve")
                and "422" in entry.get("text", "")
            )
            if not expected:
                found.append(f"log {entry.get('level')}: {entry.get('text')} {entry.get('url', '')}")
        elif m == "Network.requestWillBeSent":
            url = p["request"]["url"]
            if not (url.startswith(origin + "/") or url.startswith(("data:", "about:"))):
                found.append(f"a request left the server: {url}")
    page.c.events = keep
    return found


def move(page, index, value):
    """Set slider `index` to `value` as a drag would end, and wait for the re-solve."""
    before = solves(page)
    page.eval(
        f"(() => {{ const i = document.querySelectorAll('#sliders input')[{index}];"
        f" i.value = {json.dumps(str(value))}; i.dispatchEvent(new Event('input', {{bubbles: true}})); }})()"
    )
    wait_for(page, f"Number(document.body.dataset.solves || 0) > {before}", "the re-solve")
    wait_for(page, "document.getElementById('report').contentDocument.readyState === 'complete'", "the report")


def select(page, name):
    before = solves(page)
    page.eval(
        f"(() => {{ const s = document.getElementById('scenario'); s.value = {json.dumps(name)};"
        " s.dispatchEvent(new Event('change')); })()"
    )
    wait_for(page, f"Number(document.body.dataset.solves || 0) > {before}", f"{name} solved")


def player_state(page):
    return page.eval(
        """(() => { const d = document.getElementById('report').contentDocument;
        return { label: d.getElementById('round-label').textContent,
                 n: JSON.parse(d.getElementById('delever-data').textContent).n,
                 title: d.title }; })()"""
    )


def play(page, what):
    """Step the embedded report's player from the shock to round 1, then to the end."""
    frame = "document.getElementById('report').contentDocument"
    end = player_state(page)
    n = end["n"]
    assert n >= 1 and end["label"] == f"Round {n} of {n}", (what, end)
    page.eval(f"{frame}.getElementById('btn-first').click()")
    first = player_state(page)
    assert first["label"] == f"After the shock (0 of {n})", (what, first)
    page.eval(f"{frame}.getElementById('btn-next').click()")
    one = player_state(page)
    assert one["label"] == f"Round 1 of {n}", (what, one)
    page.eval(f"{frame}.getElementById('btn-last').click()")
    return n


def main():
    chromium, delever, out_dir = sys.argv[1], sys.argv[2], sys.argv[3]
    os.makedirs(out_dir, exist_ok=True)
    signal.alarm(WHOLE_RUN_S)  # bounded: a hang fails the step instead of the CI run
    server = subprocess.Popen(
        [delever, "serve", "--port", "0", "--bind", "127.0.0.1"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    chrome = None
    try:
        line = server.stdout.readline()
        assert "http://127.0.0.1:" in line, line
        origin = "http://" + line.split("http://", 1)[1].split("/", 1)[0]
        chrome = Chrome(chromium)
        page = Page(chrome)
        page.viewport(*LAPTOP)
        page.open(origin + "/?scenario=cifuentes-shin-ferrucci")
        wait_for(page, "Number(document.body.dataset.solves || 0) >= 1", "the first solve")
        moved = 0
        for name in TEXTBOOK:
            select(page, name)
            sliders = page.eval(
                "Array.from(document.querySelectorAll('#sliders input')).map(i => ({min: i.min, max: i.max, value: i.value}))"
            )
            assert len(sliders) >= 2, (name, sliders)
            for k, s in enumerate(sliders):
                before = shown(page)
                target = s["max"] if float(s["value"]) == float(s["min"]) else s["min"]
                move(page, k, target)
                now = shown(page)
                assert not now["error"], (name, k, now["error"])
                report = cli(delever, name, now["sets"])
                t = report["totals"]
                assert now["total"] == t["total_loss_usd"], (name, now, t)
                assert now["sales"] == t["forced_sales_usd"], (name, now, t)
                assert now["defaults"] == t["defaults"], (name, now, t)
                if t["total_loss_usd"] != before["total"]:
                    assert now["changed"] and now["changed"] != before["changed"], (name, now)
                moved += 1
            page.screenshot(os.path.join(out_dir, f"serve-{name}.png"))
            errors = problems(page, origin)
            assert not errors, (name, errors)

        # Both equilibria of Cifuentes-Shin-Ferrucci's base shock, played round by round.
        select(page, "cifuentes-shin-ferrucci")
        assert page.eval("!document.getElementById('equilibria').hidden"), "two equilibria offered"
        greatest = play(page, "greatest")
        page.eval("document.getElementById('eq-least').click()")
        wait_for(
            page,
            "document.getElementById('report').contentDocument.title.indexOf('least fixed point') >= 0"
            " && document.getElementById('report').contentDocument.readyState === 'complete'",
            "the least fixed point's report",
        )
        assert page.eval("document.body.dataset.equilibrium") == "least"
        least = play(page, "least")
        page.screenshot(os.path.join(out_dir, "serve-least-equilibrium.png"))
        page.eval("document.getElementById('eq-greatest').click()")
        wait_for(
            page,
            "document.getElementById('report').contentDocument.title.indexOf('least') < 0",
            "back to the greatest",
        )

        # A bad upload: its error, located, in the page.
        bad = os.path.join(out_dir, "bad-upload.yaml")
        with open(bad, "w") as f:
            f.write(BAD)
        doc = page.call("DOM.getDocument")["root"]["nodeId"]
        node = page.call("DOM.querySelector", {"nodeId": doc, "selector": "#upload"})["nodeId"]
        before = solves(page)
        page.call("DOM.setFileInputFiles", {"files": [os.path.abspath(bad)], "nodeId": node})
        wait_for(page, f"Number(document.body.dataset.solves || 0) > {before}", "the upload's answer")
        err = page.eval("document.getElementById('error').textContent")
        assert "bad-upload.yaml:5:1" in err and "holdres" in err and "hint:" in err, err
        page.screenshot(os.path.join(out_dir, "serve-bad-upload.png"))
        errors = problems(page, origin)
        assert not errors, errors
        print(
            f"serve page: {moved} slider moves matched the CLI; greatest ({greatest} rounds) "
            f"and least ({least} rounds) equilibria played; bad upload located"
        )
    finally:
        if chrome is not None:
            chrome.close()
        if server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                code = server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
                raise AssertionError("delever serve did not stop on SIGINT")
            assert code == 0, f"delever serve exited {code}: {server.stderr.read()}"
        signal.alarm(0)


if __name__ == "__main__":
    main()
