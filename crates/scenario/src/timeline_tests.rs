//! The timeline's part of the format: engine days, shock days, impact decay, deadlines,
//! participation, lenders' close-out and day expectations — mapped to the model, and each
//! mistake a located error.

use delever_engine::{Mode, Shock};
use delever_graph::{HolderIx, ImpactDecay, TransientImpact};

use crate::{Diagnostic, Scenario};

const BASE: &str = "\
name: week
description: A week of a small market.
as_of: 2026-05-29
sources: [{ id: s, title: \"hand-worked\" }]
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.4e10, adv_usd: 4.0e10, daily_vol: 0.025, impact: { law: square_root, y: 0.7, decay: { permanent: 0.5, half_life_days: 2 } } }
  - { id: AMD, price: 100.0, shares_outstanding: 1.6e9, adv_usd: 8.0e9, daily_vol: 0.03 }
lenders:
  - { id: pb, capital: 1.0e10, liquidation: { delay_days: 2, participation: 0.2, close_out: true } }
  - { id: broker, capital: 1.0e10 }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: NVDA, shares: 1000 } ]
    margin: { lender: broker, loan: 100000, maintenance: 0.3 }
  - id: hf
    kind: leveraged_fund
    rule: { type: passive }
    participation: 0.1
    holdings: [ { asset: NVDA, usd: 1.0e9 } ]
    margin: { lender: pb, loan: 6.0e8, maintenance: 0.25 }
  - id: fund
    kind: fund
    redemption_beta: 2.5
    holdings: [ { asset: AMD, usd: 1.0e8 } ]
shocks:
  - { type: asset, asset: NVDA, return: -0.10 }
  - { type: asset, asset: NVDA, return: 0.04, day: 2 }
engine: { mode: timeline, days: 5 }
";

fn load(text: &str) -> Result<Scenario, Vec<Diagnostic>> {
    Scenario::from_yaml(text, "week.yaml", None).map_err(|e| e.diagnostics)
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

/// Load `text`, expect failure at `path`, with `message` in its message.
#[track_caller]
fn fails_at(text: &str, path: &str, message: &str) -> Diagnostic {
    let Err(diags) = load(text) else {
        panic!("expected an error at {path}");
    };
    let Some(d) = diags.iter().find(|d| d.path == path) else {
        panic!("no diagnostic at `{path}`: {diags:#?}");
    };
    assert!(d.line.is_some() && d.column.is_some(), "{d}");
    assert!(d.message.contains(message), "message of {d}");
    d.clone()
}

#[test]
fn the_timeline_maps_to_the_model() {
    let s = load(BASE).expect("valid");
    assert_eq!(s.engine.mode, Mode::Timeline);
    assert_eq!(s.engine.days, 5);
    let net = &s.network;
    assert_eq!(
        net.assets()[0].decay,
        ImpactDecay {
            permanent: 0.5,
            transient: vec![TransientImpact {
                share: 0.5,
                half_life_days: 2.0
            }]
        }
    );
    // An asset without decay keeps all of its impact.
    assert!(net.assets()[1].decay.is_permanent());
    // Built-in deadlines: 2 days for retail, 1 on prime-broker margin; funds redeem with
    // a one-day lag.
    let timing = |i: u32| net.holder(HolderIx(i)).timing;
    assert_eq!(timing(0).cure_days, 2);
    assert_eq!(timing(1).cure_days, 1);
    assert_eq!(timing(1).participation, Some(0.1));
    assert_eq!(timing(2).redemption_lag_days, 1);
    let pb = net.lenders()[0].liquidation;
    assert_eq!(
        (pb.delay_days, pb.participation, pb.close_out),
        (2, Some(0.2), true)
    );
    assert_eq!(
        net.lenders()[1].liquidation,
        delever_graph::Liquidation::default()
    );
    // A shock on a later day is dated; day 0 is plain.
    assert!(matches!(s.shocks[0], Shock::AssetReturn { .. }));
    assert!(matches!(s.shocks[1], Shock::OnDay { day: 2, .. }));
    let out = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
    assert_eq!(out.days.len(), 5);
}

#[test]
fn defaults_and_explicit_timing() {
    let s = load(&edit(
        "sources:",
        "defaults: { cure_days: 0, redemption_lag_days: 0 }\nsources:",
    ))
    .expect("valid");
    assert_eq!(s.network.holder(HolderIx(0)).timing.cure_days, 0);
    assert_eq!(s.network.holder(HolderIx(2)).timing.redemption_lag_days, 0);
    let s = load(&edit(
        "    margin: { lender: broker, loan: 100000, maintenance: 0.3 }",
        "    margin: { lender: broker, loan: 100000, maintenance: 0.3 }\n    cure_days: 4",
    ))
    .expect("valid");
    assert_eq!(s.network.holder(HolderIx(0)).timing.cure_days, 4);
    // Several transient parts.
    let s = load(&edit(
        "decay: { permanent: 0.5, half_life_days: 2 }",
        "decay: { permanent: 0.4, transient: [ { share: 0.3, half_life_days: 0.5 }, { share: 0.3, half_life_days: 10 } ] }",
    ))
    .expect("valid");
    assert_eq!(s.network.assets()[0].decay.transient.len(), 2);
}

#[test]
fn timeline_mistakes_are_located() {
    fails_at(&edit("days: 5", "days: 0"), "engine.days", "at least 1 day");
    fails_at(
        &edit(
            "engine: { mode: timeline, days: 5 }",
            "engine: { mode: timeline }",
        ),
        "engine.mode",
        "`days` is missing",
    );
    let d = fails_at(
        &edit("day: 2 }", "day: 5 }"),
        "shocks[1].day",
        "past the run's last day",
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or("")
            .contains("raise `engine.days` to 6"),
        "{d}"
    );
    let d = fails_at(
        &edit(
            "engine: { mode: timeline, days: 5 }",
            "engine: { mode: equilibrium }",
        ),
        "shocks[1].day",
        "needs the timeline mode",
    );
    assert!(
        d.hint.as_deref().unwrap_or("").contains("mode: timeline"),
        "{d}"
    );
    fails_at(&edit("day: 2 }", "day: -1 }"), "shocks[1].day", "≥ 0");
    fails_at(
        &edit("half_life_days: 2 }", "half_life_days: 0 }"),
        "assets[0].impact.decay.half_life_days",
        "must be in (0,",
    );
    fails_at(
        &edit(
            "permanent: 0.5, half_life_days: 2",
            "permanent: 1.5, half_life_days: 2",
        ),
        "assets[0].impact.decay.permanent",
        "[0, 1]",
    );
    fails_at(
        &edit(
            "{ permanent: 0.5, half_life_days: 2 }",
            "{ permanent: 0.5 }",
        ),
        "assets[0].impact.decay.half_life_days",
        "missing",
    );
    fails_at(
        &edit(
            "decay: { permanent: 0.5, half_life_days: 2 }",
            "decay: { permanent: 0.5, transient: [ { share: 0.3, half_life_days: 1 } ] }",
        ),
        "assets[0].impact.decay.transient",
        "sum to 1",
    );
    fails_at(
        &edit("participation: 0.1", "participation: 1.5"),
        "holders[1].participation",
        "(0, 1]",
    );
    fails_at(
        &edit("participation: 0.2", "participation: 0"),
        "lenders[0].liquidation.participation",
        "(0, 1]",
    );
    fails_at(
        &edit("delay_days: 2", "delay_days: 100000"),
        "lenders[0].liquidation.delay_days",
        "at most",
    );
    // Keys on the wrong kind.
    let d = fails_at(
        &edit(
            "    margin: { lender: broker, loan: 100000, maintenance: 0.3 }",
            "    margin: { lender: broker, loan: 100000, maintenance: 0.3 }\n    redemption_lag_days: 2",
        ),
        "holders[0].redemption_lag_days",
        "does not apply to holder kind `margin_account`",
    );
    assert!(d.message.contains("fund"), "{d}");
}

#[test]
fn day_expectations_are_checked_and_located() {
    let with = |block: &str| format!("{BASE}expect:\n  days:\n{block}");
    let s = load(&with(
        "    - { day: 2, assets: { NVDA: { return: { min: 0.0 } } }, totals: { new_defaults: { equals: 0 } } }\n",
    ))
    .expect("valid");
    let out = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
    let results = s.expect.as_ref().expect("expect").evaluate(&out);
    assert!(
        results
            .iter()
            .any(|r| r.what == "days.2.assets.NVDA.return"),
        "{results:#?}"
    );
    assert!(results.iter().all(|r| r.passed), "{results:#?}");
    fails_at(
        &with("    - { day: 5, totals: { sales_usd: { min: 0 } } }\n"),
        "expect.days[0].day",
        "past the run's last day",
    );
    fails_at(
        &with("    - { day: 1, assets: { NVDX: { close: { min: 0 } } } }\n"),
        "expect.days[0].assets.NVDX",
        "unknown asset",
    );
    fails_at(
        &edit(
            "engine: { mode: timeline, days: 5 }",
            "engine: { mode: equilibrium }\nexpect: { days: [ { day: 0 } ] }",
        )
        .replace(", day: 2 }", " }"),
        "expect.days[0].day",
        "need the timeline mode",
    );
}

#[test]
fn a_huge_shock_day_is_one_range_error() {
    // A day too large for any count saturates to i128::MAX: one error, its range,
    // in either mode (this overflowed computing the hint `day + 1`).
    for huge in ["1e300", "340282366920938463463374607431768211456"] {
        let text = edit("day: 2 }", &format!("day: {huge} }}"));
        let one_instant = text.replacen(
            "engine: { mode: timeline, days: 5 }",
            "engine: { mode: equilibrium }",
            1,
        );
        for t in [&text, &one_instant] {
            fails_at(t, "shocks[1].day", "at most 2519");
            let n = load(t).err().map_or(0, |d| {
                d.iter().filter(|d| d.path == "shocks[1].day").count()
            });
            assert_eq!(n, 1, "{huge}");
        }
    }
}
