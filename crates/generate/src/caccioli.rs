//! Caccioli, Shrestha, Moore & Farmer (2014), "Stability analysis of financial contagion
//! due to overlapping portfolios" (Journal of Banking & Finance 46).
//!
//! `N` banks and `M` assets on a random bipartite graph: each bank–asset link is present
//! independently with probability `μ_b / M`, so a bank holds `μ_b` assets on average. Every
//! bank has the same total assets `A`, split equally among its holdings, and the same
//! leverage `λ = A / E` (liabilities `A − A/λ`). The banks are the whole market: an asset's
//! supply is the banks' combined holdings of it. A bank is passive until its equity is gone,
//! then liquidates everything (`fail_liquidate`); prices follow `p = exp(−α·x)`, `x` the
//! fraction of the asset's supply liquidated. One bank, chosen at random, starts insolvent.
//!
//! **Contagion** is a run in which more than 5% of the banks default
//! ([`CONTAGION_SHARE`]). [`contagion_probability`] estimates its probability over seeded
//! trials, in parallel; the paper's headline is that it is positive only in a window of
//! diversification `μ_b` that widens as leverage rises, and zero below a critical leverage.

use delever_engine::synth::Rng;
use delever_engine::{EngineConfig, Shock};
use delever_graph::{
    Asset, BalanceSheetRule, Holder, HolderKind, ImpactLaw, Network, NetworkBuilder,
};
use rayon::prelude::*;

use crate::error::check;
use crate::{GenerateError, Generated, SourceRef, yaml};

/// The paper's α: liquidating 10% of an asset's supply cuts its price by 10%,
/// `α = −ln(0.9)/0.1 ≈ 1.0536` (rounded as the shipped scenario writes it).
pub const ALPHA: f64 = 1.0536;

/// Contagion: more than this share of the banks default (the paper's 5%).
pub const CONTAGION_SHARE: f64 = 0.05;

/// Most banks (and most assets) a generated system may have.
pub const MAX_NODES: usize = 1_000_000;

/// Most bank–asset links, on average (`N · μ_b`), a generated system may have.
pub const MAX_LINKS: f64 = 5.0e7;

/// The α that makes selling `fraction` of the supply cut the price by `cut`:
/// `exp(−α·fraction) = 1 − cut`.
pub fn alpha_for(fraction: f64, cut: f64) -> f64 {
    -(1.0 - cut).ln() / fraction
}

/// Parameters of a Caccioli system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Banks `N`.
    pub banks: usize,
    /// Assets `M`.
    pub assets: usize,
    /// Mean diversification `μ_b`: assets per bank on average, in `(0, M]`.
    pub mu: f64,
    /// Leverage `λ = A / E` of every bank, `> 1`.
    pub leverage: f64,
    /// Impact `α` of `p = exp(−α·x)`.
    pub alpha: f64,
    /// Total assets `A` of every bank, USD (only scales the amounts).
    pub bank_assets_usd: f64,
    /// Seed.
    pub seed: u64,
}

impl Default for Params {
    /// The paper's square system, `N = M = 1000`, `μ_b = 5`, `λ = 20`, `α = 1.0536`,
    /// $1B of assets per bank, seed 1.
    fn default() -> Self {
        Params {
            banks: 1000,
            assets: 1000,
            mu: 5.0,
            leverage: 20.0,
            alpha: ALPHA,
            bank_assets_usd: 1.0e9,
            seed: 1,
        }
    }
}

impl Params {
    /// Check every parameter; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), GenerateError> {
        check(
            (1..=MAX_NODES).contains(&self.banks),
            "banks",
            || format!("must be between 1 and {MAX_NODES}, got {}", self.banks),
            "the paper uses a few thousand banks; `--banks 1000` is a good start",
        )?;
        check(
            (1..=MAX_NODES).contains(&self.assets),
            "assets",
            || format!("must be between 1 and {MAX_NODES}, got {}", self.assets),
            "the paper takes as many assets as banks: `--assets 1000`",
        )?;
        check(
            self.mu.is_finite() && self.mu > 0.0 && self.mu <= self.assets as f64,
            "mu",
            || {
                format!(
                    "mean diversification must be in (0, M] = (0, {}], got {}",
                    self.assets, self.mu
                )
            },
            "μ_b is the average number of assets a bank holds; it cannot exceed the number of assets (`--assets`)",
        )?;
        check(
            self.banks as f64 * self.mu <= MAX_LINKS,
            "mu",
            || {
                format!(
                    "N × μ_b = {} holdings on average is more than {MAX_LINKS}",
                    self.banks as f64 * self.mu
                )
            },
            "lower `--banks` or `--mu`",
        )?;
        check(
            self.leverage.is_finite() && self.leverage > 1.0,
            "leverage",
            || format!("leverage A/E must be > 1, got {}", self.leverage),
            "leverage is assets over equity: 20 means equity is 5% of assets; 1 would mean no debt",
        )?;
        check(
            self.alpha.is_finite() && self.alpha > 0.0,
            "alpha",
            || format!("must be a number > 0, got {}", self.alpha),
            "the paper's α = 1.0536 makes liquidating 10% of an asset cut its price by 10%",
        )?;
        check(
            self.bank_assets_usd.is_finite() && self.bank_assets_usd > 0.0,
            "bank-assets",
            || format!("must be a number > 0, got {}", self.bank_assets_usd),
            "total assets per bank in USD, e.g. 1.0e9",
        )
    }

    /// The command that regenerates the scenario `name` from these parameters.
    pub fn command(&self, name: &str) -> String {
        format!(
            "delever generate caccioli --banks {} --assets {} --mu {} --leverage {} --alpha {} --bank-assets {} --seed {} --name {name} --out-dir DIR",
            self.banks,
            self.assets,
            self.mu,
            self.leverage,
            self.alpha,
            yaml::number(self.bank_assets_usd),
            self.seed
        )
    }
}

/// One random draw of the system: the holdings of every bank and the bank that fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Draw {
    /// Asset indices each bank holds, ascending.
    pub holdings: Vec<Vec<u32>>,
    /// Banks that drew no asset and were given one at random.
    pub topped_up: usize,
    /// The bank that starts insolvent.
    pub failed: usize,
}

/// Draw the bipartite graph: each link present with probability `p = μ_b/M`.
///
/// Gaps between links are geometric, so a bank costs `O(μ_b)` draws rather than `O(M)`:
/// the gap `g` has `P(g = k) = (1−p)^k·p`, sampled as `⌊ln U / ln(1−p)⌋`. A bank that draws
/// no asset is given one uniformly at random (it must hold something to have a balance
/// sheet; the paper's banks all hold assets), which raises the mean degree by `(1−p)^M`,
/// under 1% from `μ_b ≈ 5`.
pub fn draw(p: &Params, rng: &mut Rng) -> Draw {
    let m = p.assets;
    let prob = (p.mu / m as f64).min(1.0);
    let log_q = (-prob).ln_1p();
    let mut holdings = Vec::with_capacity(p.banks);
    let mut topped_up = 0;
    for _ in 0..p.banks {
        let mut row = Vec::new();
        if prob >= 1.0 {
            row.extend(0..m as u32);
        } else {
            let mut j = 0usize;
            loop {
                // 1 − U is in (0, 1], so the gap is ≥ 0; a vanishing p can make it infinite.
                let gap = ((1.0 - rng.uniform()).ln() / log_q).floor();
                if !gap.is_finite() || gap >= (m - j) as f64 {
                    break;
                }
                j += gap as usize;
                row.push(j as u32);
                j += 1;
            }
        }
        if row.is_empty() {
            row.push(rng.below(m as u64) as u32);
            topped_up += 1;
        }
        holdings.push(row);
    }
    let failed = rng.below(p.banks as u64) as usize;
    Draw {
        holdings,
        topped_up,
        failed,
    }
}

/// The network of a draw. Assets no bank holds are left out (they have no supply and
/// cannot carry contagion); ids keep their index, `asset-<j+1>`.
pub fn network(p: &Params, d: &Draw) -> Result<Network, GenerateError> {
    let a = p.bank_assets_usd;
    let mut supply = vec![0.0f64; p.assets];
    for row in &d.holdings {
        let shares = a / row.len() as f64;
        for &j in row {
            supply[j as usize] += shares;
        }
    }
    let mut b = NetworkBuilder::new();
    for (j, &s) in supply.iter().enumerate() {
        if s > 0.0 {
            b.add_asset(Asset {
                id: format!("asset-{}", j + 1),
                price: 1.0,
                shares_outstanding: s,
                adv_usd: 0.0,
                daily_vol: 0.0,
                beta: 1.0,
                duration: 0.0,
                tags: Vec::new(),
                impact: ImpactLaw::Exponential { alpha: p.alpha },
                decay: delever_graph::ImpactDecay::default(),
            });
        }
    }
    let liabilities = a - a / p.leverage;
    for (i, row) in d.holdings.iter().enumerate() {
        let id = format!("bank-{}", i + 1);
        let mut h = Holder::new(
            id.clone(),
            HolderKind::Bank {
                rule: BalanceSheetRule::FailLiquidate,
            },
        );
        if i == d.failed {
            // The first failure: liabilities 1% above assets, as the shipped scenario.
            h.other_liabilities = a * 1.01;
            h.starts_insolvent = true;
        } else {
            h.other_liabilities = liabilities;
        }
        b.add_holder(h);
        let shares = a / row.len() as f64;
        for &j in row {
            b.holds(&id, &format!("asset-{}", j + 1), shares);
        }
    }
    Ok(b.build()?)
}

/// Engine settings of a generated system: the defaults (the least fixed point is reported
/// too; every bank liquidating is usually self-consistent at these leverages).
fn engine() -> EngineConfig {
    EngineConfig::default()
}

/// Generate the scenario `name` from `p`.
pub fn generate(p: &Params, name: &str) -> Result<Generated, GenerateError> {
    p.validate()?;
    crate::check_name(name)?;
    let d = draw(p, &mut Rng::new(p.seed));
    let network = network(p, &d)?;
    let held = network.assets().len();
    let links: usize = d.holdings.iter().map(Vec::len).sum();
    let equity = p.bank_assets_usd / p.leverage;
    let description = format!(
        "A random system of Caccioli, Shrestha, Moore & Farmer (2014), \"Stability analysis of\n\
         financial contagion due to overlapping portfolios\": {n} banks, {m} assets, mean\n\
         diversification mu_b = {mu} (each bank-asset link present with probability\n\
         mu_b/M = {prob}), leverage {lev} for every bank (equity {eq:e} of {a:e} USD of assets),\n\
         exponential impact alpha = {alpha}. Bank-{f} starts insolvent; the others are passive\n\
         until their equity is gone, then liquidate everything. Contagion, in the paper's\n\
         sense, is more than 5% of the banks defaulting (more than {k} here).\n\
         \n\
         This draw: {links} holdings ({per:.3} per bank), {held} of the {m} assets held by\n\
         some bank, {top} bank(s) that drew no asset given one at random.\n\
         \n\
         Generated by delever-generate (generator caccioli, seed {seed}). Regenerate with:\n\
         {cmd}\n",
        n = p.banks,
        m = p.assets,
        mu = p.mu,
        prob = p.mu / p.assets as f64,
        lev = p.leverage,
        eq = equity,
        a = p.bank_assets_usd,
        alpha = p.alpha,
        f = d.failed + 1,
        k = (CONTAGION_SHARE * p.banks as f64).floor(),
        per = links as f64 / p.banks as f64,
        top = d.topped_up,
        seed = p.seed,
        cmd = p.command(name),
    );
    Ok(Generated {
        name: name.to_string(),
        description,
        as_of: "2014-09-01".into(),
        sources: vec![SourceRef {
            id: "caccioli-2014".into(),
            title: "Caccioli, Shrestha, Moore & Farmer (2014), Stability analysis of financial contagion due to overlapping portfolios, Journal of Banking & Finance 46: fail-and-liquidate banks, random bipartite holdings, p = exp(-alpha x)".into(),
            url: None,
            date: Some("2014-09-01".into()),
        }],
        assumptions: vec![
            format!("Random bipartite holdings: each of the N x M bank-asset links present independently with probability mu_b/M, drawn with seed {}; a bank that draws no asset is given one uniformly at random.", p.seed),
            "Every bank has the same total assets, split equally among its holdings, at price 1, and the same leverage A/E (other_liabilities = A - A/leverage).".into(),
            "Asset supply (shares_outstanding) equals the banks' combined holdings, as in the paper: the banks are the whole market. Assets no bank holds are left out.".into(),
            "The first failure is a bank chosen at random that starts with liabilities of 1.01 A (starts_insolvent): the paper's single-bank failure.".into(),
        ],
        network,
        shocks: Vec::<Shock>::new(),
        engine: engine(),
        book_format: crate::BookFormat::Csv,
        streamed: Vec::new(),
    })
}

/// Result of [`contagion_probability`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contagion {
    /// Trials run.
    pub trials: usize,
    /// Trials in which more than [`CONTAGION_SHARE`] of the banks defaulted.
    pub contagions: usize,
    /// `contagions / trials`.
    pub probability: f64,
    /// Mean share of banks defaulted in the trials with contagion (0 when none): the
    /// paper's "extent of contagion", near 1 where contagion is rare but total.
    pub extent: f64,
}

/// Seed of trial `t`: depends only on `(seed, t)`, so results do not depend on the thread
/// count or on the order trials finish in.
pub fn trial_seed(seed: u64, t: u64) -> u64 {
    Rng::new(seed ^ t.wrapping_add(1).wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

/// The share of banks that default in one trial of `p` with seed `seed`.
pub fn defaulted_share(p: &Params, seed: u64) -> Result<f64, GenerateError> {
    let d = draw(p, &mut Rng::new(seed));
    let net = network(p, &d)?;
    let cfg = EngineConfig {
        least_fixed_point: false,
        ..EngineConfig::default()
    };
    let out = delever_engine::run(&net, &[], &cfg)?;
    Ok(out.totals.defaults as f64 / p.banks as f64)
}

/// Estimate the probability of contagion of `p` over `trials` seeded trials (trial `t`
/// uses [`trial_seed`]`(p.seed, t)`), run in parallel with rayon.
pub fn contagion_probability(p: &Params, trials: usize) -> Result<Contagion, GenerateError> {
    p.validate()?;
    let shares: Vec<f64> = (0..trials as u64)
        .into_par_iter()
        .map(|t| defaulted_share(p, trial_seed(p.seed, t)))
        .collect::<Result<_, _>>()?;
    // Summed in trial order: the estimate is the same at any thread count.
    let hit: Vec<f64> = shares
        .into_iter()
        .filter(|&s| s > CONTAGION_SHARE)
        .collect();
    let contagions = hit.len();
    Ok(Contagion {
        trials,
        contagions,
        probability: if trials == 0 {
            0.0
        } else {
            contagions as f64 / trials as f64
        },
        extent: if contagions == 0 {
            0.0
        } else {
            hit.iter().sum::<f64>() / contagions as f64
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params {
            banks: 50,
            assets: 40,
            mu: 3.0,
            leverage: 10.0,
            seed: 9,
            ..Params::default()
        }
    }

    #[test]
    fn alpha_is_ten_percent_for_ten_percent() {
        // −ln(0.9)/0.1 = 1.053605156578263…
        assert!((alpha_for(0.1, 0.1) - 1.053_605_156_578_263).abs() < 1e-12);
        assert!((ALPHA - alpha_for(0.1, 0.1)).abs() < 1e-4);
    }

    #[test]
    fn balance_sheets_are_as_the_paper_says() {
        let p = small();
        let g = generate(&p, "t").expect("valid");
        let net = &g.network;
        let prices = net.prices();
        for (i, h) in net.holders().iter().enumerate() {
            let ix = delever_graph::HolderIx(i as u32);
            let assets = net.holdings_value(ix, &prices);
            // A = $1B split equally: the holdings add back to A.
            assert!((assets - 1.0e9).abs() < 1e-3, "{assets}");
            let e = net.equity(ix, &prices);
            if h.starts_insolvent {
                assert!((e + 1.0e7).abs() < 1e-3, "{e}");
            } else {
                // E = A/λ = $100M at λ = 10.
                assert!((e - 1.0e8).abs() < 1e-3, "{e}");
            }
        }
        assert_eq!(
            net.holders().iter().filter(|h| h.starts_insolvent).count(),
            1
        );
        // Supply = sum of the banks' holdings, asset by asset.
        for (k, asset) in net.assets().iter().enumerate() {
            let held: f64 = (0..net.holders().len())
                .flat_map(|i| net.holdings(delever_graph::HolderIx(i as u32)))
                .filter(|(a, _)| a.get() == k)
                .map(|(_, s)| s)
                .sum();
            assert!((held - asset.shares_outstanding).abs() <= 1e-6 * held);
        }
    }

    #[test]
    fn mean_degree_is_mu() {
        let p = Params {
            banks: 2000,
            assets: 500,
            mu: 8.0,
            ..Params::default()
        };
        let d = draw(&p, &mut Rng::new(3));
        let links: usize = d.holdings.iter().map(Vec::len).sum();
        let mean = links as f64 / 2000.0;
        // Binomial(500, 8/500): standard error of the mean ≈ √8/√2000 ≈ 0.063.
        assert!((mean - 8.0).abs() < 0.25, "{mean}");
        assert!(d.holdings.iter().all(|r| r.windows(2).all(|w| w[0] < w[1])));
        // μ_b = M: every bank holds every asset.
        let full = Params { mu: 500.0, ..p };
        let d = draw(&full, &mut Rng::new(3));
        assert!(d.holdings.iter().all(|r| r.len() == 500));
    }

    #[test]
    fn one_failure_fully_liquidates_a_lone_asset() {
        // Two banks, one asset each, disjoint: bank-1's failure sells all of its asset,
        // whose price ends at exp(−α) = 0.3487; the other bank is untouched.
        // With the exact α = −ln(0.9)/0.1 the end price is 0.9^10 = 0.3486784401.
        let p = Params {
            banks: 2,
            assets: 2,
            mu: 1.0,
            alpha: alpha_for(0.1, 0.1),
            ..Params::default()
        };
        let d = Draw {
            holdings: vec![vec![0], vec![1]],
            topped_up: 0,
            failed: 0,
        };
        let net = network(&p, &d).expect("valid");
        let out = delever_engine::run(&net, &[], &EngineConfig::default()).expect("runs");
        assert!((out.assets[0].price_after - 0.348_678_440_1).abs() < 1e-10);
        assert_eq!(out.assets[1].price_after, 1.0);
        assert_eq!(out.totals.defaults, 1);
    }

    #[test]
    fn bad_parameters_are_refused_with_the_parameter_named() {
        let cases = [
            (
                Params {
                    banks: 0,
                    ..small()
                },
                "banks",
            ),
            (
                Params {
                    mu: 41.0,
                    ..small()
                },
                "mu",
            ),
            (
                Params {
                    leverage: 1.0,
                    ..small()
                },
                "leverage",
            ),
            (
                Params {
                    alpha: f64::NAN,
                    ..small()
                },
                "alpha",
            ),
        ];
        for (p, name) in cases {
            match p.validate() {
                Err(GenerateError::InvalidParameter { param, .. }) => assert_eq!(param, name),
                other => panic!("{name}: {other:?}"),
            }
        }
    }

    #[test]
    fn estimates_do_not_depend_on_threads() {
        let p = Params {
            leverage: 25.0,
            ..small()
        };
        let a = contagion_probability(&p, 16).expect("runs");
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .expect("pool");
        let b = pool
            .install(|| contagion_probability(&p, 16))
            .expect("runs");
        assert_eq!(a, b);
    }
}

#[cfg(test)]
mod window {
    use super::*;

    /// Probability of contagion at (`μ_b`, `λ`) in a small system, 40 trials.
    fn prob(mu: f64, leverage: f64) -> f64 {
        let p = Params {
            banks: 200,
            assets: 200,
            mu,
            leverage,
            seed: 2014,
            ..Params::default()
        };
        contagion_probability(&p, 40).expect("runs").probability
    }

    #[test]
    fn contagion_happens_only_in_a_window_that_widens_with_leverage() {
        let mus = [0.2, 1.5, 2.0, 3.0, 5.0, 8.0, 60.0];
        let high: Vec<f64> = mus.iter().map(|&m| prob(m, 33.0)).collect();
        let mid: Vec<f64> = mus.iter().map(|&m| prob(m, 12.0)).collect();
        let low: Vec<f64> = mus.iter().map(|&m| prob(m, 4.0)).collect();
        eprintln!("λ=33 {high:?}\nλ=12 {mid:?}\nλ=4 {low:?}");
        // High leverage: nothing at the edges, contagion likely in between.
        assert_eq!(high[0], 0.0);
        assert_eq!(high[6], 0.0);
        assert!(high[3] > 0.5, "{high:?}");
        // Below the critical leverage, never.
        assert!(low.iter().all(|&p| p == 0.0), "{low:?}");
        // The window at λ = 12 lies inside the window at λ = 33.
        for (m, h) in mid.iter().zip(&high) {
            assert!(*m == 0.0 || *h > 0.0, "{mid:?} vs {high:?}");
        }
        assert!(
            mid.iter().filter(|&&p| p > 0.0).count() < high.iter().filter(|&&p| p > 0.0).count()
        );
    }
}
