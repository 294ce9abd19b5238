//! Unit tests: mapping from YAML to the model, and error messages. The helpers and the
//! small scenarios they edit are here; the tests are in the modules by topic.

mod convexity;
mod diagnostics;
mod limits;
mod model;

use delever_engine::{EngineConfig, Shock, Status, Termination};
use delever_graph::{
    AssetIx, BalanceSheetRule, CashUse, HolderIx, HolderKind, ImpactLaw, LenderIx, SaleOrder,
};

use crate::{Bound, Diagnostic, Scenario};

/// A small valid scenario; tests splice extra text in at the end of its sections.
pub(super) const BASE: &str = "\
name: unit
description: A small scenario for unit tests.
as_of: 2026-05-29
sources:
  - { id: src1, title: \"Some source\", date: 2026-01-20 }
defaults:
  cure_rate: 0.1
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.4e10, adv_usd: 4.0e10, daily_vol: 0.025, beta: 2.0, tags: [semis, ai], source: src1 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.6e9, adv_usd: 8.0e9, daily_vol: 0.03, duration: 12, tags: [semis], impact: { law: linear, per_usd: 1e-13 } }
lenders:
  - { id: ib, capital: 1.0e10, tighten: { trigger: 0.25, by: 0.05 } }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: NVDA, shares: 1000 }, { asset: AMD, usd: 50000 } ]
    margin: { lender: ib, loan: 100000, maintenance: 0.3 }
  - id: cohort
    kind: margin_cohort
    accounts: 1000
    holdings: [ { asset: NVDA, usd: 1.0e6 } ]
    ltv_buckets: [ { ltv: 0.2, share: 0.5 }, { ltv: 0.4, share: 0.5 } ]
    margin: { lender: ib, maintenance: 0.3, reset: 0.35 }
  - id: etf
    kind: leveraged_etf
    multiple: 3
    nav: 1.0e9
    basket: { NVDA: 0.6, AMD: 0.4 }
  - id: hf
    kind: leveraged_fund
    sale_order: most_liquid_first
    cash_use: pro_rata
    rule: { type: threshold, max: 10 }
    holdings: [ { asset: NVDA, usd: 1.0e9 } ]
    margin: { lender: ib, loan: 5.0e8, maintenance: 0.25 }
  - id: fund
    kind: fund
    redemption_beta: 2.5
    holdings: [ { asset: AMD, usd: 1.0e8 } ]
shocks:
  - { type: asset, asset: NVDA, return: -0.17 }
  - { type: tag, tag: semis, return: -0.05 }
  - { type: market, return: -0.05 }
  - { type: discount_rate, delta: 0.01, tag: ai }
  - { type: exogenous_sale, asset: AMD, usd: 1.0e9 }
  - { type: margin_tightening, by: 0.05 }
  - { type: margin_tightening, lender: ib, by: 0.05 }
  - { type: redemption, holder: fund, fraction: 0.1 }
engine: { max_rounds: 50, damping: 0.5 }
expect:
  termination: converged
  totals: { amplification: { min: 1.0, max: 3.0 }, defaults: { equals: 0 } }
  assets: { NVDA: { drawdown: { approx: -0.2, rel_tol: 0.1 } } }
  holders: { etf: { status: sold }, acct: { status: [sold, margin_call], sales_usd: { min: 0 } } }
";

pub(super) fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
    Scenario::from_yaml(text, "unit.yaml", None).map_err(|e| e.diagnostics)
}

/// `BASE` with `from` replaced by `to` (which must occur).
pub(super) fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// Load `text`, expect failure, and find the diagnostic whose path is `path`; check its
/// location and that message and hint contain the given parts.
#[track_caller]
pub(super) fn check(text: &str, path: &str, line_col: (usize, usize), message: &str, hint: &str) {
    let Err(diags) = load(text) else {
        panic!("expected an error at {path}");
    };
    let Some(d) = diags.iter().find(|d| d.path == path) else {
        panic!("no diagnostic at `{path}`: {diags:#?}");
    };
    assert_eq!(
        (d.line, d.column),
        (Some(line_col.0), Some(line_col.1)),
        "{d}"
    );
    assert!(d.message.contains(message), "message of {d}");
    assert!(
        d.hint.as_deref().unwrap_or("").contains(hint),
        "hint of {d}"
    );
}

/// Two leverage-ratio banks, a sequential engine, and three variants.
pub(super) const VARIANTS: &str = "\
name: vary
description: Variants of one network.
as_of: 2018-11-02
assets:
  - { id: GOV, price: 1, shares_outstanding: 200, impact: { law: exponential, alpha: 0.2 } }
  - { id: CORP, price: 1, shares_outstanding: 100, impact: { law: exponential, alpha: 0.2 } }
holders:
  - id: b1
    kind: bank
    cash: 5
    other_assets: 45
    other_liabilities: 95
    default_below_ratio: 0.03
    rule: { type: threshold, max: 25, target: 20 }
    holdings: [ { asset: GOV, usd: 40 }, { asset: CORP, usd: 10 } ]
shocks:
  - { type: asset, asset: GOV, return: -0.05 }
engine: { mode: sequential, max_rounds: 200 }
variants:
  - name: eq
    engine: { mode: equilibrium }
  - name: big
    description: A 30% shock with strong impact.
    shocks: [ { type: asset, asset: GOV, return: -0.30 } ]
    impact: { GOV: { law: exponential, alpha: 1.0259 } }
    expect: { totals: { defaults: { equals: 1 } } }
  - name: quiet
    shocks: []
";

/// The diagnostic at `path` of `text`, which must fail to load; it has a line and a hint.
#[track_caller]
pub(super) fn diag_at(text: &str, path: &str) -> Diagnostic {
    let Err(diags) = load(text) else {
        panic!("expected an error at {path}");
    };
    let Some(d) = diags.into_iter().find(|d| d.path == path) else {
        panic!("no diagnostic at `{path}`");
    };
    assert!(d.line.is_some() && d.hint.is_some(), "{d}");
    d
}
