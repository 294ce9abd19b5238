//! Per-holder and per-lender views of a run: the holders that lost most, and each
//! lender's losses broken down by the borrower (or interbank debtor) that caused them.
//!
//! The JSON keys live on [`crate::run::LenderReport::by_borrower`]; this module builds
//! them and renders the tables and CSV rows.

use std::fmt::Write as _;

use delever_engine::LenderOutcome;
use delever_graph::{Network, NodeRef};
use serde::Serialize;

use crate::run::{HolderReport, LenderReport, RunReport};
use crate::text::{Table, num, pct, usd};

/// Rows the holder and lender tables show unless told otherwise (`--holders N`).
pub const DEFAULT_TOP: usize = 10;

/// One borrower's part of a lender's losses (JSON `lenders[].by_borrower[]`).
#[derive(Debug, Clone, Serialize)]
pub struct BorrowerLossReport {
    /// The borrower's id: a holder, or a lender that owed this one interbank.
    pub id: String,
    /// The borrower's holder kind, or `lender`.
    pub kind: &'static str,
    /// Its margin-loan shortfall borne by the lender, USD.
    pub borrower_losses_usd: f64,
    /// What it left unpaid of its interbank debt to the lender, USD.
    pub interbank_losses_usd: f64,
    /// The two together, USD.
    pub loss_usd: f64,
}

/// A lender's losses by borrower, largest first (ties in network order).
pub(crate) fn by_borrower(net: &Network, l: &LenderOutcome) -> Vec<BorrowerLossReport> {
    let mut rows: Vec<BorrowerLossReport> = l
        .by_debtor
        .iter()
        .filter_map(|d| {
            let (id, kind) = match d.debtor {
                NodeRef::Holder(h) => {
                    let x = net.holder(h);
                    (x.id.clone(), x.kind.tag().name())
                }
                NodeRef::Lender(k) => (net.lender(k).id.clone(), "lender"),
                NodeRef::Asset(_) => return None,
            };
            Some(BorrowerLossReport {
                id,
                kind,
                borrower_losses_usd: d.borrower_usd,
                interbank_losses_usd: d.interbank_usd,
                loss_usd: d.borrower_usd + d.interbank_usd,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.loss_usd.total_cmp(&a.loss_usd));
    rows
}

/// A holder's loss: the fall in its equity, `equity_before − equity_after`.
fn holder_loss(h: &HolderReport) -> f64 {
    h.equity_before - h.equity_after
}

/// `how many rows of n`, for a title: `top 10 of 57` or `all 7`.
fn of(shown: usize, n: usize) -> String {
    if shown < n {
        format!("top {shown} of {n}; --holders all for every one")
    } else {
        format!("all {n}")
    }
}

impl RunReport {
    /// Show `n` rows in the holder and per-lender tables (`usize::MAX`: all; 0: none).
    #[must_use]
    pub fn with_top_holders(mut self, n: usize) -> Self {
        self.top_holders = n;
        self
    }

    /// The holders that lost most (equity before − after), with a leading blank line;
    /// empty when none is to be shown.
    pub(crate) fn top_holders_table(&self) -> String {
        let n = self.top_holders.min(self.holders.len());
        if n == 0 {
            return String::new();
        }
        let mut order: Vec<&HolderReport> = self.holders.iter().collect();
        // Largest loss first; the sort is stable, so ties keep the scenario's order.
        order.sort_by(|a, b| holder_loss(b).total_cmp(&holder_loss(a)));
        let mut t = Table::new([
            "holder",
            "kind",
            "status",
            "equity before",
            "equity after",
            "loss",
            "loss %",
            "sales",
            "passed to creditors",
            "calls",
        ])
        .titled(format!("Holders by loss ({})", of(n, self.holders.len())))
        .left(1)
        .left(2);
        for h in order.into_iter().take(n) {
            let loss = holder_loss(h);
            t.row([
                h.id.clone(),
                h.kind.to_owned(),
                h.status.to_owned(),
                usd(h.equity_before),
                usd(h.equity_after),
                usd(loss),
                if h.equity_before > 0.0 {
                    pct(loss / h.equity_before)
                } else {
                    "—".to_owned()
                },
                usd(h.sales_usd),
                usd(h.lender_loss_usd),
                h.margin_calls.to_string(),
            ]);
        }
        format!("\n{}", t.render())
    }

    /// One table per lender that lost anything (largest loss first, at most the number
    /// of rows shown): its losses by borrower. Empty when no lender lost.
    pub(crate) fn lender_borrower_tables(&self) -> String {
        let n = self.top_holders;
        let mut losing: Vec<&LenderReport> = self
            .lenders
            .iter()
            .filter(|l| !l.by_borrower.is_empty())
            .collect();
        if n == 0 || losing.is_empty() {
            return String::new();
        }
        losing.sort_by(|a, b| {
            let t = |l: &LenderReport| l.borrower_losses_usd + l.interbank_losses_usd;
            t(b).total_cmp(&t(a))
        });
        let mut out = String::new();
        let lenders = losing.len();
        if lenders > n {
            let _ = writeln!(
                out,
                "\nLosses by borrower of the {n} lenders that lost most ({lenders} lost; --holders all for every one)"
            );
        }
        for l in losing.into_iter().take(n) {
            let total = l.borrower_losses_usd + l.interbank_losses_usd;
            let rows = l.by_borrower.len();
            let mut t = Table::new([
                "borrower",
                "kind",
                "margin loan shortfall",
                "unpaid interbank",
                "loss",
                "share",
            ])
            .titled(format!(
                "Lender {} lost {} ({} of its {} capital) — by borrower ({})",
                l.id,
                usd(total),
                if l.capital > 0.0 {
                    pct(total / l.capital)
                } else {
                    "—".to_owned()
                },
                usd(l.capital),
                of(n.min(rows), rows)
            ))
            .left(1);
            for b in l.by_borrower.iter().take(n) {
                t.row([
                    b.id.clone(),
                    b.kind.to_owned(),
                    usd(b.borrower_losses_usd),
                    usd(b.interbank_losses_usd),
                    usd(b.loss_usd),
                    crate::text::share(b.loss_usd, total),
                ]);
            }
            out.push('\n');
            out.push_str(&t.render());
        }
        out
    }

    /// CSV rows of the lenders' losses by borrower: scope `lender_borrower`, id
    /// `LENDER/BORROWER`.
    pub(crate) fn lender_borrower_csv(&self, put: &mut dyn FnMut(&str, &str, &str, String)) {
        for l in &self.lenders {
            for b in &l.by_borrower {
                let id = format!("{}/{}", l.id, b.id);
                put("lender_borrower", &id, "kind", b.kind.to_owned());
                put(
                    "lender_borrower",
                    &id,
                    "borrower_losses_usd",
                    num(b.borrower_losses_usd),
                );
                put(
                    "lender_borrower",
                    &id,
                    "interbank_losses_usd",
                    num(b.interbank_losses_usd),
                );
                put("lender_borrower", &id, "loss_usd", num(b.loss_usd));
            }
        }
    }
}
