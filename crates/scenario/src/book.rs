//! Account books from CSV: `account,cash,loan` and `account,asset,shares`, streamed into
//! the CSR vectors of [`delever_graph::AccountBook`].
//!
//! Both files are read record by record into one reused [`csv::ByteRecord`]; nothing is
//! held per row but the book's own vectors and the account ids (one byte buffer with end
//! offsets). Ten million holdings rows load in a few seconds.
//!
//! The files are RFC 4180 CSV as Excel writes it: LF or CRLF line ends, an optional
//! UTF-8 byte order mark (skipped), and quoted fields (with
//! commas, line breaks and doubled quotes inside). A problem names the line and column
//! an editor shows: for the rows it lists, the place is found again in the file's raw
//! bytes ([`exact_place`]), because the reader's own count is one line low after a CRLF
//! and its columns do not count quotes.
//!
//! Both files are parsed on every core while their lines are plain (see [`parallel`]);
//! the sequential reader described here takes over at the first chunk that is not, so
//! problems are found and reported by it alone, exactly as if it had read the whole file.
//!
//! Memory is bounded by the book, not by the longest line: the parallel reader holds one
//! window of the file (32 MiB), and the sequential one reads through [`Bounded`], which
//! stops delivering bytes once one record has taken more than [`MAX_LINE_BYTES`], so a
//! 2 GB header line costs about the window before it is refused.
//! Fields are limited to [`MAX_FIELD_BYTES`], and messages quote at most 80 characters of
//! a field.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use csv::{ByteRecord, Reader, ReaderBuilder};
use delever_graph::{AccountBook, AssetIx};
use rayon::prelude::*;

use crate::error::clip;
use crate::limits;
use crate::suggest;

/// Bad rows reported per file before the rest are only counted.
const MAX_ROW_PROBLEMS: usize = 10;

/// Longest record accepted, in bytes: a line, or several when a quoted field holds line
/// breaks. A row of a book is an id and two numbers, well under a kilobyte.
pub(crate) const MAX_LINE_BYTES: u64 = 1 << 20;

/// Longest field accepted, in bytes: a thousand times a long account id.
pub(crate) const MAX_FIELD_BYTES: usize = 64 << 10;

/// The CSV reader's buffer, in bytes.
const BUFFER_BYTES: usize = 1 << 18;

/// A file under the CSV reader that refuses to deliver more once one record has taken
/// more than [`MAX_LINE_BYTES`]: the reader then fails with [`LineTooLong`] instead of
/// growing its record without end. The reading loop resets `since` after each record.
///
/// It also drops a UTF-8 byte order mark at the start of the file. The `csv` crate
/// strips one too; doing it here fixes what the reader's byte offsets count (the bytes
/// after the mark), which [`exact_places`] relies on when it reads the file again.
struct Bounded<R> {
    inner: R,
    /// Bytes delivered since the reader last finished a record.
    since: Cell<u64>,
    /// Nothing read yet: the first read looks for a byte order mark.
    start: bool,
    /// Where the bytes it delivers start in the file, for a reader started mid-file by
    /// the parallel reader: added to every position the reader reports.
    base: Base,
}

/// A reader's start in the whole file: the byte (after any byte order mark) and the
/// lines before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Base {
    byte: u64,
    lines: u64,
}

impl Base {
    fn shift(self, rec: &mut ByteRecord) {
        if self == Base::default() {
            return;
        }
        if let Some(p) = rec.position() {
            let mut p = p.clone();
            let (byte, line) = (p.byte() + self.byte, p.line() + self.lines);
            p.set_byte(byte).set_line(line);
            rec.set_position(Some(p));
        }
    }
    fn shift_problem(self, p: &mut CsvProblem) {
        let lines = usize::try_from(self.lines).unwrap_or(usize::MAX);
        p.line = p.line.map(|l| l.saturating_add(lines));
        if let Some(at) = &mut p.at {
            at.byte += self.byte;
            at.line = at
                .line
                .saturating_add(u32::try_from(self.lines).unwrap_or(u32::MAX));
        }
    }
}

/// The UTF-8 byte order mark Excel writes at the start of "CSV UTF-8" files.
const BOM: &[u8] = b"\xef\xbb\xbf";

impl<R: Read> Bounded<R> {
    /// The first read: at least the mark's three bytes (or the whole file if shorter),
    /// without the mark if they are it.
    fn first_read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < BOM.len() && n < buf.len() {
            let got = self.inner.read(&mut buf[n..])?;
            if got == 0 {
                break;
            }
            n += got;
        }
        if buf.get(..n).is_some_and(|b| b.starts_with(BOM)) {
            buf.copy_within(BOM.len()..n, 0);
            n -= BOM.len();
            if n == 0 {
                // Only the mark so far: 0 would read as the end of the file.
                return self.inner.read(buf);
            }
        }
        Ok(n)
    }
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let since = self.since.get();
        if since > MAX_LINE_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, LineTooLong));
        }
        let n = if self.start {
            self.start = false;
            self.first_read(buf)?
        } else {
            self.inner.read(buf)?
        };
        self.since.set(since.saturating_add(n as u64));
        Ok(n)
    }
}

/// A record longer than [`MAX_LINE_BYTES`].
#[derive(Debug)]
struct LineTooLong;

impl fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a CSV row longer than {MAX_LINE_BYTES} bytes")
    }
}

impl std::error::Error for LineTooLong {}

type Csv<R> = Reader<Bounded<R>>;

/// A problem in a CSV file, located by line and column of that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvProblem {
    /// Which of the two files: `accounts_csv` or `holdings_csv`.
    pub key: &'static str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
    /// Where the reader saw the field, for [`exact_place`] to correct `line` and
    /// `column` from the raw bytes once reading is done.
    at: Option<At>,
}

/// A field as the CSV reader saw it: the byte its record starts at (counted after any
/// byte order mark), the reader's line for that record, and the field's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct At {
    byte: u64,
    /// The reader's line (`u32`: keeps a [`CsvProblem`] small; a file past 4 billion
    /// lines keeps the reader's count).
    line: u32,
    field: u32,
}

/// Where a problem is: the reader's line and column, and what [`exact_place`] needs to
/// correct them.
#[derive(Clone, Copy)]
struct Where {
    line: Option<usize>,
    column: Option<usize>,
    at: Option<At>,
}

/// The place of field `i` of `rec`, as the reader gives it (exact for unquoted fields
/// after LF line ends; [`exact_place`] corrects the others).
fn place(rec: &ByteRecord, i: usize) -> Where {
    Where {
        line: line_of(rec),
        column: column_of(rec, i),
        at: rec.position().and_then(|p| {
            Some(At {
                byte: p.byte(),
                line: u32::try_from(p.line()).ok()?,
                field: u32::try_from(i).ok()?,
            })
        }),
    }
}

/// Asset ids → indices, for the `asset` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetLookup {
    /// In id order, for suggestions.
    by_id: BTreeMap<Vec<u8>, AssetIx>,
    /// Every id in an open-addressing table (FNV hash, linear probing) of at least
    /// twice as many slots as ids: one hash and about one comparison a row, however many
    /// assets. The 256-slot cache this replaces missed about a fifth of the rows of a book
    /// over 500 assets, each miss a walk down the ordered map.
    slots: Vec<Option<(Box<[u8]>, AssetIx)>>,
}

impl AssetLookup {
    pub fn new<'a>(assets: impl IntoIterator<Item = (&'a str, AssetIx)>) -> Self {
        let by_id: BTreeMap<Vec<u8>, AssetIx> = assets
            .into_iter()
            .map(|(id, ix)| (id.as_bytes().to_vec(), ix))
            .collect();
        let mut slots = vec![None; (2 * by_id.len()).next_power_of_two().max(16)];
        let mask = slots.len() - 1;
        for (id, ix) in &by_id {
            let mut k = fnv(id) as usize & mask;
            // Ids are unique (map keys) and the table is at most half full: a free slot
            // is always found.
            while slots.get(k).is_some_and(Option::is_some) {
                k = (k + 1) & mask;
            }
            if let Some(slot) = slots.get_mut(k) {
                *slot = Some((id.clone().into_boxed_slice(), *ix));
            }
        }
        AssetLookup { by_id, slots }
    }
    fn get(&self, id: &[u8]) -> Option<AssetIx> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut k = fnv(id) as usize & mask;
        // An empty slot ends the probe: the table always has one.
        while let Some(Some((held, ix))) = self.slots.get(k) {
            if held.as_ref() == id {
                return Some(*ix);
            }
            k = (k + 1) & mask;
        }
        None
    }
    /// Slots of the table: at least twice the number of assets.
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.slots.len()
    }
    fn ids(&self) -> impl Iterator<Item = &str> + Clone {
        self.by_id
            .keys()
            .filter_map(|k| std::str::from_utf8(k).ok())
    }
}

/// The two files of a book.
pub(crate) struct BookFiles<'a> {
    pub accounts: &'a Path,
    pub holdings: &'a Path,
}

/// Collects row problems: every problem of the first [`MAX_ROW_PROBLEMS`] bad rows, and
/// a count of the bad rows after them (rows, not problems: a row with a bad `cash` and a
/// bad `loan` is one bad row).
struct Problems {
    key: &'static str,
    list: Vec<CsvProblem>,
    /// Bad rows listed.
    rows: usize,
    /// Bad rows counted but not listed.
    more: usize,
    /// The row of the last problem, and whether it was listed.
    last: Option<(usize, bool)>,
}

impl Problems {
    fn new(key: &'static str) -> Self {
        Problems {
            key,
            list: Vec::new(),
            rows: 0,
            more: 0,
            last: None,
        }
    }
    fn push(&mut self, row: usize, place: Where, message: String, hint: Option<String>) {
        let listed = match self.last {
            Some((r, listed)) if r == row => listed,
            _ => {
                let listed = self.rows < MAX_ROW_PROBLEMS;
                if listed {
                    self.rows += 1;
                } else {
                    self.more += 1;
                }
                self.last = Some((row, listed));
                listed
            }
        };
        if listed {
            self.list.push(CsvProblem {
                key: self.key,
                line: place.line,
                column: place.column,
                message,
                hint,
                at: place.at,
            });
        }
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    fn finish(mut self, out: &mut Vec<CsvProblem>) {
        if self.more > 0 {
            self.list.push(CsvProblem {
                key: self.key,
                line: None,
                column: None,
                message: format!(
                    "… and {} more bad row{}",
                    self.more,
                    if self.more == 1 { "" } else { "s" }
                ),
                hint: Some(format!(
                    "the first {MAX_ROW_PROBLEMS} bad rows are listed; fix them and validate again"
                )),
                at: None,
            });
        }
        out.append(&mut self.list);
    }
}

fn open(path: &Path, key: &'static str) -> Result<File, CsvProblem> {
    File::open(path).map_err(|e| CsvProblem {
        key,
        line: None,
        column: None,
        message: format!("cannot open the file: {e}"),
        hint: None,
        at: None,
    })
}

fn reader<R: Read>(src: R) -> Csv<R> {
    reader_at(src, None)
}

/// A reader of `src`: the whole file (`None`: a byte order mark is dropped), or the
/// file's bytes from `base` on (nothing dropped, positions counted from `base`).
fn reader_at<R: Read>(src: R, base: Option<Base>) -> Csv<R> {
    ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(BUFFER_BYTES)
        .from_reader(Bounded {
            inner: src,
            since: Cell::new(0),
            start: base.is_none(),
            base: base.unwrap_or_default(),
        })
}

/// Read the next record into `rec`: `Ok(false)` at the end of the file. A record longer
/// than [`MAX_LINE_BYTES`] is an error at the line it starts on.
fn next<R: Read>(
    rdr: &mut Csv<R>,
    rec: &mut ByteRecord,
    key: &'static str,
    header: &str,
) -> Result<bool, CsvProblem> {
    let r = rdr.read_byte_record(rec);
    rdr.get_ref().since.set(0);
    let base = rdr.get_ref().base;
    base.shift(rec);
    let too_long = || CsvProblem {
        key,
        line: line_of(rec),
        column: Some(1),
        message: format!(
            "this row is longer than {} MiB; a row of an account book is an id and two short fields",
            MAX_LINE_BYTES >> 20
        ),
        hint: Some(format!(
            "is this the right file? It must be CSV with the header `{header}`"
        )),
        at: place(rec, 0).at,
    };
    match r {
        Ok(true) if (rec.as_slice().len() + rec.len()) as u64 > MAX_LINE_BYTES => Err(too_long()),
        Ok(more) => Ok(more),
        Err(e) => {
            let ours = matches!(e.kind(), csv::ErrorKind::Io(io)
                if io.get_ref().is_some_and(<dyn std::error::Error + Send + Sync>::is::<LineTooLong>));
            Err(if ours {
                too_long()
            } else {
                let mut p = csv_error(&e, key, header);
                base.shift_problem(&mut p);
                p
            })
        }
    }
}

/// The first field of `rec` longer than [`MAX_FIELD_BYTES`], if any: its index and length.
fn long_field(rec: &ByteRecord) -> Option<(usize, usize)> {
    // Cheap for every row: the fields are looked at only when they are long together.
    if rec.as_slice().len() <= MAX_FIELD_BYTES {
        return None;
    }
    rec.iter()
        .enumerate()
        .map(|(i, f)| (i, f.len()))
        .find(|&(_, n)| n > MAX_FIELD_BYTES)
}

fn long_field_problem(
    problems: &mut Problems,
    rec: &ByteRecord,
    row: usize,
    (i, n): (usize, usize),
    names: [&str; 3],
) {
    problems.push(
        row,
        place(rec, i),
        format!(
            "row {row}, column `{}`: the field is {n} bytes long, more than {} KiB",
            names.get(i).copied().unwrap_or("?"),
            MAX_FIELD_BYTES >> 10
        ),
        Some("ids and numbers are short; is this the right file?".into()),
    );
}

/// The line each of `rows` (1-based data rows, sorted) starts on: the file is read again
/// up to the last of them. For messages only, so it costs nothing unless a file is bad.
pub(crate) fn row_lines(path: &Path, rows: &[usize]) -> Vec<Option<usize>> {
    let mut lines = vec![None; rows.len()];
    let Some(&last) = rows.iter().max() else {
        return lines;
    };
    let Ok(file) = File::open(path) else {
        return lines;
    };
    let mut rdr = reader(file);
    let mut rec = ByteRecord::new();
    let mut found = vec![None; rows.len()];
    // Row 0 is the header.
    for row in 0..=last {
        if !matches!(next(&mut rdr, &mut rec, "", ""), Ok(true)) {
            break;
        }
        for ((slot, at), _) in lines
            .iter_mut()
            .zip(&mut found)
            .zip(rows)
            .filter(|(_, r)| **r == row)
        {
            *slot = line_of(&rec);
            *at = place(&rec, 0).at;
        }
    }
    for (slot, exact) in lines.iter_mut().zip(exact_places(path, &found)) {
        if let Some((line, _)) = exact {
            *slot = Some(line);
        }
    }
    lines
}

/// The exact line and column of each field in `ats` (`None` where it cannot be found),
/// read from the raw bytes of the file at `path`. The reader's own count is one line low
/// for a record after a CRLF (it has not yet read that line's `\n` when the record
/// starts) and its column ignores quotes; this is what an editor shows. The file is
/// opened once and read from each record's start, at most one record's length: called
/// only for problems listed, at most a dozen a file.
fn exact_places(path: &Path, ats: &[Option<At>]) -> Vec<Option<(usize, usize)>> {
    let mut out = vec![None; ats.len()];
    if ats.iter().all(Option::is_none) {
        return out;
    }
    let Ok(mut file) = File::open(path) else {
        return out;
    };
    let mut head = [0u8; 3];
    let bom = match file.read_exact(&mut head) {
        Ok(()) if head == BOM => BOM.len() as u64,
        _ => 0,
    };
    for (slot, at) in out.iter_mut().zip(ats) {
        let Some(at) = at else { continue };
        let mut buf = Vec::new();
        let read = file
            .seek(SeekFrom::Start(at.byte.saturating_add(bom)))
            .and_then(|_| {
                file.by_ref()
                    .take(MAX_LINE_BYTES.saturating_add(2))
                    .read_to_end(&mut buf)
            });
        if read.is_ok() {
            *slot = exact_place(&buf, at);
        }
    }
    out
}

/// Line and column of field `at.field` of the record that `raw` starts with (as the
/// reader saw it: perhaps after a CRLF's `\n` and blank lines). Columns count characters
/// from 1, the quotes included; a field after a quoted line break is on a later line.
fn exact_place(raw: &[u8], at: &At) -> Option<(usize, usize)> {
    let mut line = at.line as usize;
    let mut i = 0;
    // Line ends the reader had not consumed when the record started.
    while let Some(&b) = raw.get(i) {
        match b {
            b'\n' => line += 1,
            b'\r' => {}
            _ => break,
        }
        i += 1;
    }
    let mut line_start = i;
    let mut field_start = i;
    let mut field = 0;
    let mut quoted = false;
    // The same grammar as the reader (RFC 4180: `"` opens a field, `""` inside is a
    // quote, a quote elsewhere is text).
    while field < at.field as usize {
        let b = *raw.get(i)?;
        if quoted {
            match b {
                b'"' if raw.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => quoted = false,
                b'\n' => {
                    line += 1;
                    line_start = i + 1;
                }
                _ => {}
            }
        } else {
            match b {
                b'"' if i == field_start => quoted = true,
                b',' => {
                    field += 1;
                    field_start = i + 1;
                }
                b'\n' | b'\r' => return None,
                _ => {}
            }
        }
        i += 1;
    }
    let before = raw.get(line_start..field_start)?;
    // Characters, not bytes: a UTF-8 continuation byte starts no character.
    let column = before.iter().filter(|&&b| b & 0xC0 != 0x80).count() + 1;
    Some((line, column))
}

/// Correct the lines and columns of `problems` about the file at `path` from its raw
/// bytes ([`exact_places`]).
fn correct_places(path: &Path, key: &str, problems: &mut [CsvProblem]) {
    let ats: Vec<Option<At>> = problems
        .iter()
        .map(|p| if p.key == key { p.at } else { None })
        .collect();
    for (p, exact) in problems.iter_mut().zip(exact_places(path, &ats)) {
        if let Some((line, column)) = exact {
            p.line = Some(line);
            if p.column.is_some() {
                p.column = Some(column);
            }
        }
    }
}

/// "rows 1 and 3 (lines 2 and 4)", "rows 1, 5 and 9 (lines 2, 6 and 10)".
pub(crate) fn rows_and_lines(rows: &[usize], lines: &[Option<usize>]) -> String {
    fn and(items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
    let r: Vec<String> = rows.iter().map(ToString::to_string).collect();
    let word = if rows.len() == 1 { "row" } else { "rows" };
    let l: Option<Vec<String>> = lines.iter().map(|l| l.map(|x| x.to_string())).collect();
    match l {
        Some(l) if !l.is_empty() => format!(
            "{word} {} ({} {})",
            and(&r),
            if l.len() == 1 { "line" } else { "lines" },
            and(&l)
        ),
        _ => format!("{word} {}", and(&r)),
    }
}

fn line_of(rec: &ByteRecord) -> Option<usize> {
    rec.position().and_then(|p| usize::try_from(p.line()).ok())
}

/// 1-based column of field `i` (exact for unquoted fields).
fn column_of(rec: &ByteRecord, i: usize) -> Option<usize> {
    rec.range(i).map(|r| r.start + i + 1)
}

fn csv_error(e: &csv::Error, key: &'static str, header: &str) -> CsvProblem {
    let at = |p: &csv::Position| {
        Some(At {
            byte: p.byte(),
            line: u32::try_from(p.line()).ok()?,
            field: 0,
        })
    };
    let (pos, message) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            pos.as_ref(),
            format!("this row has {len} fields, expected {expected_len} (`{header}`)"),
        ),
        csv::ErrorKind::Io(io) => (None, format!("cannot read the file: {io}")),
        _ => (e.position(), format!("malformed CSV: {e}")),
    };
    CsvProblem {
        key,
        line: pos.and_then(|p| usize::try_from(p.line()).ok()),
        column: None,
        message,
        hint: Some(format!("the file must be CSV with the header `{header}`")),
        at: pos.and_then(at),
    }
}

/// Read and check the header row.
fn header<R: Read>(
    rdr: &mut Csv<R>,
    rec: &mut ByteRecord,
    key: &'static str,
    expected: [&str; 3],
) -> Result<(), CsvProblem> {
    let want = expected.join(",");
    let bad = |message: String| CsvProblem {
        key,
        line: Some(1),
        column: Some(1),
        message,
        hint: Some(format!("the first line must be `{want}`")),
        at: None,
    };
    if !next(rdr, rec, key, &want)? {
        return Err(bad(format!(
            "the file is empty; expected the header `{want}`"
        )));
    }
    let matches = rec.len() == 3
        && rec.iter().zip(expected).all(|(g, w)| {
            String::from_utf8_lossy(g)
                .trim_start_matches('\u{feff}')
                .trim()
                == w
        });
    if !matches {
        // The header as written, but no more of it than a message can quote.
        let mut got: Vec<u8> = Vec::new();
        for (i, f) in rec.iter().enumerate() {
            if i > 0 {
                got.push(b',');
            }
            let room = 512usize.saturating_sub(got.len());
            got.extend_from_slice(f.get(..room).unwrap_or(f));
            if got.len() >= 512 {
                break;
            }
        }
        let got = got.strip_prefix("\u{feff}".as_bytes()).unwrap_or(&got);
        return Err(bad(format!(
            "unexpected header `{}`; expected `{want}`",
            show(got.trim_ascii())
        )));
    }
    Ok(())
}

enum Amount {
    Ok(f64),
    Bad(String),
}

/// A finite number in [0, `max`].
fn amount(field: &[u8], max: f64) -> Amount {
    // Fast path: a plain whole number (share counts, most cash and loans) of at most 15
    // digits is exact in an f64, and below both limits.
    if !field.is_empty() && field.len() <= 15 && field.iter().all(u8::is_ascii_digit) {
        let v = field
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
        return Amount::Ok(v as f64);
    }
    let text = match std::str::from_utf8(field) {
        Ok(t) => t.trim(),
        Err(_) => return Amount::Bad("expected a number, found bytes that are not UTF-8".into()),
    };
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Amount::Ok(v),
        Ok(v) if v.is_finite() && v > max => Amount::Bad(format!(
            "expected a number ≤ {}, found `{}`",
            limits::show(max),
            clip(text)
        )),
        Ok(v) if v.is_finite() => {
            Amount::Bad(format!("expected a number ≥ 0, found `{}`", clip(text)))
        }
        Ok(_) => Amount::Bad(format!("expected a finite number, found `{}`", clip(text))),
        Err(_) if text.is_empty() => Amount::Bad("expected a number, found an empty field".into()),
        Err(_) => Amount::Bad(format!("expected a number, found `{}`", clip(text))),
    }
}

/// Account ids in file order: one byte buffer and end offsets, as the readers collect
/// them. Once the duplicate check has read them, the accounts' ids are [`Packed`] for the
/// holdings' grouping check and these are freed.
///
/// An end is kept as its low 32 bits (4 bytes an account, not 8: a Parquet book's ids are
/// held while its holdings fill the book's arrays). The rare book with more than 4 GiB of
/// ids notes where the ends pass each multiple of 2³² (`wraps`).
#[derive(Default, Clone, Debug, PartialEq)]
struct Ids {
    buf: Vec<u8>,
    /// The low 32 bits of each id's end in `buf`.
    ends: Vec<u32>,
    /// `wraps[k]`: the first id whose end is at least `(k + 1) · 2³²`.
    wraps: Vec<usize>,
}

impl Ids {
    /// Room for `n` ids of `bytes` bytes in all.
    fn with_capacity(bytes: usize, n: usize) -> Self {
        Ids {
            buf: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(n),
            wraps: Vec::new(),
        }
    }
    /// End the id being written into `buf`: its bytes are those after the last id's.
    fn close(&mut self) {
        self.push_end(self.buf.len());
    }
    /// Record the next id's end (at or after the last one's).
    fn push_end(&mut self, end: usize) {
        while (self.wraps.len() as u64) < (end as u64 >> 32) {
            self.wraps.push(self.ends.len());
        }
        // The low bits: the high ones are in `wraps`.
        self.ends.push(end as u32);
    }
    /// Add `other`'s ids after these.
    fn append(&mut self, other: &Ids) {
        let base = self.buf.len();
        self.buf.extend_from_slice(&other.buf);
        if self.wraps.is_empty() && other.wraps.is_empty() && self.buf.len() >> 32 == 0 {
            // Every end fits in 32 bits: moved by the base, with no carry.
            let base = base as u32;
            self.ends.extend(other.ends.iter().map(|&e| e + base));
            return;
        }
        for i in 0..other.len() {
            self.push_end(base + other.end(i));
        }
    }
    fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
        self.wraps.clear();
    }
    /// Where id `i` ends in `buf` (0 past the last).
    fn end(&self, i: usize) -> usize {
        let low = self.ends.get(i).map_or(0, |&e| e as usize);
        if self.wraps.is_empty() {
            low
        } else {
            low + (self.wraps.partition_point(|&w| w <= i) << 32)
        }
    }
    /// Where id `i` starts in `buf`.
    fn start(&self, i: usize) -> usize {
        i.checked_sub(1).map_or(0, |j| self.end(j))
    }
    fn get(&self, i: usize) -> &[u8] {
        if i >= self.len() {
            return &[];
        }
        self.buf.get(self.start(i)..self.end(i)).unwrap_or(&[])
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

/// An id or a field as a message quotes it.
fn show(bytes: &[u8]) -> String {
    // No more than a message can quote is decoded, however long the field.
    let head = bytes
        .get(..4 * crate::error::MAX_QUOTE + 4)
        .unwrap_or(bytes);
    let s = String::from_utf8_lossy(head);
    let shown = clip(&s);
    if head.len() < bytes.len() && !shown.ends_with('…') {
        format!("{shown}…")
    } else {
        shown.into_owned()
    }
}

struct Accounts {
    ids: Ids,
    cash: Vec<f64>,
    loan: Vec<f64>,
}

const ACCOUNTS_KEY: &str = "accounts_csv";
const HOLDINGS_KEY: &str = "holdings_csv";
const ACCOUNTS_HEADER: [&str; 3] = ["account", "cash", "loan"];

/// The accounts of a book once read and checked: their ids packed for the holdings'
/// grouping check, their cash and loans.
type Checked = (Packed, Vec<f64>, Vec<f64>);

fn read_accounts(path: &Path, split: Split, out: &mut Vec<CsvProblem>) -> Option<Checked> {
    let file = match open(path, ACCOUNTS_KEY) {
        Ok(f) => f,
        Err(p) => {
            out.push(p);
            return None;
        }
    };
    let (acc, mut problems) = parallel::read_accounts(file, split, out)?;
    // Duplicate ids would make the holdings' grouping ambiguous. Their lines are looked
    // up again in the file, which costs nothing unless there are duplicates.
    let dups = duplicates(&acc.ids);
    let listed: Vec<(usize, usize)> = dups.iter().copied().take(MAX_ROW_PROBLEMS).collect();
    let mut rows: Vec<usize> = listed.iter().flat_map(|&(a, b)| [a + 1, b + 1]).collect();
    rows.sort_unstable();
    rows.dedup();
    let lines = if listed.is_empty() {
        Vec::new()
    } else {
        row_lines(path, &rows)
    };
    let line = |row: usize| {
        rows.iter()
            .position(|&r| r == row)
            .and_then(|i| lines.get(i).copied().flatten())
    };
    for (first, second) in dups {
        let (r1, r2) = (first + 1, second + 1);
        problems.push(
            r2,
            Where {
                line: line(r2),
                column: Some(1),
                at: None,
            },
            format!(
                "account `{}` appears twice: {}",
                show(acc.ids.get(first)),
                rows_and_lines(&[r1, r2], &[line(r1), line(r2)])
            ),
            Some("each account id must be unique in the book".into()),
        );
    }
    let ok = problems.is_empty();
    problems.finish(out);
    ok.then(|| checked(acc.ids, acc.cash, acc.loan))
}

/// Accounts read and checked: their ids packed, the plain ones freed.
fn checked(ids: Ids, cash: Vec<f64>, loan: Vec<f64>) -> Checked {
    let packed = Packed::pack(&ids);
    drop(ids);
    (packed, cash, loan)
}

/// The accounts file's rows; `None` (with the problem in `out`) when the file cannot be
/// read to its end. Row problems are returned for the caller to add to.
#[cfg(test)] // the sequential reader alone, for the tests of its bounded reads
fn read_accounts_from<R: Read>(src: R, out: &mut Vec<CsvProblem>) -> Option<(Accounts, Problems)> {
    let mut rdr = reader(src);
    let mut rec = ByteRecord::new();
    if let Err(p) = header(&mut rdr, &mut rec, ACCOUNTS_KEY, ACCOUNTS_HEADER) {
        out.push(p);
        return None;
    }
    let mut acc = Accounts {
        ids: Ids::default(),
        cash: Vec::new(),
        loan: Vec::new(),
    };
    let mut problems = Problems::new(ACCOUNTS_KEY);
    match accounts_rows(&mut rdr, &mut rec, &mut acc, &mut problems) {
        Ok(()) => Some((acc, problems)),
        Err(p) => {
            problems.finish(out);
            out.push(p);
            None
        }
    }
}

/// The accounts file's rows from the reader's place on (after the header, or where the
/// parallel reader stopped), added to `acc` and `problems`. `Err` when the file cannot
/// be read to its end.
fn accounts_rows<R: Read>(
    rdr: &mut Csv<R>,
    rec: &mut ByteRecord,
    acc: &mut Accounts,
    problems: &mut Problems,
) -> Result<(), CsvProblem> {
    const HEADER: [&str; 3] = ACCOUNTS_HEADER;
    // Once, not per row: the header is named only in messages.
    let header_text = HEADER.join(",");
    while next(rdr, rec, ACCOUNTS_KEY, &header_text)? {
        let row = acc.cash.len() + 1;
        if let Some(long) = long_field(rec) {
            long_field_problem(problems, rec, row, long, HEADER);
            acc.ids.close();
            acc.cash.push(0.0);
            acc.loan.push(0.0);
            continue;
        }
        let id = rec.get(0).unwrap_or(&[]);
        if id.iter().all(u8::is_ascii_whitespace) {
            problems.push(
                row,
                place(rec, 0),
                format!("row {row}, column `account`: the account id is empty"),
                None,
            );
        }
        acc.ids.buf.extend_from_slice(id);
        acc.ids.close();
        for (i, v) in [(1usize, &mut acc.cash), (2, &mut acc.loan)] {
            match amount(rec.get(i).unwrap_or(&[]), limits::MAX_USD) {
                Amount::Ok(x) => v.push(x),
                Amount::Bad(msg) => {
                    v.push(0.0);
                    problems.push(
                        row,
                        place(rec, i),
                        format!(
                            "row {row} (account `{}`), column `{}`: {msg}",
                            show(id),
                            HEADER[i]
                        ),
                        Some(format!(
                            "`{}` is a USD amount from 0 to 1e15, a plain number such as 1500.25",
                            HEADER[i]
                        )),
                    );
                }
            }
        }
    }
    Ok(())
}

/// FNV-1a: a fast, fixed (unseeded) hash of an id.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Bits of an id's hash that choose its bucket in [`duplicates_with`].
const BUCKET_BITS: u32 = 12;
/// Buckets of [`duplicates_with`].
const BUCKETS: usize = 1 << BUCKET_BITS;

/// The ids' hashes, 32 bits each (0 for an empty id), and where each bucket starts in a
/// vector of the non-empty ids dealt into buckets (`BUCKETS + 1` entries).
///
/// The top `BUCKET_BITS` of the 64-bit hash pick the bucket and its low 20 bits are kept
/// beside them. Two different ids then share a kept hash about 11,600 times among ten
/// million ids, and each such pair only costs a comparison of their bytes. Four bytes an
/// account, not eight, while the accounts are checked: at 10M accounts this check runs
/// while the holdings fill the book's arrays, at the load's peak.
fn hashed(ids: &Ids, hash: impl Fn(&[u8]) -> u64 + Sync) -> (Vec<u32>, Vec<usize>) {
    const CHUNK: usize = 1 << 16;
    let low = u32::MAX >> BUCKET_BITS;
    let short = |h: u64| ((h >> 32) as u32 & !low) | (h as u32 & low);
    // Hashes and counts per bucket, on every core (integer counts: any order gives the
    // same totals).
    let mut hashes = vec![0u32; ids.len()];
    let counts = hashes
        .par_chunks_mut(CHUNK)
        .enumerate()
        .map(|(c, out)| {
            let mut n = vec![0usize; BUCKETS];
            for (k, h) in out.iter_mut().enumerate() {
                let id = ids.get(c * CHUNK + k);
                // 0 marks an empty id; a real id hashing to 0 becomes 1 (equal hashes
                // only select the ids compared byte by byte, so nothing is lost).
                *h = if id.is_empty() {
                    0
                } else {
                    short(hash(id)).max(1)
                };
                if *h != 0 {
                    n[bucket(*h)] += 1;
                }
            }
            n
        })
        .reduce(
            || vec![0; BUCKETS],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let mut starts = vec![0usize; BUCKETS + 1];
    for b in 0..BUCKETS {
        starts[b + 1] = starts[b] + counts[b];
    }
    (hashes, starts)
}

/// The bucket of a kept hash.
fn bucket(h: u32) -> usize {
    (h >> (32 - BUCKET_BITS)) as usize
}

/// `(hash, row)` of the ids in buckets `lo..hi`, bucket after bucket, each in row order.
///
/// Dealt by ranges of buckets, one range a task: each scans every hash (a cheap
/// sequential read) and writes only its own part, so rows stay in order within a bucket
/// whatever the threads.
fn deal(hashes: &[u32], starts: &[usize], lo: usize, hi: usize) -> Vec<(u32, u32)> {
    let mut keyed = vec![(0u32, 0u32); starts[hi] - starts[lo]];
    let ranges = rayon::current_num_threads().clamp(1, 64);
    let per = (hi - lo).div_ceil(ranges).max(1);
    let mut rest: &mut [(u32, u32)] = &mut keyed;
    let mut parts = Vec::with_capacity(ranges);
    for a in (lo..hi).step_by(per) {
        let b = (a + per).min(hi);
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(starts[b] - starts[a]);
        parts.push((a, b, part));
        rest = tail;
    }
    parts.into_par_iter().for_each(|(a, b, part)| {
        let mut next: Vec<usize> = starts[a..b].iter().map(|s| s - starts[a]).collect();
        for (row, &h) in hashes.iter().enumerate() {
            let k = bucket(h);
            if h != 0 && (a..b).contains(&k) {
                part[next[k - a]] = (h, row as u32);
                next[k - a] += 1;
            }
        }
    });
    keyed
}

/// Pairs of rows (first, later) with the same id within one bucket of [`hashed`]: repeated
/// hashes found with an open-addressing table that chains the entries of each hash in row
/// order, then only the rows of a repeated hash compared byte by byte.
fn bucket_duplicates(part: &[(u32, u32)], ids: &Ids, out: &mut Vec<(usize, usize)>) {
    const NONE: u32 = u32::MAX;
    let cap = (2 * part.len()).next_power_of_two().max(16);
    let mask = cap - 1;
    // Per slot: the first and last entry of its hash; per entry: the next of its hash.
    let mut head = vec![NONE; cap];
    let mut tail = vec![NONE; cap];
    let mut next = vec![NONE; part.len()];
    let mut repeated = Vec::new();
    for (k, &(h, _)) in part.iter().enumerate() {
        // The low bits are spread by a multiply: ids of one bucket share their top bits.
        let mut s = (u64::from(h).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        loop {
            let e = head[s];
            if e == NONE {
                head[s] = k as u32;
                tail[s] = k as u32;
                break;
            }
            if part[e as usize].0 == h {
                if tail[s] == e {
                    repeated.push(e);
                }
                next[tail[s] as usize] = k as u32;
                tail[s] = k as u32;
                break;
            }
            s = (s + 1) & mask;
        }
    }
    let mut rows = Vec::new();
    for e in repeated {
        rows.clear();
        let mut at = e;
        while at != NONE {
            rows.push(part[at as usize].1);
            at = next[at as usize];
        }
        rows.sort_by(|&a, &b| ids.get(a as usize).cmp(ids.get(b as usize)).then(a.cmp(&b)));
        for same in rows.chunk_by(|&a, &b| ids.get(a as usize) == ids.get(b as usize)) {
            if let Some((&first, rest)) = same.split_first() {
                out.extend(rest.iter().map(|&r| (first as usize, r as usize)));
            }
        }
    }
}

/// Pairs of rows (first, later) with the same id, in order of the later row. Ids are
/// dealt into buckets by hash (cheap), and only ids with equal hashes are compared byte
/// by byte.
fn duplicates(ids: &Ids) -> Vec<(usize, usize)> {
    duplicates_with(ids, fnv)
}

/// [`duplicates`] with the hash given (tests force collisions with a poor one).
///
/// At 10M accounts one sort of the whole vector of hashes took over half a second of wall
/// time even on every core, most of it cache misses. Dealt into 4,096 buckets, each a few
/// hundred KB, a bucket's repeated hashes are found in cache with a small table
/// ([`bucket_duplicates`]), with no sort at all. The buckets are dealt and searched in up
/// to eight passes over ranges of buckets, so the dealt entries of only an eighth of the
/// ids are held at a time.
fn duplicates_with(ids: &Ids, hash: impl Fn(&[u8]) -> u64 + Sync) -> Vec<(usize, usize)> {
    let (hashes, starts) = hashed(ids, hash);
    let per_pass = starts[BUCKETS].div_ceil(8).max(1 << 20);
    let mut out: Vec<(usize, usize)> = Vec::new();
    let mut lo = 0;
    while lo < BUCKETS {
        // At least one bucket a pass, and as many more as fit.
        let mut hi = lo + 1;
        while hi < BUCKETS && starts[hi + 1] - starts[lo] <= per_pass {
            hi += 1;
        }
        let keyed = deal(&hashes, &starts, lo, hi);
        let base = starts[lo];
        out.extend(
            starts[lo..=hi]
                .par_windows(2)
                .fold(Vec::new, |mut out, w| {
                    bucket_duplicates(&keyed[w[0] - base..w[1] - base], ids, &mut out);
                    out
                })
                .flatten()
                .collect::<Vec<_>>(),
        );
        lo = hi;
    }
    // A later row has one first row: the key is unique, so the order is total.
    out.sort_unstable_by_key(|&(_, later)| later);
    out
}

/// Where holdings rows go: the account receiving rows and the CSR row pointers so far.
struct Grouping {
    /// The account receiving rows, its id decoded; `row_ptr` has an entry for it and
    /// every one before it.
    at: Cursor,
    row_ptr: Vec<u64>,
}

impl Grouping {
    /// At the first account, with room for the row pointers of all of `ids`.
    fn new(ids: &Packed) -> Self {
        let mut row_ptr = Vec::with_capacity(ids.len() + 1);
        row_ptr.push(0);
        Grouping {
            at: ids.cursor(0),
            row_ptr,
        }
    }
    /// The account receiving rows.
    fn open(&self) -> usize {
        self.at.index()
    }
    /// Move to `account` (the open one or a later one), closing the accounts passed over.
    /// On failure, say whether the account appeared earlier (out of order) or never.
    fn seek(&mut self, ids: &Packed, account: &[u8], rows: usize) -> Result<(), bool> {
        let n = ids.len();
        if n > 0 && self.at.id() == account {
            return Ok(());
        }
        let open = self.open();
        while self.at.advance(ids) {
            if self.at.id() == account {
                for _ in open + 1..=self.open() {
                    self.row_ptr.push(rows as u64);
                }
                return Ok(());
            }
        }
        self.at.seek(ids, open);
        Err(ids.any_before(open.min(n), account))
    }
    /// Back to account `open` with the first `ptrs` row pointers, undoing later seeks.
    fn rewind(&mut self, ids: &Packed, open: usize, ptrs: usize) {
        self.at.seek(ids, open);
        self.row_ptr.truncate(ptrs);
    }
}

/// Holdings in CSR form.
struct Holdings {
    row_ptr: Vec<u64>,
    assets: Vec<AssetIx>,
    shares: Vec<f64>,
}

fn grouping_problem(row: usize, account: &[u8], earlier: bool) -> (String, &'static str) {
    if earlier {
        (
            format!(
                "row {row}: the rows of account `{}` are out of order",
                show(account)
            ),
            "holdings rows must be grouped by account, in the order of accounts_csv",
        )
    } else {
        (
            format!(
                "row {row}: account `{}` is not in accounts_csv",
                show(account)
            ),
            "every holdings row must name an account listed in accounts_csv",
        )
    }
}

const HOLDINGS_HEADER: [&str; 3] = ["account", "asset", "shares"];

/// A holdings table being read: the rows so far and their problems.
struct HoldingsState {
    grouping: Grouping,
    held: Vec<AssetIx>,
    shares: Vec<f64>,
    problems: Problems,
    /// Data rows read.
    row: usize,
}

impl HoldingsState {
    fn new(ids: &Packed) -> Self {
        HoldingsState {
            grouping: Grouping::new(ids),
            held: Vec::new(),
            shares: Vec::new(),
            problems: Problems::new(HOLDINGS_KEY),
            row: 0,
        }
    }
    fn finish(self, out: &mut Vec<CsvProblem>, accounts: usize) -> Option<Holdings> {
        finish_holdings(
            self.problems,
            out,
            self.grouping,
            accounts,
            self.held,
            self.shares,
        )
    }
}

fn read_holdings(
    path: &Path,
    split: Split,
    ids: &Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<Holdings> {
    match open(path, HOLDINGS_KEY) {
        Ok(f) => parallel::read_holdings(f, split, ids, assets, out),
        Err(p) => {
            out.push(p);
            None
        }
    }
}

/// The holdings file's rows from the reader's place on, added to `st`. `None` when
/// reading stops at a problem (in `out` with the problems before it).
fn holdings_rows<R: Read>(
    rdr: &mut Csv<R>,
    rec: &mut ByteRecord,
    st: &mut HoldingsState,
    ids: &Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<()> {
    const HEADER: [&str; 3] = HOLDINGS_HEADER;
    // Once, not per row: the header is named only in messages.
    let header_text = HEADER.join(",");
    loop {
        match next(rdr, rec, HOLDINGS_KEY, &header_text) {
            Ok(true) => {}
            Ok(false) => return Some(()),
            Err(p) => {
                let problems = std::mem::replace(&mut st.problems, Problems::new(HOLDINGS_KEY));
                problems.finish(out);
                out.push(p);
                return None;
            }
        }
        st.row += 1;
        let row = st.row;
        if let Some(long) = long_field(rec) {
            long_field_problem(&mut st.problems, rec, row, long, HEADER);
            continue;
        }
        let account = rec.get(0).unwrap_or(&[]);
        if let Err(earlier) = st.grouping.seek(ids, account, st.shares.len()) {
            let (message, hint) = grouping_problem(row, account, earlier);
            let mut problems = std::mem::replace(&mut st.problems, Problems::new(HOLDINGS_KEY));
            problems.push(row, place(rec, 0), message, Some(hint.into()));
            problems.finish(out);
            return None;
        }
        let asset_field = rec.get(1).unwrap_or(&[]);
        match (
            assets.get(asset_field),
            amount(rec.get(2).unwrap_or(&[]), limits::MAX_SHARES),
        ) {
            (Some(a), Amount::Ok(s)) => {
                st.held.push(a);
                st.shares.push(s);
            }
            (None, _) => {
                let id = show(asset_field);
                st.problems.push(
                    row,
                    place(rec, 1),
                    format!(
                        "row {row} (account `{}`), column `asset`: unknown asset `{id}`",
                        show(account)
                    ),
                    Some(suggest::hint_for(&id, assets.ids(), "assets")),
                );
            }
            (Some(_), Amount::Bad(msg)) => st.problems.push(
                row,
                place(rec, 2),
                format!(
                    "row {row} (account `{}`), column `shares`: {msg}",
                    show(account)
                ),
                Some("`shares` is a number of shares from 0 to 1e18, such as 120 or 12.5".into()),
            ),
        }
    }
}

/// The end of a holdings table (CSV or columnar): its problems go to `out`; without any,
/// the CSR rows, the accounts after the last one with holdings closed empty.
fn finish_holdings(
    problems: Problems,
    out: &mut Vec<CsvProblem>,
    grouping: Grouping,
    accounts: usize,
    held: Vec<AssetIx>,
    shares: Vec<f64>,
) -> Option<Holdings> {
    let ok = problems.is_empty();
    problems.finish(out);
    if !ok {
        return None;
    }
    let mut row_ptr = grouping.row_ptr;
    while row_ptr.len() < accounts + 1 {
        row_ptr.push(shares.len() as u64);
    }
    Some(Holdings {
        row_ptr,
        assets: held,
        shares,
    })
}

/// Load a book: accounts first, then holdings grouped by account in the same order,
/// each file parsed on every core ([`parallel`]).
pub(crate) fn load(
    files: &BookFiles<'_>,
    assets: &AssetLookup,
) -> Result<AccountBook, Vec<CsvProblem>> {
    load_with(files, assets, Split::DEFAULT)
}

/// [`load`], each file read as `split` says.
fn load_with(
    files: &BookFiles<'_>,
    assets: &AssetLookup,
    split: Split,
) -> Result<AccountBook, Vec<CsvProblem>> {
    let mut out = Vec::new();
    let Some((ids, cash, loan)) = read_accounts(files.accounts, split, &mut out) else {
        correct_places(files.accounts, ACCOUNTS_KEY, &mut out);
        return Err(out);
    };
    let Some(holdings) = read_holdings(files.holdings, split, &ids, assets, &mut out) else {
        correct_places(files.holdings, HOLDINGS_KEY, &mut out);
        return Err(out);
    };
    drop(ids);
    Ok(AccountBook {
        cash,
        loan,
        row_ptr: holdings.row_ptr,
        assets: holdings.assets,
        shares: holdings.shares,
    })
}

mod columnar;
mod groups;
mod memory;
mod packed;
mod parallel;
pub use columnar::{
    BookFormat, BookProblem, Column, ROW_GROUP_ROWS, TableColumns, WriteError, csv_tables,
    write_table,
};
pub(crate) use memory::ACCOUNTS_KEY as MEMORY_ACCOUNTS_KEY;
pub use memory::{MemoryBook, MemoryBooks, MemoryTable};
use packed::{Cursor, Packed};
pub(crate) use parallel::Seps;
use parallel::Split;

/// Load a book whose tables are in `format`: CSV through [`load`], Parquet and Arrow IPC
/// column-wise.
pub(crate) fn load_as(
    files: &BookFiles<'_>,
    assets: &AssetLookup,
    format: BookFormat,
) -> Result<AccountBook, Vec<CsvProblem>> {
    if format == BookFormat::Csv {
        return load(files, assets);
    }
    let mut out = Vec::new();
    // A Parquet book's holdings are decoded while its accounts are read and checked:
    // each has serial stretches (file metadata, joining the ids, counting the hashes)
    // that the other fills. The holdings' groups are checked against the accounts' ids
    // as soon as those are known (`known`), so few wait in memory.
    let known = std::sync::OnceLock::new();
    let (accounts, decoded) = if format == BookFormat::Parquet {
        let (accounts, decoded) = rayon::join(
            || {
                let (ids, cash, loan) = groups::read_accounts(files.accounts, &mut out)?;
                // Only this closure sets it.
                let _ = known.set(ids);
                Some((cash, loan))
            },
            || groups::decode_holdings(files.holdings, assets, &known),
        );
        (
            accounts.and_then(|(cash, loan)| Some((known.into_inner()?, cash, loan))),
            decoded,
        )
    } else {
        (
            columnar::read_accounts(files.accounts, format, &mut out),
            None,
        )
    };
    let Some((ids, cash, loan)) = accounts else {
        return Err(out);
    };
    tracing::debug!(accounts = ids.len(), "accounts table read and checked");
    let holdings = if format == BookFormat::Parquet {
        groups::read_holdings(files.holdings, decoded, &ids, assets, &mut out)
    } else {
        columnar::read_holdings(files.holdings, format, &ids, assets, &mut out)
    };
    drop(ids);
    let Some(holdings) = holdings else {
        return Err(out);
    };
    tracing::debug!(
        holdings = holdings.shares.len(),
        "holdings table read and grouped"
    );
    Ok(AccountBook {
        cash,
        loan,
        row_ptr: holdings.row_ptr,
        assets: holdings.assets,
        shares: holdings.shares,
    })
}

/// Line and column (as an editor shows them) of field `field` of the record that starts at
/// byte `byte` of `raw` (a whole CSV file's bytes after any byte order mark), which the
/// `csv` reader saw on line `line`: [`exact_place`] for the readers of other CSV tables
/// (holder tables) that hold their file in memory.
pub(crate) fn field_place(
    raw: &[u8],
    byte: u64,
    line: u64,
    field: usize,
) -> Option<(usize, usize)> {
    let at = At {
        byte,
        line: u32::try_from(line).ok()?,
        field: u32::try_from(field).ok()?,
    };
    exact_place(raw.get(usize::try_from(byte).ok()?..)?, &at)
}

#[cfg(test)]
mod tests;
