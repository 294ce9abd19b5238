//! How a holder's balance sheet takes a sale: the shares leave, the proceeds repay its
//! debts (the margin loan first), the rest is cash. Shared by the modes that carry balance
//! sheets from one step to the next: the sequential rounds and the timeline's days.

use crate::compile::Unit;
use crate::rules::Decision;

/// Repay the margin loan, then other liabilities, with up to `amount`; returns what was
/// paid.
pub(crate) fn pay_down(u: &mut Unit<'_>, amount: f64) -> f64 {
    if amount <= 0.0 {
        return 0.0;
    }
    let mut left = amount;
    if let Some(m) = u.margin.as_mut() {
        let x = left.min(m.loan);
        m.loan -= x;
        left -= x;
    }
    let x = left.min(u.other_liabilities);
    u.other_liabilities -= x;
    left -= x;
    amount - left
}

/// Remove the shares sold from long positions (never below 0: a most-liquid-first sale
/// can exceed a position by a rounding error).
pub(crate) fn take(shares: &mut [f64], sold: &[f64]) {
    for (s, x) in shares.iter_mut().zip(sold) {
        *s = (*s - x).max(0.0);
    }
}

/// A synthetic position's settlement (a dealer's hedge, a trend follower's futures):
/// signed shares change by the trade, never floored; the proceeds (negative: the cost of
/// a purchase) go to cash, which carries the positions' financing.
pub(crate) fn settle_synthetic(u: &mut Unit<'_>, sold: &[f64], proceeds: f64) {
    for (s, x) in u.shares.iter_mut().zip(sold) {
        *s -= x;
    }
    u.cash += proceeds;
}

/// A margin account's settlement: the shares leave, the proceeds and the cure deposit
/// repay the loan (the excess is cash); a defaulting account also pays its cash towards
/// the loan. Returns the debt repaid out of the proceeds.
pub(crate) fn settle_margin(
    u: &mut Unit<'_>,
    sold: &[f64],
    proceeds: f64,
    cure: f64,
    default: bool,
) -> f64 {
    take(&mut u.shares, sold);
    let mut pay = proceeds + cure;
    if default {
        pay += u.cash;
        u.cash = 0.0;
    }
    let loan = u.margin.map_or(0.0, |m| m.loan);
    let repaid = pay.min(loan).max(0.0);
    if let Some(m) = u.margin.as_mut() {
        m.loan -= repaid;
    }
    u.cash += pay - repaid;
    repaid.min(proceeds.max(0.0))
}

/// A fund's settlement: the outflow is paid from the cash its policy spends first, then
/// from the proceeds; proceeds not paid out repay debt, the rest is cash. Returns the debt
/// repaid and the amount paid out.
pub(crate) fn settle_fund(
    u: &mut Unit<'_>,
    sold: &[f64],
    proceeds: f64,
    d: &Decision,
    outflow: f64,
) -> (f64, f64) {
    take(&mut u.shares, sold);
    let proceeds = proceeds.max(0.0);
    let from_cash = d.cash_used.min(u.cash).max(0.0);
    let payout = outflow.min(from_cash + proceeds).max(0.0);
    let payout_cash = payout.min(from_cash);
    u.cash -= payout_cash;
    let left = proceeds - (payout - payout_cash);
    let repaid = pay_down(u, left);
    u.cash += left - repaid;
    (repaid, payout)
}

/// A balance-sheet holder's settlement: cash the rule spends first pays liabilities,
/// proceeds repay the margin loan then other liabilities (the rest is cash); purchases
/// are paid with new debt; a defaulting holder pays all it has towards its debts. Returns
/// the debt repaid out of the proceeds.
pub(crate) fn settle_sheet(
    u: &mut Unit<'_>,
    sold: &[f64],
    proceeds: f64,
    d: &Decision,
    default: bool,
) -> f64 {
    take(&mut u.shares, sold);
    if default {
        let pay = proceeds.max(0.0) + u.cash;
        let paid = pay_down(u, pay);
        u.cash = pay - paid;
        return paid.min(proceeds.max(0.0));
    }
    let from_cash = d.cash_used.min(u.cash).max(0.0);
    let paid_cash = pay_down(u, from_cash);
    u.cash -= paid_cash;
    if proceeds >= 0.0 {
        let paid = pay_down(u, proceeds);
        u.cash += proceeds - paid;
        paid
    } else {
        // Bought: financed by borrowing (the margin loan if there is one).
        match u.margin.as_mut() {
            Some(m) => m.loan -= proceeds,
            None => u.other_liabilities -= proceeds,
        }
        0.0
    }
}

/// A bank's or leveraged fund's settlement when proceeds wait for its next decision (the
/// sequential mode's `at_next_decision`, INET Oxford's timing): the held proceeds and the
/// cash its rule chose to spend at this round's decision pay its debts; the new proceeds
/// repay a margin loan at once (a broker nets a sale against the debit balance: no
/// decision is involved), and the rest is held until the next decision. A defaulting
/// holder pays all it has, held proceeds included, towards its debts. Returns the debt
/// repaid out of proceeds (new or held).
pub(crate) fn settle_sheet_held(
    u: &mut Unit<'_>,
    held: &mut f64,
    sold: &[f64],
    proceeds: f64,
    d: &Decision,
    default: bool,
) -> f64 {
    take(&mut u.shares, sold);
    if default {
        let from_proceeds = proceeds.max(0.0) + *held;
        let pay = from_proceeds + u.cash;
        *held = 0.0;
        let paid = pay_down(u, pay);
        u.cash = pay - paid;
        return paid.min(from_proceeds);
    }
    let from_held = d.held_used.min(*held).max(0.0);
    let paid_held = pay_down(u, from_held);
    *held -= paid_held;
    let from_cash = d.cash_used.min(u.cash).max(0.0);
    let paid_cash = pay_down(u, from_cash);
    u.cash -= paid_cash;
    if proceeds >= 0.0 {
        let to_margin = match u.margin.as_mut() {
            Some(m) => {
                let x = proceeds.min(m.loan);
                m.loan -= x;
                x
            }
            None => 0.0,
        };
        *held += proceeds - to_margin;
        paid_held + to_margin
    } else {
        // Bought: financed by borrowing, as when settling at once.
        match u.margin.as_mut() {
            Some(m) => m.loan -= proceeds,
            None => u.other_liabilities -= proceeds,
        }
        paid_held
    }
}
