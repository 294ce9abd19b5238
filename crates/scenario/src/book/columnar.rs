//! Account books from Parquet and Arrow IPC files: the same two tables as the CSV books,
//! `account,cash,loan` and `account,asset,shares`, found by column name (other columns
//! are not read), with the same checks and messages told by row and column name.
//!
//! Parquet row groups are decoded in parallel (one reader per group, rayon) and only the
//! three columns are decoded. The numbers are then checked in one pass over each column's
//! values: finite, in range, not null. An `account` column may be text or whole numbers
//! (account numbers are often integers in an export); `cash`, `loan` and `shares` may be
//! any integer or float type.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
use rayon::prelude::*;

use super::{
    AssetLookup, Checked, CsvProblem, Grouping, Holdings, Ids, MAX_FIELD_BYTES, Packed, Problems,
    Where, checked, grouping_problem, show,
};
use crate::limits;
use crate::suggest;

/// The file format of a book's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookFormat {
    /// CSV with a header line.
    Csv,
    /// Apache Parquet.
    Parquet,
    /// Arrow IPC file format (Feather v2).
    Arrow,
}

impl BookFormat {
    /// The scenario keys of the accounts and the holdings table in this format.
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            BookFormat::Csv => ("accounts_csv", "holdings_csv"),
            BookFormat::Parquet => ("accounts_parquet", "holdings_parquet"),
            BookFormat::Arrow => ("accounts_arrow", "holdings_arrow"),
        }
    }

    /// The usual file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            BookFormat::Csv => "csv",
            BookFormat::Parquet => "parquet",
            BookFormat::Arrow => "arrow",
        }
    }

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            BookFormat::Csv => "CSV",
            BookFormat::Parquet => "Parquet",
            BookFormat::Arrow => "Arrow IPC",
        }
    }

    /// Whether rows are told by line number (CSV) or only by row (the binary formats).
    pub fn has_lines(self) -> bool {
        self == BookFormat::Csv
    }
}

/// Binary tables have rows, not lines: a problem is placed by its message only.
const NOWHERE: Where = Where {
    line: None,
    column: None,
    at: None,
};

/// Rows decoded at a time from one Parquet row group or Arrow batch.
const BATCH_ROWS: usize = 1 << 16;

fn problem(key: &'static str, message: String, hint: Option<String>) -> CsvProblem {
    CsvProblem {
        key,
        line: None,
        column: None,
        message,
        hint,
        at: None,
    }
}

/// The three columns of a table, in the order asked for, batch by batch: from a file, or
/// from memory (`memory.rs`).
pub(super) struct Table {
    /// `columns[b][c]`: batch `b`, wanted column `c`.
    pub(super) columns: Vec<[ArrayRef; 3]>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.iter().map(|c| c[0].len()).sum()
    }
}

/// Where the wanted columns are among the table's fields; a located problem if one is
/// missing or given twice. `what` names the table in messages (`Parquet file`).
pub(super) fn find_columns(
    schema: &Schema,
    want: [&str; 3],
    key: &'static str,
    what: &str,
) -> Result<[usize; 3], CsvProblem> {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut at = [0usize; 3];
    for (slot, w) in at.iter_mut().zip(want) {
        let found: Vec<usize> = names
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == w)
            .map(|(i, _)| i)
            .collect();
        match found.as_slice() {
            [i] => *slot = *i,
            [] => {
                let shown: Vec<String> = names
                    .iter()
                    .take(20)
                    .map(|n| format!("`{}`", show(n.as_bytes())))
                    .collect();
                return Err(problem(
                    key,
                    format!(
                        "the {what} has no column `{w}`; its columns are {}{}",
                        if shown.is_empty() {
                            "none".to_string()
                        } else {
                            shown.join(", ")
                        },
                        if names.len() > 20 { ", …" } else { "" }
                    ),
                    Some(format!(
                        "the table needs the columns `{}` (names as written, any order; other columns are ignored){}",
                        want.join("`, `"),
                        suggest::did_you_mean(w, names.iter().copied())
                            .map(|s| format!("; did you mean `{s}`?"))
                            .unwrap_or_default()
                    )),
                ));
            }
            _ => {
                return Err(problem(
                    key,
                    format!("the {what} has {} columns named `{w}`", found.len()),
                    Some("give each column a unique name".into()),
                ));
            }
        }
    }
    Ok(at)
}

fn read_error(key: &'static str, format: BookFormat, e: &dyn std::fmt::Display) -> CsvProblem {
    problem(
        key,
        format!("cannot read the file as {}: {e}", format.name()),
        Some(format!(
            "is this a {} file? The scenario key `{key}` says it is",
            format.name()
        )),
    )
}

/// The batch's columns at `at`, by the names the file gave them (a projection keeps the
/// file's column order, not ours).
fn pick(
    batch: &RecordBatch,
    want: [&str; 3],
    key: &'static str,
) -> Result<[ArrayRef; 3], CsvProblem> {
    let get = |w: &str| {
        batch
            .column_by_name(w)
            .cloned()
            .ok_or_else(|| problem(key, format!("column `{w}` vanished while reading"), None))
    };
    Ok([get(want[0])?, get(want[1])?, get(want[2])?])
}

/// Where a Parquet table's three columns are: the projection that decodes only them, and
/// the rows of each row group (from the file's metadata).
pub(super) struct ParquetLayout {
    pub(super) mask: ProjectionMask,
    pub(super) rows: Vec<usize>,
    /// The file's Arrow schema.
    pub(super) schema: SchemaRef,
    /// Arrow types to decode into instead of the file's (views, dictionaries), or none.
    pub(super) hint: Option<SchemaRef>,
}

fn open_file(path: &Path, key: &'static str) -> Result<File, CsvProblem> {
    File::open(path).map_err(|e| problem(key, format!("cannot open the file: {e}"), None))
}

/// The Parquet table's [`ParquetLayout`]; a problem if it cannot be read or a column is
/// missing.
pub(super) fn parquet_layout(
    path: &Path,
    want: [&str; 3],
    key: &'static str,
) -> Result<ParquetLayout, CsvProblem> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path, key)?)
        .map_err(|e| read_error(key, BookFormat::Parquet, &e))?;
    let at = find_columns(builder.schema(), want, key, "Parquet file")?;
    let mask = ProjectionMask::roots(builder.parquet_schema(), at);
    let rows = builder
        .metadata()
        .row_groups()
        .iter()
        .map(|g| usize::try_from(g.num_rows()).unwrap_or(0))
        .collect();
    Ok(ParquetLayout {
        mask,
        rows,
        schema: Arc::clone(builder.schema()),
        hint: None,
    })
}

/// Row group `g` of a Parquet table, decoded (the three columns only), batch by batch.
pub(super) fn parquet_group(
    path: &Path,
    layout: &ParquetLayout,
    g: usize,
    want: [&str; 3],
    key: &'static str,
) -> Result<Vec<[ArrayRef; 3]>, CsvProblem> {
    parquet_batches(path, layout, g, want, key)?.collect()
}

/// The batches of row group `g`, decoded one at a time as they are asked for: a reader
/// that converts each and drops it holds one batch's arrays, not the group's.
pub(super) fn parquet_batches(
    path: &Path,
    layout: &ParquetLayout,
    g: usize,
    want: [&str; 3],
    key: &'static str,
) -> Result<impl Iterator<Item = Result<[ArrayRef; 3], CsvProblem>>, CsvProblem> {
    let format = BookFormat::Parquet;
    let options = match &layout.hint {
        Some(h) => ArrowReaderOptions::new().with_schema(Arc::clone(h)),
        None => ArrowReaderOptions::new(),
    };
    let reader =
        ParquetRecordBatchReaderBuilder::try_new_with_options(open_file(path, key)?, options)
            .map_err(|e| read_error(key, format, &e))?
            .with_projection(layout.mask.clone())
            .with_row_groups(vec![g])
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| read_error(key, format, &e))?;
    Ok(reader.map(move |b| {
        let b = b.map_err(|e| read_error(key, format, &e))?;
        pick(&b, want, key)
    }))
}

fn read_parquet(path: &Path, want: [&str; 3], key: &'static str) -> Result<Table, CsvProblem> {
    let layout = parquet_layout(path, want, key)?;
    // One reader per row group, decoded in parallel; collected in file order.
    let per_group: Vec<Vec<[ArrayRef; 3]>> = (0..layout.rows.len())
        .into_par_iter()
        .map(|g| parquet_group(path, &layout, g, want, key))
        .collect::<Result<_, CsvProblem>>()?;
    Ok(Table {
        columns: per_group.into_iter().flatten().collect(),
    })
}

fn read_arrow(path: &Path, want: [&str; 3], key: &'static str) -> Result<Table, CsvProblem> {
    let format = BookFormat::Arrow;
    let file =
        File::open(path).map_err(|e| problem(key, format!("cannot open the file: {e}"), None))?;
    let probe = arrow_ipc::reader::FileReader::try_new(file, None)
        .map_err(|e| read_error(key, format, &e))?;
    let at = find_columns(&probe.schema(), want, key, "Arrow IPC file")?;
    drop(probe);
    let file =
        File::open(path).map_err(|e| problem(key, format!("cannot open the file: {e}"), None))?;
    let reader = arrow_ipc::reader::FileReader::try_new(file, Some(at.to_vec()))
        .map_err(|e| read_error(key, format, &e))?;
    let columns = reader
        .map(|b| {
            let b = b.map_err(|e| read_error(key, format, &e))?;
            pick(&b, want, key)
        })
        .collect::<Result<_, CsvProblem>>()?;
    Ok(Table { columns })
}

fn read_table(
    path: &Path,
    format: BookFormat,
    want: [&str; 3],
    key: &'static str,
) -> Result<Table, CsvProblem> {
    match format {
        BookFormat::Parquet => read_parquet(path, want, key),
        BookFormat::Arrow => read_arrow(path, want, key),
        BookFormat::Csv => Err(problem(
            key,
            "internal: a CSV book went to the columnar reader".into(),
            None,
        )),
    }
}

/// Calls `f(row_in_batch, id)` for each row of an id column; `None` for a null. Whole
/// numbers are written as decimal text, so `1001` in one table matches `1001` in the
/// other whatever their integer types.
pub(super) fn each_id(
    col: &ArrayRef,
    key: &'static str,
    name: &str,
    mut f: impl FnMut(usize, Option<&[u8]>),
) -> Result<(), CsvProblem> {
    fn ints<T>(col: &ArrayRef, f: &mut impl FnMut(usize, Option<&[u8]>))
    where
        T: arrow_array::ArrowPrimitiveType,
        T::Native: itoa_like::Decimal,
    {
        let a = col.as_primitive::<T>();
        let mut buf = String::new();
        for i in 0..a.len() {
            if a.is_null(i) {
                f(i, None);
            } else {
                buf.clear();
                itoa_like::Decimal::write(a.value(i), &mut buf);
                f(i, Some(buf.as_bytes()));
            }
        }
    }
    match col.data_type() {
        DataType::Utf8 => {
            let a = col.as_string::<i32>();
            for i in 0..a.len() {
                f(i, (!a.is_null(i)).then(|| a.value(i).as_bytes()));
            }
        }
        DataType::LargeUtf8 => {
            let a = col.as_string::<i64>();
            for i in 0..a.len() {
                f(i, (!a.is_null(i)).then(|| a.value(i).as_bytes()));
            }
        }
        DataType::Utf8View => {
            let a = col.as_string_view();
            for i in 0..a.len() {
                f(i, (!a.is_null(i)).then(|| a.value(i).as_bytes()));
            }
        }
        DataType::Int32 => ints::<Int32Type>(col, &mut f),
        DataType::Int64 => ints::<Int64Type>(col, &mut f),
        DataType::UInt32 => ints::<UInt32Type>(col, &mut f),
        DataType::UInt64 => ints::<UInt64Type>(col, &mut f),
        other => {
            return Err(problem(
                key,
                format!("column `{name}` holds {other}; expected text or whole numbers"),
                Some(format!(
                    "write `{name}` as a string (UTF-8) or integer column"
                )),
            ));
        }
    }
    Ok(())
}

/// Minimal decimal formatting for the integer id types.
mod itoa_like {
    use std::fmt::Write as _;

    /// An integer written as decimal text.
    pub trait Decimal: Copy {
        /// Append `self` in decimal to `out`.
        fn write(self, out: &mut String);
    }
    macro_rules! decimal {
        ($($t:ty),*) => {$(
            impl Decimal for $t {
                fn write(self, out: &mut String) {
                    let _ = write!(out, "{self}");
                }
            }
        )*};
    }
    decimal!(i32, i64, u32, u64);
}

/// A numeric column as `f64`s, or `Err(message)` for a type that is not a number.
// One `as` for every integer type: exact up to 2^53, beyond any amount the limits allow.
#[allow(clippy::cast_lossless, clippy::cast_precision_loss)]
pub(super) fn numbers(col: &ArrayRef) -> Result<Vec<Option<f64>>, String> {
    macro_rules! conv {
        ($t:ty) => {{
            let a = col.as_primitive::<$t>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i) as f64))
                .collect()
        }};
    }
    Ok(match col.data_type() {
        DataType::Float64 => {
            let a = col.as_primitive::<Float64Type>();
            if a.null_count() == 0 {
                a.values().iter().map(|&v| Some(v)).collect()
            } else {
                a.iter().collect()
            }
        }
        DataType::Float32 => conv!(Float32Type),
        DataType::Int8 => conv!(Int8Type),
        DataType::Int16 => conv!(Int16Type),
        DataType::Int32 => conv!(Int32Type),
        DataType::Int64 => conv!(Int64Type),
        DataType::UInt8 => conv!(UInt8Type),
        DataType::UInt16 => conv!(UInt16Type),
        DataType::UInt32 => conv!(UInt32Type),
        DataType::UInt64 => conv!(UInt64Type),
        other => return Err(format!("holds {other}; expected numbers")),
    })
}

/// Check one amount as the CSV reader does: finite, in `[0, max]`, present.
pub(super) fn check_amount(v: Option<f64>, max: f64) -> Result<f64, String> {
    match v {
        None => Err("the value is missing (null)".into()),
        Some(x) if !x.is_finite() => Err(format!("expected a finite number, found {x}")),
        Some(x) if x < 0.0 => Err(format!("expected a number ≥ 0, found {x}")),
        Some(x) if x > max => Err(format!(
            "expected a number ≤ {}, found {x}",
            limits::show(max)
        )),
        Some(x) => Ok(x),
    }
}

/// A column that is not numeric, as a problem of the whole file.
fn type_problem(key: &'static str, name: &str, msg: &str, what: &str) -> CsvProblem {
    problem(
        key,
        format!("column `{name}` {msg}"),
        Some(format!(
            "write `{name}` as a float or integer column ({what})"
        )),
    )
}

/// The accounts table: ids, cash, loan.
pub(super) fn read_accounts(
    path: &Path,
    format: BookFormat,
    out: &mut Vec<CsvProblem>,
) -> Option<Checked> {
    let key = format.keys().0;
    let table = read_table(path, format, ACCOUNT_COLUMNS, key)
        .map_err(|p| out.push(p))
        .ok()?;
    let (ids, cash, loan) = accounts_from(&table, key, out)?;
    drop(table);
    Some(checked(ids, cash, loan))
}

/// The columns of an accounts table.
pub(super) const ACCOUNT_COLUMNS: [&str; 3] = ["account", "cash", "loan"];
/// The columns of a holdings table.
pub(super) const HOLDING_COLUMNS: [&str; 3] = ["account", "asset", "shares"];

/// The accounts table's checks, wherever its columns came from; problems keyed `key`.
#[allow(clippy::too_many_lines)] // one pass over the batches, a few lines per check
pub(super) fn accounts_from(
    table: &Table,
    key: &'static str,
    out: &mut Vec<CsvProblem>,
) -> Option<(Ids, Vec<f64>, Vec<f64>)> {
    let want = ACCOUNT_COLUMNS;
    let n = table.rows();
    let mut ids = Ids::with_capacity(0, n);
    let mut cash = Vec::with_capacity(n);
    let mut loan = Vec::with_capacity(n);
    let mut problems = Problems::new(key);
    let mut first = 0usize;
    for cols in &table.columns {
        let mut fatal = None;
        let r = each_id(&cols[0], key, want[0], |i, id| {
            let row = first + i + 1;
            let id = id.unwrap_or(&[]);
            if id.len() > MAX_FIELD_BYTES {
                problems.push(
                    row,
                    NOWHERE,
                    format!(
                        "row {row}, column `account`: the id is {} bytes long, more than {} KiB",
                        id.len(),
                        MAX_FIELD_BYTES >> 10
                    ),
                    None,
                );
                ids.close();
                return;
            }
            if id.iter().all(u8::is_ascii_whitespace) {
                problems.push(
                    row,
                    NOWHERE,
                    format!("row {row}, column `account`: the account id is empty"),
                    None,
                );
            }
            ids.buf.extend_from_slice(id);
            ids.close();
        });
        if let Err(p) = r {
            fatal = Some(p);
        }
        for (c, v) in [(1usize, &mut cash), (2, &mut loan)] {
            match numbers(&cols[c]) {
                Ok(vals) => {
                    for (i, x) in vals.into_iter().enumerate() {
                        let row = first + i + 1;
                        match check_amount(x, limits::MAX_USD) {
                            Ok(x) => v.push(x),
                            Err(msg) => {
                                v.push(0.0);
                                problems.push(
                                    row,
                                    NOWHERE,
                                    format!(
                                        "row {row} (account `{}`), column `{}`: {msg}",
                                        show(ids.get(first + i)),
                                        want[c]
                                    ),
                                    Some(format!("`{}` is a USD amount from 0 to 1e15", want[c])),
                                );
                            }
                        }
                    }
                }
                Err(msg) => fatal = fatal.or(Some(type_problem(key, want[c], &msg, "USD"))),
            }
        }
        if let Some(p) = fatal {
            problems.finish(out);
            out.push(p);
            return None;
        }
        first += cols[0].len();
    }
    duplicate_problems(&ids, &mut problems);
    let ok = problems.is_empty();
    problems.finish(out);
    ok.then_some((ids, cash, loan))
}

/// Duplicate ids, as in the CSV reader (rows only: these files have no lines).
pub(super) fn duplicate_problems(ids: &Ids, problems: &mut Problems) {
    for (a, b) in super::duplicates(ids) {
        let (r1, r2) = (a + 1, b + 1);
        problems.push(
            r2,
            NOWHERE,
            format!(
                "account `{}` appears twice: rows {r1} and {r2}",
                show(ids.get(a))
            ),
            Some("each account id must be unique in the book".into()),
        );
    }
}

/// The holdings table, grouped by account in the accounts' order.
pub(super) fn read_holdings(
    path: &Path,
    format: BookFormat,
    ids: &Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<Holdings> {
    let (accounts_key, key) = format.keys();
    let table = read_table(path, format, HOLDING_COLUMNS, key)
        .map_err(|p| out.push(p))
        .ok()?;
    holdings_from(&table, (accounts_key, key), ids, assets, out)
}

/// The holdings table's checks, wherever its columns came from; problems keyed `keys.1`,
/// the accounts table named by its key `keys.0`.
#[allow(clippy::too_many_lines)] // one pass over the batches, a few lines per check
pub(super) fn holdings_from(
    table: &Table,
    (accounts_key, key): (&'static str, &'static str),
    ids: &Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<Holdings> {
    let n = table.rows();
    let mut grouping = Grouping::new(ids);
    let mut held = Vec::with_capacity(n);
    let mut shares = Vec::with_capacity(n);
    let mut problems = Problems::new(key);
    let mut first = 0usize;
    for cols in &table.columns {
        let len = cols[0].len();
        let amounts = match numbers(&cols[2]) {
            Ok(v) => v,
            Err(msg) => {
                problems.finish(out);
                out.push(type_problem(key, "shares", &msg, "a number of shares"));
                return None;
            }
        };
        // The asset ids of this batch, by row, as bytes.
        let mut asset_ids: Vec<Option<Vec<u8>>> = Vec::with_capacity(len);
        if let Err(p) = each_id(&cols[1], key, "asset", |_, id| {
            asset_ids.push(id.map(<[u8]>::to_vec));
        }) {
            problems.finish(out);
            out.push(p);
            return None;
        }
        let mut stop = false;
        let r = each_id(&cols[0], key, "account", |i, account| {
            if stop {
                return;
            }
            let row = first + i + 1;
            let account = account.unwrap_or(&[]);
            if let Err(earlier) = grouping.seek(ids, account, shares.len()) {
                let (message, hint) = grouping_problem(row, account, earlier);
                let message = message.replace("accounts_csv", accounts_key);
                let hint = hint.replace("accounts_csv", accounts_key);
                problems.push(row, NOWHERE, message, Some(hint));
                stop = true;
                return;
            }
            let asset = asset_ids.get(i).cloned().flatten().unwrap_or_default();
            match (
                assets.get(&asset),
                check_amount(amounts.get(i).copied().flatten(), limits::MAX_SHARES),
            ) {
                (Some(a), Ok(s)) => {
                    held.push(a);
                    shares.push(s);
                }
                (None, _) => {
                    let id = show(&asset);
                    problems.push(
                        row,
                        NOWHERE,
                        format!(
                            "row {row} (account `{}`), column `asset`: unknown asset `{id}`",
                            show(account)
                        ),
                        Some(suggest::hint_for(&id, assets.ids(), "assets")),
                    );
                }
                (Some(_), Err(msg)) => problems.push(
                    row,
                    NOWHERE,
                    format!(
                        "row {row} (account `{}`), column `shares`: {msg}",
                        show(account)
                    ),
                    Some("`shares` is a number of shares from 0 to 1e18".into()),
                ),
            }
        });
        if let Err(p) = r {
            problems.finish(out);
            out.push(p);
            return None;
        }
        if stop {
            problems.finish(out);
            return None;
        }
        first += len;
    }
    super::finish_holdings(problems, out, grouping, ids.len(), held, shares)
}

/// An error writing a columnar book.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file could not be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The Parquet encoder failed.
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// The Arrow encoder failed.
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
}

/// One table to write: column names and columns (text, then two numbers).
pub struct TableColumns<'a> {
    /// Column names, e.g. `["account", "cash", "loan"]`.
    pub names: [&'a str; 3],
    /// The first column (ids), as text.
    pub text0: Vec<String>,
    /// The second column: text (holdings' `asset`) or a number (accounts' `cash`).
    pub second: Column,
    /// The third column, a number.
    pub third: Vec<f64>,
}

/// The second column of a table.
pub enum Column {
    /// Text values.
    Text(Vec<String>),
    /// Numbers.
    Numbers(Vec<f64>),
}

/// Rows per Parquet row group: large enough for fast scans, small enough that several
/// groups decode in parallel on a million-row book.
pub const ROW_GROUP_ROWS: usize = 1 << 18;

/// Write a table as Parquet (zstd-compressed, row groups of [`ROW_GROUP_ROWS`]) or an
/// Arrow IPC file to `w`.
///
/// # Errors
/// [`WriteError`] when encoding or writing fails.
pub fn write_table<W: Write + Send>(
    w: W,
    format: BookFormat,
    t: TableColumns<'_>,
) -> Result<(), WriteError> {
    let second_type = match t.second {
        Column::Text(_) => DataType::Utf8,
        Column::Numbers(_) => DataType::Float64,
    };
    let schema: SchemaRef = Arc::new(Schema::new(vec![
        Field::new(t.names[0], DataType::Utf8, false),
        Field::new(t.names[1], second_type, false),
        Field::new(t.names[2], DataType::Float64, false),
    ]));
    let c0: ArrayRef = Arc::new(StringArray::from(t.text0));
    let c1: ArrayRef = match t.second {
        Column::Text(v) => Arc::new(StringArray::from(v)),
        Column::Numbers(v) => Arc::new(Float64Array::from(v)),
    };
    let c2: ArrayRef = Arc::new(Float64Array::from(t.third));
    let batch = RecordBatch::try_new(Arc::clone(&schema), vec![c0, c1, c2])?;
    match format {
        BookFormat::Parquet => {
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::ZSTD(
                    parquet::basic::ZstdLevel::default(),
                ))
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .build();
            let mut writer = parquet::arrow::ArrowWriter::try_new(w, schema, Some(props))?;
            writer.write(&batch)?;
            writer.close()?;
        }
        BookFormat::Arrow => {
            let mut writer = arrow_ipc::writer::FileWriter::try_new(w, &schema)?;
            writer.write(&batch)?;
            writer.finish()?;
        }
        BookFormat::Csv => {
            return Err(WriteError::Io(std::io::Error::other(
                "CSV books are written by the CSV writer, not write_table",
            )));
        }
    }
    Ok(())
}

/// A problem found while converting a CSV book, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookProblem {
    /// The file, as given.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl std::fmt::Display for BookProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// The two tables of a CSV book, checked as a scenario's book is (header, amounts,
/// unique account ids, holdings grouped by account in the accounts' order) except for the
/// asset ids, which only a scenario can resolve: ready for [`write_table`].
///
/// # Errors
/// Every problem found, located by file, line and column, as `delever validate` tells them.
pub fn csv_tables(
    accounts: &Path,
    holdings: &Path,
) -> Result<(TableColumns<'static>, TableColumns<'static>), Vec<BookProblem>> {
    let locate = |ps: Vec<CsvProblem>| -> Vec<BookProblem> {
        ps.into_iter()
            .map(|p| BookProblem {
                file: if p.key == "accounts_csv" {
                    accounts.display().to_string()
                } else {
                    holdings.display().to_string()
                },
                line: p.line,
                column: p.column,
                message: p.message,
                hint: p.hint,
            })
            .collect()
    };
    let mut out = Vec::new();
    let Some((acc_ids, acc_cash, acc_loan)) =
        super::read_accounts(accounts, super::Split::DEFAULT, &mut out)
    else {
        return Err(locate(out));
    };
    // Every asset id the holdings name, in order of first use: the lookup accepts them
    // all, so only the structure and the numbers are checked here.
    let mut seen: Vec<String> = Vec::new();
    {
        let Ok(file) = File::open(holdings) else {
            return Err(vec![BookProblem {
                file: holdings.display().to_string(),
                line: None,
                column: None,
                message: "cannot open the file".into(),
                hint: None,
            }]);
        };
        let mut rdr = super::reader(file);
        let mut rec = csv::ByteRecord::new();
        let mut set = std::collections::BTreeSet::new();
        if super::next(&mut rdr, &mut rec, "holdings_csv", "").unwrap_or(false) {
            while let Ok(true) = super::next(&mut rdr, &mut rec, "holdings_csv", "") {
                if let Some(a) = rec.get(1) {
                    let a = String::from_utf8_lossy(a).into_owned();
                    if set.insert(a.clone()) {
                        seen.push(a);
                    }
                }
            }
        }
    }
    let lookup = AssetLookup::new(seen.iter().enumerate().map(|(i, a)| {
        (
            a.as_str(),
            delever_graph::AssetIx(u32::try_from(i).unwrap_or(u32::MAX)),
        )
    }));
    let Some(h) =
        super::read_holdings(holdings, super::Split::DEFAULT, &acc_ids, &lookup, &mut out)
    else {
        return Err(locate(out));
    };
    let mut ids: Vec<String> = Vec::with_capacity(acc_ids.len());
    let mut at = acc_ids.cursor(0);
    for _ in 0..acc_ids.len() {
        ids.push(String::from_utf8_lossy(at.id()).into_owned());
        at.advance(&acc_ids);
    }
    let mut hold_accounts = Vec::with_capacity(h.shares.len());
    for (i, w) in h.row_ptr.windows(2).enumerate() {
        let n = usize::try_from(w[1] - w[0]).unwrap_or(0);
        let id = ids.get(i).cloned().unwrap_or_default();
        hold_accounts.extend(std::iter::repeat_n(id, n));
    }
    let hold_assets: Vec<String> = h
        .assets
        .iter()
        .map(|a| seen.get(a.get()).cloned().unwrap_or_default())
        .collect();
    Ok((
        TableColumns {
            names: ["account", "cash", "loan"],
            text0: ids,
            second: Column::Numbers(acc_cash),
            third: acc_loan,
        },
        TableColumns {
            names: ["account", "asset", "shares"],
            text0: hold_accounts,
            second: Column::Text(hold_assets),
            third: h.shares,
        },
    ))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use arrow_array::Int64Array;
    use delever_graph::AssetIx;

    /// A fresh directory for one test, removed at the end.
    struct Dir(std::path::PathBuf);
    impl Dir {
        fn new(name: &str) -> Self {
            let d = std::env::temp_dir()
                .join(format!("delever-columnar-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            std::fs::create_dir_all(&d).expect("mkdir");
            Dir(d)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn lookup() -> AssetLookup {
        AssetLookup::new([("X", AssetIx(0)), ("Y", AssetIx(1))])
    }

    /// Write `columns` as Parquet with row groups of `group` rows (also used by the
    /// row-group reader's tests).
    pub(crate) fn parquet(path: &Path, columns: Vec<(&str, ArrayRef)>, group: usize) {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, c)| Field::new(*n, c.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            Arc::clone(&schema),
            columns.into_iter().map(|(_, c)| c).collect(),
        )
        .expect("batch");
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(group))
            .build();
        let f = File::create(path).expect("create");
        let mut w = parquet::arrow::ArrowWriter::try_new(f, schema, Some(props)).expect("writer");
        w.write(&batch).expect("write");
        w.close().expect("close");
    }

    #[test]
    fn many_row_groups_decode_in_order_into_the_same_book() {
        let dir = Dir::new("groups");
        let n = 1000usize;
        let ids: Vec<String> = (0..n).map(|i| format!("acct-{i}")).collect();
        let acc_path = dir.0.join("a.parquet");
        let hold_path = dir.0.join("h.parquet");
        // An extra column the reader must skip, and columns in another order.
        parquet(
            &acc_path,
            vec![
                (
                    "loan",
                    Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64))),
                ),
                ("note", Arc::new(StringArray::from(vec!["x"; n]))),
                ("account", Arc::new(StringArray::from(ids.clone()))),
                ("cash", Arc::new(Float64Array::from(vec![5.0; n]))),
            ],
            97,
        );
        // Two holdings per account, one of X and one of Y.
        let hold_ids: Vec<String> = ids.iter().flat_map(|i| [i.clone(), i.clone()]).collect();
        let assets: Vec<&str> = (0..n).flat_map(|_| ["X", "Y"]).collect();
        parquet(
            &hold_path,
            vec![
                ("account", Arc::new(StringArray::from(hold_ids))),
                ("asset", Arc::new(StringArray::from(assets))),
                (
                    "shares",
                    Arc::new(Int64Array::from_iter_values((1..=2000i64).take(2 * n))),
                ),
            ],
            131,
        );
        let book = crate::book::load_as(
            &crate::book::BookFiles {
                accounts: &acc_path,
                holdings: &hold_path,
            },
            &lookup(),
            BookFormat::Parquet,
        )
        .expect("loads");
        assert_eq!(book.len(), n);
        assert_eq!(book.loan[999], 999.0);
        assert_eq!(book.cash[0], 5.0);
        assert_eq!(book.holdings(), 2 * n);
        let row: Vec<(AssetIx, f64)> = book.row(500).collect();
        assert_eq!(row, [(AssetIx(0), 1001.0), (AssetIx(1), 1002.0)]);
    }

    #[test]
    fn integer_account_ids_match_across_the_two_tables() {
        let dir = Dir::new("ints");
        let acc_path = dir.0.join("a.parquet");
        let hold_path = dir.0.join("h.parquet");
        parquet(
            &acc_path,
            vec![
                ("account", Arc::new(Int64Array::from(vec![1001, 1002]))),
                ("cash", Arc::new(Float64Array::from(vec![0.0, 1.0]))),
                ("loan", Arc::new(Int64Array::from(vec![10, 20]))),
            ],
            1000,
        );
        parquet(
            &hold_path,
            vec![
                (
                    "account",
                    Arc::new(arrow_array::UInt32Array::from(vec![1002])),
                ),
                ("asset", Arc::new(StringArray::from(vec!["Y"]))),
                ("shares", Arc::new(Float64Array::from(vec![3.0]))),
            ],
            1000,
        );
        let book = crate::book::load_as(
            &crate::book::BookFiles {
                accounts: &acc_path,
                holdings: &hold_path,
            },
            &lookup(),
            BookFormat::Parquet,
        )
        .expect("loads");
        assert_eq!(book.row_ptr, [0, 0, 1]);
        assert_eq!(book.loan, [10.0, 20.0]);
    }

    #[test]
    fn nulls_and_wrong_types_are_located() {
        let dir = Dir::new("nulls");
        let acc_path = dir.0.join("a.parquet");
        let hold_path = dir.0.join("h.parquet");
        parquet(
            &acc_path,
            vec![
                (
                    "account",
                    Arc::new(StringArray::from(vec![Some("a"), None])),
                ),
                ("cash", Arc::new(Float64Array::from(vec![None, Some(1.0)]))),
                ("loan", Arc::new(Float64Array::from(vec![1.0, 1.0]))),
            ],
            1000,
        );
        parquet(
            &hold_path,
            vec![
                ("account", Arc::new(StringArray::from(vec!["a"]))),
                ("asset", Arc::new(StringArray::from(vec!["X"]))),
                ("shares", Arc::new(StringArray::from(vec!["3"]))),
            ],
            1000,
        );
        let files = crate::book::BookFiles {
            accounts: &acc_path,
            holdings: &hold_path,
        };
        let problems =
            crate::book::load_as(&files, &lookup(), BookFormat::Parquet).expect_err("refused");
        let text: Vec<&str> = problems.iter().map(|p| p.message.as_str()).collect();
        assert!(
            text.iter()
                .any(|m| m
                    .contains("row 1 (account `a`), column `cash`: the value is missing (null)")),
            "{text:?}"
        );
        assert!(
            text.iter()
                .any(|m| m.contains("row 2, column `account`: the account id is empty")),
            "{text:?}"
        );
        assert!(
            problems
                .iter()
                .all(|p| p.key == "accounts_parquet" && p.line.is_none())
        );
        // Good accounts, holdings with a text `shares` column.
        parquet(
            &acc_path,
            vec![
                ("account", Arc::new(StringArray::from(vec!["a"]))),
                ("cash", Arc::new(Float64Array::from(vec![1.0]))),
                ("loan", Arc::new(Float64Array::from(vec![1.0]))),
            ],
            1000,
        );
        let problems =
            crate::book::load_as(&files, &lookup(), BookFormat::Parquet).expect_err("refused");
        assert!(
            problems[0]
                .message
                .contains("column `shares` holds Utf8; expected numbers"),
            "{problems:?}"
        );
        assert_eq!(problems[0].key, "holdings_parquet");
    }

    #[test]
    fn arrow_ipc_tables_round_trip_through_write_table() {
        let dir = Dir::new("arrow");
        let acc_path = dir.0.join("a.arrow");
        let hold_path = dir.0.join("h.arrow");
        write_table(
            File::create(&acc_path).expect("create"),
            BookFormat::Arrow,
            TableColumns {
                names: ["account", "cash", "loan"],
                text0: vec!["p".into(), "q".into()],
                second: Column::Numbers(vec![1.0, 2.0]),
                third: vec![3.0, 4.0],
            },
        )
        .expect("write");
        write_table(
            File::create(&hold_path).expect("create"),
            BookFormat::Arrow,
            TableColumns {
                names: ["account", "asset", "shares"],
                text0: vec!["p".into(), "q".into(), "q".into()],
                second: Column::Text(vec!["X".into(), "X".into(), "Y".into()]),
                third: vec![1.0, 2.0, 3.0],
            },
        )
        .expect("write");
        let book = crate::book::load_as(
            &crate::book::BookFiles {
                accounts: &acc_path,
                holdings: &hold_path,
            },
            &lookup(),
            BookFormat::Arrow,
        )
        .expect("loads");
        assert_eq!(book.cash, [1.0, 2.0]);
        assert_eq!(book.row_ptr, [0, 1, 3]);
        assert_eq!(book.shares, [1.0, 2.0, 3.0]);
    }
}
