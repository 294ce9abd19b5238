"""Rows to DataFrames with stable columns and dtypes.

Each table has a fixed schema (column, type) written here from the report's JSON
contract, so a column's dtype never depends on the values in one run (an all-zero float
column stays float, an empty table keeps its columns). Columns the report gains later are
appended after the known ones with an inferred type. Without pandas the rows stay a list
of dicts; with pandas and pyarrow the columns are Arrow-backed (``pd.ArrowDtype``), with
pandas alone NumPy-backed (``float64``, ``int64``, ``bool``, ``object`` for text).
"""

from __future__ import annotations

import csv
import io
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:  # pandas is optional: without it tables are lists of dicts.
    import pandas as _pd
except ImportError:  # pragma: no cover - the no-pandas leg of the tests covers it
    _pd = None

try:
    import pyarrow as _pa
except ImportError:  # pragma: no cover
    _pa = None

F, I, S, B = "float", "int", "str", "bool"

#: The columns of each report table, in order, with their types.
SCHEMAS: Dict[str, List[Tuple[str, str]]] = {
    "assets": [
        ("id", S),
        ("price_before", F),
        ("price_shocked", F),
        ("price_after", F),
        ("drawdown", F),
        ("forced_sales_shares", F),
        ("forced_sales_usd", F),
    ],
    "holders": [
        ("id", S),
        ("kind", S),
        ("equity_before", F),
        ("equity_shocked", F),
        ("equity_after", F),
        ("sales_usd", F),
        ("status", S),
        ("lender_loss_usd", F),
        ("margin_calls", I),
        ("defaults", I),
    ],
    "lenders": [
        ("id", S),
        ("capital", F),
        ("borrower_losses_usd", F),
        ("interbank_losses_usd", F),
        ("tightened", B),
        ("defaulted", B),
    ],
    "trace": [
        ("day", I),
        ("round", I),
        ("sales_usd", F),
        ("price_index", F),
        ("new_calls", I),
        ("new_defaults", I),
        ("fraction_sold", F),
        ("residual", F),
    ],
    "days": [
        ("day", I),
        ("termination", S),
        ("rounds", I),
        ("residual", F),
        ("price_index", F),
        ("sales_usd", F),
        ("exogenous_sales_usd", F),
        ("new_calls", I),
        ("open_calls", I),
        ("liquidations", I),
        ("new_defaults", I),
        ("lender_losses_usd", F),
        ("multiple_equilibria", B),
    ],
}

#: The figures columns of sweep and Monte Carlo rows (``delever sweep --format csv``).
BATCH_TYPES: Dict[str, str] = {
    "index": I,
    "market_return": F,
    "termination": S,
    "rounds": I,
    "initial_loss_usd": F,
    "total_loss_usd": F,
    "amplification": F,
    "forced_sales_usd": F,
    "defaults": I,
    "margin_calls": I,
    "lender_losses_usd": F,
    "lender_defaults": I,
    "multiple_equilibria": B,
    # The Monte Carlo summary's columns.
    "metric": S,
    "statistic": S,
    "level": S,
    "value": F,
}


def pandas_available() -> bool:
    """Whether tables come back as pandas DataFrames (else lists of dicts)."""
    return _pd is not None


def _arrow_type(kind: str) -> Any:
    return {F: _pa.float64(), I: _pa.int64(), S: _pa.string(), B: _pa.bool_()}[kind]


def _numpy_type(kind: str) -> str:
    return {F: "float64", I: "int64", S: "object", B: "bool"}[kind]


def dtype(kind: str) -> Any:
    """The pandas dtype of a column of type ``kind`` (``float``, ``int``, ``str``,
    ``bool``): Arrow-backed when pyarrow is installed."""
    if _pa is not None:
        return _pd.ArrowDtype(_arrow_type(kind))
    return _numpy_type(kind)


def _infer(values: Sequence[Any]) -> Optional[str]:
    """The type of an unknown column, or None when it is not scalar."""
    kinds = set()
    for v in values:
        if isinstance(v, bool):
            kinds.add(B)
        elif isinstance(v, int):
            kinds.add(I)
        elif isinstance(v, float):
            kinds.add(F)
        elif isinstance(v, str):
            kinds.add(S)
        elif v is None:
            continue
        else:
            return None
    if kinds <= {I}:
        return I if kinds else F
    if kinds <= {I, F}:
        return F
    if len(kinds) == 1:
        return kinds.pop()
    return None


def _build(columns: List[Tuple[str, str]], data: Dict[str, List[Any]]) -> Any:
    if _pd is None:
        raise RuntimeError("pandas is not installed")  # never reached: callers check
    series = {}
    for name, kind in columns:
        series[name] = _pd.Series(data[name], dtype=dtype(kind), name=name)
    return _pd.DataFrame(series, columns=[c for c, _ in columns])


def frame(table: str, rows: List[Dict[str, Any]]) -> Any:
    """Rows of a report table (``assets``, ``holders``, ...) as a DataFrame with the
    table's schema, or the rows themselves without pandas."""
    if _pd is None:
        return [dict(r) for r in rows]
    columns = list(SCHEMAS[table])
    known = {c for c, _ in columns}
    for key in (rows[0].keys() if rows else ()):
        if key in known:
            continue
        kind = _infer([r.get(key) for r in rows])
        if kind is not None:  # nested values (lists, maps) stay in Report.json
            columns.append((key, kind))
    data = {c: [r.get(c) for r in rows] for c, _ in columns}
    return _build(columns, data)


def _parse(kind: str, cell: str) -> Any:
    if kind == I:
        return int(cell)
    if kind == F:
        return float(cell) if cell != "" else None
    if kind == B:
        return cell == "true"
    return cell


def _cell_kind(name: str, cells: List[str]) -> str:
    if name in BATCH_TYPES:
        return BATCH_TYPES[name]
    if name.startswith("loss_") and name.endswith("_usd"):
        return F
    # A swept parameter: numbers when every value is one, else words.
    try:
        for c in cells:
            float(c)
    except ValueError:
        return S
    return F


def frame_from_csv(text: str, params: List[str], summary: bool = False) -> Any:
    """The CLI's CSV rows (sweep, Monte Carlo draws or summary) as a DataFrame with
    stable types (a list of dicts without pandas). Swept parameters are float columns, or
    text when a value is a word (``engine.mode``)."""
    reader = csv.reader(io.StringIO(text))
    header = next(reader, [])
    raw = list(reader)
    cols = list(zip(*raw)) if raw else [() for _ in header]
    columns = []
    data: Dict[str, List[Any]] = {}
    for name, cells in zip(header, cols):
        kind = _cell_kind(name, list(cells))
        columns.append((name, kind))
        data[name] = [_parse(kind, c) for c in cells]
    if _pd is None:
        return [{c: data[c][i] for c, _ in columns} for i in range(len(raw))]
    return _build(columns, data)
