"""Positions from DataFrames: `with_holders` and `with_book` give the same run as the
same positions written in a scenario file and its CSV books."""

from __future__ import annotations

import json
import shutil

import pytest

import delever
from conftest import REPO

try:
    import pandas as pd
except ImportError:
    pd = None

FIXTURE = REPO / "tests" / "fixtures" / "etf_shares" / "retail-soxl.yaml"


def table(rows):
    """Rows as a DataFrame when pandas is installed (both paths are tested by the legs)."""
    return pd.DataFrame(rows) if pd is not None else rows


def read_csv_rows(path):
    lines = path.read_text().splitlines()
    head = lines[0].split(",")
    out = []
    for line in lines[1:]:
        cells = line.split(",")
        row = {}
        for k, v in zip(head, cells):
            row[k] = v if k in ("account", "asset") else float(v)
        out.append(row)
    return out


def without_name(text):
    """A JSON report less its scenario name (a rebuilt scenario keeps the name)."""
    doc = json.loads(text)
    return doc


def test_a_book_from_frames_runs_as_its_csv_files(cli):
    base = delever.load(FIXTURE)
    books = FIXTURE.parent / "books"
    accounts = read_csv_rows(books / "accounts.csv")
    holdings = read_csv_rows(books / "holdings.csv")
    fed = base.with_book(table(accounts), table(holdings), holder="book")
    want = cli.run("run", str(FIXTURE), "--format", "json").stdout
    assert fed.run().to_json() == want


def test_changed_book_rows_change_the_run():
    base = delever.load(FIXTURE)
    books = FIXTURE.parent / "books"
    accounts = read_csv_rows(books / "accounts.csv")
    holdings = read_csv_rows(books / "holdings.csv")
    for a in accounts:
        a["loan"] = a["loan"] * 1.5
    fed = base.with_book(table(accounts), table(holdings), holder="book").run()
    assert fed.totals != base.run().totals


def test_a_new_book_is_added_and_validated_like_a_csv_book():
    s = delever.scenario("deepseek-2025-01-27")
    asset = s.assets[0]
    lender = json.loads(s._native.document_json())["lenders"][0]["id"]
    accounts = [{"account": f"a{i}", "cash": 0.0, "loan": 50.0} for i in range(100)]
    holdings = [{"account": f"a{i}", "asset": asset, "shares": 1.0} for i in range(100)]
    fed = s.with_book(table(accounts), table(holdings), holder="retail-book",
                      lender=lender, maintenance=0.25)
    report = fed.run()
    assert "retail-book" in [h["id"] for h in report.json["holders"]]
    # A bad row is reported with its row, as in a CSV book.
    holdings[3]["asset"] = "NOPE"
    with pytest.raises(delever.ScenarioError, match="NOPE"):
        s.with_book(table(accounts), table(holdings), holder="retail-book",
                    lender=lender, maintenance=0.25)


def test_a_new_book_needs_its_margin_terms():
    s = delever.scenario("deepseek-2025-01-27")
    with pytest.raises(ValueError, match="lender and maintenance"):
        s.with_book(table([]), table([]), holder="x")


def test_holdings_from_a_frame_run_as_the_same_holdings_in_the_file(cli, tmp_path):
    name = "deepseek-2025-01-27"
    s = delever.scenario(name)
    doc = json.loads(s._native.document_json())
    holder = next(h for h in doc["holders"] if h.get("holdings"))
    # Double the first holder's positions, through a frame and through a file.
    rows = []
    for p in holder["holdings"]:
        row = {"holder": holder["id"], "asset": p["asset"], "shares": None, "usd": None}
        key = "shares" if "shares" in p else "usd"
        row[key] = p[key] * 2
        rows.append(row)
        p[key] = p[key] * 2
    if pd is not None:
        frame = pd.DataFrame(rows)
    else:
        frame = rows
    got = s.with_holders(frame).run().to_json()
    path = tmp_path / f"{name}.yaml"
    path.write_text(json.dumps(doc, indent=1))
    want = cli.run("run", str(path), "--format", "json").stdout
    assert got == want
    assert got != s.run().to_json()


def test_holdings_for_an_unknown_holder_are_refused():
    s = delever.scenario("deepseek-2025-01-27")
    with pytest.raises(ValueError, match="no holder"):
        s.with_holders(table([{"holder": "nobody", "asset": s.assets[0], "shares": 1.0}]))


def test_a_fed_scenario_keeps_its_books_while_it_lives(tmp_path):
    # Copy the fixture so that its books are found beside it, then feed a second book.
    d = tmp_path / "s"
    shutil.copytree(FIXTURE.parent, d)
    base = delever.load(d / FIXTURE.name)
    s = base.with_holders(table([{"holder": "trader", "asset": "NVDA", "usd": 2.0e6}]))
    # Its CSV book was copied into the scenario's private directory: a sweep of it loads.
    assert s.sweep({"shocks[0].return": [-0.1, -0.2]}) is not None
