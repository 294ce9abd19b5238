//! Assets and their price impact.

use schemars::JsonSchema;
use serde::Deserialize;

use super::numbers::Num;

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
