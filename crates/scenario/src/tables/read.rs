//! Reading a holder table into cells: CSV (read whole, it is small) through the `csv`
//! crate with the account books' rules (CRLF, a byte order mark, quoted fields, exact
//! lines and columns from [`crate::book::field_place`]), Parquet and Arrow IPC through
//! arrow, every column decoded (a holder table has a few dozen columns at most).

use rayon::prelude::*;
use std::fs::File;
use std::io::Read as _;
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::book::{BookFormat, MAX_FIELD_BYTES, field_place};
use crate::error::clip;

mod plain;

/// Largest holder or holdings table file, in bytes: the scenario file's own limit. A
/// table is read whole; 64 MiB of CSV is about a million holders with twenty columns.
pub(crate) const MAX_TABLE_BYTES: u64 = crate::MAX_YAML_BYTES;

/// Most data rows of one table: a million holders (or holdings rows), far more than any
/// bank or fund register; the engine's work grows with every one.
pub(crate) const MAX_TABLE_ROWS: usize = 1_000_000;

/// A cell as read, before it is given a meaning by its column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// An empty field (CSV) or a null (binary tables): the key is absent.
    Empty,
    /// Text, trimmed of spaces.
    Text(Text),
    /// A whole number from an integer column.
    Int(i128),
    /// A number from a float column.
    Num(f64),
    /// A boolean column's value.
    Bool(bool),
}

/// A cell's text: kept in the cell when short (ids, names and numbers nearly always are),
/// so that reading a table does not allocate, and free, a string per cell.
#[derive(Clone)]
pub(crate) enum Text {
    /// At most [`Text::SHORT`] bytes of UTF-8, checked when made.
    Short {
        len: u8,
        bytes: [u8; Text::SHORT],
    },
    Long(String),
}

impl Text {
    /// The longest text kept in the cell: a `Cell` is no larger than with a `String`.
    const SHORT: usize = 22;

    pub(crate) fn new(s: &str) -> Self {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= Self::SHORT => {
                let mut bytes = [0u8; Self::SHORT];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                Text::Short { len, bytes }
            }
            _ => Text::Long(s.to_owned()),
        }
    }
}

impl std::ops::Deref for Text {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            // Made from a `&str`: always UTF-8 (the fallback is never taken).
            Text::Short { len, bytes } => bytes
                .get(..usize::from(*len))
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default(),
            Text::Long(s) => s,
        }
    }
}

impl PartialEq for Text {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// A table's data rows, their cells side by side: a vector per row cost an allocation and
/// a free per row, half of reading a large table (issue 15). The rows are in parts, one
/// per piece of a file read on its own core, so that the pieces are not copied together.
#[derive(Debug, Default)]
pub(crate) struct Rows {
    /// In row order; a part's rows follow the previous part's.
    parts: Vec<Part>,
}

/// Consecutive rows of a table.
#[derive(Debug, Default)]
struct Part {
    /// Index of the part's first row among the table's rows.
    first: usize,
    cells: Vec<Cell>,
    /// Row `first + i` is `cells[ends[i - 1]..ends[i]]` (from 0 for `i = 0`): one cell
    /// per column, or none for a blank line.
    ends: Vec<usize>,
}

impl Part {
    fn get(&self, i: usize) -> Option<&[Cell]> {
        let end = *self.ends.get(i)?;
        let start = i.checked_sub(1).map_or(0, |j| self.ends[j]);
        self.cells.get(start..end)
    }
}

impl Rows {
    /// Number of rows, blank ones included.
    pub(crate) fn len(&self) -> usize {
        self.parts.last().map_or(0, |p| p.first + p.ends.len())
    }

    /// Row `i`'s cells (none for a blank line), or `None` past the last row.
    pub(crate) fn get(&self, i: usize) -> Option<&[Cell]> {
        let k = self
            .parts
            .partition_point(|p| p.first <= i)
            .checked_sub(1)?;
        let part = self.parts.get(k)?;
        part.get(i - part.first)
    }

    /// The rows in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &[Cell]> {
        self.parts
            .iter()
            .flat_map(|p| (0..p.ends.len()).map(|i| p.get(i).unwrap_or(&[])))
    }

    /// The rows in order, on every core.
    pub(crate) fn par_iter(&self) -> impl IndexedParallelIterator<Item = &[Cell]> {
        (0..self.len())
            .into_par_iter()
            .map(|i| self.get(i).unwrap_or(&[]))
    }
}

/// A table read from a file: its column names and rows, and where each row is.
#[derive(Debug)]
pub(crate) struct Table {
    /// The column names, in the file's order.
    pub columns: Vec<String>,
    /// Data rows (the header excluded), each with one cell per column.
    pub rows: Rows,
    /// Where each row is (CSV): see [`Lines`].
    pub lines: Option<Lines>,
}

/// A CSV file's bytes (after any byte order mark) and where each record starts, for
/// the exact line and column of a field when a problem needs it.
#[derive(Debug)]
pub(crate) struct Lines {
    raw: Vec<u8>,
    starts: Starts,
}

/// Per record of a CSV file (the header is record 0): its first byte and the reader's line.
type Starts = Vec<(u64, u64)>;

impl Lines {
    /// Line and column of field `field` of record `record` (0 is the header): exact, as
    /// an editor shows them, after CRLF line ends and quoted fields too.
    pub(crate) fn place(&self, record: usize, field: usize) -> (Option<usize>, Option<usize>) {
        let Some(&(byte, line)) = self.starts.get(record) else {
            return (None, None);
        };
        match field_place(&self.raw, byte, line, field) {
            Some((l, c)) => (Some(l), Some(c)),
            None => (usize::try_from(line).ok(), None),
        }
    }
}

/// A problem with a whole file, or a row of it: record (0 the header) and field.
#[derive(Debug)]
pub(crate) struct ReadProblem {
    pub message: String,
    pub hint: Option<String>,
    /// Record and field, for CSV files.
    pub at: Option<(usize, usize)>,
}

fn whole_file(message: String, hint: Option<String>) -> ReadProblem {
    ReadProblem {
        message,
        hint,
        at: None,
    }
}

/// Read a table in `format`; the problem (one, the table is not read further) says why not.
pub(crate) fn read(path: &Path, format: BookFormat) -> Result<Table, (ReadProblem, Option<Lines>)> {
    let len = std::fs::metadata(path)
        .map_err(|e| (whole_file(format!("cannot read the file: {e}"), None), None))?
        .len();
    if len > MAX_TABLE_BYTES {
        return Err((
            whole_file(
                format!(
                    "the file is {:.1} MiB; holder tables are limited to {} MiB",
                    len as f64 / f64::from(1 << 20),
                    MAX_TABLE_BYTES >> 20
                ),
                Some("a holder table has one row per bank, fund or account; large books of retail accounts are `account_book` holders".into()),
            ),
            None,
        ));
    }
    match format {
        BookFormat::Csv => read_csv(path, len),
        BookFormat::Parquet | BookFormat::Arrow => {
            read_columnar(path, format).map_err(|p| (p, None))
        }
    }
}

fn read_csv(path: &Path, len: u64) -> Result<Table, (ReadProblem, Option<Lines>)> {
    // Sized once (one byte more, to see the end): grown by doubling, a large file was
    // copied over and over.
    let mut bytes = Vec::with_capacity(usize::try_from(len).map_or(0, |n| n + 1));
    File::open(path)
        .and_then(|f| f.take(MAX_TABLE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| (whole_file(format!("cannot read the file: {e}"), None), None))?;
    if bytes.len() as u64 > MAX_TABLE_BYTES {
        return Err((
            whole_file(
                format!(
                    "the file grew past {} MiB while read",
                    MAX_TABLE_BYTES >> 20
                ),
                None,
            ),
            None,
        ));
    }
    // Excel's "CSV UTF-8" starts with a byte order mark; positions count after it, as
    // the account books' reader does.
    let raw = match bytes.strip_prefix(b"\xef\xbb\xbf".as_slice()) {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    if let Some((columns, rows, starts)) = plain::parse(&raw) {
        return Ok(Table {
            columns,
            rows,
            lines: Some(Lines { raw, starts }),
        });
    }
    let mut lines = Lines {
        raw: Vec::new(),
        starts: Vec::new(),
    };
    let parsed = parse_csv(&raw, &mut lines.starts);
    lines.raw = raw;
    match parsed {
        Ok((columns, rows)) => Ok(Table {
            columns,
            rows,
            lines: Some(lines),
        }),
        Err(p) => Err((p, Some(lines))),
    }
}

/// The header and the rows of CSV text, one record after the other; `starts` gets each
/// record's start.
fn parse_csv(raw: &[u8], starts: &mut Vec<(u64, u64)>) -> Result<(Vec<String>, Rows), ReadProblem> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(raw);
    let mut rec = csv::ByteRecord::new();
    let mut columns: Option<Vec<String>> = None;
    let mut rows = Part::default();
    loop {
        let record = starts.len();
        match rdr.read_byte_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let at = e.position().map(|p| {
                    starts.push((p.byte(), p.line()));
                    (record, 0)
                });
                return Err(ReadProblem {
                    message: format!("malformed CSV: {e}"),
                    hint: Some("the file must be CSV with a header line of column names".into()),
                    at,
                });
            }
        }
        let pos = rec.position().map_or((0, 1), |p| (p.byte(), p.line()));
        starts.push(pos);
        // The record's cells go straight to the table's; a header or a blank line takes
        // them back.
        let start = rows.cells.len();
        for (i, f) in rec.iter().enumerate() {
            rows.cells.push(csv_cell(f).map_err(|message| ReadProblem {
                message,
                hint: Some(
                    "ids, names and numbers are short UTF-8 text; is this the right file?".into(),
                ),
                at: Some((record, i)),
            })?);
        }
        let cells = &rows.cells[start..];
        let Some(names) = &columns else {
            columns = Some(
                rows.cells
                    .drain(start..)
                    .map(|c| match c {
                        Cell::Text(t) => t.to_string(),
                        _ => String::new(),
                    })
                    .collect(),
            );
            continue;
        };
        if cells.len() != names.len() && !(cells.len() == 1 && cells[0] == Cell::Empty) {
            return Err(ReadProblem {
                message: format!(
                    "row {record} has {} fields, the header {}",
                    cells.len(),
                    names.len()
                ),
                hint: Some("every row has one field per column of the header; leave a field empty (`,,`) for an absent key".into()),
                at: Some((record, 0)),
            });
        }
        if cells.iter().all(|c| *c == Cell::Empty) {
            // A blank line: no holder. Its record keeps its place so rows stay numbered
            // as the file's records.
            rows.cells.truncate(start);
            rows.ends.push(start);
            continue;
        }
        if rows.ends.len() >= MAX_TABLE_ROWS {
            return Err(too_many_rows(Some((record, 0))));
        }
        rows.ends.push(rows.cells.len());
    }
    let Some(columns) = columns else {
        return Err(ReadProblem {
            message: "the file is empty; expected a header line of column names".into(),
            hint: Some("the first line names the columns, e.g. `id,kind,cash`".into()),
            at: None,
        });
    };
    Ok((columns, Rows { parts: vec![rows] }))
}

fn too_many_rows(at: Option<(usize, usize)>) -> ReadProblem {
    ReadProblem {
        message: format!("the table has more than {MAX_TABLE_ROWS} rows"),
        hint: Some("a holder table has one row per bank, fund or account; large books of retail accounts are `account_book` holders".into()),
        at,
    }
}

/// A CSV field as a cell: trimmed UTF-8 text, empty when blank.
fn csv_cell(f: &[u8]) -> Result<Cell, String> {
    if f.len() > MAX_FIELD_BYTES {
        return Err(format!(
            "the field is {} bytes long, more than {} KiB",
            f.len(),
            MAX_FIELD_BYTES >> 10
        ));
    }
    let s = std::str::from_utf8(f).map_err(|e| {
        format!(
            "the field is not UTF-8 text (invalid byte 0x{:02x})",
            f.get(e.valid_up_to()).copied().unwrap_or(0)
        )
    })?;
    Ok(text_cell(s))
}

/// A field's text as a cell: trimmed, empty when blank.
fn text_cell(s: &str) -> Cell {
    let s = s.trim();
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(Text::new(s))
    }
}

fn read_columnar(path: &Path, format: BookFormat) -> Result<Table, ReadProblem> {
    let cannot = |e: &dyn std::fmt::Display| {
        whole_file(
            format!("cannot read the file as {}: {e}", format.name()),
            Some(format!("is this a {} file?", format.name())),
        )
    };
    let open =
        || File::open(path).map_err(|e| whole_file(format!("cannot open the file: {e}"), None));
    let (schema, batches): (_, Box<dyn Iterator<Item = Result<RecordBatch, String>>>) = if format
        == BookFormat::Parquet
    {
        let builder = ParquetRecordBatchReaderBuilder::try_new(open()?).map_err(|e| cannot(&e))?;
        let rows = builder.metadata().file_metadata().num_rows();
        if usize::try_from(rows).map_or(true, |r| r > MAX_TABLE_ROWS) {
            return Err(too_many_rows(None));
        }
        let schema = builder.schema().clone();
        let reader = builder.build().map_err(|e| cannot(&e))?;
        (
            schema,
            Box::new(reader.map(|b| b.map_err(|e| e.to_string()))),
        )
    } else {
        let reader =
            arrow_ipc::reader::FileReader::try_new(open()?, None).map_err(|e| cannot(&e))?;
        let schema = reader.schema();
        (
            schema,
            Box::new(reader.map(|b| b.map_err(|e| e.to_string()))),
        )
    };
    let columns: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut rows = Part::default();
    let width = columns.len();
    for batch in batches {
        let batch = batch.map_err(|e| cannot(&e))?;
        let n = batch.num_rows();
        if rows.ends.len() + n > MAX_TABLE_ROWS {
            return Err(too_many_rows(None));
        }
        // Row-major: row `r`'s cell of column `c` at `base + r·width + c`.
        let base = rows.cells.len();
        rows.cells.resize(base + n * width, Cell::Empty);
        rows.ends.extend((1..=n).map(|r| base + r * width));
        for (c, col) in batch.columns().iter().enumerate() {
            let cells = cells(col).map_err(|t| {
                whole_file(
                    format!(
                        "column `{}` holds {t}; expected text, numbers or booleans",
                        clip(columns.get(c).map_or("", String::as_str))
                    ),
                    Some("write ids and names as strings (UTF-8), amounts as float or integer columns, `starts_insolvent` as booleans".into()),
                )
            })?;
            for (r, cell) in cells.into_iter().enumerate() {
                if let Some(slot) = rows.cells.get_mut(base + r * width + c) {
                    *slot = cell;
                }
            }
        }
    }
    Ok(Table {
        columns,
        rows: Rows { parts: vec![rows] },
        lines: None,
    })
}

/// A column's values as cells (nulls and empty text are [`Cell::Empty`]), or the
/// column's type when it is none of text, integers, floats and booleans.
// One `as` for every numeric type: integers are exact in i128, floats widen.
#[allow(clippy::cast_lossless)]
fn cells(col: &ArrayRef) -> Result<Vec<Cell>, DataType> {
    macro_rules! conv {
        ($t:ty, $cell:expr) => {{
            let a = col.as_primitive::<$t>();
            (0..a.len())
                .map(|i| {
                    if a.is_null(i) {
                        Cell::Empty
                    } else {
                        $cell(a.value(i))
                    }
                })
                .collect()
        }};
    }
    let text = |s: Option<&str>| match s.map(str::trim) {
        None | Some("") => Cell::Empty,
        Some(t) => Cell::Text(Text::new(t)),
    };
    Ok(match col.data_type() {
        DataType::Utf8 => col.as_string::<i32>().iter().map(text).collect(),
        DataType::LargeUtf8 => col.as_string::<i64>().iter().map(text).collect(),
        DataType::Utf8View => col.as_string_view().iter().map(text).collect(),
        DataType::Boolean => col
            .as_boolean()
            .iter()
            .map(|b| b.map_or(Cell::Empty, Cell::Bool))
            .collect(),
        DataType::Float64 => conv!(Float64Type, Cell::Num),
        DataType::Float32 => conv!(Float32Type, |v: f32| Cell::Num(f64::from(v))),
        DataType::Int8 => conv!(Int8Type, |v: i8| Cell::Int(i128::from(v))),
        DataType::Int16 => conv!(Int16Type, |v: i16| Cell::Int(i128::from(v))),
        DataType::Int32 => conv!(Int32Type, |v: i32| Cell::Int(i128::from(v))),
        DataType::Int64 => conv!(Int64Type, |v: i64| Cell::Int(i128::from(v))),
        DataType::UInt8 => conv!(UInt8Type, |v: u8| Cell::Int(i128::from(v))),
        DataType::UInt16 => conv!(UInt16Type, |v: u16| Cell::Int(i128::from(v))),
        DataType::UInt32 => conv!(UInt32Type, |v: u32| Cell::Int(i128::from(v))),
        DataType::UInt64 => conv!(UInt64Type, |v: u64| Cell::Int(i128::from(v))),
        // A column of nulls only (pandas writes one for an all-empty object column).
        DataType::Null => vec![Cell::Empty; col.len()],
        other => return Err(other.clone()),
    })
}
