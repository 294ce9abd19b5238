//! The Greenwood–Landier–Thesmar (2015) closed form, "Vulnerable banks" (JFE 115).
//!
//! `N` banks with assets `a`, equity `e`, leverage `b = (a − e)/e`, portfolio weights `M`
//! (`N × K`, rows sum to 1); price impact `L = diag(ℓ)` per dollar; an asset-return shock
//! `F`. After one round of leverage targeting:
//!
//! - bank returns `R = M·F`;
//! - net trades by asset `φ = M′·B·A·M·F` (bank `n` trades `b_n·a_n·r_n`, pro rata; negative
//!   means net selling, as `F` is negative in a crash);
//! - fire-sale price moves `L·φ`;
//! - aggregate vulnerability `AV = 1′·A·M·L·φ / E` (`E = Σ e`): the share of system equity
//!   lost to the fire sale (signed like `F`);
//! - systemicness `S_n = (a_n b_n r_n)·[Σ_k m_nk ℓ_k Σ_i a_i m_ik] / E`, with `Σ S_n = AV`;
//! - indirect vulnerability `IV_n = a_n·(M·L·φ)_n / e_n`.
//!
//! This is GLT's first-order linearisation. The engine's own accounting reproduces it
//! (with leverage targeting, linear impact and one round) up to terms of second order in
//! `F`; with [`crate::EngineConfig::glt_exact`] it follows GLT's linear accounting and
//! reproduces it exactly. The difference is explained in `docs/model.md`.

use ndarray::{Array1, Array2};

/// Inputs of the closed form.
#[derive(Debug, Clone, PartialEq)]
pub struct GltInput {
    /// Total assets per bank, `a` (length `N`).
    pub assets: Array1<f64>,
    /// Equity per bank, `e` (length `N`), each in `(0, a_n]`.
    pub equity: Array1<f64>,
    /// Portfolio weights `M` (`N × K`), rows summing to 1.
    pub weights: Array2<f64>,
    /// Price impact per dollar of net sales, `ℓ` (length `K`).
    pub impact: Array1<f64>,
    /// Asset-return shock `F` (length `K`).
    pub shock: Array1<f64>,
}

/// Outputs of the closed form.
#[derive(Debug, Clone, PartialEq)]
pub struct GltOutput {
    /// Leverage `b_n = (a_n − e_n)/e_n`.
    pub leverage: Array1<f64>,
    /// Bank returns `R = M·F`.
    pub bank_returns: Array1<f64>,
    /// Net trades by asset `φ = M′BAMF` (negative: net sales).
    pub sales: Array1<f64>,
    /// Fire-sale price moves `L·φ` (returns).
    pub price_moves: Array1<f64>,
    /// Aggregate vulnerability `AV`.
    pub aggregate_vulnerability: f64,
    /// Systemicness `S_n`; sums to `AV`.
    pub systemicness: Array1<f64>,
    /// Indirect vulnerability `IV_n`.
    pub indirect_vulnerability: Array1<f64>,
}

/// Inconsistent closed-form inputs.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GltError {
    /// Array shapes disagree.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// Equity must be in `(0, a_n]`.
    #[error("bank {bank}: equity {equity} must be in (0, assets = {assets}]")]
    Equity {
        /// Bank index.
        bank: usize,
        /// Its equity.
        equity: f64,
        /// Its assets.
        assets: f64,
    },
    /// A weight row that does not sum to 1 (or has a negative entry).
    #[error("bank {bank}: weights must be ≥ 0 and sum to 1, got sum {sum}")]
    Weights {
        /// Bank index.
        bank: usize,
        /// The row sum.
        sum: f64,
    },
    /// A value that must be finite is not.
    #[error("{0} must be finite")]
    NotFinite(&'static str),
}

/// Why `net` is not a GLT system, one reason per line (empty: it is one). Exact GLT
/// accounting ([`crate::EngineConfig::glt_exact`]) needs GLT's model and nothing else:
/// banks or leveraged funds targeting their leverage, spreading sales over cash pro rata
/// (cash is GLT's zero-impact asset), with no margin links, no interbank claims, no
/// default threshold, and linear permanent impact on every asset.
pub fn exact_refusals(net: &delever_graph::Network) -> Vec<String> {
    use delever_graph::{BalanceSheetRule, CashUse, HolderKind, ImpactLaw};
    let mut why = Vec::new();
    for (i, h) in net.holders().iter().enumerate() {
        let rule = match &h.kind {
            HolderKind::Bank { rule } | HolderKind::LeveragedFund { rule } => Some(rule),
            _ => None,
        };
        if !matches!(rule, Some(BalanceSheetRule::LeverageTarget { .. })) {
            why.push(format!(
                "holder `{}` is not a bank or leveraged fund with `rule: leverage_target` (GLT's system has only leverage-targeting banks)",
                h.id
            ));
            continue;
        }
        if h.cash_use != CashUse::ProRata {
            why.push(format!(
                "holder `{}` does not use its cash pro rata (GLT treat cash as one more asset: `cash_use: pro_rata`)",
                h.id
            ));
        }
        if net.margin(delever_graph::HolderIx(i as u32)).is_some() {
            why.push(format!(
                "holder `{}` borrows on margin (GLT has no margin calls)",
                h.id
            ));
        }
        if h.default_below_ratio.is_some() {
            why.push(format!(
                "holder `{}` has a default threshold (GLT's banks do not default)",
                h.id
            ));
        }
    }
    if !net.claims().is_empty() {
        why.push("the scenario has interbank claims (GLT has none)".into());
    }
    for a in net.assets() {
        if !matches!(a.impact, ImpactLaw::Linear { .. }) || !a.decay.is_permanent() {
            why.push(format!(
                "asset `{}` has no linear permanent impact (GLT's impact is linear in dollars: `impact: {{ law: linear }}`)",
                a.id
            ));
        }
    }
    why
}

/// Compute the closed form.
pub fn closed_form(x: &GltInput) -> Result<GltOutput, GltError> {
    let (n, k) = x.weights.dim();
    if x.assets.len() != n || x.equity.len() != n {
        return Err(GltError::Shape(format!(
            "weights have {n} rows but assets has {} and equity {} entries",
            x.assets.len(),
            x.equity.len()
        )));
    }
    if x.impact.len() != k || x.shock.len() != k {
        return Err(GltError::Shape(format!(
            "weights have {k} columns but impact has {} and shock {} entries",
            x.impact.len(),
            x.shock.len()
        )));
    }
    for (name, ok) in [
        ("assets", x.assets.iter().all(|v| v.is_finite())),
        ("equity", x.equity.iter().all(|v| v.is_finite())),
        ("weights", x.weights.iter().all(|v| v.is_finite())),
        ("impact", x.impact.iter().all(|v| v.is_finite())),
        ("shock", x.shock.iter().all(|v| v.is_finite())),
    ] {
        if !ok {
            return Err(GltError::NotFinite(name));
        }
    }
    for i in 0..n {
        let (a, e) = (x.assets[i], x.equity[i]);
        if !(e > 0.0 && e <= a) {
            return Err(GltError::Equity {
                bank: i,
                equity: e,
                assets: a,
            });
        }
        let row = x.weights.row(i);
        let sum = row.sum();
        if (sum - 1.0).abs() > 1e-9 || row.iter().any(|w| *w < 0.0) {
            return Err(GltError::Weights { bank: i, sum });
        }
    }
    let m = &x.weights;
    let leverage = (&x.assets - &x.equity) / &x.equity;
    let bank_returns = m.dot(&x.shock);
    // B·A·M·F: what each bank trades, b_n a_n r_n.
    let trades = &leverage * &x.assets * &bank_returns;
    let sales = m.t().dot(&trades);
    let price_moves = &x.impact * &sales;
    let total_equity = x.equity.sum();
    // Return on each bank's portfolio from the fire sale: (M·L·φ)_n.
    let spill = m.dot(&price_moves);
    let aggregate_vulnerability = x.assets.dot(&spill) / total_equity;
    // Σ_i a_i m_ik: the system's holdings of each asset.
    let holdings = m.t().dot(&x.assets);
    let exposure = m.dot(&(&x.impact * &holdings));
    let systemicness = &trades * &exposure / total_equity;
    let indirect_vulnerability = &x.assets * &spill / &x.equity;
    Ok(GltOutput {
        leverage,
        bank_returns,
        sales,
        price_moves,
        aggregate_vulnerability,
        systemicness,
        indirect_vulnerability,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    // Two banks, two assets, worked by hand.
    //
    // a = (10, 20), e = (1, 4) → b = (9, 4). M = [[.5, .5], [.25, .75]], ℓ = (.01, .02),
    // F = (−.1, 0).
    // R = M·F = (−.05, −.025). b·a·R = (9·10·−.05, 4·20·−.025) = (−4.5, −2).
    // φ = M′·(−4.5, −2) = (.5·−4.5 + .25·−2, .5·−4.5 + .75·−2) = (−2.75, −3.75).
    // L·φ = (−.0275, −.075).
    // M·L·φ = (.5·−.0275 + .5·−.075, .25·−.0275 + .75·−.075) = (−.05125, −.063125).
    // A·M·L·φ = (−.5125, −1.2625), sum −1.775, E = 5 → AV = −.355.
    // Σ_i a_i m_ik = (10·.5 + 20·.25, 10·.5 + 20·.75) = (10, 20);
    // Σ_k m_nk ℓ_k (10, 20)_k = (.5·.1 + .5·.4, .25·.1 + .75·.4) = (.25, .325);
    // S = (−4.5·.25, −2·.325)/5 = (−.225, −.13), summing to −.355 = AV.
    // IV = (−.5125/1, −1.2625/4) = (−.5125, −.315625).
    #[test]
    fn two_by_two_by_hand() {
        let out = closed_form(&GltInput {
            assets: array![10.0, 20.0],
            equity: array![1.0, 4.0],
            weights: array![[0.5, 0.5], [0.25, 0.75]],
            impact: array![0.01, 0.02],
            shock: array![-0.1, 0.0],
        })
        .expect("valid");
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        close(out.leverage[0], 9.0);
        close(out.bank_returns[1], -0.025);
        close(out.sales[0], -2.75);
        close(out.sales[1], -3.75);
        close(out.price_moves[1], -0.075);
        close(out.aggregate_vulnerability, -0.355);
        close(out.systemicness[0], -0.225);
        close(out.systemicness[1], -0.13);
        close(out.indirect_vulnerability[0], -0.5125);
        close(out.indirect_vulnerability[1], -0.315_625);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let good = GltInput {
            assets: array![10.0],
            equity: array![1.0],
            weights: array![[1.0]],
            impact: array![0.01],
            shock: array![-0.1],
        };
        assert!(closed_form(&good).is_ok());
        let mut x = good.clone();
        x.weights = array![[0.7]];
        assert!(matches!(closed_form(&x), Err(GltError::Weights { .. })));
        let mut x = good.clone();
        x.equity = array![0.0];
        assert!(matches!(closed_form(&x), Err(GltError::Equity { .. })));
        let mut x = good;
        x.shock = array![-0.1, 0.0];
        assert!(matches!(closed_form(&x), Err(GltError::Shape(_))));
    }
}
