//! Leveraged and inverse ETFs: the daily rebalance of Cheng & Madhavan (2009).
//!
//! NAV `N0`, multiple `L`, basket weights `w`, basket return `r(p) = Σ w_k (p_k/p0_k − 1)`.
//! Keeping exposure at `L·NAV` after the move needs a trade in exposure of
//! `(L² − L)·r·N0`: with the move for bull and bear funds alike (sells when `r < 0`). A
//! redemption of a fraction `f` of `N0` lowers NAV to `N0·(1 + L·r − f)` and the target
//! exposure with it, adding `−L·f·N0`. NAV cannot go below zero: `r` is bounded at
//! `(f − 1)/L` (a floor for bull funds, a cap for inverse ones), where the fund is wiped out
//! and trades away its whole synthetic position `L·N0·w_k/p0_k` in every asset: a fund at
//! zero NAV holds nothing. Otherwise the dollar trade is spread over the basket by weight,
//! `shares_k = trade·w_k/p_k`; a bull fund never sells more than its synthetic position,
//! an inverse fund never buys back more than its short, and never shorts more than
//! `(L² − L)·N0·w_k/p0_k` in a day. These caps keep every asset's trade below the
//! wiped-out one, so the rule stays monotone; it jumps at the wipe-out threshold
//! (docs/model.md 4.4).

use crate::compile::{Compiled, Unit};
use crate::outcome::Status;

use super::Decision;

/// Rebalance at `p`; adds shares sold (negative: bought) to `out` and returns the decision
/// and the fund's NAV at `p` (redemptions excluded: it is the NAV of the starting shares).
/// Returns are measured from the reference prices `c.p_ref` (`p0`, or a timeline's
/// previous close); a `carried` exposure is rebalanced by [`rebalance_carried`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn rebalance(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    multiple: f64,
    nav0: f64,
    weights: &[f64],
    carried: bool,
    redemption: f64,
    out: &mut [f64],
) -> (Decision, f64) {
    if carried {
        return rebalance_carried(u, c, p, multiple, nav0, weights, redemption, out);
    }
    let l = multiple;
    let r_raw: f64 = u
        .assets
        .iter()
        .zip(weights)
        .map(|(&a, w)| w * (p[a as usize] / c.p_ref[a as usize] - 1.0))
        .sum();
    let bound = (redemption - 1.0) / l;
    let wiped = if l > 0.0 {
        r_raw <= bound
    } else {
        r_raw >= bound
    };
    let nav = (nav0 * (1.0 + l * r_raw)).max(0.0);
    if wiped {
        // At zero NAV the fund holds nothing: its whole synthetic position goes, asset by
        // asset (with an uneven basket the dollar trade at the bound would keep some
        // exposure to the assets that fell least).
        let mut sale = 0.0;
        for (k, &a) in u.assets.iter().enumerate() {
            out[k] += u.shares[k];
            sale += u.shares[k] * p[a as usize];
        }
        let d = Decision {
            status: Status::Defaulted,
            defaults: 1,
            sale_usd: sale,
            ..Decision::NONE
        };
        return (d, nav);
    }
    let trade = l * ((l - 1.0) * r_raw - redemption) * nav0;
    let sale = -trade;
    if sale == 0.0 {
        return (Decision::NONE, nav);
    }
    for (k, (&a, w)) in u.assets.iter().zip(weights).enumerate() {
        let mut s = sale * w / p[a as usize];
        if l > 0.0 && s > 0.0 {
            s = s.min(u.shares[k]);
        } else if l < 0.0 && s > 0.0 {
            // An inverse fund's added short, in shares, would grow like 1/p without bound
            // as prices collapse (a fixed dollar trade in a worthless stock). Bound it by
            // the largest trade a day can ask for, (L² − L)·N0 at r = −1, in shares at the
            // reference price: it binds only past a 50% fall and keeps the rule monotone.
            s = s.min((l * l - l) * nav0 * w / c.p_ref[a as usize]);
        } else if l < 0.0 {
            // Never buy back more than the short (`u.shares` is negative): the wiped-out
            // fund's trade, covering it all, is then the largest, and the rule monotone.
            s = s.max(u.shares[k].min(0.0));
        }
        out[k] += s;
    }
    (Decision::trade(sale), nav)
}

/// The fund's NAV at `p`, exactly as [`rebalance`] computes it (redemptions do not change
/// it: it is the NAV of the starting shares). NAV per share is this over the shares
/// outstanding, the price holders' ETF shares are marked at.
pub(crate) fn nav_at(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    multiple: f64,
    nav0: f64,
    weights: &[f64],
    carried: bool,
) -> f64 {
    if carried {
        let pnl: f64 = u
            .assets
            .iter()
            .zip(&u.shares)
            .map(|(&a, e)| e * (p[a as usize] - c.p_ref[a as usize]))
            .sum();
        return (nav0 + pnl).max(0.0);
    }
    let r_raw: f64 = u
        .assets
        .iter()
        .zip(weights)
        .map(|(&a, w)| w * (p[a as usize] / c.p_ref[a as usize] - 1.0))
        .sum();
    (nav0 * (1.0 + multiple * r_raw)).max(0.0)
}

/// A timeline's later days: the exposure `e` (shares, signed, per basket position) is what
/// the fund held after the last close, which need not sit at its target weights. NAV at
/// `p` is `N0 + Σ e_k·(p_k − p_ref_k)`; after a redemption of `f·N0` every position is
/// traded to its target `L·NAV·w_k/p_k`. Starting from the target exposure
/// `L·N0·w_k/p_ref_k` this trades `(L² − L)·r·N0` in all, the daily rebalance of
/// [`rebalance`]; NAV compounds day by day as `N_t = N_{t−1}·(1 + L·r_t)`. A NAV at or
/// below zero wipes the fund out: it trades away its whole exposure.
#[allow(clippy::too_many_arguments)]
fn rebalance_carried(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    l: f64,
    nav0: f64,
    weights: &[f64],
    redemption: f64,
    out: &mut [f64],
) -> (Decision, f64) {
    let pnl: f64 = u
        .assets
        .iter()
        .zip(&u.shares)
        .map(|(&a, e)| e * (p[a as usize] - c.p_ref[a as usize]))
        .sum();
    let nav = nav0 + pnl;
    let after = nav - redemption * nav0;
    let wiped = after <= 0.0;
    let mut sale = 0.0;
    for (k, (&a, w)) in u.assets.iter().zip(weights).enumerate() {
        let price = p[a as usize];
        let target = if wiped { 0.0 } else { l * after * w / price };
        let mut x = u.shares[k] - target;
        if l > 0.0 && x > 0.0 {
            x = x.min(u.shares[k].max(0.0));
        } else if l < 0.0 && x > 0.0 {
            // As in [`rebalance`]: a day's added short is bounded in shares.
            x = x.min((l * l - l) * nav0 * w / c.p_ref[a as usize]);
        }
        out[k] += x;
        sale += x * price;
    }
    if sale == 0.0 {
        return (Decision::NONE, nav.max(0.0));
    }
    let status = if wiped {
        Status::Defaulted
    } else if sale > 0.0 {
        Status::Sold
    } else {
        Status::Bought
    };
    let d = Decision {
        status,
        defaults: u64::from(wiped),
        sale_usd: sale,
        ..Decision::NONE
    };
    (d, nav.max(0.0))
}
