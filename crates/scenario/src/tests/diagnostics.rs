//! Unit tests: each kind of mistake gives a located message, with a hint where one helps.

#![allow(clippy::too_many_lines)] // the tests check one scenario field by field

use super::*;

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

#[test]
fn a_name_that_differs_from_the_stem_is_an_error_strictly_and_a_warning_leniently() {
    let dir = std::env::temp_dir().join(format!("delever-stem-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create the directory");
    let file = dir.join("other.yaml");
    std::fs::write(&file, BASE).expect("write");
    let strict = Scenario::load(&file).expect_err("the stem rule");
    assert!(
        strict
            .to_string()
            .contains("differs from the file's stem `other`"),
        "{strict}"
    );
    let (s, warning) = Scenario::load_lenient(&file).expect("lenient");
    assert_eq!(s.name, "unit");
    let w = warning.expect("a warning");
    assert_eq!(
        (w.path.as_str(), w.line, w.column),
        ("name", Some(1), Some(7))
    );
    assert!(w.message.contains("the name `unit` differs"), "{w}");
    let (t, warning) = crate::Template::load_lenient(&file).expect("lenient template");
    assert_eq!(t.base().name, "unit");
    assert!(warning.is_some());
    // A matching name: no warning.
    let same = dir.join("unit.yaml");
    std::fs::write(&same, BASE).expect("write");
    assert!(Scenario::load_lenient(&same).expect("loads").1.is_none());
    let _ = std::fs::remove_dir_all(dir);
}
