//! Holders: the keys every holder has, the keys of each kind, and the kind's parameters.

use std::sync::Arc;

use delever_graph::{
    AccountBook, BalanceSheetRule, CashUse, Holder, HolderKind, LtvBucket, SaleOrder, Timing,
};

use super::Origin;
use super::books::{AccountsFile, load_book};
use super::cx::{Cx, num, owns};
use crate::book::AssetLookup;
use crate::index::{join_index, join_key};
use crate::limits;
use crate::spec::{CashUseName, HolderSpec, KindName, RuleName, RuleSpec, SaleOrderName};

/// Keys that belong to some holder kinds only.
pub(crate) const KIND_KEYS: &[(&str, &[KindName])] = &[
    (
        "cure_rate",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
        ],
    ),
    ("accounts", &[KindName::MarginCohort]),
    ("ltv_buckets", &[KindName::MarginCohort]),
    ("accounts_csv", &[KindName::AccountBook]),
    ("holdings_csv", &[KindName::AccountBook]),
    ("multiple", &[KindName::LeveragedEtf]),
    ("nav", &[KindName::LeveragedEtf]),
    ("basket", &[KindName::LeveragedEtf]),
    ("rule", &[KindName::Bank, KindName::LeveragedFund]),
    (
        "default_below_ratio",
        &[KindName::Bank, KindName::LeveragedFund],
    ),
    ("redemption_beta", &[KindName::Fund]),
    ("redemption_lag_days", &[KindName::Fund]),
    (
        "cure_days",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "participation",
        &[
            KindName::MarginAccount,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "holdings",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
    (
        "margin",
        &[
            KindName::MarginAccount,
            KindName::MarginCohort,
            KindName::AccountBook,
            KindName::LeveragedFund,
            KindName::Bank,
            KindName::Fund,
        ],
    ),
];

fn kind_required(kind: KindName) -> &'static [(&'static str, &'static str)] {
    match kind {
        KindName::MarginAccount => &[(
            "margin",
            "add `margin: { lender: <id>, loan: <USD>, maintenance: 0.30 }`",
        )],
        KindName::MarginCohort => &[
            (
                "accounts",
                "the number of accounts the cohort stands for, e.g. `accounts: 1200000`",
            ),
            (
                "ltv_buckets",
                "e.g. `ltv_buckets: [{ ltv: 0.3, share: 0.5 }, { ltv: 0.5, share: 0.5 }]`",
            ),
            (
                "margin",
                "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
            ),
        ],
        KindName::AccountBook => &[
            (
                "accounts_csv",
                "a CSV with header `account,cash,loan`, relative to the scenario",
            ),
            (
                "holdings_csv",
                "a CSV with header `account,asset,shares`, relative to the scenario",
            ),
            (
                "margin",
                "add `margin: { lender: <id>, maintenance: 0.30 }` (the loan is derived)",
            ),
        ],
        KindName::LeveragedEtf => &[
            (
                "multiple",
                "the leverage multiple, e.g. `multiple: 3` (SOXL) or `-3` (SOXS)",
            ),
            ("nav", "net asset value in USD, e.g. `nav: 1.2e10`"),
            (
                "basket",
                "asset weights summing to 1, e.g. `basket: { NVDA: 0.6, AMD: 0.4 }`",
            ),
        ],
        KindName::LeveragedFund | KindName::Bank => &[(
            "rule",
            "e.g. `rule: { type: leverage_target, target: 3.0 }` or `{ type: threshold, max: 33 }`",
        )],
        KindName::Fund => &[],
    }
}

const RULE_KEYS: &[(&str, &[RuleName])] = &[
    ("target", &[RuleName::LeverageTarget, RuleName::Threshold]),
    ("symmetric", &[RuleName::LeverageTarget]),
    ("max", &[RuleName::Threshold]),
    ("min_ratio", &[RuleName::CapitalRatio]),
];

fn rule(cx: &mut Cx<'_>, r: &RuleSpec, base: &str) -> BalanceSheetRule {
    cx.misplaced(
        base,
        r.kind,
        "rule type",
        RULE_KEYS,
        &[
            ("target", r.target.is_some()),
            ("symmetric", r.symmetric.is_some()),
            ("max", r.max.is_some()),
            ("min_ratio", r.min_ratio.is_some()),
        ],
        RuleName::name,
    );
    for (key, v) in [("target", r.target), ("max", r.max)] {
        if owns(RULE_KEYS, key, &r.kind) {
            cx.limit_key(base, key, v, &limits::LEVERAGE);
        }
    }
    match r.kind {
        RuleName::LeverageTarget => {
            let target = num(r.target).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "target"),
                    "a leverage_target rule",
                    "target leverage (assets/equity), e.g. `target: 3.0`",
                );
                1.0
            });
            BalanceSheetRule::LeverageTarget {
                target,
                symmetric: r.symmetric.unwrap_or(false),
            }
        }
        RuleName::Threshold => {
            let max = num(r.max).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "max"),
                    "a threshold rule",
                    "the leverage that triggers selling, e.g. `max: 33` (a 3% leverage ratio)",
                );
                2.0
            });
            let target = num(r.target).unwrap_or(0.95 * max);
            BalanceSheetRule::Threshold { max, target }
        }
        RuleName::FailLiquidate => BalanceSheetRule::FailLiquidate,
        RuleName::CapitalRatio => {
            let min_ratio = num(r.min_ratio).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "min_ratio"),
                    "a capital_ratio rule",
                    "the minimum equity/assets, e.g. `min_ratio: 0.04`",
                );
                0.5
            });
            BalanceSheetRule::CapitalRatio { min_ratio }
        }
        RuleName::Passive => BalanceSheetRule::Passive,
    }
}

#[allow(clippy::too_many_lines)] // one arm per holder kind
pub(crate) fn holder(
    cx: &mut Cx<'_>,
    h: &HolderSpec,
    i: usize,
    origin: &Origin<'_>,
    lookup: &AssetLookup,
) -> (Holder, Option<AccountsFile>) {
    let base = join_index("holders", i);
    let kind = h.kind;
    cx.check_source(join_key(&base, "source"), h.source.as_ref());
    cx.misplaced(
        &base,
        kind,
        "holder kind",
        KIND_KEYS,
        &[
            ("cure_rate", h.cure_rate.is_some()),
            ("accounts", h.accounts.is_some()),
            ("ltv_buckets", h.ltv_buckets.is_some()),
            ("accounts_csv", h.accounts_csv.is_some()),
            ("holdings_csv", h.holdings_csv.is_some()),
            ("multiple", h.multiple.is_some()),
            ("nav", h.nav.is_some()),
            ("basket", h.basket.is_some()),
            ("rule", h.rule.is_some()),
            ("default_below_ratio", h.default_below_ratio.is_some()),
            ("redemption_beta", h.redemption_beta.is_some()),
            ("redemption_lag_days", h.redemption_lag_days.is_some()),
            ("cure_days", h.cure_days.is_some()),
            ("participation", h.participation.is_some()),
            ("holdings", h.holdings.is_some()),
            ("margin", h.margin.is_some()),
        ],
        KindName::name,
    );
    let present = |key: &str| match key {
        "margin" => h.margin.is_some(),
        "accounts" => h.accounts.is_some(),
        "ltv_buckets" => h.ltv_buckets.is_some(),
        "accounts_csv" => h.accounts_csv.is_some(),
        "holdings_csv" => h.holdings_csv.is_some(),
        "multiple" => h.multiple.is_some(),
        "nav" => h.nav.is_some(),
        "basket" => h.basket.is_some(),
        "rule" => h.rule.is_some(),
        _ => true,
    };
    for &(key, hint) in kind_required(kind) {
        if !present(key) {
            cx.missing(join_key(&base, key), &format!("a {kind}"), hint);
            cx.suppress.insert((h.id.clone(), key.to_owned()));
        }
    }
    for (key, v) in [
        ("cash", h.cash),
        ("other_assets", h.other_assets),
        ("other_liabilities", h.other_liabilities),
    ] {
        cx.limit_key(&base, key, v, &limits::USD);
    }
    for (key, v, lim) in [
        ("multiple", h.multiple, &limits::MULTIPLE),
        ("nav", h.nav, &limits::USD),
        (
            "redemption_beta",
            h.redemption_beta,
            &limits::REDEMPTION_BETA,
        ),
    ] {
        if owns(KIND_KEYS, key, &kind) {
            cx.limit_key(&base, key, v, lim);
        }
    }
    let cure_rate = num(h.cure_rate)
        .or_else(|| cx.spec.defaults.as_ref().and_then(|d| num(d.cure_rate)))
        .unwrap_or(0.0);
    let mut accounts_file = None;
    let hk = match kind {
        KindName::MarginAccount => HolderKind::MarginAccount { cure_rate },
        KindName::MarginCohort => HolderKind::MarginCohort {
            accounts: h.accounts.map_or(1, |w| {
                cx.whole(
                    join_key(&base, "accounts"),
                    w,
                    limits::MAX_ACCOUNTS,
                    "accounts",
                    "the number of accounts the cohort stands for, from 1 to 1,000,000,000, e.g. `accounts: 1200000`",
                )
            }),
            buckets: h.ltv_buckets.as_ref().map_or_else(
                || {
                    vec![LtvBucket {
                        ltv: 0.0,
                        share: 1.0,
                    }]
                },
                |bs| {
                    bs.iter()
                        .map(|b| LtvBucket {
                            ltv: b.ltv.0,
                            share: b.share.0,
                        })
                        .collect()
                },
            ),
            cure_rate,
        },
        KindName::AccountBook => {
            let book = match (&h.accounts_csv, &h.holdings_csv) {
                (Some(a), Some(hc)) => {
                    let (book, file) = load_book(cx, &base, origin, a, hc, lookup);
                    accounts_file = file;
                    book
                }
                _ => None,
            };
            HolderKind::AccountBook {
                book: book.unwrap_or_else(|| {
                    Arc::new(AccountBook {
                        row_ptr: vec![0],
                        ..AccountBook::default()
                    })
                }),
                cure_rate,
            }
        }
        KindName::LeveragedEtf => HolderKind::LeveragedEtf {
            multiple: num(h.multiple).unwrap_or(1.0),
            nav: num(h.nav).unwrap_or(1.0),
            basket: h.basket.as_ref().map_or_else(
                || {
                    cx.assets
                        .keys()
                        .next()
                        .map(|a| vec![((*a).to_owned(), 1.0)])
                        .unwrap_or_default()
                },
                |m| m.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
            ),
        },
        KindName::LeveragedFund | KindName::Bank => {
            let r = match &h.rule {
                Some(r) => rule(cx, r, &join_key(&base, "rule")),
                None => BalanceSheetRule::Passive,
            };
            if kind == KindName::Bank {
                HolderKind::Bank { rule: r }
            } else {
                HolderKind::LeveragedFund { rule: r }
            }
        }
        KindName::Fund => HolderKind::Fund {
            redemption_beta: num(h.redemption_beta).unwrap_or(0.0),
        },
    };
    let mut holder = Holder::new(h.id.clone(), hk);
    holder.cash = num(h.cash).unwrap_or(0.0);
    holder.other_assets = num(h.other_assets).unwrap_or(0.0);
    holder.other_liabilities = num(h.other_liabilities).unwrap_or(0.0);
    holder.sale_order = match h.sale_order {
        None | Some(SaleOrderName::ProRata) => SaleOrder::ProRata,
        Some(SaleOrderName::MostLiquidFirst) => SaleOrder::MostLiquidFirst,
    };
    holder.cash_use = match h.cash_use {
        None | Some(CashUseName::First) => CashUse::First,
        Some(CashUseName::ProRata) => CashUse::ProRata,
        Some(CashUseName::Never) => CashUse::Never,
    };
    holder.starts_insolvent = h.starts_insolvent.unwrap_or(false);
    if KIND_KEYS
        .iter()
        .any(|(k, kinds)| *k == "default_below_ratio" && kinds.contains(&kind))
    {
        holder.default_below_ratio = num(h.default_below_ratio);
    }
    holder.tags = h.tags.clone().unwrap_or_default();
    holder.timing = timing(cx, h, &base, &holder.kind);
    (holder, accounts_file)
}

/// A holder's timing in timeline mode: its own keys, else the scenario's `defaults:`, else
/// the built-in defaults (docs/model.md, section 9).
fn timing(cx: &mut Cx<'_>, h: &HolderSpec, base: &str, kind: &HolderKind) -> Timing {
    let defaults = cx.spec.defaults.as_ref();
    let max = limits::MAX_DAYS as u32;
    let built_in = Timing::for_kind(kind, h.margin.is_some());
    let cure_days = match h.cure_days {
        Some(d) => cx.days(
            join_key(base, "cure_days"),
            d,
            max,
            "trading days to meet a margin call: brokers give 0 (due at once) to about 5",
        ),
        None => defaults
            .and_then(|d| d.cure_days)
            .map_or(built_in.cure_days, |d| {
                u32::try_from(d.0.clamp(0, i128::from(max))).unwrap_or(0)
            }),
    };
    let redemption_lag_days = match h.redemption_lag_days {
        Some(d) => cx.days(
            join_key(base, "redemption_lag_days"),
            d,
            max,
            "trading days between a fund's return and the redemptions it draws, e.g. 1",
        ),
        None => defaults
            .and_then(|d| d.redemption_lag_days)
            .map_or(built_in.redemption_lag_days, |d| {
                u32::try_from(d.0.clamp(0, i128::from(max))).unwrap_or(0)
            }),
    };
    let participation = if owns(KIND_KEYS, "participation", &h.kind) {
        num(h.participation).map(|p| cx.participation(join_key(base, "participation"), p))
    } else {
        None
    };
    Timing {
        cure_days,
        participation,
        redemption_lag_days,
    }
}
