//! Issue 11, batch results and escaping: `merge` refuses edited, extended or old shard
//! files, naming the file and line; `merge --html` gives the unsharded page byte for byte;
//! every CSV output neutralises spreadsheet formulas in text cells and leaves negative
//! numbers as numbers.

// A test that unwraps fails with the line that broke, which is all a message would say.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use delever_batch::shard::{self, ShardHeader};
use delever_report::batch::McDraw;

use crate::util::{delever, scratch};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `mc --draws 12 --seed 5` of the default scenario in `n` shards; the files' paths.
fn mc_shards(dir: &Path, n: u32) -> Vec<PathBuf> {
    (0..n)
        .map(|k| {
            let p = dir.join(format!("mc-{k}.jsonl"));
            let spec = format!("{k}/{n}");
            let r = delever([
                "mc",
                "--draws",
                "12",
                "--seed",
                "5",
                "--shard",
                &spec,
                "-o",
                s(&p),
            ]);
            assert_eq!(r.code, 0, "{}", r.stderr);
            p
        })
        .collect()
}

/// `merge --format csv -o OUT FILES…`.
fn merge_csv(files: &[PathBuf], out: &Path) -> crate::util::Run {
    let mut args = vec!["merge", "--format", "csv", "-o", s(out)];
    args.extend(files.iter().map(|f| s(f)));
    delever(args)
}

/// Rewrite line `n` (1-based) of `path` with `edit`.
fn edit_line(path: &Path, n: usize, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, l)| if i + 1 == n { edit(l) } else { l.to_owned() })
        .collect();
    let new = lines.join("\n") + "\n";
    assert_ne!(new, text, "the edit changed nothing");
    std::fs::write(path, new).unwrap();
}

#[test]
fn merge_refuses_an_edited_row_naming_the_file_and_line() {
    let dir = scratch("hb-edited");
    let files = mc_shards(&dir, 3);
    let out = dir.join("merged.csv");
    assert_eq!(merge_csv(&files, &out).code, 0);
    std::fs::remove_file(&out).unwrap();
    // Line 3 is the second draw of shard 1: its total loss doubled.
    edit_line(&files[1], 3, |l| {
        let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
        let loss = v["total_loss_usd"].as_f64().unwrap();
        let old = format!("\"total_loss_usd\":{}", v["total_loss_usd"]);
        v["total_loss_usd"] = serde_json::json!(loss * 2.0);
        l.replacen(
            &old,
            &format!("\"total_loss_usd\":{}", v["total_loss_usd"]),
            1,
        )
    });
    let r = merge_csv(&files, &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: line 3: the check does not match",
            s(&files[1])
        )),
        "{}",
        r.stderr
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn merge_refuses_an_added_or_removed_row_naming_the_file_and_line() {
    let dir = scratch("hb-added");
    let files = mc_shards(&dir, 2);
    let out = dir.join("merged.csv");
    // A copy of line 2 added after it.
    edit_line(&files[0], 2, |l| format!("{l}\n{l}"));
    let r = merge_csv(&files, &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: line 3: the check does not match",
            s(&files[0])
        )),
        "{}",
        r.stderr
    );
    // Line 2 of the other shard removed.
    let files = mc_shards(&dir, 2);
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines.remove(1);
    std::fs::write(&files[1], lines.join("\n") + "\n").unwrap();
    let r = merge_csv(&files, &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: line 2: the check does not match",
            s(&files[1])
        )),
        "{}",
        r.stderr
    );
    // The last lines lost (a job killed while writing).
    let files = mc_shards(&dir, 2);
    let text = std::fs::read_to_string(&files[1]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    std::fs::write(&files[1], lines[..lines.len() - 1].join("\n") + "\n").unwrap();
    let r = merge_csv(&files, &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("without its end line"), "{}", r.stderr);
    assert!(r.stderr.contains("truncated"), "{}", r.stderr);
    assert!(!out.exists(), "nothing is written");
}

/// Strip a sealed line's `check` key.
fn unsealed(line: &str) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    v.as_object_mut().unwrap().remove("check").unwrap();
    v
}

/// A draw with a key delever does not write.
#[derive(serde::Serialize)]
struct Extended {
    #[serde(flatten)]
    draw: McDraw,
    #[serde(skip_serializing_if = "Option::is_none")]
    var_override: Option<f64>,
}

#[test]
fn merge_refuses_unknown_keys_even_when_the_checks_hold() {
    let dir = scratch("hb-unknown");
    let files = mc_shards(&dir, 2);
    let out = dir.join("merged.csv");
    // Rewrite shard 0 through the shard writer, so that every check holds, with a key
    // delever does not write in one row.
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let header: ShardHeader = serde_json::from_value(unsealed(lines[0])).unwrap();
    let rows: Vec<Extended> = lines[1..lines.len() - 1]
        .iter()
        .enumerate()
        .map(|(i, l)| Extended {
            draw: serde_json::from_value(unsealed(l)).unwrap(),
            var_override: (i == 2).then_some(1e12),
        })
        .collect();
    std::fs::write(&files[0], shard::write(&header, &rows).unwrap()).unwrap();
    let r = merge_csv(&files, &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: line 4: unknown key(s) in a mc row: `var_override`",
            s(&files[0])
        )),
        "{}",
        r.stderr
    );
    // In the header: the header type refuses it (the unit test
    // `merge_refuses_unknown_keys_even_with_a_valid_check` seals such a header).
    let mut v = unsealed(lines[0]);
    v["priority"] = serde_json::json!("high");
    let e = serde_json::from_value::<ShardHeader>(v).unwrap_err();
    assert!(e.to_string().contains("unknown field `priority`"), "{e}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn merge_refuses_format_1_shards_with_a_clear_message() {
    let dir = scratch("hb-format1");
    let old = dir.join("old.jsonl");
    // What delever wrote before shard files carried checks.
    std::fs::write(
        &old,
        "{\"delever_shard\":1,\"command\":\"mc\",\"delever_version\":\"0.1.0\",\"fingerprint\":\"0123456789abcdef\",\"shard\":0,\"shards\":1,\"total\":1,\"scenario\":\"s\",\"description\":\"\",\"as_of\":\"\",\"parameters\":[],\"kinds\":[],\"seed\":1,\"distribution\":\"normal\"}\n\
         {\"index\":0,\"market_return\":-0.1,\"termination\":\"converged\",\"rounds\":1,\"initial_loss_usd\":1.0,\"total_loss_usd\":1.0,\"amplification\":1.0,\"forced_sales_usd\":0.0,\"defaults\":0,\"margin_calls\":0,\"lender_losses_usd\":0.0,\"lender_defaults\":0,\"multiple_equilibria\":false,\"loss_by_kind\":[]}\n",
    )
    .unwrap();
    let out = dir.join("merged.csv");
    let r = merge_csv(std::slice::from_ref(&old), &out);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "{}: shard format 1, written by an older delever: this delever reads format 2 only",
            s(&old)
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("rerun the shards"), "{}", r.stderr);
    assert!(!out.exists());
}

#[test]
fn merged_html_pages_equal_the_unsharded_pages() {
    let dir = scratch("hb-html");
    for (cmd, args) in [
        (
            "sweep",
            vec!["sweep", "--vary=shocks[0].return=-0.05:-0.25:5"],
        ),
        ("mc", vec!["mc", "--draws", "9", "--seed", "3"]),
    ] {
        let whole = dir.join(format!("{cmd}-whole.html"));
        let mut a = args.clone();
        let text = dir.join(format!("{cmd}.txt"));
        a.extend(["--html", s(&whole), "-o", s(&text)]);
        let r = delever(&a);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let mut files = Vec::new();
        for k in 0..3 {
            let f = dir.join(format!("{cmd}-{k}.jsonl"));
            let spec = format!("{k}/3");
            let mut a = args.clone();
            a.extend(["--shard", &spec, "-o", s(&f)]);
            let r = delever(&a);
            assert_eq!(r.code, 0, "{}", r.stderr);
            files.push(f);
        }
        let merged = dir.join(format!("{cmd}-merged.html"));
        let text = dir.join("m.txt");
        let mut m = vec!["merge", "--html", s(&merged), "-o", s(&text)];
        m.extend(files.iter().map(|f| s(f)));
        let r = delever(&m);
        assert_eq!(r.code, 0, "{}", r.stderr);
        let (whole, merged) = (
            std::fs::read_to_string(&whole).unwrap(),
            std::fs::read_to_string(&merged).unwrap(),
        );
        // The default scenario states its assumptions and cites its sources.
        assert!(!whole.contains("The scenario states none"), "{cmd}");
        assert!(whole.contains("domain-semis-2026"), "{cmd}");
        assert!(merged == whole, "{cmd}: the merged page differs");
    }
}

/// A scenario whose ids are spreadsheet formulas.
const INJECT: &str = r#"name: inject
description: Ids that a spreadsheet would run as formulas.
as_of: 2026-01-01
assets:
  - { id: "@SUM(1+1)", price: 100.0, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02 }
  - { id: "-2+3", price: 50.0, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02 }
lenders:
  - { id: "+cmd", capital: 1.0e9 }
holders:
  - id: '=HYPERLINK("x")'
    kind: leveraged_fund
    rule: { type: leverage_target, target: 3 }
    holdings:
      - { asset: "@SUM(1+1)", usd: 1.0e9 }
      - { asset: "-2+3", usd: 5.0e8 }
    margin: { lender: "+cmd", loan: 1.0e9, maintenance: 0.25 }
shocks:
  - { type: asset, asset: "@SUM(1+1)", return: -0.1 }
monte_carlo:
  distribution: { type: normal }
  correlation: 0.5
expect:
  assets:
    "@SUM(1+1)": { drawdown: { max: 0 } }
  holders:
    '=HYPERLINK("x")': { status: [sold, margin_call, liquidated, defaulted] }
"#;

/// The cells of one CSV line (RFC 4180 quoting), unquoted.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cell = String::new();
    let (mut quoted, mut chars) = (false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (false, '"') => quoted = true,
            (false, ',') => out.push(std::mem::take(&mut cell)),
            _ => cell.push(c),
        }
    }
    out.push(cell);
    out
}

/// Every cell of `csv` is safe in a spreadsheet: none starts with a formula character
/// unless it is a number. Returns the cells.
fn assert_safe(what: &str, csv: &str) -> Vec<String> {
    let all: Vec<String> = csv.lines().flat_map(cells).collect();
    assert!(all.len() > 4, "{what}: {csv}");
    for c in &all {
        let number = c.parse::<f64>().is_ok_and(f64::is_finite) && !c.starts_with('+');
        assert!(
            number || !c.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{what}: the cell {c:?} would run as a formula\n{csv}"
        );
    }
    all
}

#[test]
fn every_csv_output_neutralises_formula_cells_and_keeps_negative_numbers() {
    let dir = scratch("hb-csv");
    let yaml = dir.join("inject.yaml");
    std::fs::write(&yaml, INJECT).unwrap();
    let y = s(&yaml);
    let neutralised = ["'=HYPERLINK(\"x\")", "'@SUM(1+1)", "'-2+3", "'+cmd"];
    let run = |args: &[&str]| {
        let r = delever(args);
        assert!(r.code == 0 || r.code == 3, "{args:?}: {}", r.stderr);
        r.stdout
    };

    // run: every id, and negative drawdowns and equity changes as plain numbers.
    let csv = run(&["run", y, "--format", "csv"]);
    let c = assert_safe("run", &csv);
    for n in neutralised {
        assert!(c.iter().any(|x| x == n), "run: no {n:?}\n{csv}");
    }
    assert!(
        csv.lines()
            .any(|l| l.starts_with("asset,\"'@SUM(1+1)\",drawdown,-0.")),
        "{csv}"
    );
    let csv = run(&["run", y, "--compare-modes", "--format", "csv"]);
    let c = assert_safe("run --compare-modes", &csv);
    assert!(c.iter().any(|x| x == neutralised[1]), "{csv}");
    assert!(
        csv.lines()
            .any(|l| l.starts_with("gap,asset,\"'@SUM(1+1)\",drawdown,")),
        "{csv}"
    );

    // describe.
    let csv = run(&["describe", y, "--format", "csv"]);
    let c = assert_safe("describe", &csv);
    assert!(c.iter().any(|x| x == neutralised[1]), "{csv}");

    // check: the drawdown found is a negative number, left as one.
    let csv = run(&["check", y, "--format", "csv"]);
    let c = assert_safe("check", &csv);
    assert!(
        c.iter()
            .any(|x| x.starts_with("-1.") || x.starts_with("-9.")),
        "{csv}"
    );

    // sweep (numbers negative), mc, the draws and a merge.
    let csv = run(&[
        "sweep",
        y,
        "--vary=shocks[0].return=-0.1,-0.2",
        "--format",
        "csv",
    ]);
    assert_safe("sweep", &csv);
    assert!(csv.lines().nth(1).unwrap().starts_with("0,-0.1,"), "{csv}");
    let draws = dir.join("draws.csv");
    let csv = run(&[
        "mc",
        y,
        "--draws",
        "20",
        "--seed",
        "1",
        "--format",
        "csv",
        "--draws-out",
        s(&draws),
    ]);
    assert_safe("mc", &csv);
    let draws = std::fs::read_to_string(&draws).unwrap();
    assert_safe("mc --draws-out", &draws);
    assert!(
        draws
            .lines()
            .skip(1)
            .any(|l| l.split(',').nth(1).unwrap().starts_with('-')),
        "some draw falls: {draws}"
    );
}
