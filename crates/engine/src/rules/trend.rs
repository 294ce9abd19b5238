//! Trend followers (CTAs): positions follow the sign of past returns over named lookbacks,
//! so a fall through a lookback's starting level turns a buyer into a seller.
//!
//! Time-series momentum (Moskowitz, Ooi & Pedersen 2012, *JFE* 104(2)): position ∝ the
//! sign of the past 12-month excess return; Hurst, Ooi & Pedersen (2017, "A century of
//! evidence on trend-following investing"): an equal-weight blend of 1-, 3- and 12-month
//! signals (about 21, 63 and 252 trading days). Here the signal is the weighted mean of the
//! lookbacks' signs, in [−1, 1], and the position is `signal × cap`.
//!
//! A scenario gives each lookback's return up to the start (`R_L`). On day `d` at price
//! `p` the window has rolled `d` days: its return is `(1 + R_L)^((L − d)/L)·p/p_0 − 1` —
//! the part of the old window still in it, assumed to have accrued evenly (the days that
//! left it are not known), times the move since the start.

use delever_graph::{AssetIx, TrendMarket};

use super::Decision;
use crate::compile::{Rule, Unit};

/// One lookback: its length in trading days, the return over it up to the start of the
/// run, and its weight in the signal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Lookback {
    pub days: f64,
    pub past_return: f64,
    pub weight: f64,
}

/// The window's return on day `day` when the price is `ratio` times its starting level.
pub(crate) fn window_return(l: &Lookback, day: u32, ratio: f64) -> f64 {
    let kept = ((l.days - f64::from(day)) / l.days).max(0.0);
    (1.0 + l.past_return).powf(kept) * ratio - 1.0
}

/// The signal on day `day` at price ratio `ratio`: the weighted mean of the lookbacks'
/// signs (0 for a window exactly flat), in [−1, 1]; non-decreasing in `ratio`.
#[cfg(test)]
pub(crate) fn signal(lookbacks: &[Lookback], day: u32, ratio: f64) -> f64 {
    let total: f64 = lookbacks.iter().map(|l| l.weight).sum();
    if total <= 0.0 {
        return 0.0;
    }
    lookbacks
        .iter()
        .map(|l| {
            let r = window_return(l, day, ratio);
            let s = if r > 0.0 {
                1.0
            } else if r < 0.0 {
                -1.0
            } else {
                0.0
            };
            l.weight * s
        })
        .sum::<f64>()
        / total
}

/// A trend follower, compiled: its rule, positions (one per market, in order) and what
/// the positions cost at the reference prices.
pub(crate) struct TrendC {
    pub rule: Rule<'static>,
    pub assets: Vec<u32>,
    pub position: Vec<f64>,
    pub financing: f64,
}

/// The price a lookback's window return is measured from on day `day`, before the window
/// has rolled past the run's start: `p₀/(1 + R)^((L − d)/L)` (see [`window_return`]).
pub(crate) fn anchor(days: u32, past_return: f64, day: u32, p0: f64) -> f64 {
    let l = Lookback {
        days: f64::from(days),
        past_return,
        weight: 1.0,
    };
    p0 / (1.0 + window_return(&l, day, 1.0))
}

/// The signal at price `p` from anchors: the weighted mean of `sign(p/anchor − 1)`.
pub(crate) fn signal_at(weights: &[f64], anchors: &[f64], p: f64) -> f64 {
    let total: f64 = weights.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    weights
        .iter()
        .zip(anchors)
        .map(|(w, &a)| {
            w * if p > a {
                1.0
            } else if p < a {
                -1.0
            } else {
                0.0
            }
        })
        .sum::<f64>()
        / total
}

/// Compile a trend follower (`lines[i]` is the asset of market `i`).
pub(crate) fn compile(
    lines: &[AssetIx],
    lookbacks: &[delever_graph::Lookback],
    markets: &[TrendMarket],
    p0: &[f64],
) -> TrendC {
    let weights: Vec<f64> = lookbacks.iter().map(|l| l.weight).collect();
    let mut assets = Vec::with_capacity(markets.len());
    let mut compiled = Vec::with_capacity(markets.len());
    let mut position = Vec::with_capacity(markets.len());
    let mut financing = 0.0;
    for (m, &a) in markets.iter().zip(lines) {
        let s0 = p0[a.get()];
        let anchors: Vec<f64> = lookbacks
            .iter()
            .zip(&m.past_returns)
            .map(|(l, &r)| anchor(l.days, r, 0, s0))
            .collect();
        let full = m.max_usd / s0;
        let x = full * signal_at(&weights, &anchors, s0);
        assets.push(a.0);
        position.push(x);
        financing += x * s0;
        compiled.push((full, anchors));
    }
    TrendC {
        rule: Rule::Trend(Box::new(crate::compile::TrendC {
            weights,
            days: lookbacks.iter().map(|l| l.days).collect(),
            markets: compiled,
            fixed: None,
        })),
        assets,
        position,
        financing,
    }
}

/// The anchors of every lookback on day `day` of a timeline: before a window has rolled
/// past the run's start, `p₀·(anchor₀/p₀)^((L − d)/L)` (the old window's return assumed to
/// have accrued evenly); after, the close `L` days earlier.
pub(crate) fn anchors_on(
    days: &[u32],
    anchors0: &[f64],
    day: u32,
    p0: f64,
    closes: &[&[f64]],
    asset: usize,
) -> Vec<f64> {
    days.iter()
        .zip(anchors0)
        .map(|(&l, &a0)| {
            if day < l {
                p0 * (a0 / p0).powf(f64::from(l - day) / f64::from(l))
            } else {
                closes
                    .get((day - l) as usize)
                    .and_then(|c| c.get(asset))
                    .copied()
                    .unwrap_or(a0)
            }
        })
        .collect()
}

/// Trade at `p` to `signal·full` shares per market (negative: short).
pub(crate) fn rebalance(
    u: &Unit<'_>,
    p: &[f64],
    weights: &[f64],
    markets: &[(f64, Vec<f64>)],
    fixed: Option<&[f64]>,
    out: &mut [f64],
) -> Decision {
    let mut sale = 0.0;
    for (k, ((&a, held), (full, anchors))) in
        u.assets.iter().zip(&u.shares).zip(markets).enumerate()
    {
        let spot = p[a as usize];
        let sig = fixed.map_or_else(|| signal_at(weights, anchors, spot), |f| f[k]);
        let x = held - full * sig;
        out[k] += x;
        sale += x * spot;
    }
    Decision::trade(sale)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lb(days: f64, past_return: f64) -> Lookback {
        Lookback {
            days,
            past_return,
            weight: 1.0,
        }
    }

    /// Up 10% over twelve months: long. A 12% fall takes the window to 1.10 × 0.88 − 1 =
    /// −3.2%: the position flips to short.
    #[test]
    fn a_break_below_the_lookback_flips_the_sign() {
        let year = [lb(252.0, 0.10)];
        assert_eq!(signal(&year, 0, 1.0), 1.0);
        assert_eq!(signal(&year, 0, 0.92), 1.0); // 1.10 × 0.92 = 1.012: still up
        assert!((window_return(&year[0], 0, 0.88) + 0.032).abs() < 1e-12);
        assert_eq!(signal(&year, 0, 0.88), -1.0);
        // The break is at 1/1.10 of the starting price.
        assert_eq!(signal(&year, 0, 1.0 / 1.1 + 1e-12), 1.0);
        assert_eq!(signal(&year, 0, 1.0 / 1.1 - 1e-12), -1.0);
    }

    /// Hurst et al.'s blend of 1, 3 and 12 months, up 2%, 5% and 20%. A 6% fall turns the
    /// two short windows (−4.1%, −1.3%) and keeps the long one (+12.8%): signal −1/3.
    #[test]
    fn a_blend_of_lookbacks() {
        let blend = [lb(21.0, 0.02), lb(63.0, 0.05), lb(252.0, 0.20)];
        assert_eq!(signal(&blend, 0, 1.0), 1.0);
        assert!((signal(&blend, 0, 0.94) + 1.0 / 3.0).abs() < 1e-15);
        // Monotone: a lower price never gives a higher signal.
        let mut last = 2.0;
        for i in 0..200 {
            let s = signal(&blend, 0, 1.2 - 0.005 * f64::from(i));
            assert!(s <= last);
            last = s;
        }
    }

    /// Days roll the window: after 21 days the one-month window has forgotten its past.
    #[test]
    fn the_window_rolls_with_the_days() {
        let month = lb(21.0, 0.05);
        assert!((window_return(&month, 0, 1.0) - 0.05).abs() < 1e-15);
        assert!(window_return(&month, 10, 1.0) < 0.05);
        assert_eq!(window_return(&month, 21, 1.0), 0.0);
        assert!((window_return(&month, 30, 0.97) + 0.03).abs() < 1e-15);
    }
}
