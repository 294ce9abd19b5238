//! The scenario file format, as `serde` types: what the YAML says, before validation.
//!
//! These types are kept apart from the domain model (they *call* the graph's builder, see
//! `convert`). Every struct denies unknown keys. Kind-, law- and type-specific keys are
//! flat optional fields checked afterwards, so that a misplaced key gets a message naming
//! the kinds it belongs to, and every type error keeps its exact field path.
//!
//! The doc comments here are the descriptions of the JSON Schema (`delever schema`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::kinds::{BucketSpec, RuleSpec};

/// A finite number: `.nan`, `.inf` and `-.inf` are refused where they are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Num(pub f64);

fn yaml_float(v: f64) -> &'static str {
    if v.is_nan() {
        ".nan"
    } else if v > 0.0 {
        ".inf"
    } else {
        "-.inf"
    }
}

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v.is_finite() {
            Ok(Num(v))
        } else {
            Err(de::Error::custom(format!(
                "expected a finite number, found {}",
                yaml_float(v)
            )))
        }
    }
}

impl JsonSchema for Num {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "FiniteNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number", "description": "A finite number (no .nan or .inf)." })
    }
}

/// A whole number as written, kept wide so that a value beyond a field's range (or beyond
/// any integer type, `18446744073709551616`) is reported against that field's own limits
/// rather than as a type error. An integral float (`1.2e6`) is a whole number too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Whole {
    /// The number, saturated to the range of `i128`.
    pub value: i128,
    /// The float it was written as (`1e300`), for messages.
    pub float: Option<f64>,
}

impl Whole {
    fn int(value: i128) -> Whole {
        Whole { value, float: None }
    }
}

impl fmt::Display for Whole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.float {
            Some(x) => f.write_str(&crate::limits::show(x)),
            None => write!(f, "{}", self.value),
        }
    }
}

/// A count of days as written (`cure_days`, a shock's `day`, `engine.days`): a whole
/// number ≥ 0, kept wide like [`Whole`] so that a value out of range is reported against
/// the field's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Days(pub i128);

impl<'de> Deserialize<'de> for Days {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor("a whole number of days ≥ 0"))
            .map(|w| Days(w.value))
    }
}

impl JsonSchema for Days {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "Days".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 0, "description": "A whole number of trading days ≥ 0." })
    }
}

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(WholeVisitor("a whole number ≥ 1"))
    }
}

/// Reads a whole number (or an integral float); the text says what was expected.
struct WholeVisitor(&'static str);

impl Visitor<'_> for WholeVisitor {
    type Value = Whole;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Whole, E> {
        Ok(Whole::int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Whole, E> {
        Ok(Whole::int(i128::from(v)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Whole, E> {
        Ok(Whole::int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Whole, E> {
        Ok(Whole::int(i128::try_from(v).unwrap_or(i128::MAX)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Whole, E> {
        if v.is_finite() && v.fract() == 0.0 {
            // Saturating: only the range check reads values this large.
            Ok(Whole {
                value: v as i128,
                float: Some(v),
            })
        } else if v.is_finite() {
            Err(E::invalid_type(de::Unexpected::Float(v), &self))
        } else {
            Err(E::custom(format!(
                "expected a finite number, found {}",
                yaml_float(v)
            )))
        }
    }
}

impl JsonSchema for Whole {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "WholeNumber".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "integer", "minimum": 1, "description": "A whole number ≥ 1." })
    }
}

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
}

/// The `monte_carlo:` block: correlated random log-returns of the assets, drawn by
/// `delever mc` in place of (or on top of) the scenario's price shocks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonteCarloSpec {
    /// The distribution of the draws: `{ type: normal }` or `{ type: student_t, dof: 4 }`.
    pub distribution: DistributionSpec,
    /// Horizon of the drawn returns, in trading days (> 0; default 1): vols scale by
    /// √horizon, means by horizon.
    pub horizon_days: Option<Num>,
    /// The assets drawn, with their vols and means (default: every asset, with its own
    /// `daily_vol` and mean 0).
    pub assets: Option<Vec<McAssetSpec>>,
    /// Correlation of the draws: one number for every pair (default 0), or
    /// `{ matrix: [[1, ρ], [ρ, 1]] }` in the order of `assets`.
    pub correlation: Option<CorrelationSpec>,
    /// Apply the scenario's own price shocks as well as the draw (default false: the draw
    /// replaces them; other shocks are kept either way).
    pub scenario_shocks: Option<bool>,
    /// Source id of the parameters.
    pub source: Option<String>,
}

/// A distribution name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DistName {
    /// Gaussian log-returns.
    Normal,
    /// Student-t log-returns (fat tails), with `dof` degrees of freedom.
    StudentT,
}

/// The distribution of the draws.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistributionSpec {
    /// `normal` or `student_t`.
    #[serde(rename = "type")]
    pub kind: DistName,
    /// `student_t` (required): degrees of freedom, > 2 (e.g. 4 for daily equity returns).
    pub dof: Option<Num>,
}

/// One asset drawn.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct McAssetSpec {
    /// Asset id.
    pub asset: String,
    /// Daily volatility of the log-return (≥ 0; default: the asset's `daily_vol`).
    pub daily_vol: Option<Num>,
    /// Mean daily log-return (default 0).
    pub daily_mean: Option<Num>,
}

/// A correlation: one number for every pair, or a full matrix.
#[derive(Debug)]
pub(crate) enum CorrelationSpec {
    /// The same correlation for every pair, in [−1, 1].
    Uniform(Num),
    /// The matrix, rows in the order of the drawn assets.
    Matrix(Vec<Vec<Num>>),
}

/// `{ matrix: [[…], …] }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixSpec {
    matrix: Vec<Vec<Num>>,
}

impl<'de> Deserialize<'de> for CorrelationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CorrelationSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a correlation (a number in [-1, 1]) or `{ matrix: [[…], …] }`")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CorrelationSpec, E> {
                if v.is_finite() {
                    Ok(CorrelationSpec::Uniform(Num(v)))
                } else {
                    Err(E::custom(format!(
                        "expected a finite number, found {}",
                        yaml_float(v)
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CorrelationSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CorrelationSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CorrelationSpec, A::Error> {
                let m = MatrixSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(CorrelationSpec::Matrix(m.matrix))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for CorrelationSpec {
    fn schema_name() -> Cow<'static, str> {
        "Correlation".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "One correlation for every pair of drawn assets, in [-1, 1], or `{ matrix: [[1, ρ], [ρ, 1]] }` in the order of `assets` (symmetric, unit diagonal, positive semidefinite).",
            "anyOf": [
                { "type": "number", "minimum": -1, "maximum": 1 },
                {
                    "type": "object",
                    "properties": {
                        "matrix": {
                            "type": "array",
                            "items": { "type": "array", "items": { "type": "number" } }
                        }
                    },
                    "required": ["matrix"],
                    "additionalProperties": false
                }
            ]
        })
    }
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

/// An impact law name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LawName {
    /// Δp/p = −`per_usd` · Q (Greenwood–Landier–Thesmar).
    Linear,
    /// p = p₀·exp(−alpha·x), x the fraction of shares outstanding sold.
    Exponential,
    /// Δp/p = −y · σ · √(Q / ADV).
    SquareRoot,
    /// Cont–Schaanning bounded impact with a floor price.
    ContSchaanning,
}

impl LawName {
    pub fn name(self) -> &'static str {
        match self {
            LawName::Linear => "linear",
            LawName::Exponential => "exponential",
            LawName::SquareRoot => "square_root",
            LawName::ContSchaanning => "cont_schaanning",
        }
    }
}

/// How forced sales move an asset's price. Keys other than `law` belong to one law each.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImpactSpec {
    /// The law.
    pub law: LawName,
    /// linear: price impact per dollar sold (GLT: 1e-13). Required for `linear`.
    pub per_usd: Option<Num>,
    /// exponential: α (default −ln 0.9 / 0.1 ≈ 1.0536: selling 10% of shares cuts 10%).
    pub alpha: Option<Num>,
    /// `square_root`: prefactor Y (default 0.7).
    pub y: Option<Num>,
    /// `cont_schaanning`: depth constant c (default 0.4).
    pub c: Option<Num>,
    /// `cont_schaanning`: liquidation horizon in days (default 20).
    pub tau_days: Option<Num>,
    /// `cont_schaanning`: floor as a fraction of the pre-impact price (default 0.5).
    pub floor: Option<Num>,
    /// Timeline: how the impact splits between a permanent part and transient parts that
    /// decay over days (default: all permanent).
    pub decay: Option<DecaySpec>,
}

/// How impact decays over the days of a timeline: a permanent share, and the rest in one
/// transient part (`half_life_days`) or several (`transient`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DecaySpec {
    /// Share of impact that never reverts, in [0, 1].
    pub permanent: Num,
    /// Half-life, in trading days, of the rest (one transient part).
    pub half_life_days: Option<Num>,
    /// Several transient parts, whose shares sum with `permanent` to 1.
    pub transient: Option<Vec<TransientSpec>>,
}

/// One transient part of impact.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransientSpec {
    /// Share of the impact, in (0, 1].
    pub share: Num,
    /// Half-life in trading days (> 0).
    pub half_life_days: Num,
}

/// A tradable asset.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssetSpec {
    /// Unique id (ticker).
    pub id: String,
    /// Pre-shock price, USD per share (> 0).
    pub price: Num,
    /// Shares outstanding (> 0).
    pub shares_outstanding: Num,
    /// Average daily volume, USD (≥ 0; > 0 for `square_root` and `cont_schaanning`). Default 0.
    pub adv_usd: Option<Num>,
    /// Daily return volatility, a fraction (e.g. 0.025). Default 0.
    pub daily_vol: Option<Num>,
    /// Market beta for `market` shocks. Default 1.
    pub beta: Option<Num>,
    /// Cash-flow duration in years for `discount_rate` shocks. Default 0.
    pub duration: Option<Num>,
    /// Tags that shocks select assets by.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Impact law (default: `defaults.impact`, else `square_root` y = 0.7).
    pub impact: Option<ImpactSpec>,
    /// Source id.
    pub source: Option<String>,
}

/// A holder kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum KindName {
    /// One retail margin account.
    MarginAccount,
    /// Many margin accounts with a loan-to-value distribution.
    MarginCohort,
    /// Explicit accounts from CSV files.
    AccountBook,
    /// A daily-rebalanced leveraged or inverse ETF.
    LeveragedEtf,
    /// A hedge fund on prime-broker margin.
    LeveragedFund,
    /// A bank of the textbook models.
    Bank,
    /// An unlevered fund facing redemptions.
    Fund,
}

impl KindName {
    pub fn name(self) -> &'static str {
        match self {
            KindName::MarginAccount => "margin_account",
            KindName::MarginCohort => "margin_cohort",
            KindName::AccountBook => "account_book",
            KindName::LeveragedEtf => "leveraged_etf",
            KindName::LeveragedFund => "leveraged_fund",
            KindName::Bank => "bank",
            KindName::Fund => "fund",
        }
    }
}

impl fmt::Display for KindName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How a holder spreads a sale over its positions.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SaleOrderName {
    /// The same fraction of every position.
    ProRata,
    /// Largest ADV first.
    MostLiquidFirst,
}

/// How a deleveraging holder uses its cash.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CashUseName {
    /// Pay down liabilities with cash before selling.
    First,
    /// Cash is reduced pro rata with the positions (GLT).
    ProRata,
    /// Keep cash; sell for every need.
    Never,
}

/// A holder of assets. Keys marked with kinds belong to those kinds only.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HolderSpec {
    /// Unique id.
    pub id: String,
    /// Kind of holder.
    pub kind: KindName,
    /// Cash, USD (default 0).
    pub cash: Option<Num>,
    /// Illiquid assets at book value, USD (default 0).
    pub other_assets: Option<Num>,
    /// Other liabilities (deposits, bonds), USD (default 0).
    pub other_liabilities: Option<Num>,
    /// Default `pro_rata`.
    pub sale_order: Option<SaleOrderName>,
    /// Default first.
    pub cash_use: Option<CashUseName>,
    /// The holder starts with equity ≤ 0 on purpose (default false).
    pub starts_insolvent: Option<bool>,
    /// Free-form tags.
    pub tags: Option<Vec<String>>,
    /// Source id.
    pub source: Option<String>,
    /// bank, `leveraged_fund`: insolvent (defaults and sells everything) when
    /// equity/assets falls below this fraction, e.g. 0.03; below the rule's acting ratio.
    pub default_below_ratio: Option<Num>,
    /// Positions (not for `leveraged_etf` or `account_book`).
    pub holdings: Option<Vec<HoldingSpec>>,
    /// Margin loan (not for `leveraged_etf`).
    pub margin: Option<MarginSpec>,
    /// Interbank obligations of this holder.
    pub owes: Option<Vec<OweSpec>>,
    /// `margin_account`, `margin_cohort`, `account_book`: share of calls met with cash, [0, 1].
    pub cure_rate: Option<Num>,
    /// `margin_cohort` (required): number of accounts the cohort stands for (≥ 1).
    pub accounts: Option<Whole>,
    /// `margin_cohort` (required): loan-to-value buckets; shares sum to 1.
    pub ltv_buckets: Option<Vec<BucketSpec>>,
    /// `account_book` (required): CSV `account,cash,loan`, relative to the scenario file.
    pub accounts_csv: Option<String>,
    /// `account_book` (required): CSV `account,asset,shares`, grouped by account in
    /// `accounts_csv` order.
    pub holdings_csv: Option<String>,
    /// `leveraged_etf` (required): leverage multiple (3, 2, -1, -3, …).
    pub multiple: Option<Num>,
    /// `leveraged_etf` (required): net asset value at the reference close, USD.
    pub nav: Option<Num>,
    /// `leveraged_etf` (required): asset id → weight; weights sum to 1.
    pub basket: Option<BTreeMap<String, Num>>,
    /// bank, `leveraged_fund` (required): deleveraging rule.
    pub rule: Option<RuleSpec>,
    /// fund: outflow per unit of relative NAV loss (default 0).
    pub redemption_beta: Option<Num>,
    /// Timeline: trading days to meet a margin call before it is acted on (default 2 for
    /// margin accounts, cohorts and books, 1 for others on margin).
    pub cure_days: Option<Days>,
    /// Timeline: most it sells of one asset in a day, as a fraction of ADV, in (0, 1]
    /// (default: no cap). Not for cohorts, books or ETFs.
    pub participation: Option<Num>,
    /// Timeline, fund: trading days between a return and the redemptions it draws
    /// (default 1).
    pub redemption_lag_days: Option<Days>,
}

impl HolderSpec {
    /// Whether the holder writes `key`, one of the keys that some kinds only take.
    pub fn has(&self, key: &str) -> bool {
        match key {
            "cure_rate" => self.cure_rate.is_some(),
            "accounts" => self.accounts.is_some(),
            "ltv_buckets" => self.ltv_buckets.is_some(),
            "accounts_csv" => self.accounts_csv.is_some(),
            "holdings_csv" => self.holdings_csv.is_some(),
            "multiple" => self.multiple.is_some(),
            "nav" => self.nav.is_some(),
            "basket" => self.basket.is_some(),
            "rule" => self.rule.is_some(),
            "default_below_ratio" => self.default_below_ratio.is_some(),
            "redemption_beta" => self.redemption_beta.is_some(),
            "redemption_lag_days" => self.redemption_lag_days.is_some(),
            "cure_days" => self.cure_days.is_some(),
            "participation" => self.participation.is_some(),
            "holdings" => self.holdings.is_some(),
            "margin" => self.margin.is_some(),
            _ => false,
        }
    }
}

/// One position: exactly one of `shares` and `usd`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HoldingSpec {
    /// Asset id.
    pub asset: String,
    /// Number of shares (≥ 0).
    pub shares: Option<Num>,
    /// Position value in USD at the asset's price (≥ 0).
    pub usd: Option<Num>,
}

/// A margin loan from a lender.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarginSpec {
    /// Lender id.
    pub lender: String,
    /// Loan (debit balance), USD. Required, except for `margin_cohort` and `account_book`,
    /// whose loan is derived.
    pub loan: Option<Num>,
    /// Maintenance margin, a fraction in (0, 1].
    pub maintenance: Num,
    /// Equity fraction a called account is restored to, in [maintenance, 1] (default:
    /// maintenance).
    pub reset: Option<Num>,
}

/// An interbank obligation.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OweSpec {
    /// Holder or lender id owed.
    pub creditor: String,
    /// Face value, USD (≥ 0).
    pub amount: Num,
}

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
    /// Also compute the least fixed point (default true).
    pub least_fixed_point: Option<bool>,
}

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
