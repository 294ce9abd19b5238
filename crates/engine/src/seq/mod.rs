//! The sequential mode: the rounds of Cont & Schaanning (2017) and Farmer et al. (2020).
//!
//! Round `t`, at the previous round's prices `p_{t−1}` (`p_0` = the shocked prices):
//!
//! 1. every holder evaluates its rule on its *current* balance sheet (positions, cash,
//!    loans, liabilities carried over from the last round) at `p_{t−1}` — the same rule
//!    functions as the equilibrium mode, applied to the current state; a holder found
//!    insolvent sells everything; an order smaller than `tolerance ×` the holder's
//!    tradable holdings is not placed;
//! 2. the orders are collected and cleared together: with `S_t` the cumulative net shares
//!    sold and `X` the exogenous sales (cleared in round 1),
//!    `p_t = max(ε·p0, p_s ⊙ g((S_t + X)·p0))` — the equilibrium mode's price map, so a
//!    given total sold moves prices the same way in both modes;
//! 3. every order settles at the midpoint `(p_{t−1} + p_t)/2`;
//! 4. balance sheets update: proceeds repay the margin loan, then other liabilities, the
//!    rest is cash; cash a rule spends first pays liabilities (or redemptions); defaulted
//!    holders pay what they have towards their debts and stay defaulted.
//!
//! The run stops after the first round in which no holder places an order (`Converged`),
//! or at `max_rounds` (`MaxRounds`: an outcome, not an error). Holders never see each
//! other's orders within a round, so the result does not depend on their order; sums run
//! in holder order and books in fixed chunks, so it is bit-identical on any thread count.

mod assemble;

use rayon::prelude::*;

use crate::carry::{settle_fund, settle_margin, settle_sheet, settle_sheet_held, take};
use assemble::Finish;

use crate::clearing::{Cleared, HolderNode, clear};
use crate::compile::{Compiled, Margin, Rule, Shares, Unit};
use crate::fixpoint::{by_kind, fraction_sold};
use crate::ledger::Ledger;
use crate::observer::Observer;
use crate::outcome::{Outcome, RoundTrace, Status, Termination, push_bounded};
use crate::rules::balance_sheet::{self, finish, liquidate, sheet};
use crate::rules::book::{self, BookRows, CALLED, DEFAULTED, SeqStats, Terms};
use crate::rules::{self, Decision, Env, cash_spent, margin, tradable};
use crate::shocks::{PRICE_FLOOR, Shocked};
use crate::spec::{EngineConfig, Settlement};

/// One holder as the sequential mode carries it from round to round.
#[derive(Debug, Clone)]
struct State<'a> {
    /// A copy of the compiled holder whose positions (`shares`), cash, margin loan and
    /// other liabilities are the current ones. Books: `shares` are the book's current
    /// totals per asset. Cohorts: the sum of the buckets' positions.
    unit: Unit<'a>,
    /// Cohorts: one margin account per loan-to-value bucket, each with its own positions,
    /// cash and loan (buckets diverge once some of them sell).
    buckets: Vec<Unit<'a>>,
    /// [`CALLED`] / [`DEFAULTED`] per bucket.
    bucket_flags: Vec<u8>,
    /// Books: the accounts (boxed: a state is kept per holder, and few are books).
    rows: Option<Box<BookRows>>,
    /// [`CALLED`] / [`DEFAULTED`] of a single holder.
    flags: u8,
    /// ETFs: NAV at the last prices (may go below 0: the fund is then wiped out).
    nav: f64,
    /// ETFs whose shares others hold: shares outstanding now.
    shares_out: f64,
    /// Holders of ETF shares: proceeds of the shares sold (redeemed at NAV per share),
    /// USD — part of `proceeds`, but not of the market's losses.
    etf_proceeds: f64,
    /// Funds and ETFs: paid out to redeeming investors so far, USD.
    paid_out: f64,
    /// Shares sold so far, per position (books: per asset).
    sold: Shares,
    /// Proceeds at the midpoint prices so far, USD (negative: paid for purchases).
    proceeds: f64,
    /// Sales the rule asked for, USD at the decision prices, summed over rounds.
    planned: f64,
    /// Debt repaid out of proceeds, USD.
    repaid: f64,
    /// Fresh cash deposited against calls, USD.
    cure: f64,
    /// Settlement at the next decision: sale proceeds held as cash until the holder's next
    /// decision (banks and leveraged funds), USD; always 0 when settling at settlement.
    held: f64,
    /// The worst status of any round.
    status: Status,
}

/// Per-holder facts of a decision that settlement needs.
#[derive(Debug, Clone, Copy, Default)]
struct Extra {
    /// Funds: the redemption outflow asked for this round, USD.
    outflow: f64,
    /// ETFs: redemption paid out this round, USD.
    redeemed: f64,
    /// ETFs whose shares others hold: shares retired this round (its holders' sales and
    /// a redemption shock's fraction), and those its holders sold.
    retired: f64,
    retired_by_holders: f64,
}

/// One holder's order in a round.
#[derive(Debug, Clone)]
struct Order {
    /// Shares sold per position (books: per asset; negative: bought).
    sold: Shares,
    d: Decision,
    extra: Extra,
    /// Cohorts: each bucket's shares sold and decision.
    buckets: Vec<(Vec<f64>, Decision)>,
    /// Accounts (or the holder) called / defaulted for the first time.
    new_calls: u64,
    new_defaults: u64,
}

/// A round's orders, the system at the decision prices.
#[derive(Debug, Clone)]
struct Round {
    orders: Vec<Order>,
    /// Equity per holder at the decision prices.
    equity: Vec<f64>,
    cleared: Cleared,
    tightened: Vec<bool>,
    /// Extra margin per lender in force this round.
    extra_margin: Vec<f64>,
    /// Net shares ordered per asset.
    total: Vec<f64>,
}

impl Order {
    /// No order (a held fund's, until its holders have decided).
    fn none() -> Self {
        Order {
            sold: Shares::new(),
            d: Decision::NONE,
            extra: Extra::default(),
            buckets: Vec::new(),
            new_calls: 0,
            new_defaults: 0,
        }
    }
}

impl Round {
    fn quiet(&self) -> bool {
        self.orders.iter().all(|o| o.sold.iter().all(|&x| x == 0.0))
    }
}

/// What every round's decisions need that does not change during the run.
struct Fixed {
    /// Interbank obligations at face per clearing node (holders, then lenders).
    owed: Vec<f64>,
    /// Whether any holder is an account book (else no round keeps a slot per holder for
    /// books' orders).
    books: bool,
}

/// The sequential run.
pub(crate) struct Seq<'x, 'a> {
    pub c: &'x Compiled<'a>,
    pub s: &'x Shocked,
    pub equity0: &'x [f64],
    pub cfg: &'x EngineConfig,
    /// Gross starting shares per asset (the price index's positions).
    pub gross: &'x [f64],
}

fn new_state<'a>(c: &Compiled<'a>, u: &Unit<'a>, s: &Shocked) -> State<'a> {
    let mut st = State {
        unit: u.clone(),
        buckets: Vec::new(),
        bucket_flags: Vec::new(),
        rows: None,
        flags: 0,
        nav: 0.0,
        shares_out: 0.0,
        etf_proceeds: 0.0,
        paid_out: 0.0,
        sold: Shares::from_elem(0.0, u.shares.len()),
        proceeds: 0.0,
        planned: 0.0,
        repaid: 0.0,
        cure: 0.0,
        held: 0.0,
        status: Status::Unaffected,
    };
    match &u.rule {
        Rule::Cohort { cure, buckets } => {
            st.buckets = buckets
                .iter()
                .map(|b| Unit {
                    rule: Rule::Account { cure: *cure },
                    shares: u.shares.iter().map(|x| b.share * x).collect(),
                    cash: b.share * u.cash,
                    other_assets: 0.0,
                    other_liabilities: 0.0,
                    owed: 0.0,
                    margin: u.margin.map(|m| Margin { loan: b.loan, ..m }),
                    ..u.clone()
                })
                .collect();
            st.bucket_flags = vec![0; buckets.len()];
        }
        Rule::Book { book, .. } => st.rows = Some(Box::new(BookRows::new(book))),
        Rule::Etf {
            multiple,
            nav0,
            weights,
            carried: _,
        } => {
            // NAV after the shock: the exposure marked from p0 to the shocked prices.
            let r: f64 = u
                .assets
                .iter()
                .zip(weights)
                .map(|(&a, w)| w * (s.price[a as usize] / c.p0[a as usize] - 1.0))
                .sum();
            st.nav = nav0 * (1.0 + multiple * r);
        }
        _ => {}
    }
    st
}

fn extra_margin(c: &Compiled<'_>, s: &Shocked, tight: &[bool]) -> Vec<f64> {
    c.lenders
        .iter()
        .enumerate()
        .map(|(l, x)| s.tighten[l] + if tight[l] { x.tighten_by } else { 0.0 })
        .collect()
}

fn terms<'r>(c: &'r Compiled<'_>, u: &'r Unit<'_>, extra: &[f64], cure: f64) -> Option<Terms<'r>> {
    let link = u.margin.as_ref()?;
    let (maintenance, reset) = Compiled::terms(link, extra);
    Some(Terms {
        maintenance,
        reset,
        cure,
        order: u.sale_order,
        rank: &c.rank,
        // A book holding ETF shares: the maintenance multiple per price index.
        mult: u.etf_mult.as_deref(),
        today: 0,
        cure_days: 0,
    })
}

/// The price vector holders see: the assets' prices, then each held fund's NAV per share
/// (its NAV at the last prices over its shares outstanding).
fn extended(c: &Compiled<'_>, states: &[State<'_>], p: &[f64]) -> Vec<f64> {
    let mut px = p.to_vec();
    px.extend(c.classes.iter().map(|k| {
        let st = &states[k.unit];
        if st.shares_out > 0.0 {
            st.nav.max(0.0) / st.shares_out
        } else {
            0.0
        }
    }));
    px
}

/// Value of the positions at `p` (ETFs: the exposure).
fn value(u: &Unit<'_>, p: &[f64]) -> f64 {
    rules::value(u, p)
}

/// `buf` as `n` zeros.
fn reused(mut buf: Shares, n: usize) -> Shares {
    // Nearly always the length it had last round: zeroed in place (the resize showed in
    // a profile of the rounds).
    if buf.len() == n {
        buf.fill(0.0);
    } else {
        buf.clear();
        buf.resize(n, 0.0);
    }
    buf
}

/// Sell everything a holder still has (a defaulted holder's order in later rounds).
fn sell_rest(u: &Unit<'_>, out: &mut [f64]) -> Decision {
    out.copy_from_slice(&u.shares);
    Decision {
        status: Status::Defaulted,
        sale_usd: 0.0,
        ..Decision::NONE
    }
}

impl<'a> Seq<'_, 'a> {
    /// Run the rounds from the pre-shock balance sheets (`nav_ps0`: each held ETF's NAV
    /// per share then); the outcome and ledger.
    pub fn run(&self, nav_ps0: &[f64], observer: &mut dyn Observer) -> (Outcome, Ledger) {
        let c = self.c;
        let n = c.n_assets;
        let (mut states, fixed) = self.start();
        // Each holder's market sales so far at the round's closing prices (for the trace).
        let mut sold_usd = vec![0.0; states.len()];
        for k in &c.classes {
            states[k.unit].shares_out = k.outstanding;
        }
        let mut redeemed_by_holders = vec![0.0; c.classes.len()];
        let mut scratch = Vec::new();
        let mut p = self.s.price.clone();
        let mut tight = vec![false; c.lenders.len()];
        let mut cum = vec![0.0; n];
        let mut sales_at_mid = vec![0.0; n];
        let mut exo_usd = 0.0;
        let mut trace = Vec::new();
        let mut termination = Termination::MaxRounds;
        let mut rounds = 0;
        let mut residual = 0.0;
        let mut lender_defaults = 0u64;
        let mut equity_shocked = Vec::new();
        // The last round's orders, whose vectors the next round reuses.
        let mut spare = Vec::new();
        for t in 1..=self.cfg.max_rounds {
            let _span = tracing::debug_span!("round", round = t, mode = "sequential").entered();
            let round = self.decide(
                &mut states,
                (t, &p),
                &tight,
                (&fixed, &mut scratch),
                Some(&mut spare),
            );
            if t == 1 {
                equity_shocked.clone_from(&round.equity);
            }
            let quiet = round.quiet() && (t > 1 || self.s.exo_shares.iter().all(|&x| x == 0.0));
            // Clear the round: cumulative sales through the equilibrium's price map.
            for (k, x) in round.total.iter().enumerate() {
                cum[k] += x;
            }
            let next = if quiet {
                p.clone()
            } else {
                self.clear_prices(&cum)
            };
            let mid: Vec<f64> = p.iter().zip(&next).map(|(a, b)| 0.5 * (a + b)).collect();
            // ETF shares are redeemed at the NAV per share the round decided at.
            let p_ext = extended(c, &states, &p);
            let mut mid_ext = mid.clone();
            mid_ext.extend_from_slice(&p_ext[n..]);
            for (k, class) in c.classes.iter().enumerate() {
                redeemed_by_holders[k] += round.orders[class.unit].extra.retired_by_holders;
            }
            for k in 0..n {
                sales_at_mid[k] += round.total[k] * mid[k];
            }
            if t == 1 {
                exo_usd = self.s.exo_shares.iter().zip(&mid).map(|(x, m)| x * m).sum();
            }
            residual = p
                .iter()
                .zip(&next)
                .map(|(a, b)| (b - a).abs() / a)
                .fold(0.0, f64::max);
            self.settle(&mut states, &round, &p_ext, &next, &mid_ext, &mut sold_usd);
            rounds = t;
            let now_lender_defaults = lender_default_count(c, &round.cleared);
            let new_defaults = round.orders.iter().map(|o| o.new_defaults).sum::<u64>()
                + now_lender_defaults.saturating_sub(lender_defaults);
            lender_defaults = lender_defaults.max(now_lender_defaults);
            let tr = self.trace_round(t, &sold_usd, &round, &cum, &next, residual, new_defaults);
            tracing::debug!(round = t, residual, sales_usd = tr.sales_usd, "round done");
            observer.round(&tr);
            push_bounded(&mut trace, tr);
            tight.clone_from(&round.tightened);
            spare = round.orders;
            p = next;
            if quiet {
                termination = Termination::Converged;
                break;
            }
        }
        // The balance sheets at the final prices (no orders: nothing is sold after the
        // last round).
        let end = self.decide(
            &mut states,
            (rounds + 1, &p),
            &tight,
            (&fixed, &mut scratch),
            None,
        );
        self.assemble(&Finish {
            redeemed_by_holders: &redeemed_by_holders,
            states: &states,
            nav_ps0,
            equity_shocked: &equity_shocked,
            end: &end,
            prices: &p,
            cum: &cum,
            sales_at_mid: &sales_at_mid,
            exo_usd,
            trace,
            rounds,
            residual,
            termination,
        })
    }

    /// Every holder's starting state, and what does not change during the run.
    fn start(&self) -> (Vec<State<'a>>, Fixed) {
        let c = self.c;
        // On every core: a state is large, and there is one per holder.
        let states: Vec<State<'a>> = c
            .units
            .par_iter()
            .map(|u| new_state(c, u, self.s))
            .collect();
        let fixed = Fixed {
            owed: c
                .units
                .iter()
                .map(|u| u.owed)
                .chain(c.lenders.iter().map(|l| l.owed))
                .collect(),
            books: c.units.iter().any(|u| matches!(u.rule, Rule::Book { .. })),
        };
        (states, fixed)
    }

    /// Prices after a round: `p_s ⊙ g((S + X)·p0)` with `S` the cumulative net sales,
    /// floored.
    fn clear_prices(&self, cum: &[f64]) -> Vec<f64> {
        let c = self.c;
        (0..c.n_assets)
            .map(|k| {
                let floor = c.p0[k] * PRICE_FLOOR;
                let q = (cum[k] + self.s.exo_shares[k]) * c.p0[k];
                let x = (self.s.price[k] * c.laws[k].factor(q)).max(floor);
                if x.is_finite() { x } else { floor }
            })
            .collect()
    }

    /// The trace of round `t`, which ended at prices `next`.
    #[allow(clippy::too_many_arguments)]
    fn trace_round(
        &self,
        t: u32,
        sold_usd: &[f64],
        round: &Round,
        cum: &[f64],
        next: &[f64],
        residual: f64,
        new_defaults: u64,
    ) -> RoundTrace {
        let c = self.c;
        let value0: f64 = self.gross.iter().zip(&c.p0).map(|(g, p)| g * p).sum();
        let (sellers, sales_by_kind) = (top_sellers(sold_usd, 5), by_kind(c, sold_usd));
        RoundTrace {
            day: 0,
            round: t,
            sales_usd: cum.iter().zip(next).map(|(s, p)| s * p).sum(),
            price_index: if value0 > 0.0 {
                self.gross.iter().zip(next).map(|(g, p)| g * p).sum::<f64>() / value0
            } else {
                1.0
            },
            new_calls: round.orders.iter().map(|o| o.new_calls).sum(),
            new_defaults,
            residual,
            prices: next.to_vec(),
            largest_sellers: sellers,
            sales_by_kind,
            fraction_sold: fraction_sold(c, self.gross, cum),
        }
    }

    /// Every holder's order at prices `p` on its current state (read only), the orders'
    /// vectors taken from `spare` (last round's); with no `spare`, the balance sheets
    /// only (equity, clearing, tightening) and no orders.
    fn decide(
        &self,
        states: &mut [State<'a>],
        (round, p): (u32, &[f64]),
        prev_tight: &[bool],
        (fixed, scratch): (&Fixed, &mut Vec<f64>),
        spare: Option<&mut Vec<Order>>,
    ) -> Round {
        let c = self.c;
        let nu = states.len();
        let min_order = self.cfg.tolerance;
        let mut extra = extra_margin(c, self.s, prev_tight);
        // Holders see ETF shares at NAV per share; the funds decide after them (5).
        let p_ext = extended(c, states, p);
        let p: &[f64] = &p_ext;
        // 1. Books under the tightening carried in.
        let mut book_orders: Vec<Option<(Vec<f64>, SeqStats)>> = Vec::new();
        if fixed.books {
            book_orders.resize(nu, None);
            self.books(
                states,
                p,
                &extra,
                None,
                min_order,
                &mut book_orders,
                scratch,
            );
        }
        // 2. Values and clearing (one pass over the states, on every core: they are large).
        let (values, nodes): (Vec<f64>, Vec<HolderNode>) = states
            .par_iter()
            .enumerate()
            .map(|(i, st)| {
                let v = value(&st.unit, p);
                (v, node(st, p, v, book_of(&book_orders, i).map(|b| &b.1)))
            })
            .unzip();
        let cleared = clear(&nodes, &c.lenders, &c.claims, &fixed.owed);
        let tightened: Vec<bool> = c
            .lenders
            .iter()
            .enumerate()
            .map(|(l, x)| {
                let loss = cleared.borrower_losses[l] + cleared.interbank_losses[nu + l];
                prev_tight[l] || x.trigger.is_some_and(|t| loss > t * x.capital)
            })
            .collect();
        // 3. Books whose lender just tightened decide again; everyone else decides under
        // the new terms.
        if tightened != prev_tight {
            let new_extra = extra_margin(c, self.s, &tightened);
            if fixed.books {
                self.books(
                    states,
                    p,
                    &new_extra,
                    Some(&extra),
                    min_order,
                    &mut book_orders,
                    scratch,
                );
            }
            extra = new_extra;
        }
        let mut equity = vec![0.0; nu];
        let Some(spare) = spare else {
            // The balance sheets alone: each holder's equity does not depend on its order.
            equity
                .par_iter_mut()
                .zip(states.par_iter())
                .enumerate()
                .for_each(|(i, (e, st))| {
                    let book = book_of(&book_orders, i).map(|b| &b.1);
                    *e = equity_of(st, p, values[i], cleared.recv[i], book);
                });
            return Round {
                orders: Vec::new(),
                equity,
                cleared,
                tightened,
                extra_margin: extra,
                total: vec![0.0; c.n_assets],
            };
        };
        // 4. Everyone else, in parallel; each writes only its own order, and its equity
        // at the decision prices (while its state is at hand).
        // Last round's orders, their `sold` vectors refilled rather than allocated again.
        let mut orders = std::mem::take(spare);
        orders.truncate(nu);
        orders.resize_with(nu, Order::none);
        orders
            .par_iter_mut()
            .zip(equity.par_iter_mut())
            .zip(states.par_iter())
            .enumerate()
            .for_each(|(i, ((o, e), st))| {
                let env = (values.as_slice(), cleared.recv.as_slice(), extra.as_slice());
                let buf = std::mem::take(&mut o.sold);
                let book = book_of(&book_orders, i);
                *o = self.order(st, (i, round), p, env, book, buf);
                *e = equity_of(st, p, values[i], cleared.recv[i], book.map(|b| &b.1));
            });
        // 5. Holders' ETF shares sold are redeemed by their funds.
        let env = (values.as_slice(), cleared.recv.as_slice(), extra.as_slice());
        mute(c, &mut orders);
        self.redeem(states, &mut orders, p, env, round, min_order);
        mute(c, &mut orders);
        let total = net_total(c, states, &orders);
        Round {
            orders,
            equity,
            cleared,
            tightened,
            extra_margin: extra,
            total,
        }
    }

    /// Each held fund's order, after its holders': the shares they sold are redeemed,
    /// paid at NAV per share on top of any redemption shock (a fraction of the starting
    /// NAV, in round 1). `(values, recv, extra)` are the round's.
    fn redeem(
        &self,
        states: &[State<'a>],
        orders: &mut [Order],
        p: &[f64],
        (values, recv, extra): (&[f64], &[f64], &[f64]),
        round: u32,
        min_order: f64,
    ) {
        let c = self.c;
        for (k, class) in c.classes.iter().enumerate() {
            let i = class.unit;
            let a = (c.n_assets + k) as u32;
            let x: f64 = states
                .iter()
                .zip(orders.iter())
                .map(|(st, o)| {
                    st.unit
                        .assets
                        .iter()
                        .zip(&o.sold)
                        .filter(|(b, _)| **b == a)
                        .map(|(_, x)| x)
                        .sum::<f64>()
                })
                .sum();
            let st = &states[i];
            let shock = if round == 1 {
                self.s.redemption[i]
            } else {
                0.0
            };
            let nav0 = match st.unit.rule {
                Rule::Etf { nav0, .. } => nav0,
                _ => 0.0,
            };
            let env = Env {
                value: values[i],
                recv: recv[i],
                extra,
                redemption: if nav0 > 0.0 {
                    shock + x * p[a as usize] / nav0
                } else {
                    shock
                },
                equity0: self.equity0[i],
                held: 0.0,
            };
            let mut o = self.decide_unit(st, p, &env, min_order, Shares::new());
            o.extra.retired = shock * st.shares_out + x;
            o.extra.retired_by_holders = x;
            orders[i] = o;
        }
    }

    /// Decide pass over every book (only those whose lender's extra margin differs from
    /// `only`, when given).
    #[allow(clippy::too_many_arguments)]
    fn books(
        &self,
        states: &mut [State<'a>],
        p: &[f64],
        extra: &[f64],
        only: Option<&[f64]>,
        min_order: f64,
        out: &mut [Option<(Vec<f64>, SeqStats)>],
        scratch: &mut Vec<f64>,
    ) {
        for (i, st) in states.iter_mut().enumerate() {
            let (Rule::Book { cure, book, .. }, Some(rows)) = (&st.unit.rule, &mut st.rows) else {
                continue;
            };
            if let (Some(old), Some(m)) = (only, st.unit.margin)
                && old.get(m.lender) == extra.get(m.lender)
            {
                continue;
            }
            if let Some(t) = terms(self.c, &st.unit, extra, *cure) {
                out[i] = Some(book::seq_decide(book, rows, p, &t, min_order, scratch));
            }
        }
    }

    /// Holder `i`'s order in round `round`: a book's from `book`, none for a fund whose
    /// holders decide first, else its rule's (`buf`: a vector to reuse for its sales).
    fn order(
        &self,
        st: &State<'a>,
        (i, round): (usize, u32),
        p: &[f64],
        (values, recv, extra): (&[f64], &[f64], &[f64]),
        book: Option<&(Vec<f64>, SeqStats)>,
        buf: Shares,
    ) -> Order {
        if let Some((sold, stats)) = book {
            return book_order(sold, stats);
        }
        if self.c.classes.iter().any(|k| k.unit == i) {
            return Order::none();
        }
        let env = Env {
            value: values[i],
            recv: recv[i],
            extra,
            // A fund's redemption stays in its cumulative outflow target; an ETF's is paid
            // out once, in round 1.
            redemption: if round == 1 || matches!(st.unit.rule, Rule::Fund { .. }) {
                self.s.redemption[i]
            } else {
                0.0
            },
            equity0: self.equity0[i],
            held: st.held,
        };
        self.decide_unit(st, p, &env, self.cfg.tolerance, buf)
    }

    /// One (non-book) holder's order; `buf`: a vector to reuse for its sales (its
    /// contents are replaced).
    fn decide_unit(
        &self,
        st: &State<'a>,
        p: &[f64],
        env: &Env<'_>,
        min_order: f64,
        buf: Shares,
    ) -> Order {
        let u = &st.unit;
        let mut sold = reused(buf, u.shares.len());
        let mut extra = Extra::default();
        let mut buckets = Vec::new();
        let (mut new_calls, mut new_defaults) = (0, 0);
        let d = if st.flags & DEFAULTED != 0 {
            sell_rest(u, &mut sold)
        } else {
            match &u.rule {
                Rule::Account { cure } => margin::account(u, p, env, *cure, &mut sold),
                Rule::Cohort { buckets: spec, .. } => {
                    let mut d = Decision::NONE;
                    for ((b, bs), &flags) in st.buckets.iter().zip(spec).zip(&st.bucket_flags) {
                        let mut out = vec![0.0; b.shares.len()];
                        let cure = match b.rule {
                            Rule::Account { cure } => cure,
                            _ => 0.0,
                        };
                        let bd = if flags & DEFAULTED != 0 {
                            sell_rest(b, &mut out)
                        } else {
                            let env_b = Env {
                                value: value(b, p),
                                recv: 0.0,
                                ..*env
                            };
                            let bd = margin::account(b, p, &env_b, cure, &mut out);
                            filtered(bd, &mut out, p, b, min_order)
                        };
                        if bd.calls > 0 && flags & CALLED == 0 {
                            new_calls += bs.accounts;
                        }
                        if bd.defaults > 0 && flags & DEFAULTED == 0 {
                            new_defaults += bs.accounts;
                        }
                        for (x, y) in sold.iter_mut().zip(&out) {
                            *x += y;
                        }
                        d.calls += bd.calls * bs.accounts;
                        d.defaults += bd.defaults * bs.accounts;
                        d.cure_usd += bd.cure_usd;
                        d.sale_usd += bd.sale_usd;
                        d.repaid_usd += bd.repaid_usd;
                        if bd.status != Status::Unaffected {
                            d.status = d.status.max(bd.status);
                        }
                        buckets.push((out, bd));
                    }
                    return Order {
                        sold,
                        d,
                        extra,
                        buckets,
                        new_calls,
                        new_defaults,
                    };
                }
                Rule::Etf {
                    multiple,
                    nav0,
                    weights,
                    carried: _,
                } => {
                    let (d, redeemed) = self.etf(st, p, *multiple, *nav0, weights, env, &mut sold);
                    extra.redeemed = redeemed;
                    d
                }
                Rule::BalanceSheet { rule } => {
                    balance_sheet::balance_sheet(u, p, env, *rule, &mut sold)
                }
                Rule::Dealer { .. } | Rule::VolTarget { .. } | Rule::Trend { .. } => {
                    crate::rules::evaluate(self.c, u, p, env, &mut sold)
                }
                Rule::Fund { beta } => {
                    let (d, x) = fund(st, p, env, *beta, &mut sold);
                    extra = x;
                    d
                }
                Rule::Book { .. } => Decision::NONE,
            }
        };
        let d = if matches!(u.rule, Rule::Etf { .. }) {
            d
        } else {
            filtered(d, &mut sold, p, u, min_order)
        };
        if d.calls > 0 && st.flags & CALLED == 0 {
            new_calls = 1;
        }
        if d.defaults > 0 && st.flags & DEFAULTED == 0 {
            new_defaults = 1;
        }
        Order {
            sold,
            d,
            extra,
            buckets,
            new_calls,
            new_defaults,
        }
    }

    /// A leveraged or inverse ETF rebalancing its current exposure to `L ×` its current
    /// NAV (after any redemption), the dollar trade spread by basket weight. Returns the
    /// decision and the redemption paid out.
    #[allow(clippy::too_many_arguments)]
    fn etf(
        &self,
        st: &State<'_>,
        p: &[f64],
        l: f64,
        nav0: f64,
        weights: &[f64],
        env: &Env<'_>,
        out: &mut [f64],
    ) -> (Decision, f64) {
        let u = &st.unit;
        let redeemed = (env.redemption * nav0).min(st.nav.max(0.0));
        let nav = st.nav - redeemed;
        if nav <= 0.0 {
            // Wiped out: trade away the whole remaining exposure.
            out.copy_from_slice(&u.shares);
            let sale: f64 = u
                .assets
                .iter()
                .zip(&u.shares)
                .map(|(&a, e)| e * p[a as usize])
                .sum();
            let d = Decision {
                status: Status::Defaulted,
                defaults: 1,
                sale_usd: sale,
                paid_out_usd: redeemed,
                ..Decision::NONE
            };
            return (d, redeemed);
        }
        let exposure: f64 = value(u, p);
        let sale = exposure - l * nav;
        let mut traded = 0.0;
        for (k, (&a, w)) in u.assets.iter().zip(weights).enumerate() {
            let mut s = sale * w / p[a as usize];
            if l > 0.0 && s > 0.0 {
                s = s.min(u.shares[k].max(0.0));
            } else if l < 0.0 && s > 0.0 {
                // The equilibrium mode's bound on an inverse fund's added short, per round.
                s = s.min((l * l - l) * nav0 * w / self.c.p0[a as usize]);
            }
            out[k] = s;
            traded += s * p[a as usize];
        }
        let min_order = self.cfg.tolerance * exposure.abs();
        if traded.abs() <= min_order {
            out.fill(0.0);
            let d = Decision {
                paid_out_usd: redeemed,
                ..Decision::NONE
            };
            return (d, redeemed);
        }
        let d = Decision {
            status: if traded > 0.0 {
                Status::Sold
            } else {
                Status::Bought
            },
            sale_usd: traded,
            paid_out_usd: redeemed,
            ..Decision::NONE
        };
        (d, redeemed)
    }

    /// Execute every order at the midpoint prices and update the balance sheets; each
    /// holder's market sales so far, at `next`, go to `sold_usd`.
    fn settle(
        &self,
        states: &mut [State<'a>],
        round: &Round,
        p: &[f64],
        next: &[f64],
        mid: &[f64],
        sold_usd: &mut [f64],
    ) {
        states
            .par_iter_mut()
            .zip(sold_usd.par_iter_mut())
            .enumerate()
            .for_each(|(i, (st, usd))| {
                self.settle_one(st, i, &round.orders[i], &round.extra_margin, p, next, mid);
                *usd = market_sales(self.c, st, next);
            });
    }

    /// One holder's settlement (one arm per kind of balance sheet: long, not deep).
    #[allow(clippy::too_many_arguments, clippy::too_many_lines)]
    fn settle_one(
        &self,
        st: &mut State<'a>,
        i: usize,
        o: &Order,
        extra_margin: &[f64],
        p: &[f64],
        next: &[f64],
        mid: &[f64],
    ) {
        st.planned += o.d.sale_usd;
        if o.d.status != Status::Unaffected {
            st.status = st.status.max(o.d.status);
        }
        if !matches!(st.unit.rule, Rule::Book { .. } | Rule::Cohort { .. }) {
            if o.d.calls > 0 {
                st.flags |= CALLED;
            }
            if o.d.defaults > 0 || o.d.status == Status::Defaulted {
                st.flags |= DEFAULTED;
            }
        }
        let proceeds = value_at(&st.unit, &o.sold, mid);
        st.proceeds += proceeds;
        if st.unit.etf_mult.is_some() {
            st.etf_proceeds += etf_share_proceeds(self.c, &st.unit, &o.sold, mid);
        }
        for (s, x) in st.sold.iter_mut().zip(&o.sold) {
            *s += x;
        }
        let default = o.d.status == Status::Defaulted;
        match &st.unit.rule {
            Rule::Book { cure, book, .. } => {
                let min_order = self.cfg.tolerance;
                let muted = self.c.muted.get(i).copied().unwrap_or(false);
                if let (false, Some(tm), Some(rows)) = (
                    muted,
                    terms(self.c, &st.unit, extra_margin, *cure),
                    st.rows.as_mut(),
                ) {
                    let done = book::seq_settle(book, rows, p, mid, &tm, min_order);
                    st.repaid += done.repaid;
                    st.cure += done.cure;
                }
                take(&mut st.unit.shares, &o.sold);
            }
            Rule::Cohort { .. } => {
                for ((b, flags), (out, bd)) in st
                    .buckets
                    .iter_mut()
                    .zip(st.bucket_flags.iter_mut())
                    .zip(&o.buckets)
                {
                    let default = bd.status == Status::Defaulted;
                    *flags |=
                        if bd.calls > 0 { CALLED } else { 0 } | if default { DEFAULTED } else { 0 };
                    let bp = value_at(b, out, mid);
                    st.repaid += settle_margin(b, out, bp, bd.cure_usd, default);
                    st.cure += bd.cure_usd;
                }
                take(&mut st.unit.shares, &o.sold);
            }
            Rule::Account { .. } => {
                let cure = o.d.cure_usd;
                st.repaid += settle_margin(&mut st.unit, &o.sold, proceeds, cure, default);
                st.cure += cure;
            }
            Rule::Etf { .. } => {
                // NAV: the exposure held through the move, plus the traded shares marked
                // from the midpoint to the new price, less the redemption paid.
                let u = &mut st.unit;
                let held: f64 = u
                    .assets
                    .iter()
                    .zip(&u.shares)
                    .map(|(&a, e)| e * (next[a as usize] - p[a as usize]))
                    .sum();
                let traded: f64 = u
                    .assets
                    .iter()
                    .zip(&o.sold)
                    .map(|(&a, x)| x * (mid[a as usize] - next[a as usize]))
                    .sum();
                st.nav += held + traded - o.extra.redeemed;
                st.paid_out += o.extra.redeemed;
                st.shares_out = (st.shares_out - o.extra.retired).max(0.0);
                // Synthetic exposure: signed, never floored.
                for (s, x) in u.shares.iter_mut().zip(&o.sold) {
                    *s -= x;
                }
            }
            Rule::BalanceSheet { .. } if self.cfg.settlement == Settlement::AtNextDecision => {
                st.repaid +=
                    settle_sheet_held(&mut st.unit, &mut st.held, &o.sold, proceeds, &o.d, default);
            }
            Rule::BalanceSheet { .. } | Rule::VolTarget { .. } => {
                st.repaid += settle_sheet(&mut st.unit, &o.sold, proceeds, &o.d, default);
            }
            Rule::Dealer { .. } | Rule::Trend { .. } => {
                crate::carry::settle_synthetic(&mut st.unit, &o.sold, proceeds);
            }
            Rule::Fund { .. } if default => {
                st.repaid += settle_sheet(&mut st.unit, &o.sold, proceeds, &o.d, true);
            }
            Rule::Fund { .. } => {
                let (repaid, payout) =
                    settle_fund(&mut st.unit, &o.sold, proceeds, &o.d, o.extra.outflow);
                st.repaid += repaid;
                st.paid_out += payout;
            }
        }
    }
}

/// A holder's market sales so far at prices `next` (what
/// [`crate::fixpoint::round_sellers`] ranks; the trace's five largest are kept by a running
/// selection, [`top_sellers`]). ETF shares sold are redeemed, not sold in the market: the
/// fund's own sales for the redemption count instead.
fn market_sales(c: &Compiled<'_>, st: &State<'_>, next: &[f64]) -> f64 {
    st.unit
        .assets
        .iter()
        .zip(&st.sold)
        .filter(|(a, _)| !c.is_etf_share(**a))
        .map(|(&a, x)| x * next[a as usize])
        .sum()
}

/// The `k` largest positive amounts of `usd`, largest first, ties by index: what a full
/// sort by `(usd descending, index)` truncated to `k` gives, in `O(n·k)`.
fn top_sellers(usd: &[f64], k: usize) -> Vec<(delever_graph::HolderIx, f64)> {
    let mut top: Vec<(delever_graph::HolderIx, f64)> = Vec::with_capacity(k + 1);
    for (i, &x) in usd.iter().enumerate() {
        if x.is_nan() || x <= 0.0 {
            continue;
        }
        if top.len() == k && top.last().is_none_or(|l| x.total_cmp(&l.1).is_le()) {
            // Not above the k-th (an equal amount loses on its larger index).
            continue;
        }
        // After every kept amount at least as large (earlier indices win ties).
        let at = top.partition_point(|t| t.1.total_cmp(&x).is_ge());
        top.insert(at, (delever_graph::HolderIx(i as u32), x));
        top.truncate(k);
    }
    top
}

/// Holders whose forced selling is switched off place no order (their calls and
/// defaults stand).
fn mute(c: &Compiled<'_>, orders: &mut [Order]) {
    for (&m, o) in c.muted.iter().zip(orders.iter_mut()) {
        if m {
            o.sold.fill(0.0);
            for (b, _) in &mut o.buckets {
                b.fill(0.0);
            }
            o.d.sale_usd = 0.0;
            o.d.repaid_usd = 0.0;
            o.d.paid_out_usd = 0.0;
        }
    }
}

/// Net shares ordered per asset (ETF shares are redeemed, not sold in the market).
fn net_total(c: &Compiled<'_>, states: &[State<'_>], orders: &[Order]) -> Vec<f64> {
    let mut total = vec![0.0; c.n_assets];
    for (st, o) in states.iter().zip(orders) {
        for (&a, x) in st.unit.assets.iter().zip(&o.sold) {
            if let Some(t) = total.get_mut(a as usize) {
                *t += x;
            }
        }
    }
    total
}

/// Proceeds of the ETF shares in `sold` (pseudo-assets) at prices `p`.
fn etf_share_proceeds(c: &Compiled<'_>, u: &Unit<'_>, sold: &[f64], p: &[f64]) -> f64 {
    u.assets
        .iter()
        .zip(sold)
        .filter(|(a, _)| c.is_etf_share(**a))
        .map(|(&a, x)| x * p[a as usize])
        .sum()
}

/// Value of `sold` (aligned with the positions) at prices `p` (the midpoints).
fn value_at(u: &Unit<'_>, sold: &[f64], p: &[f64]) -> f64 {
    u.assets
        .iter()
        .zip(sold)
        .map(|(&a, x)| x * p[a as usize])
        .sum()
}

/// Drop an order smaller than `min_order ×` the holder's tradable holdings (defaults are
/// always placed).
fn filtered(d: Decision, sold: &mut [f64], p: &[f64], u: &Unit<'_>, min_order: f64) -> Decision {
    if d.status == Status::Defaulted {
        return d;
    }
    let traded: f64 = u
        .assets
        .iter()
        .zip(sold.iter())
        .map(|(&a, x)| (x * p[a as usize]).abs())
        .sum();
    let size = traded + d.cure_usd;
    if size == 0.0 && (d.cash_used > 0.0 || d.held_used > 0.0) {
        // Deleveraging with cash only: no order, but the balance sheet changes.
        return d;
    }
    if size <= min_order * value(u, p).abs() {
        sold.fill(0.0);
        return Decision {
            cash_used: d.cash_used,
            held_used: d.held_used,
            ..Decision::NONE
        };
    }
    d
}

/// An unlevered fund in the sequential mode: the cumulative outflow asked for is
/// `(β·max(0, −R) + f)·NAV0`, with `R = (E + paid out)/NAV0 − 1` the return of the fund
/// counting what it has paid to redeeming investors (as in the equilibrium mode,
/// redemptions paid do not change the return); this round pays what has not been paid
/// yet, from cash first (as its cash policy says), then from sales.
fn fund(st: &State<'_>, p: &[f64], env: &Env<'_>, beta: f64, out: &mut [f64]) -> (Decision, Extra) {
    let u = &st.unit;
    let s = sheet(u, env);
    // Insolvent when what it owns, counting what it paid out, no longer covers what it
    // owes (the equilibrium mode's test on the whole starting fund); with nothing left
    // once every investor has redeemed, it is simply done.
    if s.e + st.paid_out <= 0.0 {
        return (liquidate(u, p, &s, out), Extra::default());
    }
    if s.e <= 0.0 {
        return (Decision::NONE, Extra::default());
    }
    let nav0 = env.equity0.max(0.0);
    let ret = if nav0 > 0.0 {
        (s.e + st.paid_out) / nav0 - 1.0
    } else {
        0.0
    };
    let target = (beta * (-ret).max(0.0) + env.redemption) * nav0;
    let outflow = (target - st.paid_out).min(s.e).max(0.0);
    let y = tradable(outflow, s.v, u.cash, u.cash_use);
    let mut d = finish(u, p, env, &s, y, y, out);
    d.cash_used = cash_spent(outflow, s.v, u.cash, u.cash_use);
    (
        d,
        Extra {
            outflow,
            ..Extra::default()
        },
    )
}

/// Lenders whose losses exceed their capital.
fn lender_default_count(c: &Compiled<'_>, cl: &Cleared) -> u64 {
    let nh = c.units.len();
    c.lenders
        .iter()
        .enumerate()
        .filter(|(l, x)| cl.borrower_losses[*l] + cl.interbank_losses[nh + l] > x.capital)
        .count() as u64
}

/// Holder `i`'s order from its book's decide pass (none when it is not a book, or no
/// book decided this round).
fn book_of(orders: &[Option<(Vec<f64>, SeqStats)>], i: usize) -> Option<&(Vec<f64>, SeqStats)> {
    orders.get(i).and_then(Option::as_ref)
}

/// A book's order from its decide pass.
fn book_order(sold: &[f64], stats: &SeqStats) -> Order {
    Order {
        sold: Shares::from_slice(sold),
        d: Decision {
            status: if stats.sale_usd > 0.0 || stats.calls > 0 {
                stats.worst
            } else {
                Status::Unaffected
            },
            calls: stats.calls,
            defaults: stats.new_defaults,
            cure_usd: stats.cure_usd,
            sale_usd: stats.sale_usd,
            ..Decision::NONE
        },
        extra: Extra::default(),
        buckets: Vec::new(),
        new_calls: stats.new_calls,
        new_defaults: stats.new_defaults,
    }
}

/// A holder's equity at `p` on its current state, with what clearing says it receives
/// (ETFs: NAV; books: from the decide pass's surplus and shortfall).
fn equity_of(st: &State<'_>, p: &[f64], value: f64, recv: f64, stats: Option<&SeqStats>) -> f64 {
    let u = &st.unit;
    let common = u.other_assets + recv - u.other_liabilities - u.owed;
    match &u.rule {
        Rule::Etf { .. } => st.nav.max(0.0),
        Rule::Book { .. } => {
            let s = stats.copied().unwrap_or(SeqStats::ZERO);
            s.surplus - s.shortfall + common
        }
        Rule::Cohort { .. } => {
            st.buckets
                .iter()
                .map(|b| rules::value(b, p) + b.cash - b.margin.map_or(0.0, |m| m.loan))
                .sum::<f64>()
                + common
        }
        // `held` is 0 unless proceeds wait for the next decision (bit for bit the same).
        _ => value + u.cash + st.held - u.margin.map_or(0.0, |m| m.loan) + common,
    }
}

/// A holder as the clearing step sees it, on its current state at `p`.
fn node(st: &State<'_>, p: &[f64], value: f64, stats: Option<&SeqStats>) -> HolderNode {
    let u = &st.unit;
    let lender = u.margin.map(|m| m.lender);
    let population = |short: f64, surplus: f64| HolderNode {
        base: surplus + u.other_assets,
        secured: 0.0,
        fixed_shortfall: short,
        lender,
        other_liabilities: u.other_liabilities,
    };
    match &u.rule {
        Rule::Book { .. } => {
            let s = stats.copied().unwrap_or(SeqStats::ZERO);
            population(s.shortfall, s.surplus)
        }
        Rule::Cohort { .. } => {
            let (mut short, mut surplus) = (0.0, 0.0);
            for b in &st.buckets {
                let e = rules::value(b, p) + b.cash - b.margin.map_or(0.0, |m| m.loan);
                if e < 0.0 {
                    short -= e;
                } else {
                    surplus += e;
                }
            }
            population(short, surplus)
        }
        Rule::Etf { .. } => HolderNode {
            base: st.nav.max(0.0),
            secured: 0.0,
            fixed_shortfall: 0.0,
            lender: None,
            other_liabilities: 0.0,
        },
        _ => HolderNode {
            base: value + u.cash + st.held + u.other_assets,
            secured: u.margin.map_or(0.0, |m| m.loan),
            fixed_shortfall: 0.0,
            lender,
            other_liabilities: u.other_liabilities,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::top_sellers;

    /// The old path: every positive seller, sorted by amount (largest first, ties by
    /// index), cut to `k`.
    fn sorted(usd: &[f64], k: usize) -> Vec<(delever_graph::HolderIx, f64)> {
        let mut all: Vec<_> = usd
            .iter()
            .enumerate()
            .map(|(i, &x)| (delever_graph::HolderIx(i as u32), x))
            .filter(|(_, x)| *x > 0.0)
            .collect();
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    // Random amounts drawn from a few values (many ties), with zeros, negatives, -0.0 and
    // NaN: the running selection keeps exactly what the full sort kept, bit for bit.
    #[test]
    fn top_sellers_match_the_full_sort() {
        let mut state = 2018u64;
        let mut draw = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            state >> 33
        };
        let values = [
            0.0,
            -0.0,
            -1.0,
            1.0,
            2.5,
            2.5e12,
            7.0,
            f64::NAN,
            1e-300,
            3.0,
        ];
        for case in 0..300 {
            let n = (draw() % 200) as usize + case % 3;
            let usd: Vec<f64> = (0..n)
                .map(|_| {
                    let v = values[(draw() % values.len() as u64) as usize];
                    if draw() % 4 == 0 {
                        v * (draw() % 5) as f64
                    } else {
                        v
                    }
                })
                .collect();
            for k in [1, 2, 5] {
                let got = top_sellers(&usd, k);
                let want = sorted(&usd, k);
                assert_eq!(got.len(), want.len(), "case {case}, k {k}");
                for (g, w) in got.iter().zip(&want) {
                    assert_eq!((g.0, g.1.to_bits()), (w.0, w.1.to_bits()), "case {case}");
                }
            }
        }
    }
}
