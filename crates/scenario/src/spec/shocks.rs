//! Shocks.

use schemars::JsonSchema;
use serde::Deserialize;

use super::numbers::{Days, Num};

/// A shock type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ShockName {
    /// One asset moves by `return`.
    Asset,
    /// Every asset with `tag` moves by `return`.
    Tag,
    /// Beta-scaled market move, optionally only assets with `tag`.
    Market,
    /// Discount-rate rise `delta`: price move −duration·delta, optionally only `tag`.
    DiscountRate,
    /// `usd` of `asset` the market must absorb.
    ExogenousSale,
    /// Maintenance margin up by `by` at `lender` (all lenders if omitted).
    MarginTightening,
    /// Investors withdraw `fraction` of `holder`'s NAV.
    Redemption,
}

impl ShockName {
    pub fn name(self) -> &'static str {
        match self {
            ShockName::Asset => "asset",
            ShockName::Tag => "tag",
            ShockName::Market => "market",
            ShockName::DiscountRate => "discount_rate",
            ShockName::ExogenousSale => "exogenous_sale",
            ShockName::MarginTightening => "margin_tightening",
            ShockName::Redemption => "redemption",
        }
    }
}

/// An exogenous event. Keys other than `type` and `source` belong to some types only.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShockSpec {
    /// The type of shock.
    #[serde(rename = "type")]
    pub kind: ShockName,
    /// asset, `exogenous_sale`: asset id.
    pub asset: Option<String>,
    /// tag (required), market, `discount_rate` (optional): asset tag.
    pub tag: Option<String>,
    /// asset, tag, market: return, a fraction (-0.10 = a 10% fall), ≥ -1.
    #[serde(rename = "return")]
    pub ret: Option<Num>,
    /// `discount_rate`: change in the discount rate (0.01 = +100 bp).
    pub delta: Option<Num>,
    /// `exogenous_sale`: USD sold at the pre-shock price (≥ 0).
    pub usd: Option<Num>,
    /// `margin_tightening`: lender id (omit for all lenders).
    pub lender: Option<String>,
    /// `margin_tightening`: rise in maintenance margin, in [0, 1].
    pub by: Option<Num>,
    /// redemption: fund or ETF id.
    pub holder: Option<String>,
    /// redemption: fraction of NAV withdrawn, in [0, 1].
    pub fraction: Option<Num>,
    /// Timeline: the trading day it happens on, from 0 (default 0).
    pub day: Option<Days>,
    /// Source id.
    pub source: Option<String>,
}
