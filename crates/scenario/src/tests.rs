//! Unit tests: mapping from YAML to the model, and error messages.

#![allow(clippy::too_many_lines)] // the tests check one scenario field by field

use delever_engine::{EngineConfig, Shock, Status, Termination};
use delever_graph::{
    AssetIx, BalanceSheetRule, CashUse, HolderIx, HolderKind, ImpactLaw, LenderIx, SaleOrder,
};

use crate::{Bound, Diagnostic, Scenario};

/// A small valid scenario; tests splice extra text in at the end of its sections.
const BASE: &str = "\
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

fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
    Scenario::from_yaml(text, "unit.yaml", None).map_err(|e| e.diagnostics)
}

/// `BASE` with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// Load `text`, expect failure, and find the diagnostic whose path is `path`; check its
/// location and that message and hint contain the given parts.
#[track_caller]
fn check(text: &str, path: &str, line_col: (usize, usize), message: &str, hint: &str) {
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

#[test]
fn base_maps_to_the_model() {
    let s = load(BASE).expect("valid");
    let net = &s.network;
    assert_eq!(
        (net.assets().len(), net.holders().len(), net.lenders().len()),
        (2, 5, 1)
    );
    assert_eq!(s.sources[0].date.as_deref(), Some("2026-01-20"));
    // Holdings in USD are converted at the asset's price.
    let acct = net.find_holder("acct").expect("acct");
    assert_eq!(
        net.holdings(acct).collect::<Vec<_>>(),
        vec![(AssetIx(0), 1000.0), (AssetIx(1), 500.0)]
    );
    let m = net.margin(acct).expect("margin");
    assert_eq!(
        (m.terms.loan, m.terms.maintenance, m.terms.reset),
        (100_000.0, 0.3, 0.3)
    );
    assert_eq!(
        net.holder(acct).kind,
        HolderKind::MarginAccount { cure_rate: 0.1 }
    );
    // The cohort's loan is derived from its buckets: (0.2·0.5 + 0.4·0.5) × $1M.
    let cohort = net.find_holder("cohort").expect("cohort");
    let loan = net.margin(cohort).expect("margin").terms.loan;
    assert!((loan - 300_000.0).abs() < 1e-6, "{loan}");
    // Default impact law and explicit one.
    assert_eq!(net.assets()[0].impact, ImpactLaw::SquareRoot { y: 0.7 });
    assert_eq!(net.assets()[1].impact, ImpactLaw::Linear { per_usd: 1e-13 });
    assert_eq!(net.assets()[1].beta, 1.0);
    assert_eq!(net.assets()[1].duration, 12.0);
    let hf = net.holder(net.find_holder("hf").expect("hf"));
    assert_eq!(
        hf.kind,
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Threshold {
                max: 10.0,
                target: 9.5
            }
        }
    );
    assert_eq!(
        (hf.sale_order, hf.cash_use),
        (SaleOrder::MostLiquidFirst, CashUse::ProRata)
    );
    let etf = net.find_holder("etf").expect("etf");
    assert_eq!(net.basket(etf), &[(AssetIx(0), 0.6), (AssetIx(1), 0.4)]);
    assert_eq!(net.lenders()[0].tighten_trigger, Some(0.25));

    assert_eq!(
        s.shocks,
        vec![
            Shock::AssetReturn {
                asset: AssetIx(0),
                ret: -0.17
            },
            Shock::TagReturn {
                tag: "semis".into(),
                ret: -0.05
            },
            Shock::Market {
                ret: -0.05,
                tag: None
            },
            Shock::DiscountRate {
                delta: 0.01,
                tag: Some("ai".into())
            },
            Shock::ExogenousSale {
                asset: AssetIx(1),
                usd: 1.0e9
            },
            Shock::MarginTightening {
                lender: None,
                by: 0.05
            },
            Shock::MarginTightening {
                lender: Some(LenderIx(0)),
                by: 0.05
            },
            Shock::Redemption {
                holder: HolderIx(4),
                fraction: 0.1
            },
        ]
    );
    assert_eq!(
        s.engine,
        EngineConfig {
            max_rounds: 50,
            damping: 0.5,
            ..EngineConfig::default()
        }
    );
    let e = s.expect.expect("expect");
    assert_eq!(e.termination, Some(Termination::Converged));
    assert_eq!(e.totals.len(), 2);
    assert_eq!(e.totals[0].key, "amplification");
    assert_eq!(e.totals[1].bound, Bound::Equals(0.0));
    assert_eq!(
        e.assets[0].checks[0].bound,
        Bound::Approx {
            value: -0.2,
            rel_tol: 0.1,
            abs_tol: 0.0
        }
    );
    assert_eq!(e.holders[0].id, "acct");
    assert_eq!(e.holders[0].status, vec![Status::Sold, Status::MarginCall]);
    assert_eq!(e.holders[1].holder, etf);
    assert_eq!(s.path, None);
}

#[test]
fn defaults_apply() {
    let s = load(&edit(
        "defaults:\n  cure_rate: 0.1\n",
        "defaults:\n  impact: { law: cont_schaanning, c: 0.5 }\n",
    ))
    .expect("valid");
    assert_eq!(
        s.network.assets()[0].impact,
        ImpactLaw::ContSchaanning {
            c: 0.5,
            tau_days: 20.0,
            floor: 0.5
        }
    );
    let acct = s.network.find_holder("acct").expect("acct");
    assert_eq!(
        s.network.holder(acct).kind,
        HolderKind::MarginAccount { cure_rate: 0.0 }
    );
    let s = load(&edit("engine: { max_rounds: 50, damping: 0.5 }\n", "")).expect("valid");
    assert_eq!(s.engine, EngineConfig::default());
}

#[test]
fn unknown_key_suggests_the_right_one() {
    check(
        &edit(
            "loan: 100000, maintenance: 0.3 }",
            "loan: 100000, maintenence: 0.3 }",
        ),
        "holders[0].margin.maintenence",
        (17, 41),
        "unknown key `maintenence`; expected one of `lender`, `loan`, `maintenance`, `reset`",
        "did you mean `maintenance`?",
    );
}

#[test]
fn wrong_type_names_the_expected_type() {
    check(
        &edit("price: 100.0", "price: cheap"),
        "assets[1].price",
        (10, 23),
        "expected a number, found the string \"cheap\"",
        "USD per share",
    );
    check(
        &edit("accounts: 1000", "accounts: -5"),
        "holders[1].accounts",
        (20, 15),
        "expected a whole number of accounts ≥ 1, got -5",
        "accounts",
    );
    check(
        &edit("accounts: 1000", "accounts: 1.5"),
        "holders[1].accounts",
        (20, 15),
        "expected a whole number ≥ 1, found the number 1.5",
        "accounts",
    );
    check(
        &edit("holders:\n", "holders: 3\nx:\n"),
        "holders",
        (13, 10),
        "expected a list, found the number 3",
        "",
    );
}

#[test]
fn non_finite_numbers_are_refused() {
    check(
        &edit("price: 100.0", "price: .nan"),
        "assets[1].price",
        (10, 23),
        "expected a finite number, found .nan",
        ".inf",
    );
    check(
        &edit("loan: 5.0e8", "loan: -.inf"),
        "holders[3].margin.loan",
        (35, 33),
        "found -.inf",
        "finite",
    );
}

#[test]
fn misplaced_kind_keys_name_their_kinds() {
    check(
        &edit(
            "    redemption_beta: 2.5\n",
            "    redemption_beta: 2.5\n    nav: 5\n",
        ),
        "holders[4].nav",
        (39, 5),
        "`nav` does not apply to holder kind `fund`; it belongs to leveraged_etf",
        "remove `nav`",
    );
    check(
        &edit(
            "rule: { type: threshold, max: 10 }",
            "rule: { type: threshold, max: 10, min_ratio: 0.1 }",
        ),
        "holders[3].rule.min_ratio",
        (33, 39),
        "belongs to capital_ratio",
        "",
    );
    check(
        &edit(
            "{ type: market, return: -0.05 }",
            "{ type: market, return: -0.05, usd: 5 }",
        ),
        "shocks[2].usd",
        (43, 36),
        "`usd` does not apply to shock type `market`; it belongs to exogenous_sale",
        "",
    );
}

#[test]
fn missing_kind_keys() {
    check(
        &edit("    rule: { type: threshold, max: 10 }\n", ""),
        "holders[3].rule",
        (29, 5),
        "missing required key `rule` for a leveraged_fund",
        "leverage_target",
    );
    check(
        &edit("    nav: 1.0e9\n", ""),
        "holders[2].nav",
        (24, 5),
        "missing required key `nav`",
        "",
    );
}

#[test]
fn unknown_ids_suggest_known_ones() {
    check(
        &edit(
            "margin: { lender: ib, loan: 100000",
            "margin: { lender: ibb, loan: 100000",
        ),
        "holders[0].margin.lender",
        (17, 23),
        "unknown lender `ibb`",
        "did you mean `ib`?",
    );
    check(
        &edit(
            "{ asset: NVDA, shares: 1000 }",
            "{ asset: NVDX, shares: 1000 }",
        ),
        "holders[0].holdings[0].asset",
        (16, 26),
        "unknown asset `NVDX`",
        "did you mean `NVDA`?",
    );
    check(
        &edit("basket: { NVDA: 0.6", "basket: { NVDAA: 0.6"),
        "holders[2].basket.NVDAA",
        (28, 15),
        "unknown asset `NVDAA`",
        "did you mean `NVDA`?",
    );
    check(
        &edit("tag: semis, return", "tag: semi, return"),
        "shocks[1].tag",
        (42, 23),
        "no asset has the tag `semi`",
        "did you mean `semis`?",
    );
    check(
        &edit("holder: fund, fraction", "holder: fnd, fraction"),
        "shocks[7].holder",
        (48, 33),
        "unknown holder `fnd`",
        "did you mean `fund`?",
    );
    check(
        &edit(
            "margin: { lender: ib, loan: 100000",
            "margin: { lender: hf, loan: 100000",
        ),
        "holders[0].margin.lender",
        (17, 23),
        "`hf` is a holder (holders[3]), expected a lender",
        "",
    );
    check(
        &edit("source: src1 }", "source: scr1 }"),
        "assets[0].source",
        (9, 132),
        "unknown source `scr1`",
        "did you mean `src1`?",
    );
    check(
        &edit("NVDA: { drawdown", "NVDAX: { drawdown"),
        "expect.assets.NVDAX",
        (53, 13),
        "unknown asset `NVDAX`",
        "did you mean `NVDA`?",
    );
}

#[test]
fn duplicate_ids_and_keys() {
    check(
        &edit("  - id: fund\n", "  - id: etf\n"),
        "holders[4].id",
        (36, 9),
        "duplicate id `etf`: already used by a holder (holders[2])",
        "own id",
    );
    check(
        &edit("  - id: fund\n", "  - id: NVDA\n"),
        "holders[4].id",
        (36, 9),
        "already used by an asset (assets[0])",
        "",
    );
    check(
        &edit(
            "    accounts: 1000\n",
            "    accounts: 1000\n    accounts: 10\n",
        ),
        "holders[1].accounts",
        (21, 5),
        "duplicate key `accounts` (first at line 20)",
        "",
    );
}

#[test]
fn builder_problems_map_to_yaml_paths() {
    check(
        &edit(
            "loan: 100000, maintenance: 0.3",
            "loan: 100000, maintenance: 1.3",
        ),
        "holders[0].margin.maintenance",
        (17, 54),
        "must be in (0, 1], got 1.3",
        "FINRA",
    );
    check(
        &edit("basket: { NVDA: 0.6", "basket: { NVDA: 0.7"),
        "holders[2].basket",
        (28, 13),
        "basket weights must sum to 1, got 1.1",
        "",
    );
    check(
        &edit("{ ltv: 0.4, share: 0.5 }", "{ ltv: 0.4, share: 0.6 }"),
        "holders[1].ltv_buckets",
        (22, 18),
        "bucket shares must sum to 1",
        "",
    );
    check(
        &edit("price: 100.0", "price: -100.0"),
        "assets[1].price",
        (10, 23),
        "must be a finite number > 0, got -100",
        "",
    );
    check(
        &edit("capital: 1.0e10", "capital: -1"),
        "lenders[0].capital",
        (12, 24),
        "must be a finite number > 0",
        "",
    );
    check(
        &edit("cure_rate: 0.1", "cure_rate: 1.5"),
        "defaults.cure_rate",
        (7, 14),
        "[0, 1]",
        "",
    );
    check(
        &edit("{ ltv: 0.2, share", "{ ltv: 1.2, share"),
        "holders[1].ltv_buckets[0].ltv",
        (22, 27),
        "loan-to-value must be in [0, 1)",
        "Reg T",
    );
}

#[test]
fn shock_and_engine_ranges() {
    check(
        &edit("return: -0.17", "return: -17"),
        "shocks[0].return",
        (41, 41),
        "cannot be below -1",
        "fractions",
    );
    check(
        &edit("fraction: 0.1 }", "fraction: 1.1 }"),
        "shocks[7].fraction",
        (48, 49),
        "in [0, 1], got 1.1",
        "",
    );
    check(
        &edit("AMD, usd: 1.0e9 }", "AMD, usd: -1.0e9 }"),
        "shocks[4].usd",
        (45, 46),
        "≥ 0",
        "",
    );
    check(
        &edit(
            "{ type: redemption, holder: fund",
            "{ type: redemption, holder: hf",
        ),
        "shocks[7].holder",
        (48, 33),
        "redemptions apply to a fund",
        "",
    );
    check(
        &edit("max_rounds: 50", "max_rounds: 0"),
        "engine.max_rounds",
        (49, 23),
        "at least 1 round",
        "",
    );
    check(
        &edit("damping: 0.5", "damping: 0"),
        "engine.damping",
        (49, 36),
        "(0, 1]",
        "",
    );
}

#[test]
fn header_fields() {
    check(
        &edit("as_of: 2026-05-29", "as_of: 2026-02-30"),
        "as_of",
        (3, 8),
        "expected an ISO date YYYY-MM-DD, got `2026-02-30`",
        "2026-05-29",
    );
    check(
        &edit(
            "description: A small scenario for unit tests.",
            "description: \"  \"",
        ),
        "description",
        (2, 14),
        "must not be empty",
        "",
    );
    check(
        &edit("name: unit\n", ""),
        "name",
        (1, 1),
        "missing required key `name`",
        "stem",
    );
    check(
        &edit("date: 2026-01-20", "date: 20 Jan 2026"),
        "sources[0].date",
        (5, 45),
        "ISO date",
        "",
    );
}

#[test]
fn expectation_bounds() {
    check(
        &edit("{ min: 1.0, max: 3.0 }", "{ min: 3.0, max: 1.0 }"),
        "expect.totals.amplification.min",
        (52, 35),
        "min (3) is above max (1)",
        "swap",
    );
    check(
        &edit("{ min: 1.0, max: 3.0 }", "{ min: 1.0, equals: 3.0 }"),
        "expect.totals.amplification",
        (52, 28),
        "mixes forms",
        "approx",
    );
    check(
        &edit("defaults: { equals: 0 }", "defaultz: { equals: 0 }"),
        "expect.totals.defaultz",
        (52, 52),
        "unknown key `defaultz`",
        "did you mean `defaults`?",
    );
    check(
        &edit("status: sold }", "status: sould }"),
        "expect.holders.etf.status",
        (54, 29),
        "unknown value `sould` for `status`",
        "did you mean `sold`?",
    );
}

#[test]
fn all_semantic_problems_come_at_once_sorted_by_line() {
    let text = edit(
        "loan: 100000, maintenance: 0.3",
        "loan: 100000, maintenance: 1.3",
    )
    .replacen("price: 100.0", "price: -1.0", 1)
    .replacen("tag: semis, return", "tag: semi, return", 1);
    let diags = load(&text).expect_err("three problems");
    assert_eq!(diags.len(), 3, "{diags:#?}");
    let lines: Vec<_> = diags.iter().map(|d| d.line).collect();
    assert_eq!(lines, vec![Some(10), Some(17), Some(42)]);
}

#[test]
fn csv_books_need_a_file() {
    let text = edit(
        "  - id: fund\n",
        "  - id: book\n    kind: account_book\n    accounts_csv: a.csv\n    holdings_csv: h.csv\n    margin: { lender: ib, maintenance: 0.3 }\n  - id: fund\n",
    );
    check(
        &text,
        "holders[4].accounts_csv",
        (38, 19),
        "given as text",
        "from a file",
    );
}

#[test]
fn empty_and_garbage_inputs() {
    for text in ["", "   \n", "# nothing\n", "~\n"] {
        let d = load(text).expect_err("empty");
        assert!(d[0].message.contains("empty"), "{text:?}: {d:?}");
    }
    let d = load("just a string").expect_err("scalar");
    assert!(
        d[0].message.contains("expected a mapping of scenario keys"),
        "{d:?}"
    );
    let d = load("a: 1\0").expect_err("nul");
    assert!(d[0].message.contains("binary"), "{d:?}");
    let d = load("a: [1, 2\nb: 3\n").expect_err("syntax");
    assert!(
        d[0].message.contains("YAML syntax error") && d[0].line.is_some(),
        "{d:?}"
    );
}

#[test]
fn json_schema_describes_the_format() {
    let schema = crate::json_schema();
    let props = &schema["properties"];
    for key in [
        "name",
        "description",
        "as_of",
        "assets",
        "holders",
        "lenders",
        "shocks",
        "engine",
        "expect",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}

/// Two leverage-ratio banks, a sequential engine, and three variants.
const VARIANTS: &str = "\
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

#[test]
fn engine_mode_and_insolvency_ratio() {
    let s = load(VARIANTS).expect("valid");
    assert_eq!(s.engine.mode, delever_engine::Mode::Sequential);
    assert_eq!(s.engine.max_rounds, 200);
    let b1 = s.network.holder(HolderIx(0));
    assert_eq!(b1.default_below_ratio, Some(0.03));
    check(
        &VARIANTS.replace("mode: sequential", "mode: sequentail"),
        "engine.mode",
        (18, 17),
        "unknown value `sequentail`",
        "did you mean `sequential`?",
    );
    check(
        &VARIANTS.replace("default_below_ratio: 0.03", "default_below_ratio: 0.05"),
        "holders[0].default_below_ratio",
        (13, 26),
        "below the ratio at which the rule starts selling (0.04",
        "act below 0.04",
    );
    // Only banks and leveraged funds.
    let fund = BASE.replacen(
        "    redemption_beta: 2.5\n",
        "    redemption_beta: 2.5\n    default_below_ratio: 0.03\n",
        1,
    );
    let Err(d) = load(&fund) else {
        panic!("a fund with default_below_ratio must be refused");
    };
    assert!(
        d.iter().any(|d| d.path == "holders[4].default_below_ratio"
            && d.message.contains("belongs to bank, leveraged_fund")),
        "{d:#?}"
    );
}

#[test]
fn variants_expand_into_scenarios() {
    let s = load(VARIANTS).expect("valid");
    assert_eq!(s.variants.len(), 3);
    let all = s.expand().expect("expands");
    let names: Vec<&str> = all.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["vary@eq", "vary@big", "vary@quiet"]);
    // `eq`: the base's shocks and max_rounds, the mode replaced.
    assert_eq!(all[0].engine.mode, delever_engine::Mode::Equilibrium);
    assert_eq!(all[0].engine.max_rounds, 200);
    assert_eq!(all[0].shocks, s.shocks);
    assert!(all[0].expect.is_none());
    assert_eq!(all[0].description, s.description);
    // `big`: its own shocks, impact and expectations; the base network otherwise.
    assert_eq!(
        all[1].shocks,
        vec![Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.30
        }]
    );
    assert_eq!(
        all[1].network.asset(AssetIx(0)).impact,
        ImpactLaw::Exponential { alpha: 1.0259 }
    );
    assert_eq!(
        all[1].network.asset(AssetIx(1)).impact,
        ImpactLaw::Exponential { alpha: 0.2 }
    );
    assert_eq!(all[1].description, "A 30% shock with strong impact.");
    assert!(all[1].expect.is_some());
    assert!(all[1].variants.is_empty());
    assert!(all[2].shocks.is_empty());
    assert_eq!(s.find_variant("big").map(|v| v.impact.len()), Some(1));
    // A variant runs like any scenario.
    let out = delever_engine::run(&all[1].network, &all[1].shocks, &all[1].engine).expect("runs");
    let results = all[1].expect.as_ref().expect("expect").evaluate(&out);
    assert!(results.iter().all(|r| r.passed), "{results:#?}");
}

#[test]
fn variant_problems_have_precise_paths() {
    check(
        &VARIANTS.replace("return: -0.30", "return: -30"),
        "variants[1].shocks[0].return",
        (24, 50),
        "cannot be below -1",
        "fractions",
    );
    check(
        &VARIANTS.replace("asset: GOV, return: -0.30", "asset: GOVV, return: -0.30"),
        "variants[1].shocks[0].asset",
        (24, 37),
        "unknown asset `GOVV`",
        "did you mean `GOV`?",
    );
    check(
        &VARIANTS.replace("impact: { GOV:", "impact: { GOVT:"),
        "variants[1].impact.GOVT",
        (25, 15),
        "unknown asset `GOVT`",
        "GOV",
    );
    check(
        &VARIANTS.replace(
            "law: exponential, alpha: 1.0259",
            "law: square_root, y: 0.7",
        ),
        "variants[1].impact.GOV",
        (25, 20),
        "square-root impact law needs adv_usd > 0",
        "average daily volume",
    );
    check(
        &VARIANTS.replace("alpha: 1.0259", "y: 1.0259"),
        "variants[1].impact.GOV.y",
        (25, 40),
        "`y` does not apply to impact law `exponential`",
        "",
    );
    check(
        &VARIANTS.replace("engine: { mode: equilibrium }", "engine: { max_rounds: 0 }"),
        "variants[0].engine.max_rounds",
        (21, 27),
        "at least 1 round",
        "",
    );
    check(
        &VARIANTS.replace("defaults: { equals: 1 }", "defaults: { min: 2, max: 1 }"),
        "variants[1].expect.totals.defaults.min",
        (26, 42),
        "min (2) is above max (1)",
        "swap",
    );
    check(
        &VARIANTS.replace("name: quiet", "name: big"),
        "variants[2].name",
        (27, 11),
        "duplicate variant name `big`",
        "",
    );
    check(
        &VARIANTS.replace("name: quiet", "name: a quiet one"),
        "variants[2].name",
        (27, 11),
        "letters, digits",
        "gov-10pct",
    );
    check(
        &VARIANTS.replace("    shocks: []\n", "    shock: []\n"),
        "variants[2].shock",
        (28, 5),
        "unknown key `shock`",
        "did you mean `shocks`?",
    );
}

/// The diagnostic at `path` of `text`, which must fail to load; it has a line and a hint.
#[track_caller]
fn diag_at(text: &str, path: &str) -> Diagnostic {
    let Err(diags) = load(text) else {
        panic!("expected an error at {path}");
    };
    let Some(d) = diags.into_iter().find(|d| d.path == path) else {
        panic!("no diagnostic at `{path}`");
    };
    assert!(d.line.is_some() && d.hint.is_some(), "{d}");
    d
}

#[test]
fn finite_but_huge_values_are_refused_at_load() {
    // Each would overflow to infinity inside the engine (a `null` in the report).
    for (from, to, path, message) in [
        (
            "return: -0.17",
            "return: 1e306",
            "shocks[0].return",
            "must be at most 10, got 1e306",
        ),
        (
            "price: 100.0",
            "price: 1e308",
            "assets[1].price",
            "must be in [1e-6, 1e9] USD per share, got 1e308",
        ),
        (
            "nav: 1.0e9",
            "nav: 1e308",
            "holders[2].nav",
            "must be at most 1e15 USD, got 1e308",
        ),
        (
            "AMD, usd: 50000",
            "AMD, usd: 1e308",
            "holders[0].holdings[1].usd",
            "must be at most 1e15 USD, got 1e308",
        ),
        (
            "multiple: 3",
            "multiple: 1e308",
            "holders[2].multiple",
            "must be in [-10, 10], got 1e308",
        ),
        (
            "max: 10 }",
            "max: 1e300 }",
            "holders[3].rule.max",
            "must be at most 1000, got 1e300",
        ),
        (
            "redemption_beta: 2.5",
            "redemption_beta: 1e300",
            "holders[4].redemption_beta",
            "must be at most 100, got 1e300",
        ),
        (
            "loan: 5.0e8",
            "loan: 1e300",
            "holders[3].margin.loan",
            "must be at most 1e15 USD",
        ),
        (
            "capital: 1.0e10",
            "capital: 2e15",
            "lenders[0].capital",
            "must be at most 1e15 USD, got 2e15",
        ),
        (
            "trigger: 0.25",
            "trigger: 1e9",
            "lenders[0].tighten.trigger",
            "must be at most 1000",
        ),
        (
            "adv_usd: 4.0e10",
            "adv_usd: 1e300",
            "assets[0].adv_usd",
            "must be at most 1e15 USD",
        ),
        (
            "daily_vol: 0.025",
            "daily_vol: 3",
            "assets[0].daily_vol",
            "must be at most 1, got 3",
        ),
        (
            "beta: 2.0",
            "beta: -1e300",
            "assets[0].beta",
            "must be in [-100, 100], got -1e300",
        ),
        (
            "duration: 12",
            "duration: 1e300",
            "assets[1].duration",
            "must be in [-1000, 1000] years",
        ),
        (
            "shares_outstanding: 1.6e9",
            "shares_outstanding: 1e300",
            "assets[1].shares_outstanding",
            "must be in [1, 1e18] shares",
        ),
        (
            "shares_outstanding: 1.6e9",
            "shares_outstanding: 1e-3",
            "assets[1].shares_outstanding",
            "got 0.001",
        ),
        (
            "per_usd: 1e-13",
            "per_usd: 1e300",
            "assets[1].impact.per_usd",
            "must be at most 1, got 1e300",
        ),
        (
            "NVDA, shares: 1000 }",
            "NVDA, shares: 1e300 }",
            "holders[0].holdings[0].shares",
            "must be at most 1e18 shares",
        ),
        (
            "delta: 0.01",
            "delta: 1e300",
            "shocks[3].delta",
            "must be in [-1, 1], got 1e300",
        ),
        (
            "AMD, usd: 1.0e9 }",
            "AMD, usd: 1e300 }",
            "shocks[4].usd",
            "must be at most 1e15 USD",
        ),
        (
            "damping: 0.5 }",
            "damping: 0.5, tolerance: 5 }",
            "engine.tolerance",
            "must be at most 1, got 5",
        ),
        (
            "accounts: 1000",
            "accounts: 1e12",
            "holders[1].accounts",
            "must be at most 1000000000 accounts, got 1e12",
        ),
        (
            "accounts: 1000",
            "accounts: 1e300",
            "holders[1].accounts",
            "must be at most 1000000000 accounts, got 1e300",
        ),
        (
            "accounts: 1000",
            "accounts: 5000000000",
            "holders[1].accounts",
            "must be at most 1000000000 accounts, got 5000000000",
        ),
    ] {
        let d = diag_at(&edit(from, to), path);
        assert!(d.message.contains(message), "{to}: {d}");
    }
    // The bounds themselves are accepted.
    for (from, to) in [
        ("price: 100.0", "price: 1e9"),
        ("price: 100.0", "price: 1e-6"),
        ("capital: 1.0e10", "capital: 1e15"),
        ("multiple: 3", "multiple: -10"),
        ("return: -0.17", "return: 10"),
        ("max_rounds: 50", "max_rounds: 1000000"),
    ] {
        if let Err(d) = load(&edit(from, to)) {
            panic!("{to}: {d:#?}");
        }
    }
}

#[test]
fn a_tiny_price_names_the_price_of_a_usd_holding() {
    let d = diag_at(
        &edit("price: 100.0", "price: 1e-300"),
        "holders[0].holdings[1].usd",
    );
    assert_eq!(
        d.message,
        "50000 USD at the price of `AMD` (`assets[1].price`: 1e-300 USD per share) is 5e304 shares, more than the 1e18 a position may hold"
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or("")
            .contains("`assets[1].price`"),
        "{d}"
    );
    // Below the limit of prices as well, reported at the price.
    let d = diag_at(&edit("price: 100.0", "price: 1e-300"), "assets[1].price");
    assert!(d.message.contains("must be in [1e-6, 1e9]"), "{d}");
}

#[test]
fn max_rounds_beyond_any_integer_is_above_the_maximum() {
    for (value, got) in [
        ("18446744073709551615", "18446744073709551615"),
        ("99999999999999999999999", "99999999999999999999999"),
        ("1000001", "1000001"),
    ] {
        let d = diag_at(
            &edit("max_rounds: 50", &format!("max_rounds: {value}")),
            "engine.max_rounds",
        );
        assert_eq!(
            d.message,
            format!("must be at most 1000000 rounds, got {got}"),
            "{d}"
        );
        assert!(!d.message.contains("whole number"), "{d}");
    }
    let d = diag_at(
        &edit("max_rounds: 50", "max_rounds: 2.5"),
        "engine.max_rounds",
    );
    assert_eq!(
        d.message,
        "expected a whole number ≥ 1, found the number 2.5"
    );
    let s = load(&edit("max_rounds: 50", "max_rounds: 2.0e2")).expect("a whole number");
    assert_eq!(s.engine.max_rounds, 200);
}

#[test]
fn yaml_tags_are_refused() {
    for (tagged, tag) in [
        ("!!str 100.0", "!!str"),
        ("!!float 100", "!!float"),
        ("!price 100", "!price"),
    ] {
        let d = diag_at(
            &edit("price: 100.0", &format!("price: {tagged}")),
            "assets[1].price",
        );
        assert_eq!((d.line, d.column), (Some(10), Some(23)), "{d}");
        assert_eq!(
            d.message,
            format!("YAML tags are not accepted, found `{tag}`")
        );
    }
    let d = diag_at(
        &edit(
            "description: A small",
            "description: !!binary QSBzbWFsbA== #",
        ),
        "description",
    );
    assert!(d.message.contains("`!!binary`"), "{d}");
}

#[test]
fn unicode_line_separators_get_one_line_number() {
    // libyaml (serde) ends a line at U+2028, saphyr (the span index) does not: the file
    // is refused where the character is, with the line an editor shows.
    for (sep, name) in [
        ('\u{2028}', "line separator"),
        ('\u{2029}', "paragraph separator"),
        ('\u{85}', "next-line"),
    ] {
        let text = edit(
            "description: A small scenario for unit tests.",
            &format!("description: |\n  A small{sep}scenario.\n  More."),
        );
        let Err(diags) = load(&text) else {
            panic!("loaded");
        };
        assert_eq!(diags.len(), 1, "{diags:#?}");
        let d = &diags[0];
        assert_eq!((d.line, d.column), (Some(3), Some(10)), "{d}");
        assert!(d.message.contains(name), "{d}");
        assert!(!d.message.contains("at line"), "{d}");
    }
}

#[test]
fn messages_quote_at_most_80_characters_of_input() {
    let long = "Z".repeat(1_000_000);
    for text in [
        edit("price: 100.0", &format!("price: {long}")),
        edit("asset: NVDA, return", &format!("asset: {long}, return")),
        edit(
            "lender: ib, loan: 100000",
            &format!("lender: {long}, loan: 100000"),
        ),
        edit("as_of: 2026-05-29", &format!("as_of: {long}")),
        edit("kind: fund", &format!("kind: {long}")),
    ] {
        let Err(diags) = load(&text) else {
            panic!("loaded");
        };
        for d in diags {
            let shown = d.to_string();
            assert!(
                shown.len() < 1000,
                "{} bytes: {}",
                shown.len(),
                &shown[..300]
            );
            assert!(shown.contains("ZZZ…"), "{shown}");
        }
    }
}
