//! [`Expectations`]: the validated `expect:` block of a scenario, for `delever check`.

use std::fmt;

use delever_engine::{Status, Termination};
use delever_graph::{AssetIx, HolderIx};

/// A bound on one number of a report.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// `min ≤ x ≤ max`; a missing side is open.
    Range {
        /// Lowest accepted value.
        min: Option<f64>,
        /// Highest accepted value.
        max: Option<f64>,
    },
    /// `|x − value| ≤ max(rel_tol·|value|, abs_tol)`.
    Approx {
        /// Expected value.
        value: f64,
        /// Relative tolerance (default 1e-6).
        rel_tol: f64,
        /// Absolute tolerance (default 0).
        abs_tol: f64,
    },
    /// `x == value` exactly.
    Equals(f64),
}

/// Relative tolerance of `approx` when the scenario gives neither tolerance.
pub const DEFAULT_REL_TOL: f64 = 1e-6;

impl Bound {
    /// Whether `x` satisfies the bound. NaN satisfies none.
    pub fn contains(&self, x: f64) -> bool {
        if x.is_nan() {
            return false;
        }
        match *self {
            Bound::Range { min, max } => min.is_none_or(|m| x >= m) && max.is_none_or(|m| x <= m),
            Bound::Approx {
                value,
                rel_tol,
                abs_tol,
            } => (x - value).abs() <= (rel_tol * value.abs()).max(abs_tol),
            Bound::Equals(v) => x == v,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bound::Range {
                min: Some(a),
                max: Some(b),
            } => write!(f, "in [{a}, {b}]"),
            Bound::Range {
                min: Some(a),
                max: None,
            } => write!(f, "≥ {a}"),
            Bound::Range {
                min: None,
                max: Some(b),
            } => write!(f, "≤ {b}"),
            Bound::Range {
                min: None,
                max: None,
            } => f.write_str("any value"),
            Bound::Approx {
                value,
                rel_tol,
                abs_tol,
            } => {
                write!(f, "≈ {value} (rel_tol {rel_tol}")?;
                if abs_tol > 0.0 {
                    write!(f, ", abs_tol {abs_tol}")?;
                }
                f.write_str(")")
            }
            Bound::Equals(v) => write!(f, "= {v}"),
        }
    }
}

/// One bounded number: the report's key (e.g. `amplification`, `drawdown`) and its bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The key, as in the JSON report.
    pub key: &'static str,
    /// The accepted values.
    pub bound: Bound,
}

/// Expectations on one asset's report row.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetExpectations {
    /// The asset's id.
    pub id: String,
    /// The asset's index in the network.
    pub asset: AssetIx,
    /// Bounds on `price_shocked`, `price_after`, `drawdown`, `forced_sales_shares`,
    /// `forced_sales_usd`, in that order when present.
    pub checks: Vec<Expectation>,
}

/// Expectations on one holder's report row.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderExpectations {
    /// The holder's id.
    pub id: String,
    /// The holder's index in the network.
    pub holder: HolderIx,
    /// Accepted final statuses (empty: any).
    pub status: Vec<Status>,
    /// Bounds on `equity_before`, `equity_after`, `sales_usd`, `lender_loss_usd`, in that
    /// order when present.
    pub checks: Vec<Expectation>,
}

/// The `expect:` block: what a regression run must find. Ids are checked against the
/// network; bounds are well-formed (`min ≤ max`, tolerances ≥ 0).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectations {
    /// How the run must stop, if given.
    pub termination: Option<Termination>,
    /// Bounds on the report's totals (`initial_loss_usd`, `total_loss_usd`,
    /// `amplification`, `forced_sales_usd`, `exogenous_sales_usd`, `defaults`,
    /// `margin_calls`, `lender_losses_usd`, `cash_cures_usd`, in that order when present).
    pub totals: Vec<Expectation>,
    /// Per-asset expectations, sorted by asset id.
    pub assets: Vec<AssetExpectations>,
    /// Per-holder expectations, sorted by holder id.
    pub holders: Vec<HolderExpectations>,
    /// Timeline: expectations on single days, in the block's order.
    pub days: Vec<DayExpectations>,
}

/// Expectations on one day of a timeline (`days[]` of the report).
#[derive(Debug, Clone, PartialEq)]
pub struct DayExpectations {
    /// The day, from 0.
    pub day: u32,
    /// Bounds on the day's totals (`sales_usd`, `exogenous_sales_usd`, `price_index`,
    /// `new_calls`, `open_calls`, `liquidations`, `new_defaults`, `lender_losses_usd`).
    pub totals: Vec<Expectation>,
    /// Per asset: bounds on `open`, `close`, `fundamental`, `return`, `drawdown`,
    /// `permanent_impact`, `transient_impact`, `sales_shares`, `sales_usd`.
    pub assets: Vec<AssetExpectations>,
    /// Per holder: accepted statuses that day, and bounds on `sales_usd`, `equity`,
    /// `lender_loss_usd`, `open_calls`.
    pub holders: Vec<HolderExpectations>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_contain() {
        let r = Bound::Range {
            min: Some(1.0),
            max: Some(2.0),
        };
        assert!(r.contains(1.5) && r.contains(1.0) && !r.contains(2.5) && !r.contains(f64::NAN));
        let a = Bound::Approx {
            value: 100.0,
            rel_tol: 0.01,
            abs_tol: 0.0,
        };
        assert!(a.contains(100.9) && !a.contains(101.1));
        let z = Bound::Approx {
            value: 0.0,
            rel_tol: 0.01,
            abs_tol: 0.5,
        };
        assert!(z.contains(0.4) && !z.contains(0.6));
        assert!(Bound::Equals(3.0).contains(3.0) && !Bound::Equals(3.0).contains(3.1));
        assert_eq!(r.to_string(), "in [1, 2]");
    }
}
