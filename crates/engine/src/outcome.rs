//! What a run found: the [`Outcome`] of a cascade.
//!
//! These are plain data; the report crate turns them into tables, JSON and CSV.

use delever_graph::{AssetIx, HolderIx, KindTag, LenderIx, NodeRef};

use crate::spec::Mode;

/// Why the iteration stopped. Not converging is an outcome, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// No price moved by more than the tolerance in the last round (sequential mode: no
    /// holder placed an order in the last round).
    Converged,
    /// The round limit was reached first.
    MaxRounds,
}

impl Termination {
    /// The name used in reports (`converged`, `max_rounds`).
    pub fn name(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::MaxRounds => "max_rounds",
        }
    }
}

/// Final state of a holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Did not trade.
    Unaffected,
    /// Sold under its rule without a margin call or default.
    Sold,
    /// Bought (leveraged ETFs after gains, symmetric leverage targeting).
    Bought,
    /// Received a margin call (and met it).
    MarginCall,
    /// Sold every tradable position but kept positive equity.
    Liquidated,
    /// Ended with equity ≤ 0 (a shortfall to its lender or creditors).
    Defaulted,
}

impl Status {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Status::Unaffected => "unaffected",
            Status::Sold => "sold",
            Status::Bought => "bought",
            Status::MarginCall => "margin_call",
            Status::Liquidated => "liquidated",
            Status::Defaulted => "defaulted",
        }
    }
}

/// Headline totals.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Totals {
    /// Mark-to-market loss of all holders from the exogenous shock alone (starting
    /// positions at shocked prices), USD.
    pub initial_loss_usd: f64,
    /// Loss of all holders at the fixed point, USD.
    pub total_loss_usd: f64,
    /// `total_loss_usd / initial_loss_usd` (1 when there is no initial loss).
    pub amplification: f64,
    /// Net forced sales, USD (net of forced buying), as each mode has always valued them:
    /// equilibrium at the final prices (the fixed point's clearing prices), sequential at
    /// each round's mid price, timeline at each day's close. See the two figures below for
    /// the same sales on one basis in every mode.
    pub forced_sales_usd: f64,
    /// Net forced sales valued at the prices they were made at, USD: each round's
    /// additional sales at that round's execution price — in equilibrium mode and in each
    /// timeline day, the price the round's selling moved the market to (the fixed point's
    /// convention: sales are made at the price they produce); in sequential mode, the
    /// round's mid price (as its proceeds are settled). Unlike the final-price figure this
    /// does not vanish when the cascade drives a price to its floor.
    pub forced_sales_at_sale_prices_usd: f64,
    /// Exogenous sales (offerings, capital calls) at the prices they were made at, USD.
    pub exogenous_sales_usd: f64,
    /// Defaulted accounts and holders (a cohort counts its accounts), plus defaulted lenders.
    pub defaults: u64,
    /// Margin calls, counted in accounts (a cohort counts its called accounts).
    pub margin_calls: u64,
    /// Losses borne by the scenario's lenders (the `lenders:` block): their borrower
    /// shortfalls plus write-downs of the interbank claims *they* hold, USD. Interbank
    /// losses borne by holders (banks owing banks) are not in it: see
    /// `interbank_losses_usd`.
    pub lender_losses_usd: f64,
    /// What margin borrowers could not repay their lenders, USD: the sum of every holder's
    /// `borrower_shortfall_usd` (equal to the lenders' `borrower_losses_usd` summed).
    pub borrower_shortfalls_usd: f64,
    /// Interbank claims left unpaid at clearing, whoever holds them (holders or lenders),
    /// USD: the sum of every debtor's unpaid interbank obligations (holders'
    /// `interbank_unpaid_usd` plus lenders' own unpaid debts), equal to every creditor's
    /// write-down summed.
    pub interbank_losses_usd: f64,
    /// Cash deposited by accounts that met calls with fresh cash (the cure rate), USD.
    pub cash_cures_usd: f64,
}

/// One asset at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetOutcome {
    /// The asset.
    pub asset: AssetIx,
    /// Pre-shock price.
    pub price_before: f64,
    /// Price after the exogenous shock, before any impact.
    pub price_shocked: f64,
    /// Price at the fixed point.
    pub price_after: f64,
    /// `price_after / price_before − 1`.
    pub drawdown: f64,
    /// Net shares sold by forced sellers (negative: net bought).
    pub forced_sales_shares: f64,
    /// Net forced sales, USD, valued as [`Totals::forced_sales_usd`] is.
    pub forced_sales_usd: f64,
    /// Net forced sales at the prices they were made at, USD, as
    /// [`Totals::forced_sales_at_sale_prices_usd`] is.
    pub forced_sales_at_sale_prices_usd: f64,
}

/// One holder at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderOutcome {
    /// The holder.
    pub holder: HolderIx,
    /// Its kind.
    pub kind: KindTag,
    /// Equity at pre-shock prices, USD.
    pub equity_before: f64,
    /// Equity at shocked prices, before the cascade, USD.
    pub equity_shocked: f64,
    /// Equity at the fixed point (may be negative), USD.
    pub equity_after: f64,
    /// Net sales at the prices made, USD (negative: bought).
    pub sales_usd: f64,
    /// Final status (for cohorts and books: the worst status of any account).
    pub status: Status,
    /// Loss this holder passed to its lender or creditors, USD:
    /// `borrower_shortfall_usd + interbank_unpaid_usd`.
    pub lender_loss_usd: f64,
    /// What it could not repay its margin lender, USD (populations: their accounts').
    pub borrower_shortfall_usd: f64,
    /// What it left unpaid of its interbank obligations, USD (its creditors' write-down).
    pub interbank_unpaid_usd: f64,
    /// Accounts called (1 or 0 for single holders).
    pub margin_calls: u64,
    /// Accounts defaulted (1 or 0 for single holders).
    pub defaults: u64,
    /// Cash deposited to meet calls, USD.
    pub cash_cure_usd: f64,
}

/// One lender at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct LenderOutcome {
    /// The lender.
    pub lender: LenderIx,
    /// Starting capital, USD.
    pub capital: f64,
    /// Losses from borrower shortfalls, USD.
    pub borrower_losses_usd: f64,
    /// Losses on interbank claims on defaulted debtors, USD.
    pub interbank_losses_usd: f64,
    /// Whether losses passed the tightening trigger (margin raised on all borrowers).
    pub tightened: bool,
    /// Whether losses exceeded capital.
    pub defaulted: bool,
    /// Who caused the losses: one entry per debtor (a borrower, or the debtor of an
    /// interbank claim) that passed this lender a loss, holders first in holder order,
    /// then lenders. The parts sum to `borrower_losses_usd` and `interbank_losses_usd`.
    pub by_debtor: Vec<DebtorLoss>,
}

/// One debtor's part of a lender's losses ([`LenderOutcome::by_debtor`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DebtorLoss {
    /// The borrower or interbank debtor (a holder or a lender).
    pub debtor: NodeRef,
    /// Its margin-loan shortfall borne by the lender, USD.
    pub borrower_usd: f64,
    /// What it left unpaid of its interbank debt to the lender, USD.
    pub interbank_usd: f64,
}

/// One round of the iteration (the round-by-round trace).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundTrace {
    /// Timeline: the day of the round, from 0 (0 in the one-instant modes).
    pub day: u32,
    /// Round number, from 1 (within its day on a timeline).
    pub round: u32,
    /// Cumulative net forced sales at this round's prices, USD.
    pub sales_usd: f64,
    /// Value of all starting positions at this round's prices over their pre-shock value.
    pub price_index: f64,
    /// Accounts newly called this round.
    pub new_calls: u64,
    /// Accounts and holders newly defaulted this round.
    pub new_defaults: u64,
    /// The residual: the largest relative gap `|Φ(p) − p|/p` between the price map and the
    /// prices the round decided at (without damping, the largest relative price change this
    /// round; sequential mode: the largest relative price change).
    pub residual: f64,
    /// Prices at the end of the round, one per asset.
    pub prices: Vec<f64>,
    /// The largest sellers this round: (holder, cumulative sales USD), largest first, at most 5.
    pub largest_sellers: Vec<(HolderIx, f64)>,
    /// Cumulative net forced sales per holder kind at this round's prices, USD (negative:
    /// net bought), for the kinds the network has, in [`KindTag::ALL`] order.
    pub sales_by_kind: Vec<(KindTag, f64)>,
    /// Cumulative net forced sales as a fraction of all starting tradable holdings, both
    /// valued at pre-shock prices (the positions of the price index, ETFs' synthetic
    /// exposure included).
    pub fraction_sold: f64,
}

/// The least fixed point, computed from the all-liquidated prices.
#[derive(Debug, Clone, PartialEq)]
pub struct LeastFixedPoint {
    /// Rounds it took.
    pub rounds: u32,
    /// How it stopped.
    pub termination: Termination,
    /// Its prices, one per asset.
    pub prices: Vec<f64>,
    /// Loss of all holders at that fixed point, USD.
    pub total_loss_usd: f64,
    /// Whether it differs from the greatest fixed point (several equilibria).
    pub differs: bool,
}

/// One asset on one day of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetDay {
    /// Price at the open: yesterday's close moved by today's returns and by the impact
    /// that decayed overnight.
    pub open: f64,
    /// Price at the close, after the day's forced sales.
    pub close: f64,
    /// The fundamental price: the pre-shock price moved by every scheduled return so far,
    /// without impact.
    pub fundamental: f64,
    /// Impact standing at the close that never decays, as a fraction of the fundamental
    /// price (≤ 0 after net selling).
    pub permanent_impact: f64,
    /// Impact standing at the close that will decay, as a fraction of the fundamental
    /// price. `close ≈ fundamental·(1 + permanent_impact + transient_impact)` (exactly,
    /// unless the price floor binds).
    pub transient_impact: f64,
    /// Net shares sold by forced sellers today.
    pub sales_shares: f64,
    /// Net forced sales today at the close, USD.
    pub sales_usd: f64,
}

/// One holder on one day of a timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderDay {
    /// What its rule did today (cohorts and books: the worst of its accounts).
    pub status: Status,
    /// Net sales today at the close, USD.
    pub sales_usd: f64,
    /// Holdings value at the close after the day's sales (ETFs: the exposure), USD.
    pub value: f64,
    /// Cash after the day, USD.
    pub cash: f64,
    /// Margin loan and other liabilities after the day, USD (ETFs: 0).
    pub debt: f64,
    /// Equity at the close after the day (ETFs: NAV), USD.
    pub equity: f64,
    /// Accounts in margin call today (met, acted on or waiting for their deadline).
    pub calls: u64,
    /// Accounts whose call opened today.
    pub new_calls: u64,
    /// Accounts with a call open at the close, waiting for its deadline.
    pub open_calls: u64,
    /// Accounts that defaulted today.
    pub new_defaults: u64,
    /// Single holders: the day its open call falls due.
    pub due_day: Option<u32>,
    /// Single holders in default: whether its lender is selling (`true`) or still
    /// waiting (`false`); `None` when not in default.
    pub closing_out: Option<bool>,
    /// Fresh cash deposited today, USD.
    pub cure_usd: f64,
    /// Redemptions paid today (funds and ETFs), USD.
    pub paid_out_usd: f64,
    /// Loss it passes to its lender or creditors, at the close, USD.
    pub lender_loss_usd: f64,
}

/// One day of a timeline run.
#[derive(Debug, Clone, PartialEq)]
pub struct DayOutcome {
    /// The day, from 0.
    pub day: u32,
    /// How the day's fixed point stopped.
    pub termination: Termination,
    /// Rounds of the day's fixed point.
    pub rounds: u32,
    /// The day's last residual.
    pub residual: f64,
    /// Per asset, in asset order.
    pub assets: Vec<AssetDay>,
    /// Per holder, in holder order.
    pub holders: Vec<HolderDay>,
    /// Each lender's losses at the close (borrower shortfalls and interbank), USD.
    pub lender_losses_usd: Vec<f64>,
    /// Net forced sales today at the close, USD.
    pub sales_usd: f64,
    /// The same by holder kind, for the kinds the network has, in [`KindTag::ALL`] order.
    pub sales_by_kind: Vec<(KindTag, f64)>,
    /// Exogenous sales today at the close, USD.
    pub exogenous_sales_usd: f64,
    /// Accounts whose margin call opened today.
    pub new_calls: u64,
    /// Accounts with a call open at the close, waiting for its deadline.
    pub open_calls: u64,
    /// Holders their lender is closing out today (selling a defaulted borrower's
    /// collateral).
    pub liquidations: u64,
    /// Accounts and holders that defaulted today, and lenders that defaulted today.
    pub new_defaults: u64,
    /// Value of all starting positions at the close over their pre-shock value.
    pub price_index: f64,
    /// Whether the day's least fixed point differs from its greatest (when computed).
    pub multiple_equilibria: bool,
}

/// The full result of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// How the cascade was computed (equilibrium fixed point or sequential rounds).
    pub mode: Mode,
    /// Why the iteration stopped.
    pub termination: Termination,
    /// Rounds of the main (greatest fixed point) iteration, or sequential rounds.
    pub rounds: u32,
    /// The last round's residual (see [`RoundTrace::residual`]).
    pub residual: f64,
    /// Headline totals.
    pub totals: Totals,
    /// One per asset, in asset order.
    pub assets: Vec<AssetOutcome>,
    /// One per holder, in holder order.
    pub holders: Vec<HolderOutcome>,
    /// One per lender, in lender order.
    pub lenders: Vec<LenderOutcome>,
    /// The round-by-round trace of the main iteration: every round up to
    /// [`TRACE_ROUNDS`], then only the last one (see [`Outcome::trace_omitted`]).
    pub trace: Vec<RoundTrace>,
    /// The least fixed point, when asked for (equilibrium mode; timeline mode: the last
    /// day's).
    pub least: Option<LeastFixedPoint>,
    /// Timeline mode: one entry per day (empty in the one-instant modes).
    pub days: Vec<DayOutcome>,
    /// Why the price map is not monotone, one line per holder that makes it so (a
    /// long-gamma dealer, a vol-target fund whose assets rise); empty when it is. The
    /// greatest and least fixed points are then not guaranteed (docs/model.md).
    pub non_monotone: Vec<String>,
    /// Leveraged ETFs with shares outstanding (whose shares margin holders may hold), in
    /// holder order; empty when no fund gives its shares outstanding.
    pub etf_shares: Vec<EtfShares>,
}

/// A leveraged ETF's shares: outstanding before, redeemed by its holders' forced sales
/// (authorised participants redeem every share sold), outstanding after.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtfShares {
    /// The fund.
    pub holder: HolderIx,
    /// Shares outstanding at the reference close.
    pub outstanding_before: f64,
    /// Shares its holders sold, redeemed.
    pub redeemed_by_holders: f64,
    /// `outstanding_before − redeemed_by_holders`.
    pub outstanding_after: f64,
    /// NAV per share at pre-shock prices, USD.
    pub nav_per_share_before: f64,
    /// NAV per share at the final prices, USD.
    pub nav_per_share_after: f64,
}

/// Rounds the trace keeps in full. A run that takes more keeps rounds `1..=TRACE_ROUNDS`
/// and its last round only, so a run's memory and report stay bounded whatever
/// `max_rounds` allows (a round costs about a kilobyte plus eight bytes per asset; 10,000
/// rounds are far more than any converging scenario shipped needs, and enough to see an
/// oscillation's pattern).
pub const TRACE_ROUNDS: u32 = 10_000;

/// Append round `t` to a trace, keeping rounds `1..=TRACE_ROUNDS` and the latest one.
pub(crate) fn push_bounded(trace: &mut Vec<RoundTrace>, t: RoundTrace) {
    if trace.len() > TRACE_ROUNDS as usize {
        // The slot after the kept head holds the latest round.
        if let Some(last) = trace.last_mut() {
            *last = t;
        }
    } else {
        trace.push(t);
    }
}

impl Outcome {
    /// Rounds of the main iteration that the trace does not hold (those between round
    /// [`TRACE_ROUNDS`] and the last round); 0 when the trace is complete.
    pub fn trace_omitted(&self) -> u32 {
        self.rounds.saturating_sub(self.trace.len() as u32)
    }

    /// The process exit code this outcome calls for: 0 converged, 3 not converged.
    pub fn exit_code(&self) -> i32 {
        match self.termination {
            Termination::Converged => 0,
            Termination::MaxRounds => 3,
        }
    }
}
