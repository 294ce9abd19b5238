//! Checks of the convexity kinds: options dealers, volatility-targeting funds and trend
//! followers. Each returns what the builder keeps (the asset of every line, in order).

use crate::checks::MAX_DAYS;
use crate::error::{Problem, Subject, hinted, problem};
use crate::model::{
    AssetIx, GammaLine, IdMap, Lookback, NodeRef, OptionLine, TrendMarket, VolTargetRule,
};

/// Longest lookback a trend follower may use, in trading days: ten years, the longest
/// horizon delever takes anywhere (Monte Carlo horizons, timeline runs).
pub const MAX_LOOKBACK_DAYS: u32 = 2_520;

/// Highest implied or realised volatility accepted, annual: 500%, far past any listed
/// option's (meme stocks' options have traded near 300%).
pub const MAX_VOL: f64 = 5.0;

/// Highest exposure cap a vol-target fund may have: risk-parity funds run 2–4×.
pub const MAX_LEVERAGE: f64 = 10.0;

fn resolve(
    id: &str,
    field: &str,
    ids: &IdMap<String, NodeRef>,
    s: &Subject,
    out: &mut Vec<Problem>,
) -> AssetIx {
    match ids.get(id) {
        Some(NodeRef::Asset(a)) => *a,
        Some(_) => {
            out.push(problem(s.clone(), field, format!("`{id}` is not an asset")));
            AssetIx(0)
        }
        None => {
            out.push(problem(s.clone(), field, format!("unknown asset `{id}`")));
            AssetIx(0)
        }
    }
}

fn in_range(
    v: f64,
    lo_open: f64,
    hi: f64,
    field: &str,
    hint: &str,
    s: &Subject,
    out: &mut Vec<Problem>,
) {
    if !(v.is_finite() && v > lo_open && v <= hi) {
        out.push(hinted(
            s.clone(),
            field,
            format!("must be in ({lo_open}, {hi}], got {v}"),
            hint,
        ));
    }
}

/// An options dealer: at least one line; strikes, expiries and vols in range; every
/// line on an asset. Returns the asset of each line (options, then gamma lines).
pub(crate) fn check_dealer(
    options: &[OptionLine],
    gamma: &[GammaLine],
    ids: &IdMap<String, NodeRef>,
    s: &Subject,
    out: &mut Vec<Problem>,
) -> Vec<AssetIx> {
    if options.is_empty() && gamma.is_empty() {
        out.push(hinted(
            s.clone(),
            "",
            "an options dealer needs `options` or `gamma` lines".into(),
            "e.g. options: [ { asset: NVDA, type: call, strike: 210, expiry_days: 10, implied_vol: 0.5, shares: 1.0e8, side: short } ]",
        ));
    }
    let mut lines = Vec::with_capacity(options.len() + gamma.len());
    for (i, o) in options.iter().enumerate() {
        let at = |k: &str| format!("options[{i}].{k}");
        lines.push(resolve(&o.asset, &at("asset"), ids, s, out));
        in_range(
            o.strike,
            0.0,
            f64::MAX,
            &at("strike"),
            "the strike in USD, e.g. 210",
            s,
            out,
        );
        in_range(
            o.expiry_days,
            0.0,
            MAX_DAYS,
            &at("expiry_days"),
            "trading days to expiry at the reference close: 1 for tomorrow's, 21 for a month",
            s,
            out,
        );
        in_range(
            o.implied_vol,
            0.0,
            MAX_VOL,
            &at("implied_vol"),
            "annual implied volatility as a fraction: 0.45 is 45%",
            s,
            out,
        );
        if !o.shares.is_finite() {
            out.push(problem(
                s.clone(),
                &at("shares"),
                format!("must be a finite number, got {}", o.shares),
            ));
        }
    }
    for (i, g) in gamma.iter().enumerate() {
        lines.push(resolve(&g.asset, &format!("gamma[{i}].asset"), ids, s, out));
        if !g.usd_per_pct.is_finite() {
            out.push(problem(
                s.clone(),
                &format!("gamma[{i}].usd_per_pct"),
                format!("must be a finite number, got {}", g.usd_per_pct),
            ));
        }
    }
    lines
}

/// A vol-target fund's terms.
pub(crate) fn check_vol_target(r: &VolTargetRule, s: &Subject, out: &mut Vec<Problem>) {
    in_range(
        r.target_vol,
        0.0,
        MAX_VOL,
        "target_vol",
        "annual volatility the fund targets, as a fraction: 0.10 is 10% (vol-control indices use 5–15%)",
        s,
        out,
    );
    in_range(
        r.realised_vol,
        0.0,
        MAX_VOL,
        "realised_vol",
        "the fund's estimate of realised volatility at the reference close, annual: 0.15 is 15%",
        s,
        out,
    );
    in_range(
        r.half_life_days,
        0.0,
        MAX_DAYS,
        "half_life_days",
        "half-life of the EWMA of squared returns in trading days: 20 (Harvey et al. 2018), 90 for a slow estimator",
        s,
        out,
    );
    in_range(
        r.max_leverage,
        0.0,
        MAX_LEVERAGE,
        "max_leverage",
        "the cap on exposure / NAV: 1 for an unlevered fund, 2–4 for risk parity",
        s,
        out,
    );
    if !(r.band.is_finite() && (0.0..1.0).contains(&r.band)) {
        out.push(hinted(
            s.clone(),
            "band",
            format!("must be in [0, 1), got {}", r.band),
            "the fraction by which target exposure may drift before the fund trades: 0 trades every move, 0.05 waits for 5%",
        ));
    }
    check_lag(r.lag_days, s, out);
}

fn check_lag(lag: u32, s: &Subject, out: &mut Vec<Problem>) {
    if lag > MAX_LOOKBACK_DAYS {
        out.push(problem(
            s.clone(),
            "lag_days",
            format!("must be at most {MAX_LOOKBACK_DAYS} trading days, got {lag}"),
        ));
    }
}

/// A trend follower: lookbacks in range, one past return per lookback per market.
/// Returns the asset of each market.
pub(crate) fn check_trend(
    lookbacks: &[Lookback],
    markets: &[TrendMarket],
    lag_days: u32,
    ids: &IdMap<String, NodeRef>,
    s: &Subject,
    out: &mut Vec<Problem>,
) -> Vec<AssetIx> {
    if lookbacks.is_empty() {
        out.push(hinted(
            s.clone(),
            "lookbacks",
            "a trend follower needs at least one lookback".into(),
            "e.g. lookbacks: [ { days: 21 }, { days: 63 }, { days: 252 } ] (one, three and twelve months)",
        ));
    }
    for (j, l) in lookbacks.iter().enumerate() {
        if l.days == 0 || l.days > MAX_LOOKBACK_DAYS {
            out.push(hinted(
                s.clone(),
                &format!("lookbacks[{j}].days"),
                format!(
                    "must be in [1, {MAX_LOOKBACK_DAYS}] trading days, got {}",
                    l.days
                ),
                "a lookback longer than ten years is past any horizon delever takes; 21, 63 and 252 are one, three and twelve months",
            ));
        }
        if !(l.weight.is_finite() && l.weight > 0.0) {
            out.push(problem(
                s.clone(),
                &format!("lookbacks[{j}].weight"),
                format!("must be a finite number > 0, got {}", l.weight),
            ));
        }
    }
    if markets.is_empty() {
        out.push(hinted(
            s.clone(),
            "markets",
            "a trend follower needs at least one market".into(),
            "e.g. markets: [ { asset: NVDA, max_usd: 2.0e9, past_returns: [0.05, 0.12, 0.60] } ]",
        ));
    }
    let mut assets = Vec::with_capacity(markets.len());
    for (i, m) in markets.iter().enumerate() {
        let at = |k: &str| format!("markets[{i}].{k}");
        assets.push(resolve(&m.asset, &at("asset"), ids, s, out));
        if !(m.max_usd.is_finite() && m.max_usd > 0.0) {
            out.push(problem(
                s.clone(),
                &at("max_usd"),
                format!("must be a finite number > 0, got {}", m.max_usd),
            ));
        }
        if m.past_returns.len() != lookbacks.len() {
            out.push(hinted(
                s.clone(),
                &at("past_returns"),
                format!(
                    "has {} returns for {} lookbacks",
                    m.past_returns.len(),
                    lookbacks.len()
                ),
                "give the asset's return over each lookback, in the order of `lookbacks`",
            ));
        }
        for (j, r) in m.past_returns.iter().enumerate() {
            if !(r.is_finite() && *r > -1.0) {
                out.push(problem(
                    s.clone(),
                    &format!("markets[{i}].past_returns[{j}]"),
                    format!("must be a finite return > −1, got {r}"),
                ));
            }
        }
    }
    let mut sorted = assets.clone();
    sorted.sort_unstable();
    if sorted.windows(2).any(|w| w[0] == w[1]) && out.iter().all(|p| &p.subject != s) {
        out.push(problem(
            s.clone(),
            "markets",
            "an asset appears twice in the markets".into(),
        ));
    }
    check_lag(lag_days, s, out);
    assets
}

/// A trend follower's starting position in each market, USD at the reference prices
/// (signed: negative is short): `max_usd` times the weighted mean of the signs of its past
/// returns (the engine's rule at the reference close).
pub(crate) fn trend_start_usd(lookbacks: &[Lookback], markets: &[TrendMarket]) -> Vec<f64> {
    let total: f64 = lookbacks.iter().map(|l| l.weight).sum();
    markets
        .iter()
        .map(|m| {
            if total <= 0.0 {
                return 0.0;
            }
            let signal: f64 = lookbacks
                .iter()
                .zip(&m.past_returns)
                .map(|(l, r)| {
                    l.weight
                        * if *r > 0.0 {
                            1.0
                        } else if *r < 0.0 {
                            -1.0
                        } else {
                            0.0
                        }
                })
                .sum();
            m.max_usd * signal / total
        })
        .collect()
}
