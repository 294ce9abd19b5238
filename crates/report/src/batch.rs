//! Results of many runs: a parameter sweep's rows and a Monte Carlo study's draws and
//! summary. The types are plain data with stable serde keys; `delever sweep`, `delever mc`
//! and `delever merge` fill them, and this crate renders them (tables, CSV, JSON lines,
//! HTML).

use serde::{Deserialize, Serialize};

/// One swept parameter's value in one variant: a number, or a word
/// (`engine.mode=equilibrium,sequential`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// A numeric value.
    Number(f64),
    /// Any other scalar, as written.
    Text(String),
}

impl ParamValue {
    /// The value as a number, when it is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Number(x) => Some(*x),
            ParamValue::Text(_) => None,
        }
    }
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Number(x) => write!(f, "{x}"),
            ParamValue::Text(s) => f.write_str(s),
        }
    }
}

/// The headline figures of one run, shared by sweep rows and Monte Carlo draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// How the iteration stopped (`converged`, `max_rounds`, …).
    pub termination: String,
    /// Rounds of the main iteration.
    pub rounds: u32,
    /// Loss of all holders from the exogenous shock alone, USD.
    pub initial_loss_usd: f64,
    /// Loss at the fixed point, USD.
    pub total_loss_usd: f64,
    /// `total_loss_usd / initial_loss_usd` (1 by convention when the initial loss is 0).
    pub amplification: f64,
    /// Forced sales valued at sale prices, USD.
    pub forced_sales_usd: f64,
    /// Holders that defaulted.
    pub defaults: u64,
    /// Margin calls (accounts called).
    pub margin_calls: u64,
    /// Losses of lenders, USD.
    pub lender_losses_usd: f64,
    /// Lenders whose losses exceeded their capital.
    pub lender_defaults: u64,
    /// Whether the least fixed point differs from the greatest (several equilibria).
    pub multiple_equilibria: bool,
    /// Loss per holder kind, USD, in the order of the document's `kinds`.
    pub loss_by_kind: Vec<f64>,
}

/// One variant of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepRow {
    /// Position in the full grid (0-based; the last parameter varies fastest).
    pub index: u64,
    /// The swept values, one per parameter, in the document's order.
    pub values: Vec<ParamValue>,
    /// What the run gave.
    #[serde(flatten)]
    pub figures: RunFigures,
}

/// A sweep: the grid and one row per variant, in grid order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepDoc {
    /// Scenario name.
    pub scenario: String,
    /// The swept field paths (`shocks[0].return`), in `--vary` order.
    pub parameters: Vec<String>,
    /// Holder kinds present in the scenario, the order of `loss_by_kind`.
    pub kinds: Vec<String>,
    /// Variants in the full grid (more than `rows.len()` in a shard).
    pub variants: u64,
    /// The rows, in grid order.
    pub rows: Vec<SweepRow>,
}

/// One Monte Carlo draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McDraw {
    /// Draw number (0-based); its random numbers depend only on the seed and this.
    pub index: u64,
    /// Value-weighted return of the shocked assets in this draw (a fraction).
    pub market_return: f64,
    /// What the run gave.
    #[serde(flatten)]
    pub figures: RunFigures,
}

/// Distribution summary of one figure across draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// The figure (`total_loss_usd`, `loss_by_kind.leveraged_etf`, …).
    pub metric: String,
    /// Mean across draws.
    pub mean: f64,
    /// Standard deviation across draws (n − 1 in the denominator).
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// `(p, q)`: the p-quantile q (type 7, linear between order statistics).
    pub quantiles: Vec<(f64, f64)>,
    /// `(α, VaR)`: value at risk at level α, the α-quantile of the loss.
    pub var: Vec<(f64, f64)>,
    /// `(α, ES)`: expected shortfall at level α, the mean of the worst ⌈(1 − α)·n⌉ draws.
    pub es: Vec<(f64, f64)>,
}

/// A Monte Carlo study's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McSummary {
    /// Scenario name.
    pub scenario: String,
    /// Draws in the study.
    pub draws: u64,
    /// The seed.
    pub seed: u64,
    /// The shock distribution, in words (`student_t(4) on 9 assets, 5-day horizon`).
    pub distribution: String,
    /// Holder kinds present in the scenario, the order of `loss_by_kind`.
    pub kinds: Vec<String>,
    /// Share of draws in which at least one lender defaulted.
    pub p_lender_default: f64,
    /// Share of draws in which at least one holder defaulted.
    pub p_holder_default: f64,
    /// Share of draws with at least one margin call.
    pub p_margin_call: f64,
    /// Draws whose iteration did not converge (their figures are still counted).
    pub not_converged: u64,
    /// Draws with several equilibria.
    pub multiple_equilibria: u64,
    /// One entry per figure: total loss, initial loss, forced sales, amplification,
    /// lender losses, then the loss of each kind.
    pub metrics: Vec<Distribution>,
}
