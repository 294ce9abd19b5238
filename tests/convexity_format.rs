//! The scenario format of the convexity kinds (`options_dealer`, `vol_target`,
//! `trend_follower`): tests/fixtures/convexity.yaml validates and runs; a copy broken in
//! one field is refused with exit 2 at that field's line and column; sweeps reach the
//! kinds' keys; the JSON schema lists them.

use std::path::{Path, PathBuf};

use delever_graph::HolderKind;
use delever_scenario::{FieldPath, OverrideValue, Scenario, Template};

use crate::util::{delever, root, scratch};

const FIXTURE: &str = "tests/fixtures/convexity.yaml";

fn fixture_text() -> String {
    std::fs::read_to_string(root().join(FIXTURE)).expect("read the fixture")
}

/// The fixture with `from` replaced by `to`, written as `convexity.yaml` (the name must
/// be the file's stem) in a fresh directory named for `case`.
fn broken_copy(case: &str, from: &str, to: &str) -> PathBuf {
    let text = fixture_text();
    assert!(text.contains(from), "the fixture lacks {from:?}");
    let dir = scratch(&format!("convexity_format-{case}"));
    let path = dir.join("convexity.yaml");
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write the copy");
    path
}

fn kind(s: &Scenario, id: &str) -> HolderKind {
    let h = s.network.holders().iter().find(|h| h.id == id);
    h.map(|h| h.kind.clone()).expect("the holder exists")
}

#[test]
fn the_fixture_validates_and_runs_in_every_mode() {
    let r = delever(["validate", FIXTURE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = delever(["run", FIXTURE]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for k in ["options_dealer", "vol_target", "trend_follower"] {
        assert!(r.stdout.contains(k), "no `{k}` row in\n{}", r.stdout);
    }
    // Its dealer is short gamma at every price: the system stays monotone.
    assert!(!r.stdout.contains("not monotone"), "{}", r.stdout);
    let dir = scratch("convexity_format-modes");
    for (name, engine) in [
        ("seq", "{ mode: sequential }"),
        ("days", "{ mode: timeline, days: 5 }"),
    ] {
        let text = fixture_text().replacen("name: convexity", &format!("name: {name}"), 1);
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, format!("{text}\nengine: {engine}\n")).expect("write");
        let r = delever([
            "run",
            "--format",
            "json",
            path.to_str().expect("UTF-8 path"),
        ]);
        assert_eq!(r.code, 0, "{name}: {}", r.stderr);
        let report: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
        assert_eq!(report["termination"], "converged", "{name}");
    }
}

/// Each check of the three kinds, on a copy of the fixture broken in one field: the
/// replaced text, the replacement, `LINE:COL: PATH: ` as printed, and parts of the message
/// and hint.
#[rustfmt::skip]
const BROKEN: &[(&str, &str, &str, &[&str])] = &[
    ("target_vol: 0.10", "target_vol: 0", "42:17: holders[2].target_vol: ", &["must be in (0, 5], got 0", "hint: annual volatility the fund targets"]),
    ("target_vol: 0.10", "target_vol: -0.1", "42:17: holders[2].target_vol: ", &["got -0.1"]),
    ("realised_vol: 0.12", "realised_vol: 0", "43:19: holders[2].realised_vol: ", &["must be in (0, 5], got 0", "hint: the fund's estimate of realised volatility"]),
    ("band: 0.02", "band: 1", "46:11: holders[2].band: ", &["must be in [0, 1), got 1", "hint: the fraction by which"]),
    ("{ days: 21 }", "{ days: 0 }", "52:26: holders[3].lookbacks[0].days: ", &["expected a whole number of trading days ≥ 1, got 0", "hint: a lookback is 1 to 2520 trading days"]),
    ("{ days: 21 }", "{ days: 3000 }", "52:26: holders[3].lookbacks[0].days: ", &["must be at most 2520 trading days, got 3000", "past any horizon delever takes"]),
    ("past_returns: [-0.02, 0.03, 0.20]", "past_returns: [-0.02, 0.03]", "55:53: holders[3].markets[1].past_returns: ", &["has 2 returns for 3 lookbacks", "hint: give the asset's return over each lookback"]),
    ("{ asset: NVDA, type: call", "{ asset: NVDX, type: call", "32:18: holders[1].options[0].asset: ", &["unknown asset `NVDX`", "hint: did you mean `NVDA`?"]),
    ("shares: 1.0e7, side: short", "shares: -1.0e7, side: short", "32:92: holders[1].options[0].shares: ", &["must be a count of shares > 0, got -1e7", "hint: shares are a count; give the dealer's side with `side: short`"]),
    ("implied_vol: 0.5,", "implied_vol: 0,", "32:79: holders[1].options[0].implied_vol: ", &["must be in (0, 5], got 0", "hint: annual implied volatility"]),
    ("implied_vol: 0.5,", "implied_vol: -0.5,", "32:79: holders[1].options[0].implied_vol: ", &["got -0.5"]),
    ("expiry_days: 10,", "expiry_days: 0,", "32:62: holders[1].options[0].expiry_days: ", &["got 0", "hint: trading days to expiry"]),
    ("expiry_days: 10,", "expiry_days: -1,", "32:62: holders[1].options[0].expiry_days: ", &["got -1"]),
    ("    cash: 1.0e9\n", "    cash: 1.0e9\n    holdings: [ { asset: NVDA, usd: 1.0e6 } ]\n", "30:5: holders[1].holdings: ", &["`holdings` does not apply to holder kind `options_dealer`", "hint: remove `holdings`"]),
    ("    target_vol: 0.10\n", "", "37:5: holders[2].target_vol: ", &["missing required key `target_vol` for a vol_target", "hint: the annual volatility the fund targets"]),
    ("    other_liabilities: 1.0e9\n", "    margin: { lender: broker, loan: 1.0e9, maintenance: 0.25 }\n", "41:5: holders[2].margin: ", &["`margin` does not apply to holder kind `vol_target`", "hint: remove `margin`"]),
    ("type: call, strike", "type: straddle, strike", "32:30: holders[1].options[0].type: ", &["unknown value `straddle` for `type`", "`call`, `put`"]),
];

#[test]
fn a_copy_broken_in_one_field_is_refused_at_that_field() {
    for (i, (from, to, at, parts)) in BROKEN.iter().enumerate() {
        let path = broken_copy(&i.to_string(), from, to);
        let r = delever(["validate", path.to_str().expect("UTF-8 path")]);
        assert_eq!(r.code, 2, "case {i} ({to:?}): {}", r.stderr);
        assert!(r.stdout.is_empty(), "case {i}: {}", r.stdout);
        let at = format!("{}:{at}", path.display());
        assert!(
            r.stderr.contains(&at),
            "case {i}: no `{at}` in\n{}",
            r.stderr
        );
        for part in *parts {
            assert!(
                r.stderr.contains(part),
                "case {i}: no `{part}` in\n{}",
                r.stderr
            );
        }
        // One problem, one diagnostic: the builder does not report it again.
        assert_eq!(
            r.stderr.matches("hint:").count(),
            1,
            "case {i}: {}",
            r.stderr
        );
    }
}

fn vary(t: &Template, path: &str, v: f64) -> Scenario {
    let p = FieldPath::parse(path).expect("a valid path");
    t.instantiate(&[(p, OverrideValue::from(v))])
        .unwrap_or_else(|e| panic!("{path} = {v}: {e}"))
}

#[test]
fn sweep_paths_reach_each_kinds_keys() {
    let t = Template::load(Path::new(&root().join(FIXTURE))).expect("loads");
    let s = vary(&t, "holders[dealers].options[0].implied_vol", 0.3);
    let HolderKind::OptionsDealer { options, .. } = kind(&s, "dealers") else {
        panic!("a dealer");
    };
    assert_eq!(
        (options[0].implied_vol, options[1].implied_vol),
        (0.3, 0.55)
    );
    let s = vary(&t, "holders[cta].lag_days", 2.0);
    let HolderKind::TrendFollower { lag_days, .. } = kind(&s, "cta") else {
        panic!("a trend follower");
    };
    assert_eq!(lag_days, 2);
    // A key the file leaves out is added: the CTA's lag, 0 by default.
    let text = fixture_text().replacen("    lag_days: 0\n", "", 1);
    let t2 = Template::from_yaml(&text, "convexity.yaml", None).expect("loads");
    let HolderKind::TrendFollower { lag_days, .. } = kind(t2.base(), "cta") else {
        panic!("a trend follower");
    };
    assert_eq!(lag_days, 0);
    let s = vary(&t2, "holders[cta].lag_days", 3.0);
    let HolderKind::TrendFollower { lag_days, .. } = kind(&s, "cta") else {
        panic!("a trend follower");
    };
    assert_eq!(lag_days, 3);
    let s = vary(&t, "holders[vt].target_vol", 0.3);
    let HolderKind::VolTarget { rule } = kind(&s, "vt") else {
        panic!("a vol-target fund");
    };
    assert_eq!((rule.target_vol, rule.realised_vol), (0.3, 0.12));
    // A value the format refuses is refused in a sweep too, where the file has the key.
    let p = FieldPath::parse("holders[cta].lookbacks[0].days").expect("valid");
    let e = t
        .instantiate(&[(p, OverrideValue::from(3000.0))])
        .expect_err("refused");
    let d = &e.diagnostics[0];
    assert_eq!((d.line, d.column), (Some(52), Some(26)), "{d}");
    assert!(d.message.contains("at most 2520 trading days"), "{d}");
}

#[test]
fn a_sweep_of_target_vol_changes_the_vol_target_funds_sales() {
    // With `max_leverage: 2` the target binds only above 0.24 (2 × the realised 0.12):
    // below it the fund starts at its target and only the change in vol sizes its sales.
    let r = delever([
        "sweep",
        "-q",
        "--format",
        "csv",
        "--vary",
        "holders[vt].target_vol=0.1,0.3",
        FIXTURE,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<&str> = r.stdout.lines().collect();
    let col = rows[0]
        .split(',')
        .position(|c| c == "loss_vol_target_usd")
        .expect("a loss column per kind");
    let loss = |row: &str| -> f64 {
        row.split(',')
            .nth(col)
            .expect("column")
            .parse()
            .expect("number")
    };
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    assert!(loss(rows[1]) > loss(rows[2]), "{}", r.stdout);
}

#[test]
fn the_schema_lists_the_new_kinds_and_their_keys() {
    let r = delever(["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let schema: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let defs = &schema["$defs"];
    let holder = defs["HolderSpec"]["properties"]
        .as_object()
        .expect("holder keys");
    for key in [
        "options",
        "gamma",
        "target_vol",
        "realised_vol",
        "half_life_days",
        "max_leverage",
        "band",
        "lag_days",
        "lookbacks",
        "markets",
    ] {
        assert!(holder.contains_key(key), "no `{key}` in the holder's keys");
    }
    let kinds = defs["KindName"].to_string();
    for k in ["options_dealer", "vol_target", "trend_follower"] {
        assert!(kinds.contains(k), "no kind `{k}` in {kinds}");
    }
    for (def, keys) in [
        (
            "OptionSpec",
            &[
                "asset",
                "type",
                "strike",
                "expiry_days",
                "implied_vol",
                "shares",
                "side",
            ][..],
        ),
        ("GammaSpec", &["asset", "usd_per_pct"][..]),
        ("LookbackSpec", &["days", "weight"][..]),
        ("MarketSpec", &["asset", "max_usd", "past_returns"][..]),
    ] {
        let props = defs[def]["properties"].as_object().expect(def);
        let listed: Vec<&str> = props.keys().map(String::as_str).collect();
        let mut want = keys.to_vec();
        want.sort_unstable();
        assert_eq!(listed, want, "{def}");
    }
    assert!(defs["SideName"].to_string().contains("short"));
    assert!(defs["RightName"].to_string().contains("put"));
}

/// `describe` counts an options dealer's delta hedge as its exposure and lists each
/// underlying's hedge and dollar gamma. Hand-worked: short 1e6 shares of an at-the-money
/// call (S = K = $100, one year = 252 trading days, σ = 20%) gives d1 = σ√T/2 = 0.1, a
/// hedge of +N(0.1)·1e6 = 539,827.84 shares ($53.98M) and gamma per 1% of
/// 0.01·S²·(−1e6)·φ(0.1)/(S·σ·√T) = −$1,984,762.74; a linear line on Y is its own
/// `usd_per_pct` with no hedge at the reference price.
#[test]
fn describe_shows_a_dealers_hedge_and_gamma() {
    let text = r"name: dealer-describe
description: one dealer, hand-worked
as_of: 2026-05-29
assets:
  - { id: X, price: 100.0, shares_outstanding: 1.0e10, adv_usd: 1.0e10, daily_vol: 0.02 }
  - { id: Y, price: 50.0, shares_outstanding: 1.0e10, adv_usd: 1.0e10, daily_vol: 0.02 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: d
    kind: options_dealer
    cash: 1.0e8
    options:
      - { asset: X, type: call, strike: 100, expiry_days: 252, implied_vol: 0.2, shares: 1.0e6, side: short }
    gamma:
      - { asset: Y, usd_per_pct: -2.0e7 }
shocks:
  - { type: asset, asset: X, return: -0.05 }
";
    let dir = scratch("convexity_format-describe");
    let path = dir.join("dealer-describe.yaml");
    std::fs::write(&path, text).expect("write");
    let path = path.to_str().expect("utf-8");
    let out = delever(["describe", path, "--format", "json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect("json");
    let d = v["dealers"].as_array().expect("dealers");
    assert_eq!(d.len(), 2);
    let close = |x: &serde_json::Value, want: f64| {
        let x = x.as_f64().expect("number");
        assert!((x - want).abs() <= 1e-9 * want.abs(), "{x} vs {want}");
    };
    assert_eq!(
        (d[0]["id"].as_str(), d[0]["asset"].as_str()),
        (Some("d"), Some("X"))
    );
    close(&d[0]["hedge_shares"], 539_827.837_277_029);
    close(&d[0]["hedge_usd"], 53_982_783.727_702_9);
    close(&d[0]["gamma_usd_per_pct"], -1_984_762.737_385_059);
    assert_eq!(d[1]["asset"], "Y");
    assert_eq!(d[1]["hedge_shares"], 0.0);
    close(&d[1]["gamma_usd_per_pct"], -2.0e7);
    let kind = &v["kinds"][0];
    assert_eq!(kind["kind"], "options_dealer");
    close(&kind["gross_exposure_usd"], 53_982_783.727_702_9);
    let table = delever(["describe", path]);
    assert!(table.stdout.contains("Options dealers"), "{}", table.stdout);
    assert!(table.stdout.contains("sells"), "{}", table.stdout);
}
