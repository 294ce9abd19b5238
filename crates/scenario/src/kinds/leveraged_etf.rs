//! `leveraged_etf`: a daily-rebalanced leveraged or inverse ETF, described by its multiple,
//! its NAV and its basket rather than by holdings.

use delever_graph::{HolderKind, Problem};

use super::{Kind, Make};
use crate::convert::{Cx, Pending, Place, num, pending};
use crate::index::join_key;
use crate::limits;
use crate::spec::{HolderSpec, KindName};
use crate::suggest;

const THIS: &[KindName] = &[KindName::LeveragedEtf];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("multiple", THIS),
        ("nav", THIS),
        ("basket", THIS),
        ("shares_outstanding", THIS),
    ],
    required: &[
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
    derived_loan: None,
    redeemable: true,
    convert,
    problem: Some(problem),
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    cx.limit_key(make.base, "multiple", h.rare().multiple, &limits::MULTIPLE);
    cx.limit_key(make.base, "nav", h.rare().nav, &limits::USD);
    cx.limit_key(
        make.base,
        "shares_outstanding",
        h.rare().shares_outstanding,
        &limits::SHARES_OUTSTANDING,
    );
    HolderKind::LeveragedEtf {
        multiple: num(h.rare().multiple).unwrap_or(1.0),
        nav: num(h.rare().nav).unwrap_or(1.0),
        basket: h.rare().basket.as_ref().map_or_else(
            || {
                cx.assets
                    .keys()
                    .next()
                    .map(|a| vec![((*a).to_owned(), 1.0)])
                    .unwrap_or_default()
            },
            |m| m.iter().map(|(k, v)| (k.clone(), v.0)).collect(),
        ),
    }
}

/// An unknown asset in the basket is reported at its key, with the assets it may mean.
fn problem(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    if !(p.field.starts_with("basket.") && p.message.starts_with("unknown asset")) {
        return None;
    }
    let name = p.field.trim_start_matches("basket.");
    Some(pending(
        join_key(base, &p.field),
        Place::Key,
        p.message.clone(),
        Some(suggest::hint_for(name, cx.assets.keys().copied(), "assets")),
    ))
}
