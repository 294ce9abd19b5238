//! Unit tests: absurd but finite values, odd input (tags, line separators, long strings)
//! and the limits that refuse them.

#![allow(clippy::too_many_lines)] // the tests check one scenario field by field

use super::*;

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
