//! Who makes a cascade bad: the `systemic` block of `run`, `delever rank`, marginal
//! contributions, GLT's identities in exact mode, and DebtRank against a hand-worked chain.

use delever_engine::{EngineConfig, run_muted};
use delever_scenario::Scenario;

use crate::util::{delever, scratch};

fn json(args: &[&str]) -> serde_json::Value {
    let out = delever(args.iter().copied());
    assert!(out.code == 0 || out.code == 3, "{}", out.stderr);
    serde_json::from_str(&out.stdout).expect("json")
}

fn f(v: &serde_json::Value) -> f64 {
    v.as_f64().expect("a number")
}

/// GLT's exact accounting is linear, so each bank's marginal contribution is exactly its
/// systemicness times the banks' equity, and the contributions add up to the cascade loss
/// (`AV·E`); `Σ S_n = AV`. On the shipped GLT scenario (six banks, a 50% Greek haircut).
#[test]
fn exact_glt_contributions_are_systemicness_times_equity() {
    let v = json(&[
        "rank",
        "glt-vulnerable-banks",
        "--variant",
        "glt-exact",
        "--format",
        "json",
    ]);
    let s = &v["systemic"];
    let vu = &s["vulnerability"];
    let (av, e) = (f(&vu["aggregate_vulnerability"]), f(&vu["equity_usd"]));
    assert!((av - 0.2364).abs() < 1e-4, "{av}");
    let cascade = f(&v["cascade_loss_usd"]);
    assert!((cascade - av * e).abs() <= 1e-9 * cascade);
    let holders = vu["holders"].as_array().expect("holders");
    let sum_s: f64 = holders.iter().map(|h| f(&h["systemicness"])).sum();
    assert!((sum_s - av).abs() <= 1e-12 * av);
    let contributions = s["contributions"].as_array().expect("computed");
    let sum_c: f64 = contributions
        .iter()
        .map(|c| f(&c["contribution_usd"]))
        .sum();
    assert!(
        (sum_c - cascade).abs() <= 1e-9 * cascade,
        "{sum_c} vs {cascade}"
    );
    for (c, h) in contributions.iter().zip(holders) {
        assert_eq!(c["id"], h["id"]);
        let want = f(&h["systemicness"]) * e;
        assert!(
            (f(&c["contribution_usd"]) - want).abs() <= 1e-9 * want,
            "{}",
            c["id"]
        );
    }
    // The ranking is by contribution, largest first.
    let ranking = v["ranking"].as_array().expect("ranking");
    let c: Vec<f64> = ranking.iter().map(|r| f(&r["contribution_usd"])).collect();
    assert!(c.windows(2).all(|w| w[0] >= w[1]), "{c:?}");
}

/// Switching off the forced selling of a holder that sold nothing changes nothing, bit
/// for bit; switching off one that sold lowers the cascade loss (default scenario).
#[test]
fn muting_a_holder_without_sales_changes_nothing() {
    let s = Scenario::load(&crate::util::root().join("scenarios/semis-sentiment-reversal.yaml"))
        .expect("shipped");
    let cfg = EngineConfig {
        least_fixed_point: false,
        ..s.engine.clone()
    };
    let full = delever_engine::run(&s.network, &s.shocks, &cfg).expect("runs");
    let n = s.network.holders().len();
    let idle = (0..n)
        .find(|&i| full.holders[i].sales_usd == 0.0)
        .expect("a holder that sold nothing");
    let mut muted = vec![false; n];
    muted[idle] = true;
    let same = run_muted(&s.network, &s.shocks, &cfg, &muted).expect("runs");
    assert_eq!(same.totals, full.totals);
    assert_eq!(same.assets, full.assets);
    let seller = (0..n)
        .max_by(|&a, &b| {
            full.holders[a]
                .sales_usd
                .total_cmp(&full.holders[b].sales_usd)
        })
        .expect("holders");
    let mut muted = vec![false; n];
    muted[seller] = true;
    let less = run_muted(&s.network, &s.shocks, &cfg, &muted).expect("runs");
    assert_eq!(less.holders[seller].sales_usd, 0.0);
    assert!(less.totals.total_loss_usd < full.totals.total_loss_usd);
}

/// `rank` and `run`'s systemic block are the same at 1, 2 and 8 threads, in JSON.
#[test]
fn rank_is_identical_at_any_thread_count() {
    let outs: Vec<String> = ["1", "2", "8"]
        .iter()
        .map(|t| {
            let o = delever(["--threads", t, "rank", "--format", "json"]);
            assert_eq!(o.code, 0, "{}", o.stderr);
            o.stdout
        })
        .collect();
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
    let run = json(&["--threads", "3", "run", "--format", "json"]);
    let rank: serde_json::Value = serde_json::from_str(&outs[0]).expect("json");
    assert_eq!(rank["format_version"], run["format_version"]);
    // DebtRank's definition keeps every relative loss in [0, 1], so every node's DebtRank
    // (an equity-weighted sum of them) and the shock's too.
    let d = &rank["systemic"]["debtrank"];
    let in_unit = |x: f64| (0.0..=1.0).contains(&x);
    assert!(in_unit(d["shock"].as_f64().expect("number")));
    for n in d["nodes"].as_array().expect("nodes") {
        assert!(in_unit(n["debtrank"].as_f64().expect("number")), "{n}");
    }
    assert!(rank["delever_version"].is_string());
    assert_eq!(run["systemic"], rank["systemic"]);
    let table = delever(["run"]);
    assert!(
        table.stdout.contains("Who makes it bad"),
        "{}",
        table.stdout
    );
}

/// DebtRank on a hand-worked chain: A owes B $25, B owes C $40; equities A $100, B $50,
/// C $40 (total $190), so `Λ_BA = 25/50 = 0.5` and `Λ_CB = 40/40 = 1`.
/// - A alone defaulting: `h_B = 0.5`, then `h_C = 1·0.5 = 0.5`, DebtRank
///   `(50·0.5 + 40·0.5)/190 = 45/190`; B alone: `h_C = 1`, `40/190`; C: nobody is exposed, 0.
/// - The run's 10% fall of X: `h(1) = (20/100, 10/50, 10/40) = (0.2, 0.2, 0.25)`; B gains
///   `0.5·0.2 = 0.1` (to 0.3), C gains `1·0.2` then `1·0.1` (to 0.55): beyond the shock
///   `(50·0.1 + 40·0.3)/190 = 17/190`.
#[test]
fn debtrank_on_a_hand_worked_chain() {
    let text = r"name: chain
description: three banks in a chain of interbank claims
as_of: 2026-05-29
assets:
  - { id: X, price: 100.0, shares_outstanding: 1.0e6, adv_usd: 1.0e9, daily_vol: 0.02 }
holders:
  - { id: A, kind: bank, rule: { type: passive }, holdings: [ { asset: X, usd: 200 } ], other_liabilities: 75, owes: [ { creditor: B, amount: 25 } ] }
  - { id: B, kind: bank, rule: { type: passive }, holdings: [ { asset: X, usd: 100 } ], other_liabilities: 35, owes: [ { creditor: C, amount: 40 } ] }
  - { id: C, kind: bank, rule: { type: passive }, holdings: [ { asset: X, usd: 100 } ], other_liabilities: 100 }
shocks:
  - { type: asset, asset: X, return: -0.10 }
";
    let dir = scratch("systemic-chain");
    let path = dir.join("chain.yaml");
    std::fs::write(&path, text).expect("write");
    let v = json(&["run", path.to_str().expect("utf-8"), "--format", "json"]);
    let d = &v["systemic"]["debtrank"];
    assert_eq!(d["layers"], serde_json::json!(["interbank"]));
    let close = |x: f64, want: f64| assert!((x - want).abs() < 1e-12, "{x} vs {want}");
    close(f(&d["shock"]), 17.0 / 190.0);
    let node = |id: &str| {
        d["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["id"] == id)
            .map(|n| f(&n["debtrank"]))
            .expect("node")
    };
    close(node("A"), 45.0 / 190.0);
    close(node("B"), 40.0 / 190.0);
    close(node("C"), 0.0);
    // Without leverage targets there is no GLT vulnerability to report.
    assert!(v["systemic"]["vulnerability"].is_null());
}

/// `run` on a scenario with more holders than it ranks says so, and `rank` computes them.
#[test]
fn run_leaves_large_rankings_to_rank() {
    let dir = scratch("systemic-large");
    let made = delever([
        "generate",
        "caccioli",
        "--banks",
        "120",
        "--assets",
        "60",
        "--seed",
        "3",
        "--out-dir",
        dir.to_str().expect("utf-8"),
    ]);
    assert_eq!(made.code, 0, "{}", made.stderr);
    let file = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "yaml"))
        .expect("a scenario");
    let v = json(&["run", file.to_str().expect("utf-8"), "--format", "json"]);
    assert!(v["systemic"]["contributions"].is_null());
    let note = v["systemic"]["contributions_note"]
        .as_str()
        .expect("a note");
    assert!(note.contains("delever rank"), "{note}");
}

/// The HTML report carries the ranking table, and the CSV its rows.
#[test]
fn html_and_csv_carry_the_ranking() {
    let dir = scratch("systemic-html");
    let page = dir.join("report.html");
    let out = delever(["run", "--html", page.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.contains("id=\"systemic-table\""));
    assert!(html.contains("Aggregate vulnerability (GLT)"));
    let csv = delever(["run", "--format", "csv"]);
    assert!(
        csv.stdout.contains("systemic,SOXL,contribution_usd,"),
        "{}",
        csv.stdout
    );
    let rank = delever(["rank", "--format", "csv"]);
    assert!(rank.stdout.starts_with("rank,holder,kind,contribution_usd"));
    assert_eq!(rank.stdout.lines().count(), 1 + 19);
}
