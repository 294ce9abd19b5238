//! The sequential run's outcome and ledger, from the states it carried.

use delever_graph::HolderIx;
use rayon::prelude::*;

use super::{Round, Seq, State, lender_default_count, value};
use crate::assemble::{Money, creditor_losses, ledger, lender_outcomes, loss_at};
use crate::compile::{Rule, Unit};
use crate::ledger::{HolderLedger, Ledger};
use crate::outcome::{AssetOutcome, HolderOutcome, Outcome, RoundTrace, Termination, Totals};
use crate::rules::book::{CALLED, DEFAULTED};
use crate::spec::Mode;

/// What the outcome is built from.
pub(super) struct Finish<'x, 'a> {
    /// Per held fund: shares its holders sold over the rounds.
    pub(super) redeemed_by_holders: &'x [f64],
    pub(super) states: &'x [State<'a>],
    /// Per held ETF: its NAV per share before the shock.
    pub(super) nav_ps0: &'x [f64],
    pub(super) equity_shocked: &'x [f64],
    pub(super) end: &'x Round,
    pub(super) prices: &'x [f64],
    pub(super) cum: &'x [f64],
    pub(super) sales_at_mid: &'x [f64],
    pub(super) exo_usd: f64,
    pub(super) trace: Vec<RoundTrace>,
    pub(super) rounds: u32,
    pub(super) residual: f64,
    pub(super) termination: Termination,
}

impl Seq<'_, '_> {
    #[allow(clippy::too_many_lines)]
    pub(super) fn assemble(&self, f: &Finish<'_, '_>) -> (Outcome, Ledger) {
        let c = self.c;
        let p = f.prices;
        let assets: Vec<AssetOutcome> = (0..c.n_assets)
            .map(|k| AssetOutcome {
                asset: delever_graph::AssetIx(k as u32),
                price_before: c.p0[k],
                price_shocked: self.s.price[k],
                price_after: p[k],
                drawdown: p[k] / c.p0[k] - 1.0,
                forced_sales_shares: f.cum[k],
                forced_sales_usd: f.sales_at_mid[k],
                // A sequential round's sales are settled at its mid price already.
                forced_sales_at_sale_prices_usd: f.sales_at_mid[k],
            })
            .collect();
        // Each holder's record and ledger on every core, written in place; the totals are
        // summed after, in holder order (bit-identical on any thread count).
        let (holders, (ledgers, losses)): (Vec<HolderOutcome>, (Vec<HolderLedger>, Vec<f64>)) = c
            .units
            .par_iter()
            .zip(f.states)
            .enumerate()
            .map(|(i, (u0, st))| {
                let (h, l, loss) = self.holder_end(f, i, u0, st);
                (h, (l, loss))
            })
            .unzip();
        let (mut calls_total, mut defaults_total) = (0u64, 0u64);
        for h in &holders {
            calls_total += h.margin_calls;
            defaults_total += h.defaults;
        }
        let total_loss = losses.iter().fold(0.0, |sum, loss| sum + loss);
        let lenders = lender_outcomes(c, &f.end.cleared, &f.end.tightened);
        let initial = loss_at(c, &self.s.price);
        let (borrower_shortfalls_usd, interbank_losses_usd) = creditor_losses(&f.end.cleared);
        let totals = Totals {
            initial_loss_usd: initial,
            total_loss_usd: total_loss,
            amplification: if initial == 0.0 {
                1.0
            } else {
                total_loss / initial
            },
            forced_sales_usd: f.sales_at_mid.iter().sum(),
            forced_sales_at_sale_prices_usd: f.sales_at_mid.iter().sum(),
            exogenous_sales_usd: f.exo_usd,
            defaults: defaults_total + lender_default_count(c, &f.end.cleared),
            margin_calls: calls_total,
            lender_losses_usd: lenders
                .iter()
                .map(|l| l.borrower_losses_usd + l.interbank_losses_usd)
                .sum(),
            borrower_shortfalls_usd,
            interbank_losses_usd,
            cash_cures_usd: f.states.iter().map(|s| s.cure).sum(),
        };
        (
            Outcome {
                mode: Mode::Sequential,
                termination: f.termination,
                rounds: f.rounds,
                residual: f.residual,
                totals,
                assets,
                holders,
                lenders,
                trace: f.trace.clone(),
                least: None,
                days: Vec::new(),
                non_monotone: Vec::new(),
                etf_shares: c
                    .classes
                    .iter()
                    .enumerate()
                    .map(|(k, class)| {
                        let st = &f.states[class.unit];
                        crate::outcome::EtfShares {
                            holder: HolderIx(class.unit as u32),
                            outstanding_before: class.outstanding,
                            redeemed_by_holders: f.redeemed_by_holders[k],
                            outstanding_after: st.shares_out,
                            nav_per_share_before: f.nav_ps0.get(k).copied().unwrap_or(0.0),
                            nav_per_share_after: if st.shares_out > 0.0 {
                                st.nav.max(0.0) / st.shares_out
                            } else {
                                0.0
                            },
                        }
                    })
                    .collect(),
            },
            Ledger { holders: ledgers },
        )
    }
}

/// Accounts (or the holder) ever called and ever defaulted.
fn ever(st: &State<'_>) -> (u64, u64) {
    match &st.unit.rule {
        Rule::Book { .. } => st.rows.as_ref().map_or((0, 0), |r| {
            r.flags.iter().fold((0, 0), |(c, d), f| {
                (
                    c + u64::from(f & CALLED != 0),
                    d + u64::from(f & DEFAULTED != 0),
                )
            })
        }),
        Rule::Cohort { buckets, .. } => {
            st.bucket_flags
                .iter()
                .zip(buckets)
                .fold((0, 0), |(c, d), (f, b)| {
                    (
                        c + if f & CALLED != 0 { b.accounts } else { 0 },
                        d + if f & DEFAULTED != 0 { b.accounts } else { 0 },
                    )
                })
        }
        _ => (
            u64::from(st.flags & CALLED != 0),
            u64::from(st.flags & DEFAULTED != 0),
        ),
    }
}

impl Seq<'_, '_> {
    /// Holder `i`'s record and ledger at the end of the run, and its part of the market's
    /// losses.
    fn holder_end(
        &self,
        f: &Finish<'_, '_>,
        i: usize,
        u0: &Unit<'_>,
        st: &State<'_>,
    ) -> (HolderOutcome, HolderLedger, f64) {
        let c = self.c;
        let p = f.prices;
        let (calls, defaults) = ever(st);
        // The market's losses: ETF shares are claims on the funds, whose exposure counts
        // already (their sales' proceeds are left out with them).
        let market = |a: &u32| !c.is_etf_share(*a);
        let start: f64 = u0
            .assets
            .iter()
            .zip(&u0.shares)
            .filter(|(a, _)| market(a))
            .map(|(&a, h)| h * c.p0[a as usize])
            .sum();
        let now: f64 = if st.unit.etf_mult.is_some() {
            st.unit
                .assets
                .iter()
                .zip(&st.unit.shares)
                .filter(|(a, _)| market(a))
                .map(|(&a, h)| h * p[a as usize])
                .sum()
        } else {
            value(&st.unit, p)
        };
        let loss = start - now - (st.proceeds - st.etf_proceeds);
        let unpaid = (u0.owed - f.end.cleared.paid[i]).max(0.0);
        let record = HolderOutcome {
            holder: HolderIx(i as u32),
            kind: u0.kind,
            equity_before: self.equity0[i],
            equity_shocked: f.equity_shocked.get(i).copied().unwrap_or(0.0),
            equity_after: f.end.equity[i] - st.cure + st.paid_out,
            sales_usd: st.proceeds,
            status: st.status,
            lender_loss_usd: f.end.cleared.shortfall[i] + unpaid,
            borrower_shortfall_usd: f.end.cleared.shortfall[i],
            interbank_unpaid_usd: unpaid,
            margin_calls: calls,
            defaults,
            cash_cure_usd: st.cure,
        };
        let l = ledger(
            c.n_assets,
            u0,
            HolderIx(i as u32),
            &st.sold,
            &Money::carried(st.proceeds, st.planned, st.repaid, st.paid_out),
        );
        (record, l, loss)
    }
}
