//! Holder kinds: one module per kind of the format (`kind:`), each with everything the
//! scenario crate knows of it beyond the keys every holder has — the keys it owns (and
//! which of the keys shared by several kinds it takes), the keys it requires with the hint
//! given when one is missing, the checks of its keys and their conversion to the graph's
//! [`HolderKind`], and how the builder's problems about it map back to the file.
//!
//! `convert::holders` reads the keys every holder has and dispatches here with [`of`];
//! misplaced keys are reported from the table [`keys`] assembles from every kind's keys.
//! `leveraged_fund` and `bank` share one module: their format and checks are the same.
//!
//! A holder is one flat YAML mapping, so a kind's keys are optional fields of
//! `spec::HolderSpec`; the structures only one kind has (a rule, LTV buckets) are declared
//! in its module. ARCHITECTURE.md lists every place a new kind touches.

mod account_book;
mod balance_sheet;
mod fund;
mod leveraged_etf;
mod margin_account;
mod margin_cohort;
mod options_dealer;
mod trend_follower;
mod vol_target;

use std::sync::LazyLock;

use delever_graph::{HolderKind, Problem, Subject};

use crate::book::AssetLookup;
use crate::convert::{AccountsFile, Cx, Origin, Pending, Place, is_solvency, num, pending};
use crate::index::join_key;
use crate::spec::{HolderSpec, KindName};
use crate::suggest;

pub(crate) use balance_sheet::{RULE_KEYS, RuleName, RuleSpec};
pub(crate) use margin_cohort::BucketSpec;
pub(crate) use options_dealer::{GammaSpec, OptionSpec};
pub(crate) use trend_follower::{LookbackSpec, MarketSpec};

/// What the scenario crate knows of a holder kind (or of kinds sharing one format).
pub(crate) struct Kind {
    /// The `kind:` values it reads, in the order messages list them.
    pub kinds: &'static [KindName],
    /// Its keys beyond those every holder has, each with the kinds it belongs to in the
    /// order messages list them. Keys of [`SHARED`] it takes are listed here too.
    pub keys: &'static [(&'static str, &'static [KindName])],
    /// Keys it must have, with the hint given when one is missing.
    pub required: &'static [(&'static str, &'static str)],
    /// When its margin loan is derived (from buckets, from rows): the hint given when the
    /// file writes one anyway.
    pub derived_loan: Option<&'static str>,
    /// Whether a `redemption` shock may name it.
    pub redeemable: bool,
    /// Check its keys and build its part of the model; problems go to the context.
    pub convert: fn(&mut Cx<'_>, &HolderSpec, &mut Make<'_>) -> HolderKind,
    /// A builder problem about one of its holders told in its own terms (an account
    /// book's rows), or `None` for the shared mapping. `base` is the holder's path.
    pub problem: Option<ProblemFn>,
}

/// Tells a builder problem about a holder of the kind (at path `base`) in the kind's terms.
pub(crate) type ProblemFn = fn(&Cx<'_>, &Problem, &str) -> Option<Pending>;

/// What a kind's conversion gets besides the holder's keys.
pub(crate) struct Make<'a> {
    /// The holder's path, `holders[3]`.
    pub base: &'a str,
    /// The holder's kind.
    pub kind: KindName,
    /// Where the scenario came from (CSV books are read relative to it).
    pub origin: &'a Origin<'a>,
    /// Asset ids to indices, for the rows of CSV books.
    pub lookup: &'a AssetLookup,
    /// The accounts file it read, if any: messages about its rows name it.
    pub accounts_file: Option<AccountsFile>,
}

/// Every kind, in the order messages list them.
const KINDS: [&Kind; 9] = [
    &margin_account::KIND,
    &margin_cohort::KIND,
    &account_book::KIND,
    &leveraged_etf::KIND,
    &balance_sheet::KIND,
    &fund::KIND,
    &options_dealer::KIND,
    &vol_target::KIND,
    &trend_follower::KIND,
];

/// Keys every holder may write that only some kinds take; the shared code reads them.
const SHARED: [&str; 4] = ["cure_days", "participation", "holdings", "margin"];

/// The module of a kind.
pub(crate) fn of(kind: KindName) -> &'static Kind {
    match kind {
        KindName::MarginAccount => &margin_account::KIND,
        KindName::MarginCohort => &margin_cohort::KIND,
        KindName::AccountBook => &account_book::KIND,
        KindName::LeveragedEtf => &leveraged_etf::KIND,
        KindName::LeveragedFund | KindName::Bank => &balance_sheet::KIND,
        KindName::Fund => &fund::KIND,
        KindName::OptionsDealer => &options_dealer::KIND,
        KindName::VolTarget => &vol_target::KIND,
        KindName::TrendFollower => &trend_follower::KIND,
    }
}

/// Every kind, in the order messages list them.
pub(crate) fn all() -> impl Iterator<Item = KindName> {
    KINDS.iter().flat_map(|k| k.kinds.iter().copied())
}

/// Keys that belong to some holder kinds only, each with its kinds: every kind's own keys
/// in the order of [`KINDS`], then the [`SHARED`] ones.
pub(crate) fn keys() -> &'static [(&'static str, Vec<KindName>)] {
    static TABLE: LazyLock<Vec<(&'static str, Vec<KindName>)>> = LazyLock::new(|| {
        let mut table: Vec<(&'static str, Vec<KindName>)> = Vec::new();
        let entries = KINDS.iter().flat_map(|k| k.keys.iter());
        let own = entries.clone().filter(|(key, _)| !SHARED.contains(key));
        let shared = SHARED
            .iter()
            .flat_map(|s| entries.clone().filter(move |(key, _)| key == s));
        for &(key, kinds) in own.chain(shared) {
            match table.iter_mut().find(|(k, _)| *k == key) {
                Some((_, owners)) => owners.extend_from_slice(kinds),
                None => table.push((key, kinds.to_vec())),
            }
        }
        table
    });
    &TABLE
}

/// Presence tests of the keys of [`keys`] that a holder of `kind` does not take: a holder
/// none of whose tests pass has no misplaced key.
pub(crate) fn foreign(kind: KindName) -> &'static [fn(&HolderSpec) -> bool] {
    type Tests = Vec<(KindName, Vec<fn(&HolderSpec) -> bool>)>;
    static TABLE: LazyLock<Tests> = LazyLock::new(|| {
        all()
            .map(|k| {
                let tests = keys()
                    .iter()
                    .filter(|(_, owners)| !owners.contains(&k))
                    .filter_map(|(key, _)| HolderSpec::presence(key))
                    .collect();
                (k, tests)
            })
            .collect()
    });
    TABLE
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(&[], |(_, tests)| tests.as_slice())
}

/// Whether a holder of `kind` takes `key`; keys of no kind in particular belong to all.
pub(crate) fn owns(kind: KindName, key: &str) -> bool {
    keys()
        .iter()
        .find(|(k, _)| *k == key)
        .is_none_or(|(_, kinds)| kinds.contains(&kind))
}

/// `one of margin_account, …`: the kinds, for hints.
pub(crate) fn one_of() -> &'static str {
    static TEXT: LazyLock<String> = LazyLock::new(|| {
        let names: Vec<&str> = KINDS
            .iter()
            .flat_map(|k| k.kinds.iter().map(|n| n.name()))
            .collect();
        format!("one of {}", names.join(", "))
    });
    &TEXT
}

/// A margin holder's cure rate: its own, else the scenario's default, else 0.
fn cure_rate(cx: &Cx<'_>, h: &HolderSpec) -> f64 {
    num(h.cure_rate)
        .or_else(|| cx.spec.defaults.as_ref().and_then(|d| num(d.cure_rate)))
        .unwrap_or(0.0)
}

/// An unknown asset (or another node's id) in one of a kind's lines (`options[0].asset`,
/// `markets[1].asset`), reported where it is written with the assets it may mean.
// `p.field` is a field path (`markets[1].asset`), not a file name: the lint's
// case-insensitive file-extension advice does not apply.
#[allow(clippy::case_sensitive_file_extension_comparisons)]
fn unknown_asset(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    let name = p
        .message
        .strip_prefix("unknown asset `")
        .or_else(|| p.message.strip_prefix('`'))
        .and_then(|m| m.split('`').next())?;
    if !(p.field.rsplit('.').next() == Some("asset")
        && (p.message.starts_with("unknown asset") || p.message.ends_with("is not an asset")))
    {
        return None;
    }
    Some(pending(
        join_key(base, &p.field),
        Place::Value,
        p.message.clone(),
        Some(suggest::hint_for(name, cx.assets.keys().copied(), "assets")),
    ))
}

/// The builder's "starting equity must be positive" for a holder whose equity is its
/// `cash` alone (a dealer, a trend follower: their positions are hedges and futures),
/// told at `cash` with a hint on it rather than on loans and holdings.
fn no_capital(cx: &Cx<'_>, p: &Problem, base: &str, what: &str) -> Option<Pending> {
    let Subject::Holder(id) = &p.subject else {
        return None;
    };
    if !(p.field.is_empty() && is_solvency(p)) {
        return None;
    }
    let h = cx
        .holder_meta(id.as_str())
        .and_then(|m| cx.spec.holders.get(m.index))?;
    let path = if h.cash.is_some() {
        join_key(base, "cash")
    } else {
        base.to_owned()
    };
    Some(pending(
        path,
        Place::Value,
        p.message.clone(),
        Some(format!(
            "{what} holds nothing, so its equity is `cash` + `other_assets` − `other_liabilities`; give its capital as `cash`, e.g. `cash: 1.0e9`"
        )),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_read_by_the_module_that_lists_it_and_listed_once() {
        let listed: Vec<KindName> = KINDS.iter().flat_map(|k| k.kinds.iter().copied()).collect();
        for (i, k) in listed.iter().enumerate() {
            assert!(of(*k).kinds.contains(k), "{k}");
            assert!(!listed[..i].contains(k), "{k} is listed twice");
        }
    }

    #[test]
    fn the_table_lists_own_keys_then_shared_ones_with_their_kinds_in_order() {
        use KindName::{
            AccountBook, Bank, Fund, LeveragedFund, MarginAccount, MarginCohort, TrendFollower,
            VolTarget,
        };
        let listed: Vec<&str> = keys().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            listed,
            [
                "cure_rate",
                "accounts",
                "ltv_buckets",
                "accounts_csv",
                "holdings_csv",
                "accounts_parquet",
                "holdings_parquet",
                "accounts_arrow",
                "holdings_arrow",
                "multiple",
                "nav",
                "basket",
                "shares_outstanding",
                "rule",
                "default_below_ratio",
                "redemption_beta",
                "redemption_lag_days",
                "options",
                "gamma",
                "target_vol",
                "realised_vol",
                "half_life_days",
                "max_leverage",
                "band",
                "lag_days",
                "lookbacks",
                "markets",
                "cure_days",
                "participation",
                "holdings",
                "margin",
            ]
        );
        let owners = |key: &str| {
            keys()
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, o)| o.clone())
        };
        assert_eq!(
            owners("cure_rate"),
            Some(vec![MarginAccount, MarginCohort, AccountBook])
        );
        assert_eq!(owners("rule"), Some(vec![Bank, LeveragedFund]));
        assert_eq!(
            owners("margin"),
            Some(vec![
                MarginAccount,
                MarginCohort,
                AccountBook,
                LeveragedFund,
                Bank,
                Fund
            ])
        );
        assert!(!owns(VolTarget, "margin") && owns(VolTarget, "holdings"));
        assert_eq!(owners("lag_days"), Some(vec![VolTarget, TrendFollower]));
        assert_eq!(
            owners("holdings").map(|o| o.contains(&TrendFollower)),
            Some(false)
        );
        assert!(owns(KindName::LeveragedEtf, "cash") && !owns(KindName::LeveragedEtf, "holdings"));
    }
}
