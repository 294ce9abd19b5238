//! Turn the iterations' end states into an [`Outcome`] (and a [`Ledger`]).

use delever_graph::{AssetIx, HolderIx, LenderIx, NodeRef};

use crate::compile::Compiled;
use crate::fixpoint::{Run, lender_defaults};
use crate::ledger::{HolderLedger, Ledger, PositionLedger};
use crate::outcome::{
    AssetOutcome, DebtorLoss, EtfShares, HolderOutcome, LeastFixedPoint, LenderOutcome, Outcome,
    Totals,
};
use crate::round::Eval;
use crate::shocks::Shocked;

/// Loss of all starting positions at `p`, USD.
pub(crate) fn loss_at(c: &Compiled<'_>, p: &[f64]) -> f64 {
    c.units
        .iter()
        .flat_map(|u| u.assets.iter().zip(&u.shares))
        // ETF shares are claims on the funds, whose exposure already counts: skipped.
        .filter(|&(&a, _)| !c.is_etf_share(a))
        .map(|(&a, s)| s * (c.p0[a as usize] - p[a as usize]))
        .sum()
}

/// Every lender at an evaluation: its losses from borrowers and interbank claims, whether
/// it tightened and whether the losses passed its capital.
pub(crate) fn lender_outcomes(
    c: &Compiled<'_>,
    cleared: &crate::clearing::Cleared,
    tightened: &[bool],
) -> Vec<LenderOutcome> {
    let nh = c.units.len();
    let mut by_debtor = debtor_losses(c, cleared);
    c.lenders
        .iter()
        .enumerate()
        .map(|(l, x)| {
            let b = cleared.borrower_losses[l];
            let ib = cleared.interbank_losses[nh + l];
            LenderOutcome {
                by_debtor: std::mem::take(&mut by_debtor[l]),
                lender: LenderIx(l as u32),
                capital: x.capital,
                borrower_losses_usd: b,
                interbank_losses_usd: ib,
                tightened: tightened[l],
                defaulted: b + ib > x.capital,
            }
        })
        .collect()
}

/// The two losses creditors bear at a clearing, USD: what margin borrowers could not
/// repay their lenders (every holder's shortfall), and interbank claims left unpaid
/// (every creditor's write-down, holders' and lenders' alike).
pub(crate) fn creditor_losses(cleared: &crate::clearing::Cleared) -> (f64, f64) {
    (
        cleared.shortfall.iter().sum(),
        cleared.interbank_losses.iter().sum(),
    )
}

/// Per lender, each debtor's part of its losses: borrowers' shortfalls on their margin
/// loans (clearing's `shortfall`, the terms of `borrower_losses`) and what interbank
/// debtors left unpaid (a claim's face times the share its debtor did not pay, the terms
/// of `interbank_losses`). One pass over holders and claims, whatever the lender count.
fn debtor_losses(c: &Compiled<'_>, cleared: &crate::clearing::Cleared) -> Vec<Vec<DebtorLoss>> {
    let nh = c.units.len();
    let node = |i: usize| {
        if i < nh {
            NodeRef::Holder(HolderIx(i as u32))
        } else {
            NodeRef::Lender(LenderIx((i - nh) as u32))
        }
    };
    // (debtor node, borrower part, interbank part) per lender, merged per debtor below.
    let mut parts: Vec<Vec<(usize, f64, f64)>> = vec![Vec::new(); c.lenders.len()];
    for (i, u) in c.units.iter().enumerate() {
        let short = cleared.shortfall.get(i).copied().unwrap_or(0.0);
        if let Some(m) = u.margin
            && short > 0.0
            && let Some(v) = parts.get_mut(m.lender)
        {
            v.push((i, short, 0.0));
        }
    }
    // Each node's interbank obligations at face, as clearing divided its payment by.
    let owed = |d: usize| {
        if d < nh {
            c.units.get(d).map_or(0.0, |u| u.owed)
        } else {
            c.lenders.get(d - nh).map_or(0.0, |l| l.owed)
        }
    };
    for x in &c.claims {
        let Some(l) = x.creditor.checked_sub(nh) else {
            continue;
        };
        let d = x.debtor;
        let total = owed(d);
        let paid = cleared.paid.get(d).copied().unwrap_or(0.0);
        let lost = if total > 0.0 {
            x.amount * (1.0 - paid / total).max(0.0)
        } else {
            0.0
        };
        if lost > 0.0
            && let Some(v) = parts.get_mut(l)
        {
            v.push((d, 0.0, lost));
        }
    }
    parts
        .into_iter()
        .map(|mut v| {
            v.sort_by_key(|p| p.0);
            let mut out: Vec<DebtorLoss> = Vec::with_capacity(v.len());
            for (d, b, ib) in v {
                match out.last_mut() {
                    Some(last) if last.debtor == node(d) => {
                        last.borrower_usd += b;
                        last.interbank_usd += ib;
                    }
                    _ => out.push(DebtorLoss {
                        debtor: node(d),
                        borrower_usd: b,
                        interbank_usd: ib,
                    }),
                }
            }
            out
        })
        .collect()
}

/// A holder's ledger: its starting positions (`u`'s), the shares `sold` of each, and where
/// the money went.
pub(crate) struct Money {
    pub proceeds: f64,
    pub decided: f64,
    pub repaid: f64,
    pub paid_out: f64,
    pub kept: f64,
}

impl Money {
    /// A holder whose sales settled round by round or day by day: what it kept is the
    /// proceeds less what repaid debt and what it paid out.
    pub(crate) fn carried(proceeds: f64, decided: f64, repaid: f64, paid_out: f64) -> Self {
        Money {
            proceeds,
            decided,
            repaid,
            paid_out,
            kept: proceeds - repaid - paid_out,
        }
    }
}

pub(crate) fn ledger(
    c_assets: usize,
    u: &crate::compile::Unit<'_>,
    holder: HolderIx,
    sold: &[f64],
    m: &Money,
) -> HolderLedger {
    HolderLedger {
        holder,
        positions: u
            .assets
            .iter()
            .zip(&u.shares)
            .zip(sold)
            // ETF shares are accounted in `Outcome::etf_shares`.
            .filter(|((a, _), _)| (**a as usize) < c_assets)
            .map(|((&a, &h), &x)| PositionLedger {
                asset: AssetIx(a),
                initial_shares: h,
                sold_shares: x,
                kept_shares: h - x,
            })
            .collect(),
        proceeds_usd: m.proceeds,
        sale_decided_usd: m.decided,
        debt_repaid_usd: m.repaid,
        paid_out_usd: m.paid_out,
        cash_kept_usd: m.kept,
    }
}

/// Price of asset or pseudo-asset `a` (a leveraged ETF's shares, at NAV per share).
pub(crate) fn price_at(c: &Compiled<'_>, p: &[f64], nav_ps: &[f64], a: u32) -> f64 {
    if c.is_etf_share(a) {
        nav_ps.get(a as usize - c.n_assets).copied().unwrap_or(0.0)
    } else {
        p[a as usize]
    }
}

/// Each leveraged ETF with shares outstanding: shares before, redeemed by its holders'
/// sales at the end state, and NAV per share before and after. A `redemption` shock's
/// fraction `f` (investors outside the model) retires `f` of the shares too.
pub(crate) fn etf_shares(
    c: &Compiled<'_>,
    s: &Shocked,
    before: &Eval,
    end: &Eval,
) -> Vec<EtfShares> {
    c.classes
        .iter()
        .enumerate()
        .map(|(k, class)| {
            let redeemed = end.redeemed.get(k).copied().unwrap_or(0.0);
            EtfShares {
                holder: HolderIx(class.unit as u32),
                outstanding_before: class.outstanding,
                redeemed_by_holders: redeemed,
                outstanding_after: (class.outstanding * (1.0 - s.redemption[class.unit])
                    - redeemed)
                    .max(0.0),
                nav_per_share_before: before.nav_ps.get(k).copied().unwrap_or(0.0),
                nav_per_share_after: end.nav_ps.get(k).copied().unwrap_or(0.0),
            }
        })
        .collect()
}

pub(crate) struct Parts<'x> {
    pub c: &'x Compiled<'x>,
    pub s: &'x Shocked,
    pub before: &'x Eval,
    pub main: Run,
    /// Valuation at the final prices.
    pub end: &'x Eval,
    pub least: Option<(Run, bool)>,
}

// Fills every field of the outcome in one place, in the order the types declare them.
#[allow(clippy::too_many_lines)]
pub(crate) fn assemble(x: Parts<'_>) -> (Outcome, Ledger) {
    let Parts {
        c,
        s,
        before,
        main,
        end,
        least,
    } = x;
    let p = &main.prices;
    let dec = &main.last;
    let nh = c.units.len();

    let assets = (0..c.n_assets)
        .map(|k| AssetOutcome {
            asset: AssetIx(k as u32),
            price_before: c.p0[k],
            price_shocked: s.price[k],
            price_after: p[k],
            drawdown: p[k] / c.p0[k] - 1.0,
            forced_sales_shares: dec.total[k],
            forced_sales_usd: dec.total[k] * p[k],
            forced_sales_at_sale_prices_usd: main.sold_at_round_prices[k],
        })
        .collect::<Vec<_>>();

    let mut holders = Vec::with_capacity(nh);
    let mut ledgers = Vec::with_capacity(nh);
    for (i, u) in c.units.iter().enumerate() {
        let d = &dec.decisions[i];
        let sold = &dec.sold[i];
        let proceeds: f64 = u
            .assets
            .iter()
            .zip(sold)
            .map(|(&a, x)| x * price_at(c, p, &end.nav_ps, a))
            .sum();
        let unpaid = (u.owed - end.cleared.paid[i]).max(0.0);
        holders.push(HolderOutcome {
            holder: HolderIx(i as u32),
            kind: u.kind,
            equity_before: before.equity[i],
            equity_shocked: main.first.equity[i],
            equity_after: end.equity[i],
            sales_usd: proceeds,
            status: d.status,
            lender_loss_usd: end.cleared.shortfall[i] + unpaid,
            borrower_shortfall_usd: end.cleared.shortfall[i],
            interbank_unpaid_usd: unpaid,
            margin_calls: d.calls,
            defaults: d.defaults,
            cash_cure_usd: d.cure_usd,
        });
        ledgers.push(ledger(
            c.n_assets,
            u,
            HolderIx(i as u32),
            sold,
            &Money {
                proceeds,
                decided: d.sale_usd,
                repaid: d.repaid_usd,
                paid_out: d.paid_out_usd,
                kept: d.sale_usd - d.repaid_usd - d.paid_out_usd,
            },
        ));
    }

    let lenders = lender_outcomes(c, &end.cleared, &end.tightened);

    let initial = loss_at(c, &s.price);
    let total_loss = loss_at(c, p);
    let (borrower_shortfalls_usd, interbank_losses_usd) = creditor_losses(&end.cleared);
    let totals = Totals {
        initial_loss_usd: initial,
        total_loss_usd: total_loss,
        amplification: if initial == 0.0 {
            1.0
        } else {
            total_loss / initial
        },
        forced_sales_usd: assets.iter().map(|a| a.forced_sales_usd).sum(),
        forced_sales_at_sale_prices_usd: assets
            .iter()
            .map(|a| a.forced_sales_at_sale_prices_usd)
            .sum(),
        exogenous_sales_usd: s.exo_shares.iter().zip(p).map(|(x, p)| x * p).sum(),
        defaults: dec.holder_defaults() + lender_defaults(c, end),
        margin_calls: dec.calls(),
        lender_losses_usd: lenders
            .iter()
            .map(|l| l.borrower_losses_usd + l.interbank_losses_usd)
            .sum(),
        borrower_shortfalls_usd,
        interbank_losses_usd,
        cash_cures_usd: dec.decisions.iter().map(|d| d.cure_usd).sum(),
    };

    let least = least.map(|(run, differs)| LeastFixedPoint {
        rounds: run.rounds,
        termination: run.termination,
        total_loss_usd: loss_at(c, &run.prices),
        prices: run.prices,
        differs,
    });
    (
        Outcome {
            mode: crate::spec::Mode::Equilibrium,
            termination: main.termination,
            rounds: main.rounds,
            residual: main.residual,
            totals,
            assets,
            holders,
            lenders,
            trace: main.trace,
            least,
            days: Vec::new(),
            non_monotone: Vec::new(),
            etf_shares: etf_shares(c, s, before, end),
        },
        Ledger { holders: ledgers },
    )
}
