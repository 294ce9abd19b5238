//! Holder tables (`holder_tables:`): banks, funds, leveraged funds and margin accounts read
//! from CSV, Parquet or Arrow IPC tables, one row a holder with the holder keys as columns,
//! their holdings in a second table (`holder,asset,shares,usd`).
//!
//! Each row becomes the same [`HolderSpec`] a YAML holder deserialises to; the rows are
//! appended after the YAML holders and converted and validated by the same code. What
//! only a table can get wrong (a column name, a cell that is not a number, a holdings row
//! naming no holder of the table) is found here, before conversion, and stops the load.
//! A problem the conversion finds with a table holder comes back with a YAML path into a
//! holder that has no YAML (`holders[7].margin.maintenance`): [`Placed::relocate`] turns it
//! into the file, line and column of the cell (CSV) or the row and column name (Parquet,
//! Arrow), naming the holder.

mod read;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

use crate::book::BookFormat;
use crate::convert::{Origin, Pending, Place, pending, resolve_include};
use crate::error::clip;
use crate::index::{join_index, join_key};
use crate::kinds::RuleName;
use crate::spec::{HolderSpec, HolderTableSpec, KindName, ScenarioSpec};
use crate::suggest;

use read::{Lines, Table};

mod rows;

/// The columns a holders table may have.
pub(crate) const HOLDER_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "cash",
    "other_assets",
    "other_liabilities",
    "sale_order",
    "cash_use",
    "starts_insolvent",
    "source",
    "lender",
    "loan",
    "maintenance",
    "reset",
    "cure_rate",
    "redemption_beta",
    "default_below_ratio",
    "rule",
    "rule_target",
    "rule_max",
    "rule_min_ratio",
    "rule_symmetric",
    "cure_days",
    "participation",
    "redemption_lag_days",
];

/// The columns a holdings table may have.
pub(crate) const HOLDING_COLUMNS: &[&str] = &["holder", "asset", "shares", "usd"];

/// The kinds a table may hold.
pub(crate) const TABLE_KINDS: &[KindName] = &[
    KindName::Bank,
    KindName::Fund,
    KindName::LeveragedFund,
    KindName::MarginAccount,
];

/// Bad rows listed per file before the rest are only counted (as for account books).
const MAX_BAD_ROWS: usize = 10;

/// One file of a holder table, kept to place problems in it.
#[derive(Debug)]
struct TableFile {
    /// Its name in messages (as the scenario names it, from the scenario's directory).
    name: String,
    /// The scenario path of its key: `holder_tables[0].holders_csv`.
    key_path: String,
    columns: Vec<String>,
    /// Per name length below 32, the first 64 columns of that length (bit `i` for column
    /// `i`): a row's cells are looked up by name two dozen times, mostly for columns the
    /// table does not have, which this answers without comparing a name.
    by_len: [u64; 32],
    lines: Option<Lines>,
}

impl TableFile {
    fn new(name: String, key_path: String, columns: Vec<String>, lines: Option<Lines>) -> Self {
        let mut by_len = [0u64; 32];
        for (i, c) in columns.iter().enumerate().take(64) {
            if let Some(bits) = by_len.get_mut(c.len()) {
                *bits |= 1 << i;
            }
        }
        TableFile {
            name,
            key_path,
            columns,
            by_len,
            lines,
        }
    }

    /// Index of the first column named `name`.
    fn column(&self, name: &str) -> Option<usize> {
        match self.by_len.get(name.len()) {
            Some(&bits) if self.columns.len() <= 64 => {
                let mut bits = bits;
                while bits != 0 {
                    let i = bits.trailing_zeros() as usize;
                    if self.columns.get(i).is_some_and(|c| c == name) {
                        return Some(i);
                    }
                    bits &= bits - 1;
                }
                None
            }
            _ => self.columns.iter().position(|c| c == name),
        }
    }

    /// File, line and column of `column` in data row `row` (1-based); the row's start
    /// when the table has no such column; no line in a binary table.
    fn place(&self, row: usize, column: &str) -> Place {
        let field = self.column(column);
        let (line, col) = match &self.lines {
            Some(l) => {
                let (line, col) = l.place(row, field.unwrap_or(0));
                (line, if field.is_some() { col } else { Some(1) })
            }
            None => (None, None),
        };
        Place::File {
            file: self.name.clone(),
            line,
            column: col,
        }
    }
}

/// Where a table holder came from.
#[derive(Debug)]
struct RowOrigin {
    /// Its holders file (an index into [`Placed::files`]) and data row.
    file: usize,
    row: usize,
    /// Its holdings' file and row, in the order of its `holdings`.
    holdings: Vec<(usize, usize)>,
}

/// Where every table holder came from: what [`Placed::relocate`] needs.
#[derive(Debug, Default)]
pub(crate) struct Placed {
    /// Index of the first table holder in the scenario's holders.
    first: usize,
    files: Vec<TableFile>,
    holders: Vec<RowOrigin>,
}

/// Collects the problems of one file: every problem of the first [`MAX_BAD_ROWS`] bad
/// rows, and a count of the others.
struct Bad<'f> {
    file: &'f TableFile,
    problems: Vec<Pending>,
    rows: Vec<usize>,
    more: usize,
}

impl<'f> Bad<'f> {
    fn new(file: &'f TableFile) -> Self {
        Bad {
            file,
            problems: Vec::new(),
            rows: Vec::new(),
            more: 0,
        }
    }

    /// A problem in data row `row` (1-based) at `column`; `who` names the row.
    fn push(
        &mut self,
        row: usize,
        who: &str,
        column: &str,
        mut message: String,
        hint: Option<String>,
    ) {
        if !self.rows.contains(&row) {
            if self.rows.len() >= MAX_BAD_ROWS {
                self.more += 1;
                return;
            }
            self.rows.push(row);
        }
        message.insert_str(0, &format!("row {row}{who}, column `{column}`: "));
        self.problems.push(pending(
            self.file.key_path.clone(),
            self.file.place(row, column),
            message,
            hint,
        ));
    }

    /// A problem with the header (record 0) at `column`.
    fn header(&mut self, column: &str, message: String, hint: Option<String>) {
        let field = self.file.column(column);
        let (line, col) = match &self.file.lines {
            Some(l) => l.place(0, field.unwrap_or(0)),
            None => (None, None),
        };
        self.problems.push(pending(
            self.file.key_path.clone(),
            Place::File {
                file: self.file.name.clone(),
                line,
                column: col,
            },
            message,
            hint,
        ));
    }

    fn finish(mut self, out: &mut Vec<Pending>) {
        if self.more > 0 {
            self.problems.push(pending(
                self.file.key_path.clone(),
                Place::File {
                    file: self.file.name.clone(),
                    line: None,
                    column: None,
                },
                format!(
                    "… and {} more bad row{}",
                    self.more,
                    if self.more == 1 { "" } else { "s" }
                ),
                Some(format!(
                    "the first {MAX_BAD_ROWS} bad rows are listed; fix them and validate again"
                )),
            ));
        }
        out.append(&mut self.problems);
    }
}

/// The files of one `holder_tables` entry: its format, and the key and path of each table.
struct Entry {
    format: BookFormat,
    holders: (&'static str, String),
    holdings: Option<(&'static str, String)>,
}

/// The files of one `holder_tables` entry, the keys given checked.
fn entry_files(t: &HolderTableSpec, base: &str, out: &mut Vec<Pending>) -> Option<Entry> {
    let given: Vec<(&'static str, BookFormat, bool, &String)> = [
        ("holders_csv", BookFormat::Csv, true, &t.holders_csv),
        ("holdings_csv", BookFormat::Csv, false, &t.holdings_csv),
        (
            "holders_parquet",
            BookFormat::Parquet,
            true,
            &t.holders_parquet,
        ),
        (
            "holdings_parquet",
            BookFormat::Parquet,
            false,
            &t.holdings_parquet,
        ),
        ("holders_arrow", BookFormat::Arrow, true, &t.holders_arrow),
        (
            "holdings_arrow",
            BookFormat::Arrow,
            false,
            &t.holdings_arrow,
        ),
    ]
    .into_iter()
    .filter_map(|(k, f, h, v)| v.as_ref().map(|v| (k, f, h, v)))
    .collect();
    let holders: Vec<_> = given.iter().filter(|g| g.2).collect();
    let holdings: Vec<_> = given.iter().filter(|g| !g.2).collect();
    let err = |out: &mut Vec<Pending>, key: &str, message: String| {
        // The entry itself when no key is to blame, else the key.
        let (path, place) = if key.is_empty() {
            (base.to_owned(), Place::Value)
        } else {
            (join_key(base, key), Place::Key)
        };
        out.push(pending(
            path,
            place,
            message,
            Some("give `holders_csv` (and `holdings_csv`), or `holders_parquet` (and `holdings_parquet`), or `holders_arrow` (and `holdings_arrow`)".into()),
        ));
    };
    let [h] = holders.as_slice() else {
        match holders.as_slice() {
            [] => err(out, "", "a holder table needs a holders file".into()),
            [_, second, ..] => err(
                out,
                second.0,
                format!(
                    "a holder table has one holders file; `{}` is given too",
                    holders[0].0
                ),
            ),
            [_] => {}
        }
        return None;
    };
    let holdings = match holdings.as_slice() {
        [] => None,
        [g] if g.1 == h.1 => Some((g.0, g.3.clone())),
        [g] => {
            err(
                out,
                g.0,
                format!(
                    "`{}` is {} but `{}` is {}: give both tables in one format",
                    g.0,
                    g.1.name(),
                    h.0,
                    h.1.name()
                ),
            );
            return None;
        }
        [_, second, ..] => {
            err(
                out,
                second.0,
                format!(
                    "a holder table has one holdings file; `{}` is given too",
                    holdings[0].0
                ),
            );
            return None;
        }
    };
    Some(Entry {
        format: h.1,
        holders: (h.0, h.3.clone()),
        holdings,
    })
}

/// Read one file of a table; problems go to `out`.
fn open_table(
    base_dir: Option<&Path>,
    base: &str,
    key: &'static str,
    rel: &str,
    format: BookFormat,
    out: &mut Vec<Pending>,
) -> Option<(TableFile, read::Rows)> {
    let key_path = join_key(base, key);
    let (path, name) = match resolve_include(base_dir, rel) {
        Ok(r) => r,
        Err((msg, hint)) => {
            out.push(pending(key_path, Place::Value, msg, Some(hint)));
            return None;
        }
    };
    match read::read(Path::new(&path), format) {
        Ok(Table {
            columns,
            rows,
            lines,
        }) => Some((TableFile::new(name, key_path, columns, lines), rows)),
        Err((p, lines)) => {
            let (line, column) = match (&lines, p.at) {
                (Some(l), Some((record, field))) => l.place(record, field),
                _ => (None, None),
            };
            out.push(pending(
                key_path,
                Place::File {
                    file: name,
                    line,
                    column,
                },
                p.message,
                p.hint,
            ));
            None
        }
    }
}

/// Check a header against the columns a table may have; true when it is fine.
fn check_header(bad: &mut Bad<'_>, allowed: &[&str], required: &[&str], what: &str) -> bool {
    let before = bad.problems.len();
    let columns = bad.file.columns.clone();
    for (i, c) in columns.iter().enumerate() {
        if !allowed.contains(&c.as_str()) {
            let hint = suggest::did_you_mean(c, allowed.iter().copied()).map_or_else(
                || {
                    format!(
                        "the columns of {what} are {}",
                        suggest::list(allowed.iter().copied(), 40)
                    )
                },
                |k| format!("did you mean `{k}`?"),
            );
            let message = if c.is_empty() {
                format!("column {} has no name", i + 1)
            } else {
                format!("unknown column `{}` in {what}", clip(c))
            };
            bad.header(c, message, Some(hint));
        } else if columns.iter().position(|x| x == c) != Some(i) {
            bad.header(
                c,
                format!("column `{c}` appears twice"),
                Some("give each column once".into()),
            );
        }
    }
    for r in required {
        if !columns.iter().any(|c| c == r) {
            bad.header(
                columns.first().map_or("", String::as_str),
                format!("{what} has no column `{r}`"),
                Some(format!(
                    "the columns `{}` are required",
                    required.join("`, `")
                )),
            );
        }
    }
    bad.problems.len() == before
}

/// The holders of a holders table's rows (on every core when every row is clean), with
/// where each came from; the ids of rows with a problem go to `dropped`.
fn read_holders(
    (file, fi, rows): (&TableFile, usize, &read::Rows),
    bad: &mut Bad<'_>,
    dropped: &mut BTreeSet<String>,
    (holders, origins): (&mut Vec<HolderSpec>, &mut Vec<RowOrigin>),
) {
    if clean_holders((file, fi, rows), holders, origins) {
        return;
    }
    // A row with a problem: every row read again one by one, so that the problems are
    // reported in row order.
    for (r, cells) in rows.iter().enumerate() {
        if cells.is_empty() {
            continue;
        }
        let row = rows::Row {
            file,
            cells,
            n: r + 1,
        };
        match rows::holder(&row, bad) {
            (h, true) => {
                origins.push(RowOrigin {
                    file: fi,
                    row: r + 1,
                    holdings: Vec::new(),
                });
                holders.push(h);
            }
            (_, false) => {
                if let Some(id) = row.id() {
                    dropped.insert(id);
                }
            }
        }
    }
}

/// The holders of a table's rows, read on every core straight into `holders` (a holder is
/// large: it is written once, in place), with their origins; `false`, with `holders` and
/// `origins` as they were, when a row has a problem (the caller then reads the rows one by
/// one and reports them in order).
fn clean_holders(
    (file, fi, rows): (&TableFile, usize, &read::Rows),
    holders: &mut Vec<HolderSpec>,
    origins: &mut Vec<RowOrigin>,
) -> bool {
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    let failed = AtomicBool::new(false);
    let (start, origins_start) = (holders.len(), origins.len());
    // A blank row (no holder) is read too, so that the rows stay indexed; it is dropped below.
    holders.par_extend(
        rows.par_iter()
            .enumerate()
            .with_min_len(1024)
            .map(|(r, cells)| {
                let mut bad = Bad::new(file);
                let row = rows::Row {
                    file,
                    cells,
                    n: r + 1,
                };
                let (h, ok) = rows::holder(&row, &mut bad);
                if !cells.is_empty() && (!ok || !bad.problems.is_empty() || bad.more > 0) {
                    failed.store(true, Ordering::Relaxed);
                }
                h
            }),
    );
    if failed.load(Ordering::Relaxed) {
        holders.truncate(start);
        return false;
    }
    origins.par_extend(
        holders[start..]
            .par_iter()
            .enumerate()
            .with_min_len(1024)
            .map(|(r, _)| RowOrigin {
                file: fi,
                row: r + 1,
                holdings: Vec::new(),
            }),
    );
    if rows.iter().any(<[read::Cell]>::is_empty) {
        drop_blank(holders, start, rows);
        drop_blank(origins, origins_start, rows);
    }
    true
}

/// Remove from `v[from..]` (one item per row of `rows`) the items of blank rows.
fn drop_blank<T>(v: &mut Vec<T>, from: usize, rows: &read::Rows) {
    let mut i = 0;
    v.retain(|_| {
        // An earlier table's item, or row `i - from` of this one.
        let keep = i < from || rows.get(i - from).is_some_and(|c| !c.is_empty());
        i += 1;
        keep
    });
}

/// Read every holder table of `spec`: the holders, in table and row order, to append after
/// the YAML holders, and where each came from. Any problem stops the load.
pub(crate) fn load(
    spec: &ScenarioSpec,
    origin: &Origin<'_>,
) -> Result<(Vec<HolderSpec>, Placed), Vec<Pending>> {
    let mut placed = Placed {
        first: spec.holders.len(),
        ..Placed::default()
    };
    let mut holders = Vec::new();
    let mut out = Vec::new();
    for (t, entry) in spec.holder_tables.iter().enumerate() {
        let base = join_index("holder_tables", t);
        let Some(Entry {
            format,
            holders: (hkey, hrel),
            holdings,
        }) = entry_files(entry, &base, &mut out)
        else {
            continue;
        };
        // The two files are read side by side; their problems are kept in file order.
        let (dir, mut later) = (origin.base_dir, Vec::new());
        let (holders_table, holdings_table) = rayon::join(
            || open_table(dir, &base, hkey, &hrel, format, &mut out),
            || {
                holdings
                    .and_then(|(key, rel)| open_table(dir, &base, key, &rel, format, &mut later))
            },
        );
        // As when read one after the other: a holders file that cannot be read stops the
        // entry before its holdings file is looked at.
        let Some((file, rows)) = holders_table else {
            continue;
        };
        out.append(&mut later);
        let first_row = holders.len();
        let fi = placed.files.len();
        placed.files.push(file);
        let Some(file) = placed.files.last() else {
            continue;
        };
        let mut bad = Bad::new(file);
        // Ids of rows already reported: their holdings rows are not reported again.
        let mut dropped = BTreeSet::new();
        let header_ok = check_header(&mut bad, HOLDER_COLUMNS, &["id", "kind"], "a holders table");
        if header_ok {
            // A HolderSpec is large: grown by doubling, the list was copied over and over.
            holders.reserve(rows.len());
            placed.holders.reserve(rows.len());
            read_holders(
                (file, fi, &rows),
                &mut bad,
                &mut dropped,
                (&mut holders, &mut placed.holders),
            );
        }
        bad.finish(&mut out);
        // A holdings table is read only against a holders table whose header was read.
        if let Some((hfile, hrows)) = holdings_table.filter(|_| header_ok) {
            let hi = placed.files.len();
            placed.files.push(hfile);
            let (files, origins) = (&placed.files, &mut placed.holders);
            let holders_name = files.get(fi).map_or("", |f| f.name.as_str());
            if let Some(hfile) = files.get(hi) {
                let mut bad = Bad::new(hfile);
                if check_header(
                    &mut bad,
                    HOLDING_COLUMNS,
                    &["holder", "asset"],
                    "a holdings table",
                ) {
                    rows::holdings(
                        &hrows,
                        hfile,
                        hi,
                        (&mut holders[first_row..], &mut origins[first_row..]),
                        (spec, holders_name, &dropped),
                        &mut bad,
                    );
                }
                bad.finish(&mut out);
            }
        }
    }
    if out.is_empty() {
        Ok((holders, placed))
    } else {
        Err(out)
    }
}

impl Placed {
    /// A problem the conversion found, placed in the table a holder came from when it
    /// is about a table holder (or mentions one); others are returned unchanged.
    /// `holders` are the scenario's, table holders included (a message names the holder).
    pub(crate) fn relocate(&self, mut p: Pending, holders: &[HolderSpec]) -> Pending {
        p.message = self.mentions(&p.message);
        p.hint = p.hint.map(|h| self.mentions(&h));
        let Some((n, rest)) = holder_index(&p.path) else {
            return p;
        };
        let Some(o) = n.checked_sub(self.first).and_then(|k| self.holders.get(k)) else {
            return p;
        };
        let (file, row, column) = match rest.strip_prefix(".holdings[") {
            Some(tail) => {
                let (j, after) = tail.split_once(']').unwrap_or((tail, ""));
                match j.parse::<usize>().ok().and_then(|j| o.holdings.get(j)) {
                    Some(&(f, r)) => (f, r, after.strip_prefix('.').unwrap_or("asset").to_owned()),
                    None => (o.file, o.row, "id".to_owned()),
                }
            }
            None => (o.file, o.row, column_of(rest)),
        };
        let Some(file) = self.files.get(file) else {
            return p;
        };
        let (message, hint) = table_terms(&p.message, p.hint, &column);
        Pending {
            path: file.key_path.clone(),
            place: file.place(row, &column),
            message: format!(
                "row {row} (holder `{}`), column `{column}`: {message}",
                clip(holders.get(n).map_or("", |h| h.id.as_str()))
            ),
            hint,
        }
    }

    /// `text` with each mention of a table holder's path (`holders[7]`) replaced by its
    /// file and row.
    fn mentions(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("holders[") {
            let (before, from) = rest.split_at(at);
            out.push_str(before);
            let tail = &from["holders[".len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            let o = tail
                .get(..digits)
                .and_then(|d| d.parse::<usize>().ok())
                .filter(|_| tail.as_bytes().get(digits) == Some(&b']'))
                .and_then(|n| n.checked_sub(self.first))
                .and_then(|k| self.holders.get(k));
            let after = tail.get(digits + 1..);
            if let Some((o, f, after)) = o.and_then(|o| Some((o, self.files.get(o.file)?, after?)))
            {
                let _ = write!(out, "`{}` row {}", f.name, o.row);
                rest = after;
            } else {
                out.push_str("holders[");
                rest = tail;
            }
        }
        out.push_str(rest);
        out
    }
}

/// `holders[7].margin.loan` → (7, ".margin.loan").
fn holder_index(path: &str) -> Option<(usize, &str)> {
    let tail = path.strip_prefix("holders[")?;
    let (n, rest) = tail.split_once(']')?;
    Some((n.parse().ok()?, rest))
}

/// The column a holder's path below it names: `.margin.loan` → `loan`, `.rule.max` →
/// `rule_max`, `.rule` → `rule`; the `id` column for the holder itself.
fn column_of(rest: &str) -> String {
    let rest = rest.strip_prefix('.').unwrap_or(rest);
    let (head, tail) = rest.split_once('.').unwrap_or((rest, ""));
    match (head, tail) {
        ("margin", "") => "lender".into(),
        ("margin", k) => k.split('.').next().unwrap_or(k).into(),
        ("rule", "" | "type") => "rule".into(),
        ("rule", k) => format!("rule_{k}"),
        (k, _) if HOLDER_COLUMNS.contains(&k) => k.into(),
        _ => "id".into(),
    }
}

/// A conversion message and hint in a table's terms: a missing key is an empty cell, a
/// key that does not apply is a cell to empty.
fn table_terms(message: &str, hint: Option<String>, column: &str) -> (String, Option<String>) {
    if let Some(rest) = message.strip_prefix("missing required key ") {
        let (key, who) = rest.split_once(" for ").unwrap_or((rest, "this holder"));
        return match key {
            "`margin`" => (
                format!("{who} needs a margin loan, and `lender`, `loan` and `maintenance` are empty"),
                Some("fill `lender` (a lender's id), `loan` (USD) and `maintenance` (a fraction in (0, 1], e.g. 0.30)".into()),
            ),
            "`rule`" => (
                format!("{who} needs a deleveraging rule, and `rule` is empty"),
                Some(format!(
                    "write the rule's type in `rule` ({}) and its parameters in `rule_target`, `rule_max`, `rule_min_ratio` or `rule_symmetric`",
                    rule_names().join(", ")
                )),
            ),
            _ => (format!("{who} needs `{column}`, and the cell is empty"), hint),
        };
    }
    if message.contains("does not apply to") {
        return (
            message.to_owned(),
            Some(format!(
                "empty `{column}` in this row, or change its `{}`",
                if column.starts_with("rule_") {
                    "rule"
                } else {
                    "kind"
                }
            )),
        );
    }
    (message.to_owned(), hint)
}

fn rule_names() -> Vec<&'static str> {
    [
        RuleName::LeverageTarget,
        RuleName::Threshold,
        RuleName::FailLiquidate,
        RuleName::CapitalRatio,
        RuleName::Passive,
    ]
    .into_iter()
    .map(RuleName::name)
    .collect()
}

#[cfg(test)]
mod tests;
