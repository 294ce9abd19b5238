//! Account books from CSV: `account,cash,loan` and `account,asset,shares`, streamed into
//! the CSR vectors of [`delever_graph::AccountBook`].
//!
//! Both files are read record by record into one reused [`csv::ByteRecord`]; nothing is
//! held per row but the book's own vectors and the account ids (one byte buffer with end
//! offsets). Ten million holdings rows load in a few seconds.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use csv::{ByteRecord, Reader, ReaderBuilder};
use delever_graph::{AccountBook, AssetIx};

use crate::suggest;

/// Bad rows reported per file before the rest are only counted.
const MAX_ROW_PROBLEMS: usize = 10;

/// A problem in a CSV file, located by line and column of that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CsvProblem {
    /// Which of the two files: `accounts_csv` or `holdings_csv`.
    pub key: &'static str,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub hint: Option<String>,
}

/// Asset ids → indices, for the `asset` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AssetLookup {
    by_id: BTreeMap<Vec<u8>, AssetIx>,
}

impl AssetLookup {
    pub fn new<'a>(assets: impl IntoIterator<Item = (&'a str, AssetIx)>) -> Self {
        AssetLookup {
            by_id: assets
                .into_iter()
                .map(|(id, ix)| (id.as_bytes().to_vec(), ix))
                .collect(),
        }
    }
    fn get(&self, id: &[u8]) -> Option<AssetIx> {
        self.by_id.get(id).copied()
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

/// Collects row problems, keeping the first few.
struct Problems {
    key: &'static str,
    list: Vec<CsvProblem>,
    more: usize,
}

impl Problems {
    fn new(key: &'static str) -> Self {
        Problems {
            key,
            list: Vec::new(),
            more: 0,
        }
    }
    fn push(
        &mut self,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
        hint: Option<String>,
    ) {
        if self.list.len() < MAX_ROW_PROBLEMS {
            self.list.push(CsvProblem {
                key: self.key,
                line,
                column,
                message,
                hint,
            });
        } else {
            self.more += 1;
        }
    }
    fn finish(mut self, out: &mut Vec<CsvProblem>) {
        if self.more > 0 {
            self.list.push(CsvProblem {
                key: self.key,
                line: None,
                column: None,
                message: format!("… and {} more bad rows", self.more),
                hint: None,
            });
        }
        out.append(&mut self.list);
    }
}

fn open(path: &Path, key: &'static str) -> Result<Reader<File>, CsvProblem> {
    let file = File::open(path).map_err(|e| CsvProblem {
        key,
        line: None,
        column: None,
        message: format!("cannot open the file: {e}"),
        hint: None,
    })?;
    Ok(ReaderBuilder::new()
        .has_headers(false)
        .buffer_capacity(1 << 18)
        .from_reader(file))
}

fn line_of(rec: &ByteRecord) -> Option<usize> {
    rec.position().and_then(|p| usize::try_from(p.line()).ok())
}

/// 1-based column of field `i` (exact for unquoted fields).
fn column_of(rec: &ByteRecord, i: usize) -> Option<usize> {
    rec.range(i).map(|r| r.start + i + 1)
}

fn csv_error(e: &csv::Error, key: &'static str, header: &str) -> CsvProblem {
    let (line, message) = match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => (
            pos.as_ref().and_then(|p| usize::try_from(p.line()).ok()),
            format!("this row has {len} fields, expected {expected_len} (`{header}`)"),
        ),
        csv::ErrorKind::Io(io) => (None, format!("cannot read the file: {io}")),
        _ => (
            e.position().and_then(|p| usize::try_from(p.line()).ok()),
            format!("malformed CSV: {e}"),
        ),
    };
    CsvProblem {
        key,
        line,
        column: None,
        message,
        hint: Some(format!("the file must be CSV with the header `{header}`")),
    }
}

/// Read and check the header row.
fn header(
    rdr: &mut Reader<File>,
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
    };
    if !rdr
        .read_byte_record(rec)
        .map_err(|e| csv_error(&e, key, &want))?
    {
        return Err(bad(format!(
            "the file is empty; expected the header `{want}`"
        )));
    }
    let got: Vec<String> = rec
        .iter()
        .map(|f| {
            String::from_utf8_lossy(f)
                .trim_start_matches('\u{feff}')
                .trim()
                .to_owned()
        })
        .collect();
    if got.len() != 3 || got.iter().zip(expected).any(|(g, w)| g != w) {
        return Err(bad(format!(
            "unexpected header `{}`; expected `{want}`",
            got.join(",")
        )));
    }
    Ok(())
}

enum Amount {
    Ok(f64),
    Bad(String),
}

/// A finite number ≥ 0.
fn amount(field: &[u8]) -> Amount {
    // Fast path: a plain whole number (share counts, most cash and loans) of at most 15
    // digits is exact in an f64.
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
        Ok(v) if v.is_finite() && v >= 0.0 => Amount::Ok(v),
        Ok(v) if v.is_finite() => Amount::Bad(format!("expected a number ≥ 0, found `{text}`")),
        Ok(_) => Amount::Bad(format!("expected a finite number, found `{text}`")),
        Err(_) if text.is_empty() => Amount::Bad("expected a number, found an empty field".into()),
        Err(_) => Amount::Bad(format!("expected a number, found `{text}`")),
    }
}

/// Account ids in file order: one byte buffer and end offsets.
struct Ids {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Ids {
    fn get(&self, i: usize) -> &[u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends.get(i - 1).copied().unwrap_or(0)
        };
        let end = self.ends.get(i).copied().unwrap_or(start);
        self.buf.get(start..end).unwrap_or(&[])
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
}

fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s.into_owned()
    }
}

struct Accounts {
    ids: Ids,
    cash: Vec<f64>,
    loan: Vec<f64>,
}

fn read_accounts(path: &Path, out: &mut Vec<CsvProblem>) -> Option<Accounts> {
    const KEY: &str = "accounts_csv";
    const HEADER: [&str; 3] = ["account", "cash", "loan"];
    let mut rdr = match open(path, KEY) {
        Ok(r) => r,
        Err(p) => {
            out.push(p);
            return None;
        }
    };
    let mut rec = ByteRecord::new();
    if let Err(p) = header(&mut rdr, &mut rec, KEY, HEADER) {
        out.push(p);
        return None;
    }
    let mut acc = Accounts {
        ids: Ids {
            buf: Vec::new(),
            ends: Vec::new(),
        },
        cash: Vec::new(),
        loan: Vec::new(),
    };
    let mut problems = Problems::new(KEY);
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.finish(out);
                out.push(csv_error(&e, KEY, &HEADER.join(",")));
                return None;
            }
        }
        let row = acc.cash.len() + 1;
        let id = rec.get(0).unwrap_or(&[]);
        if id.iter().all(u8::is_ascii_whitespace) {
            problems.push(
                line_of(&rec),
                column_of(&rec, 0),
                format!("row {row}, column `account`: the account id is empty"),
                None,
            );
        }
        acc.ids.buf.extend_from_slice(id);
        acc.ids.ends.push(acc.ids.buf.len());
        for (i, v) in [(1usize, &mut acc.cash), (2, &mut acc.loan)] {
            match amount(rec.get(i).unwrap_or(&[])) {
                Amount::Ok(x) => v.push(x),
                Amount::Bad(msg) => {
                    v.push(0.0);
                    problems.push(
                        line_of(&rec),
                        column_of(&rec, i),
                        format!(
                            "row {row} (account `{}`), column `{}`: {msg}",
                            show(id),
                            HEADER[i]
                        ),
                        Some(format!(
                            "`{}` is a USD amount ≥ 0, a plain number such as 1500.25",
                            HEADER[i]
                        )),
                    );
                }
            }
        }
    }
    // Duplicate ids would make the holdings' grouping ambiguous.
    for (first, second) in duplicates(&acc.ids).into_iter().take(3) {
        problems.push(
            None,
            None,
            format!(
                "account `{}` appears twice (rows {} and {})",
                show(acc.ids.get(first)),
                first + 1,
                second + 1
            ),
            Some("each account id must be unique in the book".into()),
        );
    }
    let ok = problems.list.is_empty();
    problems.finish(out);
    ok.then_some(acc)
}

/// FNV-1a: a fast, fixed (unseeded) hash of an id.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Pairs of rows (first, later) with the same id, in order of the later row. Ids are
/// sorted by hash (cheap), and only ids with equal hashes are compared byte by byte.
fn duplicates(ids: &Ids) -> Vec<(usize, usize)> {
    let mut keyed: Vec<(u64, u32)> = (0..ids.len())
        .map(|i| (fnv(ids.get(i)), i as u32))
        .collect();
    keyed.sort_unstable();
    let mut out = Vec::new();
    for run in keyed.chunk_by(|a, b| a.0 == b.0) {
        if run.len() < 2 {
            continue;
        }
        let mut rows: Vec<u32> = run.iter().map(|&(_, i)| i).collect();
        rows.sort_by(|&a, &b| ids.get(a as usize).cmp(ids.get(b as usize)).then(a.cmp(&b)));
        for same in rows.chunk_by(|&a, &b| ids.get(a as usize) == ids.get(b as usize)) {
            if let Some((&first, rest)) = same.split_first() {
                out.extend(rest.iter().map(|&r| (first as usize, r as usize)));
            }
        }
    }
    out.sort_by_key(|&(_, later)| later);
    out
}

/// Where holdings rows go: the account receiving rows and the CSR row pointers so far.
struct Grouping {
    /// The account receiving rows; `row_ptr` has an entry for it and every one before it.
    open: usize,
    row_ptr: Vec<u64>,
}

impl Grouping {
    /// Move to `account` (the open one or a later one), closing the accounts passed over.
    /// On failure, say whether the account appeared earlier (out of order) or never.
    fn seek(&mut self, ids: &Ids, account: &[u8], rows: usize) -> Result<(), bool> {
        let n = ids.len();
        if n > 0 && ids.get(self.open) == account {
            return Ok(());
        }
        match (self.open + 1..n).find(|&k| ids.get(k) == account) {
            Some(k) => {
                for _ in self.open + 1..=k {
                    self.row_ptr.push(rows as u64);
                }
                self.open = k;
                Ok(())
            }
            None => Err((0..self.open.min(n)).any(|k| ids.get(k) == account)),
        }
    }
}

/// Slots of [`AssetCache`] (a power of two).
const CACHE_SLOTS: usize = 256;

/// The asset of a holdings row: a direct-mapped cache by id hash in front of the map, so
/// that the common case is one hash and one short comparison.
struct AssetCache<'a> {
    assets: &'a AssetLookup,
    slots: Vec<Option<(Vec<u8>, AssetIx)>>,
}

impl<'a> AssetCache<'a> {
    fn new(assets: &'a AssetLookup) -> Self {
        AssetCache {
            assets,
            slots: vec![None; CACHE_SLOTS],
        }
    }

    fn get(&mut self, id: &[u8]) -> Option<AssetIx> {
        let slot = self.slots.get_mut(fnv(id) as usize % CACHE_SLOTS)?;
        if let Some((cached, ix)) = slot
            && cached.as_slice() == id
        {
            return Some(*ix);
        }
        let ix = self.assets.get(id)?;
        *slot = Some((id.to_vec(), ix));
        Some(ix)
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

fn read_holdings(
    path: &Path,
    ids: &Ids,
    assets: &AssetLookup,
    out: &mut Vec<CsvProblem>,
) -> Option<Holdings> {
    const KEY: &str = "holdings_csv";
    const HEADER: [&str; 3] = ["account", "asset", "shares"];
    let mut rdr = match open(path, KEY) {
        Ok(r) => r,
        Err(p) => {
            out.push(p);
            return None;
        }
    };
    let mut rec = ByteRecord::new();
    if let Err(p) = header(&mut rdr, &mut rec, KEY, HEADER) {
        out.push(p);
        return None;
    }
    let mut grouping = Grouping {
        open: 0,
        row_ptr: Vec::with_capacity(ids.len() + 1),
    };
    grouping.row_ptr.push(0);
    let mut held: Vec<AssetIx> = Vec::new();
    let mut shares: Vec<f64> = Vec::new();
    let mut cache = AssetCache::new(assets);
    let mut problems = Problems::new(KEY);
    let mut row = 0usize;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                problems.finish(out);
                out.push(csv_error(&e, KEY, &HEADER.join(",")));
                return None;
            }
        }
        row += 1;
        let account = rec.get(0).unwrap_or(&[]);
        if let Err(earlier) = grouping.seek(ids, account, shares.len()) {
            let (message, hint) = grouping_problem(row, account, earlier);
            problems.push(
                line_of(&rec),
                column_of(&rec, 0),
                message,
                Some(hint.into()),
            );
            problems.finish(out);
            return None;
        }
        let asset_field = rec.get(1).unwrap_or(&[]);
        match (cache.get(asset_field), amount(rec.get(2).unwrap_or(&[]))) {
            (Some(a), Amount::Ok(s)) => {
                held.push(a);
                shares.push(s);
            }
            (None, _) => {
                let id = show(asset_field);
                problems.push(
                    line_of(&rec),
                    column_of(&rec, 1),
                    format!(
                        "row {row} (account `{}`), column `asset`: unknown asset `{id}`",
                        show(account)
                    ),
                    Some(suggest::hint_for(&id, assets.ids(), "assets")),
                );
            }
            (Some(_), Amount::Bad(msg)) => problems.push(
                line_of(&rec),
                column_of(&rec, 2),
                format!(
                    "row {row} (account `{}`), column `shares`: {msg}",
                    show(account)
                ),
                Some("`shares` is a number of shares ≥ 0, such as 120 or 12.5".into()),
            ),
        }
    }
    let ok = problems.list.is_empty();
    problems.finish(out);
    if !ok {
        return None;
    }
    let mut row_ptr = grouping.row_ptr;
    while row_ptr.len() < ids.len() + 1 {
        row_ptr.push(shares.len() as u64);
    }
    Some(Holdings {
        row_ptr,
        assets: held,
        shares,
    })
}

/// Load a book: accounts first, then holdings grouped by account in the same order.
pub(crate) fn load(
    files: &BookFiles<'_>,
    assets: &AssetLookup,
) -> Result<AccountBook, Vec<CsvProblem>> {
    let mut out = Vec::new();
    let Some(accounts) = read_accounts(files.accounts, &mut out) else {
        return Err(out);
    };
    let Some(holdings) = read_holdings(files.holdings, &accounts.ids, assets, &mut out) else {
        return Err(out);
    };
    Ok(AccountBook {
        cash: accounts.cash,
        loan: accounts.loan,
        row_ptr: holdings.row_ptr,
        assets: holdings.assets,
        shares: holdings.shares,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    struct Dir(PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn dir(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("delever-book-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        Dir(d)
    }

    fn write(d: &Dir, name: &str, text: &str) -> PathBuf {
        let p = d.0.join(name);
        let mut f = File::create(&p).expect("create");
        f.write_all(text.as_bytes()).expect("write");
        p
    }

    fn lookup() -> AssetLookup {
        AssetLookup::new([("NVDA", AssetIx(0)), ("AMD", AssetIx(1))])
    }

    fn run(name: &str, accounts: &str, holdings: &str) -> Result<AccountBook, Vec<CsvProblem>> {
        let d = dir(name);
        let a = write(&d, "a.csv", accounts);
        let h = write(&d, "h.csv", holdings);
        load(
            &BookFiles {
                accounts: &a,
                holdings: &h,
            },
            &lookup(),
        )
    }

    #[test]
    fn csr_with_gaps() {
        let book = run(
            "ok",
            "account,cash,loan\na1,10,50\na2,0,0\na3,1,2\n",
            "account,asset,shares\na1,NVDA,5\na1,AMD,1\na3,AMD,2\n",
        )
        .expect("valid");
        assert_eq!(book.row_ptr, vec![0, 2, 2, 3]);
        assert_eq!(book.assets, vec![AssetIx(0), AssetIx(1), AssetIx(1)]);
        assert_eq!(book.shares, vec![5.0, 1.0, 2.0]);
        assert_eq!(book.loan, vec![50.0, 0.0, 2.0]);
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        let errs = run(
            "bad",
            "account,cash,loan\na1,10,50\na2,-3,0\n",
            "account,asset,shares\n",
        )
        .expect_err("bad");
        assert_eq!(errs[0].line, Some(3));
        assert_eq!(errs[0].column, Some(4));
        assert!(
            errs[0]
                .message
                .contains("row 2 (account `a2`), column `cash`"),
            "{errs:?}"
        );
    }

    #[test]
    fn unknown_asset_suggests() {
        let errs = run(
            "asset",
            "account,cash,loan\na1,10,50\n",
            "account,asset,shares\na1,NVDX,5\n",
        )
        .expect_err("bad");
        assert_eq!(errs[0].hint.as_deref(), Some("did you mean `NVDA`?"));
    }

    #[test]
    fn grouping_is_enforced() {
        let errs = run(
            "order",
            "account,cash,loan\na1,10,50\na2,1,1\n",
            "account,asset,shares\na2,NVDA,5\na1,NVDA,5\n",
        )
        .expect_err("bad");
        assert!(errs[0].message.contains("out of order"), "{errs:?}");
        let errs = run(
            "unknown",
            "account,cash,loan\na1,10,50\n",
            "account,asset,shares\nzz,NVDA,5\n",
        )
        .expect_err("bad");
        assert!(errs[0].message.contains("not in accounts_csv"), "{errs:?}");
    }

    #[test]
    fn duplicates_are_found_in_row_order() {
        let mut ids = Ids {
            buf: Vec::new(),
            ends: Vec::new(),
        };
        for id in ["a", "b", "c", "b", "a", "b"] {
            ids.buf.extend_from_slice(id.as_bytes());
            ids.ends.push(ids.buf.len());
        }
        assert_eq!(duplicates(&ids), vec![(1, 3), (0, 4), (1, 5)]);
        let book = run(
            "fast",
            "account,cash,loan\na,12,7.5\n",
            "account,asset,shares\na,AMD,003\n",
        )
        .expect("valid");
        assert_eq!(
            (book.cash[0], book.loan[0], book.shares[0]),
            (12.0, 7.5, 3.0)
        );
    }

    #[test]
    fn headers_duplicates_and_ragged_rows() {
        let errs = run("hdr", "id,cash,loan\n", "account,asset,shares\n").expect_err("bad");
        assert!(errs[0].message.contains("unexpected header"), "{errs:?}");
        let errs = run(
            "dup",
            "account,cash,loan\na,1,1\na,1,1\n",
            "account,asset,shares\n",
        )
        .expect_err("bad");
        assert!(errs[0].message.contains("appears twice"), "{errs:?}");
        let errs = run(
            "ragged",
            "account,cash,loan\na,1\n",
            "account,asset,shares\n",
        )
        .expect_err("bad");
        assert!(errs[0].message.contains("2 fields, expected 3"), "{errs:?}");
        assert_eq!(errs[0].line, Some(2));
    }
}
