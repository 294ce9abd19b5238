//! The reports people look at, end to end: `run --html`, `explain`, `export dot --after-run`.

use std::path::{Path, PathBuf};

use delever_engine::explain::{MarginVerdict, Replay, Test};
use delever_scenario::Scenario;

use crate::util::{delever, root, scratch};

/// One retail account at 50% loan-to-value, called at 30% maintenance by a 35% fall:
/// V = $130K, E = $30K < m·V = $39K, so it sells y = V − `E/m_r` = $30K.
const TINY: &str = "\
name: tiny
description: One retail account at 50% loan-to-value, called at 30% maintenance.
as_of: 2026-05-29
sources: [{ id: finra-4210, title: \"FINRA Rule 4210 margin requirements\" }]
assumptions: [\"One account stands for a whole cohort.\"]
assets:
  - { id: NVDA, price: 200, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
lenders:
  - { id: broker, capital: 1.0e9 }
holders:
  - id: alice
    kind: margin_account
    holdings: [{ asset: NVDA, shares: 1000 }]
    margin: { lender: broker, loan: 100000, maintenance: 0.30 }
  - id: bob
    kind: margin_account
    holdings: [{ asset: NVDA, shares: 1000 }]
    margin: { lender: broker, loan: 10000, maintenance: 0.30 }
shocks:
  - { type: asset, asset: NVDA, return: -0.35 }
";

/// Write the tiny scenario into a fresh directory and return its path.
fn tiny(dir: &str) -> PathBuf {
    let d = scratch(dir);
    let p = d.join("tiny.yaml");
    std::fs::write(&p, TINY).expect("write the scenario");
    p
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

#[test]
fn run_html_writes_one_self_contained_file() {
    let dir = scratch("html_whole");
    let out = dir.join("report.html");
    let r = delever(["run", "--html", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The table still goes to stdout.
    assert!(r.stdout.contains("amplification"), "{}", r.stdout);
    let html = std::fs::read_to_string(&out).expect("the report is written");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.ends_with("</html>\n"));
    assert!(html.contains("<h1>semis-sentiment-reversal</h1>"));
    for id in [
        "price-chart",
        "sales-chart",
        "waterfall",
        "network",
        "round-slider",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing {id}");
    }
    for banned in ["src=\"http", "href=\"http", "<link", "@import", "url(http"] {
        assert!(!html.contains(banned), "the report contains {banned}");
    }
    // Only the report is left in the directory (no temporary file).
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn run_html_is_deterministic_and_lists_assumptions_and_sources() {
    let path = tiny("html_determinism");
    let dir = path.parent().expect("a directory").to_path_buf();
    let (a, b) = (dir.join("a.html"), dir.join("b.html"));
    assert_eq!(delever(["run", s(&path), "--html", s(&a)]).code, 0);
    assert_eq!(
        delever(["run", s(&path), "--html", s(&b), "--threads", "1"]).code,
        0
    );
    let (a, b) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(a == b, "two runs gave different reports");
    let html = String::from_utf8(a).expect("UTF-8");
    assert!(html.contains("One account stands for a whole cohort."));
    assert!(html.contains("FINRA Rule 4210 margin requirements"));
    assert!(html.contains("alice"));
}

#[test]
fn run_html_bad_input_exits_2_and_writes_no_file() {
    let dir = scratch("html_bad_input");
    let out = dir.join("report.html");
    // No such scenario.
    let r = delever(["run", "no/such/file.yaml", "--html", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(!out.exists());
    // A malformed scenario.
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, TINY.replace("maintenance: 0.30", "maintenance: 1.30")).expect("write");
    let r = delever(["run", s(&bad), "--html", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("maintenance"), "{}", r.stderr);
    assert!(!out.exists());
    // A bad setting.
    let r = delever(["run", "--max-rounds", "0", "--html", s(&out)]);
    assert_eq!(r.code, 2);
    assert!(!out.exists());
    // A directory that does not exist: exit 2, and nothing on stdout either.
    let nowhere = dir.join("missing-dir").join("report.html");
    let r = delever(["run", "--html", s(&nowhere)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(r.stderr.contains("cannot write"), "{}", r.stderr);
    assert!(
        std::fs::read_dir(&dir).expect("list").count() == 1,
        "only bad.yaml"
    );
}

#[test]
fn run_html_still_writes_the_report_when_not_converged() {
    let dir = scratch("html_max_rounds");
    let out = dir.join("report.html");
    let r = delever(["run", "--max-rounds", "1", "--html", s(&out)]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    let html = std::fs::read_to_string(&out).expect("written");
    assert!(html.contains("did not converge"));
}

#[test]
fn explain_a_margin_call_shows_the_rule_and_the_numbers() {
    let path = tiny("explain_margin");
    let r = delever(["explain", s(&path), "--holder", "alice"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for needle in [
        "holder    alice (margin account), on margin from broker",
        "margin call (Reg T / FINRA 4210)",
        "final status margin_call",
        "Balance sheet at the prices each round decided at",
        "E = $30.00K < m·V = 0.30 × $130.00K = $39.00K → margin call: sell y = V − E/m_r = $130.00K − $30.00K/0.30 = $30.00K",
        "=> margin_call: sale decided $30.00K",
    ] {
        assert!(
            r.stdout.contains(needle),
            "missing {needle:?} in\n{}",
            r.stdout
        );
    }
    // bob's equity stays above maintenance: no call, and it says why.
    let r = delever(["explain", s(&path), "--holder", "bob"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("→ no margin call"), "{}", r.stdout);
    assert!(r.stdout.contains("final status unaffected"), "{}", r.stdout);
}

#[test]
fn explain_json_has_the_rounds_and_the_numbers() {
    let path = tiny("explain_json");
    let out = path.with_file_name("alice.json");
    let r = delever([
        "explain",
        s(&path),
        "--holder",
        "alice",
        "--format",
        "json",
        "-o",
        s(&out),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(v["holder"], "alice");
    assert_eq!(v["kind"], "margin_account");
    let t = &v["rounds"][0]["tests"][0];
    assert_eq!(t["test"], "margin");
    assert_eq!(t["fired"], true);
    assert_eq!(t["numbers"]["maintenance"], 0.3);
    let req = t["numbers"]["required_usd"].as_f64().expect("a number");
    assert!((req - 30_000.0).abs() < 1.0, "{req}");
    assert!(v["rounds"][0]["sheet"]["equity_usd"].as_f64().is_some());
}

#[test]
fn explain_unknown_holder_exits_2_with_a_suggestion() {
    let path = tiny("explain_unknown");
    let r = delever(["explain", s(&path), "--holder", "alcie"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("`alcie` is not a holder"), "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `alice`"), "{}", r.stderr);
    let r = delever(["explain", s(&path), "--holder", "broker"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("is a lender"), "{}", r.stderr);
    let r = delever(["explain", s(&path), "--holder", "zzzzzz"]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("its holders are `alice`, `bob`"),
        "{}",
        r.stderr
    );
    let r = delever(["explain", s(&path)]);
    assert_eq!(r.code, 2, "--holder is required");
}

/// The explanation's numbers reproduce the engine's decisions, for every holder of a
/// scenario that has every kind (a test of `explain` against the rules, not of the text).
#[test]
fn explanations_agree_with_the_engine_for_every_kind() {
    let sc = Scenario::load(&root().join("tests/fixtures/full-example.yaml")).expect("loads");
    let out = delever_engine::run(&sc.network, &sc.shocks, &sc.engine).expect("runs");
    let mut replay = Replay::new(&sc.network, &sc.shocks).expect("same shocks");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
    for (i, h) in sc.network.holders().iter().enumerate() {
        let x = replay
            .explain(&out, delever_graph::HolderIx(i as u32))
            .expect("explains");
        assert_eq!(x.rounds.len(), out.trace.len());
        let last = x.rounds.last().expect("a round");
        assert_eq!(last.status, out.holders[i].status, "{}", h.id);
        for r in &x.rounds {
            // The sale each test implies, combined the way the rule combines them.
            let mut rule = None;
            let mut margin = 0.0_f64;
            let mut buckets = 0.0;
            let mut all = None;
            let mut hedges = None::<f64>;
            for t in &r.tests {
                match *t {
                    Test::Margin(m) => {
                        let y = match m.verdict {
                            MarginVerdict::Clear => 0.0,
                            MarginVerdict::Called { sale, .. } => sale,
                            MarginVerdict::Default { .. } => m.value,
                        };
                        if m.bucket.is_some() {
                            buckets += y;
                        } else {
                            margin = margin.max(y);
                        }
                    }
                    Test::Cash { sale, .. }
                    | Test::Book { sale, .. }
                    | Test::VolTarget { sale, .. } => rule = Some(sale),
                    Test::Insolvent { value, .. } => all = Some(value),
                    Test::BalanceSheet { closed: true, .. } => all = Some(r.sheet.value),
                    Test::EtfRebalance { trade, .. } => rule = Some(-trade),
                    Test::DealerHedge {
                        spot, held, target, ..
                    }
                    | Test::TrendSignal {
                        spot, held, target, ..
                    } => *hedges.get_or_insert(0.0) += (held - target) * spot,
                    Test::BalanceSheet { .. } | Test::Redemption { .. } => {}
                }
            }
            if let Some(h) = hedges {
                rule = Some(h);
            }
            let implied = if let Some(v) = all {
                v
            } else if buckets > 0.0 {
                buckets
            } else if matches!(
                h.kind.tag(),
                delever_graph::KindTag::LeveragedEtf
                    | delever_graph::KindTag::OptionsDealer
                    | delever_graph::KindTag::TrendFollower
                    | delever_graph::KindTag::VolTarget
            ) {
                rule.unwrap_or(0.0)
            } else {
                rule.unwrap_or(0.0).max(margin).min(r.sheet.value)
            };
            assert!(
                close(implied, r.sale_usd),
                "{} round {}: tests imply {implied}, the engine decided {} ({:?})",
                h.id,
                r.round,
                r.sale_usd,
                r.tests
            );
        }
    }
}

#[test]
fn export_dot_after_run_colours_nodes_by_final_status() {
    let path = tiny("dot_after_run");
    let r = delever(["export", "dot", s(&path)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("final status"), "no legend before a run");
    assert!(
        !r.stdout.contains("#e69f00"),
        "no status colours before a run"
    );
    let r = delever(["export", "dot", s(&path), "--after-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = |id: &str| {
        r.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("\"H:{id}\"")))
            .unwrap_or_else(|| panic!("no node for {id}:\n{}", r.stdout))
            .to_owned()
    };
    // alice is called (orange, labelled), bob is not (white).
    assert!(
        line("alice").contains("fillcolor=\"#e69f00\""),
        "{}",
        line("alice")
    );
    assert!(line("alice").contains("margin_call"), "{}", line("alice"));
    assert!(
        line("bob").contains("fillcolor=\"#ffffff\""),
        "{}",
        line("bob")
    );
    assert!(line("bob").contains("unaffected"), "{}", line("bob"));
    assert!(r.stdout.contains("label=\"final status\""), "a legend");
    for status in ["unaffected", "sold", "margin_call", "defaulted"] {
        assert!(
            r.stdout.contains(&format!("\"legend:{status}\"")),
            "{status}"
        );
    }
    assert!(r.stdout.trim_end().ends_with('}'));
}

#[test]
fn sequential_runs_get_a_report_but_no_replay() {
    let path = tiny("sequential");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("shocks:", "engine: { mode: sequential }\nshocks:"),
    )
    .expect("write");
    let r = delever(["explain", s(&path), "--holder", "alice"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(r.stderr.contains("sequential mode"), "{}", r.stderr);
    assert!(r.stderr.contains("--trace"), "{}", r.stderr);
    let out = path.with_file_name("seq.html");
    let r = delever(["run", s(&path), "--html", s(&out)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&out).expect("written");
    assert!(html.contains("sequential rounds"));
    assert!(html.contains("the network shows the final statuses in every round"));
}
