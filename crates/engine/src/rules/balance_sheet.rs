//! Balance-sheet holders: banks and leveraged funds (one [`BalanceSheetRule`] each), and
//! unlevered funds facing redemptions.
//!
//! Assets `A = V + cash + other_assets + interbank received`, liabilities
//! `D (margin loan) + other_liabilities + interbank owed`, equity `E = A − liabilities`.
//! Each rule asks for a cut `R` in total assets (selling and repaying debt keeps `E` and
//! lowers `A`); [`super::tradable`] turns `R` into tradable sales under the holder's cash
//! policy; sales are capped at `V`. A holder with `E ≤ 0` defaults and sells everything.
//! A holder with a margin link also obeys its margin call, and sells the larger of the two
//! amounts (the maximum of two monotone maps is monotone).

use delever_graph::BalanceSheetRule;

use crate::compile::{Compiled, Unit};
use crate::outcome::Status;

use super::margin::{Call, call, closing};
use super::{Decision, Env, allocate, cash_spent, tradable};

pub(crate) struct Sheet {
    pub v: f64,
    pub a: f64,
    pub e: f64,
    pub loan: f64,
}

impl Sheet {
    /// Insolvent: equity ≤ 0, or equity/assets below the holder's `default_below` ratio.
    fn insolvent(&self, default_below: Option<f64>) -> bool {
        self.e <= 0.0 || default_below.is_some_and(|d| self.e < d * self.a)
    }
}

pub(crate) fn sheet(u: &Unit<'_>, env: &Env<'_>) -> Sheet {
    let v = env.value;
    // `held` is 0 outside the sequential mode's next-decision settlement (adding it then
    // changes nothing, bit for bit).
    let a = v + u.cash + u.other_assets + env.recv + env.held;
    let loan = u.margin.map_or(0.0, |m| m.loan);
    Sheet {
        v,
        a,
        e: a - loan - u.other_liabilities - u.owed,
        loan,
    }
}

/// Insolvent: sell every position.
pub(crate) fn liquidate(u: &Unit<'_>, p: &[f64], s: &Sheet, out: &mut [f64]) -> Decision {
    allocate(s.v, s.v, 1.0, u, p, out);
    Decision {
        status: Status::Defaulted,
        calls: u64::from(u.margin.is_some()),
        defaults: 1,
        sale_usd: s.v,
        repaid_usd: s.v.min(s.loan + u.other_liabilities + u.owed),
        ..Decision::NONE
    }
}

/// Apply the margin overlay and sell `y` dollars (`paid_out` of which go to investors).
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    u: &Unit<'_>,
    p: &[f64],
    env: &Env<'_>,
    s: &Sheet,
    y: f64,
    paid_out: f64,
    out: &mut [f64],
) -> Decision {
    let mut y = y;
    let mut called = false;
    let mut closed_out = false;
    if let Some(link) = &u.margin {
        let (m, mr) = Compiled::terms(link, env.extra);
        if let Call::Met { sale, .. } = call(s.v, s.e, m, mr, 0.0) {
            called = true;
            // Timeline: a call acts once due; a close-out lender then sells everything.
            if u.day.due() {
                closed_out = u.day.close_out;
                y = y.max(if closed_out { s.v } else { sale });
            }
        }
    }
    let y = y.min(s.v);
    if s.v <= 0.0 || y == 0.0 {
        return Decision {
            status: if called {
                Status::MarginCall
            } else {
                Status::Unaffected
            },
            calls: u64::from(called),
            ..Decision::NONE
        };
    }
    allocate(y, s.v, 1.0, u, p, out);
    let status = if closed_out {
        Status::Liquidated
    } else if called {
        Status::MarginCall
    } else if y < 0.0 {
        Status::Bought
    } else if y >= s.v {
        Status::Liquidated
    } else {
        Status::Sold
    };
    let paid_out = paid_out.min(y.max(0.0));
    Decision {
        status,
        calls: u64::from(called),
        sale_usd: y,
        repaid_usd: y - paid_out,
        paid_out_usd: paid_out,
        ..Decision::NONE
    }
}

/// A bank or leveraged fund.
pub(crate) fn balance_sheet(
    u: &Unit<'_>,
    p: &[f64],
    env: &Env<'_>,
    rule: BalanceSheetRule,
    out: &mut [f64],
) -> Decision {
    let s = sheet(u, env);
    if let Some(d) = closing(u, s.v, s.e, p, out) {
        return d;
    }
    if s.insolvent(u.default_below) {
        return insolvent(u, p, &s, out);
    }
    let cut = match rule {
        BalanceSheetRule::Passive | BalanceSheetRule::FailLiquidate => 0.0,
        BalanceSheetRule::LeverageTarget { target, symmetric } => {
            let r = s.a - target * s.e;
            if r > 0.0 || symmetric { r } else { 0.0 }
        }
        BalanceSheetRule::Threshold { max, target } => {
            if s.a > max * s.e {
                s.a - target * s.e
            } else {
                0.0
            }
        }
        BalanceSheetRule::CapitalRatio { min_ratio } => {
            if s.e < min_ratio * s.a {
                s.a - s.e / min_ratio
            } else {
                0.0
            }
        }
    };
    // Proceeds held since the last decision pay the cut first (INET's banks spend their
    // cash on liabilities before selling); the cash policy applies to the rest.
    let from_held = if cut > 0.0 { cut.min(env.held) } else { 0.0 };
    let cut = cut - from_held;
    let y = tradable(cut, s.v, u.cash, u.cash_use);
    if matches!(rule, BalanceSheetRule::CapitalRatio { .. }) && y > s.v {
        // Cifuentes–Shin–Ferrucci: even a full sale cannot restore the ratio; the bank is
        // closed and liquidated (its equity is still positive: creditors are paid).
        let mut d = liquidate(u, p, &s, out);
        d.repaid_usd = s.v;
        return d;
    }
    let mut d = finish(u, p, env, &s, y, 0.0, out);
    d.cash_used = cash_spent(cut, s.v, u.cash, u.cash_use);
    d.held_used = from_held;
    d
}

/// A leverage-targeting bank under GLT's exact accounting: it cuts total assets by
/// `R = A − λ*·E` (`= −b·a·r` when the target is its starting leverage) and spreads the
/// cut by its *starting* portfolio weights, `x_k = R·h_k/A0` shares of position `k`
/// (`R·c0/A0` from cash, GLT's zero-impact asset). GLT's linear algebra has no default: a
/// bank the shock makes insolvent keeps trading as the formula says, even past what it
/// holds (reported in the run's systemic block, not acted on).
pub(crate) fn glt_exact(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    env: &Env<'_>,
    target: f64,
    out: &mut [f64],
) -> Decision {
    let s = sheet(u, env);
    let r = s.a - target * s.e;
    let a0: f64 = u
        .assets
        .iter()
        .zip(&u.shares)
        .map(|(&a, h)| h * c.p0[a as usize])
        .sum::<f64>()
        + u.cash
        + u.other_assets;
    if r == 0.0 || a0 <= 0.0 {
        return Decision::NONE;
    }
    let mut sale = 0.0;
    for ((x, &h), &a) in out.iter_mut().zip(&u.shares).zip(&u.assets) {
        *x += r * h / a0;
        sale += r * h / a0 * p[a as usize];
    }
    Decision {
        status: if r > 0.0 {
            Status::Sold
        } else {
            Status::Bought
        },
        sale_usd: sale,
        repaid_usd: sale,
        cash_used: r * u.cash / a0,
        ..Decision::NONE
    }
}

/// An insolvent holder: it liquidates at once, unless it is on margin with a lender that
/// waits `delay_days` after a default and its call is not yet due (timeline): then it sells
/// nothing today and the lender closes it out later.
fn insolvent(u: &Unit<'_>, p: &[f64], s: &Sheet, out: &mut [f64]) -> Decision {
    if u.margin.is_some() && u.day.delay_days > 0 && !u.day.due() {
        return Decision {
            status: Status::Defaulted,
            calls: 1,
            defaults: 1,
            ..Decision::NONE
        };
    }
    liquidate(u, p, s, out)
}

/// An unlevered fund: cumulative outflow `β·max(0, −R)·NAV0 + f·NAV0`, with
/// `R = (NAV + paid)/NAV0 − 1` its return counting what it has already paid to redeeming
/// investors (`paid`, timeline days after the first; `R` of a past day when investors react
/// with a lag), less what it has already paid; met from cash first (or as its cash policy
/// says), then by sales.
pub(crate) fn fund(u: &Unit<'_>, p: &[f64], env: &Env<'_>, beta: f64, out: &mut [f64]) -> Decision {
    let s = sheet(u, env);
    if let Some(d) = closing(u, s.v, s.e, p, out) {
        return d;
    }
    let paid = u.day.paid_out();
    if s.e + paid <= 0.0 {
        return insolvent(u, p, &s, out);
    }
    if s.e <= 0.0 {
        // Every investor has redeemed: nothing is left to sell or to owe.
        return Decision::NONE;
    }
    let nav0 = env.equity0.max(0.0);
    let ret = match u.day.lagged_return() {
        Some(r) => r,
        None if nav0 > 0.0 => (s.e + paid) / nav0 - 1.0,
        None => 0.0,
    };
    let outflow = (beta * (-ret).max(0.0) * nav0 + env.redemption * nav0 - paid).max(0.0);
    let y = tradable(outflow, s.v, u.cash, u.cash_use);
    let mut d = finish(u, p, env, &s, y, y, out);
    d.cash_used = cash_spent(outflow, s.v, u.cash, u.cash_use);
    d
}
