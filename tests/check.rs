//! `delever check`: regression runs against `expect:` blocks.

use crate::util::{delever, scratch};

const SCENARIO: &str = r"
name: NAME
description: One margin account at 50% LTV hit by 40%, no price impact.
as_of: 2026-01-01
sources: [{ id: s, title: hand-worked }]
assets:
  - { id: X, price: 100, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02, impact: { law: linear, per_usd: 0 } }
lenders:
  - { id: broker, capital: 1.0e6 }
holders:
  - id: acct
    kind: margin_account
    holdings: [{ asset: X, shares: 100 }]
    margin: { lender: broker, loan: 5000, maintenance: 0.25 }
shocks:
  - { type: asset, asset: X, return: -0.40 }
expect:
  termination: converged
  totals:
    initial_loss_usd: { equals: 4000 }
    amplification: AMP
  holders:
    acct: { status: margin_call }
";

fn write(dir: &std::path::Path, name: &str, amp: &str) -> std::path::PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, SCENARIO.replace("NAME", name).replace("AMP", amp)).expect("write scenario");
    p
}

#[test]
fn passing_scenarios_exit_0() {
    let dir = scratch("check-pass");
    write(&dir, "a-pass", "{ approx: 1.0 }");
    let r = delever(["check".as_ref(), dir.as_os_str()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("a-pass"), "{}", r.stdout);
    assert!(r.stdout.contains("1 of 1 scenarios passed"), "{}", r.stdout);
}

#[test]
fn a_failed_expectation_exits_1_with_figures_side_by_side() {
    let dir = scratch("check-fail");
    write(&dir, "a-pass", "{ approx: 1.0 }");
    write(&dir, "b-fail", "{ min: 1.5, max: 3.0 }");
    let r = delever(["check".as_ref(), dir.as_os_str()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let fail_line = r
        .stdout
        .lines()
        .find(|l| l.contains("totals.amplification"))
        .unwrap_or_else(|| panic!("no failing row:\n{}", r.stdout));
    assert!(fail_line.contains("b-fail"), "{fail_line}");
    assert!(fail_line.contains("in [1.5, 3]"), "{fail_line}");
    assert!(fail_line.contains("FAIL"), "{fail_line}");
    assert!(
        fail_line.contains(" 1 "),
        "actual value missing: {fail_line}"
    );
    assert!(r.stdout.contains("1 of 2 scenarios passed"), "{}", r.stdout);
    // Input order is output order, whatever finishes first.
    let a = r.stdout.find("a-pass").expect("a listed");
    let b = r.stdout.find("b-fail").expect("b listed");
    assert!(a < b);
}

#[test]
fn json_output_and_every_expectation() {
    let dir = scratch("check-json");
    let file = write(&dir, "c-json", "{ approx: 1.0 }");
    let r = delever([
        "check".as_ref(),
        file.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["passed"], true);
    assert_eq!(
        v["scenarios"][0]["checks"].as_array().map(Vec::len),
        Some(4)
    );
    let r = delever(["check".as_ref(), file.as_os_str(), "--all".as_ref()]);
    assert!(r.stdout.contains("Every expectation"), "{}", r.stdout);
    assert!(r.stdout.contains("holders.acct.status"), "{}", r.stdout);
}

#[test]
fn a_bad_scenario_exits_2() {
    let dir = scratch("check-bad");
    std::fs::write(dir.join("bad.yaml"), "name: bad\nassets: 3\n").expect("write");
    let r = delever(["check".as_ref(), dir.as_os_str()]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("bad.yaml"), "{}", r.stderr);
}

#[test]
fn shipped_scenarios_all_pass() {
    let r = delever(["check", "scenarios"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
