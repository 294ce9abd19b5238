//! The command line end to end: help, exit codes, formats, atomic output.

use crate::util::{delever, scratch};

#[test]
fn no_arguments_runs_the_default_scenario() {
    let r = delever::<[&str; 0], &str>([]);
    assert!(r.code == 0 || r.code == 3, "exit {}: {}", r.code, r.stderr);
    assert!(
        r.stdout.contains("semis-sentiment-reversal"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("amplification"), "{}", r.stdout);
    assert!(r.stdout.contains("Holders by kind"), "{}", r.stdout);
}

#[test]
fn help_teaches_commands_examples_and_exit_codes() {
    let r = delever(["--help"]);
    assert_eq!(r.code, 0);
    for needle in [
        "run",
        "validate",
        "describe",
        "export",
        "schema",
        "list",
        "Examples:",
        "Exit codes",
        "RUST_LOG",
    ] {
        assert!(
            r.stdout.contains(needle),
            "--help lacks {needle}:\n{}",
            r.stdout
        );
    }
    let r = delever(["run", "--help"]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("--format"), "{}", r.stdout);
    assert!(r.stdout.contains("--trace"), "{}", r.stdout);
}

#[test]
fn usage_errors_exit_2_with_nothing_on_stdout() {
    let r = delever(["run", "--format", "xml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = delever(["frobnicate"]);
    assert_eq!(r.code, 2);
    let r = delever(["run", "--max-rounds", "0"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--max-rounds"), "{}", r.stderr);
}

#[test]
fn unknown_scenario_name_suggests_the_closest() {
    let r = delever(["run", "semis-sentiment-reversl"]);
    assert_eq!(r.code, 2);
    assert!(r.stdout.is_empty());
    assert!(
        r.stderr.contains("did you mean `semis-sentiment-reversal`"),
        "{}",
        r.stderr
    );
    let r = delever(["run", "no/such/file.yaml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no/such/file.yaml"), "{}", r.stderr);
}

#[test]
fn json_report_has_the_contract_keys() {
    let r = delever(["run", "--format", "json"]);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("valid JSON");
    for k in [
        "scenario",
        "termination",
        "rounds",
        "residual",
        "totals",
        "assets",
        "holders",
        "trace",
    ] {
        assert!(v.get(k).is_some(), "missing key {k}");
    }
    for k in [
        "initial_loss_usd",
        "total_loss_usd",
        "amplification",
        "forced_sales_usd",
        "defaults",
        "margin_calls",
        "lender_losses_usd",
    ] {
        assert!(v["totals"].get(k).is_some(), "missing totals.{k}");
    }
    let asset = &v["assets"][0];
    for k in [
        "id",
        "price_before",
        "price_shocked",
        "price_after",
        "drawdown",
        "forced_sales_shares",
        "forced_sales_usd",
    ] {
        assert!(asset.get(k).is_some(), "missing assets[].{k}");
    }
    let holder = &v["holders"][0];
    for k in [
        "id",
        "kind",
        "equity_before",
        "equity_after",
        "sales_usd",
        "status",
        "lender_loss_usd",
    ] {
        assert!(holder.get(k).is_some(), "missing holders[].{k}");
    }
    let round = &v["trace"][0];
    for k in [
        "round",
        "sales_usd",
        "price_index",
        "new_calls",
        "new_defaults",
    ] {
        assert!(round.get(k).is_some(), "missing trace[].{k}");
    }
    assert_eq!(v["scenario"], "semis-sentiment-reversal");
}

#[test]
fn csv_report_is_tidy() {
    let r = delever(["run", "--format", "csv"]);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    let mut lines = r.stdout.lines();
    assert_eq!(lines.next(), Some("scope,id,metric,value"));
    assert!(lines.all(|l| l.split(',').count() >= 4));
    assert!(
        r.stdout
            .contains("totals,semis-sentiment-reversal,amplification,")
    );
}

#[test]
fn output_file_is_written_whole() {
    let dir = scratch("cli-output");
    let path = dir.join("report.json");
    let r = delever([
        "run".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "-o".as_ref(),
        path.as_os_str(),
    ]);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let text = std::fs::read_to_string(&path).expect("report written");
    serde_json::from_str::<serde_json::Value>(&text).expect("complete JSON");
    // No temporary files left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn bad_input_writes_no_output_file() {
    let dir = scratch("cli-bad-input");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\n").expect("write");
    let out = dir.join("report.json");
    let r = delever([
        "run".as_ref(),
        bad.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!out.exists());
    assert!(r.stdout.is_empty());
}

#[test]
fn trace_prints_the_round_by_round_table() {
    let r = delever(["run", "--trace"]);
    assert!(r.code == 0 || r.code == 3, "{}", r.stderr);
    assert!(r.stdout.contains("Round by round"), "{}", r.stdout);
    assert!(r.stdout.contains("largest sellers"), "{}", r.stdout);
}

#[test]
fn describe_shows_exposure_by_kind_and_asset() {
    let r = delever(["describe"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("By holder kind"));
    assert!(r.stdout.contains("leveraged_etf"));
    assert!(r.stdout.contains("NVDA"));
    let r = delever(["describe", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    let total = v["leveraged_exposure_usd"].as_f64().expect("number");
    // The default scenario is calibrated to about $100B of leveraged exposure to the
    // semiconductor names in margin accounts, ETFs and hedge funds ($108.8B); the
    // semiconductor total also counts the CTAs' $15B of futures (at 1.5× their capital)
    // and the levered risk-parity fund's semis, and the grand total its levered book in
    // EQ-REST and BONDS, the proxies for the rest of its portfolio.
    let semis: f64 = v["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .filter(|a| !matches!(a["id"].as_str(), Some("EQ-REST" | "BONDS")))
        .map(|a| a["leveraged_exposure_usd"].as_f64().expect("number"))
        .sum();
    assert!((8.0e10..1.5e11).contains(&semis), "{semis}");
    assert!(total > semis, "{total} {semis}");
}

#[test]
fn list_names_the_shipped_scenarios() {
    let r = delever(["list"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("semis-sentiment-reversal"));
}

#[test]
fn export_dot_is_a_digraph_and_colours_after_a_run() {
    let r = delever(["export", "dot"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("digraph"));
    assert!(r.stdout.contains("shape=octagon"));
    assert!(r.stdout.trim_end().ends_with('}'));
    let r = delever(["export", "dot", "--after-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("final status"));
}

#[test]
fn schema_is_json_and_describes_the_top_level_keys() {
    let r = delever(["schema"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON schema");
    let text = v.to_string();
    for k in ["assets", "holders", "shocks", "lenders"] {
        assert!(text.contains(k), "schema lacks {k}");
    }
}

#[test]
fn verbose_logs_go_to_stderr_only() {
    let quiet = delever(["run", "--format", "json"]);
    let loud = delever(["-vv", "run", "--format", "json"]);
    assert_eq!(quiet.stdout, loud.stdout, "logging must not change stdout");
    assert!(
        loud.stderr.contains("INFO") || loud.stderr.contains("DEBUG"),
        "{}",
        loud.stderr
    );
}

#[test]
fn output_is_identical_at_any_thread_count() {
    let one = delever(["--threads", "1", "run", "--format", "json"]);
    let two = delever(["--threads", "2", "run", "--format", "json"]);
    let eight = delever(["--threads", "8", "run", "--format", "json"]);
    assert_eq!(one.stdout, two.stdout);
    assert_eq!(one.stdout, eight.stdout);
}
