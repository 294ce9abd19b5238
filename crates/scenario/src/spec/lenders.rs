//! Lenders.

use schemars::JsonSchema;
use serde::Deserialize;

use super::holder::OweSpec;
use super::numbers::{Days, Num};

/// A lender.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LenderSpec {
    /// Unique id.
    pub id: String,
    /// Capital that absorbs borrower shortfalls, USD (> 0).
    pub capital: Num,
    /// Other liabilities, USD (default 0).
    pub other_liabilities: Option<Num>,
    /// Margin tightening after losses.
    pub tighten: Option<TightenSpec>,
    /// Interbank obligations of this lender.
    pub owes: Option<Vec<OweSpec>>,
    /// Timeline: how it closes out defaulted borrowers.
    pub liquidation: Option<LiquidationSpec>,
    /// Source id.
    pub source: Option<String>,
}

/// How a lender closes out a defaulted borrower, day by day (timeline mode).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LiquidationSpec {
    /// Trading days it takes to act on a borrower (default 0: at once).
    pub delay_days: Option<Days>,
    /// Most it sells of one asset in a day, as a fraction of ADV, in (0, 1] (default: no cap).
    pub participation: Option<Num>,
    /// A borrower that misses a due call is in default and everything is sold (default false).
    pub close_out: Option<bool>,
}

/// When and by how much a lender tightens margin.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TightenSpec {
    /// Losses as a fraction of capital past which the lender tightens (≥ 0).
    pub trigger: Num,
    /// Rise in maintenance and reset margin, in [0, 1].
    pub by: Num,
}
