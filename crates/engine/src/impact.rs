//! Price impact laws `g`: the factor a price is multiplied by when `Q` dollars (valued at
//! the pre-shock price) are sold.
//!
//! Selling (`Q > 0`) gives `g ∈ [0, 1]`, non-increasing in `Q`. Net buying (`Q < 0`) is the
//! mirror image about 1: `g(Q) = 2 − g(−Q)`, so a net purchase raises the price by exactly
//! as much as the same sale would lower it. This keeps GLT's linear law symmetric
//! (`Δp/p = −ℓ·Q` for either sign), keeps every price finite (a rise is at most ×2) and
//! keeps `g` non-increasing in `Q` over the whole line, so the price map stays monotone.

use delever_graph::{Asset, ImpactLaw};

/// An impact law with its per-asset constants worked out once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Law {
    /// `g = max(0, 1 − ℓ·Q)`.
    Linear {
        /// ℓ per dollar.
        per_usd: f64,
    },
    /// `g = exp(−α·x)`, `x = Q / (p0 · shares outstanding)`: the fraction of shares sold.
    Exponential {
        /// α divided by the market capitalisation, so that `α·x = k·Q`.
        per_usd: f64,
    },
    /// `g = max(0, 1 − Y·σ·√(Q/ADV))`.
    SquareRoot {
        /// `Y·σ/√ADV`, so that the move is `k·√Q`.
        k: f64,
    },
    /// `g = 1 − (1−f)·(1 − exp(−Q/((1−f)·D)))`, `D = c·ADV/σ·√τ`.
    ContSchaanning {
        /// `1 − f`, the largest possible fall.
        span: f64,
        /// `(1 − f)·D`, dollars.
        scale: f64,
    },
}

impl Law {
    /// Work out the constants of `asset`'s law.
    pub fn compile(asset: &Asset) -> Law {
        match asset.impact {
            ImpactLaw::Linear { per_usd } => Law::Linear { per_usd },
            ImpactLaw::Exponential { alpha } => Law::Exponential {
                per_usd: alpha / (asset.price * asset.shares_outstanding),
            },
            ImpactLaw::SquareRoot { y } => {
                let k = if y > 0.0 && asset.adv_usd > 0.0 {
                    y * asset.daily_vol / asset.adv_usd.sqrt()
                } else {
                    0.0
                };
                Law::SquareRoot { k }
            }
            ImpactLaw::ContSchaanning { c, tau_days, floor } => {
                let depth = if asset.daily_vol > 0.0 {
                    c * asset.adv_usd / asset.daily_vol * tau_days.sqrt()
                } else {
                    f64::INFINITY
                };
                Law::ContSchaanning {
                    span: 1.0 - floor,
                    scale: (1.0 - floor) * depth,
                }
            }
        }
    }

    /// The price factor for `q` dollars sold (negative: bought). Always finite, in `[0, 2]`.
    pub fn factor(self, q: f64) -> f64 {
        if q < 0.0 {
            return 2.0 - self.sell_factor(-q);
        }
        self.sell_factor(q)
    }

    fn sell_factor(self, q: f64) -> f64 {
        let g = match self {
            Law::Linear { per_usd } => 1.0 - per_usd * q,
            Law::Exponential { per_usd } => (-per_usd * q).exp(),
            Law::SquareRoot { k } => 1.0 - k * q.sqrt(),
            Law::ContSchaanning { span, scale } => {
                if scale.is_finite() && scale > 0.0 {
                    1.0 - span * (1.0 - (-q / scale).exp())
                } else {
                    1.0
                }
            }
        };
        if g.is_nan() { 0.0 } else { g.clamp(0.0, 1.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nvda(impact: ImpactLaw) -> Asset {
        Asset {
            id: "NVDA".into(),
            price: 180.0,
            shares_outstanding: 24.3e9,
            adv_usd: 40e9,
            daily_vol: 0.025,
            beta: 2.1,
            duration: 0.0,
            tags: vec![],
            impact,
            decay: delever_graph::ImpactDecay::default(),
        }
    }

    // A hand-worked example on NVDA-like figures: σ = 2.5%/day, ADV $40B, $10B sold in a day.
    // Square-root, Y = 1: 1 · 0.025 · √(10/40) = 0.0125 → 1.25% (≈ 1.3%).
    // Cont–Schaanning, c = 0.4, τ = 20, f = 0.5: D = 0.4 · 40e9 / 0.025 · √20 = 2.862e12;
    // Ψ = 0.5 · (1 − exp(−1e10 / (0.5 · 2.862e12))) = 0.003482 → 0.35%.
    // GLT ℓ = 1e-13: 1e10 · 1e-13 = 0.1%.
    #[test]
    fn nvda_derived_example() {
        let sq = Law::compile(&nvda(ImpactLaw::SquareRoot { y: 1.0 }));
        assert!((1.0 - sq.factor(10e9) - 0.0125).abs() < 1e-12);
        let cs = Law::compile(&nvda(ImpactLaw::ContSchaanning {
            c: 0.4,
            tau_days: 20.0,
            floor: 0.5,
        }));
        let fall = 1.0 - cs.factor(10e9);
        assert!((fall - 0.003_482).abs() < 2e-6, "{fall}");
        let lin = Law::compile(&nvda(ImpactLaw::Linear { per_usd: 1e-13 }));
        assert!((1.0 - lin.factor(10e9) - 0.001).abs() < 1e-15);
        // The law alone moves the answer by more than 10×.
        assert!((1.0 - sq.factor(10e9)) / (1.0 - lin.factor(10e9)) > 10.0);
    }

    #[test]
    fn cont_schaanning_never_below_floor_and_buying_mirrors() {
        let cs = Law::compile(&nvda(ImpactLaw::ContSchaanning {
            c: 0.4,
            tau_days: 20.0,
            floor: 0.5,
        }));
        assert!(cs.factor(1e20) >= 0.5);
        assert!((cs.factor(1e20) - 0.5).abs() < 1e-12);
        for law in [
            cs,
            Law::Linear { per_usd: 1e-3 },
            Law::SquareRoot { k: 1e-3 },
            Law::Exponential { per_usd: 1e-3 },
        ] {
            for q in [0.0, 1.0, 10.0, 1e3, 1e9] {
                let (down, up) = (law.factor(q), law.factor(-q));
                assert!((down + up - 2.0).abs() < 1e-12);
                assert!((0.0..=2.0).contains(&up) && up.is_finite());
            }
            // Non-increasing in q over the whole line.
            let qs = [-1e6, -10.0, -1.0, 0.0, 1.0, 10.0, 1e6];
            for w in qs.windows(2) {
                assert!(law.factor(w[0]) >= law.factor(w[1]));
            }
        }
    }

    // Caccioli et al.: α = −ln(0.9)/0.1 makes liquidating 10% of the shares cut the price 10%.
    #[test]
    fn caccioli_alpha() {
        let mut a = nvda(ImpactLaw::Exponential {
            alpha: -(0.9f64.ln()) / 0.1,
        });
        a.price = 2.0;
        a.shares_outstanding = 1000.0;
        let law = Law::compile(&a);
        let q = 100.0 * 2.0; // 10% of shares at the pre-shock price
        assert!((law.factor(q) - 0.9).abs() < 1e-12);
    }
}
