//! Prices over the days of a timeline: each asset's fundamental level, the sales that
//! have hit it, and how much of their impact still stands.
//!
//! With `g` the asset's impact law (the price factor after `Q` dollars sold at pre-shock
//! prices), `θ` its permanent share and `(w_j, δ_j)` its transient parts (share, overnight
//! decay `δ_j = 2^(−1/h_j)` for a half-life of `h_j` days), the price on day `d` after
//! today's sales `q` is
//!
//! ```text
//! p = E_d · ( g(Q + q) + R_d )
//! R_d = (1 − θ)·(1 − g(Q)) − Σ_j T_j
//! ```
//!
//! where `E_d` is the fundamental price (the pre-shock price moved by every scheduled
//! return so far), `Q` the sales of earlier days and `T_j` the transient impact of part
//! `j` still standing this morning. `R_d` is the impact that has decayed: the rebound.
//! After the close, today's added impact `ΔD = g(Q) − g(Q + q)` joins each part
//! (`T_j += w_j·ΔD`) and every part decays overnight (`T_j ← δ_j·T_j`). With a single
//! part this is Obizhaeva & Wang's (2013) resilience of a price displacement, stepped
//! once a day; with several, a sum of exponentials standing in for a slower power-law
//! decay (Benzaquen & Bouchaud 2018). With no transient part (`θ = 1`, the default)
//! `R_d = 0` and the map is the one-instant model's `p = E·g(Q + q)` on cumulative sales.

use delever_graph::Network;

use crate::impact::Law;
use crate::shocks::{Carry, PRICE_FLOOR};

/// One asset's transient impact parts.
#[derive(Debug, Clone)]
struct Parts {
    /// Permanent share θ.
    permanent: f64,
    /// (share, overnight decay factor) per part.
    parts: Vec<(f64, f64)>,
}

/// The timeline's price state.
#[derive(Debug, Clone)]
pub(crate) struct Market {
    /// Pre-shock prices.
    p0: Vec<f64>,
    /// Fundamental price per asset, after today's returns.
    pub fundamental: Vec<f64>,
    /// Dollar sales at pre-shock prices before today, per asset.
    pub q_prev: Vec<f64>,
    /// Transient impact standing this morning, per asset and part (a fraction of the
    /// fundamental price).
    standing: Vec<Vec<f64>>,
    decay: Vec<Parts>,
    /// Whether every asset's impact is permanent (then `recovered` is always 0).
    permanent: bool,
}

impl Market {
    pub(crate) fn new(net: &Network) -> Self {
        let decay: Vec<Parts> = net
            .assets()
            .iter()
            .map(|a| Parts {
                permanent: a.decay.permanent,
                parts: a
                    .decay
                    .transient
                    .iter()
                    .map(|t| (t.share, 0.5f64.powf(1.0 / t.half_life_days)))
                    .collect(),
            })
            .collect();
        let p0: Vec<f64> = net.assets().iter().map(|a| a.price).collect();
        Market {
            fundamental: p0.clone(),
            q_prev: vec![0.0; p0.len()],
            standing: decay.iter().map(|d| vec![0.0; d.parts.len()]).collect(),
            permanent: decay.iter().all(|d| d.parts.is_empty()),
            decay,
            p0,
        }
    }

    /// Move the fundamental prices by the day's returns (each floored at −100%).
    pub(crate) fn open(&mut self, ret: &[f64]) {
        for ((e, r), p0) in self.fundamental.iter_mut().zip(ret).zip(&self.p0) {
            *e = (*e * (1.0 + r).max(PRICE_FLOOR)).max(p0 * PRICE_FLOOR);
        }
    }

    /// The decayed part of earlier days' impact, per asset (a fraction of the
    /// fundamental price).
    pub(crate) fn recovered(&self, laws: &[Law]) -> Vec<f64> {
        (0..self.p0.len())
            .map(|k| {
                let d = &self.decay[k];
                let standing: f64 = self.standing[k].iter().sum();
                (1.0 - d.permanent) * (1.0 - laws[k].factor(self.q_prev[k])) - standing
            })
            .collect()
    }

    /// What earlier days leave in today's price map (`None` on a day with no earlier
    /// sales: the one-instant model's map, bit for bit).
    pub(crate) fn carry(&self, laws: &[Law]) -> Option<Carry> {
        if self.q_prev.iter().all(|&q| q == 0.0)
            && self.standing.iter().flatten().all(|&t| t == 0.0)
        {
            return None;
        }
        let recovered = if self.permanent {
            vec![0.0; self.p0.len()]
        } else {
            self.recovered(laws)
        };
        Some(Carry {
            q_prev: self.q_prev.clone(),
            recovered,
        })
    }

    /// The impact standing at today's close, split into its permanent and transient
    /// parts, as (negative) fractions of the fundamental price, after today's sales
    /// `q` (dollars at pre-shock prices).
    pub(crate) fn impact_at_close(&self, laws: &[Law], k: usize, q: f64) -> (f64, f64) {
        let d = &self.decay[k];
        let total = 1.0 - laws[k].factor(self.q_prev[k] + q);
        let recovered = if self.permanent {
            0.0
        } else {
            (1.0 - d.permanent) * (1.0 - laws[k].factor(self.q_prev[k]))
                - self.standing[k].iter().sum::<f64>()
        };
        (
            -d.permanent * total,
            -((1.0 - d.permanent) * total - recovered),
        )
    }

    /// Close the day: today's sales `q` (dollars at pre-shock prices, per asset) join the
    /// cumulative sales, their added impact joins each transient part, and the parts decay
    /// overnight.
    pub(crate) fn close(&mut self, laws: &[Law], q: &[f64]) {
        for k in 0..self.p0.len() {
            let before = laws[k].factor(self.q_prev[k]);
            self.q_prev[k] += q[k];
            let added = before - laws[k].factor(self.q_prev[k]);
            for (t, &(w, delta)) in self.standing[k].iter_mut().zip(&self.decay[k].parts) {
                *t = delta * (*t + w * added);
            }
        }
    }
}
