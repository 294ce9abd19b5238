//! CI conventions of `check` and `validate`: `--bless` and `--strict`, numeric deltas in
//! JSON, `JUnit` XML, `validate` on directories and names with `--format json`; the version
//! keys of every JSON output; fixed `sweep`/`mc` column sets.

use std::path::{Path, PathBuf};

use crate::util::{delever, scratch};

/// A small scenario with no `expect:` block: one margin account hit by a 40% shock.
const SCENARIO: &str = "\
# A hand-made scenario; this comment must survive blessing.
name: NAME
description: One margin account at 50% LTV hit by 40%, no price impact.
as_of: 2026-01-01
sources: [{ id: s, title: hand-worked }]
assets:
  - { id: X, price: 100, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02, impact: { law: linear, per_usd: 0 } }
lenders:
  - { id: broker, capital: 1.0e6 }   # a lender
holders:
  - id: acct
    kind: margin_account
    holdings: [{ asset: X, shares: 100 }]
    margin: { lender: broker, loan: 5000, maintenance: 0.25 }
shocks:
  - { type: asset, asset: X, return: -0.40 }
";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(format!("{name}.yaml"));
    std::fs::write(&p, text.replace("NAME", name)).expect("write scenario");
    p
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("read")
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn run<const N: usize>(args: [&std::ffi::OsStr; N]) -> crate::util::Run {
    delever(args)
}

#[test]
fn bless_then_strict_passes_and_a_changed_shock_fails_with_its_delta() {
    let dir = scratch("conv-bless");
    let file = write(&dir, "blessed", SCENARIO);
    let f = file.as_os_str();
    // No expectations: a pass by default, a failure under --strict.
    let r = run(["check".as_ref(), f]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = run(["check".as_ref(), f, "--strict".as_ref()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("no expectations"), "{}", r.stdout);

    let before = read(&file);
    let r = run(["check".as_ref(), f, "--bless".as_ref()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = read(&file);
    // Appended: every earlier byte, comments included, is kept.
    assert!(after.starts_with(&before), "{after}");
    assert!(after.contains("\nexpect:\n"), "{after}");
    assert!(
        after.contains("initial_loss_usd: { equals: 4000.0 }")
            || after.contains("initial_loss_usd: { approx: 4000.0"),
        "{after}"
    );
    let r = run(["check".as_ref(), f, "--strict".as_ref()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // A changed model: a 30% shock instead of 40%.
    std::fs::write(&file, after.replace("return: -0.40", "return: -0.30")).expect("write");
    let r = run(["check".as_ref(), f, "--format".as_ref(), "json".as_ref()]);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["passed"], false);
    let checks = v["scenarios"][0]["checks"].as_array().expect("checks");
    let loss = checks
        .iter()
        .find(|c| c["what"] == "totals.initial_loss_usd")
        .expect("initial loss checked");
    assert_eq!(loss["passed"], false);
    assert_eq!(loss["expected"].as_f64(), Some(4000.0));
    assert_eq!(loss["actual"].as_f64(), Some(3000.0));
    assert_eq!(loss["delta"].as_f64(), Some(-1000.0));
    assert_eq!(loss["rel_delta"].as_f64(), Some(-0.25));
    assert!(loss["expected_text"].is_string() && loss["actual_text"] == "3000");
    // The table shows the delta too.
    let r = run(["check".as_ref(), f]);
    assert_eq!(r.code, 1);
    let line = r
        .stdout
        .lines()
        .find(|l| l.contains("totals.initial_loss_usd"))
        .unwrap_or_else(|| panic!("{}", r.stdout));
    assert!(line.contains("-1.0000e3 (-25.00%)"), "{line}");
}

#[test]
fn bless_replaces_only_the_old_block() {
    let dir = scratch("conv-rebless");
    let text = SCENARIO.replace("NAME", "rebless").replace(
        "shocks:\n",
        "expect:\n  # stale\n  termination: max_rounds\n  totals: { defaults: { equals: 7 } }\n\n# The shock.\nshocks:\n",
    );
    let file = write(&dir, "rebless", &text);
    let r = run(["check".as_ref(), file.as_os_str()]);
    assert_eq!(r.code, 1, "stale block fails first: {}", r.stdout);
    let r = run([
        "check".as_ref(),
        file.as_os_str(),
        "--bless".as_ref(),
        "--rel-tol".as_ref(),
        "1e-9".as_ref(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let after = read(&file);
    let (head, tail) = text.split_once("expect:\n").expect("block");
    let rest = tail.split_once("\n\n# The shock.").expect("rest").1;
    assert!(after.starts_with(head), "{after}");
    assert!(
        after.ends_with(&format!("\n\n# The shock.{rest}")),
        "{after}"
    );
    assert!(
        !after.contains("stale") && after.contains("rel_tol: 1.0e-9"),
        "{after}"
    );
    assert!(after.contains("acct: { status: margin_call"), "{after}");
    let r = run(["check".as_ref(), file.as_os_str(), "--strict".as_ref()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn bless_refuses_shipped_scenarios_and_links_and_writes_nothing() {
    let r = delever(["check", "semis-sentiment-reversal", "--bless"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("shipped"), "{}", r.stderr);
    assert!(r.stdout.is_empty());

    let dir = scratch("conv-bless-link");
    let real = write(&dir, "real", SCENARIO);
    let link = dir.join("link.yaml");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let other = write(&dir, "other", SCENARIO);
    let r = run([
        "check".as_ref(),
        other.as_os_str(),
        link.as_os_str(),
        "--bless".as_ref(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("not a regular file"), "{}", r.stderr);
    // All or none: the good file is not blessed either.
    assert_eq!(read(&real), SCENARIO.replace("NAME", "real"));
    assert_eq!(read(&other), SCENARIO.replace("NAME", "other"));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink()
    );
}

#[test]
fn junit_output_has_the_shape_ci_systems_read() {
    let dir = scratch("conv-junit");
    write(&dir, "a-none", SCENARIO);
    let failing = SCENARIO.to_owned()
        + "expect:\n  totals:\n    amplification: { min: 1.5, max: 3.0 }\n    initial_loss_usd: { equals: 4000 }\n";
    write(&dir, "b-fail", &failing);
    for (strict, code) in [(false, 1), (true, 1)] {
        let mut args = vec![
            "check".as_ref(),
            dir.as_os_str(),
            "--format".as_ref(),
            "junit".as_ref(),
        ];
        if strict {
            args.push("--strict".as_ref());
        }
        let r = delever(args);
        assert_eq!(r.code, code, "{}{}", r.stdout, r.stderr);
        let doc = roxmltree::Document::parse(&r.stdout)
            .unwrap_or_else(|e| panic!("not XML ({e}):\n{}", r.stdout));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "testsuites");
        let suites: Vec<_> = root
            .children()
            .filter(roxmltree::Node::is_element)
            .collect();
        assert_eq!(suites.len(), 2);
        let mut total = 0;
        let mut failures = 0;
        for s in &suites {
            assert_eq!(s.tag_name().name(), "testsuite");
            let cases: Vec<_> = s.children().filter(roxmltree::Node::is_element).collect();
            let failed = cases
                .iter()
                .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
                .count();
            for c in &cases {
                assert_eq!(c.tag_name().name(), "testcase");
                assert!(c.attribute("name").is_some() && c.attribute("classname").is_some());
                for f in c.children().filter(|n| n.has_tag_name("failure")) {
                    assert!(f.attribute("message").is_some_and(|m| !m.is_empty()));
                }
            }
            assert_eq!(s.attribute("tests"), Some(cases.len().to_string().as_str()));
            assert_eq!(s.attribute("failures"), Some(failed.to_string().as_str()));
            assert!(s.attribute("name").is_some());
            total += cases.len();
            failures += failed;
        }
        assert_eq!(root.attribute("tests"), Some(total.to_string().as_str()));
        assert_eq!(
            root.attribute("failures"),
            Some(failures.to_string().as_str())
        );
        // b-fail: amplification 1 is outside [1.5, 3], with its delta in the message.
        let amp = doc
            .descendants()
            .find(|n| n.attribute("name") == Some("totals.amplification"))
            .expect("amplification case");
        let msg = amp
            .children()
            .find(|n| n.has_tag_name("failure"))
            .and_then(|f| f.attribute("message"))
            .expect("failure");
        assert!(
            msg.contains("in [1.5, 3]") && msg.contains("delta -5.0000e-1"),
            "{msg}"
        );
        // a-none: skipped, or a failure under --strict.
        let none = suites[0].first_element_child().expect("one case");
        let want = if strict { "failure" } else { "skipped" };
        assert!(
            none.children().any(|n| n.has_tag_name(want)),
            "{}",
            r.stdout
        );
        assert_eq!(failures, if strict { 2 } else { 1 });
    }
}

#[test]
fn validate_takes_directories_and_names_and_writes_json() {
    let dir = scratch("conv-validate");
    write(&dir, "good", SCENARIO);
    let bad = SCENARIO.replace("maintenance: 0.25", "maintenance: 1.3");
    write(&dir, "worse", &bad);
    let r = delever([
        "validate".as_ref(),
        dir.as_os_str(),
        "semis-sentiment-reversal".as_ref(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("worse.yaml:") && r.stderr.contains("maintenance"),
        "{}",
        r.stderr
    );

    let r = delever([
        "validate".as_ref(),
        dir.as_os_str(),
        "semis-sentiment-reversal".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["ok"], false);
    let s = v["scenarios"].as_array().expect("scenarios");
    assert_eq!(s.len(), 3);
    assert_eq!(
        (s[0]["name"].as_str(), s[0]["ok"].as_bool()),
        (Some("good"), Some(true))
    );
    assert_eq!(s[2]["shipped"], "semis-sentiment-reversal");
    assert_eq!(s[2]["ok"], true);
    assert_eq!(s[1]["ok"], false);
    let e = &s[1]["errors"][0];
    assert_eq!(e["field"], "holders[0].margin.maintenance");
    assert_eq!(e["line"], 14);
    assert!(e["column"].as_u64().is_some_and(|c| c > 1), "{e}");
    assert!(
        e["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("worse.yaml")),
        "{e}"
    );
    assert!(e["message"].is_string() && e.get("hint").is_some(), "{e}");

    let r = delever([
        "validate",
        "scenarios",
        "semis-sentiment-reversal",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(json(&r.stdout)["ok"], true);
}

/// The two version keys, at the top of a JSON document.
fn versions(stdout: &str) {
    let v = json(stdout);
    assert_eq!(v["delever_version"], env!("CARGO_PKG_VERSION"), "{stdout}");
    assert_eq!(v["format_version"], 1, "{stdout}");
}

#[test]
fn every_json_output_carries_its_versions() {
    let s = "semis-sentiment-reversal";
    let outputs = [
        delever(["run", s, "--format", "json"]),
        delever(["check", s, "--format", "json"]),
        delever(["validate", s, "--format", "json"]),
        delever(["describe", s, "--format", "json"]),
        delever(["explain", s, "--holder", "SOXL", "--format", "json"]),
        delever([
            "sweep",
            s,
            "--vary",
            "shocks[0].return=-0.1,-0.2",
            "--format",
            "json",
        ]),
        delever(["mc", s, "--draws", "20", "--format", "json"]),
        delever(["mc", s, "--draws", "20", "--format", "jsonl"]),
    ];
    for r in outputs {
        assert_eq!(r.code, 0, "{}", r.stderr);
        versions(&r.stdout);
    }
    // A timeline holder's days (the other explain document).
    let r = delever([
        "explain",
        "archegos-2021-03",
        "--holder",
        "archegos-at-nomura",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    versions(&r.stdout);
}

/// The first line of a CSV, and the keys of a JSON object, of two scenarios with
/// different holder kinds must be the same.
#[test]
fn sweep_and_mc_columns_do_not_depend_on_the_kinds_present() {
    let dir = scratch("conv-columns");
    let small =
        SCENARIO.to_owned() + "monte_carlo: { distribution: { type: normal }, horizon_days: 1 }\n";
    let small = write(&dir, "small", &small);
    let small = small.to_str().expect("utf-8 path");
    let semis = "semis-sentiment-reversal";
    let header = |s: &str, fmt: &str| {
        let r = delever([
            "sweep",
            s,
            "--vary",
            "shocks[0].return=-0.1,-0.2",
            "--format",
            fmt,
        ]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let first = |t: String| t.lines().next().unwrap_or_default().to_owned();
    let a = first(header(small, "csv"));
    assert_eq!(a, first(header(semis, "csv")));
    assert!(a.ends_with(",loss_margin_account_usd,loss_margin_cohort_usd,loss_account_book_usd,loss_leveraged_etf_usd,loss_leveraged_fund_usd,loss_bank_usd,loss_fund_usd,loss_options_dealer_usd,loss_vol_target_usd,loss_trend_follower_usd"), "{a}");
    let keys = |t: String| {
        let v = json(&t);
        let row = &v["rows"][0];
        (
            v["kinds"].clone(),
            row.as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
            row["loss_by_kind"]
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>()),
        )
    };
    let (ka, ra, la) = keys(header(small, "json"));
    assert_eq!((ka.clone(), ra, la.clone()), keys(header(semis, "json")));
    assert_eq!(la.map(|l| l.len()), Some(10));
    // The small scenario has only margin accounts: the other kinds read 0.
    let v = json(&header(small, "json"));
    assert_eq!(v["kinds_present"], serde_json::json!(["margin_account"]));
    assert_eq!(v["rows"][0]["loss_by_kind"]["bank"], 0.0);
    // Monte Carlo: the same metric rows and keys.
    let mc = |s: &str, fmt: &str| {
        let r = delever(["mc", s, "--draws", "10", "--format", fmt]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    // Per-lender metrics (`loss_by_lender.<id>`, after the fixed rows) name the scenario's
    // own lenders: every other row is the same for every scenario.
    let metrics = |t: String| {
        t.lines()
            .filter(|l| !l.starts_with("loss_by_lender."))
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>()
    };
    assert_eq!(metrics(mc(small, "csv")), metrics(mc(semis, "csv")));
    let names = |t: String| {
        let v = json(&t);
        (
            v["kinds"].clone(),
            v["metrics"].as_array().map(|m| {
                m.iter()
                    .map(|d| d["metric"].clone())
                    .filter(|n| !n.as_str().is_some_and(|n| n.starts_with("loss_by_lender.")))
                    .collect::<Vec<_>>()
            }),
        )
    };
    assert_eq!(names(mc(small, "json")), names(mc(semis, "json")));
    assert_eq!(names(mc(small, "json")).0, ka);
}
