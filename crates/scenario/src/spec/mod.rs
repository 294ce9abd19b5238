//! The scenario file format, as `serde` types: what the YAML says, before validation.
//!
//! These types are kept apart from the domain model (they *call* the graph's builder, see
//! `convert`). Every struct denies unknown keys. Kind-, law- and type-specific keys are
//! flat optional fields checked afterwards, so that a misplaced key gets a message naming
//! the kinds it belongs to, and every type error keeps its exact field path. A holder is one
//! flat mapping (`spec/holder.rs`); the structures only one holder kind has (a rule, LTV
//! buckets) are declared in that kind's module in `crate::kinds`.
//!
//! The doc comments of these types are the descriptions of the JSON Schema (`delever schema`).

mod assets;
mod engine;
mod expect;
mod holder;
mod lenders;
mod monte_carlo;
mod numbers;
mod shocks;
mod teach;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

pub(crate) use assets::{AssetSpec, ImpactSpec, LawName};
pub(crate) use engine::{EngineSpec, GltName, ModeName, SettlementName};
pub(crate) use expect::{
    BoundSpec, DayExpectSpec, ExpectSpec, StatusName, Statuses, TerminationName,
};
pub(crate) use holder::{
    CashUseName, HolderSpec, HoldingSpec, KindName, MarginSpec, OweSpec, SaleOrderName,
};
pub(crate) use lenders::LenderSpec;
pub(crate) use monte_carlo::{CorrelationSpec, DistName, MonteCarloSpec};
pub(crate) use numbers::{Days, Num, Whole};
pub(crate) use shocks::{ShockName, ShockSpec};
pub(crate) use teach::TeachSpec;

/// A scenario: a network of assets, holders and lenders, the shocks that hit it, engine
/// settings and (optionally) the results it is expected to give.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "delever scenario")]
pub(crate) struct ScenarioSpec {
    /// Scenario name; when loaded from a file it must equal the file's stem.
    pub name: String,
    /// What the scenario is about (non-empty).
    pub description: String,
    /// Date the figures refer to, ISO `YYYY-MM-DD`.
    pub as_of: String,
    /// Where the figures come from; `source:` fields elsewhere refer to these ids.
    #[serde(default)]
    pub sources: Vec<SourceSpec>,
    /// Assumptions the scenario makes, in plain words.
    #[serde(default)]
    pub assumptions: Vec<String>,
    /// Defaults for assets and holders that do not set their own.
    pub defaults: Option<DefaultsSpec>,
    /// Tradable assets (at least one).
    #[serde(default)]
    pub assets: Vec<AssetSpec>,
    /// Holders of assets.
    #[serde(default)]
    pub holders: Vec<HolderSpec>,
    /// Banks, funds, leveraged funds and margin accounts read from tables (CSV, Parquet or
    /// Arrow IPC files, one row a holder, their holdings in a second table), appended after
    /// `holders`.
    #[serde(default)]
    pub holder_tables: Vec<HolderTableSpec>,
    /// Brokers and prime brokers that lend on margin.
    #[serde(default)]
    pub lenders: Vec<LenderSpec>,
    /// Exogenous events applied before the cascade.
    #[serde(default)]
    pub shocks: Vec<ShockSpec>,
    /// Engine settings; every key defaults.
    pub engine: Option<EngineSpec>,
    /// Expected results, checked by `delever check`.
    pub expect: Option<ExpectSpec>,
    /// Variants of the scenario: the same network with other shocks, engine settings or
    /// impact laws, each with its own expected results.
    #[serde(default)]
    pub variants: Vec<VariantSpec>,
    /// The distribution `delever mc` draws asset shocks from.
    pub monte_carlo: Option<MonteCarloSpec>,
    /// Sliders for `delever serve` (spec/teach.rs).
    pub teach: Option<TeachSpec>,
}

/// A variant: the base scenario with some parts replaced.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VariantSpec {
    /// Name, unique among the variants: letters, digits, `-`, `_` and `.`.
    pub name: String,
    /// What the variant changes, in words.
    pub description: Option<String>,
    /// Shocks that replace the base's (the base's apply when omitted).
    pub shocks: Option<Vec<ShockSpec>>,
    /// Engine keys that override the base's (the others are inherited).
    pub engine: Option<EngineSpec>,
    /// Impact laws that replace some assets' laws: asset id → law.
    pub impact: Option<BTreeMap<String, ImpactSpec>>,
    /// The variant's expected results (the base's `expect` is not inherited).
    pub expect: Option<ExpectSpec>,
}

/// A table of holders and, optionally, a table of their holdings; paths relative to the
/// scenario file. Give both tables in one format: `holders_csv` with `holdings_csv`,
/// `holders_parquet` with `holdings_parquet`, or `holders_arrow` with `holdings_arrow`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolderTableSpec {
    /// CSV, one row per holder: `id`, `kind` and the holder keys as columns.
    pub holders_csv: Option<String>,
    /// CSV `holder,asset,shares,usd` (one of `shares` and `usd` per row).
    pub holdings_csv: Option<String>,
    /// The holders table as Parquet, instead of `holders_csv`.
    pub holders_parquet: Option<String>,
    /// The holdings table as Parquet, instead of `holdings_csv`.
    pub holdings_parquet: Option<String>,
    /// The holders table as an Arrow IPC file, instead of `holders_csv`.
    pub holders_arrow: Option<String>,
    /// The holdings table as an Arrow IPC file, instead of `holdings_csv`.
    pub holdings_arrow: Option<String>,
}

/// A cited source.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SourceSpec {
    /// Id that `source:` fields refer to.
    pub id: String,
    /// Title of the publication.
    pub title: String,
    /// Where to find it.
    pub url: Option<String>,
    /// Publication date, ISO `YYYY-MM-DD`.
    pub date: Option<String>,
}

/// Scenario-wide defaults.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DefaultsSpec {
    /// Impact law of assets that give none (built in: `square_root`, y = 0.7).
    pub impact: Option<ImpactSpec>,
    /// Cure rate of margin holders that give none (built in: 0).
    pub cure_rate: Option<Num>,
    /// Timeline: days to meet a margin call, for holders that give none (built in: 2 for
    /// retail accounts, cohorts and books, 1 for funds and banks on prime-broker margin).
    pub cure_days: Option<Days>,
    /// Timeline: days between a fund's return and the redemptions it draws, for funds
    /// that give none (built in: 1).
    pub redemption_lag_days: Option<Days>,
}
