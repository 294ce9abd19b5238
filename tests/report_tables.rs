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
    // Each edit must find its text: a rewritten shipped file fails here, not silently.
    let swap = |text: String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "the shipped CSF scenario no longer has `{from}`"
        );
        text.replacen(from, to, 1)
    };
    let text = swap(
        text.to_string(),
        "owes: [ { creditor: b1, amount: 2.0e+10 } ]",
        "owes: [ { creditor: ib, amount: 2.0e+10 } ]",
    );
    // b1 loses its claim on b5: the same amount in cash keeps its equity.
    let text = swap(text, "cash: 2.0e+9", "cash: 2.2e+10");
    let text = swap(text, "return: -0.009", "return: -0.05");
    let text = swap(text, "name: cifuentes-shin-ferrucci", "name: csf-lender");
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

/// The markdown report of every shipped scenario's `run`, as a reviewed snapshot.
#[test]
fn shipped_scenario_markdown() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        let r = delever([
            "run",
            path.to_str().expect("utf-8 path"),
            "--format",
            "markdown",
        ]);
        assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(r.stdout);
        });
    });
}

/// A markdown document: its heading, pipe tables with their alignment rows, no plain
/// table rule left.
fn assert_markdown(text: &str, heading: &str) {
    assert!(text.starts_with(&format!("## {heading}\n\n")), "{text}");
    assert!(text.contains("\n| "), "{text}");
    assert!(text.contains("| :"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("----")), "{text}");
}

/// `--format markdown` on every command that prints tables.
#[test]
fn every_reporting_command_writes_markdown() {
    let dir = scratch("tables-markdown");
    let md = |args: &[&str]| {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--format", "markdown"]);
        let r = delever(&all);
        assert!(r.code == 0 || r.code == 3, "{args:?}: {}", r.stderr);
        r.stdout
    };
    assert_markdown(&md(&["run"]), "delever run semis-sentiment-reversal");
    assert_markdown(
        &md(&["run", "--compare-modes"]),
        "delever run semis-sentiment-reversal --compare-modes",
    );
    assert_markdown(
        &md(&["describe"]),
        "delever describe semis-sentiment-reversal",
    );
    assert_markdown(
        &md(&["explain", "--holder", "SOXL"]),
        "delever explain semis-sentiment-reversal --holder SOXL",
    );
    assert_markdown(
        &md(&[
            "explain",
            "archegos-2021-03",
            "--holder",
            "archegos-at-nomura",
        ]),
        "delever explain archegos-2021-03 --holder archegos-at-nomura",
    );
    assert_markdown(&md(&["check", "archegos-2021-03"]), "delever check");
    assert_markdown(
        &md(&["sweep", "--vary", "shocks[0].return=-0.1,-0.2"]),
        "delever sweep semis-sentiment-reversal",
    );
    assert_markdown(
        &md(&["mc", "--draws", "20"]),
        "delever mc semis-sentiment-reversal",
    );
    assert_markdown(
        &md(&["rank", "cifuentes-shin-ferrucci"]),
        "delever rank cifuentes-shin-ferrucci",
    );
    assert_markdown(&md(&["list"]), "delever list");
    // merge renders as the run it combines.
    for k in ["0", "1"] {
        let o = dir.join(format!("s{k}.jsonl"));
        let r = delever([
            "mc",
            "--draws",
            "20",
            "--shard",
            &format!("{k}/2"),
            "-o",
            o.to_str().expect("utf-8 path"),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let s = |k: &str| {
        dir.join(format!("s{k}.jsonl"))
            .to_str()
            .expect("utf-8")
            .to_owned()
    };
    assert_eq!(
        md(&["merge", &s("0"), &s("1")]),
        md(&["mc", "--draws", "20"])
    );
    // Markdown escapes what it would otherwise read as syntax: a dollar amount is not math.
    let run = md(&["run"]);
    assert!(run.contains("\\$23.24B"), "{run}");
}

/// `--width 80` fits every table within 80 columns (headers wrap, the rightmost columns
/// are left out with a note naming them); without it, a pipe gets the full width whatever
/// COLUMNS says, so scripts and goldens never depend on a window.
#[test]
fn tables_fit_the_width_with_a_note_and_pipes_keep_the_full_width() {
    let fitted = delever(["--width", "80", "run", "--holders", "all"]);
    assert_eq!(fitted.code, 0, "{}", fitted.stderr);
    let rules: Vec<&str> = fitted
        .stdout
        .lines()
        .filter(|l| l.starts_with("---"))
        .collect();
    assert!(rules.len() >= 5, "{}", fitted.stdout);
    assert!(
        rules.iter().all(|l| l.chars().count() <= 80),
        "{}",
        fitted.stdout
    );
    assert!(
        fitted.stdout.contains(
            "(4 columns left out to fit 80 columns: loss %, sales, passed to creditors, calls; --wide shows every column)"
        ),
        "{}",
        fitted.stdout
    );
    let plain = delever(["run"]);
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_delever"))
        .arg("run")
        .current_dir(root())
        .env("COLUMNS", "80")
        .output()
        .expect("the binary runs");
    assert_eq!(String::from_utf8_lossy(&piped.stdout), plain.stdout);
    assert!(
        plain
            .stdout
            .lines()
            .any(|l| l.starts_with("---") && l.chars().count() > 80)
    );
    assert_eq!(delever(["--wide", "run"]).stdout, plain.stdout);
    let both = delever(["--wide", "--width", "80", "run"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}
