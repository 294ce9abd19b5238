//! Unit tests of the CSV book reader: headers, rows, limits and the problems' locations.

use super::*;
use std::fmt::Write as _;
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
    let mut ids = Ids::default();
    for id in ["a", "b", "c", "b", "a", "b"] {
        ids.buf.extend_from_slice(id.as_bytes());
        ids.close();
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

/// A source that counts what it hands out.
struct Counting<R> {
    inner: R,
    read: std::rc::Rc<Cell<u64>>,
}
impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

/// Read an accounts file from `src`; the problems and the bytes read.
fn accounts_from(src: impl Read) -> (Vec<CsvProblem>, u64) {
    let read = std::rc::Rc::new(Cell::new(0));
    let mut out = Vec::new();
    let r = read_accounts_from(
        Counting {
            inner: src,
            read: std::rc::Rc::clone(&read),
        },
        &mut out,
    );
    if let Some((_, problems)) = r {
        problems.finish(&mut out);
    }
    (out, read.get())
}

#[test]
fn an_endless_line_is_refused_after_a_bounded_read() {
    // An endless header line, and an endless row after a good one: without a bound
    // the reader would grow its record until memory ran out.
    let endless_header = io::repeat(b'a');
    let endless_row =
        io::Cursor::new(b"account,cash,loan\na1,1,2\na2,".to_vec()).chain(io::repeat(b'7'));
    // A quoted field may hold line breaks: short lines, one endless record.
    let endless_quote = io::Cursor::new(b"account,cash,loan\n\"".to_vec()).chain(io::repeat(b'\n'));
    for (src, line) in [
        (Box::new(endless_header) as Box<dyn Read>, 1),
        (Box::new(endless_row), 3),
        (Box::new(endless_quote), 2),
    ] {
        let (out, read) = accounts_from(src);
        assert!(
            read <= MAX_LINE_BYTES + 4 * BUFFER_BYTES as u64,
            "read {read} bytes"
        );
        assert_eq!(out.len(), 1, "{out:?}");
        assert!(out[0].message.contains("longer than 1 MiB"), "{out:?}");
        assert_eq!(out[0].line, Some(line), "{out:?}");
    }
}

#[test]
fn long_fields_and_large_amounts_are_refused_and_quoted_short() {
    let long_id = "x".repeat(70_000);
    let (out, _) = accounts_from(io::Cursor::new(format!(
        "account,cash,loan\n{long_id},1,2\na2,1e300,3\na3,7,{long_id}\n"
    )));
    assert_eq!(out.len(), 3, "{out:?}");
    assert!(
        out[0]
            .message
            .contains("row 1, column `account`: the field is 70000 bytes long, more than 64 KiB"),
        "{out:?}"
    );
    assert_eq!((out[0].line, out[0].column), (Some(2), Some(1)));
    assert!(
        out[1]
            .message
            .contains("column `cash`: expected a number ≤ 1e15, found `1e300`"),
        "{out:?}"
    );
    assert!(out[2].message.contains("row 3, column `loan`"), "{out:?}");
    for p in &out {
        assert!(p.message.len() < 200, "{}", p.message);
    }
    // A header line of 100 KB is quoted in 80 characters.
    let (out, _) = accounts_from(io::Cursor::new(format!(
        "{},cash,loan\n",
        "h".repeat(100_000)
    )));
    assert!(out[0].message.contains("unexpected header `hhh"), "{out:?}");
    assert!(out[0].message.len() < 200, "{}", out[0].message.len());
}

#[test]
fn bad_rows_are_counted_as_rows() {
    // 15 rows with two bad cells each: ten rows listed (both cells), five counted.
    let mut text = String::from("account,cash,loan\n");
    for i in 0..15 {
        writeln!(text, "a{i},-1,-2").expect("write to a string");
    }
    let (out, _) = accounts_from(io::Cursor::new(text));
    assert_eq!(out.len(), 21, "{out:?}");
    assert_eq!(out[20].message, "… and 5 more bad rows");
}

#[test]
fn duplicate_accounts_name_rows_and_lines() {
    let errs = run(
        "dups",
        "account,cash,loan\na,1,1\nb,1,1\n\nc,1,1\na,1,1\n",
        "account,asset,shares\n",
    )
    .expect_err("bad");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(
        errs[0].message,
        "account `a` appears twice: rows 1 and 4 (lines 2 and 6)"
    );
    assert_eq!((errs[0].line, errs[0].column), (Some(6), Some(1)));
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

#[test]
fn crlf_files_give_the_same_lines_and_columns_as_lf() {
    // Excel writes CRLF; a bad row must be located at the line an editor shows.
    let accounts = "account,cash,loan\na1,10,50\na2,-3,0\n";
    let holdings = "account,asset,shares\na1,NVDA,5\na1,NVDX,1\n";
    for eol in ["\n", "\r\n"] {
        let errs = run(
            "crlf",
            &accounts.replace('\n', eol),
            &holdings.replace('\n', eol),
        )
        .expect_err("bad");
        assert_eq!(
            (errs[0].line, errs[0].column),
            (Some(3), Some(4)),
            "{eol:?}: {errs:?}"
        );
        let errs = run(
            "crlf-h",
            &accounts[..27].replace('\n', eol),
            &holdings.replace('\n', eol),
        )
        .expect_err("bad");
        assert_eq!(
            (errs[0].line, errs[0].column),
            (Some(3), Some(4)),
            "{eol:?}: {errs:?}"
        );
        // A duplicate account's lines are found again in the file, CRLF or not.
        let errs = run(
            "crlf-dup",
            &"account,cash,loan\na,1,1\nb,1,1\na,1,1\n".replace('\n', eol),
            &"account,asset,shares\n".replace('\n', eol),
        )
        .expect_err("dup");
        assert!(
            errs[0].message.ends_with("rows 1 and 3 (lines 2 and 4)"),
            "{eol:?}: {errs:?}"
        );
        assert_eq!(errs[0].line, Some(4), "{eol:?}");
    }
}

#[test]
fn a_utf8_bom_is_skipped_even_before_a_quoted_header() {
    let book = run(
        "bom",
        "\u{feff}\"account\",\"cash\",\"loan\"\r\na1,10,50\r\n",
        "\u{feff}account,asset,shares\r\na1,NVDA,5\r\n",
    )
    .expect("a BOM and a quoted header are fine");
    assert_eq!(book.cash, vec![10.0]);
    // Columns on the first line count from after the BOM, as an editor shows them.
    let errs = run(
        "bom-bad",
        "\u{feff}account,cash,lone\n",
        "account,asset,shares\n",
    )
    .expect_err("bad header");
    assert_eq!((errs[0].line, errs[0].column), (Some(1), Some(1)));
    assert!(errs[0].message.contains("`account,cash,lone`"), "{errs:?}");
}

#[test]
fn quoted_fields_read_as_rfc_4180_and_are_located_exactly() {
    // Quotes, an embedded comma and a doubled quote in ids; numbers quoted as Excel may.
    let book = run(
        "quoted",
        "account,cash,loan\n\"a,1\",\"10\",50\n\"say \"\"hi\"\"\",0,\"1.5\"\n",
        "account,asset,shares\n\"a,1\",\"NVDA\",5\n\"say \"\"hi\"\"\",AMD,\"2\"\n",
    )
    .expect("valid");
    assert_eq!(book.cash, vec![10.0, 0.0]);
    assert_eq!(book.loan, vec![50.0, 1.5]);
    assert_eq!(book.shares, vec![5.0, 2.0]);
    // The column is where the field starts on the line as written, quotes counted.
    let errs = run(
        "quoted-bad",
        "account,cash,loan\n\"a,1\",\"10\",50\n\"say \"\"hi\"\"\",\"x\",-1\n",
        "account,asset,shares\n",
    )
    .expect_err("bad");
    assert_eq!(errs.len(), 2, "{errs:?}");
    assert_eq!(
        (errs[0].line, errs[0].column),
        (Some(3), Some(14)),
        "{errs:?}"
    );
    assert!(
        errs[0]
            .message
            .contains("row 2 (account `say \"hi\"`), column `cash`: expected a number, found `x`"),
        "{errs:?}"
    );
    assert_eq!(
        (errs[1].line, errs[1].column),
        (Some(3), Some(18)),
        "{errs:?}"
    );
    // A quoted field spanning lines: the next row's line counts the line inside it.
    let errs = run(
        "quoted-nl",
        "account,cash,loan\n\"two\nlines\",1,1\nb,1,-2\n",
        "account,asset,shares\n",
    )
    .expect_err("bad");
    assert_eq!(
        (errs[0].line, errs[0].column),
        (Some(4), Some(5)),
        "{errs:?}"
    );
    // Holdings: the unknown asset after a quoted account with a comma.
    let errs = run(
        "quoted-h",
        "account,cash,loan\n\"a,1\",1,1\n",
        "account,asset,shares\r\n\"a,1\",NVDX,5\r\n",
    )
    .expect_err("bad");
    assert_eq!(
        (errs[0].line, errs[0].column),
        (Some(2), Some(7)),
        "{errs:?}"
    );
}

#[test]
fn the_asset_table_holds_every_id() {
    // 256 fixed slots missed about a fifth of the rows of a book over 500 assets.
    let ids: Vec<String> = (0..2_000).map(|i| format!("A{i}")).collect();
    let lookup = AssetLookup::new(
        ids.iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), AssetIx(i as u32))),
    );
    assert!(lookup.capacity() >= ids.len(), "{}", lookup.capacity());
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(lookup.get(id.as_bytes()), Some(AssetIx(i as u32)));
    }
    assert_eq!(lookup.get(b"A2000"), None);
}

#[test]
fn duplicates_across_chunks_and_buckets_match_a_map() {
    // Over 3 hashing chunks, every bucket used, empty ids among them.
    let n = 200_000usize;
    let mut ids = Ids::default();
    let id = |i: usize| match i % 9_973 {
        0 => String::new(),
        7 => format!("x{}", i % 5),
        _ => format!("a{i}"),
    };
    for i in 0..n {
        ids.buf.extend_from_slice(id(i).as_bytes());
        ids.close();
    }
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    let mut want = Vec::new();
    for i in 0..n {
        let s = id(i);
        if s.is_empty() {
            continue;
        }
        match first.get(&s) {
            Some(&f) => want.push((f, i)),
            None => {
                first.insert(s, i);
            }
        }
    }
    assert!(want.len() > 5, "{want:?}");
    assert_eq!(duplicates(&ids), want);
    // Hashes that collide: by length (a few values, one bucket, long chains of different
    // ids), and one hash for every id (one chain of all rows).
    assert_eq!(duplicates_with(&ids, |id| id.len() as u64), want);
    assert_eq!(duplicates_with(&ids, |_| 7 << 60), want);
}
