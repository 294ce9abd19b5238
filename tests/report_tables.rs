//! Per-holder and per-lender tables, Monte Carlo per lender and per asset, markdown output
//! and tables that fit the terminal (issue 17, "Outputs people expect").

use std::path::PathBuf;

use serde_json::Value;

use crate::util::{delever, root, scratch, shipped_files};

/// Cifuentes–Shin–Ferrucci at −5% (the banks fail), with b5's interbank debt owed to
/// a lender `ib` instead of b1: `ib` loses what b5 leaves unpaid.
fn csf_with_lender(dir: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/cifuentes-shin-ferrucci.yaml"))
        .expect("the shipped scenario");
    let text = text.split("\nexpect:").next().expect("text before expect");
    let text = text
        .replace(
            "owes: [ { creditor: b1, amount: 2.0e10 } ]",
            "owes: [ { creditor: ib, amount: 2.0e10 } ]",
        )
        // b1 loses its claim on b5: the same amount in cash keeps its equity.
        .replacen("cash: 2.0e9", "cash: 2.2e10", 1)
        .replace("return: -0.009", "return: -0.05")
        .replace("name: cifuentes-shin-ferrucci", "name: csf-lender");
    let text = format!("{text}\nlenders:\n  - {{ id: ib, capital: 1.0e10 }}\n");
    let d = scratch(dir);
    let p = d.join("csf-lender.yaml");
    std::fs::write(&p, text).expect("write the scenario");
    p
}

fn json(args: &[&str]) -> Value {
    let r = delever(args);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("a JSON document")
}

/// Each lender's `by_borrower` parts add up to its borrower and interbank losses, in every
/// shipped scenario and in one where a lender loses on an interbank claim.
#[test]
fn lender_losses_by_borrower_add_up() {
    let extra = csf_with_lender("tables-add-up");
    let mut files = shipped_files();
    files.push(extra.clone());
    for f in files {
        let v = json(&["run", f.to_str().expect("utf-8 path"), "--format", "json"]);
        for l in v["lenders"].as_array().expect("lenders") {
            let parts = l["by_borrower"].as_array().expect("by_borrower");
            let sum = |k: &str| {
                parts
                    .iter()
                    .map(|p| p[k].as_f64().unwrap_or(f64::NAN))
                    .sum::<f64>()
            };
            for (part, whole) in [
                ("borrower_losses_usd", "borrower_losses_usd"),
                ("interbank_losses_usd", "interbank_losses_usd"),
            ] {
                let (s, w) = (sum(part), l[whole].as_f64().expect("a number"));
                assert!(
                    (s - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "{}: lender {}: {part} parts {s} vs {w}",
                    f.display(),
                    l["id"]
                );
            }
            for p in parts {
                let loss = p["loss_usd"].as_f64().expect("loss");
                assert!(loss > 0.0, "{p}");
            }
        }
    }
    let v = json(&[
        "run",
        extra.to_str().expect("utf-8 path"),
        "--format",
        "json",
    ]);
    let ib = &v["lenders"][0];
    assert_eq!(ib["id"], "ib");
    let b5 = &ib["by_borrower"][0];
    assert_eq!(b5["id"], "b5");
    assert_eq!(b5["kind"], "bank");
    assert!(
        b5["interbank_losses_usd"].as_f64().unwrap_or(0.0) > 0.0,
        "{ib}"
    );
}

/// `run` lists the holders that lost most (10 by default, `--holders N|all`), and a table
/// per lender with its losses by borrower; the CSV has the same breakdown.
#[test]
fn run_shows_top_holders_and_each_lenders_borrowers() {
    let r = delever(["run", "archegos-2021-03"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Holders by loss (all 8)"), "{}", r.stdout);
    // Largest loss first: Credit Suisse's account lost most.
    let first = r
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("Holders by loss"))
        .nth(3)
        .expect("a first row");
    assert!(first.starts_with("archegos-at-credit-suisse"), "{first}");
    assert!(
        r.stdout
            .contains("Lender credit-suisse lost $5.62B (14.1% of its $40.00B capital)"),
        "{}",
        r.stdout
    );
    let three = delever(["run", "archegos-2021-03", "--holders", "3"]);
    assert!(
        three
            .stdout
            .contains("Holders by loss (top 3 of 8; --holders all for every one)"),
        "{}",
        three.stdout
    );
    let none = delever(["run", "archegos-2021-03", "--holders", "0"]);
    assert!(!none.stdout.contains("Holders by loss"), "{}", none.stdout);
    assert!(!none.stdout.contains("by borrower"), "{}", none.stdout);
    let all = delever(["run", "eba-2018-leverage", "--holders", "all"]);
    assert!(
        all.stdout.contains("Holders by loss (all 48)"),
        "{}",
        all.stdout
    );
    let bad = delever(["run", "--holders", "some"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("`all`"), "{}", bad.stderr);
    let csv = delever(["run", "archegos-2021-03", "--format", "csv"]);
    assert!(
        csv.stdout.contains(
            "lender_borrower,credit-suisse/archegos-at-credit-suisse,borrower_losses_usd,"
        ),
        "{}",
        csv.stdout
    );
}

/// `mc --draws-out` writes each draw's asset returns (one column per drawn asset) and each
/// lender's loss; the summary has VaR and ES per lender and per kind. The files are the
/// same bytes at 1 and 3 threads, and through shards and `merge`.
#[test]
fn monte_carlo_draws_carry_asset_returns_and_lender_losses() {
    let dir = scratch("tables-mc");
    let path = |name: &str| dir.join(name).to_str().expect("utf-8 path").to_owned();
    let mc = |threads: &str, draws_out: &str, extra: &[&str]| {
        let mut args = vec!["--threads", threads, "mc", "--draws", "40", "--seed", "3"];
        if extra.is_empty() {
            args.extend(["--format", "json"]);
        }
        args.extend_from_slice(extra);
        let out = path(draws_out);
        let mut args: Vec<String> = args.into_iter().map(str::to_owned).collect();
        if !draws_out.is_empty() {
            args.extend(["--draws-out".to_owned(), out]);
        }
        let r = delever(&args);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let summary = mc("1", "one.csv", &[]);
    assert_eq!(summary, mc("3", "three.csv", &[]));
    let one = std::fs::read_to_string(dir.join("one.csv")).expect("draws");
    assert_eq!(
        one,
        std::fs::read_to_string(dir.join("three.csv")).expect("draws")
    );
    let header: Vec<&str> = one.lines().next().expect("a header").split(',').collect();
    for col in [
        "return_NVDA",
        "return_BONDS",
        "loss_lender_prime-brokers_usd",
    ] {
        assert!(header.contains(&col), "{header:?}");
    }
    // Each draw's returns are its own: the NVDA column is not the market return.
    let at = |name: &str| header.iter().position(|h| *h == name).expect("a column");
    let (nvda, market) = (at("return_NVDA"), at("market_return"));
    let rows: Vec<Vec<&str>> = one
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 40);
    assert!(rows.iter().any(|r| r[nvda] != r[market]));
    assert!(
        rows.iter()
            .all(|r| r[nvda].parse::<f64>().is_ok_and(|x| x > -1.0))
    );
    let v: Value = serde_json::from_str(&summary).expect("JSON");
    let metrics: Vec<&str> = v["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .filter_map(|m| m["metric"].as_str())
        .collect();
    for m in [
        "loss_by_lender.retail-brokers",
        "loss_by_lender.prime-brokers",
        "loss_by_kind.leveraged_etf",
    ] {
        assert!(metrics.contains(&m), "{metrics:?}");
    }
    // Shards and merge: the same draws file.
    for k in ["0", "1"] {
        let shard = format!("--shard={k}/2");
        let o = path(&format!("s{k}.jsonl"));
        mc("2", "", &[&shard, "-o", &o]);
    }
    let r = delever([
        "merge",
        &path("s0.jsonl"),
        &path("s1.jsonl"),
        "--draws-out",
        &path("merged.csv"),
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, summary);
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.csv")).expect("draws"),
        one
    );
    // JSON lines key the returns by asset and the losses by lender.
    mc("1", "d.jsonl", &[]);
    let first = std::fs::read_to_string(dir.join("d.jsonl")).expect("draws");
    let row: Value = serde_json::from_str(first.lines().next().expect("a line")).expect("JSON");
    assert!(row["asset_returns"]["NVDA"].is_f64(), "{row}");
    assert!(row["loss_by_lender"]["prime-brokers"].is_number(), "{row}");
}
