//! Volatility targeting (and risk parity's levering to a portfolio volatility): exposure
//! is the target volatility over the fund's estimate of realised volatility, so a jump in
//! volatility forces sales across its assets.
//!
//! Exposure, as a multiple of NAV: `w = min(L_max, σ*/σ̂)`. The estimate is an EWMA of
//! squared daily returns, annualised with 252 trading days:
//!
//! ```text
//! σ̂²_t = λ·σ̂²_{t−1} + (1 − λ)·252·r_t²,    λ = 2^(−1/h)   (half-life h days)
//! ```
//!
//! Harvey, Hoyle, Korgaonkar, Rattray, Sargaison & Van Hemert (2018), "The impact of
//! volatility targeting", *Journal of Portfolio Management* 45(1): a 20-day half-life
//! (λ ≈ 0.966; 90 days as a robustness check), estimated with a two-day lag. Since the
//! estimate reacts to squared returns, a large move raises it in proportion to the move's
//! square and the selling per 1% grows with the size of the move (Nomura's estimates: −$4.4B
//! for a ±1% S&P day, −$11.2B for ±1.5%, −$32.5B for ±2%; desk estimates). A rebalance band
//! leaves the exposure alone while it is within `band` (a fraction of NAV) of its target.

//!
//! **A quiet day leaves the estimate where it was.** The update used for a day is
//! `λ·σ̂² + (1 − λ)·max(252·r², σ̂²)`: a move smaller than the estimate expects does not
//! lower it. Without this, a day with no news would lower the estimate and the fund would
//! buy (re-lever) at unchanged prices, so a system at rest would trade; the re-levering
//! after calm weeks is outside what a cascade model answers.
//!
//! **Sizing.** The fund starts at its target, `w₀ = min(L_max, σ*/σ̂₀)`. At prices `p` its
//! target is `h*_k = h₀_k·(w(p)/w₀)·(NAV(p)/NAV₀)` shares: the starting position scaled by
//! the change in exposure and in NAV, counted in shares (at the reference prices), not
//! re-valued at `p`. So a fall (which raises `σ̂` and lowers NAV) only ever cuts the target
//! and the rule is monotone in prices; the constant-mix drift (buying a dip to restore
//! the weight) is left to the next day's rebalance in the timeline. In the timeline each
//! day's estimate carries from the previous close, and with `lag_days > 0` the day trades
//! to the target set at the close `lag_days` earlier.

use delever_graph::VolTargetRule;

use super::Decision;
use crate::compile::{Compiled, Rule, Unit};

/// Trading days in a year, for annualising daily variance.
pub(crate) const YEAR: f64 = 252.0;

/// The EWMA decay for a half-life of `days` trading days: `2^(−1/days)`.
pub(crate) fn decay(half_life_days: f64) -> f64 {
    0.5f64.powf(1.0 / half_life_days)
}

/// The estimate after a day's return `r` (a fraction): annual variance in, annual
/// variance out.
#[cfg(test)]
pub(crate) fn ewma(variance: f64, r: f64, lambda: f64) -> f64 {
    lambda * variance + (1.0 - lambda) * YEAR * r * r
}

/// A day's update under the quiet-day convention (module docs).
pub(crate) fn ewma_day(variance: f64, r: f64, lambda: f64) -> f64 {
    lambda * variance + (1.0 - lambda) * (YEAR * r * r).max(variance)
}

/// Compile a vol-target fund holding `h0` shares (aligned with its positions).
pub(crate) fn compile(rule: &VolTargetRule, h0: &[f64]) -> Rule<'static> {
    Rule::VolTarget(Box::new(crate::compile::VolTargetC {
        rule: *rule,
        lambda: decay(rule.half_life_days),
        var_ref: rule.realised_vol * rule.realised_vol,
        w0: exposure(rule.target_vol, rule.realised_vol, rule.max_leverage),
        h0: h0.to_vec(),
        fixed: None,
    }))
}

/// The portfolio's return from the reference prices to `p`, weighted by the value held at
/// the reference prices.
pub(crate) fn day_return(u: &Unit<'_>, c: &Compiled<'_>, p: &[f64]) -> f64 {
    let (mut v0, mut v) = (0.0, 0.0);
    for (&a, s) in u.assets.iter().zip(&u.shares) {
        v0 += s * c.p_ref[a as usize];
        v += s * p[a as usize];
    }
    if v0 > 0.0 { v / v0 - 1.0 } else { 0.0 }
}

/// The target as a multiple of the starting position: `(w/w₀)·(NAV/NAV₀)`.
pub(crate) fn ratio(
    rule: &VolTargetRule,
    lambda: f64,
    var_ref: f64,
    w0: f64,
    r: f64,
    nav: f64,
    nav0: f64,
) -> f64 {
    let var = ewma_day(var_ref, r, lambda);
    let w = exposure(rule.target_vol, var.sqrt(), rule.max_leverage);
    if w0 <= 0.0 || nav0 <= 0.0 {
        return 0.0;
    }
    (w / w0 * (nav / nav0)).max(0.0)
}

/// Rebalance at `p` towards `ratio·h₀`; no trade while the target is within `band` of the
/// position held (by value at the reference prices).
#[allow(clippy::too_many_arguments)]
pub(crate) fn rebalance(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    rule: &VolTargetRule,
    h0: &[f64],
    k: f64,
    out: &mut [f64],
) -> Decision {
    let (mut held, mut want) = (0.0, 0.0);
    for ((&a, s), h) in u.assets.iter().zip(&u.shares).zip(h0) {
        held += s * c.p_ref[a as usize];
        want += h * k * c.p_ref[a as usize];
    }
    if held <= 0.0 || ((held - want) / held).abs() <= rule.band {
        return Decision::NONE;
    }
    let mut sale = 0.0;
    for (j, ((&a, s), h)) in u.assets.iter().zip(&u.shares).zip(h0).enumerate() {
        let x = s - h * k;
        out[j] += x;
        sale += x * p[a as usize];
    }
    Decision::trade(sale)
}

/// Exposure as a multiple of NAV for annual volatility estimate `vol`: `min(L_max, σ*/σ̂)`.
pub(crate) fn exposure(target_vol: f64, vol: f64, max_leverage: f64) -> f64 {
    if vol <= 0.0 {
        return max_leverage;
    }
    (target_vol / vol).min(max_leverage)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_lives_of_the_literature() {
        // Harvey et al.: 20 days (λ ≈ 0.966), 90 days (λ ≈ 0.992).
        assert!((decay(20.0) - 0.965_936).abs() < 1e-6);
        assert!((decay(90.0) - 0.992_328).abs() < 1e-6);
    }

    /// Realised vol from 15% to 20% cuts exposure by a quarter: ∂w/∂σ̂ = −w/σ̂.
    #[test]
    fn a_vol_jump_cuts_exposure() {
        let before = exposure(0.10, 0.15, 2.0);
        let after = exposure(0.10, 0.20, 2.0);
        assert!((after / before - 0.75).abs() < 1e-15);
        assert_eq!(exposure(0.10, 0.02, 2.0), 2.0);
    }

    /// A −3% day on a 15% estimate with a 20-day half-life:
    /// σ̂² = λ·0.0225 + (1 − λ)·252·0.0009, σ̂ ≈ 17.2%; exposure at a 10% target falls from
    /// 0.667 to 0.583.
    #[test]
    fn a_three_percent_day_hand_worked() {
        let lambda = decay(20.0);
        let var = ewma(0.15 * 0.15, -0.03, lambda);
        let want = lambda * 0.0225 + (1.0 - lambda) * 252.0 * 0.0009;
        assert!((var - want).abs() < 1e-15);
        let vol = var.sqrt();
        assert!((vol - 0.1718).abs() < 5e-4, "{vol}");
        assert!((exposure(0.10, vol, 3.0) - 0.10 / vol).abs() < 1e-15);
        // Larger moves raise the estimate by their square: the selling per 1% grows.
        let cut = |r: f64| {
            (exposure(0.10, 0.15, 3.0) - exposure(0.10, ewma(0.0225, r, lambda).sqrt(), 3.0))
                / r.abs()
        };
        assert!(cut(-0.02) > cut(-0.01) && cut(-0.04) > cut(-0.02));
    }
}
