//! Unit tests of the convexity kinds (`options_dealer`, `vol_target`, `trend_follower`):
//! their conversion, and every check of theirs reported at its line and column.

use delever_graph::{GammaLine, Lookback, OptionLine, OptionRight, TrendMarket, VolTargetRule};

use super::*;

/// A dealer, a vol-target fund on margin and a trend follower on two assets.
const CONVEX: &str = "\
name: unit
description: The convexity kinds.
as_of: 2026-05-29
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.4e10, adv_usd: 4.0e10, daily_vol: 0.025 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.6e9, adv_usd: 8.0e9, daily_vol: 0.03 }
lenders:
  - { id: prime, capital: 4.0e10 }
holders:
  - id: dealers
    kind: options_dealer
    cash: 1.0e9
    options:
      - { asset: NVDA, type: call, strike: 210, expiry_days: 10, implied_vol: 0.5, shares: 1.0e7, side: short }
      - { asset: AMD, type: put, strike: 90, expiry_days: 21, implied_vol: 0.6, shares: 2.0e6, side: long }
    gamma:
      - { asset: AMD, usd_per_pct: -2.0e7 }
  - id: vt
    kind: vol_target
    cash: 1.0e8
    holdings: [ { asset: NVDA, usd: 2.0e9 } ]
    other_liabilities: 5.0e8
    target_vol: 0.10
    realised_vol: 0.12
    band: 0.02
  - id: cta
    kind: trend_follower
    cash: 5.0e8
    lookbacks: [ { days: 21 }, { days: 63, weight: 2 } ]
    markets:
      - { asset: NVDA, max_usd: 1.0e9, past_returns: [0.05, 0.12] }
      - { asset: AMD, max_usd: 5.0e8, past_returns: [-0.02, 0.03] }
shocks:
  - { type: asset, asset: NVDA, return: -0.10 }
";

/// `CONVEX` with `from` replaced by `to` (which must occur).
fn convex(from: &str, to: &str) -> String {
    assert!(CONVEX.contains(from), "CONVEX lacks {from:?}");
    CONVEX.replacen(from, to, 1)
}

fn kind_of(s: &Scenario, id: &str) -> HolderKind {
    let h = s.network.holders().iter().find(|h| h.id == id);
    h.map(|h| h.kind.clone()).expect("the holder exists")
}

#[test]
fn the_three_kinds_convert_with_their_defaults() {
    let s = load(CONVEX).expect("valid");
    assert_eq!(
        kind_of(&s, "dealers"),
        HolderKind::OptionsDealer {
            options: vec![
                OptionLine {
                    asset: "NVDA".into(),
                    right: OptionRight::Call,
                    strike: 210.0,
                    expiry_days: 10.0,
                    implied_vol: 0.5,
                    shares: -1.0e7,
                },
                OptionLine {
                    asset: "AMD".into(),
                    right: OptionRight::Put,
                    strike: 90.0,
                    expiry_days: 21.0,
                    implied_vol: 0.6,
                    shares: 2.0e6,
                },
            ],
            gamma: vec![GammaLine {
                asset: "AMD".into(),
                usd_per_pct: -2.0e7,
            }],
        }
    );
    assert_eq!(
        kind_of(&s, "vt"),
        HolderKind::VolTarget {
            rule: VolTargetRule {
                target_vol: 0.10,
                realised_vol: 0.12,
                half_life_days: 20.0,
                max_leverage: 2.0,
                band: 0.02,
                lag_days: 1,
            }
        }
    );
    assert_eq!(
        kind_of(&s, "cta"),
        HolderKind::TrendFollower {
            lookbacks: vec![
                Lookback {
                    days: 21,
                    weight: 1.0
                },
                Lookback {
                    days: 63,
                    weight: 2.0
                },
            ],
            markets: vec![
                TrendMarket {
                    asset: "NVDA".into(),
                    max_usd: 1.0e9,
                    past_returns: vec![0.05, 0.12],
                },
                TrendMarket {
                    asset: "AMD".into(),
                    max_usd: 5.0e8,
                    past_returns: vec![-0.02, 0.03],
                },
            ],
            lag_days: 0,
        }
    );
    let vt = s.network.holders().iter().position(|h| h.id == "vt");
    let vt = HolderIx(u32::try_from(vt.expect("vt")).expect("small"));
    assert!(s.network.margin(vt).is_none());
    assert_eq!(s.network.holdings(vt).count(), 1);
}

#[test]
fn written_terms_replace_the_defaults() {
    let s = load(&convex(
        "    band: 0.02\n",
        "    band: 0.02\n    half_life_days: 60\n    max_leverage: 3\n    lag_days: 0\n",
    ))
    .expect("valid");
    let HolderKind::VolTarget { rule } = kind_of(&s, "vt") else {
        panic!("a vol_target");
    };
    assert_eq!(
        (rule.half_life_days, rule.max_leverage, rule.lag_days),
        (60.0, 3.0, 0)
    );
    let s = load(&convex("  - id: cta\n", "  - id: cta\n    lag_days: 2\n")).expect("valid");
    let HolderKind::TrendFollower { lag_days, .. } = kind_of(&s, "cta") else {
        panic!("a trend_follower");
    };
    assert_eq!(lag_days, 2);
}

#[test]
fn option_shares_are_a_count_and_the_side_gives_the_sign() {
    check(
        &convex("shares: 1.0e7, side: short", "shares: -1.0e7, side: short"),
        "holders[0].options[0].shares",
        (14, 92),
        "must be a count of shares > 0, got -1e7",
        "shares are a count; give the dealer's side with `side: short`",
    );
    check(
        &convex("shares: 1.0e7, side: short", "shares: 0, side: short"),
        "holders[0].options[0].shares",
        (14, 92),
        "must be a count of shares > 0, got 0",
        "contracts × 100",
    );
    check(
        &convex("shares: 1.0e7, side: short", "shares: 1.0e7, side: flat"),
        "holders[0].options[0].side",
        (14, 105),
        "unknown value `flat` for `side`",
        "",
    );
}

#[test]
fn option_terms_out_of_range_are_located() {
    check(
        &convex("implied_vol: 0.5,", "implied_vol: 0,"),
        "holders[0].options[0].implied_vol",
        (14, 79),
        "must be in (0, 5], got 0",
        "annual implied volatility",
    );
    check(
        &convex("implied_vol: 0.5,", "implied_vol: -0.2,"),
        "holders[0].options[0].implied_vol",
        (14, 79),
        "got -0.2",
        "0.45 is 45%",
    );
    check(
        &convex("expiry_days: 10,", "expiry_days: 0,"),
        "holders[0].options[0].expiry_days",
        (14, 62),
        "got 0",
        "trading days to expiry",
    );
    check(
        &convex("expiry_days: 10,", "expiry_days: -3,"),
        "holders[0].options[0].expiry_days",
        (14, 62),
        "got -3",
        "trading days to expiry",
    );
    // A strike ≤ 0 is reported once, with the range of prices.
    let text = convex("strike: 210,", "strike: 0,");
    check(
        &text,
        "holders[0].options[0].strike",
        (14, 44),
        "must be in [1e-6, 1e9] USD per share, got 0",
        "a strike is a price per share",
    );
    let diags = load(&text).expect_err("invalid");
    assert_eq!(diags.len(), 1, "{diags:#?}");
}

#[test]
fn an_unknown_asset_in_a_line_is_located_with_a_suggestion() {
    check(
        &convex("{ asset: NVDA, type: call", "{ asset: NVDAA, type: call"),
        "holders[0].options[0].asset",
        (14, 18),
        "unknown asset `NVDAA`",
        "did you mean `NVDA`?",
    );
    check(
        &convex("{ asset: AMD, usd_per_pct", "{ asset: AMDD, usd_per_pct"),
        "holders[0].gamma[0].asset",
        (17, 18),
        "unknown asset `AMDD`",
        "did you mean `AMD`?",
    );
    check(
        &convex("{ asset: AMD, max_usd", "{ asset: vt, max_usd"),
        "holders[2].markets[1].asset",
        (32, 18),
        "`vt` is not an asset",
        "known assets: `AMD`, `NVDA`",
    );
}

#[test]
fn a_dealer_needs_lines_and_takes_no_holdings() {
    check(
        &convex("    gamma:\n      - { asset: AMD, usd_per_pct: -2.0e7 }\n", "    gamma: []\n")
            .replacen("    options:\n", "    options: []\n    x_options:\n", 1)
            .replacen("    x_options:\n", "    tags:\n", 1)
            .replacen(
                "      - { asset: NVDA, type: call, strike: 210, expiry_days: 10, implied_vol: 0.5, shares: 1.0e7, side: short }\n      - { asset: AMD, type: put, strike: 90, expiry_days: 21, implied_vol: 0.6, shares: 2.0e6, side: long }\n",
                "      - dealer\n",
                1,
            ),
        "holders[0]",
        (10, 5),
        "an options dealer needs `options` or `gamma` lines",
        "e.g. options:",
    );
    check(
        &convex(
            "    cash: 1.0e9\n",
            "    cash: 1.0e9\n    holdings: [ { asset: NVDA, usd: 1.0e6 } ]\n",
        ),
        "holders[0].holdings",
        (13, 5),
        "`holdings` does not apply to holder kind `options_dealer`",
        "remove `holdings`",
    );
    check(
        &convex(
            "    gamma:\n      - { asset: AMD, usd_per_pct: -2.0e7 }\n",
            "    gamma:\n      - { asset: AMD, usd_per_pct: -2.0e16 }\n",
        ),
        "holders[0].gamma[0].usd_per_pct",
        (17, 36),
        "must be in [-1e15, 1e15] USD, got -2e16",
        "signed as the dealer's gamma",
    );
}

#[test]
fn vol_target_terms_out_of_range_are_located() {
    for (from, to, path, at, got) in [
        (
            "target_vol: 0.10",
            "target_vol: 0",
            "holders[1].target_vol",
            (23, 17),
            "got 0",
        ),
        (
            "target_vol: 0.10",
            "target_vol: -0.1",
            "holders[1].target_vol",
            (23, 17),
            "got -0.1",
        ),
        (
            "realised_vol: 0.12",
            "realised_vol: 0",
            "holders[1].realised_vol",
            (24, 19),
            "got 0",
        ),
        (
            "band: 0.02",
            "band: 1",
            "holders[1].band",
            (25, 11),
            "must be in [0, 1), got 1",
        ),
        (
            "band: 0.02",
            "band: 1.5",
            "holders[1].band",
            (25, 11),
            "got 1.5",
        ),
    ] {
        check(&convex(from, to), path, at, got, "");
    }
    check(
        &convex("target_vol: 0.10", "target_vol: 0"),
        "holders[1].target_vol",
        (23, 17),
        "must be in (0, 5], got 0",
        "annual volatility the fund targets",
    );
    check(
        &convex("    band: 0.02\n", "    band: 0.02\n    max_leverage: 0\n"),
        "holders[1].max_leverage",
        (26, 19),
        "must be in (0, 10], got 0",
        "",
    );
    check(
        &convex("    target_vol: 0.10\n", ""),
        "holders[1].target_vol",
        (18, 5),
        "missing required key `target_vol` for a vol_target",
        "e.g. `target_vol: 0.10`",
    );
}

#[test]
fn a_market_traded_twice_or_no_market_is_located() {
    check(
        &convex("{ asset: AMD, max_usd", "{ asset: NVDA, max_usd"),
        "holders[2].markets",
        (31, 7),
        "an asset appears twice in the markets",
        "",
    );
}

#[test]
fn trend_follower_terms_out_of_range_are_located() {
    check(
        &convex("{ days: 21 }", "{ days: 0 }"),
        "holders[2].lookbacks[0].days",
        (29, 26),
        "expected a whole number of trading days ≥ 1, got 0",
        "21, 63 and 252",
    );
    // Longer than the horizon: ten years of trading days at most, and reported once.
    let text = convex("{ days: 21 }", "{ days: 3000 }");
    check(
        &text,
        "holders[2].lookbacks[0].days",
        (29, 26),
        "must be at most 2520 trading days, got 3000",
        "past any horizon delever takes",
    );
    assert_eq!(load(&text).expect_err("invalid").len(), 1);
    check(
        &convex("past_returns: [-0.02, 0.03]", "past_returns: [-0.02]"),
        "holders[2].markets[1].past_returns",
        (32, 53),
        "has 1 returns for 2 lookbacks",
        "in the order of `lookbacks`",
    );
    check(
        &convex("past_returns: [-0.02, 0.03]", "past_returns: [-0.02, -1.5]"),
        "holders[2].markets[1].past_returns[1]",
        (32, 61),
        "must be a finite return > −1, got -1.5",
        "",
    );
    check(
        &convex("{ days: 63, weight: 2 }", "{ days: 63, weight: 0 }"),
        "holders[2].lookbacks[1].weight",
        (29, 52),
        "must be a finite number > 0, got 0",
        "",
    );
    check(
        &convex(
            "    lookbacks: [ { days: 21 }, { days: 63, weight: 2 } ]\n",
            "",
        ),
        "holders[2].lookbacks",
        (26, 5),
        "missing required key `lookbacks` for a trend_follower",
        "{ days: 252 }",
    );
}

#[test]
fn a_dealer_or_trend_follower_without_capital_is_told_to_give_cash() {
    check(
        &convex("    cash: 1.0e9\n", ""),
        "holders[0]",
        (10, 5),
        "starting equity must be positive, got 0 USD",
        "an options dealer holds nothing, so its equity is `cash` + `other_assets`",
    );
    check(
        &convex("    cash: 5.0e8\n", "    cash: 0\n"),
        "holders[2].cash",
        (28, 11),
        "starting equity must be positive, got 0 USD",
        "a trend follower holds nothing",
    );
}

#[test]
fn a_vol_target_fund_takes_no_margin() {
    // The engine applies no margin call to it: a lender's maintenance would be ignored.
    check(
        &convex(
            "    other_liabilities: 5.0e8\n",
            "    margin: { lender: prime, loan: 5.0e8, maintenance: 0.25 }\n",
        ),
        "holders[1].margin",
        (22, 5),
        "`margin` does not apply to holder kind `vol_target`",
        "remove `margin`",
    );
}

#[test]
fn the_keys_of_the_new_kinds_are_misplaced_elsewhere() {
    check(
        &convex(
            "    band: 0.02\n",
            "    band: 0.02\n    lookbacks: [ { days: 5 } ]\n",
        ),
        "holders[1].lookbacks",
        (26, 5),
        "`lookbacks` does not apply to holder kind `vol_target`; it belongs to trend_follower",
        "remove `lookbacks`",
    );
    check(
        &convex(
            "    kind: options_dealer\n",
            "    kind: options_dealer\n    lag_days: 1\n",
        ),
        "holders[0].lag_days",
        (12, 5),
        "`lag_days` does not apply to holder kind `options_dealer`; it belongs to vol_target, trend_follower",
        "",
    );
}
