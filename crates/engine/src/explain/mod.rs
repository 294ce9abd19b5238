//! Explaining a run after the fact: every holder's state round by round ([`Replay::rounds`],
//! the HTML report's player), and one holder's balance sheet, the rule it follows and the
//! numbers in that rule each round ([`Replay::explain`], `delever explain`).
//!
//! The run itself keeps only what reports need (the [`Outcome`] with its per-round prices).
//! A replay re-evaluates the system at the prices each round decided at — the shocked
//! prices for round 1, then each round's end prices from the trace — with the lenders'
//! tightening carried from round to round exactly as the main iteration does. The
//! evaluation is the engine's own (`round::evaluate`), so a replay reproduces the run's
//! decisions bit for bit; it costs one more evaluation per round and is only done on
//! request. Runs in the sequential mode carry balance sheets from round to round, so they
//! cannot be replayed from prices alone: a replay of one is an error.

use delever_graph::{AssetIx, BalanceSheetRule, CashUse, HolderIx, KindTag, LenderIx, Network};

use crate::compile::{Compiled, Margin, Rule, Unit};
use crate::error::EngineError;
use crate::outcome::{Outcome, Status};
use crate::round::{Eval, Workspace, evaluate};
use crate::rules::{self, margin};
use crate::shocks::{self, Shocked};
use crate::spec::{EngineConfig, Mode, Shock};

mod convexity;
use convexity::convexity_tests;

/// One holder in one round of the replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HolderState {
    /// The holder.
    pub holder: HolderIx,
    /// Its status after this round's decision (cohorts and books: the worst account's).
    pub status: Status,
    /// The sale its rule asked for this round (cumulative), USD at the decision prices
    /// (negative: purchases).
    pub sale_usd: f64,
    /// Value of its starting positions at the decision prices, USD (ETFs: the exposure).
    pub value_usd: f64,
    /// Equity at the decision prices, USD (ETFs: NAV).
    pub equity_usd: f64,
    /// Accounts called (1 or 0 for single holders).
    pub calls: u64,
    /// Accounts defaulted (1 or 0 for single holders).
    pub defaults: u64,
}

/// One lender in one round of the replay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LenderState {
    /// The lender.
    pub lender: LenderIx,
    /// Borrower shortfalls plus interbank write-downs at the decision prices, USD.
    pub losses_usd: f64,
    /// Whether it has tightened margin (ratcheted: once tightened, tightened).
    pub tightened: bool,
    /// Whether its losses exceed its capital.
    pub defaulted: bool,
}

/// The whole system in one round of the replay.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundState {
    /// Round number, from 1 (matches [`crate::RoundTrace::round`]).
    pub round: u32,
    /// One per holder, in holder order.
    pub holders: Vec<HolderState>,
    /// One per lender, in lender order.
    pub lenders: Vec<LenderState>,
}

/// A holder's balance sheet at the prices a round decided at. Assets
/// `A = V + cash + other assets + interbank received`; equity
/// `E = A − margin loan − other liabilities − interbank owed` (ETFs: NAV).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sheet {
    /// Holdings value `V`, USD (ETFs: the synthetic exposure `L·NAV0·Σ w_k p_k/p0_k`).
    pub value: f64,
    /// Cash, USD (books: every account's).
    pub cash: f64,
    /// Illiquid assets, USD.
    pub other_assets: f64,
    /// Interbank payments received (Eisenberg–Noe clearing), USD.
    pub interbank_received: f64,
    /// Total assets `A`, USD.
    pub assets: f64,
    /// Margin loan, USD (cohorts: every bucket's; books: every account's).
    pub margin_loan: f64,
    /// Other liabilities, USD.
    pub other_liabilities: f64,
    /// Interbank obligations at face value, USD.
    pub interbank_owed: f64,
    /// Equity `E`, USD (ETFs: NAV).
    pub equity: f64,
}

/// What a margin test concluded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MarginVerdict {
    /// `E ≥ m·V`: nothing to do.
    Clear,
    /// `0 < E < m·V`: called. `required = V − E/m_r`; `deposit = φ·(m_r·V − E)` met with
    /// fresh cash; `sale = (1 − φ)·required` sold.
    Called {
        /// `V − E/m_r`, USD.
        required: f64,
        /// Cash deposited instead of selling, USD.
        deposit: f64,
        /// Sold, USD.
        sale: f64,
    },
    /// `E ≤ 0`: everything is sold; the lender bears what the collateral does not cover.
    Default {
        /// `max(0, loan − V − cash)`, USD (for single accounts, before interbank items).
        shortfall: f64,
    },
}

/// One margin test: a single account, one bucket of a cohort, or the prime-broker margin
/// on a fund or bank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginTest {
    /// The cohort bucket (index into its loan-to-value buckets), if this is one.
    pub bucket: Option<usize>,
    /// Accounts the test stands for (1 for a single holder).
    pub accounts: u64,
    /// Holdings value `V`, USD.
    pub value: f64,
    /// Loan, USD.
    pub loan: f64,
    /// Equity `E`, USD.
    pub equity: f64,
    /// Maintenance `m` in force (after tightening).
    pub maintenance: f64,
    /// Reset level `m_r` in force.
    pub reset: f64,
    /// Cure rate `φ`: the share of a call met with cash.
    pub cure_rate: f64,
    /// The verdict.
    pub verdict: MarginVerdict,
}

/// One test a holder's rule made in a round, with its numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Test {
    /// A margin test (Reg T / FINRA 4210): `E < m·V` calls, `E ≤ 0` defaults.
    Margin(MarginTest),
    /// An account book: every row is a margin test; here their totals.
    Book {
        /// Accounts in the book.
        accounts: u64,
        /// Maintenance in force.
        maintenance: f64,
        /// Reset in force.
        reset: f64,
        /// Cure rate.
        cure_rate: f64,
        /// Accounts called (defaulted ones included).
        calls: u64,
        /// Accounts defaulted.
        defaults: u64,
        /// Sold by the called and defaulted accounts, USD.
        sale: f64,
        /// Cash deposited to meet calls, USD.
        deposit: f64,
    },
    /// A leveraged or inverse ETF's daily rebalance (Cheng & Madhavan):
    /// `trade = L·((L − 1)·r − f)·NAV0`, with `r` bounded where NAV reaches zero.
    EtfRebalance {
        /// Multiple `L`.
        multiple: f64,
        /// NAV at the reference close, USD.
        nav0: f64,
        /// Basket return `r = Σ w_k (p_k/p0_k − 1)`.
        basket_return: f64,
        /// `r` after the wipe-out bound.
        bounded_return: f64,
        /// Redemption fraction `f`.
        redemption: f64,
        /// NAV at these prices, USD.
        nav: f64,
        /// The trade in exposure, USD (negative: sells).
        trade: f64,
        /// Whether NAV reached zero (the fund is wiped out).
        wiped: bool,
    },
    /// Equity at or below zero, or below the holder's `default_below_ratio` of its assets:
    /// a balance-sheet holder or fund defaults and sells everything.
    Insolvent {
        /// Equity, USD.
        equity: f64,
        /// Holdings value sold, USD.
        value: f64,
        /// The insolvency ratio `d` that fired (`0 < E < d·A`), when it was that rather
        /// than `E ≤ 0`.
        below_ratio: Option<f64>,
    },
    /// A bank's or leveraged fund's own rule: the cut `R` in total assets it asks for.
    BalanceSheet {
        /// The rule.
        rule: BalanceSheetRule,
        /// Assets `A`, USD.
        assets: f64,
        /// Equity `E`, USD.
        equity: f64,
        /// The cut asked for, USD (0 when the rule does not fire; negative: buys).
        cut: f64,
        /// Whether the rule fired.
        fired: bool,
        /// Capital-ratio rule only: even a full sale cannot restore the ratio, so the holder
        /// is closed (defaults and liquidates).
        closed: bool,
    },
    /// An unlevered fund's redemptions: `outflow = β·max(0, −R)·NAV0 + f·NAV0`.
    Redemption {
        /// NAV before the shock, USD.
        nav0: f64,
        /// NAV at these prices, USD.
        nav: f64,
        /// `R = NAV/NAV0 − 1`.
        nav_return: f64,
        /// β: outflow per unit of relative NAV loss.
        beta: f64,
        /// Redemption fraction `f` from shocks.
        shock_fraction: f64,
        /// Outflow, USD.
        outflow: f64,
    },
    /// An options dealer's re-hedge on one asset: it holds `held` shares and wants
    /// `target = −Σ q·Δ(S) − Γ_lin·(S − S₀)`, so it sells `held − target`.
    DealerHedge {
        /// The asset hedged.
        asset: AssetIx,
        /// Spot, USD.
        spot: f64,
        /// The book's gamma at spot, shares per dollar (negative: short gamma).
        gamma: f64,
        /// Hedge held, shares (signed).
        held: f64,
        /// Hedge wanted at spot, shares (signed).
        target: f64,
    },
    /// A vol-target fund's exposure: `w = min(L_max, σ*/σ̂)`, target = `h₀·(w/w₀)·(NAV/NAV₀)`.
    VolTarget {
        /// Realised-vol estimate before the day, annual.
        vol_before: f64,
        /// The estimate with the day's return, annual.
        vol: f64,
        /// The portfolio's return over the day.
        day_return: f64,
        /// Exposure / NAV at the start, and now.
        exposure0: f64,
        /// Exposure / NAV it targets now.
        exposure: f64,
        /// Target as a multiple of the starting position.
        ratio: f64,
        /// No-trade band.
        band: f64,
        /// What it trades, USD at these prices: `Σ (h_k − ratio·h₀_k)·p_k` when the
        /// target is outside the band, else 0 (negative: buys).
        sale: f64,
    },
    /// A trend follower's signal on one market: the weighted mean of the lookbacks'
    /// signs, times its position at full signal.
    TrendSignal {
        /// The market's asset.
        asset: AssetIx,
        /// Spot, USD.
        spot: f64,
        /// The signal, in [−1, 1].
        signal: f64,
        /// Position held, shares (signed).
        held: f64,
        /// Position wanted, shares (signed).
        target: f64,
    },
    /// The holder's cash policy turning a cut into tradable sales.
    Cash {
        /// The cut in total assets, USD.
        cut: f64,
        /// Cash, USD.
        cash: f64,
        /// Holdings value, USD.
        value: f64,
        /// The policy.
        cash_use: CashUse,
        /// Sales it gives, USD (before the cap at `V` and the margin overlay).
        sale: f64,
    },
}

/// One round of a holder's explanation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExplainRound {
    /// Round number, from 1.
    pub round: u32,
    /// The price index at the prices this round decided at: the value of all starting
    /// positions (gross of sign) over their pre-shock value, as in the trace.
    pub price_index: f64,
    /// The balance sheet at the prices this round decided at.
    pub sheet: Sheet,
    /// The tests its rule made, in order.
    pub tests: Vec<Test>,
    /// The sale the round decided (cumulative since the shock), USD at the decision prices
    /// (negative: purchases). This is the engine's own number.
    pub sale_usd: f64,
    /// Cash deposited to meet calls, USD.
    pub deposit_usd: f64,
    /// Status after the decision.
    pub status: Status,
    /// Accounts called.
    pub calls: u64,
    /// Accounts defaulted.
    pub defaults: u64,
    /// Cumulative shares sold per position (negative: bought).
    pub shares_sold: Vec<(AssetIx, f64)>,
    /// Whether its margin lender had tightened by this round.
    pub lender_tightened: bool,
    /// Its positions in leveraged ETF shares (empty without).
    pub etf_positions: Vec<EtfPosition>,
}

/// A position in a leveraged ETF's shares, as one round saw it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EtfPosition {
    /// The fund.
    pub fund: HolderIx,
    /// Shares held before the cascade.
    pub shares: f64,
    /// Cumulative shares sold (redeemed by the fund).
    pub sold: f64,
    /// NAV per share at the round's prices, USD.
    pub nav_per_share: f64,
    /// Maintenance requirement on the position: `min(1, m·|L|)` (FINRA Rule 4210,
    /// Regulatory Notice 09-53).
    pub maintenance: f64,
}

/// Why one holder sold: its rule and its balance sheet, round by round.
#[derive(Debug, Clone, PartialEq)]
pub struct Explanation {
    /// The holder.
    pub holder: HolderIx,
    /// Its kind.
    pub kind: KindTag,
    /// Its margin lender, if it borrows on margin.
    pub lender: Option<LenderIx>,
    /// Equity before the shock, USD (a fund's NAV0).
    pub equity_before: f64,
    /// One per round of the main iteration.
    pub rounds: Vec<ExplainRound>,
}

/// A network compiled once with its shocks applied, ready to re-evaluate the rounds of a
/// run of it.
pub struct Replay<'a> {
    c: Compiled<'a>,
    shocked: Shocked,
    equity0: Vec<f64>,
    ws: Workspace,
    /// Replaying a least-fixed-point run (from the floor, tightening recomputed).
    from_floor: bool,
}

impl std::fmt::Debug for Replay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay")
            .field("assets", &self.c.n_assets)
            .field("holders", &self.c.units.len())
            .finish_non_exhaustive()
    }
}

/// Called with each replayed round: the compiled network, the shocks, the round number,
/// the prices it decided at and the evaluation there.
type RoundVisitor<'v> = dyn FnMut(&Compiled<'_>, &Shocked, u32, &[f64], &Eval) + 'v;

/// Extra margin per lender: shocks plus tightening (as the round computes it).
fn extra_margin(c: &Compiled<'_>, s: &Shocked, tight: &[bool]) -> Vec<f64> {
    c.lenders
        .iter()
        .enumerate()
        .map(|(l, x)| s.tighten[l] + if tight[l] { x.tighten_by } else { 0.0 })
        .collect()
}

impl<'a> Replay<'a> {
    /// Compile `net` and apply `shocks` (one evaluation at pre-shock prices finds starting
    /// equity, as a run does).
    pub fn new(net: &'a Network, shocks: &[Shock]) -> Result<Self, EngineError> {
        let shocked = shocks::apply(net, shocks)?;
        let c = Compiled::new(net);
        let mut ws = Workspace::default();
        let none = vec![false; c.lenders.len()];
        let zeros = vec![0.0; c.units.len()];
        let before = evaluate(&c, &shocked, &zeros, &c.p0, &none, false, &mut ws);
        Ok(Replay {
            c,
            shocked,
            equity0: before.equity,
            ws,
            from_floor: false,
        })
    }

    /// [`Replay::rounds`] for a run of [`crate::run_least_detailed`]: its rounds start at
    /// the floor prices and recompute lenders' tightening each round, as that iteration
    /// does.
    pub fn rounds_from_floor(
        &mut self,
        outcome: &Outcome,
        visit: &mut dyn FnMut(&RoundState),
    ) -> Result<(), EngineError> {
        self.from_floor = true;
        let r = self.rounds(outcome, visit);
        self.from_floor = false;
        r
    }

    /// Check that `outcome` is an equilibrium run of this network.
    fn check(&self, outcome: &Outcome) -> Result<(), EngineError> {
        if outcome.mode == Mode::Sequential {
            return Err(EngineError::SequentialReplay);
        }
        if outcome.mode != crate::spec::Mode::Equilibrium {
            // A replay re-evaluates the memoryless map; sequential rounds carry balance
            // sheets from round to round, which a replay does not rebuild.
            return Err(EngineError::InvalidConfig {
                field: "mode",
                message: "explaining a run replays the equilibrium mode; run it with `engine.mode: equilibrium`".into(),
            });
        }
        if outcome.trace_omitted() > 0 {
            return Err(EngineError::TraceTruncated {
                rounds: outcome.rounds,
                kept: crate::TRACE_ROUNDS,
            });
        }
        let n = self.c.n_assets;
        let ok = outcome.assets.len() == n
            && outcome.holders.len() == self.c.units.len()
            && outcome.lenders.len() == self.c.lenders.len()
            && outcome.trace.iter().all(|t| t.prices.len() == n);
        if ok {
            Ok(())
        } else {
            Err(EngineError::ForeignOutcome)
        }
    }

    /// Re-evaluate every round of `outcome`'s main iteration, calling `visit` with each
    /// round's evaluation at the prices it decided at.
    fn each_round(
        &mut self,
        outcome: &Outcome,
        visit: &mut RoundVisitor<'_>,
    ) -> Result<(), EngineError> {
        self.check(outcome)?;
        let mut p = if self.from_floor {
            self.c.p0.iter().map(|p| p * crate::PRICE_FLOOR).collect()
        } else {
            self.shocked.price.clone()
        };
        let mut tight = vec![false; self.c.lenders.len()];
        for t in &outcome.trace {
            let ev = evaluate(
                &self.c,
                &self.shocked,
                &self.equity0,
                &p,
                &tight,
                !self.from_floor,
                &mut self.ws,
            );
            visit(&self.c, &self.shocked, t.round, &p, &ev);
            tight.clone_from(&ev.tightened);
            p.clone_from(&t.prices);
        }
        Ok(())
    }

    /// Every holder's and lender's state in every round of `outcome` (a run of this
    /// network with these shocks), in round order. One round is held in memory at a time.
    pub fn rounds(
        &mut self,
        outcome: &Outcome,
        visit: &mut dyn FnMut(&RoundState),
    ) -> Result<(), EngineError> {
        let nh = self.c.units.len();
        self.each_round(outcome, &mut |c, _s, round, p, ev| {
            // Holders of ETF shares value them at NAV per share (the round's extended prices).
            let px: Vec<f64> = p.iter().chain(&ev.nav_ps).copied().collect();
            let holders = c
                .units
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let d = &ev.decisions[i];
                    HolderState {
                        holder: HolderIx(i as u32),
                        status: d.status,
                        sale_usd: d.sale_usd,
                        value_usd: rules::value(u, &px),
                        equity_usd: ev.equity[i],
                        calls: d.calls,
                        defaults: d.defaults,
                    }
                })
                .collect();
            let lenders = c
                .lenders
                .iter()
                .enumerate()
                .map(|(l, x)| {
                    let losses =
                        ev.cleared.borrower_losses[l] + ev.cleared.interbank_losses[nh + l];
                    LenderState {
                        lender: LenderIx(l as u32),
                        losses_usd: losses,
                        tightened: ev.tightened[l],
                        defaulted: losses > x.capital,
                    }
                })
                .collect();
            visit(&RoundState {
                round,
                holders,
                lenders,
            });
        })
    }

    /// Why `holder` sold in `outcome` (a run of this network with these shocks).
    pub fn explain(
        &mut self,
        outcome: &Outcome,
        holder: HolderIx,
    ) -> Result<Explanation, EngineError> {
        let i = holder.get();
        let Some(unit) = self.c.units.get(i) else {
            return Err(EngineError::NoSuchHolder {
                index: holder.0,
                count: self.c.units.len(),
            });
        };
        let kind = unit.kind;
        let lender = unit.margin.map(|m| LenderIx(m.lender as u32));
        let equity_before = self.equity0[i];
        let equity0 = self.equity0[i];
        let mut rounds = Vec::with_capacity(outcome.trace.len());
        self.each_round(outcome, &mut |c, s, round, p, ev| {
            rounds.push(explain_round(c, s, equity0, i, round, p, ev));
        })?;
        Ok(Explanation {
            holder,
            kind,
            lender,
            equity_before,
            rounds,
        })
    }
}

/// Run the cascade and explain `holder`: the outcome and the explanation.
pub fn explain(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    holder: HolderIx,
) -> Result<(Outcome, Explanation), EngineError> {
    if holder.get() >= net.holders().len() {
        return Err(EngineError::NoSuchHolder {
            index: holder.0,
            count: net.holders().len(),
        });
    }
    let outcome = crate::run(net, shocks, cfg)?;
    let explanation = Replay::new(net, shocks)?.explain(&outcome, holder)?;
    Ok((outcome, explanation))
}

/// The balance sheet of unit `i` at `p`.
fn sheet(c: &Compiled<'_>, i: usize, p: &[f64], ev: &Eval) -> Sheet {
    let u = &c.units[i];
    let value = rules::value(u, p);
    let (cash, loan) = match &u.rule {
        Rule::Book {
            cash_total,
            loan_total,
            ..
        } => (*cash_total, *loan_total),
        Rule::Cohort { buckets, .. } => (u.cash, buckets.iter().map(|b| b.loan).sum()),
        Rule::Etf { .. } => (0.0, 0.0),
        _ => (u.cash, u.margin.map_or(0.0, |m| m.loan)),
    };
    let recv = ev.cleared.recv[i];
    Sheet {
        value,
        cash,
        other_assets: u.other_assets,
        interbank_received: recv,
        assets: value + cash + u.other_assets + recv,
        margin_loan: loan,
        other_liabilities: u.other_liabilities,
        interbank_owed: u.owed,
        equity: ev.equity[i],
    }
}

#[allow(clippy::too_many_arguments)]
fn margin_test(
    bucket: Option<usize>,
    accounts: u64,
    value: f64,
    cash: f64,
    loan: f64,
    equity: f64,
    terms: (f64, f64),
    cure: f64,
) -> MarginTest {
    let (m, mr) = terms;
    let verdict = match margin::call(value, equity, m, mr, cure) {
        margin::Call::None => MarginVerdict::Clear,
        margin::Call::Met { sale, cure } => MarginVerdict::Called {
            required: (value - equity / mr).max(0.0),
            deposit: cure,
            sale: sale.min(value),
        },
        margin::Call::Default => MarginVerdict::Default {
            shortfall: (loan - value - cash).max(0.0),
        },
    };
    MarginTest {
        bucket,
        accounts,
        value,
        loan,
        equity,
        maintenance: m,
        reset: mr,
        cure_rate: cure,
        verdict,
    }
}

fn terms(link: &Margin, extra: &[f64]) -> (f64, f64) {
    Compiled::terms(link, extra)
}

/// The tests a balance-sheet holder (bank, leveraged fund) makes.
fn balance_sheet_tests(
    u: &Unit<'_>,
    rule: BalanceSheetRule,
    sh: &Sheet,
    extra: &[f64],
    tests: &mut Vec<Test>,
) {
    let below_ratio = u
        .default_below
        .filter(|d| sh.equity > 0.0 && sh.equity < d * sh.assets);
    if sh.equity <= 0.0 || below_ratio.is_some() {
        tests.push(Test::Insolvent {
            equity: sh.equity,
            value: sh.value,
            below_ratio,
        });
        return;
    }
    let (a, e) = (sh.assets, sh.equity);
    let (cut, fired) = match rule {
        BalanceSheetRule::Passive | BalanceSheetRule::FailLiquidate => (0.0, false),
        BalanceSheetRule::LeverageTarget { target, symmetric } => {
            let r = a - target * e;
            if r > 0.0 || symmetric {
                (r, r != 0.0)
            } else {
                (0.0, false)
            }
        }
        BalanceSheetRule::Threshold { max, target } => {
            if a > max * e {
                (a - target * e, true)
            } else {
                (0.0, false)
            }
        }
        BalanceSheetRule::CapitalRatio { min_ratio } => {
            if e < min_ratio * a {
                (a - e / min_ratio, true)
            } else {
                (0.0, false)
            }
        }
    };
    let sale = rules::tradable(cut, sh.value, u.cash, u.cash_use);
    let closed = matches!(rule, BalanceSheetRule::CapitalRatio { .. }) && sale > sh.value;
    tests.push(Test::BalanceSheet {
        rule,
        assets: a,
        equity: e,
        cut,
        fired,
        closed,
    });
    if fired && !closed {
        tests.push(Test::Cash {
            cut,
            cash: u.cash,
            value: sh.value,
            cash_use: u.cash_use,
            sale,
        });
    }
    if !closed && let Some(link) = &u.margin {
        tests.push(Test::Margin(margin_test(
            None,
            1,
            sh.value,
            u.cash,
            link.loan,
            e,
            terms(link, extra),
            0.0,
        )));
    }
}

/// An ETF's rebalance at `p`.
fn etf_test(
    c: &Compiled<'_>,
    u: &Unit<'_>,
    p: &[f64],
    l: f64,
    nav0: f64,
    weights: &[f64],
    f: f64,
) -> Test {
    let r: f64 = u
        .assets
        .iter()
        .zip(weights)
        .map(|(&a, w)| w * (p[a as usize] / c.p0[a as usize] - 1.0))
        .sum();
    let bound = (f - 1.0) / l;
    let (rb, wiped) = if l > 0.0 {
        (r.max(bound), r <= bound)
    } else {
        (r.min(bound), r >= bound)
    };
    Test::EtfRebalance {
        multiple: l,
        nav0,
        basket_return: r,
        bounded_return: rb,
        redemption: f,
        nav: (nav0 * (1.0 + l * r)).max(0.0),
        // Wiped out: the whole synthetic position goes, asset by asset (rules/etf.rs).
        trade: if wiped {
            -u.assets
                .iter()
                .zip(&u.shares)
                .map(|(&a, e)| e * p[a as usize])
                .sum::<f64>()
        } else {
            l * ((l - 1.0) * rb - f) * nav0
        },
        wiped,
    }
}

/// An unlevered fund's tests: solvency, redemptions, its cash policy, any margin.
fn fund_tests(
    u: &Unit<'_>,
    beta: f64,
    equity0: f64,
    f: f64,
    sh: &Sheet,
    extra: &[f64],
    tests: &mut Vec<Test>,
) {
    if sh.equity <= 0.0 {
        tests.push(Test::Insolvent {
            equity: sh.equity,
            value: sh.value,
            below_ratio: None,
        });
        return;
    }
    let nav0 = equity0.max(0.0);
    let ret = if nav0 > 0.0 {
        sh.equity / nav0 - 1.0
    } else {
        0.0
    };
    let outflow = beta * (-ret).max(0.0) * nav0 + f * nav0;
    tests.push(Test::Redemption {
        nav0,
        nav: sh.equity,
        nav_return: ret,
        beta,
        shock_fraction: f,
        outflow,
    });
    if outflow != 0.0 {
        tests.push(Test::Cash {
            cut: outflow,
            cash: u.cash,
            value: sh.value,
            cash_use: u.cash_use,
            sale: rules::tradable(outflow, sh.value, u.cash, u.cash_use),
        });
    }
    if let Some(link) = &u.margin {
        tests.push(Test::Margin(margin_test(
            None,
            1,
            sh.value,
            u.cash,
            link.loan,
            sh.equity,
            terms(link, extra),
            0.0,
        )));
    }
}

/// Value of all starting positions (gross of sign) at `p` over their pre-shock value.
fn price_index(c: &Compiled<'_>, p: &[f64]) -> f64 {
    let (mut now, mut before) = (0.0, 0.0);
    for u in &c.units {
        for (&a, s) in u.assets.iter().zip(&u.shares) {
            if c.is_etf_share(a) {
                continue;
            }
            now += s.abs() * p[a as usize];
            before += s.abs() * c.p0[a as usize];
        }
    }
    if before > 0.0 { now / before } else { 1.0 }
}

/// Explain unit `i` in one round.
fn explain_round(
    c: &Compiled<'_>,
    s: &Shocked,
    equity0: f64,
    i: usize,
    round: u32,
    p: &[f64],
    ev: &Eval,
) -> ExplainRound {
    let u = &c.units[i];
    let extra = extra_margin(c, s, &ev.tightened);
    // Holders of ETF shares see them at NAV per share (the round's pseudo-asset prices).
    let px: Vec<f64> = p.iter().chain(&ev.nav_ps).copied().collect();
    let p_round = p;
    let p: &[f64] = &px;
    let sh = sheet(c, i, p, ev);
    let terms = |link: &Margin, extra: &[f64]| {
        let (m, mr) = terms(link, extra);
        margin::rates(u, p, sh.value, m, mr)
    };
    let mut tests = Vec::new();
    match &u.rule {
        Rule::Account { cure } => {
            if let Some(link) = &u.margin {
                let e = sh.value + u.cash + u.other_assets + sh.interbank_received
                    - link.loan
                    - u.other_liabilities
                    - u.owed;
                tests.push(Test::Margin(margin_test(
                    None,
                    1,
                    sh.value,
                    u.cash,
                    link.loan,
                    e,
                    terms(link, &extra),
                    *cure,
                )));
            }
        }
        Rule::Cohort { cure, buckets } => {
            if let Some(link) = &u.margin {
                for (k, b) in buckets.iter().enumerate() {
                    let v = b.share * sh.value;
                    let cash = b.share * u.cash;
                    tests.push(Test::Margin(margin_test(
                        Some(k),
                        b.accounts,
                        v,
                        cash,
                        b.loan,
                        v + cash - b.loan,
                        terms(link, &extra),
                        *cure,
                    )));
                }
            }
        }
        Rule::Book { cure, book, .. } => {
            let d = &ev.decisions[i];
            // The book's own terms: each row scales them by its ETF shares (its positions).
            let (m, mr) = u.margin.map_or((0.0, 0.0), |l| Compiled::terms(&l, &extra));
            tests.push(Test::Book {
                accounts: book.len() as u64,
                maintenance: m,
                reset: mr,
                cure_rate: *cure,
                calls: d.calls,
                defaults: d.defaults,
                sale: d.sale_usd,
                deposit: d.cure_usd,
            });
        }
        Rule::Etf {
            multiple,
            nav0,
            weights,
            carried: _,
        } => tests.push(etf_test(
            c,
            u,
            p,
            *multiple,
            *nav0,
            weights,
            s.redemption[i] + holders_redemption(c, ev, i),
        )),
        Rule::BalanceSheet { rule } => balance_sheet_tests(u, *rule, &sh, &extra, &mut tests),
        Rule::Fund { beta } => {
            fund_tests(u, *beta, equity0, s.redemption[i], &sh, &extra, &mut tests);
        }
        Rule::Dealer { .. } | Rule::VolTarget { .. } | Rule::Trend { .. } => {
            convexity_tests(c, u, p, equity0, &sh, &mut tests);
        }
    }
    let d = &ev.decisions[i];
    ExplainRound {
        round,
        price_index: price_index(c, p_round),
        sheet: sh,
        tests,
        sale_usd: d.sale_usd,
        deposit_usd: d.cure_usd,
        status: d.status,
        calls: d.calls,
        defaults: d.defaults,
        shares_sold: shares_sold(c, u, &ev.sold[i]),
        lender_tightened: u.margin.is_some_and(|m| ev.tightened[m.lender]),
        etf_positions: etf_positions(c, u, &ev.sold[i], p, &extra),
    }
}

/// The fraction of fund `i` its holders' forced sales redeem.
fn holders_redemption(c: &Compiled<'_>, ev: &Eval, i: usize) -> f64 {
    c.classes
        .iter()
        .zip(&ev.redeemed)
        .filter(|(k, _)| k.unit == i)
        .map(|(k, x)| x / k.outstanding)
        .sum()
}

/// Cumulative shares sold per asset position (ETF shares are in `etf_positions`).
fn shares_sold(c: &Compiled<'_>, u: &Unit<'_>, sold: &[f64]) -> Vec<(AssetIx, f64)> {
    u.assets
        .iter()
        .zip(sold)
        .filter(|(a, _)| !c.is_etf_share(**a))
        .map(|(&a, &x)| (AssetIx(a), x))
        .collect()
}

/// A unit's leveraged ETF share positions at extended prices `p`.
fn etf_positions(
    c: &Compiled<'_>,
    u: &Unit<'_>,
    sold: &[f64],
    p: &[f64],
    extra: &[f64],
) -> Vec<EtfPosition> {
    let Some(mult) = &u.etf_mult else {
        return Vec::new();
    };
    let m = u.margin.map_or(0.0, |l| Compiled::terms(&l, extra).0);
    u.assets
        .iter()
        .zip(&u.shares)
        .zip(sold)
        .zip(mult)
        .filter(|(((a, _), _), _)| c.is_etf_share(**a))
        .map(|(((&a, &shares), &x), &k)| EtfPosition {
            fund: HolderIx(c.classes[a as usize - c.n_assets].unit as u32),
            shares,
            sold: x,
            nav_per_share: p[a as usize],
            maintenance: (m * k).min(1.0),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    // The textbook margin account: every round's margin test gives the engine's own sale.
    #[test]
    fn margin_call_numbers_match_the_engine() {
        let net = synth::textbook_margin(0.25).expect("valid network");
        let shocks = [Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.40,
        }];
        let (out, x) =
            explain(&net, &shocks, &EngineConfig::default(), HolderIx(0)).expect("valid shocks");
        assert_eq!(x.rounds.len(), out.trace.len());
        let mut fired = 0;
        for r in &x.rounds {
            for t in &r.tests {
                if let Test::Margin(m) = t {
                    match m.verdict {
                        MarginVerdict::Called { sale, .. } => {
                            fired += 1;
                            assert!(m.equity < m.maintenance * m.value);
                            assert!(close(sale, r.sale_usd), "{sale} vs {}", r.sale_usd);
                        }
                        MarginVerdict::Default { .. } => {
                            fired += 1;
                            assert!(close(m.value, r.sale_usd));
                        }
                        MarginVerdict::Clear => assert_eq!(r.sale_usd, 0.0),
                    }
                }
            }
        }
        assert!(fired > 0, "the margin call should fire: {x:?}");
        let last = x.rounds.last().expect("a round");
        assert_eq!(last.status, out.holders[0].status);
    }

    // Replaying every round reproduces the run's final decisions exactly.
    #[test]
    fn replay_reproduces_the_final_round() {
        let net = synth::textbook_margin(0.30).expect("valid network");
        let shocks = [Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.35,
        }];
        let out = crate::run(&net, &shocks, &EngineConfig::default()).expect("runs");
        let mut replay = Replay::new(&net, &shocks).expect("valid shocks");
        let mut last = None;
        let mut n = 0;
        replay
            .rounds(&out, &mut |r| {
                n += 1;
                last = Some(r.clone());
            })
            .expect("same network");
        assert_eq!(n, out.trace.len());
        let last = last.expect("a round");
        for (h, o) in last.holders.iter().zip(&out.holders) {
            assert_eq!(h.status, o.status);
            assert_eq!(h.calls, o.margin_calls);
            assert_eq!(h.defaults, o.defaults);
        }
    }

    // The trace's per-kind sales add up to its total, round by round.
    #[test]
    fn sales_by_kind_add_up() {
        let net = synth::textbook_margin(0.25).expect("valid network");
        let shocks = [Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.40,
        }];
        let out = crate::run(&net, &shocks, &EngineConfig::default()).expect("runs");
        for t in &out.trace {
            assert_eq!(t.sales_by_kind.len(), 1);
            assert_eq!(t.sales_by_kind[0].0, KindTag::MarginAccount);
            let sum: f64 = t.sales_by_kind.iter().map(|(_, x)| x).sum();
            assert!(close(sum, t.sales_usd), "{sum} vs {}", t.sales_usd);
        }
    }

    #[test]
    fn unknown_holder_and_foreign_outcome_are_errors() {
        let net = synth::textbook_margin(0.25).expect("valid network");
        let cfg = EngineConfig::default();
        assert!(matches!(
            explain(&net, &[], &cfg, HolderIx(9999)),
            Err(EngineError::NoSuchHolder { index: 9999, .. })
        ));
        let mut out = crate::run(&net, &[], &cfg).expect("runs");
        out.assets.clear();
        let mut replay = Replay::new(&net, &[]).expect("no shocks");
        assert!(matches!(
            replay.explain(&out, HolderIx(0)),
            Err(EngineError::ForeignOutcome)
        ));
        let seq = EngineConfig {
            mode: Mode::Sequential,
            ..EngineConfig::default()
        };
        assert!(matches!(
            explain(&net, &[], &seq, HolderIx(0)),
            Err(EngineError::SequentialReplay)
        ));
    }
}
