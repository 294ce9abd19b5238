//! The `monte_carlo:` block, resolved: the distribution `delever mc` draws asset shocks
//! from, and the Cholesky factor its sampler correlates draws with.
//!
//! The block is validated with the rest of the scenario (`convert`); this module holds
//! the resolved type and the maths (Cholesky for positive *semi*definite matrices, so a
//! perfectly correlated pair is accepted).

use std::fmt::Write as _;

use delever_graph::AssetIx;
use ndarray::Array2;

/// The shape of the standardised draw.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShockDistribution {
    /// Gaussian log-returns.
    Normal,
    /// Student-t log-returns with `dof` degrees of freedom (> 2, so that the variance is
    /// finite): fat tails, as daily equity returns have. The draw is scaled by
    /// √((dof − 2)/dof) so that its standard deviation is the asset's `vol`.
    StudentT {
        /// Degrees of freedom, > 2.
        dof: f64,
    },
}

/// A validated `monte_carlo:` block.
///
/// Each draw is a vector of log-returns over the horizon, one per asset in `assets`:
/// `x = mean + vol ⊙ (L · z)`, with `L` = [`MonteCarlo::cholesky`] and `z` independent
/// standardised draws of [`MonteCarlo::distribution`] (unit variance; for Student-t one
/// common chi-square mixing variable per draw gives the multivariate t). The asset's
/// price shock is the simple return `exp(x) − 1`, so a draw can never take a price below
/// zero. The horizon's log-return is drawn directly (vol scaled by √horizon): a 5-day
/// Student-t return is not the sum of five daily ones.
#[derive(Debug, Clone, PartialEq)]
pub struct MonteCarlo {
    /// The distribution of the standardised draws.
    pub distribution: ShockDistribution,
    /// The horizon the returns are drawn over, in trading days (> 0; default 1).
    pub horizon_days: f64,
    /// The assets drawn, in the block's order (every asset, in file order, by default).
    pub assets: Vec<AssetIx>,
    /// Per asset: the mean log-return over the horizon (`daily_mean` × `horizon_days`;
    /// default 0).
    pub mean: Vec<f64>,
    /// Per asset: the standard deviation of the log-return over the horizon
    /// (`daily_vol` × √`horizon_days`).
    pub vol: Vec<f64>,
    /// Correlation of the draws, n×n in the order of `assets`: symmetric, unit diagonal,
    /// positive semidefinite.
    pub correlation: Array2<f64>,
    /// Lower-triangular `L` with `L·Lᵀ = correlation`; a zero pivot (a singular matrix,
    /// e.g. two assets at correlation 1) gives a zero column.
    pub cholesky: Array2<f64>,
    /// `true`: the scenario's own shocks are applied as well as the draw (an asset's
    /// price is its shocked price times `exp(x)`). `false` (default): the draw replaces
    /// the scenario's *price* shocks (`asset`, `tag`, `market`, `discount_rate`); its
    /// other shocks (`exogenous_sale`, `margin_tightening`, `redemption`) are kept either
    /// way.
    pub scenario_shocks: bool,
    /// The source of the parameters, a `sources:` id.
    pub source: Option<String>,
}

impl MonteCarlo {
    /// One line for people: "`student_t(4)` log-returns on 9 assets, 5-day horizon,
    /// correlation 0.70 (uniform)".
    pub fn describe(&self) -> String {
        let dist = match self.distribution {
            ShockDistribution::Normal => "normal".to_owned(),
            ShockDistribution::StudentT { dof } => format!("student_t({dof})"),
        };
        let n = self.assets.len();
        let mut s = format!(
            "{dist} log-returns on {n} asset{}, {}-day horizon",
            if n == 1 { "" } else { "s" },
            self.horizon_days
        );
        if n >= 2 {
            let off: Vec<f64> = (0..n)
                .flat_map(|i| (0..i).map(move |j| (i, j)))
                .map(|(i, j)| self.correlation[[i, j]])
                .collect();
            let first = off.first().copied().unwrap_or(0.0);
            if off.iter().all(|&r| r == first) {
                let _ = write!(s, ", correlation {first:.2} (uniform)");
            } else {
                let mean = off.iter().sum::<f64>() / off.len() as f64;
                let _ = write!(s, ", correlation matrix (mean pairwise {mean:.2})");
            }
        }
        if self.scenario_shocks {
            s.push_str(", on top of the scenario's shocks");
        }
        s
    }
}

/// Pivots and residuals within this of zero count as zero: correlations are O(1), and a
/// matrix estimated from data or written to a few decimals is singular only up to
/// rounding.
const PSD_TOL: f64 = 1e-9;

/// Cholesky factor `L` (lower triangular, `L·Lᵀ = a`) of a symmetric positive
/// semidefinite matrix. A zero pivot gives a zero column (the row is a combination of
/// earlier ones); `Err(k)` names the first row `k` at which `a` is found not to be
/// positive semidefinite.
pub(crate) fn cholesky(a: &Array2<f64>) -> Result<Array2<f64>, usize> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for j in 0..n {
        let d = a[[j, j]] - (0..j).map(|k| l[[j, k]] * l[[j, k]]).sum::<f64>();
        if d < -PSD_TOL || !d.is_finite() {
            return Err(j);
        }
        if d <= PSD_TOL {
            // Zero pivot: the rest of this column must vanish too, or the matrix is
            // indefinite.
            for i in j + 1..n {
                let r = a[[i, j]] - (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum::<f64>();
                if r.abs() > PSD_TOL.sqrt() {
                    return Err(i);
                }
            }
            continue;
        }
        let pivot = d.sqrt();
        l[[j, j]] = pivot;
        for i in j + 1..n {
            let r = a[[i, j]] - (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum::<f64>();
            l[[i, j]] = r / pivot;
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn close(a: &Array2<f64>, b: &Array2<f64>) -> bool {
        a.shape() == b.shape() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn two_by_two_by_hand() {
        // L for [[1, ρ], [ρ, 1]] is [[1, 0], [ρ, √(1−ρ²)]]; ρ = 0.6 gives √0.64 = 0.8.
        let l = cholesky(&array![[1.0, 0.6], [0.6, 1.0]]).expect("PSD");
        assert!(close(&l, &array![[1.0, 0.0], [0.6, 0.8]]), "{l}");
        let l = cholesky(&array![[1.0, -0.6], [-0.6, 1.0]]).expect("PSD");
        assert!(close(&l, &array![[1.0, 0.0], [-0.6, 0.8]]), "{l}");
    }

    #[test]
    fn three_by_three_by_hand() {
        // Uniform ρ = 0.5: L00 = 1; L10 = 0.5, L11 = √0.75; L20 = 0.5,
        // L21 = (0.5 − 0.25)/√0.75 = 0.25/√0.75, L22 = √(1 − 0.25 − 0.0625/0.75) = √(2/3).
        let a = array![[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]];
        let l = cholesky(&a).expect("PSD");
        let s = 0.75_f64.sqrt();
        let want = array![
            [1.0, 0.0, 0.0],
            [0.5, s, 0.0],
            [0.5, 0.25 / s, (2.0_f64 / 3.0).sqrt()]
        ];
        assert!(close(&l, &want), "{l}");
        assert!(close(&l.dot(&l.t()), &a));
    }

    #[test]
    fn singular_matrices_give_zero_columns() {
        // ρ = 1: the second asset is the first; L = [[1, 0], [1, 0]].
        let l = cholesky(&array![[1.0, 1.0], [1.0, 1.0]]).expect("PSD");
        assert!(close(&l, &array![[1.0, 0.0], [1.0, 0.0]]), "{l}");
        // Uniform ρ = −1/2 among 3 is the most negative possible: singular, PSD.
        let a = array![[1.0, -0.5, -0.5], [-0.5, 1.0, -0.5], [-0.5, -0.5, 1.0]];
        let l = cholesky(&a).expect("PSD");
        assert!(close(&l.dot(&l.t()), &a));
        assert_eq!(l[[2, 2]], 0.0);
    }

    #[test]
    fn indefinite_matrices_are_refused_at_their_row() {
        // Uniform ρ = −0.6 among 3 is below −1/2: the last pivot is negative.
        let a = array![[1.0, -0.6, -0.6], [-0.6, 1.0, -0.6], [-0.6, -0.6, 1.0]];
        assert_eq!(cholesky(&a), Err(2));
        // ρ(0,1) = 1 and ρ(0,2) = 1 force ρ(1,2) = 1; 0 is impossible (zero pivot, and
        // the column below it does not vanish).
        let a = array![[1.0, 1.0, 1.0], [1.0, 1.0, 0.0], [1.0, 0.0, 1.0]];
        assert_eq!(cholesky(&a), Err(2));
    }

    const BASE: &str = "\
name: mc
description: d
as_of: 2026-05-29
sources: [ { id: src, title: t } ]
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.4e10, adv_usd: 4.0e10, daily_vol: 0.025 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.6e9, adv_usd: 8.0e9, daily_vol: 0.04 }
  - { id: GOV, price: 100.0, shares_outstanding: 1.0e9, impact: { law: linear, per_usd: 0 } }
";

    fn load(block: &str) -> Result<crate::Scenario, crate::ScenarioError> {
        crate::Scenario::from_yaml(&format!("{BASE}{block}"), "mc.yaml", None)
    }

    /// The one diagnostic of `block`: its path, line, and that message and hint say these.
    fn check_err(block: &str, path: &str, line: usize, message: &str, hint: &str) {
        let e = load(block).expect_err(block);
        let d = e
            .diagnostics
            .iter()
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("no diagnostic at {path}: {e}"));
        assert_eq!(d.line, Some(line), "{d}");
        assert!(d.message.contains(message), "{d}");
        assert!(d.hint.as_deref().unwrap_or_default().contains(hint), "{d}");
    }

    #[test]
    fn a_block_resolves_to_horizon_scaled_parameters() {
        let s = load(
            "monte_carlo:
  distribution: { type: student_t, dof: 4 }
  horizon_days: 4
  assets:
    - { asset: AMD, daily_mean: 0.001 }
    - { asset: GOV, daily_vol: 0.005 }
  correlation: 0.3
  source: src
",
        )
        .expect("valid");
        let mc = s.monte_carlo.expect("block");
        assert_eq!(mc.distribution, ShockDistribution::StudentT { dof: 4.0 });
        assert_eq!(mc.assets, vec![AssetIx(1), AssetIx(2)]);
        // vol × √4 = 2 × vol; mean × 4.
        assert_eq!(mc.vol, vec![0.08, 0.01]);
        assert_eq!(mc.mean, vec![0.004, 0.0]);
        assert!(close(&mc.correlation, &array![[1.0, 0.3], [0.3, 1.0]]));
        assert!(close(
            &mc.cholesky,
            &array![[1.0, 0.0], [0.3, 0.91_f64.sqrt()]]
        ));
        assert!(!mc.scenario_shocks);
        assert_eq!(mc.source.as_deref(), Some("src"));
        assert!(
            mc.describe().starts_with(
                "student_t(4) log-returns on 2 assets, 4-day horizon, correlation 0.30"
            )
        );
        // Variants inherit the block.
        let v = load("monte_carlo: { distribution: { type: normal }, assets: [ { asset: NVDA } ] }\nvariants: [ { name: v } ]\n")
            .expect("valid");
        assert!(v.expand().expect("expands")[0].monte_carlo.is_some());
    }

    #[test]
    fn defaults_draw_every_asset_independently() {
        let e =
            load("monte_carlo: { distribution: { type: normal } }\n").expect_err("GOV has no vol");
        assert_eq!(e.diagnostics[0].path, "assets[2].daily_vol");
        let s = load("monte_carlo: { distribution: { type: normal }, assets: [ { asset: NVDA }, { asset: AMD } ], scenario_shocks: true }\n")
            .expect("valid");
        let mc = s.monte_carlo.expect("block");
        assert_eq!((mc.horizon_days, mc.vol.clone()), (1.0, vec![0.025, 0.04]));
        assert!(close(&mc.correlation, &Array2::eye(2)));
        assert!(mc.scenario_shocks);
        assert_eq!(
            mc.describe(),
            "normal log-returns on 2 assets, 1-day horizon, correlation 0.00 (uniform), on top of the scenario's shocks"
        );
    }

    #[test]
    #[allow(clippy::too_many_lines)] // one case per check, each a few lines
    fn bad_blocks_are_located_and_explained() {
        let head = "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA }, { asset: AMD } ]\n";
        check_err(
            "monte_carlo:\n  distribution: { type: student_t, dof: 2 }\n  assets: [ { asset: NVDA } ]\n",
            "monte_carlo.distribution.dof",
            10,
            "must be > 2, got 2",
            "finite variance",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: student_t }\n  assets: [ { asset: NVDA } ]\n",
            "monte_carlo.distribution.dof",
            10,
            "missing required key `dof`",
            "dof: 4",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDX } ]\n",
            "monte_carlo.assets[0].asset",
            11,
            "unknown asset `NVDX`",
            "did you mean `NVDA`?",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA }, { asset: NVDA } ]\n",
            "monte_carlo.assets[1].asset",
            11,
            "duplicate asset `NVDA`",
            "once",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA, daily_vol: -0.1 } ]\n",
            "monte_carlo.assets[0].daily_vol",
            11,
            "must be ≥ 0",
            "daily_vol: 0.025",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: GOV } ]\n",
            "monte_carlo.assets[0]",
            11,
            "no daily volatility for `GOV`",
            "add `daily_vol",
        );
        check_err(
            &format!("{head}  horizon_days: 0\n"),
            "monte_carlo.horizon_days",
            12,
            "> 0, got 0",
            "horizon",
        );
        check_err(
            &format!("{head}  correlation: 1.2\n"),
            "monte_carlo.correlation",
            12,
            "in [-1, 1], got 1.2",
            "correlation: 0.7",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA }, { asset: AMD }, { asset: GOV, daily_vol: 0.01 } ]\n  correlation: -0.6\n",
            "monte_carlo.correlation",
            12,
            "-1/(n-1) = -0.5000",
            "correlation ≥ -1/(n-1)",
        );
        check_err(
            &format!("{head}  correlation: {{ matrix: [[1, 0.5]] }}\n"),
            "monte_carlo.correlation.matrix",
            12,
            "the matrix has 1 rows; expected 2",
            "in the order of `monte_carlo.assets`",
        );
        check_err(
            &format!("{head}  correlation: {{ matrix: [[1, 0.5], [0.5]] }}\n"),
            "monte_carlo.correlation.matrix[1]",
            12,
            "row 1 has 1 entries; expected 2",
            "one row and one column per drawn asset",
        );
        check_err(
            &format!("{head}  correlation: {{ matrix: [[1, 0.5], [0.4, 1]] }}\n"),
            "monte_carlo.correlation.matrix[1][0]",
            12,
            "not symmetric: [1][0] is 0.4 but [0][1] is 0.5",
            "same number in both places",
        );
        check_err(
            &format!("{head}  correlation: {{ matrix: [[1, 0.5], [0.5, 0.9]] }}\n"),
            "monte_carlo.correlation.matrix[1][1]",
            12,
            "the diagonal of a correlation matrix is 1, got 0.9",
            "itself",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA }, { asset: AMD }, { asset: GOV, daily_vol: 0.01 } ]\n  correlation: { matrix: [[1, 1, 1], [1, 1, 0], [1, 0, 1]] }\n",
            "monte_carlo.correlation.matrix",
            12,
            "not positive semidefinite",
            "estimate it from one window of data or use a uniform correlation",
        );
        check_err(
            &format!("{head}  source: nope\n"),
            "monte_carlo.source",
            12,
            "unknown source `nope`",
            "src",
        );
        check_err(
            &format!("{head}  correlation: {{ matrx: [[1]] }}\n"),
            "monte_carlo.correlation.matrx",
            12,
            "unknown key `matrx`",
            "did you mean `matrix`?",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: normal, dof: 3 }\n",
            "monte_carlo.distribution.dof",
            10,
            "does not apply to distribution `normal`",
            "student_t",
        );
    }

    #[test]
    fn what_mc_draws_from_is_checked_at_load() {
        // Values that used to pass, then fail inside `mc` ("draw 0: shock 0: `ret` must be
        // a finite number"): refused here, at the field.
        let one = |entry: &str| {
            format!(
                "monte_carlo:\n  distribution: {{ type: normal }}\n  assets: [ {{ asset: NVDA{entry} }} ]\n"
            )
        };
        check_err(
            &one(", daily_vol: 1e300"),
            "monte_carlo.assets[0].daily_vol",
            11,
            "must be at most 1, got 1e300",
            "daily volatility",
        );
        check_err(
            &one(", daily_mean: -1e300"),
            "monte_carlo.assets[0].daily_mean",
            11,
            "must be in [-1, 1], got -1e300",
            "mean daily log-return",
        );
        check_err(
            &format!("{}  horizon_days: 1e300\n", one("")),
            "monte_carlo.horizon_days",
            12,
            "must be at most 2520 days, got 1e300",
            "trading days",
        );
        check_err(
            "monte_carlo:\n  distribution: { type: student_t, dof: 1e300 }\n",
            "monte_carlo.distribution.dof",
            10,
            "must be at most 1e6, got 1e300",
            "normal distribution",
        );
        // Each within its own range, but over ten years a daily vol of 0.5 is a horizon
        // vol of 25 and a daily mean of 0.01 a horizon mean of 25.2.
        check_err(
            &format!("{}  horizon_days: 2520\n", one(", daily_vol: 0.5")),
            "monte_carlo.horizon_days",
            12,
            "over 2520 days, `NVDA`'s daily_vol of 0.5 gives a horizon volatility (daily_vol × √horizon_days) of 25.09",
            "shorten the horizon",
        );
        check_err(
            &format!("{}  horizon_days: 2520\n", one(", daily_mean: 0.01")),
            "monte_carlo.horizon_days",
            12,
            "horizon mean log-return (daily_mean × horizon_days) of 25.2",
            "e^10",
        );
        // A daily vol inherited from the asset is checked at the asset.
        let e = load("monte_carlo:\n  distribution: { type: normal }\n  horizon_days: 2520\n  assets: [ { asset: AMD } ]\n")
            .expect("0.04 × √2520 ≈ 2.0");
        assert_eq!(e.monte_carlo.expect("block").horizon_days, 2520.0);
    }

    #[test]
    fn describe_names_distribution_horizon_and_correlation() {
        let mc = MonteCarlo {
            distribution: ShockDistribution::StudentT { dof: 4.0 },
            horizon_days: 5.0,
            assets: vec![AssetIx(0), AssetIx(1)],
            mean: vec![0.0; 2],
            vol: vec![0.05; 2],
            correlation: array![[1.0, 0.7], [0.7, 1.0]],
            cholesky: array![[1.0, 0.0], [0.7, 0.51_f64.sqrt()]],
            scenario_shocks: false,
            source: None,
        };
        assert_eq!(
            mc.describe(),
            "student_t(4) log-returns on 2 assets, 5-day horizon, correlation 0.70 (uniform)"
        );
    }
}
