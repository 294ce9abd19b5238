//! Monte Carlo: asset shocks drawn from the scenario's `monte_carlo:` distribution, the
//! cascade run per draw, and the loss distribution.
//!
//! A draw is a vector of horizon log-returns `r = μ + σ ⊙ (L·z)·s`, with `z` independent
//! standard normals, `L` the Cholesky factor of the correlation matrix, and `s = 1` for
//! the multivariate normal or `s = √((ν − 2)/W)`, `W ~ χ²_ν`, for the multivariate
//! Student-t with ν degrees of freedom (one `W` per draw: tails are joint, as in a crash;
//! the factor `ν − 2` makes the variance σ², so `vol` means the same under both laws).
//! Asset `i` moves by the arithmetic return `exp(rᵢ) − 1`, always above −100%.
//!
//! Draw `i`'s random numbers come from its own SplitMix64 stream seeded by a hash of
//! `(seed, i)`: the same draw comes out whatever the thread count, the shard, or the
//! other draws. Normals are Box–Muller, χ² is Marsaglia & Tsang's (2000) gamma method;
//! both are written here rather than taken from a crate so that a dependency update can
//! never change a pinned study's numbers.

use std::f64::consts::TAU;
use std::ops::Range;

use delever_engine::synth::Rng;
use delever_engine::{EngineConfig, Shock};
use delever_graph::{AssetIx, KindTag, Network};
use delever_report::batch::{McDraw, McSummary};
use delever_scenario::{MonteCarlo, Scenario, ShockDistribution};
use rayon::prelude::*;

use crate::BatchError;
use crate::figures::{figures, kinds};
use crate::stats::summarize;

/// Draws random log-return vectors.
#[derive(Debug, Clone)]
pub struct Sampler {
    mean: Vec<f64>,
    vol: Vec<f64>,
    /// Lower-triangular Cholesky factor, row-major `n × n`.
    chol: Vec<f64>,
    dof: Option<f64>,
}

/// The random stream of draw `index` under `seed`.
fn stream(seed: u64, index: u64) -> Rng {
    // Two SplitMix64 finalisations: nearby seeds and nearby indices give unrelated streams.
    let a = Rng::new(seed).next_u64();
    Rng::new(Rng::new(a ^ index).next_u64())
}

/// A standard normal pair (Box–Muller).
fn normal_pair(rng: &mut Rng) -> (f64, f64) {
    let u1 = 1.0 - rng.uniform(); // (0, 1]: ln is finite
    let u2 = rng.uniform();
    let r = (-2.0 * u1.ln()).sqrt();
    (r * (TAU * u2).cos(), r * (TAU * u2).sin())
}

/// Gamma(shape, 1) for `shape ≥ 1` (Marsaglia & Tsang 2000).
fn gamma(rng: &mut Rng, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let (x, _) = normal_pair(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - rng.uniform();
        if u < 1.0 - 0.0331 * x.powi(4) || u.ln() < 0.5 * x * x + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

impl Sampler {
    /// A sampler for the scenario's distribution.
    pub fn new(mc: &MonteCarlo) -> Sampler {
        let n = mc.assets.len();
        let mut chol = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..=i {
                chol[i * n + j] = mc.cholesky[[i, j]];
            }
        }
        Sampler {
            mean: mc.mean.clone(),
            vol: mc.vol.clone(),
            chol,
            dof: match mc.distribution {
                ShockDistribution::Normal => None,
                ShockDistribution::StudentT { dof } => Some(dof),
            },
        }
    }

    /// Draw `index`'s log-returns under `seed` into `out` (one per asset).
    pub fn draw(&self, seed: u64, index: u64, out: &mut Vec<f64>) {
        let n = self.mean.len();
        let mut rng = stream(seed, index);
        let mut z = Vec::with_capacity(n + 1);
        while z.len() < n {
            let (a, b) = normal_pair(&mut rng);
            z.push(a);
            z.push(b);
        }
        let scale = match self.dof {
            None => 1.0,
            Some(nu) => ((nu - 2.0) / (2.0 * gamma(&mut rng, nu / 2.0))).sqrt(),
        };
        out.clear();
        for i in 0..n {
            let row = &self.chol[i * n..=i * n + i];
            let x: f64 = row.iter().zip(&z).map(|(l, z)| l * z).sum();
            out.push(self.mean[i] + self.vol[i] * x * scale);
        }
    }
}

/// A Monte Carlo study of one scenario: what every draw shares.
#[derive(Debug)]
pub struct Study<'a> {
    net: &'a Network,
    engine: EngineConfig,
    assets: Vec<AssetIx>,
    /// Market-cap weights of the drawn assets, for the draw's market return.
    weights: Vec<f64>,
    /// The scenario's shocks that every draw keeps.
    kept: Vec<Shock>,
    kinds: Vec<KindTag>,
    sampler: Sampler,
    describe: String,
}

impl<'a> Study<'a> {
    /// The study the scenario's `monte_carlo:` block describes; an error when it has none.
    pub fn new(scenario: &'a Scenario, max_rounds: Option<u32>) -> Result<Study<'a>, BatchError> {
        let Some(mc) = scenario.monte_carlo.as_ref() else {
            return Err(BatchError::Usage {
                message: format!(
                    "scenario `{}` has no `monte_carlo:` block: there is no distribution to draw shocks from",
                    scenario.name
                ),
                hint: "add a monte_carlo: block (distribution, horizon_days, assets, correlation); see docs/scenario-format.md".into(),
            });
        };
        let net = &scenario.network;
        let caps: Vec<f64> = mc
            .assets
            .iter()
            .map(|a| {
                let x = &net.assets()[a.0 as usize];
                x.price * x.shares_outstanding
            })
            .collect();
        let total: f64 = caps.iter().sum();
        let weights = if total > 0.0 && total.is_finite() {
            caps.iter().map(|c| c / total).collect()
        } else {
            vec![1.0 / mc.assets.len().max(1) as f64; mc.assets.len()]
        };
        let kept = scenario
            .shocks
            .iter()
            .filter(|s| mc.scenario_shocks || !is_price_shock(s))
            .cloned()
            .collect();
        let mut engine = scenario.engine.clone();
        if let Some(m) = max_rounds {
            engine.max_rounds = m;
        }
        Ok(Study {
            net,
            engine,
            assets: mc.assets.clone(),
            weights,
            kept,
            kinds: kinds(net),
            sampler: Sampler::new(mc),
            describe: mc.describe(),
        })
    }

    /// The distribution in words.
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Names of the holder kinds, the order of `loss_by_kind`.
    pub fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_owned()).collect()
    }

    /// Ids of the drawn assets, the order of a draw's `asset_returns`.
    pub fn asset_names(&self) -> Vec<String> {
        self.assets
            .iter()
            .map(|a| self.net.asset(*a).id.clone())
            .collect()
    }

    /// Ids of the scenario's lenders, the order of a draw's `loss_by_lender`.
    pub fn lender_names(&self) -> Vec<String> {
        self.net.lenders().iter().map(|l| l.id.clone()).collect()
    }

    /// Run draws `range` under `seed` in parallel; `tick` is called after each. Rows come
    /// back in index order.
    pub fn run(
        &self,
        seed: u64,
        range: Range<u64>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<McDraw>, BatchError> {
        let rows: Vec<Result<McDraw, BatchError>> = range
            .into_par_iter()
            .map_init(Vec::new, |buf, i| {
                let r = self.draw(seed, i, buf);
                tick();
                r
            })
            .collect();
        rows.into_iter().collect()
    }

    /// Draw `index`: its shocks and its cascade.
    pub fn draw(&self, seed: u64, index: u64, buf: &mut Vec<f64>) -> Result<McDraw, BatchError> {
        self.sampler.draw(seed, index, buf);
        let (shocks, market) = self.shocks(index, buf)?;
        let out = delever_engine::run(self.net, &shocks, &self.engine).map_err(|source| {
            BatchError::Engine {
                what: "draw",
                index,
                source,
            }
        })?;
        Ok(McDraw {
            index,
            market_return: market,
            figures: figures(&out, &self.kinds),
            // `+ 0.0`: no output shows `-0`.
            asset_returns: buf.iter().map(|r| r.exp_m1() + 0.0).collect(),
            loss_by_lender: out
                .lenders
                .iter()
                .map(|l| l.borrower_losses_usd + l.interbank_losses_usd + 0.0)
                .collect(),
        })
    }
}

impl Study<'_> {
    /// Draw `index`'s shocks from its log-returns `lr` (one per drawn asset), and its
    /// market return.
    fn shocks(&self, index: u64, lr: &[f64]) -> Result<(Vec<Shock>, f64), BatchError> {
        let mut shocks = self.kept.clone();
        let mut market = 0.0;
        for ((&asset, &r), w) in self.assets.iter().zip(lr).zip(&self.weights) {
            let ret = r.exp_m1();
            if !ret.is_finite() {
                // Only a Student-t draw's unbounded tail gets here: the load-time limits
                // keep every normal draw finite. Refused by name, never passed on.
                return Err(BatchError::Usage {
                    message: format!(
                        "draw {index}: asset `{}` drew a log-return of {r:.4e}, beyond what a price can take",
                        self.net.asset(asset).id
                    ),
                    hint: "the distribution's tail is too wide to compute: raise `monte_carlo.distribution.dof` or lower the assets' `daily_vol` or `horizon_days`".into(),
                });
            }
            market += w * ret;
            shocks.push(Shock::AssetReturn { asset, ret });
        }
        Ok((shocks, market))
    }
}

fn is_price_shock(s: &Shock) -> bool {
    matches!(
        s,
        Shock::AssetReturn { .. }
            | Shock::TagReturn { .. }
            | Shock::Market { .. }
            | Shock::DiscountRate { .. }
    )
}

/// What a summary needs besides the draws.
#[derive(Debug, Clone)]
pub struct SummaryMeta<'a> {
    /// Scenario name.
    pub scenario: &'a str,
    /// The seed.
    pub seed: u64,
    /// The distribution in words.
    pub distribution: &'a str,
    /// Holder kinds, the order of `loss_by_kind`.
    pub kinds: &'a [String],
    /// Lender ids, the order of a draw's `loss_by_lender`.
    pub lenders: &'a [String],
}

/// The loss distribution of `draws` (all of a study's draws, in index order).
///
/// Amplification is summarised over the draws with an initial loss (`> 0`): a draw in
/// which prices rose has no loss to amplify. A ratio is unstable where the initial loss is
/// small (its upper tail is made of such draws), so the summary also gives
/// `cascade_loss_usd`, the loss the cascade added in dollars (`total − initial`), whose
/// VaR and ES are what a risk team adds to the shock's own.
pub fn summary(meta: &SummaryMeta<'_>, draws: &[McDraw]) -> McSummary {
    let n = draws.len().max(1) as f64;
    let share = |f: &dyn Fn(&McDraw) -> bool| draws.iter().filter(|d| f(d)).count() as f64 / n;
    let col = |f: &dyn Fn(&McDraw) -> f64| draws.iter().map(f).collect::<Vec<f64>>();
    let mut metrics = Vec::new();
    let mut push = |name: String, values: Vec<f64>| {
        if let Some(d) = summarize(&name, &values) {
            metrics.push(d);
        }
    };
    push("total_loss_usd".into(), col(&|d| d.figures.total_loss_usd));
    push(
        "initial_loss_usd".into(),
        col(&|d| d.figures.initial_loss_usd),
    );
    push(
        "cascade_loss_usd".into(),
        col(&|d| d.figures.total_loss_usd - d.figures.initial_loss_usd),
    );
    push(
        "forced_sales_usd".into(),
        col(&|d| d.figures.forced_sales_usd),
    );
    push(
        "amplification".into(),
        draws
            .iter()
            .filter(|d| d.figures.initial_loss_usd > 0.0)
            .map(|d| d.figures.amplification)
            .collect(),
    );
    push(
        "lender_losses_usd".into(),
        col(&|d| d.figures.lender_losses_usd),
    );
    push(
        "borrower_shortfalls_usd".into(),
        col(&|d| d.figures.borrower_shortfalls_usd),
    );
    push(
        "interbank_losses_usd".into(),
        col(&|d| d.figures.interbank_losses_usd),
    );
    for (k, name) in meta.kinds.iter().enumerate() {
        push(
            format!("loss_by_kind.{name}"),
            col(&|d| d.figures.loss_by_kind.get(k).copied().unwrap_or(0.0)),
        );
    }
    // Each named lender's losses: VaR and ES per lender, as a risk team sizes each
    // counterparty's capital.
    for (l, name) in meta.lenders.iter().enumerate() {
        push(
            format!("loss_by_lender.{name}"),
            col(&|d| d.loss_by_lender.get(l).copied().unwrap_or(0.0)),
        );
    }
    McSummary {
        scenario: meta.scenario.to_owned(),
        draws: draws.len() as u64,
        seed: meta.seed,
        distribution: meta.distribution.to_owned(),
        kinds: meta.kinds.to_vec(),
        p_lender_default: share(&|d| d.figures.lender_defaults > 0),
        p_holder_default: share(&|d| d.figures.defaults > 0),
        p_margin_call: share(&|d| d.figures.margin_calls > 0),
        not_converged: draws
            .iter()
            .filter(|d| d.figures.termination != "converged")
            .count() as u64,
        multiple_equilibria: draws
            .iter()
            .filter(|d| d.figures.multiple_equilibria)
            .count() as u64,
        metrics,
    }
}

#[cfg(test)]
// A test that unwraps fails with the line that broke, which is all a message would say.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A log-return beyond what `exp` can take (a Student-t tail) is an error naming the
    /// draw and the asset — never a non-finite shock passed to the engine.
    #[test]
    fn an_overflowing_draw_is_refused_by_name() {
        let text = "
name: tiny
description: One asset.
as_of: 2026-05-29
sources: [{ id: s, title: t }]
assets:
  - { id: NVDA, price: 200, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
holders:
  - { id: f, kind: fund, redemption_beta: 1, holdings: [{ asset: NVDA, shares: 1000 }] }
monte_carlo:
  distribution: { type: student_t, dof: 3 }
  assets: [{ asset: NVDA }]
";
        let s = delever_scenario::Scenario::from_yaml(text, "tiny.yaml", None).unwrap();
        let study = Study::new(&s, None).unwrap();
        let err = study.shocks(41, &[800.0]).unwrap_err().to_string();
        assert!(
            err.contains("draw 41") && err.contains("`NVDA`") && err.contains("8.0000e2"),
            "{err}"
        );
        let (ok, market) = study.shocks(0, &[0.1]).unwrap();
        assert_eq!(ok.len(), 1);
        assert!((market - 0.1f64.exp_m1()).abs() < 1e-15);
    }

    fn sampler(rho: f64, dof: Option<f64>) -> Sampler {
        Sampler {
            mean: vec![0.01, -0.02],
            vol: vec![0.1, 0.2],
            chol: vec![1.0, 0.0, rho, (1.0 - rho * rho).sqrt()],
            dof,
        }
    }

    fn moments(s: &Sampler, n: u64) -> ([f64; 2], [f64; 2], f64, f64) {
        let mut buf = Vec::new();
        let mut sum = [0.0; 2];
        let mut sq = [0.0; 2];
        let mut cross = 0.0;
        let mut kurt = 0.0;
        let xs: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                s.draw(7, i, &mut buf);
                [buf[0], buf[1]]
            })
            .collect();
        for x in &xs {
            for k in 0..2 {
                sum[k] += x[k];
            }
        }
        let mean = [sum[0] / n as f64, sum[1] / n as f64];
        for x in &xs {
            for k in 0..2 {
                sq[k] += (x[k] - mean[k]).powi(2);
            }
            cross += (x[0] - mean[0]) * (x[1] - mean[1]);
            kurt += ((x[0] - mean[0]) / 0.1).powi(4);
        }
        let var = [sq[0] / n as f64, sq[1] / n as f64];
        let corr = cross / n as f64 / (var[0] * var[1]).sqrt();
        (mean, [var[0].sqrt(), var[1].sqrt()], corr, kurt / n as f64)
    }

    #[test]
    fn normal_draws_have_the_asked_moments() {
        let (m, v, c, k) = moments(&sampler(0.7, None), 200_000);
        // standard errors: mean 0.1/√n ≈ 2.2e-4, vol ≈ 1.6e-4·…, corr ≈ 1.1e-3
        assert!(
            (m[0] - 0.01).abs() < 1e-3 && (m[1] + 0.02).abs() < 2e-3,
            "{m:?}"
        );
        assert!(
            (v[0] - 0.1).abs() < 1e-3 && (v[1] - 0.2).abs() < 2e-3,
            "{v:?}"
        );
        assert!((c - 0.7).abs() < 6e-3, "{c}");
        assert!((k - 3.0).abs() < 0.1, "kurtosis {k}");
    }

    #[test]
    fn student_t_has_the_same_vol_and_fat_tails() {
        // ν = 6: kurtosis 3 + 6/(ν − 4) = 6 (slow to estimate: a loose bound)
        let (m, v, c, k) = moments(&sampler(0.5, Some(6.0)), 200_000);
        assert!((m[0] - 0.01).abs() < 1.5e-3, "{m:?}");
        assert!(
            (v[0] - 0.1).abs() < 3e-3 && (v[1] - 0.2).abs() < 6e-3,
            "{v:?}"
        );
        assert!((c - 0.5).abs() < 0.02, "{c}");
        assert!(k > 4.5, "kurtosis {k}");
    }

    #[test]
    fn gamma_mean_and_variance() {
        let mut rng = Rng::new(3);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| gamma(&mut rng, 2.5)).collect();
        let mean = xs.iter().sum::<f64>() / f64::from(n);
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / f64::from(n);
        // Gamma(2.5, 1): mean 2.5, variance 2.5
        assert!((mean - 2.5).abs() < 0.03, "{mean}");
        assert!((var - 2.5).abs() < 0.08, "{var}");
    }

    #[test]
    fn a_draw_depends_only_on_seed_and_index() {
        let s = sampler(0.3, Some(4.0));
        let (mut a, mut b) = (Vec::new(), Vec::new());
        s.draw(1, 42, &mut a);
        for i in 0..100 {
            s.draw(9, i, &mut b);
        }
        s.draw(1, 42, &mut b);
        assert_eq!(a, b);
        s.draw(2, 42, &mut b);
        assert_ne!(a, b);
        s.draw(1, 43, &mut b);
        assert_ne!(a, b);
    }

    #[test]
    fn perfect_correlation_moves_together() {
        let s = sampler(1.0, None);
        let mut x = Vec::new();
        for i in 0..100 {
            s.draw(5, i, &mut x);
            // z-scores equal: (x0 − μ0)/σ0 = (x1 − μ1)/σ1
            assert!(((x[0] - 0.01) / 0.1 - (x[1] + 0.02) / 0.2).abs() < 1e-12);
        }
    }
}
