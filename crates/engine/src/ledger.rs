//! [`Ledger`]: where every share and every dollar of proceeds went, per holder.
//!
//! The [`crate::Outcome`] is what reports show; the ledger is the accounting behind it,
//! for checks (shares conserved, proceeds spent) and for tools that need positions.

use delever_graph::{AssetIx, HolderIx};

/// One position of one holder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PositionLedger {
    /// The asset.
    pub asset: AssetIx,
    /// Shares held before the cascade (ETFs: the synthetic exposure `L·NAV0·w/p0`).
    pub initial_shares: f64,
    /// Net shares sold (negative: bought).
    pub sold_shares: f64,
    /// Shares held at the end: `initial_shares − sold_shares`.
    pub kept_shares: f64,
}

/// The accounting of one holder.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderLedger {
    /// The holder.
    pub holder: HolderIx,
    /// Its positions, by asset (an account book: one entry per asset, the book's totals).
    pub positions: Vec<PositionLedger>,
    /// Shares sold valued at the final prices, USD (negative: spent buying).
    pub proceeds_usd: f64,
    /// The sale its rule asked for, USD at the prices it decided at.
    pub sale_decided_usd: f64,
    /// Part of the sale that repaid debt (negative: borrowed to buy), USD.
    pub debt_repaid_usd: f64,
    /// Part of the sale paid out to investors (redemptions), USD.
    pub paid_out_usd: f64,
    /// Part of the sale kept as cash, USD.
    pub cash_kept_usd: f64,
}

/// The accounting of a run, one entry per holder in holder order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ledger {
    /// Per holder.
    pub holders: Vec<HolderLedger>,
}
