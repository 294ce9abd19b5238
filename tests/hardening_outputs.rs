//! Issue 11, outputs: `-o`, `--html`, `--draws-out` and `generate` never destroy what a
//! path points at (links stay links, FIFOs and devices stay what they are), the outputs of
//! one command are written all or nothing, `generate --force` replaces a set of files
//! whole or not at all; and the exit codes and messages of the command line (thread cap,
//! negative numbers, `generate -q`, non-convergence in `export` and `check`).
//!
//! No test here names `/dev/null` or `/dev/stdout` as an output directly: they go through
//! a link inside the test's own directory, so that even a broken build could only replace
//! that link.

use std::os::unix::fs::{FileTypeExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Run, delever, root, scratch};

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// The file names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("list dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `delever ARGS…` with extra environment variables.
fn delever_env(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut c = Command::new(env!("CARGO_BIN_EXE_delever"));
    c.args(args).current_dir(root()).env_remove("RUST_LOG");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the delever binary runs").into()
}

/// The default scenario, cut to two rounds and without its `expect:` block: it does not
/// converge.
fn unconverged(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("scenarios/semis-sentiment-reversal.yaml"))
        .expect("shipped scenario");
    let text = text.replace("  max_rounds: 1000\n", "  max_rounds: 2\n");
    let cut = text.find("\nexpect:").expect("has an expect block");
    let p = dir.join("semis-sentiment-reversal.yaml");
    std::fs::write(&p, &text[..cut]).expect("write scenario");
    p
}

#[test]
fn a_link_output_writes_its_target_and_stays_a_link() {
    let dir = scratch("hardening-outputs-link");
    let target = dir.join("target.json");
    std::fs::write(&target, "old").expect("write");
    let link = dir.join("link.json");
    symlink("target.json", &link).expect("link");
    let html_link = dir.join("link.html");
    symlink("report.html", &html_link).expect("link"); // dangling: a new file
    let r = delever([
        "run",
        "--format",
        "json",
        "-o",
        s(&link),
        "--html",
        s(&html_link),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for l in [&link, &html_link] {
        let m = std::fs::symlink_metadata(l).expect("link exists");
        assert!(m.file_type().is_symlink(), "{} was replaced", l.display());
    }
    let json = std::fs::read_to_string(&target).expect("target");
    assert!(json.contains("\"scenario\""), "{json}");
    assert!(dir.join("report.html").is_file());
    assert_eq!(
        names(&dir),
        ["link.html", "link.json", "report.html", "target.json"]
    );
}

#[test]
fn dev_null_behind_a_link_is_written_through_and_never_replaced() {
    let dir = scratch("hardening-outputs-null");
    let link = dir.join("null");
    symlink("/dev/null", &link).expect("link");
    for args in [
        vec!["run", "--format", "json", "-o", s(&link)],
        vec!["run", "--html", s(&link)],
        vec![
            "mc",
            "--draws",
            "20",
            "--draws-out",
            s(&link),
            "-o",
            s(&link),
        ],
    ] {
        let r = delever(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        let m = std::fs::symlink_metadata(&link).expect("link");
        assert!(
            m.file_type().is_symlink(),
            "{args:?}: the link was replaced"
        );
        let null = std::fs::metadata("/dev/null").expect("/dev/null");
        assert!(
            null.file_type().is_char_device(),
            "/dev/null is not a device"
        );
    }
    assert_eq!(names(&dir), ["null"]);
}

#[test]
fn dev_stdout_behind_a_link_is_the_process_stdout() {
    let dir = scratch("hardening-outputs-stdout");
    let link = dir.join("out");
    symlink("/dev/stdout", &link).expect("link");
    let r = delever(["describe", "--format", "json", "-o", s(&link)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"scenario\""), "{}", r.stdout);
    let m = std::fs::symlink_metadata(&link).expect("link");
    assert!(m.file_type().is_symlink(), "the link was replaced");
}

#[test]
fn a_fifo_output_is_written_through_and_stays_a_fifo() {
    let dir = scratch("hardening-outputs-fifo");
    let fifo = dir.join("fifo");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    // The reader blocks in open() until delever opens the FIFO for writing.
    let mut reader = Command::new("cat")
        .arg(&fifo)
        .stdout(Stdio::piped())
        .spawn()
        .expect("cat runs");
    let r = delever(["run", "--format", "json", "-o", s(&fifo)]);
    let start = Instant::now();
    let finished = loop {
        match reader.try_wait().expect("wait for cat") {
            Some(_) => break true,
            None if start.elapsed() > Duration::from_secs(20) => break false,
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    if !finished {
        let _ = reader.kill();
    }
    let out = reader.wait_with_output().expect("cat output");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(finished, "nothing was written to the FIFO");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"scenario\""), "{text}");
    let m = std::fs::symlink_metadata(&fifo).expect("fifo");
    assert!(m.file_type().is_fifo(), "the FIFO was replaced");
    assert_eq!(names(&dir), ["fifo"]);
}

#[test]
fn directories_sockets_and_missing_directories_are_refused_before_the_run() {
    let dir = scratch("hardening-outputs-refused");
    let sock = dir.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&sock).expect("bind");
    for (target, needle) in [
        (dir.clone(), "is a directory"),
        (sock.clone(), "socket"),
        (dir.join("missing/x.json"), "does not exist"),
    ] {
        let r = delever(["run", "-o", s(&target)]);
        assert_eq!(r.code, 2, "{}: {}", target.display(), r.stderr);
        assert!(r.stderr.contains(needle), "{}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{}", r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
    }
    assert!(
        std::fs::symlink_metadata(&sock)
            .expect("sock")
            .file_type()
            .is_socket()
    );
    assert_eq!(names(&dir), ["sock"]);
}

#[test]
fn several_outputs_are_all_or_nothing() {
    let dir = scratch("hardening-outputs-all-or-nothing");
    let missing = dir.join("missing/x");
    let (html, draws) = (dir.join("r.html"), dir.join("d.csv"));
    let shard = dir.join("shard.jsonl");
    let r = delever(["mc", "--draws", "20", "--shard", "0/1", "-o", s(&shard)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let cases: Vec<Vec<&str>> = vec![
        vec!["run", "--html", s(&html), "-o", s(&missing)],
        vec![
            "mc",
            "--draws",
            "20",
            "--draws-out",
            s(&draws),
            "--html",
            s(&html),
            "-o",
            s(&missing),
        ],
        vec![
            "sweep",
            "--vary",
            "shocks[0].return=-0.05,-0.1",
            "--html",
            s(&html),
            "-o",
            s(&missing),
        ],
        vec![
            "merge",
            s(&shard),
            "--draws-out",
            s(&draws),
            "--html",
            s(&html),
            "-o",
            s(&missing),
        ],
        // The same file named twice, spelled two ways.
        vec!["run", "--html", s(&html), "-o", s(&html)],
        vec![
            "mc",
            "--draws",
            "20",
            "--draws-out",
            s(&draws),
            "-o",
            s(&draws),
        ],
    ];
    let same = format!("{}/./r.html", dir.display());
    let mut cases = cases;
    cases.push(vec!["run", "--html", s(&html), "-o", &same]);
    for args in &cases {
        let r = delever(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert_eq!(names(&dir), ["shard.jsonl"], "{args:?} wrote something");
    }
    let r = delever(["run", "--html", s(&html), "-o", &same]);
    assert!(r.stderr.contains("name the same file"), "{}", r.stderr);
}

#[test]
fn check_with_a_bad_scenario_writes_no_report() {
    let dir = scratch("hardening-outputs-check-bad");
    let good = root().join("scenarios/semis-sentiment-reversal.yaml");
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\nassets: 3\n").expect("write");
    let out = dir.join("out.txt");
    let r = delever(["check", s(&good), s(&bad), "-o", s(&out)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("bad.yaml"), "{}", r.stderr);
    assert!(r.stderr.contains("no report written"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(names(&dir), ["bad.yaml"]);
}

#[test]
fn single_output_commands_check_the_destination_first() {
    let dir = scratch("hardening-outputs-single");
    let missing = dir.join("missing/x");
    for args in [
        vec!["describe", "-o", s(&missing)],
        vec!["export", "dot", "--after-run", "-o", s(&missing)],
        vec!["explain", "--holder", "SOXL", "-o", s(&missing)],
        vec!["schema", "-o", s(&missing)],
        vec!["list", "-o", s(&missing)],
        vec!["check", "-o", s(&missing)],
    ] {
        let r = delever(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("does not exist"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stdout.is_empty(), "{args:?}");
    }
    assert!(names(&dir).is_empty());
}

/// A retail book's three files with `--seed SEED` into `dir`.
fn retail(dir: &Path, seed: &str, force: bool) -> Run {
    let mut args = vec![
        "generate",
        "retail-book",
        "--accounts",
        "200",
        "--assets",
        "20",
        "--name",
        "g",
        "--seed",
        seed,
        "--out-dir",
        s(dir),
    ];
    if force {
        args.push("--force");
    }
    delever(args)
}

#[test]
fn generate_force_replaces_the_set_whole_or_not_at_all() {
    let dir = scratch("hardening-outputs-generate-force");
    assert_eq!(retail(&dir, "1", false).code, 0);
    let files = ["g-retail-accounts.csv", "g-retail-holdings.csv", "g.yaml"];
    assert_eq!(names(&dir), files);
    // One destination cannot take a file: a directory sits where the holdings go.
    let holdings = dir.join("g-retail-holdings.csv");
    std::fs::remove_file(&holdings).expect("rm");
    std::fs::create_dir(&holdings).expect("mkdir");
    std::fs::write(holdings.join("keep"), "").expect("write");
    let before: Vec<Vec<u8>> = ["g-retail-accounts.csv", "g.yaml"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("read"))
        .collect();
    let r = retail(&dir, "2", true);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("g-retail-holdings.csv"), "{}", r.stderr);
    assert!(!r.stderr.contains("wrote"), "reported a file: {}", r.stderr);
    let after: Vec<Vec<u8>> = ["g-retail-accounts.csv", "g.yaml"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("the old file is still there"))
        .collect();
    assert!(before == after, "the old set changed");
    assert_eq!(names(&dir), files, "temporary files left");
    // With the obstacle gone, the whole new set replaces the old one.
    std::fs::remove_dir_all(&holdings).expect("rm dir");
    let r = retail(&dir, "2", true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(names(&dir), files);
    assert_ne!(std::fs::read(dir.join("g.yaml")).expect("read"), before[1]);
}

#[test]
fn generate_quiet_prints_nothing_but_errors() {
    let dir = scratch("hardening-outputs-generate-quiet");
    let args = [
        "-q",
        "generate",
        "glt",
        "--banks",
        "3",
        "--assets",
        "2",
        "--name",
        "g",
        "--out-dir",
        s(&dir),
    ];
    let r = delever(args);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.is_empty(), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert_eq!(names(&dir), ["g.yaml"]);
    // An error still shows.
    let r = delever(args);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("refusing to overwrite"), "{}", r.stderr);
}

#[test]
fn thread_counts_above_the_cap_are_refused() {
    let r = delever(["--threads", "100000", "describe"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("worker threads"), "{}", r.stderr);
    assert!(r.stderr.contains("hint:"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    let r = delever_env(&[("RAYON_NUM_THREADS", "100000")], &["describe"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("RAYON_NUM_THREADS"), "{}", r.stderr);
    // Up to the floor of the cap it runs on any machine; the flag wins over the variable.
    let r = delever_env(
        &[("RAYON_NUM_THREADS", "100000")],
        &["--threads", "256", "describe"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn negative_numbers_are_told_they_must_not_be() {
    for args in [
        &["mc", "--seed", "-1"][..],
        &["mc", "--draws", "-5"][..],
        &["run", "--max-rounds", "-3"][..],
        &["--threads", "-1", "run"][..],
        &["generate", "glt", "--banks", "-2", "--out-dir", "x"][..],
        &["generate", "glt", "--seed", "-2", "--out-dir", "x"][..],
    ] {
        let r = delever(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("must be ≥ 0"), "{args:?}: {}", r.stderr);
        assert!(
            !r.stderr.contains("unexpected argument"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // A negative float reaches the generator's own range check.
    let dir = scratch("hardening-outputs-negative");
    let r = delever(["generate", "caccioli", "--mu", "-1", "--out-dir", s(&dir)]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--mu"), "{}", r.stderr);
    assert!(!r.stderr.contains("unexpected argument"), "{}", r.stderr);
    // A shard that starts with a dash gets the shard parser's message.
    let r = delever(["mc", "--draws", "10", "--shard", "-1/4"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!r.stderr.contains("unexpected argument"), "{}", r.stderr);
}

#[test]
fn export_dot_after_a_run_that_did_not_converge_exits_3() {
    let dir = scratch("hardening-outputs-export-unconverged");
    let path = unconverged(&dir);
    let r = delever(["export", "dot", s(&path), "--after-run"]);
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(r.stderr.contains("did not converge"), "{}", r.stderr);
    assert!(r.stdout.starts_with("digraph"), "{}", r.stdout);
    // Without a run there is nothing to converge.
    let r = delever(["export", "dot", s(&path)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn check_fails_a_scenario_that_did_not_converge_unless_expected() {
    let dir = scratch("hardening-outputs-check-unconverged");
    let path = unconverged(&dir);
    let r = delever(["check", s(&path)]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("termination"))
        .unwrap_or_else(|| panic!("no termination row:\n{}", r.stdout));
    assert!(
        line.contains("max_rounds") && line.contains("FAIL"),
        "{line}"
    );
    assert!(r.stdout.contains("0 of 1 scenarios passed"), "{}", r.stdout);
    // Expected: it passes.
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text + "\nexpect:\n  termination: max_rounds\n").expect("write");
    let r = delever(["check", s(&path)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
