"""Account books from Arrow data: `with_book` reads pyarrow Tables and pandas frames
(with pyarrow) in place through the Arrow C stream interface, with the checks and located
messages of a Parquet book, and falls back to CSV for anything else."""

from __future__ import annotations

import math

import pytest

import delever
from conftest import REPO

try:
    import pyarrow as pa
except ImportError:
    pa = None

try:
    import pandas as pd
except ImportError:
    pd = None

FIXTURE = REPO / "tests" / "fixtures" / "etf_shares" / "retail-soxl.yaml"
BOOKS = FIXTURE.parent / "books"

needs_pyarrow = pytest.mark.skipif(pa is None, reason="pyarrow is not installed")


def rows(name):
    """The fixture's CSV table as a list of dicts, numbers as floats."""
    lines = (BOOKS / name).read_text().splitlines()
    head = lines[0].split(",")
    return [
        {k: v if k in ("account", "asset") else float(v) for k, v in zip(head, line.split(","))}
        for line in lines[1:]
    ]


def arrow(table_rows, columns):
    return pa.Table.from_pylist(table_rows).select(list(columns))


ACC = ("account", "cash", "loan")
HOLD = ("account", "asset", "shares")


@needs_pyarrow
def test_a_pyarrow_book_runs_as_the_cli_runs_its_csv_files(cli, monkeypatch):
    # Were the CSV path taken, this would fail: nothing may be written.
    def no_csv(*_args, **_kwargs):
        raise AssertionError("the Arrow path writes no CSV")

    monkeypatch.setattr(delever, "_write_csv", no_csv)
    base = delever.load(FIXTURE)
    fed = base.with_book(arrow(rows("accounts.csv"), ACC), arrow(rows("holdings.csv"), HOLD))
    assert fed.books_from == {"book": "arrow"}
    assert fed._tmp is None
    assert fed._native.memory_books == ["book"]
    want = cli.run("run", str(FIXTURE), "--format", "json").stdout
    assert fed.run().to_json() == want


@pytest.mark.skipif(pa is None or pd is None, reason="needs pandas and pyarrow")
def test_a_pandas_book_takes_the_arrow_path_and_runs_as_the_cli(cli):
    acc = pd.DataFrame(rows("accounts.csv"))
    hold = pd.DataFrame(rows("holdings.csv"))
    # An extra column and a non-default index are not the book's business.
    acc["note"] = "x"
    acc.index = acc.index * 7
    fed = delever.load(FIXTURE).with_book(acc, hold)
    assert fed.books_from == {"book": "arrow"}
    want = cli.run("run", str(FIXTURE), "--format", "json").stdout
    assert fed.run().to_json() == want


@needs_pyarrow
def test_integer_ids_and_amounts_are_converted():
    acc = [{"account": 1000 + i, "cash": 0, "loan": 50} for i in range(10)]
    hold = [{"account": 1000 + i, "asset": "NVDA", "shares": 1} for i in range(10)]
    s = delever.load(FIXTURE)
    fed = s.with_book(pa.Table.from_pylist(acc), pa.Table.from_pylist(hold), holder="ints",
                      lender="broker", maintenance=0.25)
    assert fed.books_from == {"ints": "arrow"}
    assert "ints" in [h["id"] for h in fed.run().json["holders"]]


def bad(accounts, holdings):
    with pytest.raises(delever.ScenarioError) as e:
        delever.load(FIXTURE).with_book(accounts, holdings)
    return e.value


@needs_pyarrow
@pytest.mark.parametrize(
    "row, value, message",
    [
        (4, math.nan, "row 4 (account `r03`), column `cash`: expected a finite number, found NaN"),
        (2, -5.0, "row 2 (account `r01`), column `cash`: expected a number ≥ 0, found -5"),
    ],
)
def test_bad_amounts_are_told_by_row_and_column(row, value, message):
    acc = rows("accounts.csv")
    acc[row - 1]["cash"] = value
    err = bad(arrow(acc, ACC), arrow(rows("holdings.csv"), HOLD))
    assert err.message == message, str(err)
    assert err.path.startswith("holders[") and err.path.endswith("].accounts")
    assert err.file == "accounts of book (Arrow)"
    assert err.line is None


@pytest.mark.skipif(pa is None or pd is None, reason="needs pandas and pyarrow")
def test_nan_in_a_pandas_frame_is_a_missing_value_at_its_row():
    acc = pd.DataFrame(rows("accounts.csv"))
    acc.loc[2, "loan"] = float("nan")
    err = bad(acc, pd.DataFrame(rows("holdings.csv")))
    assert err.message == "row 3 (account `r02`), column `loan`: the value is missing (null)"


@needs_pyarrow
def test_an_unknown_asset_is_told_by_row():
    hold = rows("holdings.csv")
    hold[5]["asset"] = "NOPE"
    err = bad(arrow(rows("accounts.csv"), ACC), arrow(hold, HOLD))
    assert err.message.startswith("row 6 (account `")
    assert "column `asset`: unknown asset `NOPE`" in err.message
    assert err.path.startswith("holders[") and err.path.endswith("].holdings")
    assert err.file == "holdings of book (Arrow)"


@needs_pyarrow
def test_ungrouped_holdings_are_told_by_row():
    hold = rows("holdings.csv")
    hold.append(dict(hold[0]))  # the first account again, after the others
    err = bad(arrow(rows("accounts.csv"), ACC), arrow(hold, HOLD))
    assert err.message.startswith(f"row {len(hold)}"), err.message
    assert "r00" in err.message
    assert err.path.startswith("holders[") and err.path.endswith("].holdings")


@needs_pyarrow
def test_a_missing_column_is_named():
    acc = arrow(rows("accounts.csv"), ACC).rename_columns(["account", "cash", "debt"])
    err = bad(acc, arrow(rows("holdings.csv"), HOLD))
    assert "has no column `loan`" in err.message


@needs_pyarrow
def test_the_book_stays_through_later_edits_and_sweeps():
    s = delever.load(FIXTURE)
    acc = rows("accounts.csv")
    for a in acc:
        a["loan"] *= 1.5
    fed = s.with_book(arrow(acc, ACC), arrow(rows("holdings.csv"), HOLD))
    report = fed.run().to_json()
    # with_holders reloads the document: the book in memory comes along.
    again = fed.with_holders([])
    assert again.books_from == {"book": "arrow"}
    assert again.run().to_json() == report
    table = fed.sweep({"shocks[0].return": [-0.08, -0.2]})
    assert len(table) == 2


def test_lists_of_dicts_take_the_csv_path(cli):
    fed = delever.load(FIXTURE).with_book(rows("accounts.csv"), rows("holdings.csv"))
    assert fed.books_from == {"book": "csv"}
    assert fed._native.memory_books == []
    want = cli.run("run", str(FIXTURE), "--format", "json").stdout
    assert fed.run().to_json() == want


@pytest.mark.skipif(pa is None or pd is None, reason="needs pandas and pyarrow")
def test_a_frame_pyarrow_cannot_type_takes_the_csv_path():
    acc = pd.DataFrame(rows("accounts.csv"))
    hold = pd.DataFrame(rows("holdings.csv"))
    # Ids mixing text and a number: an object column pyarrow refuses to convert.
    acc["account"] = acc["account"].astype(object)
    hold["account"] = hold["account"].astype(object)
    acc.loc[0, "account"] = 7
    hold.loc[hold["account"] == "r00", "account"] = 7
    fed = delever.load(FIXTURE).with_book(acc, hold)
    assert fed.books_from == {"book": "csv"}
