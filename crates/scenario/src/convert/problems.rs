//! The graph builder's problems, mapped back to the YAML paths (and CSV rows) they are about.

use delever_graph::{Problem, Subject};

use super::cx::{Cx, pending};
use super::{Pending, Place};
use crate::index::{join_index, join_key};
use crate::kinds;

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
    let node_path = |id: &str| cx.ids.get(id).map(|(k, i)| k.path(*i));
    // A kind may tell problems with its own parts in its own terms (an account book's rows).
    if let Subject::Holder(id) = &p.subject
        && let Some(h) = cx
            .holder_meta(id.as_str())
            .and_then(|m| spec.holders.get(m.index))
        && let Some(own) = kinds::of(h.kind).problem
        && let Some(pend) = own(cx, &p, &node_path(id).unwrap_or_default())
    {
        return pend;
    }
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
                .holder_meta(id.as_str())
                .and_then(|m| spec.holders.get(m.index));
            if p.field.is_empty() {
                base
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
    pending(path, Place::Value, p.message, p.hint)
}
