//! CSV account books read on every core.
//!
//! The file is read in windows of [`Split::DEFAULT`]'s size; each window's complete lines
//! are cut into chunks at line ends and the chunks are parsed on rayon's threads, then
//! merged in file order. A chunk parses here only when every line is plain: no quote, no
//! stray carriage return, no blank line, exactly three fields, every value valid and (for
//! holdings) every asset known. At the first chunk that is not, or whose accounts break
//! the grouping, the rest of the file goes to the sequential reader of `book.rs`, which
//! starts at that chunk's first line with the state the chunks before it left. So every
//! problem is found, worded, counted and located by the one sequential code path, and a
//! file with problems gives the same problems, in the same order, as reading it from the
//! start: the parallel path only ever accepts rows that the sequential one would accept
//! the same way.
//!
//! Quotes are the reason for the fallback rather than for a smarter split: a line end
//! inside a quoted field is not a row end, and which line ends are inside quotes cannot
//! be told without reading from the start. Books that quote nothing (what programs
//! write) take the parallel path throughout.

use std::io::{self, Cursor, Read};

use rayon::prelude::*;

use super::{
    ACCOUNTS_HEADER, ACCOUNTS_KEY, Accounts, Amount, AssetLookup, BOM, Base, ByteRecord, Csv,
    CsvProblem, HOLDINGS_HEADER, HOLDINGS_KEY, HoldingsState, Ids, MAX_FIELD_BYTES, Problems,
    accounts_rows, amount, header, holdings_rows, limits, next, reader_at,
};

/// How a CSV table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Split {
    /// One reader from the first byte to the last.
    Sequential,
    /// Windows of `window` bytes, parsed in chunks of about `chunk` bytes.
    Parallel {
        /// Bytes read from the file at a time (and held: the memory this costs).
        window: usize,
        /// Bytes per chunk, the unit of work of a thread.
        chunk: usize,
    },
}

impl Split {
    /// 16 MiB windows in 1 MiB chunks: 16 chunks keep two to a dozen threads busy, and
    /// the window (held twice: one parsed while the next is read) is small beside any
    /// book large enough to need it.
    pub(crate) const DEFAULT: Split = Split::Parallel {
        window: 16 << 20,
        chunk: 1 << 20,
    };
}

/// The input of a sequential reader that takes over mid-file: the header line again
/// (so the reader checks every row against the header's field count, as one reading the
/// whole file does), the rest of the window, the rest of the file.
type Resume<R> = io::Chain<io::Chain<Cursor<Vec<u8>>, Cursor<Vec<u8>>>, R>;

/// What a table's reading needs besides its rows: which file, and how to split it.
struct Spec {
    key: &'static str,
    names: [&'static str; 3],
    split: Split,
}

fn io_problem(spec: &Spec, e: &io::Error) -> CsvProblem {
    CsvProblem {
        key: spec.key,
        line: None,
        column: None,
        message: format!("cannot read the file: {e}"),
        hint: Some(format!(
            "the file must be CSV with the header `{}`",
            spec.names.join(",")
        )),
        at: None,
    }
}

/// Read from `src` until `buf` holds `window` bytes; `true` at the end of the file.
fn fill<R: Read>(src: &mut R, buf: &mut Vec<u8>, window: usize) -> io::Result<bool> {
    let want = window.saturating_sub(buf.len());
    let got = src.by_ref().take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// The first line of `buf` when a plain header: ends with `\n`, not blank, no quote
/// or stray carriage return. Its length with the line end.
fn plain_header(buf: &[u8]) -> Option<usize> {
    let nl = buf.iter().position(|&b| b == b'\n')?;
    let line = buf.get(..nl)?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    (!line.is_empty() && !line.iter().any(|&b| b == b'"' || b == b'\r')).then_some(nl + 1)
}

/// `bytes` cut at line ends into pieces of about `size` bytes: (start, end) pairs.
fn chunks(bytes: &[u8], size: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut a = 0;
    while a < bytes.len() {
        let target = a + size.max(1);
        let b = match bytes.get(target..) {
            Some(tail) if !tail.is_empty() => tail
                .iter()
                .position(|&x| x == b'\n')
                .map_or(bytes.len(), |i| target + i + 1),
            _ => bytes.len(),
        };
        out.push((a, b));
        a = b;
    }
    out
}

/// The three fields of a plain line (without its `\n`; a final `\r` is dropped), or
/// `None` when the line needs the sequential reader.
fn fields(line: &[u8]) -> Option<[&[u8]; 3]> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.is_empty() || line.len() > MAX_FIELD_BYTES {
        return None;
    }
    let mut out: [&[u8]; 3] = [&[], &[], &[]];
    let (mut k, mut start) = (0, 0);
    for (i, &b) in line.iter().enumerate() {
        match b {
            b',' => {
                *out.get_mut(k)? = line.get(start..i)?;
                k += 1;
                if k == 3 {
                    return None;
                }
                start = i + 1;
            }
            b'"' | b'\r' => return None,
            _ => {}
        }
    }
    if k != 2 {
        return None;
    }
    out[2] = line.get(start..)?;
    Some(out)
}

/// The lines of `bytes`, without their `\n`.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    // An empty chunk has no line (`split` would give one empty line).
    body.split(|&b| b == b'\n')
        .take(if bytes.is_empty() { 0 } else { usize::MAX })
}

/// A number that the sequential reader would accept, or `None`.
fn value(field: &[u8], max: f64) -> Option<f64> {
    match amount(field, max) {
        Amount::Ok(x) => Some(x),
        Amount::Bad(_) => None,
    }
}

/// The second or third field of a plain line: text when the chunk is known to be UTF-8
/// (most are), so a number parses without a second check of its bytes.
#[derive(Clone, Copy)]
enum Num<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> Num<'a> {
    /// The field's bytes (an asset id is not a number).
    fn bytes(self) -> &'a [u8] {
        match self {
            Num::Text(t) => t.as_bytes(),
            Num::Bytes(b) => b,
        }
    }

    /// The number the sequential reader would read from the field, or `None`.
    fn value(self, max: f64) -> Option<f64> {
        match self {
            // A field with no space around it parses as it would trimmed; anything else
            // (spaces, a sign, a word, a number out of range) is decided by `amount`.
            Num::Text(t) => match t.parse::<f64>() {
                Ok(v) if v.is_finite() && (0.0..=max).contains(&v) => Some(v),
                _ => value(t.as_bytes(), max),
            },
            Num::Bytes(b) => value(b, max),
        }
    }
}

/// The positions of `,` and `\n` in a chunk, in order, found eight bytes at a time: a
/// word's matching bytes come from arithmetic on the word, without a branch per byte
/// (separators are a few bytes apart, too dense for a vectorised search to pay).
pub(crate) struct Seps<'a> {
    bytes: &'a [u8],
    /// The byte after the word in `mask`.
    at: usize,
    /// Bit 7 of each byte of the current word that is a separator and not yet returned.
    mask: u64,
}

impl<'a> Seps<'a> {
    /// The separators of `bytes`, from its first byte.
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Seps {
            bytes,
            at: 0,
            mask: 0,
        }
    }
}

/// Bit 7 set in each byte of `w` equal to `c`, every other bit clear. Exact: the sum
/// below cannot carry from one byte into the next.
fn bytes_equal(w: u64, c: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let x = w ^ (ONES * u64::from(c));
    !(((x & LOW7) + LOW7) | x | LOW7)
}

impl Iterator for Seps<'_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            let w = if let Some(word) = self.bytes.get(self.at..self.at + 8) {
                u64::from_le_bytes(word.try_into().ok()?)
            } else {
                // The last bytes, padded with zeros (not separators).
                let tail = self.bytes.get(self.at..).filter(|t| !t.is_empty())?;
                let mut word = [0u8; 8];
                word.get_mut(..tail.len())?.copy_from_slice(tail);
                u64::from_le_bytes(word)
            };
            self.mask = bytes_equal(w, b',') | bytes_equal(w, b'\n');
            self.at += 8;
        }
        let i = (self.mask.trailing_zeros() / 8) as usize;
        self.mask &= self.mask - 1;
        Some(self.at - 8 + i)
    }
}

/// Call `row` with the three fields of every line of a chunk (the id as bytes, the two
/// others as numbers); the number of lines, or `None` when a line is not plain or `row`
/// refuses it.
///
/// A chunk with no quote and no carriage return that is valid UTF-8 (what programs write)
/// is cut at its separators by [`Seps`] in one pass over the chunk, and its numbers
/// parse as text; others go line by line through [`fields`]. Both accept exactly the same
/// lines.
fn each_line<'a>(
    bytes: &'a [u8],
    mut row: impl FnMut(&'a [u8], Num<'a>, Num<'a>) -> Option<()>,
) -> Option<u64> {
    let text = if memchr::memchr2(b'"', b'\r', bytes).is_none() {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    };
    let Some(text) = text else {
        let mut n = 0;
        for l in lines(bytes) {
            let [a, b, c] = fields(l)?;
            row(a, Num::Bytes(b), Num::Bytes(c))?;
            n += 1;
        }
        return Some(n);
    };
    let mut seps = Seps::new(bytes);
    let (mut start, mut n) = (0, 0);
    while start < bytes.len() {
        // A plain line is `id,x,y` then `\n` (or the chunk's end): a blank line, a
        // missing or an extra field shows as a separator out of that order.
        let (c1, c2) = (seps.next()?, seps.next()?);
        if bytes.get(c1) != Some(&b',') || bytes.get(c2) != Some(&b',') {
            return None;
        }
        let end = match seps.next() {
            Some(e) if bytes.get(e) == Some(&b'\n') => e,
            Some(_) => return None,
            None => bytes.len(),
        };
        if end - start > MAX_FIELD_BYTES {
            return None;
        }
        row(
            bytes.get(start..c1)?,
            Num::Text(text.get(c1 + 1..c2)?),
            Num::Text(text.get(c2 + 1..end)?),
        )?;
        n += 1;
        start = end + 1;
    }
    Some(n)
}

/// Read a table: the header, then the rows, in parallel while they are plain and then
/// sequentially. `None` when reading stopped at a problem (in `out`).
///
/// `parse` fills a chunk's container (which it clears first: containers are kept from
/// window to window, so their memory is reused rather than faulted in again) and returns
/// its line count; `merge` moves a parsed chunk into the state, or refuses it. While a
/// window's chunks parse, the next window is read from the file into a second buffer.
#[allow(clippy::too_many_lines)] // one loop over the windows; its exits share the state
fn drive<R: Read + Send, S, C: Default + Send>(
    mut src: R,
    spec: &Spec,
    st: &mut S,
    parse: &(impl Fn(&[u8], &mut C) -> Option<u64> + Sync),
    mut merge: impl FnMut(&mut S, &mut C) -> bool,
    rest: impl FnOnce(&mut S, &mut Csv<Resume<R>>, &mut ByteRecord, &mut Vec<CsvProblem>) -> Option<()>,
    out: &mut Vec<CsvProblem>,
) -> Option<()> {
    let (window, chunk) = match spec.split {
        Split::Parallel { window, chunk } => (window.max(64), chunk),
        Split::Sequential => (64, 0),
    };
    let mut buf = Vec::with_capacity(window);
    let mut eof = match fill(&mut src, &mut buf, window) {
        Ok(e) => e,
        Err(e) => {
            out.push(io_problem(spec, &e));
            return None;
        }
    };
    if buf.starts_with(BOM) {
        buf.drain(..BOM.len());
    }
    let mut rec = ByteRecord::new();
    let head = plain_header(&buf).filter(|_| spec.split != Split::Sequential);
    let Some(head) = head else {
        // The whole file sequentially (its mark, if any, is already dropped).
        let input = Cursor::new(Vec::new()).chain(Cursor::new(buf)).chain(src);
        let mut rdr = reader_at(input, Some(Base::default()));
        if let Err(p) = header(&mut rdr, &mut rec, spec.key, spec.names) {
            out.push(p);
            return None;
        }
        return rest(st, &mut rdr, &mut rec, out);
    };
    let header_line = buf.get(..head)?.to_vec();
    if let Err(p) = header(
        &mut reader_at(header_line.as_slice(), Some(Base::default())),
        &mut rec,
        spec.key,
        spec.names,
    ) {
        out.push(p);
        return None;
    }
    // `buf[pos..]` is unread; `buf[0]` is byte `buf_start` of the file (after the mark);
    // `buf[pos]` starts line `line`. `ahead` receives the window after `buf`.
    let (mut pos, mut buf_start, mut line) = (head, 0u64, 2u64);
    let mut ahead: Vec<u8> = Vec::with_capacity(window);
    let mut slots: Vec<C> = Vec::new();
    let stopped_at = loop {
        let end = if eof {
            buf.len()
        } else {
            buf.get(pos..)
                .and_then(|t| t.iter().rposition(|&b| b == b'\n'))
                .map_or(pos, |i| pos + i + 1)
        };
        if end == pos && !eof && pos == 0 {
            // A line longer than the window: the sequential reader bounds it.
            break pos;
        }
        let window_bytes = buf.get(pos..end)?;
        let pieces = chunks(window_bytes, chunk);
        if slots.len() < pieces.len() {
            slots.resize_with(pieces.len(), C::default);
        }
        // The window's chunks on the pool while the next window is read: reading is a
        // copy out of the page cache, as long as a parse of a window on one core.
        ahead.clear();
        ahead.extend_from_slice(buf.get(end..)?);
        let (counts, filled) = rayon::join(
            || {
                pieces
                    .par_iter()
                    .zip(slots.par_iter_mut())
                    .map(|(&(a, b), c)| window_bytes.get(a..b).and_then(|w| parse(w, c)))
                    .collect::<Vec<Option<u64>>>()
            },
            || (!eof).then(|| fill(&mut src, &mut ahead, window)),
        );
        let mut stopped = None;
        for ((&(a, _), n), c) in pieces.iter().zip(counts).zip(slots.iter_mut()) {
            match n {
                Some(n) if merge(st, c) => line += n,
                _ => {
                    stopped = Some(pos + a);
                    break;
                }
            }
        }
        if let Some(at) = stopped {
            // What was read ahead follows the window's unread part.
            buf.truncate(end);
            buf.extend_from_slice(&ahead);
            break at;
        }
        eof = match filled {
            None => return Some(()),
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                out.push(io_problem(spec, &e));
                return None;
            }
        };
        buf_start += end as u64;
        std::mem::swap(&mut buf, &mut ahead);
        pos = 0;
    };
    drop((slots, ahead));
    // The sequential reader from line `line` (byte `buf_start + stopped_at`) on, after the
    // header line again.
    let base = Base {
        byte: (buf_start + stopped_at as u64).checked_sub(header_line.len() as u64)?,
        lines: line - 2,
    };
    buf.drain(..stopped_at);
    let input = Cursor::new(header_line).chain(Cursor::new(buf)).chain(src);
    let mut rdr = reader_at(input, Some(base));
    let header_text = spec.names.join(",");
    if let Err(p) = next(&mut rdr, &mut rec, spec.key, &header_text) {
        out.push(p);
        return None;
    }
    rest(st, &mut rdr, &mut rec, out)
}

/// Read an accounts file (everything after opening it): the rows and their problems, or
/// `None` (with the problem in `out`) when the file cannot be read to its end.
pub(super) fn read_accounts<R: Read + Send>(
    src: R,
    split: Split,
    out: &mut Vec<CsvProblem>,
) -> Option<(Accounts, Problems)> {
    let spec = Spec {
        key: ACCOUNTS_KEY,
        names: ACCOUNTS_HEADER,
        split,
    };
    let mut st = (
        Accounts {
            ids: Ids::default(),
            cash: Vec::new(),
            loan: Vec::new(),
        },
        Problems::new(ACCOUNTS_KEY),
    );
    let parse = |bytes: &[u8], c: &mut AccountsChunk| -> Option<u64> {
        c.clear();
        each_line(bytes, |id, cash, loan| {
            if id.iter().all(u8::is_ascii_whitespace) {
                return None;
            }
            c.cash.push(cash.value(limits::MAX_USD)?);
            c.loan.push(loan.value(limits::MAX_USD)?);
            c.ids.buf.extend_from_slice(id);
            c.ids.close();
            Some(())
        })
    };
    let merge = |(acc, _): &mut (Accounts, Problems), c: &mut AccountsChunk| {
        acc.ids.append(&c.ids);
        acc.cash.extend_from_slice(&c.cash);
        acc.loan.extend_from_slice(&c.loan);
        true
    };
    let rest = |(acc, problems): &mut (Accounts, Problems),
                rdr: &mut Csv<Resume<R>>,
                rec: &mut ByteRecord,
                out: &mut Vec<CsvProblem>| {
        match accounts_rows(rdr, rec, acc, problems) {
            Ok(()) => Some(()),
            Err(p) => {
                std::mem::replace(problems, Problems::new(ACCOUNTS_KEY)).finish(out);
                out.push(p);
                None
            }
        }
    };
    drive(src, &spec, &mut st, &parse, merge, rest, out)?;
    Some(st)
}

/// A chunk of accounts rows (ids, cash, loans), kept from window to window.
#[derive(Default)]
struct AccountsChunk {
    ids: Ids,
    cash: Vec<f64>,
    loan: Vec<f64>,
}

impl AccountsChunk {
    fn clear(&mut self) {
        self.ids.clear();
        self.cash.clear();
        self.loan.clear();
    }
}

/// A chunk of holdings rows: the runs of rows of one account, and the rows; kept from
/// window to window.
#[derive(Default)]
struct HoldingsChunk {
    /// The account of each run (one byte buffer and end offsets).
    run_ids: Ids,
    /// Rows in each run.
    run_rows: Vec<u32>,
    held: Vec<super::AssetIx>,
    shares: Vec<f64>,
}

impl HoldingsChunk {
    fn clear(&mut self) {
        self.run_ids.clear();
        self.run_rows.clear();
        self.held.clear();
        self.shares.clear();
    }
}

/// Read a holdings file (everything after opening it) into CSR rows grouped as `ids`.
pub(super) fn read_holdings<R: Read + Send>(
    src: R,
    split: Split,
    ids: &super::Packed,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<super::Holdings> {
    let spec = Spec {
        key: HOLDINGS_KEY,
        names: HOLDINGS_HEADER,
        split,
    };
    let mut st = HoldingsState::new(ids);
    let parse = |bytes: &[u8], c: &mut HoldingsChunk| -> Option<u64> {
        c.clear();
        let mut last: &[u8] = &[];
        each_line(bytes, |account, asset, shares| {
            c.held.push(assets.get(asset.bytes())?);
            c.shares.push(shares.value(limits::MAX_SHARES)?);
            match c.run_rows.last_mut() {
                Some(n) if account == last => *n += 1,
                _ => {
                    c.run_ids.buf.extend_from_slice(account);
                    c.run_ids.close();
                    c.run_rows.push(1);
                    last = account;
                }
            }
            Some(())
        })
    };
    let merge = |st: &mut HoldingsState, c: &mut HoldingsChunk| {
        // Undone if a run breaks the grouping: the sequential reader then reads this
        // chunk again from the state before it, and reports the row.
        let (open, ptrs) = (st.grouping.open(), st.grouping.row_ptr.len());
        let mut rows = st.shares.len();
        for (k, &n) in c.run_rows.iter().enumerate() {
            if st.grouping.seek(ids, c.run_ids.get(k), rows).is_err() {
                st.grouping.rewind(ids, open, ptrs);
                return false;
            }
            rows += n as usize;
        }
        st.held.extend_from_slice(&c.held);
        st.shares.extend_from_slice(&c.shares);
        st.row += c.shares.len();
        true
    };
    let rest =
        |st: &mut HoldingsState,
         rdr: &mut Csv<Resume<R>>,
         rec: &mut ByteRecord,
         out: &mut Vec<CsvProblem>| holdings_rows(rdr, rec, st, ids, assets, out);
    drive(src, &spec, &mut st, &parse, merge, rest, out)?;
    st.finish(out, ids.len())
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::io::Write as _;
    use std::path::{Path, PathBuf};

    use super::super::{AccountBook, AssetIx, BookFiles, load_with};
    use super::*;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn write(dir: &Path, name: &str, text: &[u8]) -> PathBuf {
        let p = dir.join(name);
        let mut f = std::fs::File::create(&p).expect("create");
        f.write_all(text).expect("write");
        p
    }

    /// What a reader reports: the book, or each problem as the user sees it.
    type Seen = Result<AccountBook, Vec<(&'static str, Option<usize>, Option<usize>, String)>>;

    fn load(dir: &Path, accounts: &[u8], holdings: &[u8], split: Split) -> Seen {
        let a = write(dir, "a.csv", accounts);
        let h = write(dir, "h.csv", holdings);
        let lookup = AssetLookup::new([
            ("NVDA", AssetIx(0)),
            ("AMD", AssetIx(1)),
            ("MU", AssetIx(2)),
        ]);
        load_with(
            &BookFiles {
                accounts: &a,
                holdings: &h,
            },
            &lookup,
            split,
        )
        .map_err(|ps| {
            ps.into_iter()
                .map(|p| {
                    let text = format!("{} | {}", p.message, p.hint.unwrap_or_default());
                    (p.key, p.line, p.column, text)
                })
                .collect()
        })
    }

    /// Small windows and chunks, so a test file of a few kilobytes crosses many of both.
    const SPLITS: [Split; 5] = [
        Split::Parallel {
            window: 64,
            chunk: 1,
        },
        Split::Parallel {
            window: 100,
            chunk: 17,
        },
        Split::Parallel {
            window: 257,
            chunk: 40,
        },
        Split::Parallel {
            window: 4096,
            chunk: 300,
        },
        Split::DEFAULT,
    ];

    /// Every split reads `accounts` and `holdings` as the sequential reader does; the
    /// sequential reader's result.
    fn same_everywhere(name: &str, accounts: &[u8], holdings: &[u8]) -> Seen {
        let dir =
            std::env::temp_dir().join(format!("delever-book-par-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let dir = Dir(dir);
        let want = load(&dir.0, accounts, holdings, Split::Sequential);
        for split in SPLITS {
            let got = load(&dir.0, accounts, holdings, split);
            assert_eq!(got, want, "{name}: {split:?}");
        }
        want
    }

    /// A valid book of `n` accounts, account `i` holding `i % 4` assets.
    fn book(n: usize) -> (String, String) {
        let mut a = String::from("account,cash,loan\n");
        let mut h = String::from("account,asset,shares\n");
        let names = ["NVDA", "AMD", "MU"];
        for i in 0..n {
            writeln!(a, "acct{i},{}.5,{}", i * 3, i * 7 % 1000).expect("to a string");
            for k in 0..i % 4 {
                writeln!(h, "acct{i},{},{}", names[k % 3], 10 * i + k).expect("to a string");
            }
        }
        (a, h)
    }

    #[test]
    fn plain_books_read_the_same_in_parallel() {
        let (a, h) = book(300);
        let b = same_everywhere("plain", a.as_bytes(), h.as_bytes()).expect("valid");
        assert_eq!(b.len(), 300);
        assert_eq!(b.shares.len(), (0..300).map(|i| i % 4).sum::<usize>());
        assert_eq!(b.cash[299], 897.5);
        // No final line end, CRLF, and a byte order mark.
        same_everywhere("noeol", a.trim_end().as_bytes(), h.trim_end().as_bytes()).expect("valid");
        let crlf = |s: &str| s.replace('\n', "\r\n");
        same_everywhere("crlf", crlf(&a).as_bytes(), crlf(&h).as_bytes()).expect("valid");
        let bom = |s: &str| [BOM, s.as_bytes()].concat();
        same_everywhere("bom", &bom(&a), &bom(&h)).expect("valid");
        same_everywhere("empty", b"account,cash,loan\n", b"account,asset,shares\n").expect("valid");
    }

    /// `text` with line `line` (1-based) replaced by `with`.
    fn replace_line(text: &str, line: usize, with: &str) -> String {
        let mut lines: Vec<&str> = text.split('\n').collect();
        lines[line - 1] = with;
        lines.join("\n")
    }

    #[test]
    fn problems_in_later_chunks_are_the_sequential_readers() {
        let (a, h) = book(300);
        let cases: Vec<(&str, String, String)> = vec![
            ("cash", replace_line(&a, 250, "acct248,-1,0"), h.clone()),
            ("dup", replace_line(&a, 250, "acct3,1,0"), h.clone()),
            ("fields", replace_line(&a, 200, "acct198,1,0,9"), h.clone()),
            ("blank", replace_line(&a, 200, ""), h.clone()),
            (
                "quoted",
                replace_line(&a, 200, "\"acct198\",1,0"),
                h.clone(),
            ),
            (
                "quoted-newline",
                replace_line(&a, 200, "\"acct\n198\",1,0"),
                h.clone(),
            ),
            ("asset", a.clone(), replace_line(&h, 300, "acct199,INTC,4")),
            ("shares", a.clone(), replace_line(&h, 301, "acct199,MU,x")),
            ("order", a.clone(), replace_line(&h, 320, "acct2,MU,1")),
            ("unknown", a.clone(), replace_line(&h, 320, "nobody,MU,1")),
            ("header", a.replacen("loan", "debt", 1), h.clone()),
            (
                "cr",
                a.clone(),
                replace_line(&h, 200, "acct130,MU,1\racct130,MU,2"),
            ),
            (
                "long",
                replace_line(&a, 100, &format!("acct98,{},0", "1".repeat(70_000))),
                h.clone(),
            ),
        ];
        for (name, a, h) in cases {
            let want = same_everywhere(name, a.as_bytes(), h.as_bytes());
            assert!(want.is_err() || name == "quoted", "{name}: {want:?}");
        }
        // More bad rows than are listed, across chunks and windows: the same ten, the same
        // count.
        let mut bad = a.clone();
        for line in (20..280).step_by(13) {
            bad = replace_line(&bad, line, &format!("acct{},1,-{line}", line - 2));
        }
        let crlf = bad.replace('\n', "\r\n");
        for (name, text) in [("many", bad), ("many-crlf", crlf)] {
            let errs = same_everywhere(name, text.as_bytes(), h.as_bytes()).expect_err("bad");
            assert_eq!(errs.len(), 11, "{errs:?}");
            assert_eq!(errs[0].1, Some(20));
            assert!(errs[10].3.contains("and 10 more bad rows"), "{errs:?}");
        }
    }

    #[test]
    fn chunks_end_at_line_ends() {
        let text = b"ab\ncd\n\nef";
        for size in 1..12 {
            let c = chunks(text, size);
            assert_eq!(c.first().map(|c| c.0), Some(0));
            assert_eq!(c.last().map(|c| c.1), Some(text.len()));
            for w in c.windows(2) {
                assert_eq!(w[0].1, w[1].0);
                assert_eq!(text[w[0].1 - 1], b'\n');
            }
        }
        assert_eq!(fields(b"a,1,2\r"), Some([&b"a"[..], b"1", b"2"]));
        assert_eq!(fields(b"a,1"), None);
        assert_eq!(fields(b"a,1,2,3"), None);
        assert_eq!(fields(b"\"a\",1,2"), None);
        assert_eq!(fields(b""), None);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(lines(b"x\n").count(), 1);
        assert_eq!(lines(b"x\ny").count(), 2);
    }

    proptest::proptest! {
        /// The word-at-a-time search finds exactly the separators a byte loop finds, at
        /// every length (the padded last word included) and for every byte value.
        #[test]
        fn separators_are_found_as_a_byte_loop_finds_them(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::strategy::Just(b','),
                    proptest::strategy::Just(b'\n'),
                    proptest::num::u8::ANY,
                ],
                0..70,
            ),
        ) {
            let want: Vec<usize> = bytes
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b',' || b == b'\n')
                .map(|(i, _)| i)
                .collect();
            proptest::prop_assert_eq!(Seps::new(&bytes).collect::<Vec<_>>(), want);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Random edits of a valid book (bad values, quotes, line breaks in quotes, CRLF,
        /// blank lines, moved rows) anywhere in either file: every split reads what the
        /// sequential reader reads, problems included.
        #[test]
        fn any_edit_reads_as_sequentially(
            n in 1usize..120,
            edits in proptest::collection::vec((0usize..14, 0usize..1000, 0usize..1000), 0..4),
            crlf in proptest::bool::ANY,
            latin1 in proptest::bool::ANY,
        ) {
            let (mut a, mut h) = book(n);
            for (kind, x, y) in edits {
                let text = if x % 2 == 0 { &mut a } else { &mut h };
                let count = text.split('\n').count();
                let line = 2 + y % count.saturating_sub(1).max(1);
                let line = line.min(count);
                let with = match kind {
                    0 => "acct1,1,-5".to_string(),
                    1 => format!("\"acct{}\",2,3", y % n),
                    2 => format!("\"acct\n{}\",2,3", y % n),
                    3 => String::new(),
                    4 => format!("acct{},NVDA,1", y % n),
                    5 => format!("acct{},XOM,1", y % n),
                    6 => "a,b".to_string(),
                    7 => format!("acct{},\"AMD\",7", y % n),
                    // Numbers the text path must leave to `amount`, or read as it does.
                    8 => format!("acct{}, 2.5 ,3\t", y % n),
                    9 => format!("acct{},+1e3,0.12345678901234567890123", y % n),
                    10 => format!("acct{},inf,1e309", y % n),
                    11 => format!("acct{},MU,14.624218838278434", y % n),
                    // Not ASCII: UTF-8 here, one Latin-1 byte below when `latin1`.
                    12 => format!("acct§{},1,2", y % n),
                    _ => format!("acct{},NVDA,1,", y % n),
                };
                *text = replace_line(text, line, &with);
            }
            if crlf {
                a = a.replace('\n', "\r\n");
            }
            let bytes = |t: &str| -> Vec<u8> {
                if latin1 {
                    t.replace('§', "\u{1}").bytes().map(|b| if b == 1 { 0xA7 } else { b }).collect()
                } else {
                    t.as_bytes().to_vec()
                }
            };
            same_everywhere("prop", &bytes(&a), &bytes(&h)).ok();
        }
    }
}
