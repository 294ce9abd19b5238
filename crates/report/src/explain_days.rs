//! `delever explain --holder` on a timeline: one holder's days — its balance sheet at each
//! close, what its rule did, its calls and their deadlines, its lender closing it out —
//! as a table with a line of narrative per day, or as JSON.
//!
//! A timeline's days carry balance sheets from one to the next, so they are not replayed
//! from prices (as an equilibrium's rounds are); every figure is the run's own
//! [`delever_engine::HolderDay`].

use std::fmt::Write as _;

use delever_engine::{HolderDay, Outcome, Status};
use delever_graph::{HolderIx, HolderKind, KindTag, Network};
use serde::Serialize;

use crate::explain::{ExplainResult, rule_text};
use crate::run::RunMeta;
use crate::text::{Table, usd};

/// The identity every row of a holder's days satisfies (JSON `identity`).
pub const EQUITY_IDENTITY: &str = "equity_usd = value_usd + cash_usd - debt_usd + other_usd";

/// A holder's timing rules and its lender's (JSON `timing`).
#[derive(Debug, Clone, Serialize)]
pub struct TimingReport {
    /// Trading days between a call and its deadline.
    pub cure_days: u32,
    /// Most it sells of one asset in a day, as a fraction of ADV (`null`: no cap).
    pub participation: Option<f64>,
    /// Funds: days between a return and the redemptions it draws.
    pub redemption_lag_days: u32,
    /// Its margin lender's delay before acting on it (`null`: not on margin).
    pub lender_delay_days: Option<u32>,
    /// Its lender's cap while closing it out, as a fraction of ADV (`null`: none).
    pub lender_participation: Option<f64>,
    /// Whether its lender closes out a borrower that misses a due call (`null`: not on
    /// margin).
    pub lender_close_out: Option<bool>,
}

/// One day of one holder (JSON `days[]`).
#[derive(Debug, Clone, Serialize)]
pub struct HolderDayReport {
    /// The day, from 0.
    pub day: u32,
    /// The run's price index at the close.
    pub price_index: f64,
    /// Holdings value at the close after the day's sales (ETFs: the exposure), USD.
    pub value_usd: f64,
    /// Cash after the day, USD.
    pub cash_usd: f64,
    /// Margin loan and other liabilities after the day, USD.
    pub debt_usd: f64,
    /// Everything else on the balance sheet, net, so that [`EQUITY_IDENTITY`] holds:
    /// illiquid assets and interbank claims less interbank debts; for a leveraged ETF, NAV
    /// less exposure and cash (its swaps' financing), USD.
    pub other_usd: f64,
    /// Equity after the day (ETFs: NAV), USD.
    pub equity_usd: f64,
    /// What its rule did today.
    pub status: &'static str,
    /// Net sales today at the close, USD (negative: bought).
    pub sales_usd: f64,
    /// Accounts in margin call today.
    pub calls: u64,
    /// Accounts whose call opened today.
    pub new_calls: u64,
    /// Accounts with a call open at the close.
    pub open_calls: u64,
    /// Accounts that defaulted today.
    pub new_defaults: u64,
    /// The day its open call falls due (`null`: none open).
    pub due_day: Option<u32>,
    /// In default: whether its lender is selling (`null`: not in default).
    pub closing_out: Option<bool>,
    /// Fresh cash deposited today, USD.
    pub cure_usd: f64,
    /// Redemptions paid today, USD.
    pub paid_out_usd: f64,
    /// Loss it passes to its lender or creditors at the close, USD.
    pub lender_loss_usd: f64,
    /// The day in words.
    pub narrative: String,
}

/// One holder's days on a timeline (`delever explain --holder` on a timeline run). Field
/// order is the JSON key order.
#[derive(Debug, Clone, Serialize)]
pub struct HolderDaysReport {
    /// Scenario name.
    pub scenario: String,
    /// Holder id.
    pub holder: String,
    /// Holder kind.
    pub kind: &'static str,
    /// Its margin lender's id, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lender: Option<String>,
    /// `timeline`.
    pub mode: &'static str,
    /// The rule it follows, in words.
    pub rule: String,
    /// Its timing rules.
    pub timing: TimingReport,
    /// How the run ended for it.
    pub result: ExplainResult,
    /// What every row of `days` adds up to.
    pub identity: &'static str,
    /// Day by day.
    pub days: Vec<HolderDayReport>,
    /// How the whole run ended.
    pub termination: &'static str,
}

/// A fraction as a short percentage: `30%`, `12.5%`.
fn share(x: f64) -> String {
    let v = x * 100.0;
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}%")
    } else {
        format!("{v:.1}%")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// What the narrative needs to know about the holder.
struct Who {
    /// A book or cohort: counts of accounts rather than one account's call.
    many: bool,
    etf: bool,
    /// Holds leveraged ETF shares: their maintenance is the fund's multiple of the base.
    etf_shares: bool,
    /// Margin maintenance and reset, if on margin.
    margin: Option<(f64, f64)>,
}

/// What the holder sold or bought today and why, in words (`None`: no trade).
fn sale_words(who: &Who, h: &HolderDay) -> Option<String> {
    if h.sales_usd > 0.0 {
        let why = if h.closing_out == Some(true) {
            " of collateral: its lender is closing it out".to_owned()
        } else if who.etf {
            " to rebalance at the close".to_owned()
        } else if h.status == Status::MarginCall
            && let Some((m, r)) = who.margin
        {
            let on_etf = if who.etf_shares {
                " (the fund's multiple of it on ETF shares)"
            } else {
                ""
            };
            if (m - r).abs() < 1e-12 {
                format!(" to restore {} maintenance{on_etf}", share(m))
            } else {
                format!(" to restore margin to its {} reset level{on_etf}", share(r))
            }
        } else if h.paid_out_usd > 0.0 {
            " to pay redemptions".to_owned()
        } else if matches!(h.status, Status::Defaulted | Status::Liquidated) {
            " (liquidation)".to_owned()
        } else {
            String::new()
        };
        Some(format!("sold {}{why}", usd(h.sales_usd)))
    } else if h.sales_usd < 0.0 {
        Some(format!(
            "bought {}{}",
            usd(-h.sales_usd),
            if who.etf {
                " to rebalance at the close"
            } else {
                ""
            }
        ))
    } else {
        None
    }
}

/// One day in words, from the day's figures and the day before's.
fn narrate(who: &Who, d: u32, h: &HolderDay, prev: Option<&HolderDay>, issued: &mut u32) -> String {
    let mut parts: Vec<String> = Vec::new();
    let maint = who
        .margin
        .map_or_else(String::new, |(m, _)| format!(" {} maintenance", share(m)));
    if who.many {
        if h.new_calls > 0 {
            parts.push(format!(
                "{} account{} newly called (equity below{maint})",
                h.new_calls,
                plural(h.new_calls)
            ));
        }
        if h.open_calls > 0 {
            parts.push(format!(
                "{} call{} open, waiting for {} deadline",
                h.open_calls,
                plural(h.open_calls),
                if h.open_calls == 1 { "its" } else { "their" }
            ));
        }
        if h.new_defaults > 0 {
            parts.push(format!(
                "{} account{} defaulted and liquidated by the broker",
                h.new_defaults,
                plural(h.new_defaults)
            ));
        }
    } else {
        let fell_due = prev.and_then(|p| p.due_day) == Some(d);
        if fell_due {
            parts.push(format!("the call issued on day {issued} fell due"));
        }
        if h.new_calls > 0 {
            *issued = d;
            match h.due_day {
                Some(due) if due > d => parts.push(format!(
                    "margin call (equity below{maint}), due on day {due}"
                )),
                _ => parts.push(format!("margin call (equity below{maint})")),
            }
        } else if let Some(due) = h.due_day
            && !fell_due
        {
            parts.push(format!(
                "the call issued on day {issued} is still open, due on day {due}"
            ));
        }
        if h.new_defaults > 0 {
            parts.push("defaulted (equity at or below zero)".to_owned());
        }
        if h.closing_out == Some(false) {
            parts.push("in default; its lender has not started selling yet".to_owned());
        }
    }
    if let Some(sale) = sale_words(who, h) {
        parts.push(sale);
    }
    if h.cure_usd > 0.0 {
        parts.push(format!("deposited {} of fresh cash", usd(h.cure_usd)));
    }
    if h.paid_out_usd > 0.0 {
        parts.push(format!("paid {} of redemptions", usd(h.paid_out_usd)));
    }
    if h.lender_loss_usd > 0.0 && prev.is_none_or(|p| p.lender_loss_usd != h.lender_loss_usd) {
        parts.push(format!(
            "the loss it passes to its lender stands at {}",
            usd(h.lender_loss_usd)
        ));
    }
    if parts.is_empty() {
        parts.push("nothing to do".to_owned());
    }
    format!("day {d}: {}", parts.join("; "))
}

/// What a day's balance sheet holds besides holdings, cash and debt, net: the rest of
/// `equity − (value + cash − debt)`. A float residual (below 1e-12 of the balance sheet)
/// is zero: it is no item, and would print as "-$0.00".
fn other(x: &HolderDay) -> f64 {
    let o = x.equity - (x.value + x.cash - x.debt);
    let size = x.value.abs() + x.cash.abs() + x.debt.abs() + x.equity.abs();
    if o.abs() <= 1e-12 * size { 0.0 } else { o }
}

impl HolderDaysReport {
    /// One holder's days in a timeline run of `net` (no days when the run is not a
    /// timeline: the equilibrium's `ExplainReport` explains those).
    pub fn new(meta: &RunMeta, net: &Network, outcome: &Outcome, holder: HolderIx) -> Self {
        let h = net.holder(holder);
        let i = holder.get();
        let link = net.margin(holder);
        let lender = link.map(|m| net.lender(m.lender));
        let who = Who {
            many: matches!(
                h.kind,
                HolderKind::MarginCohort { .. } | HolderKind::AccountBook { .. }
            ),
            etf: h.kind.tag() == KindTag::LeveragedEtf,
            etf_shares: !net.etf_holdings(holder).is_empty()
                || matches!(&h.kind, HolderKind::AccountBook { book, .. }
                    if book.assets.iter().any(|a| a.get() >= net.assets().len())),
            margin: link.map(|m| (m.terms.maintenance, m.terms.reset)),
        };
        let fin = outcome.holders.get(i);
        let mut issued = 0u32;
        let mut prev: Option<&HolderDay> = None;
        let mut days = Vec::with_capacity(outcome.days.len());
        for d in &outcome.days {
            let Some(x) = d.holders.get(i) else { continue };
            let narrative = narrate(&who, d.day, x, prev, &mut issued);
            days.push(HolderDayReport {
                day: d.day,
                price_index: d.price_index,
                value_usd: x.value,
                cash_usd: x.cash,
                debt_usd: x.debt,
                other_usd: other(x),
                equity_usd: x.equity,
                status: x.status.name(),
                sales_usd: x.sales_usd,
                calls: x.calls,
                new_calls: x.new_calls,
                open_calls: x.open_calls,
                new_defaults: x.new_defaults,
                due_day: x.due_day,
                closing_out: x.closing_out,
                cure_usd: x.cure_usd,
                paid_out_usd: x.paid_out_usd,
                lender_loss_usd: x.lender_loss_usd,
                narrative,
            });
            prev = Some(x);
        }
        HolderDaysReport {
            scenario: meta.name.clone(),
            holder: h.id.clone(),
            kind: h.kind.tag().name(),
            lender: lender.map(|l| l.id.clone()),
            mode: outcome.mode.name(),
            rule: rule_text(&h.kind, link.is_some()),
            timing: TimingReport {
                cure_days: h.timing.cure_days,
                participation: h.timing.participation,
                redemption_lag_days: h.timing.redemption_lag_days,
                lender_delay_days: lender.map(|l| l.liquidation.delay_days),
                lender_participation: lender.and_then(|l| l.liquidation.participation),
                lender_close_out: lender.map(|l| l.liquidation.close_out),
            },
            result: ExplainResult {
                status: fin.map_or(Status::Unaffected, |x| x.status).name(),
                sales_usd: fin.map_or(0.0, |x| x.sales_usd),
                equity_before_usd: fin.map_or(0.0, |x| x.equity_before),
                equity_after_usd: fin.map_or(0.0, |x| x.equity_after),
                lender_loss_usd: fin.map_or(0.0, |x| x.lender_loss_usd),
                borrower_shortfall_usd: fin.map_or(0.0, |x| x.borrower_shortfall_usd),
                interbank_unpaid_usd: fin.map_or(0.0, |x| x.interbank_unpaid_usd),
            },
            identity: EQUITY_IDENTITY,
            days,
            termination: outcome.termination.name(),
        }
    }

    /// The JSON document, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        crate::text::positive_zeros(&crate::batch::versioned_json(self))
    }

    /// The holder, its rule, timing and result; its balance sheet at each close (a row
    /// adds up: equity = value + cash − debt + other); then the days in words.
    pub fn to_table(&self) -> String {
        let mut out = String::new();
        let _ = write!(
            out,
            "holder    {} ({})",
            self.holder,
            self.kind.replace('_', " ")
        );
        if let Some(l) = &self.lender {
            let _ = write!(out, ", on margin from {l}");
        }
        let _ = writeln!(
            out,
            "\nscenario  {} (timeline over {} day{}, {})",
            self.scenario,
            self.days.len(),
            if self.days.len() == 1 { "" } else { "s" },
            self.termination
        );
        let _ = writeln!(out, "rule      {}", self.rule);
        let _ = writeln!(out, "timing    {}", self.timing_text());
        let r = &self.result;
        let _ = writeln!(
            out,
            "result    final status {}; net sales {} over the days; equity {} before the shock, {} at the last close; {}",
            r.status,
            usd(r.sales_usd),
            usd(r.equity_before_usd),
            usd(r.equity_after_usd),
            r.losses_text()
        );
        out.push('\n');
        out.push_str(&self.day_table());
        out.push('\n');
        out.push_str("Day by day\n");
        for d in &self.days {
            let _ = writeln!(out, "{}", d.narrative);
        }
        out
    }

    /// The holder's and its lender's timing rules in words.
    fn timing_text(&self) -> String {
        let t = &self.timing;
        let mut parts = vec![if t.cure_days == 0 {
            "calls acted on the day they are issued".to_owned()
        } else {
            format!(
                "calls due {} trading day{} after they are issued",
                t.cure_days,
                plural(u64::from(t.cure_days))
            )
        }];
        if let Some(p) = t.participation {
            parts.push(format!("sells at most {} of ADV a day", share(p)));
        }
        if t.redemption_lag_days > 0 {
            parts.push(format!(
                "redemptions follow returns after {} day{}",
                t.redemption_lag_days,
                plural(u64::from(t.redemption_lag_days))
            ));
        }
        if let Some(delay) = t.lender_delay_days {
            let mut s = if delay == 0 {
                "its lender acts at once".to_owned()
            } else {
                format!(
                    "its lender acts after {delay} day{}",
                    plural(u64::from(delay))
                )
            };
            if let Some(p) = t.lender_participation {
                let _ = write!(s, " and sells at most {} of ADV a day", share(p));
            }
            if t.lender_close_out == Some(true) {
                s.push_str(", closing out a borrower that misses a due call");
            }
            parts.push(s);
        }
        parts.join("; ")
    }

    fn day_table(&self) -> String {
        let cure = self.days.iter().any(|d| d.cure_usd != 0.0);
        let paid = self.days.iter().any(|d| d.paid_out_usd != 0.0);
        let etf = self.kind == KindTag::LeveragedEtf.name();
        let mut head = vec![
            "day",
            "index",
            if etf { "exposure" } else { "value" },
            "cash",
            "debt",
            "other",
            if etf { "NAV" } else { "equity" },
            "status",
            "sales",
            "calls",
            "lender",
        ];
        if cure {
            head.push("cash cure");
        }
        if paid {
            head.push("redemptions");
        }
        head.push("lender loss");
        let mut t = Table::new(head)
            .titled(
                "Balance sheet at each close, after the day's sales (equity = value + cash − debt \
                 + other; other: illiquid assets and interbank items, for an ETF its swaps' financing)",
            )
            .left(7)
            .left(9)
            .left(10);
        for d in &self.days {
            let calls = match (d.due_day, d.open_calls, d.new_calls) {
                (Some(due), _, _) => format!("open, due day {due}"),
                (None, 0, 0) if d.calls > 0 => format!("{} called", d.calls),
                (None, 0, 0) => String::new(),
                (None, open, new) => format!("{new} new, {open} open"),
            };
            let lender = match d.closing_out {
                Some(true) => "selling",
                Some(false) => "waiting",
                None => "",
            };
            let mut row = vec![
                d.day.to_string(),
                format!("{:.4}", d.price_index),
                usd(d.value_usd),
                usd(d.cash_usd),
                usd(d.debt_usd),
                usd(d.other_usd),
                usd(d.equity_usd),
                d.status.to_owned(),
                usd(d.sales_usd),
                calls,
                lender.to_owned(),
            ];
            if cure {
                row.push(usd(d.cure_usd));
            }
            if paid {
                row.push(usd(d.paid_out_usd));
            }
            row.push(usd(d.lender_loss_usd));
            t.row(row);
        }
        t.render()
    }
}
