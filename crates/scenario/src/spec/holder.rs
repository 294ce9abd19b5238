//! Holders: one flat mapping per holder, its `kind:` saying which of the kind-specific keys
//! apply (each kind's module in `crate::kinds` owns them), and the edges a holder writes.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::Deserialize;

use super::numbers::{Days, Num, Whole};
use crate::kinds::{BucketSpec, GammaSpec, LookbackSpec, MarketSpec, OptionSpec, RuleSpec};

/// A `basket` whose asset ids are all different. The index refuses a repeated key before
/// serde reads a text, but a large scenario's holders are read in slices that the index
/// does not see (`yaml::split`), and serde's own map would keep the last weight. The
/// error sends such a text back to the whole reading, where the index words it.
fn unique_keys<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, Num>>, D::Error> {
    struct Unique(BTreeMap<String, Num>);
    impl<'de> Deserialize<'de> for Unique {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Entries;
            impl<'de> serde::de::Visitor<'de> for Entries {
                type Value = BTreeMap<String, Num>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a map")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut out = BTreeMap::new();
                    while let Some((k, v)) = map.next_entry::<String, Num>()? {
                        if out.contains_key(&k) {
                            return Err(serde::de::Error::custom(format!("duplicate key `{k}`")));
                        }
                        out.insert(k, v);
                    }
                    Ok(out)
                }
            }
            d.deserialize_map(Entries).map(Unique)
        }
    }
    Option::<Unique>::deserialize(d).map(|u| u.map(|u| u.0))
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
    /// An options dealer delta-hedging its option book.
    OptionsDealer,
    /// A volatility-targeting (or risk-parity) fund.
    VolTarget,
    /// A trend follower (CTA).
    TrendFollower,
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
            KindName::OptionsDealer => "options_dealer",
            KindName::VolTarget => "vol_target",
            KindName::TrendFollower => "trend_follower",
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

// The format's holder, as written: every key. It is read into a [`HolderSpec`], which keeps
// the keys of the rarer kinds boxed aside, and is what the schema calls `HolderSpec` (its
// doc line below is the schema's description).
/// A holder of assets. Keys marked with kinds belong to those kinds only.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "HolderSpec")]
pub(crate) struct HolderYaml {
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
    /// Positions (not for `leveraged_etf`, `account_book`, `options_dealer` or
    /// `trend_follower`).
    pub holdings: Option<Vec<HoldingSpec>>,
    /// Margin loan (not for `leveraged_etf`, `options_dealer` or `trend_follower`).
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
    /// `account_book`: the accounts table as Parquet (`account`, `cash`, `loan` columns),
    /// instead of `accounts_csv`.
    pub accounts_parquet: Option<String>,
    /// `account_book`: the holdings table as Parquet (`account`, `asset`, `shares`).
    pub holdings_parquet: Option<String>,
    /// `account_book`: the accounts table as an Arrow IPC file, instead of `accounts_csv`.
    pub accounts_arrow: Option<String>,
    /// `account_book`: the holdings table as an Arrow IPC file.
    pub holdings_arrow: Option<String>,
    /// `leveraged_etf` (required): leverage multiple (3, 2, -1, -3, …).
    pub multiple: Option<Num>,
    /// `leveraged_etf` (required): net asset value at the reference close, USD.
    pub nav: Option<Num>,
    /// `leveraged_etf` (required): asset id → weight; weights sum to 1.
    #[serde(default, deserialize_with = "unique_keys")]
    pub basket: Option<BTreeMap<String, Num>>,
    /// `leveraged_etf`: its shares outstanding at the reference close (needed for margin
    /// accounts and cohorts to hold its shares; NAV per share is `nav / shares_outstanding`).
    pub shares_outstanding: Option<Num>,
    /// bank, `leveraged_fund` (required): deleveraging rule.
    pub rule: Option<RuleSpec>,
    /// fund: outflow per unit of relative NAV loss (default 0).
    pub redemption_beta: Option<Num>,
    /// `options_dealer`: option lines, each delta-hedged (at least one of `options` and
    /// `gamma`).
    pub options: Option<Vec<OptionSpec>>,
    /// `options_dealer`: dollar gamma per asset, signed as the dealer's gamma.
    pub gamma: Option<Vec<GammaSpec>>,
    /// `vol_target` (required): target volatility, annual, in (0, 5].
    pub target_vol: Option<Num>,
    /// `vol_target` (required): realised-volatility estimate at the reference close,
    /// annual, in (0, 5].
    pub realised_vol: Option<Num>,
    /// `vol_target`: half-life of the EWMA of squared returns, trading days (default 20).
    pub half_life_days: Option<Num>,
    /// `vol_target`: cap on exposure / NAV, in (0, 10] (default 2).
    pub max_leverage: Option<Num>,
    /// `vol_target`: no trade while the target exposure is within this fraction of the
    /// current one, in [0, 1) (default 0).
    pub band: Option<Num>,
    /// Timeline, `vol_target` (default 1) and `trend_follower` (default 0): trading days
    /// between a close and the trade on it.
    pub lag_days: Option<Days>,
    /// `trend_follower` (required): the lookbacks of its signal.
    pub lookbacks: Option<Vec<LookbackSpec>>,
    /// `trend_follower` (required): the markets it trades.
    pub markets: Option<Vec<MarketSpec>>,
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

/// A holder as the conversion reads it: the keys most holders have in place, and the keys
/// of the rarer kinds (cohorts, books, ETFs, dealers, vol-target funds, trend followers)
/// boxed aside, absent when none is given. A holder table of 100,000 banks keeps 100,000 of
/// these: with every key in place one was 912 bytes, and every pass over the holders read
/// them all (issue 15). Read from YAML through [`HolderYaml`]; each field is the key of
/// the same name there, documented with it.
#[derive(Debug, Deserialize)]
#[serde(from = "HolderYaml")]
pub(crate) struct HolderSpec {
    pub id: String,
    pub kind: KindName,
    pub cash: Option<Num>,
    pub other_assets: Option<Num>,
    pub other_liabilities: Option<Num>,
    pub sale_order: Option<SaleOrderName>,
    pub cash_use: Option<CashUseName>,
    pub starts_insolvent: Option<bool>,
    pub tags: Option<Vec<String>>,
    pub source: Option<String>,
    pub default_below_ratio: Option<Num>,
    pub holdings: Option<Vec<HoldingSpec>>,
    pub margin: Option<MarginSpec>,
    pub owes: Option<Vec<OweSpec>>,
    pub cure_rate: Option<Num>,
    pub rule: Option<RuleSpec>,
    pub redemption_beta: Option<Num>,
    pub cure_days: Option<Days>,
    pub participation: Option<Num>,
    pub redemption_lag_days: Option<Days>,
    /// The keys of the rarer kinds, when any is given.
    pub rare: Option<Box<HolderRare>>,
}

/// The keys of a [`HolderSpec`] that only the rarer kinds take (each documented in
/// [`HolderYaml`]).
#[derive(Debug, Default)]
pub(crate) struct HolderRare {
    pub accounts: Option<Whole>,
    pub ltv_buckets: Option<Vec<BucketSpec>>,
    pub accounts_csv: Option<String>,
    pub holdings_csv: Option<String>,
    pub accounts_parquet: Option<String>,
    pub holdings_parquet: Option<String>,
    pub accounts_arrow: Option<String>,
    pub holdings_arrow: Option<String>,
    pub multiple: Option<Num>,
    pub nav: Option<Num>,
    pub basket: Option<BTreeMap<String, Num>>,
    pub shares_outstanding: Option<Num>,
    pub options: Option<Vec<OptionSpec>>,
    pub gamma: Option<Vec<GammaSpec>>,
    pub target_vol: Option<Num>,
    pub realised_vol: Option<Num>,
    pub half_life_days: Option<Num>,
    pub max_leverage: Option<Num>,
    pub band: Option<Num>,
    pub lag_days: Option<Days>,
    pub lookbacks: Option<Vec<LookbackSpec>>,
    pub markets: Option<Vec<MarketSpec>>,
}

/// No rare key given.
static NO_RARE: HolderRare = HolderRare {
    accounts: None,
    ltv_buckets: None,
    accounts_csv: None,
    holdings_csv: None,
    accounts_parquet: None,
    holdings_parquet: None,
    accounts_arrow: None,
    holdings_arrow: None,
    multiple: None,
    nav: None,
    basket: None,
    shares_outstanding: None,
    options: None,
    gamma: None,
    target_vol: None,
    realised_vol: None,
    half_life_days: None,
    max_leverage: None,
    band: None,
    lag_days: None,
    lookbacks: None,
    markets: None,
};

impl From<HolderYaml> for HolderSpec {
    fn from(h: HolderYaml) -> Self {
        let rare = HolderRare {
            accounts: h.accounts,
            ltv_buckets: h.ltv_buckets,
            accounts_csv: h.accounts_csv,
            holdings_csv: h.holdings_csv,
            accounts_parquet: h.accounts_parquet,
            holdings_parquet: h.holdings_parquet,
            accounts_arrow: h.accounts_arrow,
            holdings_arrow: h.holdings_arrow,
            multiple: h.multiple,
            nav: h.nav,
            basket: h.basket,
            shares_outstanding: h.shares_outstanding,
            options: h.options,
            gamma: h.gamma,
            target_vol: h.target_vol,
            realised_vol: h.realised_vol,
            half_life_days: h.half_life_days,
            max_leverage: h.max_leverage,
            band: h.band,
            lag_days: h.lag_days,
            lookbacks: h.lookbacks,
            markets: h.markets,
        };
        HolderSpec {
            id: h.id,
            kind: h.kind,
            cash: h.cash,
            other_assets: h.other_assets,
            other_liabilities: h.other_liabilities,
            sale_order: h.sale_order,
            cash_use: h.cash_use,
            starts_insolvent: h.starts_insolvent,
            tags: h.tags,
            source: h.source,
            default_below_ratio: h.default_below_ratio,
            holdings: h.holdings,
            margin: h.margin,
            owes: h.owes,
            cure_rate: h.cure_rate,
            rule: h.rule,
            redemption_beta: h.redemption_beta,
            cure_days: h.cure_days,
            participation: h.participation,
            redemption_lag_days: h.redemption_lag_days,
            rare: rare.any().then(|| Box::new(rare)),
        }
    }
}

impl HolderRare {
    /// Whether any key is given.
    fn any(&self) -> bool {
        let HolderRare {
            accounts,
            ltv_buckets,
            accounts_csv,
            holdings_csv,
            accounts_parquet,
            holdings_parquet,
            accounts_arrow,
            holdings_arrow,
            multiple,
            nav,
            basket,
            shares_outstanding,
            options,
            gamma,
            target_vol,
            realised_vol,
            half_life_days,
            max_leverage,
            band,
            lag_days,
            lookbacks,
            markets,
        } = self;
        [
            accounts.is_some(),
            ltv_buckets.is_some(),
            accounts_csv.is_some(),
            holdings_csv.is_some(),
            accounts_parquet.is_some(),
            holdings_parquet.is_some(),
            accounts_arrow.is_some(),
            holdings_arrow.is_some(),
            multiple.is_some(),
            nav.is_some(),
            basket.is_some(),
            shares_outstanding.is_some(),
            options.is_some(),
            gamma.is_some(),
            target_vol.is_some(),
            realised_vol.is_some(),
            half_life_days.is_some(),
            max_leverage.is_some(),
            band.is_some(),
            lag_days.is_some(),
            lookbacks.is_some(),
            markets.is_some(),
        ]
        .into_iter()
        .any(|given| given)
    }
}

// The schema of a holder is the format's: every key, as written.
impl JsonSchema for HolderSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        HolderYaml::schema_name()
    }
    fn schema_id() -> std::borrow::Cow<'static, str> {
        HolderYaml::schema_id()
    }
    fn inline_schema() -> bool {
        HolderYaml::inline_schema()
    }
    fn json_schema(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
        HolderYaml::json_schema(g)
    }
}

impl HolderSpec {
    /// The keys of the rarer kinds (all absent when none is given).
    pub fn rare(&self) -> &HolderRare {
        self.rare.as_deref().unwrap_or(&NO_RARE)
    }

    /// Whether the holder writes `key`, one of the keys that some kinds only take.
    pub fn has(&self, key: &str) -> bool {
        Self::presence(key).is_some_and(|f| f(self))
    }

    /// The test of whether a holder has `key` (`None`: a key [`HolderSpec::has`] does not
    /// know); resolved once, it spares a key-name match per holder.
    pub fn presence(key: &str) -> Option<fn(&HolderSpec) -> bool> {
        let f: fn(&HolderSpec) -> bool = match key {
            "cure_rate" => |h| h.cure_rate.is_some(),
            "accounts" => |h| h.rare().accounts.is_some(),
            "ltv_buckets" => |h| h.rare().ltv_buckets.is_some(),
            "accounts_csv" => |h| h.rare().accounts_csv.is_some(),
            "holdings_csv" => |h| h.rare().holdings_csv.is_some(),
            "accounts_parquet" => |h| h.rare().accounts_parquet.is_some(),
            "holdings_parquet" => |h| h.rare().holdings_parquet.is_some(),
            "accounts_arrow" => |h| h.rare().accounts_arrow.is_some(),
            "holdings_arrow" => |h| h.rare().holdings_arrow.is_some(),
            "multiple" => |h| h.rare().multiple.is_some(),
            "nav" => |h| h.rare().nav.is_some(),
            "basket" => |h| h.rare().basket.is_some(),
            "shares_outstanding" => |h| h.rare().shares_outstanding.is_some(),
            "rule" => |h| h.rule.is_some(),
            "default_below_ratio" => |h| h.default_below_ratio.is_some(),
            "redemption_beta" => |h| h.redemption_beta.is_some(),
            "redemption_lag_days" => |h| h.redemption_lag_days.is_some(),
            "cure_days" => |h| h.cure_days.is_some(),
            "participation" => |h| h.participation.is_some(),
            "holdings" => |h| h.holdings.is_some(),
            "margin" => |h| h.margin.is_some(),
            "options" => |h| h.rare().options.is_some(),
            "gamma" => |h| h.rare().gamma.is_some(),
            "target_vol" => |h| h.rare().target_vol.is_some(),
            "realised_vol" => |h| h.rare().realised_vol.is_some(),
            "half_life_days" => |h| h.rare().half_life_days.is_some(),
            "max_leverage" => |h| h.rare().max_leverage.is_some(),
            "band" => |h| h.rare().band.is_some(),
            "lag_days" => |h| h.rare().lag_days.is_some(),
            "lookbacks" => |h| h.rare().lookbacks.is_some(),
            "markets" => |h| h.rare().markets.is_some(),
            _ => return None,
        };
        Some(f)
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

#[cfg(test)]
mod tests {
    use super::HolderSpec;

    fn holder(yaml: &str) -> HolderSpec {
        serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{e}"))
    }

    /// A holder with only common keys keeps no box of rare ones; a rare key is kept in it,
    /// found by `has`, and read back as written.
    #[test]
    fn rare_keys_are_boxed_only_when_given() {
        let bank = holder("{ id: b, kind: bank, cash: 5, rule: { type: threshold, max: 20 } }");
        assert!(bank.rare.is_none());
        assert!(bank.has("rule") && !bank.has("multiple") && !bank.has("lookbacks"));
        let etf =
            holder("{ id: e, kind: leveraged_etf, multiple: 3, nav: 1.0e+9, basket: { X: 1 } }");
        let rare = etf.rare.as_deref().expect("rare keys kept");
        assert_eq!(rare.multiple.map(|m| m.0), Some(3.0));
        assert_eq!(rare.nav.map(|m| m.0), Some(1.0e9));
        assert_eq!(
            rare.basket.as_ref().map(std::collections::BTreeMap::len),
            Some(1)
        );
        assert!(etf.has("multiple") && etf.has("basket") && !etf.has("shares_outstanding"));
        assert!(etf.rare().lookbacks.is_none());
    }

    /// Unknown keys are refused as before: the format's holder reads every key.
    #[test]
    fn an_unknown_key_is_still_refused() {
        let e = serde_yaml::from_str::<HolderSpec>("{ id: b, kind: bank, navv: 3 }")
            .expect_err("unknown key");
        assert!(e.to_string().contains("unknown field `navv`"), "{e}");
    }
}
