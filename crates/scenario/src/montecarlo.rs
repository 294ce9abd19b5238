//! The `monte_carlo:` block, resolved: the distribution `delever mc` draws asset shocks
//! from, and the Cholesky factor its sampler correlates draws with.
//!
//! The block is validated with the rest of the scenario (`convert`); this module holds
//! the resolved type and the maths (Cholesky for positive *semi*definite matrices, so a
//! perfectly correlated pair is accepted).

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
                s.push_str(&format!(", correlation {first:.2} (uniform)"));
            } else {
                let mean = off.iter().sum::<f64>() / off.len() as f64;
                s.push_str(&format!(", correlation matrix (mean pairwise {mean:.2})"));
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
