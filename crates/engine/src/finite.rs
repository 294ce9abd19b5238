//! The last line of defence against silently wrong numbers: every figure of an
//! [`Outcome`] must be finite.
//!
//! Scenarios are range-checked at load, so ordinary inputs never overflow; but a product of
//! two large, individually valid inputs can, and `f64` arithmetic does not complain — it
//! turns into `inf` or `NaN`, which JSON prints as `null` and a price floor can hide as a
//! 100% crash. A run whose outcome holds such a number is refused with the place it
//! appeared, never reported.

use delever_graph::Network;

use crate::EngineError;
use crate::outcome::Outcome;

/// The first non-finite figure of `o`, as an error naming where it is.
// One list of every figure, in the order the outcome declares them: splitting it would
// only scatter the list.
#[allow(clippy::too_many_lines)]
pub(crate) fn check(net: &Network, o: &Outcome) -> Result<(), EngineError> {
    let bad = |place: String, field: &'static str, value: f64| EngineError::NonFiniteResult {
        place,
        field,
        value,
    };
    let t = &o.totals;
    for (field, v) in [
        ("initial_loss_usd", t.initial_loss_usd),
        ("total_loss_usd", t.total_loss_usd),
        ("amplification", t.amplification),
        ("forced_sales_usd", t.forced_sales_usd),
        (
            "forced_sales_at_sale_prices_usd",
            t.forced_sales_at_sale_prices_usd,
        ),
        ("borrower_shortfalls_usd", t.borrower_shortfalls_usd),
        ("interbank_losses_usd", t.interbank_losses_usd),
        ("exogenous_sales_usd", t.exogenous_sales_usd),
        ("lender_losses_usd", t.lender_losses_usd),
        ("cash_cures_usd", t.cash_cures_usd),
        ("residual", o.residual),
    ] {
        if !v.is_finite() {
            return Err(bad("the totals".into(), field, v));
        }
    }
    for a in &o.assets {
        let id = || format!("asset `{}`", net.asset(a.asset).id);
        for (field, v) in [
            ("price_shocked", a.price_shocked),
            ("price_after", a.price_after),
            ("drawdown", a.drawdown),
            ("forced_sales_shares", a.forced_sales_shares),
            ("forced_sales_usd", a.forced_sales_usd),
            (
                "forced_sales_at_sale_prices_usd",
                a.forced_sales_at_sale_prices_usd,
            ),
        ] {
            if !v.is_finite() {
                return Err(bad(id(), field, v));
            }
        }
    }
    for h in &o.holders {
        let id = || format!("holder `{}`", net.holder(h.holder).id);
        for (field, v) in [
            ("equity_before", h.equity_before),
            ("equity_shocked", h.equity_shocked),
            ("equity_after", h.equity_after),
            ("sales_usd", h.sales_usd),
            ("lender_loss_usd", h.lender_loss_usd),
            ("borrower_shortfall_usd", h.borrower_shortfall_usd),
            ("interbank_unpaid_usd", h.interbank_unpaid_usd),
            ("cash_cure_usd", h.cash_cure_usd),
        ] {
            if !v.is_finite() {
                return Err(bad(id(), field, v));
            }
        }
    }
    for l in &o.lenders {
        for (field, v) in [
            ("borrower_losses_usd", l.borrower_losses_usd),
            ("interbank_losses_usd", l.interbank_losses_usd),
        ] {
            if !v.is_finite() {
                return Err(bad(
                    format!("lender `{}`", net.lender(l.lender).id),
                    field,
                    v,
                ));
            }
        }
    }
    for r in &o.trace {
        let round = || format!("round {}", r.round);
        for (field, v) in [
            ("sales_usd", r.sales_usd),
            ("price_index", r.price_index),
            ("fraction_sold", r.fraction_sold),
        ] {
            if !v.is_finite() {
                return Err(bad(round(), field, v));
            }
        }
        if let Some((k, v)) = r.prices.iter().enumerate().find(|(_, p)| !p.is_finite()) {
            let asset = delever_graph::AssetIx(k as u32);
            return Err(bad(
                format!("round {}, asset `{}`", r.round, net.asset(asset).id),
                "price",
                *v,
            ));
        }
    }
    if let Some(l) = &o.least
        && !l.total_loss_usd.is_finite()
    {
        return Err(bad(
            "the least fixed point".into(),
            "total_loss_usd",
            l.total_loss_usd,
        ));
    }
    Ok(())
}
