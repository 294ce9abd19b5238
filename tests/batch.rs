//! `delever sweep`, `mc` and `merge` through the binary: outputs, shards merged byte for
//! byte, thread-count invariance, monotonicity across a sweep, and bad input.

// A test that unwraps fails with the line that broke, which is all a message would say.
#![allow(clippy::unwrap_used)]

use crate::util::{delever, scratch};

const SHOCK: &str = "--vary=shocks[0].return=-0.02:-0.30:8";

fn csv_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect()
}

#[test]
fn sweep_csv_has_one_row_per_variant_in_grid_order() {
    let r = delever([
        "sweep",
        SHOCK,
        "--vary=engine.mode=equilibrium,sequential",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    assert_eq!(
        &rows[0][..4],
        ["index", "shocks[0].return", "engine.mode", "termination"]
    );
    assert!(rows[0].iter().any(|c| c == "loss_leveraged_etf_usd"));
    assert_eq!(rows.len(), 1 + 16);
    // last parameter fastest
    assert_eq!(&rows[1][1..3], ["-0.02", "equilibrium"]);
    assert_eq!(&rows[2][1..3], ["-0.02", "sequential"]);
    assert_eq!(&rows[16][1..3], ["-0.3", "sequential"]);
}

#[test]
fn a_bigger_shock_never_means_a_smaller_cascade_across_a_sweep() {
    let r = delever([
        "sweep",
        "--vary=shocks[0].return=0:-0.40:21",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows = csv_rows(&r.stdout);
    let col = |name: &str| rows[0].iter().position(|c| c == name).unwrap();
    let num = |row: &Vec<String>, i: usize| row[i].parse::<f64>().unwrap();
    // zero shock: no sales, no loss
    assert_eq!(num(&rows[1], col("forced_sales_usd")), 0.0);
    assert_eq!(num(&rows[1], col("total_loss_usd")), 0.0);
    // Forced sales in USD are valued at ever lower prices, so they can fall while the
    // shares sold rise; losses, calls and defaults cannot.
    for name in [
        "total_loss_usd",
        "margin_calls",
        "defaults",
        "lender_losses_usd",
    ] {
        let i = col(name);
        for w in rows[1..].windows(2) {
            assert!(num(&w[1], i) >= num(&w[0], i), "{name}: {w:?}");
        }
    }
}

#[test]
fn sweep_json_and_jsonl_key_parameters_by_path() {
    let r = delever(["sweep", SHOCK, "--format", "jsonl"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<serde_json::Value> = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 8);
    assert_eq!(lines[0]["params"]["shocks[0].return"], -0.02);
    assert!(lines[7]["amplification"].as_f64().unwrap() >= 1.0);
    let r = delever(["sweep", SHOCK, "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(doc["variants"], 8);
    assert_eq!(doc["parameters"][0], "shocks[0].return");
    assert_eq!(doc["rows"].as_array().unwrap().len(), 8);
}

#[test]
fn merged_shards_equal_the_single_run() {
    let dir = scratch("merge-shards");
    for (cmd, args) in [
        (
            "sweep",
            vec![
                "sweep",
                "--vary=shocks[0].return=-0.02:-0.30:7",
                "--vary=defaults.cure_rate=0,0.3",
            ],
        ),
        (
            "mc",
            vec!["mc", "--draws", "37", "--seed", "11", "--max-rounds", "200"],
        ),
    ] {
        for format in ["csv", "json", "jsonl", "table"] {
            let mut single = args.clone();
            single.extend(["--format", format]);
            let whole = delever(&single);
            assert_eq!(whole.code, 0, "{cmd} {format}: {}", whole.stderr);
            // 3 shards for one, 5 for the others: the split must not matter.
            let n = if format == "csv" { 3 } else { 5 };
            let mut files = Vec::new();
            for k in (0..n).rev() {
                let f = dir.join(format!("{cmd}-{format}-{k}.jsonl"));
                let mut a = args.clone();
                let spec = format!("{k}/{n}");
                a.extend(["--shard", &spec, "-o", f.to_str().unwrap()]);
                let r = delever(&a);
                assert_eq!(r.code, 0, "{cmd} shard {k}: {}", r.stderr);
                files.push(f.to_str().unwrap().to_owned());
            }
            let mut m = vec!["merge".to_owned(), "--format".into(), format.into()];
            m.extend(files);
            let merged = delever(&m);
            assert_eq!(merged.code, 0, "{}", merged.stderr);
            assert_eq!(merged.stdout, whole.stdout, "{cmd} --format {format}");
        }
    }
}

#[test]
fn merge_refuses_incomplete_or_mixed_shards() {
    let dir = scratch("merge-bad");
    let f = |k: u32, seed: &str| {
        let p = dir.join(format!("s{seed}-{k}.jsonl"));
        let spec = format!("{k}/3");
        let r = delever([
            "mc",
            "--draws",
            "6",
            "--seed",
            seed,
            "--shard",
            &spec,
            "-o",
            p.to_str().unwrap(),
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        p.to_str().unwrap().to_owned()
    };
    let (a0, a1, _a2, b2) = (f(0, "1"), f(1, "1"), f(2, "1"), f(2, "2"));
    let r = delever(["merge", &a0, &a1]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("2/3 missing"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = delever(["merge", &a0, &a1, &b2]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("fingerprint"), "{}", r.stderr);
    let r = delever(["merge", "Cargo.toml"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("shard header"), "{}", r.stderr);
}

#[test]
fn monte_carlo_is_identical_at_any_thread_count_and_seeded() {
    let run = |threads: &str, seed: &str| {
        let r = delever([
            "--threads",
            threads,
            "mc",
            "--draws",
            "60",
            "--seed",
            seed,
            "--format",
            "json",
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let one = run("1", "5");
    assert_eq!(one, run("2", "5"));
    assert_eq!(one, run("7", "5"));
    assert_ne!(one, run("2", "6"));
    let s: serde_json::Value = serde_json::from_str(&one).unwrap();
    assert_eq!(s["draws"], 60);
    assert!(s["distribution"].as_str().unwrap().contains("student_t"));
    let total = s["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "total_loss_usd")
        .unwrap();
    // VaR and ES at 95, 99, 99.9%: ES ≥ VaR.
    for i in 0..3 {
        assert!(total["es"][i][1].as_f64().unwrap() >= total["var"][i][1].as_f64().unwrap());
    }
}

#[test]
fn monte_carlo_writes_draws_and_refuses_a_scenario_without_a_distribution() {
    let dir = scratch("mc-draws");
    let draws = dir.join("draws.csv");
    let r = delever([
        "mc",
        "--draws",
        "20",
        "--draws-out",
        draws.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("VaR 99%"), "{}", r.stdout);
    let text = std::fs::read_to_string(&draws).unwrap();
    assert_eq!(text.lines().count(), 21);
    assert!(text.starts_with("index,market_return,termination"));
    let r = delever(["mc", "archegos-2021-03", "--draws", "10"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("monte_carlo"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[test]
fn bad_sweeps_exit_2_and_write_nothing() {
    let dir = scratch("sweep-bad");
    let out = dir.join("out.csv");
    let o = out.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["sweep", "--vary=shocks[0].return=1:2", "-o", o],
            "three parts",
        ),
        (
            vec!["sweep", "--vary=shocks[0].retrun=-0.1,-0.2", "-o", o],
            "return",
        ),
        (
            vec!["sweep", "--vary=defaults.cure_rate=0.5,1.5", "-o", o],
            "cure_rate",
        ),
        (vec!["sweep", SHOCK, "--shard", "3/3", "-o", o], "from 0"),
        (
            vec!["sweep", SHOCK, "--shard", "0/3", "--format", "csv"],
            "--format",
        ),
    ] {
        let r = delever(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(needle), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}");
        assert!(!out.exists(), "{args:?} wrote a file");
    }
}

#[test]
fn a_round_limit_too_small_is_exit_3_with_rows_written() {
    let r = delever(["sweep", SHOCK, "--max-rounds", "1", "--format", "csv"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stdout.contains("max_rounds"));
    assert!(r.stderr.contains("did not converge"));
}
