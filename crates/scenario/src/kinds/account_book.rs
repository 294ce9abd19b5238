//! `account_book`: explicit accounts read from two CSV files beside the scenario; its loan
//! is the sum of their loans, and problems with its rows are told by file, row and line.

use std::sync::Arc;

use delever_graph::{AccountBook, AssetIx, HolderKind, Problem, Subject};

use super::{Kind, Make, cure_rate};
use crate::book;
use crate::convert::{Cx, Pending, Place, is_solvency, load_book, pending};
use crate::index::join_key;
use crate::spec::{HolderSpec, KindName};

const THIS: &[KindName] = &[KindName::AccountBook];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("cure_rate", THIS),
        ("accounts_csv", THIS),
        ("holdings_csv", THIS),
        ("cure_days", THIS),
        ("margin", THIS),
    ],
    required: &[
        (
            "accounts_csv",
            "a CSV with header `account,cash,loan`, relative to the scenario",
        ),
        (
            "holdings_csv",
            "a CSV with header `account,asset,shares`, relative to the scenario",
        ),
        (
            "margin",
            "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
        ),
    ],
    derived_loan: Some("the loan is the sum of the `loan` column of `accounts_csv`"),
    redeemable: false,
    convert,
    problem: Some(problem),
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let cure_rate = cure_rate(cx, h);
    let book = match (&h.accounts_csv, &h.holdings_csv) {
        (Some(a), Some(hc)) => {
            let (book, file) = load_book(cx, make.base, make.origin, a, hc, make.lookup);
            make.accounts_file = file;
            book
        }
        _ => None,
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
    if let (Some(r), Some(file)) = (
        row,
        cx.holder_meta
            .get(id.as_str())
            .and_then(|m| m.accounts_file.clone()),
    ) {
        place = Place::File {
            file: file.name,
            line: Some(r + 2),
            column: None,
        };
        message = format!("row {}: {message}", r + 1);
    }
    Some(pending(
        join_key(base, "accounts_csv"),
        place,
        message,
        p.hint.clone(),
    ))
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
    let meta = cx.holder_meta.get(id.as_str())?;
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
    let lines = book::row_lines(&file.path, &rows);
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
        join_key(base, "accounts_csv"),
        Place::File {
            file: file.name.clone(),
            line: lines.first().copied().flatten(),
            column: Some(1),
        },
        message,
        p.hint.clone(),
    ))
}
