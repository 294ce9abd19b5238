//! Engine settings.

use schemars::JsonSchema;
use serde::Deserialize;

use super::numbers::{Days, Num, Whole};

/// How the engine computes the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ModeName {
    /// The fixed point: where the cascade ends when every sale settles at the final prices.
    Equilibrium,
    /// Rounds: holders act on the last round's prices, orders clear together and settle
    /// at the midpoint of the old and the new price; balance sheets carry over.
    Sequential,
    /// Day by day over `days` trading days, each day solved as the equilibrium on the
    /// balance sheets the day before left, with deadlines, close-outs, caps, lagged
    /// redemptions and transient impact.
    Timeline,
}

/// Whose accounting a one-round run follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum GltName {
    /// The engine's own: multiplicative prices, sales pro rata to current values, defaults
    /// (equals Greenwood–Landier–Thesmar to second order in the shock).
    Cascade,
    /// Greenwood–Landier–Thesmar's linear accounting, to the last digit: additive returns,
    /// sales by starting weights, no default (a GLT system, one round).
    Exact,
}

/// Sequential mode: when sale proceeds repay debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SettlementName {
    /// Proceeds repay debt as the sale settles (the default).
    AtSettlement,
    /// INET Oxford's timing: banks and leveraged funds hold proceeds as cash, counted in
    /// total assets, until their next decision, and repay debt from them only when their
    /// rule then asks for a cut; a margin loan is still repaid at settlement.
    AtNextDecision,
}

/// Engine settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngineSpec {
    /// `equilibrium` (default), `sequential` or `timeline`.
    pub mode: Option<ModeName>,
    /// Timeline: trading days to run, 1 to 2520 (required with `mode: timeline`).
    pub days: Option<Days>,
    /// Most rounds before giving up (1 to 1,000,000; default 1000).
    pub max_rounds: Option<Whole>,
    /// Relative price change below which the iteration has converged (> 0; default 1e-10).
    pub tolerance: Option<Num>,
    /// Weight on the new iterate, in (0, 1] (default 1).
    pub damping: Option<Num>,
    /// Also compute the least fixed point (default true; false in a scenario with an
    /// account book, whose least iteration would call every account first).
    pub least_fixed_point: Option<bool>,
    /// `exact`: Greenwood–Landier–Thesmar's linear accounting for a one-round run of a GLT
    /// system (needs `max_rounds: 1`); `cascade` (default): the engine's own.
    pub glt: Option<GltName>,
    /// Sequential mode only: `at_settlement` (default) or `at_next_decision`.
    pub settlement: Option<SettlementName>,
}
