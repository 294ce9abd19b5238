//! The sane range of every number of the format, checked at load.
//!
//! The graph's builder checks what the model needs (finite numbers, positive prices,
//! fractions in [0, 1], …). These add the bounds that keep every number the engine
//! derives from a scenario finite: a finite but huge input (`price: 1e308`, `return:
//! 1e306`) would overflow to infinity inside the engine and come out as `null` in a
//! report. Each limit is far beyond anything real (docs/scenario-format.md, "Limits",
//! gives the reasons), so a file that passes them describes a market, and a file that
//! does not is refused with the field, the value and the limit.

use std::fmt::Write as _;

/// Largest amount of money, USD: a thousand trillion dollars, about twice the world's
/// financial assets. Sums of a few million such amounts stay far below `f64::MAX`.
pub(crate) const MAX_USD: f64 = 1e15;

/// Largest number of shares (of one asset, one position or one CSV row).
pub(crate) const MAX_SHARES: f64 = 1e18;

/// Most rounds a run may be given (`engine.max_rounds`): the engine keeps a trace per
/// round, and a cascade that has not converged in a million rounds will not.
pub const MAX_ROUNDS: u32 = 1_000_000;

/// Most accounts a `margin_cohort` may stand for.
pub(crate) const MAX_ACCOUNTS: u64 = 1_000_000_000;

/// Longest horizon, in trading days (ten years), for `monte_carlo.horizon_days` and
/// `impact.tau_days`.
pub(crate) const MAX_DAYS: f64 = 2520.0;

/// Largest standard deviation and largest absolute mean of a Monte Carlo draw's
/// log-return over its horizon. With both at most 10 a normal draw (|z| < 9 for the
/// sampler's 53-bit uniforms) moves a price by at most a factor e^100 ≈ 3e43: finite
/// everywhere in the engine.
pub(crate) const MAX_HORIZON_LOG_RETURN: f64 = 10.0;

/// A range a number must be in. Only the bounds this crate checks are given: the builder
/// checks the others (`price > 0`, `cash ≥ 0`) with its own messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limit {
    /// Lowest value accepted, when checked here.
    pub min: Option<f64>,
    /// Highest value accepted, when checked here.
    pub max: Option<f64>,
    /// Unit for the message, with its leading space (` USD`), or empty.
    pub unit: &'static str,
    /// Why the limit is there: the hint.
    pub why: &'static str,
}

const fn upto(max: f64, unit: &'static str, why: &'static str) -> Limit {
    Limit {
        min: None,
        max: Some(max),
        unit,
        why,
    }
}

const fn within(min: f64, max: f64, unit: &'static str, why: &'static str) -> Limit {
    Limit {
        min: Some(min),
        max: Some(max),
        unit,
        why,
    }
}

/// Money: cash, loans, NAVs, capital, holdings and sales in USD, ADV.
pub(crate) const USD: Limit = upto(
    MAX_USD,
    " USD",
    "amounts are limited to 1e15 USD (a thousand trillion dollars, about twice the world's financial assets) so that the engine's sums stay finite; is the unit right (dollars, not cents)?",
);

/// Share counts.
pub(crate) const SHARES: Limit = upto(
    MAX_SHARES,
    " shares",
    "share counts are limited to 1e18 (a million times the largest real share count) so that the engine's sums stay finite",
);

/// `shares_outstanding`: at least one share.
pub(crate) const SHARES_OUTSTANDING: Limit = within(
    1.0,
    MAX_SHARES,
    " shares",
    "an asset has between 1 and 1e18 shares outstanding; the exponential impact law divides by its market value",
);

/// `price`.
pub(crate) const PRICE: Limit = within(
    1e-6,
    1e9,
    " USD per share",
    "prices are limited to [1e-6, 1e9] USD per share (the dearest real share costs under 1e6, the cheapest quotes are 1e-4) so that shares × price stays finite; is the unit right?",
);

/// `daily_vol` of an asset or of a Monte Carlo entry.
pub(crate) const DAILY_VOL: Limit = upto(
    1.0,
    "",
    "a daily volatility is a fraction: 1 is 100% a day, far beyond any traded asset; 0.025 is typical of a large stock",
);

/// `beta`.
pub(crate) const BETA: Limit = within(
    -100.0,
    100.0,
    "",
    "market betas of real assets are between about -3 and 5; the limit keeps beta × return finite",
);

/// `duration`, years.
pub(crate) const DURATION: Limit = within(
    -1000.0,
    1000.0,
    " years",
    "cash-flow durations are years: a century bond's is under 30, equities' 20 to 50",
);

/// `return` of an asset, tag or market shock (≥ −1 is checked separately).
pub(crate) const RETURN: Limit = upto(
    10.0,
    "",
    "returns are fractions: 10 is a rise of 1000%; -0.10 is a 10% fall",
);

/// `delta` of a discount-rate shock.
pub(crate) const DELTA: Limit = within(
    -1.0,
    1.0,
    "",
    "a change in the discount rate as a fraction: 0.01 is +100 bp, 1 is +10,000 bp",
);

/// `multiple` of a leveraged ETF.
pub(crate) const MULTIPLE: Limit = within(
    -10.0,
    10.0,
    "",
    "listed leveraged ETFs have multiples between -5 and 5 (3 for SOXL, -3 for SOXS)",
);

/// Leverage (assets/equity): `rule.target` and `rule.max`.
pub(crate) const LEVERAGE: Limit = upto(
    1000.0,
    "",
    "leverage is assets/equity: 1000 means equity of 0.1% of assets; banks run at 10 to 35, hedge funds at 2 to 10",
);

/// `strike` of a dealer's option line: a price.
pub(crate) const STRIKE: Limit = within(
    1e-6,
    1e9,
    " USD per share",
    "a strike is a price per share of the underlying, in [1e-6, 1e9] USD like an asset's price; e.g. 210",
);

/// `usd_per_pct` of a dealer's gamma line: signed money.
pub(crate) const DOLLAR_GAMMA: Limit = within(
    -MAX_USD,
    MAX_USD,
    " USD",
    "dollar gamma per 1% move, signed as the dealer's gamma (negative: short gamma); its size is limited to 1e15 USD like every amount of money, so that the engine's sums stay finite",
);

/// `redemption_beta` of a fund.
pub(crate) const REDEMPTION_BETA: Limit = upto(
    100.0,
    "",
    "outflow per unit of relative NAV loss: 2.5 in INET Oxford's stress tests",
);

/// `tighten.trigger` of a lender: losses as a fraction of capital.
pub(crate) const TRIGGER: Limit = upto(
    1000.0,
    "",
    "losses as a fraction of the lender's capital: 0.25 tightens after losing a quarter of it",
);

/// `impact.per_usd` (linear law).
pub(crate) const PER_USD: Limit = upto(
    1.0,
    "",
    "price impact per dollar sold: at 1 a one-dollar sale wipes the price out; GLT use 1e-13",
);

/// `impact.alpha` (exponential law).
pub(crate) const ALPHA: Limit = upto(
    1000.0,
    "",
    "α of p = p₀·exp(−α·x), x the fraction of shares outstanding sold; 1.0536 cuts 10% for 10% sold",
);

/// `impact.y` (square-root law).
pub(crate) const Y: Limit = upto(
    100.0,
    "",
    "the square-root law's prefactor is of order 0.5 to 1 (Almgren et al.: 0.7)",
);

/// `impact.c` (Cont–Schaanning).
pub(crate) const C: Limit = upto(
    1000.0,
    "",
    "the Cont–Schaanning depth constant is of order 1 (0.4 by default)",
);

/// `impact.tau_days` (Cont–Schaanning).
pub(crate) const TAU_DAYS: Limit = upto(
    MAX_DAYS,
    " days",
    "a liquidation horizon in trading days: 20 by default, 2520 is ten years",
);

/// `engine.tolerance`.
pub(crate) const TOLERANCE: Limit = upto(
    1.0,
    "",
    "a relative price change: 1e-10 by default; above 1 every run would stop after one round",
);

/// `monte_carlo.horizon_days`.
pub(crate) const HORIZON_DAYS: Limit = upto(
    MAX_DAYS,
    " days",
    "the horizon of the drawn returns in trading days: 1 is a day, 5 a week, 2520 ten years",
);

/// `monte_carlo.assets[].daily_mean`.
pub(crate) const DAILY_MEAN: Limit = within(
    -1.0,
    1.0,
    "",
    "a mean daily log-return: 0.001 is about 25% a year; 1 would multiply the price by e every day",
);

/// `monte_carlo.distribution.dof`.
pub(crate) const DOF: Limit = upto(
    1e6,
    "",
    "degrees of freedom of the Student-t: 3 to 5 suits daily equity returns; above a few hundred it is a normal distribution",
);

/// A number as a message shows it: plain when it reads well, else in scientific notation
/// (`1e308`, not 309 digits).
pub(crate) fn show(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || (1e-4..1e6).contains(&a) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// What is wrong with `v` under `lim`, if anything: "must be at most 1e15 USD, got 1e308".
pub(crate) fn violation(v: f64, lim: &Limit) -> Option<String> {
    let low = lim.min.is_some_and(|m| v < m);
    let high = lim.max.is_some_and(|m| v > m);
    if !(low || high) {
        return None;
    }
    let mut msg = String::from("must be ");
    let _ = match (lim.min, lim.max) {
        (Some(lo), Some(hi)) => write!(msg, "in [{}, {}]{}", show(lo), show(hi), lim.unit),
        (None, Some(hi)) => write!(msg, "at most {}{}", show(hi), lim.unit),
        (Some(lo), None) => write!(msg, "at least {}{}", show(lo), lim.unit),
        (None, None) => Ok(()),
    };
    let _ = write!(msg, ", got {}", show(v));
    Some(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_show_compactly() {
        assert_eq!(show(1e308), "1e308");
        assert_eq!(show(-5000.0), "-5000");
        assert_eq!(show(0.025), "0.025");
        assert_eq!(show(1e15), "1e15");
        assert_eq!(show(2520.0), "2520");
        assert_eq!(show(2.5e9), "2.5e9");
        assert_eq!(show(1e-7), "1e-7");
        assert_eq!(show(0.0), "0");
    }

    #[test]
    fn violations_name_the_range() {
        assert_eq!(
            violation(1e308, &USD).as_deref(),
            Some("must be at most 1e15 USD, got 1e308")
        );
        assert_eq!(
            violation(1e-9, &PRICE).as_deref(),
            Some("must be in [1e-6, 1e9] USD per share, got 1e-9")
        );
        assert_eq!(violation(1e15, &USD), None);
        assert_eq!(
            violation(-20.0, &MULTIPLE).as_deref(),
            Some("must be in [-10, 10], got -20")
        );
    }
}
