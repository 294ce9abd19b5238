"""Tables: DataFrames with stable columns and dtypes when pandas is installed (Arrow-backed
with pyarrow), lists of dicts without; their values are the JSON report's."""

from __future__ import annotations

import json

import pytest

import delever
from delever import _frames

try:
    import pandas as pd
except ImportError:
    pd = None
try:
    import pyarrow  # noqa: F401

    ARROW = True
except ImportError:
    ARROW = False

TABLES = ["assets", "holders", "lenders", "trace", "days"]

EXPECTED_COLUMNS = {
    "assets": ["id", "price_before", "price_shocked", "price_after", "drawdown",
               "forced_sales_shares", "forced_sales_usd"],
    "holders": ["id", "kind", "equity_before", "equity_shocked", "equity_after", "sales_usd",
                "status", "lender_loss_usd", "margin_calls", "defaults"],
    "lenders": ["id", "capital", "borrower_losses_usd", "interbank_losses_usd", "tightened",
                "defaulted"],
    "trace": ["day", "round", "sales_usd", "price_index", "new_calls", "new_defaults",
              "fraction_sold", "residual"],
}


def _timeline_report():
    # A shipped scenario in the timeline mode, if one is; else the default in it.
    for name in delever.shipped():
        doc = json.loads(delever.scenario(name).run().to_json())
        if doc.get("days"):
            return delever.scenario(name).run()
    return delever.scenario().run(mode="timeline")


def test_pandas_presence_is_reported():
    assert delever.pandas_available() == (pd is not None)


@pytest.mark.skipif(pd is None, reason="the no-pandas leg checks lists of dicts")
@pytest.mark.parametrize("table", TABLES)
def test_columns_and_dtypes_are_stable(table):
    report = _timeline_report() if table == "days" else delever.scenario().run()
    df = getattr(report, table)
    assert isinstance(df, pd.DataFrame)
    schema = _frames.SCHEMAS[table]
    assert list(df.columns)[: len(schema)] == [c for c, _ in schema]
    if table in EXPECTED_COLUMNS:
        assert list(df.columns)[: len(EXPECTED_COLUMNS[table])] == EXPECTED_COLUMNS[table]
    for col, kind in schema:
        if ARROW:
            want = {"float": "double[pyarrow]", "int": "int64[pyarrow]",
                    "str": "string[pyarrow]", "bool": "bool[pyarrow]"}[kind]
            assert isinstance(df[col].dtype, pd.ArrowDtype), (col, df[col].dtype)
        else:
            want = {"float": "float64", "int": "int64", "str": "object", "bool": "bool"}[kind]
        assert str(df[col].dtype) == want, (col, df[col].dtype)
    rows = report.json.get(table, [])
    assert len(df) == len(rows)
    if rows:
        assert df[schema[0][0]].tolist() == [r[schema[0][0]] for r in rows]


@pytest.mark.skipif(pd is None, reason="needs pandas")
def test_an_empty_table_keeps_its_columns_and_dtypes():
    report = delever.scenario().run()
    assert report.json.get("days", []) == []
    df = report.days
    assert len(df) == 0
    assert list(df.columns) == [c for c, _ in _frames.SCHEMAS["days"]]
    assert str(df["day"].dtype) in ("int64", "int64[pyarrow]")


@pytest.mark.skipif(pd is None, reason="needs pandas")
def test_frame_values_are_the_json_values():
    report = delever.scenario().run()
    got = report.assets.to_dict("records")
    want = report.json["assets"]
    assert [r["id"] for r in got] == [r["id"] for r in want]
    for g, w in zip(got, want):
        for k, v in w.items():
            assert g[k] == v, (k, g[k], v)


@pytest.mark.skipif(pd is not None, reason="the pandas leg checks DataFrames")
@pytest.mark.parametrize("table", TABLES)
def test_without_pandas_tables_are_lists_of_dicts(table):
    report = delever.scenario().run()
    rows = getattr(report, table)
    assert isinstance(rows, list)
    assert rows == report.json.get(table, [])
