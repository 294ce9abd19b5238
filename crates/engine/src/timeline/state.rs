//! What a timeline carries from one day to the next, how a day's system is compiled from
//! it, and how a day's sales settle at its close.
//!
//! A day is solved by the equilibrium's own fixed point on a [`Compiled`] system: the
//! first day's is the network's, compiled once; later days' units are the carried balance
//! sheets (positions, cash, loans, liabilities), with a leveraged ETF's exposure and NAV
//! as of the last close, a book's (or a cohort's) accounts as carried rows, and each
//! holder's [`DayTerms`] (deadlines, close-out, caps, redemptions already paid).

use delever_graph::{HolderKind, Network};

use crate::outcome::Status;

use crate::carry::{settle_fund, settle_margin, settle_sheet, take};
use crate::compile::{BookView, Closing, Compiled, DayMore, DayTerms, NO_CALL, Rule, Unit};
use crate::fixpoint::Run;
use crate::rules;
use crate::rules::book::{self, DayRows, DaySettled, Terms};
use crate::rules::vol_target;
use crate::shocks::Shocked;

/// A holder's timing, resolved from the holder and its lender.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UnitTiming {
    pub cure_days: u32,
    /// The smaller of the holder's and its lender's participation.
    participation: Option<f64>,
    close_out: bool,
    delay_days: u32,
    redemption_lag: u32,
    /// Vol-target funds and trend followers: days between a close and the trade on it.
    lag: u32,
    /// Books and cohorts: retail accounts, liquidated by their broker at once when in
    /// deficit, never capped.
    retail: bool,
}

impl UnitTiming {
    /// Days a call waits before it acts: the holder's deadline, or its lender's delay when
    /// longer (a lender that takes time to act leaves its borrower's calls — and a deficit
    /// — alone that long too: one gate for both keeps the day's rule monotone). Retail
    /// books and cohorts keep their own.
    pub(crate) fn wait(&self) -> u32 {
        if self.retail {
            self.cure_days
        } else {
            self.cure_days.max(self.delay_days)
        }
    }

    pub(crate) fn all(net: &Network) -> Vec<UnitTiming> {
        net.holders()
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let lender = net
                    .margin(delever_graph::HolderIx(i as u32))
                    .map(|m| net.lender(m.lender).liquidation);
                let participation =
                    match (h.timing.participation, lender.and_then(|l| l.participation)) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                UnitTiming {
                    cure_days: h.timing.cure_days,
                    participation,
                    close_out: lender.is_some_and(|l| l.close_out),
                    delay_days: lender.map_or(0, |l| l.delay_days),
                    redemption_lag: h.timing.redemption_lag_days,
                    lag: match &h.kind {
                        HolderKind::VolTarget { rule } => rule.lag_days,
                        HolderKind::TrendFollower { lag_days, .. } => *lag_days,
                        _ => 0,
                    },
                    retail: matches!(
                        h.kind,
                        HolderKind::MarginCohort { .. } | HolderKind::AccountBook { .. }
                    ),
                }
            })
            .collect()
    }
}

/// One holder as the timeline carries it.
#[derive(Debug, Clone)]
pub(crate) struct Carried<'a> {
    /// The compiled holder with its current balance sheet: positions (`shares`; a book's
    /// or cohort's totals per position), cash, margin loan, other liabilities. ETFs: the
    /// exposure after the last close.
    pub unit: Unit<'a>,
    /// Books and cohorts after their first day: the accounts (cohorts: one row a bucket).
    pub rows: Option<DayRows>,
    /// ETFs: NAV at the last close.
    pub nav: f64,
    /// ETFs whose shares others hold: shares outstanding at the last close.
    pub shares_out: f64,
    /// Funds and ETFs: redemptions paid out so far, USD.
    pub paid_out: f64,
    /// Day its open margin call was issued ([`NO_CALL`]: none).
    pub call_since: u32,
    /// The day from which its lender sells everything that is left, once it is in
    /// default or closed out (before that day it waits).
    pub closing_from: Option<u32>,
    /// Funds: the return at each close (what lagged redemptions react to).
    pub returns: Vec<f64>,
    /// Vol-target funds: the variance estimate (annual) and the target ratio at each
    /// close.
    pub vol: Vec<(f64, f64)>,
    /// Shares sold so far per position of the first day's unit.
    pub sold: Vec<f64>,
    /// Proceeds at the day's close prices so far, USD.
    pub proceeds: f64,
    /// Sales its rule asked for, USD at the prices decided at, summed over days.
    pub planned: f64,
    /// Debt repaid out of proceeds, USD.
    pub repaid: f64,
    /// Fresh cash deposited against calls, USD.
    pub cure: f64,
    /// The worst status of any day.
    pub status: Status,
    /// Accounts ever called, ever defaulted.
    pub ever_called: u64,
    pub ever_defaulted: u64,
}

impl<'a> Carried<'a> {
    pub(crate) fn new(u: &Unit<'a>) -> Self {
        let nav = match &u.rule {
            Rule::Etf { nav0, .. } => *nav0,
            _ => 0.0,
        };
        Carried {
            unit: u.clone(),
            rows: None,
            nav,
            shares_out: 0.0,
            paid_out: 0.0,
            call_since: NO_CALL,
            closing_from: None,
            returns: Vec::new(),
            vol: Vec::new(),
            // Sums start at −0.0, the exact identity of `+` (0.0 + −0.0 is 0.0): a one-day
            // run's totals are then the day's figures bit for bit, signs of zero included.
            sold: vec![-0.0; u.shares.len()],
            proceeds: -0.0,
            planned: -0.0,
            repaid: -0.0,
            cure: -0.0,
            status: Status::Unaffected,
            ever_called: 0,
            ever_defaulted: 0,
        }
    }
}

/// A day's compiled system: the first day's units with their day terms, or the carried
/// balance sheets.
pub(crate) fn build_day<'v>(
    base: &'v Compiled<'v>,
    states: &'v [Carried<'v>],
    timing: &[UnitTiming],
    day: u32,
    p_prev: &[f64],
    adv: &[f64],
    closes: &[&[f64]],
) -> Compiled<'v> {
    let mut c = base.clone();
    if day > 0 {
        c.p_ref = p_prev.to_vec();
        // Holders see a fund's shares at its NAV over the shares still outstanding.
        for k in &mut c.classes {
            k.outstanding = states[k.unit].shares_out;
        }
    }
    for (i, (u, st)) in c.units.iter_mut().zip(states).enumerate() {
        let t = timing[i];
        if day > 0 {
            *u = carried_unit(base, &base.units[i], st);
        }
        let closing = match st.closing_from {
            None => Closing::No,
            Some(d) if day >= d => Closing::Selling,
            Some(_) => Closing::Waiting,
        };
        let cap = (!t.retail)
            .then_some(t.participation)
            .flatten()
            .map(|part| {
                u.assets
                    .iter()
                    // ETF shares are redeemed through authorised participants, not
                    // sold into the stock's volume: no cap.
                    .map(|&a| {
                        adv.get(a as usize)
                            .map_or(f64::INFINITY, |v| part * v / p_prev[a as usize])
                    })
                    .collect()
            });
        let lagged_return = match u.rule {
            Rule::Fund { .. } if t.redemption_lag > 0 => Some(
                day.checked_sub(t.redemption_lag)
                    .and_then(|d| st.returns.get(d as usize).copied())
                    .unwrap_or(0.0),
            ),
            _ => None,
        };
        convexity_day(base, i, &mut u.rule, st, t.lag, day, closes);
        u.day = DayTerms {
            today: day,
            cure_days: t.wait(),
            call_since: st.call_since,
            closing: if t.retail { Closing::No } else { closing },
            close_out: t.close_out,
            delay_days: if t.retail { 0 } else { t.delay_days },
            more: DayMore::of(cap, st.paid_out, lagged_return),
        };
    }
    c
}

/// The convexity kinds' state for the day: a vol-target fund's estimate from the last
/// close (and, with a lag, the target set at an earlier close); a trend follower's
/// anchors for the day (and, with a lag, the signals of an earlier close).
fn convexity_day(
    base: &Compiled<'_>,
    i: usize,
    rule: &mut Rule<'_>,
    st: &Carried<'_>,
    lag: u32,
    day: u32,
    closes: &[&[f64]],
) {
    match rule {
        Rule::VolTarget(v) => {
            let crate::compile::VolTargetC { var_ref, fixed, .. } = &mut **v;
            if let Some(&(v, _)) = st.vol.last() {
                *var_ref = v;
            }
            if lag > 0 {
                *fixed = Some(
                    day.checked_sub(lag)
                        .and_then(|d| st.vol.get(d as usize))
                        .map_or(1.0, |&(_, k)| k),
                );
            }
        }
        Rule::Trend(t) => {
            let crate::compile::TrendC {
                weights,
                days,
                markets,
                fixed,
            } = &mut **t;
            let assets = &base.units[i].assets;
            let Rule::Trend(t0) = &base.units[i].rule else {
                return;
            };
            let start = &t0.markets;
            for (k, ((_, anchors), (_, a0))) in markets.iter_mut().zip(start).enumerate() {
                let a = assets[k] as usize;
                *anchors = crate::rules::trend::anchors_on(days, a0, day, base.p0[a], closes, a);
            }
            if lag > 0 {
                let signals = assets
                    .iter()
                    .zip(start)
                    .map(|(&a, (_, a0))| {
                        let a = a as usize;
                        match day.checked_sub(lag) {
                            Some(d) => {
                                let anchors = crate::rules::trend::anchors_on(
                                    days, a0, d, base.p0[a], closes, a,
                                );
                                crate::rules::trend::signal_at(
                                    weights,
                                    &anchors,
                                    closes[d as usize][a],
                                )
                            }
                            None => crate::rules::trend::signal_at(weights, a0, base.p0[a]),
                        }
                    })
                    .collect();
                *fixed = Some(signals);
            }
        }
        _ => {}
    }
}

/// A unit on a day after the first: its base unit with the carried balance sheet.
fn carried_unit<'v>(base: &Compiled<'v>, u0: &Unit<'v>, st: &'v Carried<'v>) -> Unit<'v> {
    let mut u = st.unit.clone();
    match (&u0.rule, &st.rows) {
        (
            Rule::Book {
                cure, book: view, ..
            },
            Some(rows),
        ) => {
            u.rule = Rule::Book {
                cure: *cure,
                book: Box::new(rows.view(view)),
                cash_total: rows.cash.iter().sum(),
                loan_total: rows.loan.iter().sum(),
            };
        }
        (Rule::Cohort { cure, .. }, Some(rows)) => {
            // A cohort's buckets diverge once some of them sell: from its second day it
            // runs as a book of one row a bucket, each row weighted by its accounts.
            let empty = BookView {
                cash: &[],
                loan: &[],
                row_ptr: &[],
                assets: &[],
                shares: &[],
                weights: None,
                calls: None,
            };
            u.rule = Rule::Book {
                cure: *cure,
                book: Box::new(rows.view(&empty)),
                cash_total: rows.cash.iter().sum(),
                loan_total: rows.loan.iter().sum(),
            };
            // Dense over the extended prices: a cohort's ETF shares are positions too.
            let mut dense = vec![0.0; base.width()];
            for (&a, s) in u0.assets.iter().zip(&st.unit.shares) {
                dense[a as usize] += s;
            }
            u.assets = (0..base.width() as u32).collect();
            u.shares = dense.into();
            if u0.etf_mult.is_some() {
                u.etf_mult = Some(base.mult_by_index());
            }
            u.liquidity = None;
            u.cash = 0.0;
        }
        (
            Rule::Etf {
                multiple, weights, ..
            },
            _,
        ) => {
            u.rule = Rule::Etf {
                multiple: *multiple,
                nav0: st.nav,
                weights: weights.clone(),
                carried: true,
            };
        }
        _ => {}
    }
    u
}

/// What a day's settlement needs from the day's solution.
pub(crate) struct DaySolution<'x> {
    pub run: &'x Run,
    /// Extra margin per lender in force at the decision (shock tightening plus triggered).
    pub extra: &'x [f64],
    pub s: &'x Shocked,
    /// The prices ETFs measured today's returns from (the previous close; `p0` on day 0).
    pub p_ref: &'x [f64],
    /// Starting equity per holder (a fund's starting NAV).
    pub equity0: &'x [f64],
    /// Whether each holder's margin call could act today.
    pub due: &'x [bool],
    /// Whether each holder's unit had its rows (book or cohort accounts) carried into
    /// today: its sales are then dense per asset.
    pub dense: &'x [bool],
    /// What each holder receives on its interbank claims at the close.
    pub recv: &'x [f64],
    /// The prices the day's last round decided at, extended by each held fund's NAV per
    /// share (the books' rows are settled at them).
    pub decided_at: &'x [f64],
    /// Per held fund ([`Compiled::classes`]): shares its holders sold today.
    pub redeemed: &'x [f64],
    /// The maintenance multiple per extended price index (book rows with ETF shares).
    pub mult: &'x [f64],
}

/// What settling one holder's day did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Settled {
    /// Proceeds at the close, USD.
    pub proceeds: f64,
    /// Fresh cash deposited today, USD.
    pub cure: f64,
    /// Redemptions paid today, USD.
    pub paid_out: f64,
    /// Accounts whose call opened today; accounts that defaulted today.
    pub new_calls: u64,
    pub new_defaults: u64,
    /// Books and cohorts: holdings value, cash and loans after the day.
    pub book: Option<DaySettled>,
}

/// Settle every holder's day at the close `close` (in parallel; books in chunks), extended
/// by each held fund's NAV per share at the close.
pub(crate) fn settle<'a>(
    base: &Compiled<'a>,
    states: &mut [Carried<'a>],
    timing: &[UnitTiming],
    day: u32,
    sol: &DaySolution<'_>,
    close: &[f64],
) -> Vec<Settled> {
    use rayon::prelude::*;
    states
        .par_iter_mut()
        .enumerate()
        .map(|(i, st)| settle_one(base, st, timing[i], i, day, sol, close))
        .collect()
}

fn settle_one<'a>(
    base: &Compiled<'a>,
    st: &mut Carried<'a>,
    t: UnitTiming,
    i: usize,
    day: u32,
    sol: &DaySolution<'_>,
    close: &[f64],
) -> Settled {
    let d = sol.run.last.decisions[i];
    let u0 = &base.units[i];
    st.planned += d.sale_usd;
    if d.status != Status::Unaffected {
        st.status = st.status.max(d.status);
    }
    let mut out = Settled::default();
    // A vol-target fund's estimate takes the day's return on what it held through the day.
    let vol_update = if let Rule::VolTarget(v) = &u0.rule {
        let crate::compile::VolTargetC {
            rule, lambda, w0, ..
        } = &**v;
        let (mut v0, mut v1) = (0.0, 0.0);
        for (&a, s) in st.unit.assets.iter().zip(&st.unit.shares) {
            v0 += s * sol.p_ref[a as usize];
            v1 += s * close[a as usize];
        }
        let r = if v0 > 0.0 { v1 / v0 - 1.0 } else { 0.0 };
        let prev = st
            .vol
            .last()
            .map_or(rule.realised_vol * rule.realised_vol, |&(v, _)| v);
        Some((*rule, *lambda, *w0, vol_target::ewma_day(prev, r, *lambda)))
    } else {
        None
    };
    match &u0.rule {
        Rule::Dealer { .. } | Rule::Trend { .. } => {
            let sold = &sol.run.last.sold[i];
            let proceeds: f64 = st
                .unit
                .assets
                .iter()
                .zip(sold)
                .map(|(&a, x)| x * close[a as usize])
                .sum();
            crate::carry::settle_synthetic(&mut st.unit, sold, proceeds);
            record(st, sold, proceeds, &mut out);
        }
        Rule::Book { .. } | Rule::Cohort { .. } => {
            settle_rows(base, st, u0, t, i, day, sol, close, &mut out);
        }
        Rule::Etf { .. } => {
            let held = base.classes.iter().position(|k| k.unit == i);
            let by_holders = held.map_or(0.0, |k| sol.redeemed[k]);
            settle_etf(st, i, sol, close, by_holders, &mut out);
        }
        _ => settle_single(st, u0, t, i, day, sol, close, &mut out),
    }
    if let Some((rule, _, w0, var)) = vol_update {
        let u = &st.unit;
        let nav = rules::value(u, close) + u.cash + u.other_assets + sol.recv[i]
            - u.margin.map_or(0.0, |m| m.loan)
            - u.other_liabilities
            - u.owed;
        let nav0 = sol.equity0[i];
        let w = vol_target::exposure(rule.target_vol, var.sqrt(), rule.max_leverage);
        let k = if w0 > 0.0 && nav0 > 0.0 {
            (w / w0 * nav / nav0).max(0.0)
        } else {
            0.0
        };
        st.vol.push((var, k));
    }
    if let Rule::Fund { .. } = u0.rule {
        // The return investors see at the close, counting what they were paid.
        let nav0 = sol.equity0[i].max(0.0);
        let u = &st.unit;
        let e = rules::value(u, close) + u.cash + u.other_assets
            - u.margin.map_or(0.0, |m| m.loan)
            - u.other_liabilities
            - u.owed;
        st.returns.push(if nav0 > 0.0 {
            (e + st.paid_out) / nav0 - 1.0
        } else {
            0.0
        });
    }
    out
}

/// A leveraged ETF's close: the exposure held through the day is marked from the
/// reference prices to the close, the redemption is paid, the day's trades (made at the
/// close) change the exposure and not the NAV.
///
/// Redemptions: a `redemption` shock's fraction `f` of the NAV the day started from is
/// paid as such and retires `f` of the shares outstanding; the `x` shares the fund's
/// holders sold are paid at the close's NAV per share (what the holders were credited)
/// and retire `x` shares.
fn settle_etf(
    st: &mut Carried<'_>,
    i: usize,
    sol: &DaySolution<'_>,
    close: &[f64],
    by_holders: f64,
    out: &mut Settled,
) {
    let d = sol.run.last.decisions[i];
    let sold = &sol.run.last.sold[i];
    st.ever_defaulted = st.ever_defaulted.max(u64::from(d.defaults > 0));
    let u = &mut st.unit;
    let pnl: f64 = u
        .assets
        .iter()
        .zip(&u.shares)
        .map(|(&a, e)| e * (close[a as usize] - sol.p_ref[a as usize]))
        .sum();
    // The day's redemption, as a fraction of the NAV the day started from, and the
    // holders' shares at the close's NAV per share.
    let q = st.shares_out;
    let nav_close = (st.nav + pnl).max(0.0);
    let holders_usd = if q > 0.0 {
        by_holders * nav_close / q
    } else {
        0.0
    };
    let redeemed = (sol.s.redemption[i] * st.nav + holders_usd).min(nav_close);
    if q > 0.0 {
        st.shares_out = (q * (1.0 - sol.s.redemption[i]) - by_holders).max(0.0);
    }
    st.nav = (st.nav + pnl - redeemed).max(0.0);
    st.paid_out += redeemed;
    out.paid_out = redeemed;
    let mut proceeds = 0.0;
    for ((s, x), &a) in u.shares.iter_mut().zip(sold).zip(&u.assets) {
        *s -= x;
        proceeds += x * close[a as usize];
    }
    if st.nav <= 0.0 {
        // Wiped out: whatever exposure rounding left is gone with the fund.
        u.shares.iter_mut().for_each(|s| *s = 0.0);
    }
    record(st, sold, proceeds, out);
}

/// Margin accounts, banks, leveraged funds and funds.
#[allow(clippy::too_many_arguments)]
fn settle_single(
    st: &mut Carried<'_>,
    u0: &Unit<'_>,
    t: UnitTiming,
    i: usize,
    day: u32,
    sol: &DaySolution<'_>,
    close: &[f64],
    out: &mut Settled,
) {
    let d = sol.run.last.decisions[i];
    let sold = &sol.run.last.sold[i];
    let proceeds: f64 = st
        .unit
        .assets
        .iter()
        .zip(sold)
        .map(|(&a, x)| x * close[a as usize])
        .sum();
    let default = d.status == Status::Defaulted;
    let repaid = match &u0.rule {
        Rule::Account { .. } => settle_margin(&mut st.unit, sold, proceeds, d.cure_usd, default),
        Rule::Fund { .. } if !default => {
            let outflow = d.cash_used + d.paid_out_usd;
            let (repaid, payout) = settle_fund(&mut st.unit, sold, proceeds, &d, outflow);
            st.paid_out += payout;
            out.paid_out = payout;
            repaid
        }
        _ => settle_sheet(&mut st.unit, sold, proceeds, &d, default),
    };
    st.repaid += repaid;
    st.cure += d.cure_usd;
    out.cure = d.cure_usd;
    // The call: one that waits keeps its issue day; one acted on in full (or gone)
    // closes; one cut short by a participation cap stays due.
    let called = d.calls > 0 && st.closing_from.is_none();
    if called && st.call_since == NO_CALL {
        out.new_calls = 1;
    }
    let waits = called && (!sol.due[i] || d.capped);
    st.call_since = if waits && !meets_at_close(st, u0, i, sol, close) {
        if st.call_since == NO_CALL {
            day
        } else {
            st.call_since
        }
    } else {
        NO_CALL
    };
    // In default, or closed out by its lender: once the lender has started selling, it
    // sells what is left from the next day on; a borrower in deficit before its call is
    // due waits until that day (its call, issued today or earlier, falls due then).
    let closed_out = d.status == Status::Liquidated && t.close_out && u0.margin.is_some();
    if (default || closed_out) && st.closing_from.is_none() {
        st.closing_from = Some(if d.sale_usd > 0.0 {
            day + 1
        } else {
            let since = if st.call_since == NO_CALL {
                day
            } else {
                st.call_since
            };
            since.saturating_add(t.wait()).max(day + 1)
        });
        out.new_defaults = u64::from(d.defaults > 0);
    }
    st.ever_called = st.ever_called.max(u64::from(d.calls > 0));
    st.ever_defaulted = st.ever_defaulted.max(u64::from(d.defaults > 0));
    record(st, sold, proceeds, out);
}

/// Whether a single holder's balance sheet after the day's settlement meets its
/// maintenance at the close: a call that its own rule's sales answered is closed then,
/// not left open until the next day.
fn meets_at_close(
    st: &Carried<'_>,
    u0: &Unit<'_>,
    i: usize,
    sol: &DaySolution<'_>,
    close: &[f64],
) -> bool {
    let (Some(link), Some(now)) = (u0.margin, st.unit.margin) else {
        return false;
    };
    let u = &st.unit;
    let v = rules::value(u, close);
    let e = v + u.cash + u.other_assets + sol.recv[i] - now.loan - u.other_liabilities - u.owed;
    let (m, mr) = Compiled::terms(&link, sol.extra);
    // ETF shares carry the multiple-times-maintenance requirement.
    let (m, _) = crate::rules::margin::rates(u, close, v, m, mr);
    e > 0.0 && crate::rules::margin::meets(e, v, m)
}

/// Add a day's shares sold and proceeds to a holder's totals.
fn record(st: &mut Carried<'_>, sold: &[f64], proceeds: f64, out: &mut Settled) {
    for (s, x) in st.sold.iter_mut().zip(sold) {
        *s += x;
    }
    st.proceeds += proceeds;
    out.proceeds = proceeds;
}

/// A cohort's buckets as rows, each holding its share of the cohort's positions and
/// cash, with its own loan and account count.
fn cohort_rows(u: &Unit<'_>, buckets: &[crate::compile::Bucket]) -> DayRows {
    let width = u.assets.len();
    let mut row_ptr = Vec::with_capacity(buckets.len() + 1);
    let mut assets = Vec::with_capacity(buckets.len() * width);
    let mut shares = Vec::with_capacity(buckets.len() * width);
    row_ptr.push(0u64);
    for b in buckets {
        for (&a, s) in u.assets.iter().zip(&u.shares) {
            assets.push(delever_graph::AssetIx(a));
            shares.push(b.share * s);
        }
        row_ptr.push(assets.len() as u64);
    }
    DayRows {
        cash: buckets.iter().map(|b| b.share * u.cash).collect(),
        loan: buckets.iter().map(|b| b.loan).collect(),
        shares,
        calls: vec![NO_CALL; buckets.len()],
        flags: vec![0; buckets.len()],
        weights: Some(buckets.iter().map(|b| b.accounts).collect()),
        own: Some((row_ptr, assets)),
    }
}

/// Books and cohorts: settle every account (a cohort's first day: its buckets become
/// rows first). Each row's decision is recomputed at the decision prices with the row
/// rule the day's pass used.
#[allow(clippy::too_many_arguments)]
fn settle_rows<'a>(
    base: &Compiled<'a>,
    st: &mut Carried<'a>,
    u0: &Unit<'a>,
    t: UnitTiming,
    i: usize,
    day: u32,
    sol: &DaySolution<'_>,
    close: &[f64],
    out: &mut Settled,
) {
    let Some(link) = u0.margin else {
        return;
    };
    let (maintenance, reset) = Compiled::terms(&link, sol.extra);
    let (cure, rows) = match &u0.rule {
        Rule::Book { cure, book, .. } => (
            *cure,
            st.rows.take().unwrap_or_else(|| DayRows::of_book(book)),
        ),
        Rule::Cohort { cure, buckets } => (
            *cure,
            st.rows.take().unwrap_or_else(|| cohort_rows(u0, buckets)),
        ),
        _ => return,
    };
    let mut rows = rows;
    let terms = Terms {
        maintenance,
        reset,
        cure,
        order: u0.sale_order,
        rank: &base.rank,
        today: day,
        cure_days: t.cure_days,
        // Rows holding ETF shares: the multiple per extended price index.
        mult: u0.etf_mult.is_some().then_some(sol.mult),
    };
    let muted = base.muted.get(i).copied().unwrap_or(false);
    let settled = match (&u0.rule, if muted { None } else { rows.own.take() }) {
        // Forced selling switched off: the accounts keep their positions.
        _ if muted => DaySettled::default(),
        (_, Some((row_ptr, assets))) => {
            let s = book::day_settle(&row_ptr, &assets, &mut rows, sol.decided_at, close, &terms);
            rows.own = Some((row_ptr, assets));
            s
        }
        (Rule::Book { book, .. }, None) => book::day_settle(
            book.row_ptr,
            book.assets,
            &mut rows,
            sol.decided_at,
            close,
            &terms,
        ),
        _ => DaySettled::default(),
    };
    // Today's sales per position of the first day's unit (a unit run as a book sells
    // dense per asset).
    let today = &sol.run.last.sold[i];
    let sold: Vec<f64> = if sol.dense[i] && !matches!(u0.rule, Rule::Book { .. }) {
        u0.assets.iter().map(|&a| today[a as usize]).collect()
    } else {
        today.clone()
    };
    take(&mut st.unit.shares, &sold);
    let (called, defaulted, _) = rows.counts();
    st.rows = Some(rows);
    // Deposits as the day's rule counted them (a cohort's first day counts by bucket
    // share; its rows differ only by rounding).
    let cure = sol.run.last.decisions[i].cure_usd;
    st.repaid += settled.repaid;
    st.cure += cure;
    st.ever_called = called;
    st.ever_defaulted = defaulted;
    out.cure = cure;
    out.new_calls = settled.new_calls;
    out.new_defaults = settled.new_defaults;
    out.book = Some(settled);
    // Proceeds as the pass's totals give them, so the holder's sales add up to the
    // assets' (the rows' own sum differs only by rounding).
    let proceeds = if matches!(u0.rule, Rule::Book { .. }) || sol.dense[i] {
        today.iter().zip(close).map(|(x, p)| x * p).sum()
    } else {
        u0.assets
            .iter()
            .zip(&sold)
            .map(|(&a, x)| x * close[a as usize])
            .sum()
    };
    record(st, &sold, proceeds, out);
}
