//! Holder rules: cumulative shares sold per asset as a function of the price vector.
//!
//! Every rule here is a pure function of the current prices `p` (plus what the clearing
//! step says the holder receives on its interbank claims, and its lender's margin terms):
//! it holds no state between rounds. Because all sales settle at the prices where they are
//! evaluated, selling never changes a holder's equity, so equity is a function of `p`
//! alone, and "shares sold at `p`" is well defined. One module per rule:
//!
//! - [`margin`]: margin accounts and cohorts (and the margin overlay of funds and banks);
//! - [`book`]: account books, the hot loop over millions of rows;
//! - [`etf`]: leveraged and inverse ETFs (Cheng & Madhavan);
//! - [`balance_sheet`]: banks and leveraged funds (GLT, Cont–Schaanning, Caccioli, CSF)
//!   and unlevered funds facing redemptions;
//! - [`dealer`]: options dealers' delta hedging (Black–Scholes, or linear dollar gamma);
//! - [`vol_target`]: volatility-targeting and risk-parity funds (EWMA realised vol);
//! - [`trend`]: trend followers (time-series momentum over lookbacks).

pub(crate) mod balance_sheet;
pub(crate) mod book;
pub(crate) mod dealer;
pub(crate) mod etf;
pub(crate) mod margin;
pub(crate) mod trend;
pub(crate) mod vol_target;

use delever_graph::{BalanceSheetRule, CashUse};

use crate::compile::{Compiled, Rule, Unit};
use crate::outcome::Status;

/// What a holder does at one price vector, besides the shares it sells.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Decision {
    pub status: Status,
    /// Accounts called (defaulted accounts count as called).
    pub calls: u64,
    /// Accounts (or the holder) defaulted.
    pub defaults: u64,
    /// Fresh cash deposited to meet calls, USD.
    pub cure_usd: f64,
    /// Tradable sales the rule asks for, USD at these prices (negative: purchases).
    pub sale_usd: f64,
    /// Part of `sale_usd` that repays debt (negative: new borrowing to buy).
    pub repaid_usd: f64,
    /// Part of `sale_usd` paid out to investors (redemptions).
    pub paid_out_usd: f64,
    /// Cash the rule spends first (paying down liabilities, or paying out redemptions)
    /// before it sells: the part of the cut `R` that [`tradable`] did not turn into sales.
    /// Only the sequential mode acts on it; in the equilibrium mode equity does not depend
    /// on it.
    pub cash_used: f64,
    /// Sequential mode settling at the next decision: the part of the cut `R` paid from
    /// the sale proceeds held since the last decision ([`Env::held`]), before any cash or
    /// sale. Always 0 in the other modes.
    pub held_used: f64,
    /// Timeline: a participation cap cut today's sales (the rest waits for tomorrow).
    pub capped: bool,
}

impl Decision {
    /// A plain trade of `sale` dollars (negative: a purchase): sold, bought, or nothing.
    pub(crate) fn trade(sale: f64) -> Decision {
        if sale == 0.0 {
            return Decision::NONE;
        }
        Decision {
            status: if sale > 0.0 {
                Status::Sold
            } else {
                Status::Bought
            },
            sale_usd: sale,
            ..Decision::NONE
        }
    }

    pub const NONE: Decision = Decision {
        status: Status::Unaffected,
        calls: 0,
        defaults: 0,
        cure_usd: 0.0,
        sale_usd: 0.0,
        repaid_usd: 0.0,
        paid_out_usd: 0.0,
        cash_used: 0.0,
        held_used: 0.0,
        capped: false,
    };
}

/// What a holder sees of the rest of the system in one round.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env<'e> {
    /// Value of its positions at `p` (ETFs: the exposure's value).
    pub value: f64,
    /// Interbank payments received (clearing).
    pub recv: f64,
    /// Extra margin per lender (shocks plus tightening).
    pub extra: &'e [f64],
    /// Redemption fraction from shocks.
    pub redemption: f64,
    /// Equity at pre-shock prices (a fund's starting NAV).
    pub equity0: f64,
    /// Sequential mode settling at the next decision: sale proceeds a bank or leveraged
    /// fund holds as cash since its last decision, USD. They count in its total assets and
    /// are spent first on a cut its rule asks for. 0 everywhere else.
    pub held: f64,
}

/// Value of a unit's positions at `p`.
pub(crate) fn value(u: &Unit<'_>, p: &[f64]) -> f64 {
    u.assets
        .iter()
        .zip(&u.shares)
        .map(|(&a, s)| s * p[a as usize])
        .sum()
}

/// Sell `y` dollars (at prices `p`) out of `scale ×` the unit's positions, adding the
/// shares sold to `out`. `v` is the value of the scaled positions. Pro rata sells the same
/// fraction of every position; most-liquid-first empties positions in ADV order. A
/// negative `y` buys, always pro rata to the current positions.
pub(crate) fn allocate(y: f64, v: f64, scale: f64, u: &Unit<'_>, p: &[f64], out: &mut [f64]) {
    if y == 0.0 || v <= 0.0 || scale <= 0.0 {
        return;
    }
    if y >= v {
        for (o, s) in out.iter_mut().zip(&u.shares) {
            *o += scale * s;
        }
        return;
    }
    if let (Some(order), true) = (&u.liquidity, y > 0.0) {
        {
            let mut left = y;
            for &k in order {
                let k = k as usize;
                let price = p[u.assets[k] as usize];
                let held = scale * u.shares[k];
                let worth = held * price;
                if worth <= left {
                    out[k] += held;
                    left -= worth;
                } else {
                    out[k] += left / price;
                    break;
                }
            }
        }
    } else {
        let frac = y / v;
        for (o, s) in out.iter_mut().zip(&u.shares) {
            *o += scale * s * frac;
        }
    }
}

/// Cash spent towards a cut of `r` dollars in total assets under the holder's cash policy:
/// `r` minus the tradable sales [`tradable`] asks for, never more than the cash.
pub(crate) fn cash_spent(r: f64, v: f64, cash: f64, cash_use: CashUse) -> f64 {
    if r <= 0.0 {
        return 0.0;
    }
    match cash_use {
        CashUse::First => r.min(cash),
        CashUse::ProRata if v + cash > 0.0 => (r * cash / (v + cash)).min(cash),
        CashUse::ProRata | CashUse::Never => 0.0,
    }
}

/// Tradable sales that reduce total assets by `r` dollars, given the holder's cash policy.
pub(crate) fn tradable(r: f64, v: f64, cash: f64, cash_use: CashUse) -> f64 {
    match cash_use {
        CashUse::First if r > 0.0 => (r - cash).max(0.0),
        CashUse::ProRata if v + cash > 0.0 => r * v / (v + cash),
        CashUse::ProRata => 0.0,
        CashUse::First | CashUse::Never => r,
    }
}

/// Timeline: no position sells more shares today than its participation cap (the rest
/// waits for the next day). Capping is `min(sales, cap)` position by position, so the
/// rule stays monotone in prices.
pub(crate) fn cap(u: &Unit<'_>, p: &[f64], out: &mut [f64], d: &mut Decision) {
    let Some(cap) = u.day.cap() else {
        return;
    };
    let mut cut = 0.0;
    for ((x, &c), &a) in out.iter_mut().zip(cap).zip(&u.assets) {
        if *x > c {
            cut += (*x - c) * p[a as usize];
            *x = c;
        }
    }
    if cut > 0.0 {
        d.capped = true;
        d.sale_usd -= cut;
        let sold = d.sale_usd.max(0.0);
        d.repaid_usd = d.repaid_usd.min(sold);
        d.paid_out_usd = d.paid_out_usd.min(sold);
    }
}

/// Evaluate one (non-book) unit at `p`, adding its shares sold to `out` (aligned with its
/// positions).
pub(crate) fn evaluate(
    c: &Compiled<'_>,
    u: &Unit<'_>,
    p: &[f64],
    env: &Env<'_>,
    out: &mut [f64],
) -> Decision {
    match &u.rule {
        Rule::Account { cure } => margin::account(u, p, env, *cure, out),
        Rule::Cohort { cure, buckets } => margin::cohort(u, p, env, *cure, buckets, out),
        Rule::Etf {
            multiple,
            nav0,
            weights,
            carried,
        } => {
            etf::rebalance(
                u,
                c,
                p,
                *multiple,
                *nav0,
                weights,
                *carried,
                env.redemption,
                out,
            )
            .0
        }
        Rule::BalanceSheet {
            rule: BalanceSheetRule::LeverageTarget { target, .. },
        } if c.glt_exact => balance_sheet::glt_exact(u, c, p, env, *target, out),
        Rule::BalanceSheet { rule } => balance_sheet::balance_sheet(u, p, env, *rule, out),
        Rule::Fund { beta } => balance_sheet::fund(u, p, env, *beta, out),
        // Books are evaluated by `book::pass`, in parallel over their rows.
        Rule::Book { .. } => Decision::NONE,
        Rule::Dealer { options, gamma } => dealer::rehedge(u, c, p, options, gamma, out),
        Rule::VolTarget(v) => {
            let crate::compile::VolTargetC {
                rule,
                lambda,
                var_ref,
                w0,
                h0,
                fixed,
            } = &**v;
            let k = fixed.unwrap_or_else(|| {
                let nav = env.value + u.cash + u.other_assets + env.recv
                    - u.margin.map_or(0.0, |m| m.loan)
                    - u.other_liabilities
                    - u.owed;
                let r = vol_target::day_return(u, c, p);
                vol_target::ratio(rule, *lambda, *var_ref, *w0, r, nav, env.equity0)
            });
            vol_target::rebalance(u, c, p, rule, h0, k, out)
        }
        Rule::Trend(t) => trend::rebalance(u, p, &t.weights, &t.markets, t.fixed.as_deref(), out),
    }
}
