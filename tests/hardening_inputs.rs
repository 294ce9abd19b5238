//! Hostile input (issue 11): memory stays bounded, nothing blocks, finite but huge
//! numbers never reach the engine, and messages stay short. Every hostile file is made
//! here, in a scratch directory; the binary runs as a child that is killed if it hangs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use delever_scenario::Scenario;

use crate::util::{Run, root, scratch};

/// A small valid scenario with an account book (`accounts.csv`, `holdings.csv` beside it).
const BOOK: &str = "\
name: NAME
description: A scenario for the hardening tests.
as_of: 2026-05-29
assets:
  - { id: NVDA, price: 200.0, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }
  - { id: AMD, price: 100.0, shares_outstanding: 1.62e9, adv_usd: 8.0e9, daily_vol: 0.032 }
lenders:
  - { id: broker, capital: 1.0e10 }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: NVDA, shares: 1000 }, { asset: AMD, usd: 50000 } ]
    margin: { lender: broker, loan: 100000, maintenance: 0.30 }
  - id: book
    kind: account_book
    accounts_csv: accounts.csv
    holdings_csv: holdings.csv
    margin: { lender: broker, maintenance: 0.30 }
shocks:
  - { type: asset, asset: NVDA, return: -0.10 }
";

const ACCOUNTS: &str = "account,cash,loan\na1,1000,5000\na2,0,2000\n";
const HOLDINGS: &str = "account,asset,shares\na1,NVDA,50\na2,AMD,40\n";

/// Write the scenario `name` (BOOK with `from` replaced by `to`) and its books into `dir`.
fn write_scenario(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    assert!(BOOK.contains(from), "BOOK lacks {from:?}");
    let text = BOOK.replace("NAME", name).replacen(from, to, 1);
    let path = dir.join(format!("{name}.yaml"));
    std::fs::write(&path, text).expect("write scenario");
    for (file, text) in [("accounts.csv", ACCOUNTS), ("holdings.csv", HOLDINGS)] {
        if !dir.join(file).exists() {
            std::fs::write(dir.join(file), text).expect("write book");
        }
    }
    path
}

/// Run `delever ARGS…` as a child; kill it and fail if it has not ended in `limit`.
fn delever_within<S: AsRef<std::ffi::OsStr>>(args: &[S], limit: Duration) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_delever"))
        .args(args)
        .current_dir(root())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the delever binary runs");
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output").into();
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("delever did not end within {limit:?}: it blocks or runs away");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn arg(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn a_2_mb_csv_header_line_is_refused_with_a_short_located_message() {
    let dir = scratch("hardening-long-header");
    let yaml = write_scenario(&dir, "long_header", "accounts.csv", "long.csv");
    // One line of 2 MB and no line break: a header that never ends.
    std::fs::write(dir.join("long.csv"), "a".repeat(2 << 20)).expect("write");
    let r = delever_within(&["validate", &arg(&yaml)], Duration::from_secs(20));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let at = format!(
        "{}:1:1: holders[1].accounts_csv: ",
        arg(&dir.join("long.csv"))
    );
    assert!(
        r.stderr.starts_with(&at),
        "{}",
        &r.stderr[..r.stderr.len().min(500)]
    );
    assert!(
        r.stderr.contains("this row is longer than 1 MiB"),
        "{}",
        r.stderr
    );
    // The line is not echoed: the whole message is a few hundred bytes.
    assert!(r.stderr.len() < 1000, "{} bytes on stderr", r.stderr.len());
}

#[test]
fn a_200_kb_string_aliased_2000_times_is_refused_fast() {
    let dir = scratch("hardening-string-alias");
    // 200 KB × 2,000 aliases: 400 MB of text once expanded, from a 200 KB file.
    let mut aliases = String::from("assumptions: [");
    for _ in 0..2000 {
        aliases.push_str("*s, ");
    }
    aliases.push_str("]\nas_of:");
    let yaml = write_scenario(
        &dir,
        "string_alias",
        "description: A scenario for the hardening tests.\nas_of:",
        &format!("description: &s \"{}\"\n{aliases}", "lol ".repeat(50_000)),
    );
    let t = Instant::now();
    let r = delever_within(&["validate", &arg(&yaml)], Duration::from_secs(20));
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("string_alias.yaml:3:")
            && r.stderr.contains("assumptions: aliases expand this document by more than 16 MiB of text (an alias bomb?)"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.len() < 1000, "{} bytes on stderr", r.stderr.len());
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs")
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn a_fifo_for_a_scenario_or_a_book_is_refused_without_blocking() {
    let dir = scratch("hardening-fifo");
    let fifo = dir.join("pipe.yaml");
    mkfifo(&fifo);
    for cmd in ["validate", "run", "check", "describe"] {
        let r = delever_within(&[cmd, &arg(&fifo)], Duration::from_secs(10));
        assert_eq!(r.code, 2, "{cmd}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(
                "{}: this is a FIFO (named pipe), not a regular file; scenarios are read from files only",
                arg(&fifo)
            )),
            "{cmd}: {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("hint: give the path of a .yaml file"),
            "{}",
            r.stderr
        );
    }
    // The library refuses it too; a regression would block, so it runs on a thread that
    // is released (by opening the FIFO for writing) if it has not answered in time.
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        let _ = tx.send(Scenario::load(&path).map(|_| ()).map_err(|e| e.to_string()));
    });
    let got = rx.recv_timeout(Duration::from_secs(5));
    if got.is_err() {
        let _ = std::fs::OpenOptions::new().write(true).open(&fifo);
    }
    let err = got
        .expect("Scenario::load answers without blocking")
        .expect_err("a FIFO");
    assert!(err.contains("FIFO"), "{err}");
    // A CSV book that is a FIFO was refused already; it still is.
    let yaml = write_scenario(&dir, "fifo_book", "holdings.csv", "holdings.fifo");
    mkfifo(&dir.join("holdings.fifo"));
    let r = delever_within(&["validate", &arg(&yaml)], Duration::from_secs(10));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("is not a file"), "{}", r.stderr);
}

#[test]
fn a_directory_or_device_for_a_scenario_is_refused() {
    let dir = scratch("hardening-special");
    // `validate` takes a directory for its *.yaml files (none here); a command that
    // loads one scenario refuses it.
    let r = delever_within(&["run", &arg(&dir)], Duration::from_secs(10));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("this is a directory"), "{}", r.stderr);
    let r = delever_within(&["validate", &arg(&dir)], Duration::from_secs(10));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("holds no scenario"), "{}", r.stderr);
    #[cfg(unix)]
    {
        // /dev/zero never ends: it must be refused, not read up to the size limit.
        let r = delever_within(&["validate", "/dev/zero"], Duration::from_secs(10));
        assert_eq!(r.code, 2, "{}", r.stderr);
        assert!(
            r.stderr.contains("this is a device, not a regular file"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn finite_but_huge_numbers_never_reach_the_engine() {
    let dir = scratch("hardening-huge");
    for (i, (from, to, path, message)) in [
        (
            "return: -0.10",
            "return: 1e306",
            "shocks[0].return",
            "must be at most 10, got 1e306",
        ),
        (
            "price: 200.0",
            "price: 1e308",
            "assets[0].price",
            "must be in [1e-6, 1e9] USD per share, got 1e308",
        ),
        (
            "AMD, usd: 50000",
            "AMD, usd: 1e308",
            "holders[0].holdings[1].usd",
            "must be at most 1e15 USD, got 1e308",
        ),
        (
            "loan: 100000",
            "loan: 1e308",
            "holders[0].margin.loan",
            "must be at most 1e15 USD, got 1e308",
        ),
        (
            "capital: 1.0e10",
            "capital: 1e300",
            "lenders[0].capital",
            "must be at most 1e15 USD, got 1e300",
        ),
        (
            "adv_usd: 4.0e10",
            "adv_usd: 1e300",
            "assets[0].adv_usd",
            "must be at most 1e15 USD, got 1e300",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("huge_{i}");
        let yaml = write_scenario(&dir, &name, from, to);
        let r = delever_within(
            &["run", &arg(&yaml), "--format", "json"],
            Duration::from_secs(20),
        );
        assert_eq!(r.code, 2, "{to}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{to}: {}", r.stdout);
        let want = format!("{}:", arg(&yaml));
        assert!(r.stderr.contains(&want), "{to}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(": {path}: {message}")),
            "{to}: {}",
            r.stderr
        );
    }
    // A sweep that writes a huge value is refused at the value it replaced.
    let yaml = write_scenario(&dir, "sweep_base", "as_of:", "as_of:");
    let r = delever_within(
        &["sweep", &arg(&yaml), "--vary=shocks[0].return=1e306"],
        Duration::from_secs(20),
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("shocks[0].return: must be at most 10, got 1e306"),
        "{}",
        r.stderr
    );
}

#[test]
fn mc_parameters_are_checked_at_load_not_at_the_first_draw() {
    let dir = scratch("hardening-mc");
    for (i, (block, path, message)) in [
        (
            "  assets: [ { asset: NVDA, daily_vol: 1e300 } ]\n",
            "monte_carlo.assets[0].daily_vol",
            "must be at most 1, got 1e300",
        ),
        (
            "  assets: [ { asset: NVDA, daily_mean: 1e300 } ]\n",
            "monte_carlo.assets[0].daily_mean",
            "must be in [-1, 1], got 1e300",
        ),
        (
            "  horizon_days: 1e300\n",
            "monte_carlo.horizon_days",
            "must be at most 2520 days, got 1e300",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("mc_{i}");
        let yaml = write_scenario(
            &dir,
            &name,
            "shocks:",
            &format!("monte_carlo:\n  distribution: {{ type: normal }}\n{block}shocks:"),
        );
        let r = delever_within(
            &["mc", &arg(&yaml), "--draws", "4", "--seed", "1"],
            Duration::from_secs(20),
        );
        assert_eq!(r.code, 2, "{block}: {}", r.stderr);
        assert!(
            r.stderr.contains(&format!(": {path}: {message}")),
            "{block}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("draw 0"), "{}", r.stderr);
    }
}

#[test]
fn messages_quote_little_of_a_huge_value() {
    let dir = scratch("hardening-quotes");
    let junk = "Q".repeat(5 << 20);
    for (i, (from, to)) in [
        ("price: 200.0", format!("price: {junk}")),
        ("lender: broker, loan", format!("lender: {junk}, loan")),
        ("asset: NVDA, return", format!("asset: \"{junk}\", return")),
    ]
    .into_iter()
    .enumerate()
    {
        let yaml = write_scenario(&dir, &format!("quote_{i}"), from, &to);
        let r = delever_within(&["validate", &arg(&yaml)], Duration::from_secs(30));
        assert_eq!(r.code, 2, "{}", &r.stderr[..r.stderr.len().min(400)]);
        assert!(
            r.stderr.len() < 2000,
            "{i}: {} bytes on stderr",
            r.stderr.len()
        );
        assert!(r.stderr.contains("QQQ…"), "{i}: {}", r.stderr);
    }
    // The same in a CSV field: an account id of 60 KB (under the field limit).
    let yaml = write_scenario(&dir, "quote_csv", "accounts.csv", "long_id.csv");
    let mut csv = String::from("account,cash,loan\n");
    writeln!(csv, "{},-1,0", "I".repeat(60_000)).expect("write to a string");
    std::fs::write(dir.join("long_id.csv"), csv).expect("write");
    let r = delever_within(&["validate", &arg(&yaml)], Duration::from_secs(10));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.len() < 1000, "{} bytes on stderr", r.stderr.len());
    assert!(r.stderr.contains("(account `III"), "{}", r.stderr);
}

#[test]
fn shipped_scenarios_and_fixtures_are_within_every_limit() {
    // The limits are chosen far beyond any real figure: every shipped file loads.
    for dir in ["scenarios", "tests/fixtures"] {
        for e in std::fs::read_dir(root().join(dir)).expect("dir") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yaml")
                && let Err(e) = Scenario::load(&p)
            {
                panic!("{}: {e}", p.display());
            }
        }
    }
}
