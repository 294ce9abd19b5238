//! The graph builder's problems, mapped back to the YAML paths (and CSV rows) they are about.

use delever_graph::{AssetIx, Problem, Subject};

use super::cx::{Cx, pending};
use super::{Pending, Place};
use crate::book;
use crate::index::{join_index, join_key};
use crate::spec::KindName;
use crate::suggest;

/// The builder's "accounts start with equity ≤ 0" for an account book, told again in
/// the CSV's terms: how many accounts, and the first ten by row and line.
pub(crate) fn book_solvency(cx: &Cx<'_>, p: &Problem) -> Option<Pending> {
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
    let base = cx
        .ids
        .get(id.as_str())
        .map(|(_, path)| path.clone())
        .unwrap_or_default();
    Some(pending(
        join_key(&base, "accounts_csv"),
        Place::File {
            file: file.name.clone(),
            line: lines.first().copied().flatten(),
            column: Some(1),
        },
        message,
        p.hint.clone(),
    ))
}

pub(crate) fn is_solvency(p: &Problem) -> bool {
    p.hint
        .as_deref()
        .is_some_and(|h| h.contains("starts_insolvent"))
}

pub(crate) fn subject_id(s: &Subject) -> &str {
    match s {
        Subject::Asset(id) | Subject::Holder(id) | Subject::Lender(id) => id,
        Subject::Holding { holder, .. } => holder,
        Subject::Loan { borrower, .. } => borrower,
        Subject::Claim { debtor, .. } => debtor,
    }
}

/// The YAML path of a builder problem.
#[allow(clippy::too_many_lines)] // one arm per kind of builder subject
pub(crate) fn map_problem(cx: &Cx<'_>, p: Problem) -> Pending {
    let spec = cx.spec;
    let node_path = |id: &str| cx.ids.get(id).map(|(_, path)| path.clone());
    let mut place = Place::Value;
    let mut message = p.message;
    let mut hint = p.hint;
    let path = match &p.subject {
        Subject::Asset(id) => {
            let base = node_path(id).unwrap_or_default();
            let own_impact = spec
                .assets
                .iter()
                .find(|a| &a.id == id)
                .is_some_and(|a| a.impact.is_some());
            match p.field.strip_prefix("impact.") {
                Some(rest)
                    if !own_impact
                        && spec.defaults.as_ref().is_some_and(|d| d.impact.is_some()) =>
                {
                    join_key("defaults.impact", rest)
                }
                _ => join_key(&base, &p.field),
            }
        }
        Subject::Lender(id) => join_key(&node_path(id).unwrap_or_default(), &p.field),
        Subject::Holder(id) => {
            let base = node_path(id).unwrap_or_default();
            let h = cx
                .holder_meta
                .get(id.as_str())
                .and_then(|m| spec.holders.get(m.index));
            let is_book = h.is_some_and(|h| h.kind == KindName::AccountBook);
            if p.field.is_empty() {
                base
            } else if is_book && p.field.starts_with("accounts") {
                // A row of the accounts CSV (`accounts[r].cash`) or the book as a whole.
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
                join_key(&base, "accounts_csv")
            } else if p.field == "cure_rate" && h.is_some_and(|h| h.cure_rate.is_none()) {
                if spec
                    .defaults
                    .as_ref()
                    .is_some_and(|d| d.cure_rate.is_some())
                {
                    "defaults.cure_rate".into()
                } else {
                    base
                }
            } else {
                if p.field.starts_with("basket.") && message.starts_with("unknown asset") {
                    place = Place::Key;
                    let name = p.field.trim_start_matches("basket.");
                    hint = Some(suggest::hint_for(name, cx.assets.keys().copied(), "assets"));
                }
                join_key(&base, &p.field)
            }
        }
        Subject::Holding { holder, asset } => {
            let base = node_path(holder).unwrap_or_default();
            let j = spec
                .holders
                .iter()
                .find(|h| &h.id == holder)
                .and_then(|h| h.holdings.as_ref())
                .and_then(|hs| hs.iter().position(|x| &x.asset == asset));
            match j {
                Some(j) => join_key(&join_index(&join_key(&base, "holdings"), j), &p.field),
                None => join_key(&base, "holdings"),
            }
        }
        Subject::Loan { borrower, .. } => {
            let base = join_key(&node_path(borrower).unwrap_or_default(), "margin");
            match p.field.as_str() {
                "lender" => join_key(&base, "lender"),
                "borrower" | "margin" => base,
                f => join_key(&base, f.strip_prefix("margin.").unwrap_or(f)),
            }
        }
        Subject::Claim { debtor, creditor } => {
            let base = node_path(debtor).unwrap_or_default();
            let list = spec
                .holders
                .iter()
                .find(|h| &h.id == debtor)
                .and_then(|h| h.owes.as_ref())
                .or_else(|| {
                    spec.lenders
                        .iter()
                        .find(|l| &l.id == debtor)
                        .and_then(|l| l.owes.as_ref())
                });
            let j = list.and_then(|l| l.iter().position(|o| &o.creditor == creditor));
            match (j, p.field.as_str()) {
                (Some(j), "creditor" | "amount") => {
                    join_key(&join_index(&join_key(&base, "owes"), j), &p.field)
                }
                _ => join_key(&base, "owes"),
            }
        }
    };
    pending(path, place, message, hint)
}
