//! The delever network model.
//!
//! A [`Network`] is a directed graph (petgraph) of three kinds of node — [`Asset`]s,
//! [`Holder`]s and [`Lender`]s — joined by [`Edge`]s: holdings (holder → asset), basket
//! weights of leveraged ETFs (fund → asset), margin loans (lender → borrower, with
//! [`MarginTerms`]) and interbank claims (debtor → creditor).
//!
//! The only way to get a `Network` is [`NetworkBuilder`]: add nodes, then edges by id, then
//! [`NetworkBuilder::build`], which checks every invariant and returns *all* problems at
//! once as a [`BuildError`], each naming the node or edge and the field at fault.
//!
//! Populations too large for a node each (millions of retail accounts) are an
//! [`AccountBook`] table attached to one holder node; [`HolderKind::MarginCohort`] stands
//! for many accounts with a loan-to-value distribution in buckets.
//!
//! [`Network::summary`] tells where the leveraged exposure sits, by holder, kind and asset.
//!
//! This crate does no IO and knows nothing of YAML: the scenario crate builds networks
//! through the builder, the engine reads them.

mod builder;
mod checks;
mod convexity;
mod error;
mod model;
mod network;
mod summary;

pub use builder::NetworkBuilder;
pub use checks::{MAX_DAYS, WEIGHT_TOLERANCE};
pub use convexity::{MAX_LEVERAGE, MAX_LOOKBACK_DAYS, MAX_VOL};
pub use error::{BuildError, Problem, Subject};
pub use model::{
    AccountBook, Asset, AssetIx, BalanceSheetRule, CashUse, Edge, GammaLine, Holder, HolderIx,
    HolderKind, IdMap, ImpactDecay, ImpactLaw, KindTag, Lender, LenderIx, Liquidation, Lookback,
    LtvBucket, MarginTerms, NodeRef, OptionLine, OptionRight, SaleOrder, Timing, TransientImpact,
    TrendMarket, VolTargetRule,
};
pub use network::{Claim, MarginLink, Network};
pub use summary::{AssetSummary, HolderSummary, KindSummary, Summary};

#[cfg(test)]
mod tests;
