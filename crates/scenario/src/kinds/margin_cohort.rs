//! `margin_cohort`: many margin accounts with a loan-to-value distribution in buckets; its
//! loan is derived from them.

use delever_graph::{HolderKind, LtvBucket};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Kind, Make, cure_rate};
use crate::convert::Cx;
use crate::index::join_key;
use crate::limits;
use crate::spec::{HolderSpec, KindName, Num};

/// A loan-to-value bucket of a cohort.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BucketSpec {
    /// Loan-to-value at pre-shock prices, in [0, 1).
    pub ltv: Num,
    /// Share of the cohort's accounts, in [0, 1]; shares sum to 1.
    pub share: Num,
}

const THIS: &[KindName] = &[KindName::MarginCohort];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("cure_rate", THIS),
        ("accounts", THIS),
        ("ltv_buckets", THIS),
        ("cure_days", THIS),
        ("holdings", THIS),
        ("margin", THIS),
    ],
    required: &[
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
    derived_loan: Some("the loan is Σ ltv × share × holdings value over `ltv_buckets`"),
    redeemable: false,
    convert,
    problem: None,
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let cure_rate = cure_rate(cx, h);
    HolderKind::MarginCohort {
        accounts: h.rare().accounts.map_or(1, |w| {
            cx.whole(
                join_key(make.base, "accounts"),
                w,
                limits::MAX_ACCOUNTS,
                "accounts",
                "the number of accounts the cohort stands for, from 1 to 1,000,000,000, e.g. `accounts: 1200000`",
            )
        }),
        buckets: h.rare().ltv_buckets.as_ref().map_or_else(
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
    }
}
