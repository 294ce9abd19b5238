//! The delever propagation engine.
//!
//! Given a validated [`delever_graph::Network`], a list of [`Shock`]s and an
//! [`EngineConfig`], [`run`] applies the shocks, then iterates forced sales and price impact
//! to a fixed point and returns an [`Outcome`]: final prices, who sold what, who was called
//! or defaulted, lender losses, the round-by-round trace and how the iteration stopped.
//!
//! The maths, rule by rule with sources, is in `docs/model.md`.

mod outcome;
mod spec;

pub use outcome::{
    AssetOutcome, HolderOutcome, LeastFixedPoint, LenderOutcome, Outcome, RoundTrace, Status,
    Termination, Totals,
};
pub use spec::{EngineConfig, Shock};
