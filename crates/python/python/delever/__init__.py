"""delever: deleveraging cascades (forced sales, price impact, margin calls) in Python.

The engine is the Rust workspace's, compiled into ``delever._native``; this module turns
its results into dicts and, when pandas is installed, DataFrames (backed by pyarrow when
it is installed too). Every result is the CLI's: ``Report.to_json()`` is
``delever run --format json`` byte for byte, and ``Scenario.sweep``/``Scenario.mc`` rows
are ``delever sweep``/``delever mc`` rows.

    >>> import delever
    >>> report = delever.scenario().run()          # the CLI's default scenario
    >>> report.totals["amplification"]             # doctest: +SKIP
    >>> report.assets                              # a DataFrame (pandas installed)

See docs/python.md in the repository.
"""

from __future__ import annotations

import csv
import html as _html
import json
import os
import shutil
import tempfile
import warnings
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native
from ._frames import frame, frame_from_csv, pandas_available
from ._native import DeleverError, ScenarioError

__all__ = [
    "DEFAULT_SCENARIO",
    "DeleverError",
    "NotConvergedWarning",
    "Report",
    "Scenario",
    "ScenarioError",
    "load",
    "pandas_available",
    "scenario",
    "shipped",
    "__version__",
]

__version__: str = _native.VERSION

#: The scenario ``delever`` runs when given none.
DEFAULT_SCENARIO: str = _native.DEFAULT_SCENARIO

PathLike = Union[str, "os.PathLike[str]"]


class NotConvergedWarning(UserWarning):
    """A run (or some sweep variants or draws) stopped at its round limit: the CLI's exit
    code 3. The results are still returned and say so (``termination``)."""


def shipped() -> List[str]:
    """The names of the scenarios shipped with delever (``delever list``), sorted."""
    return list(_native.shipped_names())


def scenario(name: str = DEFAULT_SCENARIO) -> "Scenario":
    """A shipped scenario by name (the same text as ``delever run NAME``).

    Raises ``ValueError`` naming the shipped scenarios when there is none of that name.
    """
    text = _native.shipped_text(name)
    if text is None:
        raise ValueError(
            f"`{name}` is not a shipped scenario; delever.shipped() lists them: "
            + ", ".join(shipped())
        )
    # The CLI's origin for a shipped scenario, so diagnostics read the same.
    return Scenario(_native.load_text(text, f"scenarios/{name}.yaml", None))


def load(source: PathLike, *, base_dir: Optional[PathLike] = None) -> "Scenario":
    """Load and validate a scenario from a file path or from YAML text.

    ``source`` is read as a path when it is an ``os.PathLike``, names an existing file, or
    looks like one (a single line ending in ``.yaml``/``.yml`` or containing a ``/``); as a
    shipped scenario's name when it is one; otherwise as YAML text. For text, CSV account
    books are resolved against ``base_dir`` (default: the current directory).

    Raises ``ScenarioError`` with ``file``, ``line``, ``column``, ``path`` and ``hint`` of
    the first problem (``diagnostics`` lists them all), as ``delever validate`` prints them.
    """
    if isinstance(source, os.PathLike):
        return _from_path(os.fspath(source))
    if not isinstance(source, str):
        raise TypeError(f"load() takes a path or YAML text, not {type(source).__name__}")
    one_line = "\n" not in source
    if one_line and os.path.isfile(source):
        return _from_path(source)
    if one_line and _native.shipped_text(source) is not None:
        return scenario(source)
    if one_line and (source.lower().endswith((".yaml", ".yml")) or "/" in source):
        return _from_path(source)
    base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    return Scenario(_native.load_text(source, "<string>", base))


def _from_path(path: str) -> "Scenario":
    native = _native.load_path(path)
    if native.warning:
        warnings.warn(native.warning, stacklevel=3)
    return Scenario(native)


def _cell(value: Any) -> str:
    """A value as the CLI's ``--set``/``--vary`` take it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _specs(values: Optional[Mapping[str, Any]]) -> List[str]:
    return [f"{path}={_cell(v)}" for path, v in (values or {}).items()]


def _plain(value: Any) -> Any:
    """A NumPy or Arrow scalar as a plain Python number or string."""
    return value.item() if hasattr(value, "item") else value


def _missing(value: Any) -> bool:
    """None, or a DataFrame's missing number (NaN, pandas.NA)."""
    if value is None or type(value).__name__ == "NAType":
        return True
    try:
        return bool(value != value)  # NaN is the one value unequal to itself
    except (TypeError, ValueError):
        return False


def _records(rows: Any, required: Sequence[str]) -> List[Dict[str, Any]]:
    """A DataFrame or an iterable of dicts as a list of dicts, checking columns."""
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):
        missing = [c for c in required if c not in rows.columns]
        records = rows.to_dict("records")
    else:
        records = [dict(r) for r in rows]
        missing = [c for c in required if records and c not in records[0]]
    if missing:
        raise ValueError(f"missing column(s): {', '.join(missing)}")
    return records


def _write_csv_arrow(path: str, frame: Any, columns: Tuple[str, ...]) -> bool:
    """Write a DataFrame's columns with pyarrow's CSV writer (C++, several threads; its
    floats are the shortest text that reads back to the same double): ten times pandas'
    ``to_csv`` on a million-account book. False when pyarrow is not installed or cannot
    type a column."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return False
    try:
        table = pa.Table.from_pandas(frame[list(columns)], preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False  # a column pyarrow cannot type: pandas writes it cell by cell
    pacsv.write_csv(table, path, write_options=pacsv.WriteOptions(quoting_style="needed"))
    return True


def _write_csv(path: str, rows: Any, columns: Tuple[str, ...]) -> None:
    """Write a book's table as the CSV the scenario crate reads."""
    if hasattr(rows, "to_csv") and hasattr(rows, "columns"):
        missing = [c for c in columns if c not in rows.columns]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
        if _write_csv_arrow(path, rows, columns):
            return
        # pandas writes floats with repr, which reads back to the same double.
        rows.to_csv(path, index=False, columns=list(columns))
        return
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        for r in rows:
            try:
                w.writerow([_cell(_plain(r[c])) for c in columns])
            except KeyError as e:
                raise ValueError(f"missing column: {e.args[0]}") from None


#: The keys an ``account_book`` holder names its table files with.
_TABLE_KEYS = (
    "accounts_csv",
    "holdings_csv",
    "accounts_parquet",
    "holdings_parquet",
    "accounts_arrow",
    "holdings_arrow",
)


def _arrow_source(rows: Any, columns: Tuple[str, ...]) -> Any:
    """An object with ``__arrow_c_stream__`` holding ``rows``' ``columns``, or None when
    there is none to be had (then the book goes through CSV).

    A pandas DataFrame is converted column by column with ``pyarrow.Array.from_pandas``
    (a float64 column without NaN is wrapped, not copied; NaN becomes null), so that its
    other columns and its index are not converted; without pyarrow there is no Arrow
    path for pandas (its own ``__arrow_c_stream__`` needs pyarrow too). Any other object
    with ``__arrow_c_stream__`` (a pyarrow Table, a polars DataFrame) is used as is: the
    book's columns are found in it by name. A pandas column pyarrow cannot convert (an
    object column mixing numbers and text) sends the book down the CSV path.
    """
    if hasattr(rows, "to_csv") and hasattr(rows, "columns"):
        missing = [c for c in columns if c not in rows.columns]
        if missing:
            raise ValueError(f"missing column(s): {', '.join(missing)}")
        try:
            import pyarrow as pa
        except ImportError:
            return None
        try:
            return pa.Table.from_arrays(
                [pa.Array.from_pandas(rows[c]) for c in columns], names=list(columns)
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            # A column pyarrow cannot type (ids mixing numbers and text): the CSV path
            # reads every cell as text and tells a bad one by its line.
            return None
    if hasattr(rows, "__arrow_c_stream__"):
        return rows
    return None


class Scenario:
    """A loaded, validated scenario. Make one with :func:`load` or :func:`scenario`."""

    def __init__(self, native: Any) -> None:
        self._native = native
        # The private directory of books fed from DataFrames, if any (see with_book).
        self._tmp: Optional[tempfile.TemporaryDirectory] = None
        # How each book fed from DataFrames came in: "arrow" or "csv" (see with_book).
        self._books_from: Dict[str, str] = {}

    @property
    def name(self) -> str:
        """The scenario's name."""
        return self._native.name

    @property
    def description(self) -> str:
        """What the scenario is about."""
        return self._native.description

    @property
    def as_of(self) -> str:
        """The date its figures refer to (ISO)."""
        return self._native.as_of

    @property
    def variants(self) -> List[str]:
        """The names of its ``variants:``."""
        return list(self._native.variants)

    @property
    def assets(self) -> List[str]:
        """Its asset ids, in the file's order."""
        return list(self._native.asset_ids)

    @property
    def path(self) -> Optional[str]:
        """The file it was loaded from, if it was."""
        p = self._native.path
        return None if p is None else os.fspath(p)

    @property
    def books_from(self) -> Dict[str, str]:
        """How each account book given by :meth:`with_book` came in, by holder id:
        ``"arrow"`` (read in place through the Arrow C stream interface) or ``"csv"``
        (written to a private CSV file and read back)."""
        return dict(self._books_from)

    def __repr__(self) -> str:
        return f"<delever.Scenario {self.name!r}>"

    def run(
        self,
        max_rounds: Optional[int] = None,
        mode: Optional[str] = None,
        variant: Optional[str] = None,
        set: Optional[Mapping[str, Any]] = None,  # noqa: A002 - the CLI's --set
    ) -> "Report":
        """Run the cascade: ``delever run [--max-rounds N] [--variant V | --set P=V ...]``.

        ``mode`` (``"equilibrium"``, ``"sequential"`` or ``"timeline"``) is
        ``set={"engine.mode": mode}``. ``set`` maps field paths
        (``"shocks[0].return"``, ``"holders[hf-1].margin.maintenance"``) to values, as
        ``--set``; it cannot be combined with ``variant``, as in the CLI.

        The GIL is released while the engine runs. A run that stops at its round limit
        returns its report (``report.converged`` is False) with a
        :class:`NotConvergedWarning`, the CLI's exit code 3.
        """
        specs = _specs(set)
        if mode is not None:
            specs.append(f"engine.mode={mode}")
        native = self._native.run(max_rounds, variant, specs)
        report = Report(native)
        if native.exit_code == 3:
            warnings.warn(
                f"{self.name} ({report.mode} mode) did not converge within "
                f"{report.rounds} rounds; the report says so",
                NotConvergedWarning,
                stacklevel=2,
            )
        return report

    # -- positions from DataFrames ---------------------------------------------------

    def with_holders(self, positions: Any) -> "Scenario":
        """A copy whose holders hold the positions in ``positions``.

        ``positions`` is a DataFrame (or a list of dicts) with columns ``holder``,
        ``asset`` and ``shares`` (or ``usd``, a position's value at the asset's price):
        every holder named there gets exactly those rows as its ``holdings:``; the
        others keep theirs. The result is validated like a file (a ``ScenarioError`` names
        the holder and field at fault).
        """
        rows = _records(positions, ("holder", "asset"))
        doc = self._document()
        holders = {h.get("id"): h for h in doc.get("holders", []) if isinstance(h, dict)}
        grouped: Dict[str, List[Dict[str, Any]]] = {}
        for r in rows:
            amount = {k: _plain(r[k]) for k in ("shares", "usd") if not _missing(r.get(k))}
            if len(amount) != 1:
                raise ValueError(
                    f"holder {r['holder']!r}, asset {r['asset']!r}: give exactly one of "
                    "`shares` and `usd` per row"
                )
            grouped.setdefault(str(r["holder"]), []).append({"asset": str(r["asset"]), **amount})
        for hid, holdings in grouped.items():
            if hid not in holders:
                raise ValueError(
                    f"{self.name} has no holder {hid!r}; its holders are: "
                    + ", ".join(str(h) for h in holders)
                )
            holders[hid]["holdings"] = holdings
        return self._rebuilt(doc, f"{self.name} (holdings from a DataFrame)", {})

    def with_book(
        self,
        accounts: Any,
        holdings: Any,
        holder: str = "book",
        lender: Optional[str] = None,
        maintenance: Optional[float] = None,
        reset: Optional[float] = None,
    ) -> "Scenario":
        """A copy with an account book (an ``account_book`` holder) fed from DataFrames.

        ``accounts`` has columns ``account, cash, loan`` and ``holdings`` has
        ``account, asset, shares``, grouped by account in the order of ``accounts``
        (the book's format, docs/scenario-format.md; other columns are ignored). If
        ``holder`` is an ``account_book`` of the scenario, its tables are replaced;
        otherwise a new one is added, borrowing from ``lender`` at ``maintenance`` (and
        ``reset``). The book is validated as a Parquet book is: a ``ScenarioError`` names
        the row and the column at fault.

        Two paths, told afterwards by ``books_from[holder]``:

        * ``"arrow"``: both tables are pandas DataFrames and pyarrow is installed, or
          both are objects with ``__arrow_c_stream__`` (pyarrow Tables, polars
          DataFrames). The columns are read in place through the Arrow C stream
          interface (float64 columns are not copied on the way; whole numbers and text
          are converted while the book is checked), with the GIL released.
        * ``"csv"``: anything else (lists of dicts; pandas without pyarrow). The tables
          are written once as CSV to a private temporary directory that the scenario
          keeps while it lives, and read back as a CSV book (lines in messages are the
          private file's).
        """
        doc = self._document()
        existing = [
            h for h in doc.get("holders", []) if isinstance(h, dict) and h.get("id") == holder
        ]
        if existing:
            h = existing[0]
            if h.get("kind") != "account_book":
                raise ValueError(
                    f"holder {holder!r} of {self.name} is a {h.get('kind')}, not an account_book; "
                    "give another id to add a book"
                )
            if any(v is not None for v in (lender, maintenance, reset)):
                raise ValueError(
                    f"holder {holder!r} exists: its margin terms are the scenario's "
                    "(leave lender, maintenance and reset out)"
                )
        else:
            if lender is None or maintenance is None:
                raise ValueError(
                    f"{self.name} has no account_book {holder!r}: to add one, give its "
                    "lender and maintenance (e.g. lender='broker', maintenance=0.25)"
                )
            margin: Dict[str, Any] = {"lender": lender, "maintenance": maintenance}
            if reset is not None:
                margin["reset"] = reset
            h = {"id": holder, "kind": "account_book", "margin": margin}
            doc.setdefault("holders", []).append(h)
        for key in _TABLE_KEYS:
            h.pop(key, None)
        acc_cols, hold_cols = ("account", "cash", "loan"), ("account", "asset", "shares")
        sources = (_arrow_source(accounts, acc_cols), _arrow_source(holdings, hold_cols))
        origin = f"{self.name} (book `{holder}` from DataFrames)"
        if sources[0] is not None and sources[1] is not None:
            out = self._rebuilt(doc, origin, {}, {holder: sources})
            out._books_from[holder] = "arrow"
            return out
        h["accounts_csv"] = f"delever-book-{holder}-accounts.csv"
        h["holdings_csv"] = f"delever-book-{holder}-holdings.csv"
        out = self._rebuilt(
            doc,
            origin,
            {
                h["accounts_csv"]: (accounts, acc_cols),
                h["holdings_csv"]: (holdings, hold_cols),
            },
        )
        out._books_from[holder] = "csv"
        return out

    def _document(self) -> Dict[str, Any]:
        return json.loads(self._native.document_json())

    def _rebuilt(
        self,
        doc: Dict[str, Any],
        origin: str,
        tables: Dict[str, Any],
        arrow: Optional[Dict[str, Any]] = None,
    ) -> "Scenario":
        """Load ``doc`` (edited) again, validated like a file.

        ``arrow`` maps holder ids to their two tables as Arrow streams (the holder names
        no files); the scenario's own books in memory are kept for the holders that
        still name no files. With CSV ``tables`` (file name -> (rows, columns)) to
        write, they and the scenario's CSV books go to a private directory; without,
        the books are read where the scenario's are.
        """
        books = [
            h
            for h in doc.get("holders", [])
            if isinstance(h, dict) and h.get("kind") == "account_book"
        ]
        keep = [
            str(h.get("id"))
            for h in books
            if not any(k in h for k in _TABLE_KEYS) and h.get("id") not in (arrow or {})
        ]
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        if not tables:
            native = _native.load_text_books(
                text, origin, self._native.base_dir, arrow, self._native, keep
            )
            out = Scenario(native)
            out._tmp = self._tmp  # books read from this scenario's directory, if private
            out._books_from = {
                k: v for k, v in self._books_from.items() if any(h.get("id") == k for h in books)
            }
            return out
        tmp = tempfile.TemporaryDirectory(prefix="delever-")
        base = self._native.base_dir
        for h in doc.get("holders", []):
            if not isinstance(h, dict) or h.get("kind") != "account_book":
                continue
            for key in ("accounts_csv", "holdings_csv"):
                rel = h.get(key)
                if not isinstance(rel, str) or rel in tables or base is None:
                    continue
                src = os.path.join(os.fspath(base), rel)
                if os.path.isfile(src):
                    dst = os.path.join(tmp.name, rel)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copyfile(src, dst)
        for name, (rows, columns) in tables.items():
            _write_csv(os.path.join(tmp.name, name), rows, columns)
        native = _native.load_text_books(text, origin, tmp.name, None, self._native, keep)
        out = Scenario(native)
        out._tmp = tmp  # the books' directory lives as long as the scenario
        out._books_from = {
            k: v for k, v in self._books_from.items() if any(h.get("id") == k for h in books)
        }
        return out

    def sweep(
        self, vary: Mapping[str, Any], max_rounds: Optional[int] = None
    ) -> Any:
        """Run every combination of ``vary`` (``{path: values}``), as ``delever sweep``.

        Each value is a list of numbers or words, or a string in the CLI's grammar
        (``"-0.05:-0.40:8"``, ``"1e-4:1e-2:5:log"``). The last path varies fastest.
        Returns one row per variant, the CSV rows of ``delever sweep --format csv``:
        a DataFrame when pandas is installed, a list of dicts otherwise.
        """
        specs = []
        for path, values in vary.items():
            if isinstance(values, str):
                specs.append(f"{path}={values}")
            elif isinstance(values, Iterable):
                specs.append(f"{path}=" + ",".join(_cell(v) for v in values))
            else:
                specs.append(f"{path}={_cell(values)}")
        text, code = self._native.sweep(specs, max_rounds)
        if code == 3:
            warnings.warn(
                f"{self.name}: some variants did not converge; their rows say so",
                NotConvergedWarning,
                stacklevel=2,
            )
        return frame_from_csv(text, params=list(vary.keys()))

    def mc(
        self,
        draws: int,
        seed: int = 0,
        max_rounds: Optional[int] = None,
        summary: bool = False,
    ) -> Any:
        """A Monte Carlo study of the scenario's ``monte_carlo:`` block, as ``delever mc``.

        Returns one row per draw (``delever mc --draws-out FILE.csv``'s rows): a DataFrame
        when pandas is installed, a list of dicts otherwise. With ``summary=True``,
        returns ``(draws, summary)``, the summary being ``delever mc --format csv``'s rows
        (``metric, statistic, level, value``).
        """
        rows, summ, code = self._native.mc(draws, seed, max_rounds)
        if code == 3:
            warnings.warn(
                f"{self.name}: some draws did not converge; their rows say so",
                NotConvergedWarning,
                stacklevel=2,
            )
        table = frame_from_csv(rows, params=[])
        if summary:
            return table, frame_from_csv(summ, params=[], summary=True)
        return table


class Report:
    """The report of one run. ``to_json()`` is ``delever run --format json``."""

    def __init__(self, native: Any) -> None:
        self._native = native
        self._doc: Dict[str, Any] = json.loads(native.json())

    def to_json(self) -> str:
        """The JSON report, byte for byte ``delever run --format json``."""
        return self._native.json()

    def to_csv(self) -> str:
        """The tidy CSV report, ``delever run --format csv``."""
        return self._native.csv()

    def to_table(self) -> str:
        """The text tables ``delever run`` prints."""
        return self._native.table()

    def to_html(self) -> str:
        """The self-contained HTML report, ``delever run --html FILE``."""
        return self._native.html()

    @property
    def json(self) -> Dict[str, Any]:
        """The whole JSON report as a dict (everything, including nested parts)."""
        return self._doc

    @property
    def scenario(self) -> str:
        """The scenario's name."""
        return self._doc["scenario"]

    @property
    def mode(self) -> str:
        """``equilibrium``, ``sequential`` or ``timeline``."""
        return self._doc["mode"]

    @property
    def termination(self) -> str:
        """Why the run stopped (``converged``, ``max_rounds``, ...)."""
        return self._doc["termination"]

    @property
    def rounds(self) -> int:
        """Rounds run."""
        return self._doc["rounds"]

    @property
    def converged(self) -> bool:
        """Whether the run reached its fixed point (the CLI's exit code is 0, not 3)."""
        return self._native.exit_code == 0

    @property
    def exit_code(self) -> int:
        """The CLI's exit code for this run: 0, or 3 when it stopped at its round limit."""
        return self._native.exit_code

    @property
    def totals(self) -> Dict[str, Any]:
        """Headline totals: losses, amplification, forced sales, defaults, margin calls."""
        return dict(self._doc["totals"])

    @property
    def assets(self) -> Any:
        """One row per asset: prices before, shocked and after, drawdown, forced sales."""
        return frame("assets", self._doc.get("assets", []))

    @property
    def holders(self) -> Any:
        """One row per holder: equity before, shocked and after, sales, status."""
        return frame("holders", self._doc.get("holders", []))

    @property
    def lenders(self) -> Any:
        """One row per lender: capital, losses, whether it tightened or defaulted."""
        return frame("lenders", self._doc.get("lenders", []))

    @property
    def trace(self) -> Any:
        """One row per round: sales, price index, new calls and defaults, residual."""
        return frame("trace", self._doc.get("trace", []))

    @property
    def days(self) -> Any:
        """One row per day of a timeline run (empty otherwise)."""
        return frame("days", self._doc.get("days", []))

    def __repr__(self) -> str:
        t = self._doc["totals"]
        return (
            f"<delever.Report {self.scenario!r}: {self.termination} after {self.rounds} "
            f"rounds, total loss {t['total_loss_usd']:.4g} USD, "
            f"amplification {t['amplification']:.3f}x>"
        )

    def _repr_html_(self) -> str:
        """Jupyter's view: the HTML report (headline, charts, player) in a frame."""
        page = self.to_html()
        return (
            '<iframe style="width:100%;height:720px;border:1px solid #ddd" '
            'sandbox="allow-scripts" srcdoc="' + _html.escape(page, quote=True) + '"></iframe>'
        )
