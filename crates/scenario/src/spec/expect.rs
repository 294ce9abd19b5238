//! `expect:` blocks: bounds on a run's results.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::numbers::{Days, Num};

/// How a run may stop.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum TerminationName {
    /// No price moved by more than the tolerance.
    Converged,
    /// The round limit was reached.
    MaxRounds,
}

/// A holder's final status.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum StatusName {
    /// Did not trade.
    Unaffected,
    /// Sold under its rule.
    Sold,
    /// Bought.
    Bought,
    /// Received a margin call.
    MarginCall,
    /// Sold everything, equity still positive.
    Liquidated,
    /// Equity ≤ 0 at the end.
    Defaulted,
}

/// One status or a list of accepted statuses.
#[derive(Debug)]
pub(crate) struct Statuses(pub Vec<StatusName>);

impl<'de> Deserialize<'de> for Statuses {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Statuses;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a status or a list of statuses")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Statuses, E> {
                let one = StatusName::deserialize(de::value::StrDeserializer::<E>::new(s))?;
                Ok(Statuses(vec![one]))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Statuses, A::Error> {
                let mut out = Vec::new();
                while let Some(s) = seq.next_element::<StatusName>()? {
                    out.push(s);
                }
                Ok(Statuses(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Statuses {
    fn schema_name() -> Cow<'static, str> {
        "Statuses".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let one = generator.subschema_for::<StatusName>();
        json_schema!({
            "description": "A status, or a list of statuses any of which is accepted.",
            "anyOf": [one, { "type": "array", "items": one, "minItems": 1 }]
        })
    }
}

/// A bound on a number: `{min, max}` (either or both), `{approx, rel_tol?, abs_tol?}` or
/// `{equals}`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BoundSpec {
    /// Lowest accepted value.
    pub min: Option<Num>,
    /// Highest accepted value.
    pub max: Option<Num>,
    /// Expected value, within `rel_tol` (default 1e-6) or `abs_tol` (default 0).
    pub approx: Option<Num>,
    /// Relative tolerance of `approx` (≥ 0).
    pub rel_tol: Option<Num>,
    /// Absolute tolerance of `approx` (≥ 0).
    pub abs_tol: Option<Num>,
    /// Exact expected value.
    pub equals: Option<Num>,
}

/// Expected results of a run.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectSpec {
    /// How the run must stop.
    pub termination: Option<TerminationName>,
    /// Bounds on the report's totals.
    pub totals: Option<TotalsExpectSpec>,
    /// Bounds per asset id.
    pub assets: Option<BTreeMap<String, AssetExpectSpec>>,
    /// Bounds per holder id.
    pub holders: Option<BTreeMap<String, HolderExpectSpec>>,
    /// Timeline: bounds on single days (`days[]` of the report).
    pub days: Option<Vec<DayExpectSpec>>,
}

/// Bounds on one day of a timeline.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayExpectSpec {
    /// The day, from 0.
    pub day: Days,
    /// Bounds on the day's totals.
    pub totals: Option<DayTotalsExpectSpec>,
    /// Bounds per asset id.
    pub assets: Option<BTreeMap<String, DayAssetExpectSpec>>,
    /// Bounds per holder id.
    pub holders: Option<BTreeMap<String, DayHolderExpectSpec>>,
}

/// Bounds on a day's totals (the keys of `days[]`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayTotalsExpectSpec {
    pub sales_usd: Option<BoundSpec>,
    pub exogenous_sales_usd: Option<BoundSpec>,
    pub price_index: Option<BoundSpec>,
    pub new_calls: Option<BoundSpec>,
    pub open_calls: Option<BoundSpec>,
    pub liquidations: Option<BoundSpec>,
    pub new_defaults: Option<BoundSpec>,
    /// All lenders' losses at the day's close.
    pub lender_losses_usd: Option<BoundSpec>,
}

/// Bounds on one asset's day (the keys of `days[].assets[]`, and `return`: the close over
/// the previous close, less 1, and `drawdown`: the close over the pre-shock price, less 1).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayAssetExpectSpec {
    pub open: Option<BoundSpec>,
    pub close: Option<BoundSpec>,
    pub fundamental: Option<BoundSpec>,
    #[serde(rename = "return")]
    pub ret: Option<BoundSpec>,
    pub drawdown: Option<BoundSpec>,
    pub permanent_impact: Option<BoundSpec>,
    pub transient_impact: Option<BoundSpec>,
    pub sales_shares: Option<BoundSpec>,
    pub sales_usd: Option<BoundSpec>,
}

/// Bounds on one holder's day (the keys of `days[].holders[]`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DayHolderExpectSpec {
    /// Accepted statuses that day.
    pub status: Option<Statuses>,
    pub sales_usd: Option<BoundSpec>,
    pub equity: Option<BoundSpec>,
    pub lender_loss_usd: Option<BoundSpec>,
    pub open_calls: Option<BoundSpec>,
}

/// Bounds on the report's `totals` (same keys).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TotalsExpectSpec {
    pub initial_loss_usd: Option<BoundSpec>,
    pub total_loss_usd: Option<BoundSpec>,
    pub amplification: Option<BoundSpec>,
    pub forced_sales_usd: Option<BoundSpec>,
    pub exogenous_sales_usd: Option<BoundSpec>,
    pub defaults: Option<BoundSpec>,
    pub margin_calls: Option<BoundSpec>,
    pub lender_losses_usd: Option<BoundSpec>,
    pub cash_cures_usd: Option<BoundSpec>,
}

/// Bounds on one asset's report row (same keys).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetExpectSpec {
    pub price_shocked: Option<BoundSpec>,
    pub price_after: Option<BoundSpec>,
    pub drawdown: Option<BoundSpec>,
    pub forced_sales_shares: Option<BoundSpec>,
    pub forced_sales_usd: Option<BoundSpec>,
}

/// Expectations on one holder's report row (same keys).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolderExpectSpec {
    /// Accepted final status(es).
    pub status: Option<Statuses>,
    pub equity_before: Option<BoundSpec>,
    pub equity_after: Option<BoundSpec>,
    pub sales_usd: Option<BoundSpec>,
    pub lender_loss_usd: Option<BoundSpec>,
}
