//! `leveraged_fund` and `bank`: holders with a balance sheet and a deleveraging rule
//! (leverage target, threshold, capital ratio, fail-and-liquidate or passive), and an
//! optional insolvency ratio. The two kinds share their format and checks.

use delever_graph::{BalanceSheetRule, HolderKind};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Kind, Make};
use crate::convert::{Cx, num, owns};
use crate::index::join_key;
use crate::limits;
use crate::spec::{HolderSpec, KindName, Num};

/// A rule name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RuleName {
    /// Keep assets/equity at `target` (GLT).
    LeverageTarget,
    /// Nothing until leverage > `max`, then back to `target` (Cont–Schaanning).
    Threshold,
    /// Passive until insolvent, then sell everything (Caccioli et al.).
    FailLiquidate,
    /// Keep equity/assets ≥ `min_ratio` (Cifuentes–Shin–Ferrucci).
    CapitalRatio,
    /// Never sells unless insolvent.
    Passive,
}

impl RuleName {
    pub fn name(self) -> &'static str {
        match self {
            RuleName::LeverageTarget => "leverage_target",
            RuleName::Threshold => "threshold",
            RuleName::FailLiquidate => "fail_liquidate",
            RuleName::CapitalRatio => "capital_ratio",
            RuleName::Passive => "passive",
        }
    }
}

/// A balance-sheet rule. Keys other than `type` belong to one rule type each.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleSpec {
    /// The rule.
    #[serde(rename = "type")]
    pub kind: RuleName,
    /// `leverage_target` (required), threshold (default 0.95 × max): target assets/equity.
    pub target: Option<Num>,
    /// `leverage_target`: also buy back after gains (default false).
    pub symmetric: Option<bool>,
    /// threshold (required): leverage that triggers selling.
    pub max: Option<Num>,
    /// `capital_ratio` (required): minimum equity/assets, in (0, 1).
    pub min_ratio: Option<Num>,
}

// Messages name the two kinds bank first for the keys of their own, and leveraged_fund
// first (the format's order of kinds) for keys they share with other kinds.
const BANK_FIRST: &[KindName] = &[KindName::Bank, KindName::LeveragedFund];
const FUND_FIRST: &[KindName] = &[KindName::LeveragedFund, KindName::Bank];

pub(super) const KIND: Kind = Kind {
    kinds: FUND_FIRST,
    keys: &[
        ("rule", BANK_FIRST),
        ("default_below_ratio", BANK_FIRST),
        ("cure_days", FUND_FIRST),
        ("participation", FUND_FIRST),
        ("holdings", FUND_FIRST),
        ("margin", FUND_FIRST),
    ],
    required: &[(
        "rule",
        "e.g. `rule: { type: leverage_target, target: 3.0 }` or `{ type: threshold, max: 33 }`",
    )],
    derived_loan: None,
    redeemable: false,
    convert,
    problem: None,
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let rule = match &h.rule {
        Some(r) => rule(cx, r, &join_key(make.base, "rule")),
        None => BalanceSheetRule::Passive,
    };
    if make.kind == KindName::Bank {
        HolderKind::Bank { rule }
    } else {
        HolderKind::LeveragedFund { rule }
    }
}

/// Keys of a rule that belong to some rule types only.
pub(crate) const RULE_KEYS: &[(&str, &[RuleName])] = &[
    ("target", &[RuleName::LeverageTarget, RuleName::Threshold]),
    ("symmetric", &[RuleName::LeverageTarget]),
    ("max", &[RuleName::Threshold]),
    ("min_ratio", &[RuleName::CapitalRatio]),
];

/// Check the rule at `base` and convert it.
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
