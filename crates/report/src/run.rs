//! The report of one run: the JSON contract, and its table and CSV renderings.

use std::fmt::Write as _;

use delever_engine::Outcome;
use delever_graph::{KindTag, Network};
use serde::Serialize;

use crate::days::{DayReport, day_csv, day_table};
use crate::text::{Table, csv_field, num, pct, price, share, usd};

/// What the report says about the scenario itself.
#[derive(Debug, Clone, Default)]
pub struct RunMeta {
    /// Scenario name.
    pub name: String,
    /// Scenario description.
    pub description: String,
    /// The date the scenario's figures are as of.
    pub as_of: String,
}

/// Headline totals (JSON `totals`).
#[derive(Debug, Clone, Serialize)]
pub struct TotalsReport {
    /// Loss of all holders from the exogenous shock alone, USD.
    pub initial_loss_usd: f64,
    /// Loss at the fixed point, USD.
    pub total_loss_usd: f64,
    /// What the cascade adds to the shock: `total_loss_usd − initial_loss_usd`, USD.
    pub cascade_loss_usd: f64,
    /// `total_loss_usd / initial_loss_usd` (1 when the initial loss is 0).
    pub amplification: f64,
    /// Whether the ratio means something: the shock alone cost more than 1% of the total
    /// loss (`false`: read `cascade_loss_usd` instead; tables print no ratio).
    pub amplification_meaningful: bool,
    /// Net forced sales, USD, as each mode values them: equilibrium at the final prices,
    /// sequential at each round's mid price, timeline at each day's close (the days
    /// table's sum). The two keys below value the same sales on one basis in every mode.
    pub forced_sales_usd: f64,
    /// Net forced sales at the prices they were made at, USD: each round's additional
    /// sales at that round's execution price (equilibrium and each timeline day: the price
    /// the round's selling moved the market to; sequential: the round's mid price).
    pub forced_sales_at_sale_prices_usd: f64,
    /// Net forced sales at the final prices, USD: net shares sold times `price_after`,
    /// summed over the assets (near zero when the cascade drove a price to its floor).
    pub forced_sales_at_final_prices_usd: f64,
    /// Exogenous sales at sale prices, USD.
    pub exogenous_sales_usd: f64,
    /// Defaulted accounts, holders and lenders.
    pub defaults: u64,
    /// Margin calls, in accounts.
    pub margin_calls: u64,
    /// Losses borne by the scenario's lenders (the `lenders:` block): their borrower
    /// losses plus write-downs of the interbank claims they hold, USD (the lenders table's
    /// two loss columns summed). Interbank losses of holders are not in it.
    pub lender_losses_usd: f64,
    /// What margin borrowers could not repay their lenders, USD: holders'
    /// `borrower_shortfall_usd` summed (= lenders' `borrower_losses_usd` summed).
    pub borrower_shortfalls_usd: f64,
    /// Interbank claims left unpaid, whoever holds them, USD: holders'
    /// `interbank_unpaid_usd` summed plus lenders' own unpaid debts.
    pub interbank_losses_usd: f64,
    /// Cash deposited to meet calls, USD.
    pub cash_cures_usd: f64,
}

impl TotalsReport {
    /// The totals as CSV `(metric, value)` pairs, in JSON key order.
    fn csv_rows(&self) -> Vec<(&'static str, String)> {
        let t = self;
        vec![
            ("initial_loss_usd", num(t.initial_loss_usd)),
            ("total_loss_usd", num(t.total_loss_usd)),
            ("cascade_loss_usd", num(t.cascade_loss_usd)),
            ("amplification", num(t.amplification)),
            (
                "amplification_meaningful",
                t.amplification_meaningful.to_string(),
            ),
            ("forced_sales_usd", num(t.forced_sales_usd)),
            (
                "forced_sales_at_sale_prices_usd",
                num(t.forced_sales_at_sale_prices_usd),
            ),
            (
                "forced_sales_at_final_prices_usd",
                num(t.forced_sales_at_final_prices_usd),
            ),
            ("exogenous_sales_usd", num(t.exogenous_sales_usd)),
            ("defaults", t.defaults.to_string()),
            ("margin_calls", t.margin_calls.to_string()),
            ("lender_losses_usd", num(t.lender_losses_usd)),
            ("borrower_shortfalls_usd", num(t.borrower_shortfalls_usd)),
            ("interbank_losses_usd", num(t.interbank_losses_usd)),
            ("cash_cures_usd", num(t.cash_cures_usd)),
        ]
    }
}

/// The headline totals of an outcome.
fn totals(t: &delever_engine::Totals, o: &Outcome) -> TotalsReport {
    TotalsReport {
        initial_loss_usd: t.initial_loss_usd,
        total_loss_usd: t.total_loss_usd,
        cascade_loss_usd: t.total_loss_usd - t.initial_loss_usd,
        amplification: t.amplification,
        amplification_meaningful: amplification_meaningful(t.initial_loss_usd, t.total_loss_usd),
        forced_sales_usd: t.forced_sales_usd,
        forced_sales_at_sale_prices_usd: t.forced_sales_at_sale_prices_usd,
        forced_sales_at_final_prices_usd: o.assets.iter().map(at_final_prices).sum(),
        exogenous_sales_usd: t.exogenous_sales_usd,
        defaults: t.defaults,
        margin_calls: t.margin_calls,
        lender_losses_usd: t.lender_losses_usd,
        borrower_shortfalls_usd: t.borrower_shortfalls_usd,
        interbank_losses_usd: t.interbank_losses_usd,
        cash_cures_usd: t.cash_cures_usd,
    }
}

/// An asset's net forced sales at its final price, USD.
fn at_final_prices(a: &delever_engine::AssetOutcome) -> f64 {
    a.forced_sales_shares * a.price_after
}

/// Whether an amplification `total / initial` means something: the shock alone cost more
/// than 1% of the total loss. Below that (a Caccioli system whose first loss is one bank's
/// failure, a tiny shock) the ratio is large or undefined and says nothing.
pub fn amplification_meaningful(initial: f64, total: f64) -> bool {
    initial > 0.0 && initial >= 0.01 * total.abs()
}

/// One asset (JSON `assets[]`).
#[derive(Debug, Clone, Serialize)]
pub struct AssetReport {
    /// Asset id.
    pub id: String,
    /// Pre-shock price.
    pub price_before: f64,
    /// Price after the exogenous shock.
    pub price_shocked: f64,
    /// Price at the fixed point.
    pub price_after: f64,
    /// `price_after / price_before − 1`.
    pub drawdown: f64,
    /// Net shares sold by forced sellers.
    pub forced_sales_shares: f64,
    /// Net forced sales, USD, valued as `totals.forced_sales_usd` is.
    pub forced_sales_usd: f64,
    /// Net forced sales at the prices they were made at, USD (as the totals' key).
    pub forced_sales_at_sale_prices_usd: f64,
    /// `forced_sales_shares × price_after`, USD.
    pub forced_sales_at_final_prices_usd: f64,
}

/// One holder (JSON `holders[]`).
#[derive(Debug, Clone, Serialize)]
pub struct HolderReport {
    /// Holder id.
    pub id: String,
    /// Holder kind.
    pub kind: &'static str,
    /// Equity before the shock, USD.
    pub equity_before: f64,
    /// Equity after the exogenous shock, before the cascade, USD.
    pub equity_shocked: f64,
    /// Equity at the fixed point, USD.
    pub equity_after: f64,
    /// Net sales, USD.
    pub sales_usd: f64,
    /// Final status.
    pub status: &'static str,
    /// Loss passed to its lender and creditors, USD:
    /// `borrower_shortfall_usd + interbank_unpaid_usd`.
    pub lender_loss_usd: f64,
    /// What it could not repay its margin lender, USD.
    pub borrower_shortfall_usd: f64,
    /// What it left unpaid of its interbank debts, USD (its creditors' write-down).
    pub interbank_unpaid_usd: f64,
    /// Accounts called.
    pub margin_calls: u64,
    /// Accounts defaulted.
    pub defaults: u64,
}

/// One lender (JSON `lenders[]`).
#[derive(Debug, Clone, Serialize)]
pub struct LenderReport {
    /// Lender id.
    pub id: String,
    /// Capital, USD.
    pub capital: f64,
    /// Losses from borrower shortfalls, USD.
    pub borrower_losses_usd: f64,
    /// Losses on interbank claims, USD.
    pub interbank_losses_usd: f64,
    /// Whether it tightened margin.
    pub tightened: bool,
    /// Whether it defaulted.
    pub defaulted: bool,
    /// Its losses by borrower (and interbank debtor), largest first.
    pub by_borrower: Vec<crate::holders::BorrowerLossReport>,
}

/// One round (JSON `trace[]`).
#[derive(Debug, Clone, Serialize)]
pub struct RoundReport {
    /// The day of the round, from 0 (0 in the one-instant modes).
    pub day: u32,
    /// Round number, from 1 (within its day on a timeline).
    pub round: u32,
    /// Cumulative forced sales, USD.
    pub sales_usd: f64,
    /// Value of starting positions relative to pre-shock.
    pub price_index: f64,
    /// Accounts newly called.
    pub new_calls: u64,
    /// Accounts and holders newly defaulted.
    pub new_defaults: u64,
    /// Cumulative net forced sales as a fraction of all starting tradable holdings (both
    /// at pre-shock prices).
    pub fraction_sold: f64,
    /// Largest relative price change this round.
    pub residual: f64,
    /// Largest sellers: id and cumulative sales, USD.
    pub largest_sellers: Vec<(String, f64)>,
}

/// The least fixed point (JSON `least_fixed_point`).
#[derive(Debug, Clone, Serialize)]
pub struct LeastReport {
    /// Rounds it took.
    pub rounds: u32,
    /// How it stopped.
    pub termination: &'static str,
    /// Loss at that fixed point, USD.
    pub total_loss_usd: f64,
    /// Whether it differs from the greatest fixed point: some price differs by more than
    /// the equilibrium tolerance (`max(1e4·tolerance, 1e-9)`, relative).
    pub multiple_equilibria: bool,
    /// The largest relative price gap between the two fixed points.
    pub max_price_gap: f64,
}

/// The JSON report of a run. Field order is the key order of the JSON document.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The delever release that wrote the report ([`crate::DELEVER_VERSION`]).
    pub delever_version: &'static str,
    /// The JSON format's version ([`crate::JSON_FORMAT_VERSION`]).
    pub format_version: u32,
    /// Scenario name.
    pub scenario: String,
    /// `equilibrium` (the fixed point), `sequential` (rounds) or `timeline` (days).
    pub mode: &'static str,
    /// Why the iteration stopped.
    pub termination: &'static str,
    /// Rounds of the main iteration.
    pub rounds: u32,
    /// Final residual.
    pub residual: f64,
    /// Headline totals.
    pub totals: TotalsReport,
    /// Per asset.
    pub assets: Vec<AssetReport>,
    /// Per holder.
    pub holders: Vec<HolderReport>,
    /// Per lender.
    pub lenders: Vec<LenderReport>,
    /// Per round: every round up to the engine's trace limit (10,000), then the last (a
    /// timeline: every day's rounds in day order, each with its day).
    pub trace: Vec<RoundReport>,
    /// Rounds the trace leaves out (between the kept head and the last round); 0 when it
    /// is complete.
    pub trace_omitted_rounds: u32,
    /// The least fixed point, when computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub least_fixed_point: Option<LeastReport>,
    /// A timeline's days, in order; absent in the one-instant modes (which have no days).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub days: Vec<DayReport>,
    /// Why the price map is not monotone (long-gamma dealers, vol-target funds whose
    /// assets rise), one line per holder; absent when it is monotone. The greatest and
    /// least fixed points are then not guaranteed: the run reports the fixed point it
    /// found from the shocked prices.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub non_monotone: Vec<String>,
    /// Leveraged ETFs with shares outstanding: their shares before and after, and the
    /// shares their holders sold (redeemed); absent when no fund gives its shares.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub etf_shares: Vec<EtfSharesReport>,
    /// Who makes the cascade bad: GLT vulnerability, marginal contributions, DebtRank
    /// (present in every `delever run` report; absent where it was not computed).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub systemic: Option<crate::SystemicReport>,
    #[serde(skip)]
    meta: RunMeta,
    /// Rows of the holder and per-lender tables ([`RunReport::with_top_holders`]).
    #[serde(skip)]
    pub(crate) top_holders: usize,
}

/// One leveraged ETF's shares (JSON `etf_shares[]`).
#[derive(Debug, Clone, Serialize)]
pub struct EtfSharesReport {
    /// The fund's id.
    pub id: String,
    /// Shares outstanding at the reference close.
    pub shares_outstanding_before: f64,
    /// Shares its holders sold, redeemed by authorised participants.
    pub shares_redeemed_by_holders: f64,
    /// Shares outstanding after the cascade.
    pub shares_outstanding_after: f64,
    /// NAV per share before the shock, USD.
    pub nav_per_share_before: f64,
    /// NAV per share at the final prices, USD.
    pub nav_per_share_after: f64,
}

impl RunReport {
    /// Assemble the report from a run's outcome.
    pub fn new(meta: &RunMeta, net: &Network, o: &Outcome) -> Self {
        let t = &o.totals;
        RunReport {
            delever_version: crate::DELEVER_VERSION,
            format_version: crate::JSON_FORMAT_VERSION,
            scenario: meta.name.clone(),
            mode: o.mode.name(),
            termination: o.termination.name(),
            rounds: o.rounds,
            residual: o.residual,
            totals: totals(t, o),
            assets: o
                .assets
                .iter()
                .map(|a| AssetReport {
                    id: net.asset(a.asset).id.clone(),
                    price_before: a.price_before,
                    price_shocked: a.price_shocked,
                    price_after: a.price_after,
                    drawdown: a.drawdown,
                    forced_sales_shares: a.forced_sales_shares,
                    forced_sales_usd: a.forced_sales_usd,
                    forced_sales_at_sale_prices_usd: a.forced_sales_at_sale_prices_usd,
                    forced_sales_at_final_prices_usd: at_final_prices(a),
                })
                .collect(),
            holders: o
                .holders
                .iter()
                .map(|h| HolderReport {
                    id: net.holder(h.holder).id.clone(),
                    kind: h.kind.name(),
                    equity_before: h.equity_before,
                    equity_shocked: h.equity_shocked,
                    equity_after: h.equity_after,
                    sales_usd: h.sales_usd,
                    status: h.status.name(),
                    lender_loss_usd: h.lender_loss_usd,
                    borrower_shortfall_usd: h.borrower_shortfall_usd,
                    interbank_unpaid_usd: h.interbank_unpaid_usd,
                    margin_calls: h.margin_calls,
                    defaults: h.defaults,
                })
                .collect(),
            lenders: o
                .lenders
                .iter()
                .map(|l| LenderReport {
                    id: net.lender(l.lender).id.clone(),
                    capital: l.capital,
                    borrower_losses_usd: l.borrower_losses_usd,
                    interbank_losses_usd: l.interbank_losses_usd,
                    tightened: l.tightened,
                    defaulted: l.defaulted,
                    by_borrower: crate::holders::by_borrower(net, l),
                })
                .collect(),
            trace: o
                .trace
                .iter()
                .map(|r| RoundReport {
                    day: r.day,
                    round: r.round,
                    sales_usd: r.sales_usd,
                    price_index: r.price_index,
                    new_calls: r.new_calls,
                    new_defaults: r.new_defaults,
                    fraction_sold: r.fraction_sold,
                    residual: r.residual,
                    largest_sellers: r
                        .largest_sellers
                        .iter()
                        .map(|&(h, usd)| (net.holder(h).id.clone(), usd))
                        .collect(),
                })
                .collect(),
            trace_omitted_rounds: o.trace_omitted(),
            least_fixed_point: o.least.as_ref().map(|l| LeastReport {
                rounds: l.rounds,
                termination: l.termination.name(),
                total_loss_usd: l.total_loss_usd,
                multiple_equilibria: l.differs,
                max_price_gap: o
                    .assets
                    .iter()
                    .zip(&l.prices)
                    .map(|(a, q)| (a.price_after - q).abs() / a.price_after.max(*q))
                    .fold(0.0, f64::max),
            }),
            days: crate::days::days(net, o),
            non_monotone: o.non_monotone.clone(),
            etf_shares: etf_shares(net, o),
            systemic: None,
            meta: meta.clone(),
            top_holders: crate::holders::DEFAULT_TOP,
        }
    }

    /// With the run's systemic metrics.
    #[must_use]
    pub fn with_systemic(mut self, s: crate::SystemicReport) -> Self {
        self.systemic = Some(s);
        self
    }

    /// The JSON document, pretty-printed, ending in a newline.
    pub fn to_json(&self) -> String {
        let s = serde_json::to_string_pretty(self).unwrap_or_else(|e| {
            // Serialising plain structs of numbers and strings cannot fail; say so loudly
            // rather than write a partial document if it ever does.
            format!("{{\"error\": \"report serialisation failed: {e}\"}}")
        });
        // Rust's float `sum()` of nothing is −0.0; a report should never say "-0.0".
        let mut s = crate::text::positive_zeros(&s);
        s.push('\n');
        s
    }

    /// Headline totals, then per-asset and per-kind tables.
    pub fn to_table(&self) -> String {
        let t = &self.totals;
        let mut out = String::new();
        let _ = write!(out, "scenario  {}", self.scenario);
        if !self.meta.as_of.is_empty() {
            let _ = write!(out, "  (as of {})", self.meta.as_of);
        }
        out.push('\n');
        let sequential = self.mode == delever_engine::Mode::Sequential.name();
        let timeline = self.is_timeline();
        let _ = writeln!(
            out,
            "result    {} after {} round{}{} ({}residual {:.2e})",
            self.termination,
            self.rounds,
            if self.rounds == 1 { "" } else { "s" },
            if timeline {
                format!(
                    " over {} day{}",
                    self.days.len(),
                    if self.days.len() == 1 { "" } else { "s" }
                )
            } else {
                String::new()
            },
            if sequential { "sequential mode; " } else { "" },
            self.residual
        );
        if let Some(l) = &self.least_fixed_point
            && l.multiple_equilibria
        {
            let (least, greatest) = crate::text::usd_pair(l.total_loss_usd, t.total_loss_usd);
            let _ = writeln!(
                out,
                "warning   several equilibria: the least fixed point loses {least} (greatest: {greatest}); prices differ by up to {:.3}%",
                100.0 * l.max_price_gap
            );
        }
        for why in &self.non_monotone {
            let _ = writeln!(
                out,
                "warning   not monotone: {why}; the fixed point shown is the one reached from the shocked prices (docs/model.md, \"Convexity\")"
            );
        }
        out.push('\n');
        out.push_str(&self.headline_table(sequential, timeline));
        out.push('\n');
        if timeline {
            out.push_str(&day_table(&self.days, &self.main_assets()));
            out.push('\n');
        }

        out.push_str(&self.assets_table());
        out.push('\n');
        out.push_str(&self.kinds_table());
        out.push_str(&self.top_holders_table());
        out.push_str(&self.lenders_table());
        out.push_str(&self.lender_borrower_tables());
        if let Some(s) = &self.systemic {
            let t = s.to_table(10);
            if !t.is_empty() {
                out.push('\n');
                out.push_str(&t);
            }
        }
        out
    }

    /// The headline figures, each named once.
    fn headline_table(&self, sequential: bool, timeline: bool) -> String {
        let t = &self.totals;
        let mut head = Table::new(["headline", "value"]);
        head.row(["initial loss (shock alone)".into(), usd(t.initial_loss_usd)]);
        let total = if sequential {
            "total loss (after the rounds)"
        } else if timeline {
            "total loss (at the last close)"
        } else {
            "total loss (fixed point)"
        };
        head.row([total.into(), usd(t.total_loss_usd)]);
        head.row([
            "cascade loss (total − initial)".into(),
            usd(t.cascade_loss_usd),
        ]);
        head.row([
            "amplification".into(),
            if t.amplification_meaningful {
                format!("{:.3}x", t.amplification)
            } else {
                "n/a (initial loss too small)".to_owned()
            },
        ]);
        // Both valuations, named: at the prices sold does not vanish when the cascade
        // drives a price to its floor; at final prices is what the sold shares are worth now.
        head.row([
            "forced sales, at the prices sold".into(),
            usd(t.forced_sales_at_sale_prices_usd),
        ]);
        head.row([
            "forced sales, at final prices".into(),
            usd(t.forced_sales_at_final_prices_usd),
        ]);
        if t.exogenous_sales_usd != 0.0 {
            head.row(["exogenous sales".into(), usd(t.exogenous_sales_usd)]);
        }
        head.row(["margin calls (accounts)".into(), t.margin_calls.to_string()]);
        head.row(["defaults".into(), t.defaults.to_string()]);
        // Each loss once, under the name the tables below use.
        head.row([BORROWER_SHORTFALLS.into(), usd(t.borrower_shortfalls_usd)]);
        head.row([INTERBANK_LOSSES.into(), usd(t.interbank_losses_usd)]);
        if !self.lenders.is_empty() {
            head.row(["losses borne by lenders".into(), usd(t.lender_losses_usd)]);
        }
        if t.cash_cures_usd != 0.0 {
            head.row(["calls met with cash".into(), usd(t.cash_cures_usd)]);
        }
        head.render()
    }

    /// A timeline's rounds the trace left out between the kept round `last` and the next
    /// kept one `next` (each `(day, round)`), in words; `None` when nothing is missing.
    fn day_gap(&self, last: Option<(u32, u32)>, next: (u32, u32)) -> Option<String> {
        let rounds_of = |d: u32| self.days.get(d as usize).map_or(0, |x| x.rounds);
        let from = match last {
            None => (0, 1),
            Some((d, r)) if r < rounds_of(d) => (d, r + 1),
            Some((d, _)) => (d + 1, 1),
        };
        if from >= next {
            return None;
        }
        let to = if next.1 > 1 {
            (next.0, next.1 - 1)
        } else {
            (next.0 - 1, rounds_of(next.0 - 1))
        };
        Some(format!(
            "day {} round {} to day {} round {} not kept (the trace keeps the first {TRACE_KEPT} rounds of the run and its last)",
            from.0, from.1, to.0, to.1
        ))
    }

    /// Whether the run is a timeline (it has days).
    fn is_timeline(&self) -> bool {
        !self.days.is_empty()
    }

    /// Asset ids, largest forced sales first (ties in asset order): the assets table's order.
    fn main_assets(&self) -> Vec<&str> {
        let mut order: Vec<&AssetReport> = self.assets.iter().collect();
        order.sort_by(|a, b| b.forced_sales_usd.total_cmp(&a.forced_sales_usd));
        order.into_iter().map(|a| a.id.as_str()).collect()
    }

    /// Assets, largest forced sales first.
    fn assets_table(&self) -> String {
        let mut assets = Table::new([
            "asset",
            "before",
            "shocked",
            "after",
            "drawdown",
            "forced sales, at prices sold",
            "at final prices",
        ])
        .titled("Assets");
        let mut order: Vec<&AssetReport> = self.assets.iter().collect();
        // Largest forced sales first: that is where the cascade lands.
        order.sort_by(|a, b| b.forced_sales_usd.total_cmp(&a.forced_sales_usd));
        for a in order {
            assets.row([
                a.id.clone(),
                price(a.price_before),
                price(a.price_shocked),
                price(a.price_after),
                pct(a.drawdown),
                usd(a.forced_sales_at_sale_prices_usd),
                usd(a.forced_sales_at_final_prices_usd),
            ]);
        }
        assets.render()
    }

    /// Holders aggregated by kind.
    fn kinds_table(&self) -> String {
        let mut kinds = Table::new([
            "holder kind",
            "holders",
            "equity before",
            "equity after",
            "sales",
            "share of sales",
            "calls",
            "defaults",
            "borrower shortfalls",
            "interbank unpaid",
        ])
        .titled("Holders by kind");
        // Each kind's share of the forced sales: the channels side by side (issue 13).
        let total_sales: f64 = self.holders.iter().map(|h| h.sales_usd).sum();
        for k in KindTag::ALL {
            let rows: Vec<&HolderReport> =
                self.holders.iter().filter(|h| h.kind == k.name()).collect();
            if rows.is_empty() {
                continue;
            }
            kinds.row([
                k.name().to_owned(),
                rows.len().to_string(),
                usd(rows.iter().map(|h| h.equity_before).sum()),
                usd(rows.iter().map(|h| h.equity_after).sum()),
                usd(rows.iter().map(|h| h.sales_usd).sum()),
                share(rows.iter().map(|h| h.sales_usd).sum(), total_sales),
                rows.iter().map(|h| h.margin_calls).sum::<u64>().to_string(),
                rows.iter().map(|h| h.defaults).sum::<u64>().to_string(),
                usd(rows.iter().map(|h| h.borrower_shortfall_usd).sum()),
                usd(rows.iter().map(|h| h.interbank_unpaid_usd).sum()),
            ]);
        }
        let mut out = kinds.render();
        // Lenders can owe interbank too: their unpaid debts are interbank losses that no
        // holder kind carries.
        let holders_unpaid: f64 = self.holders.iter().map(|h| h.interbank_unpaid_usd).sum();
        let lenders_unpaid = self.totals.interbank_losses_usd - holders_unpaid;
        if lenders_unpaid > 1e-9 * self.totals.interbank_losses_usd.abs().max(1.0) {
            let _ = writeln!(
                out,
                "(interbank losses {} = holders' unpaid {} + lenders' unpaid {})",
                usd(self.totals.interbank_losses_usd),
                usd(holders_unpaid),
                usd(lenders_unpaid)
            );
        }
        out
    }

    /// Lenders, with a leading blank line (empty when there are none).
    fn lenders_table(&self) -> String {
        if self.lenders.is_empty() {
            return String::new();
        }
        let mut lenders = Table::new([
            "lender",
            "capital",
            "borrower losses",
            "interbank losses",
            "tightened",
            "defaulted",
        ])
        .titled("Lenders");
        for l in &self.lenders {
            lenders.row([
                l.id.clone(),
                usd(l.capital),
                usd(l.borrower_losses_usd),
                usd(l.interbank_losses_usd),
                yes_no(l.tightened).into(),
                yes_no(l.defaulted).into(),
            ]);
        }
        format!("\n{}", lenders.render())
    }

    /// The round-by-round narrative (`--trace`): cumulative forced sales and what each
    /// round added, the price index, new calls and defaults, the residual and the largest
    /// sellers.
    pub fn trace_table(&self) -> String {
        // Sequential runs also show the cumulative fraction of holdings sold.
        let sequential = self.mode == delever_engine::Mode::Sequential.name();
        let timeline = self.is_timeline();
        let mut head = vec![
            "round",
            "sales",
            "this round",
            "price index",
            "new calls",
            "new defaults",
            "residual",
            "largest sellers",
        ];
        if sequential {
            head.insert(6, "sold");
        }
        // A timeline's rounds restart every day: the day comes first, and each day's
        // sales start from nothing.
        if timeline {
            head.insert(0, "day");
        }
        let width = head.len();
        let title = if timeline {
            "Round by round, within each day (sales: the day's, cumulative over its rounds)"
        } else {
            "Round by round"
        };
        let mut t = Table::new(head).titled(title).left(width - 1);
        let mut prev = 0.0;
        let mut last_round = 0;
        // Where the last kept round was: (day, round).
        let mut last: Option<(u32, u32)> = None;
        for r in &self.trace {
            if timeline {
                if let Some(text) = self.day_gap(last, (r.day, r.round)) {
                    let mut gap = vec![String::new(); width];
                    gap[0] = "…".into();
                    gap[width - 1] = text;
                    t.row(gap);
                }
                if last.is_none_or(|(d, _)| d != r.day) {
                    prev = 0.0;
                }
                last = Some((r.day, r.round));
            } else if r.round > last_round + 1 {
                let mut gap = vec![String::new(); width];
                gap[0] = "…".into();
                gap[width - 1] = format!(
                    "rounds {}–{} not kept (the trace keeps the first {} and the last)",
                    last_round + 1,
                    r.round - 1,
                    last_round
                );
                t.row(gap);
            }
            last_round = r.round;
            let sellers = r
                .largest_sellers
                .iter()
                .take(3)
                .map(|(id, v)| format!("{id} {}", usd(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            let added = r.sales_usd - prev;
            prev = r.sales_usd;
            let mut row = vec![
                r.round.to_string(),
                usd(r.sales_usd),
                format!("{}{}", if added >= 0.0 { "+" } else { "" }, usd(added)),
                format!("{:.4}", r.price_index),
                r.new_calls.to_string(),
                r.new_defaults.to_string(),
                format!("{:.2e}", r.residual),
                sellers,
            ];
            if sequential {
                row.insert(6, pct(r.fraction_sold));
            }
            if timeline {
                row.insert(0, r.day.to_string());
            }
            t.row(row);
        }
        t.render()
    }

    /// Tidy CSV: `scope,id,metric,value`, one fact per row (totals, assets, holders,
    /// lenders, rounds, and a timeline's days), in report order. A timeline's rounds have
    /// ids `DAY/ROUND` (rounds restart every day); its days are scopes `day` (id: the
    /// day), `day_kind`, `day_lender`, `day_asset` and `day_holder` (id: `DAY/ID`).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("scope,id,metric,value\n");
        // `value` is a number or a fixed word (a status, a mode), written as is so that
        // negative numbers stay numbers; `id` comes from the scenario and is text.
        let mut put = |scope: &str, id: &str, metric: &str, value: String| {
            let _ = writeln!(out, "{scope},{},{metric},{value}", csv_field(id));
        };
        put(
            "run",
            &self.scenario,
            "termination",
            self.termination.into(),
        );
        put("run", &self.scenario, "mode", self.mode.into());
        put("run", &self.scenario, "rounds", self.rounds.to_string());
        put("run", &self.scenario, "residual", num(self.residual));
        for (k, v) in self.totals.csv_rows() {
            put("totals", &self.scenario, k, v);
        }
        for a in &self.assets {
            for (k, v) in [
                ("price_before", a.price_before),
                ("price_shocked", a.price_shocked),
                ("price_after", a.price_after),
                ("drawdown", a.drawdown),
                ("forced_sales_shares", a.forced_sales_shares),
                ("forced_sales_usd", a.forced_sales_usd),
                (
                    "forced_sales_at_sale_prices_usd",
                    a.forced_sales_at_sale_prices_usd,
                ),
                (
                    "forced_sales_at_final_prices_usd",
                    a.forced_sales_at_final_prices_usd,
                ),
            ] {
                put("asset", &a.id, k, num(v));
            }
        }
        for h in &self.holders {
            put("holder", &h.id, "kind", h.kind.into());
            put("holder", &h.id, "status", h.status.into());
            for (k, v) in [
                ("equity_before", h.equity_before),
                ("equity_shocked", h.equity_shocked),
                ("equity_after", h.equity_after),
                ("sales_usd", h.sales_usd),
                ("lender_loss_usd", h.lender_loss_usd),
                ("borrower_shortfall_usd", h.borrower_shortfall_usd),
                ("interbank_unpaid_usd", h.interbank_unpaid_usd),
            ] {
                put("holder", &h.id, k, num(v));
            }
            put("holder", &h.id, "margin_calls", h.margin_calls.to_string());
            put("holder", &h.id, "defaults", h.defaults.to_string());
        }
        for l in &self.lenders {
            put("lender", &l.id, "capital", num(l.capital));
            put(
                "lender",
                &l.id,
                "borrower_losses_usd",
                num(l.borrower_losses_usd),
            );
            put(
                "lender",
                &l.id,
                "interbank_losses_usd",
                num(l.interbank_losses_usd),
            );
            put("lender", &l.id, "tightened", l.tightened.to_string());
            put("lender", &l.id, "defaulted", l.defaulted.to_string());
        }
        self.lender_borrower_csv(&mut put);
        let timeline = self.is_timeline();
        for r in &self.trace {
            let id = if timeline {
                format!("{}/{}", r.day, r.round)
            } else {
                r.round.to_string()
            };
            put("round", &id, "sales_usd", num(r.sales_usd));
            put("round", &id, "price_index", num(r.price_index));
            put("round", &id, "new_calls", r.new_calls.to_string());
            put("round", &id, "new_defaults", r.new_defaults.to_string());
            put("round", &id, "fraction_sold", num(r.fraction_sold));
            put("round", &id, "residual", num(r.residual));
        }
        day_csv(&self.days, &mut put);
        if let Some(s) = &self.systemic {
            s.csv_rows(&mut out);
        }
        out
    }
}

/// The headline's name for what margin borrowers could not repay their lenders.
const BORROWER_SHORTFALLS: &str = "borrower shortfalls (lenders' loss)";
/// The headline's name for interbank claims left unpaid.
const INTERBANK_LOSSES: &str = "interbank losses (claims unpaid)";

/// Rounds the engine's trace keeps in full (then only the last).
const TRACE_KEPT: u32 = delever_engine::TRACE_ROUNDS;

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// The report's view of the funds' shares (empty when no fund gives its shares).
fn etf_shares(net: &Network, o: &Outcome) -> Vec<EtfSharesReport> {
    o.etf_shares
        .iter()
        .map(|e| EtfSharesReport {
            id: net.holder(e.holder).id.clone(),
            shares_outstanding_before: e.outstanding_before,
            shares_redeemed_by_holders: e.redeemed_by_holders,
            shares_outstanding_after: e.outstanding_after,
            nav_per_share_before: e.nav_per_share_before,
            nav_per_share_after: e.nav_per_share_after,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use delever_engine::{EngineConfig, Mode, Shock, run};
    use delever_graph::AssetIx;

    use super::{RunMeta, RunReport};

    #[test]
    fn the_kinds_table_gives_each_kind_its_share_of_forced_sales() {
        let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
        let shocks = [Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.40,
        }];
        let o = run(&net, &shocks, &EngineConfig::default()).expect("runs");
        let text = RunReport::new(&RunMeta::default(), &net, &o).to_table();
        assert!(text.contains("share of sales"), "{text}");
        // One kind sells everything: its share is the whole.
        let row = text
            .lines()
            .find(|l| l.starts_with("margin_account"))
            .expect("a margin_account row");
        assert!(row.contains("100.0%"), "{row}");
    }

    #[test]
    fn the_trace_table_marks_rounds_a_timeline_left_out() {
        let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
        let hit = |ret| Shock::AssetReturn {
            asset: AssetIx(0),
            ret,
        };
        let shocks = [
            hit(-0.40),
            Shock::OnDay {
                day: 1,
                shock: Box::new(hit(-0.10)),
            },
        ];
        let cfg = EngineConfig {
            mode: Mode::Timeline,
            days: 2,
            ..EngineConfig::default()
        };
        let mut o = run(&net, &shocks, &cfg).expect("runs");
        let meta = RunMeta::default();
        let whole = RunReport::new(&meta, &net, &o).trace_table();
        assert!(!whole.contains("not kept"), "{whole}");
        // As if the trace's bound had dropped day 1's first two rounds: its first kept
        // round is round 3.
        let first = o
            .trace
            .iter_mut()
            .find(|t| t.day == 1)
            .expect("day 1 has rounds");
        first.round = 3;
        let cut = RunReport::new(&meta, &net, &o).trace_table();
        assert!(
            cut.contains("day 1 round 1 to day 1 round 2 not kept"),
            "{cut}"
        );
    }
}
