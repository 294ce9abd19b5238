//! Margin calls: single accounts, cohorts of accounts, and the margin overlay that funds
//! and banks on prime-broker margin obey on top of their own rule.
//!
//! Equity `E`, holdings value `V`, maintenance `m`, reset `m_r`: nothing while `E ≥ m·V`;
//! a call when `0 < E < m·V`, met by selling `y = V − E/m_r` (the proceeds repay the loan,
//! so `E` is unchanged and `E/(V − y) = m_r`), a share `φ` of it (the cure rate) met instead
//! with a cash deposit `φ·(m_r·V − E)`; `E ≤ 0`: everything is sold and the lender bears
//! `max(0, D − V − cash)`.

use crate::compile::{Bucket, Closing, Compiled, Unit};
use crate::outcome::Status;

use super::{Decision, Env, allocate};

/// How a margin account answers the current prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Call {
    /// Equity at or above maintenance.
    None,
    /// Called and met: sell `sale` dollars, deposit `cure` dollars.
    Met { sale: f64, cure: f64 },
    /// Equity ≤ 0: liquidate everything.
    Default,
}

/// Equity within this fraction below `m·V` counts as at maintenance. An account that sold
/// back to exactly its maintenance (reset = maintenance, the default) is there only up to
/// the fixed point's own error: its sale was decided at prices within `tolerance` (1e-10
/// by default) of the close it settled at, which leaves it below maintenance by up to that
/// error times its leverage (10 at a 10% margin). Without the allowance the next day would
/// find a "call" of that size and sell dust. 1e-8 of maintenance is far below any move
/// that matters and above that error.
pub(crate) const AT_MAINTENANCE: f64 = 1.0 - 1e-8;

/// Whether equity `e` on holdings value `v` meets maintenance `m` (see [`AT_MAINTENANCE`]).
#[inline]
pub(crate) fn meets(e: f64, v: f64, m: f64) -> bool {
    e >= m * v * AT_MAINTENANCE
}

/// The margin decision for holdings value `v` and equity `e` (cash already netted in `e`).
#[inline]
pub(crate) fn call(v: f64, e: f64, m: f64, m_reset: f64, cure: f64) -> Call {
    if e <= 0.0 && (v > 0.0 || e < 0.0) {
        Call::Default
    } else if meets(e, v, m) {
        Call::None
    } else {
        // m_reset ≥ m > 0 (builder invariant, kept by tightening), so the division is safe.
        let y = (v - e / m_reset).max(0.0);
        Call::Met {
            sale: (1.0 - cure) * y,
            cure: cure * (m_reset * v - e).max(0.0),
        }
    }
}

/// The account's requirement rates on holdings worth `v` at `p` under maintenance `m` and
/// reset `mr`: `(m, mr)` unchanged without ETF shares; with them `(R/V, R_r/V)`, where
/// `R = Σ min(1, m·k_j)·V_j` over positions (`k_j`: the fund's `|L|` for leveraged ETF
/// shares, 1 for assets). FINRA Rule 4210 as read in Regulatory Notice 09-53 (2009): a
/// leveraged ETF's maintenance is the ordinary requirement times its multiple, at most
/// 100%. A call's sale `V − E/(R_r/V)` is the pro-rata sale that brings equity back to
/// `R_r` of what is left.
pub(crate) fn rates(u: &Unit<'_>, p: &[f64], v: f64, m: f64, mr: f64) -> (f64, f64) {
    let Some(mult) = &u.etf_mult else {
        return (m, mr);
    };
    if v <= 0.0 {
        return (m, mr);
    }
    let (mut req, mut req_r) = (0.0, 0.0);
    for ((&a, s), &k) in u.assets.iter().zip(&u.shares).zip(mult) {
        let val = s * p[a as usize];
        req += (m * k).min(1.0) * val;
        req_r += (mr * k).min(1.0) * val;
    }
    (req / v, (req_r / v).max(req / v))
}

/// A holder its lender is closing out, or waiting to (timeline), if it is one: its
/// decision today. `e` is its equity at `p`: a borrower closed out with equity left is
/// `liquidated`, one whose equity is gone `defaulted`.
pub(crate) fn closing(
    u: &Unit<'_>,
    v: f64,
    e: f64,
    p: &[f64],
    out: &mut [f64],
) -> Option<Decision> {
    let insolvent = e <= 0.0;
    let waiting = Decision {
        status: if insolvent {
            Status::Defaulted
        } else {
            Status::MarginCall
        },
        calls: u64::from(u.margin.is_some()),
        defaults: u64::from(insolvent),
        ..Decision::NONE
    };
    match u.day.closing {
        Closing::No => None,
        Closing::Waiting => Some(waiting),
        Closing::Selling => {
            allocate(v, v, 1.0, u, p, out);
            let debt = u.margin.map_or(0.0, |m| m.loan) + u.other_liabilities + u.owed;
            Some(Decision {
                status: if insolvent {
                    Status::Defaulted
                } else {
                    Status::Liquidated
                },
                sale_usd: v,
                repaid_usd: v.min(debt),
                ..waiting
            })
        }
    }
}

/// A call found today whose deadline has not come (timeline): counted, nothing sold.
pub(crate) const PENDING_CALL: Decision = Decision {
    status: Status::MarginCall,
    calls: 1,
    ..Decision::NONE
};

/// A single margin account.
///
/// Timeline terms ([`crate::compile::DayTerms`]): a call acts only once due; a lender
/// with `close_out` sells all of a due call's unmet share; a lender with a `delay_days`
/// leaves an account in deficit alone until its call is due (the default is recognised at
/// the close and closed out after the delay).
pub(crate) fn account(
    u: &Unit<'_>,
    p: &[f64],
    env: &Env<'_>,
    cure: f64,
    out: &mut [f64],
) -> Decision {
    let Some(link) = &u.margin else {
        return Decision::NONE;
    };
    let v = env.value;
    let e = v + u.cash + u.other_assets + env.recv - link.loan - u.other_liabilities - u.owed;
    if let Some(d) = closing(u, v, e, p, out) {
        return d;
    }
    let (m, mr) = Compiled::terms(link, env.extra);
    let (m, mr) = rates(u, p, v, m, mr);
    let due = u.day.due();
    match call(v, e, m, mr, cure) {
        Call::None => Decision::NONE,
        Call::Met { .. } if !due => PENDING_CALL,
        Call::Met { cure: deposit, .. } if u.day.close_out => {
            let sale = (1.0 - cure) * v;
            allocate(sale, v, 1.0, u, p, out);
            Decision {
                status: Status::Liquidated,
                calls: 1,
                cure_usd: deposit,
                sale_usd: sale,
                repaid_usd: sale.min(link.loan),
                ..Decision::NONE
            }
        }
        Call::Default if u.day.delay_days > 0 && !due => Decision {
            status: Status::Defaulted,
            calls: 1,
            defaults: 1,
            ..Decision::NONE
        },
        Call::Met { sale, cure } => {
            allocate(sale, v, 1.0, u, p, out);
            Decision {
                status: Status::MarginCall,
                calls: 1,
                cure_usd: cure,
                sale_usd: sale.min(v),
                repaid_usd: sale.min(v),
                ..Decision::NONE
            }
        }
        Call::Default => {
            allocate(v, v, 1.0, u, p, out);
            Decision {
                status: Status::Defaulted,
                calls: 1,
                defaults: 1,
                sale_usd: v,
                repaid_usd: v.min(link.loan),
                ..Decision::NONE
            }
        }
    }
}

/// A cohort: each bucket is a representative account holding `share` of the cohort's
/// positions and cash with loan `ltv·share·V0`.
pub(crate) fn cohort(
    u: &Unit<'_>,
    p: &[f64],
    env: &Env<'_>,
    cure: f64,
    buckets: &[Bucket],
    out: &mut [f64],
) -> Decision {
    let Some(link) = &u.margin else {
        return Decision::NONE;
    };
    let (m, mr) = Compiled::terms(link, env.extra);
    // Every bucket holds the same mix, so the rates are the cohort's.
    let (m, mr) = rates(u, p, env.value, m, mr);
    let due = u.day.due();
    let mut d = Decision::NONE;
    for b in buckets {
        let v = b.share * env.value;
        let e = v + b.share * u.cash - b.loan;
        match call(v, e, m, mr, cure) {
            Call::None => {}
            Call::Met { .. } if !due => {
                d.calls += b.accounts;
                d.status = d.status.max(Status::MarginCall);
            }
            Call::Met { sale, cure } => {
                allocate(sale, v, b.share, u, p, out);
                d.calls += b.accounts;
                d.cure_usd += cure;
                d.sale_usd += sale.min(v);
                d.repaid_usd += sale.min(v);
                d.status = d.status.max(Status::MarginCall);
            }
            Call::Default => {
                allocate(v, v, b.share, u, p, out);
                d.calls += b.accounts;
                d.defaults += b.accounts;
                d.sale_usd += v;
                d.repaid_usd += v.min(b.loan);
                d.status = Status::Defaulted;
            }
        }
    }
    d
}

/// Lender shortfall and equity surplus of a cohort's buckets at holdings value `value`.
pub(crate) fn cohort_shortfall(u: &Unit<'_>, value: f64, buckets: &[Bucket]) -> (f64, f64) {
    let (mut short, mut surplus) = (0.0, 0.0);
    for b in buckets {
        let e = b.share * (value + u.cash) - b.loan;
        if e < 0.0 {
            short -= e;
        } else {
            surplus += e;
        }
    }
    (short, surplus)
}

#[cfg(test)]
mod tests {
    use super::*;

    // 50% LTV: V = 100, D = 50. Called once V ≤ D/(1 − m).
    #[test]
    fn thresholds_at_fifty_percent_ltv() {
        for (m, published) in [(0.25f64, 0.333f64), (0.30, 0.286), (0.40, 0.167)] {
            let fall_exact = 1.0 - 0.5 / (1.0 - m);
            assert!((fall_exact - published).abs() < 5e-4, "{m}: {fall_exact}");
            let at = |f: f64| {
                let v = 100.0 * (1.0 - f);
                call(v, v - 50.0, m, m, 0.0)
            };
            assert_eq!(at(fall_exact - 1e-6), Call::None);
            assert!(matches!(at(fall_exact + 1e-6), Call::Met { .. }));
        }
    }

    // With m_r = m the sale is (1/m − 1) × the loss beyond the call point.
    #[test]
    fn sale_multiplier() {
        for (m, mult) in [(0.25, 3.0), (0.30, 7.0 / 3.0)] {
            let v_call = 50.0 / (1.0 - m);
            let v = v_call - 1.0; // one dollar of further loss
            match call(v, v - 50.0, m, m, 0.0) {
                Call::Met { sale, .. } => assert!((sale - mult).abs() < 1e-9, "{sale}"),
                other => panic!("expected a call, got {other:?}"),
            }
        }
    }

    // FINRA 4210 / RN 09-53: a 3× fund's shares at 25% base carry 75%, a 2× fund's 50%, a
    // 5× fund's would be capped at 100%; a mix weighs each by its value.
    #[test]
    fn etf_shares_carry_the_multiple_times_maintenance() {
        use crate::compile::{DayTerms, Rule, Unit};
        use delever_graph::{CashUse, KindTag, SaleOrder};
        let unit = |mult: Vec<f64>, shares: Vec<f64>| Unit {
            kind: KindTag::MarginAccount,
            rule: Rule::Account { cure: 0.0 },
            assets: (0..shares.len() as u32).collect(),
            shares: shares.into(),
            liquidity: None,
            cash: 0.0,
            other_assets: 0.0,
            other_liabilities: 0.0,
            margin: None,
            sale_order: SaleOrder::ProRata,
            cash_use: CashUse::First,
            owed: 0.0,
            etf_mult: Some(mult),
            default_below: None,
            day: DayTerms::instant(),
        };
        let p = [10.0, 20.0];
        for (k, want) in [(3.0, 0.75), (2.0, 0.5), (5.0, 1.0)] {
            let u = unit(vec![k], vec![1.0]);
            let (m, mr) = rates(&u, &p, 10.0, 0.25, 0.3);
            assert!((m - want).abs() < 1e-15, "{k}: {m}");
            assert!((mr - (0.3 * k).min(1.0)).abs() < 1e-15, "{k}: {mr}");
        }
        // $10 of stock at 25%, $20 of a 3× fund at 75%: R = 2.5 + 15 = 17.5 on V = 30.
        let u = unit(vec![1.0, 3.0], vec![1.0, 1.0]);
        let (m, _) = rates(&u, &p, 30.0, 0.25, 0.25);
        assert!((m - 17.5 / 30.0).abs() < 1e-15);
        // 20% loan-to-value on the 3× fund alone: called once V < D/(1 − 0.75) = 4·D.
        let u = unit(vec![3.0], vec![1.0]);
        let at = |v: f64| {
            let (m, mr) = rates(&u, &[v], v, 0.25, 0.25);
            call(v, v - 2.0, m, mr, 0.0)
        };
        assert_eq!(at(8.0 + 1e-6), Call::None);
        assert!(matches!(at(8.0 - 1e-6), Call::Met { .. }));
    }

    #[test]
    fn cure_rate_splits_the_call() {
        let (v, e, m) = (100.0, 20.0, 0.25);
        let Call::Met { sale, cure } = call(v, e, m, 0.5, 0.25) else {
            panic!("expected a call")
        };
        // y = 100 − 20/0.5 = 60; 75% of it sold; deposit 25% of (0.5·100 − 20) = 7.5.
        assert!((sale - 45.0).abs() < 1e-12);
        assert!((cure - 7.5).abs() < 1e-12);
        assert_eq!(call(0.0, 0.0, m, m, 0.0), Call::None);
        assert_eq!(call(10.0, 0.0, m, m, 0.0), Call::Default);
    }
}
