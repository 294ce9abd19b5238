//! `account_book`: explicit accounts read from two CSV files beside the scenario; its loan
//! is the sum of their loans, and problems with its rows are told by file, row and line.

use std::sync::Arc;

use delever_graph::{AccountBook, AssetIx, HolderKind, Problem, Subject};

use super::{Kind, Make, cure_rate};
use crate::book::{self, BookFormat};
use crate::convert::{Cx, Pending, Place, is_solvency, load_book, load_memory_book, pending};
use crate::index::join_key;
use crate::spec::{HolderSpec, KindName};

const THIS: &[KindName] = &[KindName::AccountBook];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("cure_rate", THIS),
        ("accounts_csv", THIS),
        ("holdings_csv", THIS),
        ("accounts_parquet", THIS),
        ("holdings_parquet", THIS),
        ("accounts_arrow", THIS),
        ("holdings_arrow", THIS),
        ("cure_days", THIS),
        ("margin", THIS),
    ],
    // The two tables are required in one of three formats: checked in `convert`.
    required: &[(
        "margin",
        "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
    )],
    derived_loan: Some("the loan is the sum of the `loan` column of the accounts table"),
    redeemable: false,
    convert,
    problem: Some(problem),
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let cure_rate = cure_rate(cx, h);
    let memory = make.origin.memory.and_then(|m| m.get(&h.id));
    let book = if let Some(memory) = memory {
        if let Some(key) = table_keys(h).first() {
            cx.err_key(
                join_key(make.base, key),
                format!(
                    "holder `{}` is given its tables in memory and also names `{key}`",
                    h.id
                ),
                Some("leave the table files out: the tables given in memory are the book".into()),
            );
            None
        } else {
            let (book, file) = load_memory_book(cx, make.base, memory, make.lookup);
            make.accounts_file = file;
            book
        }
    } else {
        match tables(cx, h, make.base) {
            Some((format, a, hc)) => {
                let (book, file) =
                    load_book(cx, make.base, make.origin, (a, hc), make.lookup, format);
                make.accounts_file = file;
                book
            }
            None => None,
        }
    };
    HolderKind::AccountBook {
        book: book.unwrap_or_else(|| {
            Arc::new(AccountBook {
                row_ptr: vec![0],
                ..AccountBook::default()
            })
        }),
        cure_rate,
    }
}

/// The table keys the holder gives, in the scenario's order.
fn table_keys(h: &HolderSpec) -> Vec<&'static str> {
    [
        ("accounts_csv", &h.rare().accounts_csv),
        ("holdings_csv", &h.rare().holdings_csv),
        ("accounts_parquet", &h.rare().accounts_parquet),
        ("holdings_parquet", &h.rare().holdings_parquet),
        ("accounts_arrow", &h.rare().accounts_arrow),
        ("holdings_arrow", &h.rare().holdings_arrow),
    ]
    .into_iter()
    .filter(|(_, v)| v.is_some())
    .map(|(k, _)| k)
    .collect()
}

/// The book's two tables: one accounts and one holdings table, in the same format. Each
/// other case is a located problem here.
fn tables<'h>(
    cx: &mut Cx<'_>,
    h: &'h HolderSpec,
    base: &str,
) -> Option<(BookFormat, &'h str, &'h str)> {
    let formats = [BookFormat::Csv, BookFormat::Parquet, BookFormat::Arrow];
    let given = |accounts: bool| -> Vec<(BookFormat, &'h str)> {
        formats
            .iter()
            .filter_map(|&f| {
                let v = match (f, accounts) {
                    (BookFormat::Csv, true) => &h.rare().accounts_csv,
                    (BookFormat::Csv, false) => &h.rare().holdings_csv,
                    (BookFormat::Parquet, true) => &h.rare().accounts_parquet,
                    (BookFormat::Parquet, false) => &h.rare().holdings_parquet,
                    (BookFormat::Arrow, true) => &h.rare().accounts_arrow,
                    (BookFormat::Arrow, false) => &h.rare().holdings_arrow,
                };
                v.as_deref().map(|p| (f, p))
            })
            .collect()
    };
    let (acc, hold) = (given(true), given(false));
    let mut ok = true;
    for (list, which, columns, pick) in [
        (&acc, "accounts", "account,cash,loan", 0usize),
        (&hold, "holdings", "account,asset,shares", 1),
    ] {
        let key = |f: BookFormat| if pick == 0 { f.keys().0 } else { f.keys().1 };
        match list.as_slice() {
            [] => {
                cx.missing(
                    join_key(base, key(BookFormat::Csv)),
                    "an account_book",
                    &format!(
                        "give the {which} table (columns `{columns}`) as `{}` (CSV), `{}` or `{}`, relative to the scenario",
                        key(BookFormat::Csv),
                        key(BookFormat::Parquet),
                        key(BookFormat::Arrow)
                    ),
                );
                cx.suppress
                    .insert((h.id.clone(), key(BookFormat::Csv).to_owned()));
                ok = false;
            }
            [_] => {}
            [(f1, _), (f2, _), ..] => {
                cx.err_key(
                    join_key(base, key(*f2)),
                    format!(
                        "the {which} table is given twice: `{}` and `{}`",
                        key(*f1),
                        key(*f2)
                    ),
                    Some(format!("keep one of them; a book has one {which} table")),
                );
                ok = false;
            }
        }
    }
    if !ok {
        return None;
    }
    let ([(fa, a)], [(fh, hc)]) = (acc.as_slice(), hold.as_slice()) else {
        return None;
    };
    if fa != fh {
        cx.err_key(
            join_key(base, fh.keys().1),
            format!(
                "the holdings table is {} but the accounts table is {} (`{}`)",
                fh.name(),
                fa.name(),
                fa.keys().0
            ),
            Some(format!(
                "give both tables in one format: `{}` and `{}`, or convert them with `delever convert`",
                fa.keys().0,
                fa.keys().1
            )),
        );
        return None;
    }
    Some((*fa, a, hc))
}

/// Builder problems with the book's accounts (`accounts[r].cash`, or the book as a whole)
/// are about the accounts CSV: told by row and line.
fn problem(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    if let Some(pend) = solvency(cx, p, base) {
        return Some(pend);
    }
    let Subject::Holder(id) = &p.subject else {
        return None;
    };
    if !p.field.starts_with("accounts") {
        return None;
    }
    let mut place = Place::Value;
    let mut message = p.message.clone();
    let row = p
        .field
        .strip_prefix("accounts[")
        .and_then(|r| r.split(']').next())
        .and_then(|r| r.parse::<usize>().ok());
    let file = cx
        .holder_meta(id.as_str())
        .and_then(|m| m.accounts_file.clone());
    let key = file.as_ref().map_or("accounts_csv", |f| f.key);
    if let (Some(r), Some(file)) = (row, file) {
        place = Place::File {
            file: file.name,
            // Binary tables have rows, not lines: the row is in the message.
            line: file.format.has_lines().then_some(r + 2),
            column: None,
        };
        message = format!("row {}: {message}", r + 1);
    }
    Some(pending(join_key(base, key), place, message, p.hint.clone()))
}

/// The builder's "accounts start with equity ≤ 0" for an account book, told again in
/// the CSV's terms: how many accounts, and the first ten by row and line.
fn solvency(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    const LISTED: usize = 10;
    let Subject::Holder(id) = &p.subject else {
        return None;
    };
    if !(is_solvency(p) && p.field.starts_with("accounts[")) {
        return None;
    }
    let meta = cx.holder_meta(id.as_str())?;
    let (book, file) = (meta.book.as_ref()?, meta.accounts_file.as_ref()?);
    let price = |a: AssetIx| cx.prices.get(a.get()).copied().unwrap_or(0.0);
    let mut rows = Vec::new();
    let mut count = 0usize;
    for r in 0..book.len() {
        let value: f64 = book.row(r).map(|(a, s)| s * price(a)).sum();
        if value + book.cash[r] - book.loan[r] <= 0.0 {
            count += 1;
            if rows.len() < LISTED {
                rows.push(r + 1);
            }
        }
    }
    if rows.is_empty() {
        return None;
    }
    let lines = if file.format.has_lines() {
        book::row_lines(&file.path, &rows)
    } else {
        vec![None; rows.len()]
    };
    let which = if count > LISTED {
        format!("the first {LISTED}: ")
    } else {
        String::new()
    };
    let message = format!(
        "{count} account{} start{} with equity ≤ 0 (holdings + cash − loan at pre-shock prices); {which}{}",
        if count == 1 { "" } else { "s" },
        if count == 1 { "s" } else { "" },
        book::rows_and_lines(&rows, &lines)
    );
    Some(pending(
        join_key(base, file.key),
        Place::File {
            file: file.name.clone(),
            line: lines.first().copied().flatten(),
            column: file.format.has_lines().then_some(1),
        },
        message,
        p.hint.clone(),
    ))
}
