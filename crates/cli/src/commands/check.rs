//! `delever check`: run scenarios and compare them with their `expect:` blocks; every
//! variant of a scenario (`variants:`) is checked too, as `<scenario>@<variant>`.
//!
//! Scenarios run in parallel (rayon); results are collected in input order, so the output
//! never depends on which finished first.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use delever_engine::Termination;
use delever_report::Table;
use delever_scenario::{CheckResult, Scenario};
use rayon::prelude::*;
use serde_json::json;

use super::targets::{Target, targets};
use crate::args::CheckFormat;
use crate::output::Outputs;
use crate::{Failure, exit};

/// The verdict on one scenario.
struct Verdict {
    name: String,
    /// `Err` when the scenario could not be loaded or run (bad input).
    results: Result<Vec<CheckResult>, String>,
}

impl Verdict {
    /// Whether it passed; under `strict`, a scenario without expectations fails.
    fn passed(&self, strict: bool) -> bool {
        self.results
            .as_ref()
            .is_ok_and(|r| r.iter().all(|c| c.passed) && !(strict && r.is_empty()))
    }
    fn label(&self, strict: bool) -> &'static str {
        match &self.results {
            Err(_) => "ERROR",
            Ok(r) if r.is_empty() && strict => "FAIL (no expectations)",
            Ok(r) if r.is_empty() => "no expectations",
            Ok(_) if self.passed(strict) => "pass",
            Ok(_) => "FAIL",
        }
    }
}

/// What `check` was asked to do besides checking.
pub struct CheckArgs<'a> {
    /// Output format.
    pub format: CheckFormat,
    /// Where the report goes (stdout when `None`).
    pub output: Option<&'a Path>,
    /// Show every expectation in the table, not only the failed ones.
    pub all: bool,
    /// Fail scenarios without expectations.
    pub strict: bool,
    /// Bless at this relative tolerance.
    pub bless: Option<f64>,
}

/// The scenario's verdict, then one per variant (`<scenario>@<variant>`), in file order.
fn check_all(t: &Target) -> Vec<Verdict> {
    check_loaded(t.load().map_err(|e| e.to_string()), &t.label())
}

/// [`check_all`] of a scenario already loaded (or the reason it could not be).
fn check_loaded(loaded: Result<Scenario, String>, fallback: &str) -> Vec<Verdict> {
    let s = match loaded {
        Ok(s) => s,
        Err(e) => {
            return vec![Verdict {
                name: fallback.to_owned(),
                results: Err(e),
            }];
        }
    };
    let mut out = vec![verdict(&s)];
    match s.expand() {
        Ok(variants) => out.extend(variants.par_iter().map(verdict).collect::<Vec<_>>()),
        Err(e) => out.push(Verdict {
            name: s.name.clone(),
            results: Err(e.to_string()),
        }),
    }
    out
}

/// Run one scenario against its `expect:` block.
fn verdict(scenario: &Scenario) -> Verdict {
    let _span = tracing::info_span!("check", scenario = %scenario.name).entered();
    let results = delever_engine::run(&scenario.network, &scenario.shocks, &scenario.engine)
        .map(|o| {
            let mut results: Vec<CheckResult> = scenario
                .expect
                .as_ref()
                .map(|e| e.evaluate(&o))
                .unwrap_or_default();
            let stated = scenario.expect.as_ref().and_then(|e| e.termination);
            if o.termination == Termination::MaxRounds && stated.is_none() {
                // Not converging is a failure unless the scenario says it expects it.
                results.insert(
                    0,
                    CheckResult {
                        what: "termination".into(),
                        expected: "converged (or expect `termination: max_rounds`)".into(),
                        actual: o.termination.name().into(),
                        passed: false,
                        bound: None,
                        actual_value: None,
                    },
                );
            }
            results
        })
        .map_err(|e| format!("error: {}: {e}", scenario.name));
    Verdict {
        name: scenario.name.clone(),
        results,
    }
}

/// A scenario file with its `expect:` block rewritten from a run of it: the file's new
/// text, and the verdicts of the rewritten scenario (which must pass).
struct Blessed {
    path: PathBuf,
    text: String,
    verdicts: Vec<Verdict>,
}

/// Bless one file: load it, run it, write its block, reload the new text and check it.
/// `Err` is bad input (the file cannot be loaded, run or rewritten).
fn bless_one(path: &Path, rel_tol: f64) -> Result<Blessed, String> {
    let shown = path.display();
    // Written in place: never through a link or into a device (docs/reliability.md).
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| format!("error: cannot bless `{shown}`: {e}"))?;
    if !meta.file_type().is_file() {
        return Err(format!(
            "error: cannot bless `{shown}`: not a regular file (a symbolic link, a \
             directory or a device)\n  hint: bless the file the link points to"
        ));
    }
    let text = delever_scenario::read_text(path).map_err(|e| e.to_string())?;
    let scenario = Scenario::load(path).map_err(|e| e.to_string())?;
    let outcome = delever_engine::run(&scenario.network, &scenario.shocks, &scenario.engine)
        .map_err(|e| format!("error: {shown}: {e}"))?;
    let block = delever_scenario::expect_block(&scenario, &outcome, rel_tol);
    let new = delever_scenario::replace_expect_block(&text, &block)
        .map_err(|e| format!("error: cannot bless `{shown}`: {e}"))?;
    let base = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let reloaded = Scenario::from_yaml(&new, &shown.to_string(), Some(&base))
        .map_err(|e| format!("error: the blessed `{shown}` does not load (a bug): {e}"))?;
    let verdicts = check_loaded(Ok(reloaded), &shown.to_string());
    if let Some(Verdict {
        results: Ok(results),
        ..
    }) = verdicts.first()
        && let Some(bad) = results.iter().find(|c| !c.passed)
    {
        return Err(format!(
            "error: `{shown}`: the blessed block does not hold on a rerun ({}: expected {}, \
             got {}); nothing written\n  hint: is the run deterministic? try a larger --rel-tol",
            bad.what, bad.expected, bad.actual
        ));
    }
    Ok(Blessed {
        path: path.to_path_buf(),
        text: new,
        verdicts,
    })
}

/// Bless every target; shipped scenarios are refused (they are compiled into delever).
fn bless_all(targets: &[Target], rel_tol: f64) -> Result<Vec<Blessed>, Failure> {
    let shipped: Vec<String> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Shipped(n, _) => Some(format!("`{n}`")),
            Target::File(_) => None,
        })
        .collect();
    if !shipped.is_empty() {
        return Err(Failure::input(format!(
            "error: cannot bless the shipped scenario(s) {}: they are compiled into delever\n  \
             hint: copy the scenario's file (scenarios/NAME.yaml in the source) and bless the copy",
            shipped.join(", ")
        )));
    }
    let done: Vec<Result<Blessed, String>> = targets
        .par_iter()
        .filter_map(|t| match t {
            Target::File(p) => Some(bless_one(p, rel_tol)),
            Target::Shipped(..) => None,
        })
        .collect();
    let errors: Vec<&String> = done.iter().filter_map(|r| r.as_ref().err()).collect();
    if !errors.is_empty() {
        return Err(Failure::input(format!(
            "{}\n{} of {} scenarios could not be blessed; no file written",
            errors
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            errors.len(),
            done.len()
        )));
    }
    Ok(done.into_iter().filter_map(Result::ok).collect())
}

/// Run the checks and report; exit 1 on any failed expectation, 2 on any bad scenario.
/// With `bless`, the files' new texts and the report are written together, all or none.
pub fn check(paths: &[PathBuf], args: &CheckArgs<'_>) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", args.output)?;
    let targets = targets(paths)?;
    let verdicts: Vec<Verdict> = if let Some(rel_tol) = args.bless {
        let blessed = bless_all(&targets, rel_tol)?;
        let mut verdicts = Vec::new();
        for b in blessed {
            let s = outputs.plan("--bless", Some(&b.path))?;
            outputs.put(s, b.text);
            verdicts.extend(b.verdicts);
        }
        verdicts
    } else {
        targets.par_iter().flat_map_iter(check_all).collect()
    };
    let strict = args.strict;
    let text = match args.format {
        CheckFormat::Table => table(&verdicts, args.all, strict),
        CheckFormat::Json => json_report(&verdicts, strict),
        CheckFormat::Csv => csv_report(&verdicts),
        CheckFormat::Junit => junit_report(&verdicts, strict),
        CheckFormat::Markdown => {
            super::markdown("delever check", || table(&verdicts, args.all, strict))
        }
    };
    let errors: Vec<&str> = verdicts
        .iter()
        .filter_map(|v| v.results.as_ref().err().map(String::as_str))
        .collect();
    if !errors.is_empty() {
        // Bad input writes nothing, not even a report of the scenarios that did load.
        return Err(Failure::input(format!(
            "{}\n{} of {} scenarios could not be checked; no report written",
            errors.join("\n"),
            errors.len(),
            verdicts.len()
        )));
    }
    outputs.put(slot, text);
    outputs.commit()?;
    Ok(if verdicts.iter().all(|v| v.passed(strict)) {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

fn table(verdicts: &[Verdict], all: bool, strict: bool) -> String {
    let mut summary = Table::new(["scenario", "result", "checks", "failed"]).left(1);
    for v in verdicts {
        let (n, failed) = match &v.results {
            Ok(r) => (r.len(), r.iter().filter(|c| !c.passed).count()),
            Err(_) => (0, 0),
        };
        summary.row([
            v.name.clone(),
            v.label(strict).to_owned(),
            n.to_string(),
            failed.to_string(),
        ]);
    }
    let mut out = summary.render();
    let mut details = Table::new([
        "scenario", "figure", "expected", "actual", "delta", "result",
    ])
    .left(1)
    .left(2)
    .left(3)
    .titled(if all {
        "Every expectation"
    } else {
        "Failed expectations"
    });
    for v in verdicts {
        if let Ok(results) = &v.results {
            for c in results.iter().filter(|c| all || !c.passed) {
                details.row([
                    v.name.clone(),
                    c.what.clone(),
                    c.expected.clone(),
                    c.actual.clone(),
                    delta_text(c),
                    if c.passed { "pass" } else { "FAIL" }.to_owned(),
                ]);
            }
        }
    }
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details.render());
    }
    let passed = verdicts.iter().filter(|v| v.passed(strict)).count();
    let _ = writeln!(out, "\n{passed} of {} scenarios passed", verdicts.len());
    out
}

/// `actual − expected` and its relative size, for people: `+5.0000e-1 (+100.00%)`; empty
/// when the check has no number.
fn delta_text(c: &CheckResult) -> String {
    match (c.delta(), c.rel_delta()) {
        (Some(d), Some(r)) => format!("{d:+.4e} ({:+.2}%)", r * 100.0),
        (Some(d), None) => format!("{d:+.4e}"),
        _ => String::new(),
    }
}

/// A number for JSON: `null` when absent or not finite (JSON has no NaN).
fn num(x: Option<f64>) -> serde_json::Value {
    x.filter(|x| x.is_finite())
        .map_or(serde_json::Value::Null, Into::into)
}

/// A bound as JSON: `{ "min": …, "max": … }`, `{ "approx": …, "rel_tol": …, "abs_tol": … }`
/// or `{ "equals": … }`; `null` for statuses and the termination.
fn bound_json(b: Option<delever_scenario::Bound>) -> serde_json::Value {
    match b {
        None => serde_json::Value::Null,
        Some(delever_scenario::Bound::Range { min, max }) => {
            json!({ "min": num(min), "max": num(max) })
        }
        Some(delever_scenario::Bound::Approx {
            value,
            rel_tol,
            abs_tol,
        }) => {
            json!({ "approx": num(Some(value)), "rel_tol": num(Some(rel_tol)), "abs_tol": num(Some(abs_tol)) })
        }
        Some(delever_scenario::Bound::Equals(v)) => json!({ "equals": num(Some(v)) }),
    }
}

fn json_report(verdicts: &[Verdict], strict: bool) -> String {
    let v: Vec<_> = verdicts
        .iter()
        .map(|v| {
            json!({
                "scenario": v.name,
                "result": v.label(strict),
                "passed": v.passed(strict),
                "error": v.results.as_ref().err(),
                "checks": v.results.as_ref().map(|r| r.iter().map(|c| json!({
                    "what": c.what,
                    "expected": num(c.expected_value()),
                    "actual": num(c.actual_value),
                    "delta": num(c.delta()),
                    "rel_delta": num(c.rel_delta()),
                    "bound": bound_json(c.bound),
                    "expected_text": c.expected,
                    "actual_text": c.actual,
                    "passed": c.passed,
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    let mut doc = delever_report::json_versions();
    doc.insert("strict".into(), strict.into());
    doc.insert(
        "passed".into(),
        verdicts.iter().all(|v| v.passed(strict)).into(),
    );
    doc.insert("scenarios".into(), v.into());
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Text made safe for XML attributes and content: the five special characters escaped,
/// and characters XML 1.0 cannot carry at all (controls other than tab, newline and
/// carriage return) replaced by U+FFFD.
fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c < ' ' || matches!(c, '\u{FFFE}' | '\u{FFFF}') => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// `JUnit` XML as GitLab, Jenkins and GitHub test reporters read it: `<testsuites>` of
/// one `<testsuite>` per scenario (and variant), one `<testcase>` per expectation, a
/// `<failure message=…>` on each failed one. A scenario without expectations has one
/// `expect` test case, skipped (a failure under `--strict`).
fn junit_report(verdicts: &[Verdict], strict: bool) -> String {
    let mut body = String::new();
    let (mut tests, mut failures, mut skipped) = (0usize, 0usize, 0usize);
    for v in verdicts {
        let Ok(results) = &v.results else { continue };
        let classname = xml(&format!("delever.check.{}", v.name));
        let mut cases = String::new();
        let (mut t, mut f, mut s) = (0usize, 0usize, 0usize);
        if results.is_empty() {
            t += 1;
            if strict {
                f += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"expect\" classname=\"{classname}\">\n      <failure message=\"no expect: block (--strict)\" type=\"no_expectations\"/>\n    </testcase>"
                );
            } else {
                s += 1;
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"expect\" classname=\"{classname}\">\n      <skipped message=\"no expect: block\"/>\n    </testcase>"
                );
            }
        }
        for c in results {
            t += 1;
            let name = xml(&c.what);
            if c.passed {
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"{name}\" classname=\"{classname}\"/>"
                );
            } else {
                f += 1;
                let delta = delta_text(c);
                let mut message = format!("expected {}, got {}", c.expected, c.actual);
                if !delta.is_empty() {
                    let _ = write!(message, " (delta {delta})");
                }
                let _ = writeln!(
                    cases,
                    "    <testcase name=\"{name}\" classname=\"{classname}\">\n      <failure message=\"{m}\" type=\"expectation\">{what}: {m}</failure>\n    </testcase>",
                    m = xml(&message),
                    what = xml(&c.what),
                );
            }
        }
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f}\" errors=\"0\" skipped=\"{s}\">\n{cases}  </testsuite>",
            xml(&v.name)
        );
        tests += t;
        failures += f;
        skipped += s;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"delever check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\">\n{body}</testsuites>\n"
    )
}

fn csv_report(verdicts: &[Verdict]) -> String {
    // Quoted, and neutralised against spreadsheet formulas, like every CSV delever writes.
    let (q, n) = (delever_report::csv_field, delever_report::csv_cell);
    let mut out = String::from("scenario,what,expected,actual,passed\n");
    for v in verdicts {
        match &v.results {
            Ok(results) => {
                for c in results {
                    let _ = writeln!(
                        out,
                        "{},{},{},{},{}",
                        q(&v.name),
                        q(&c.what),
                        n(&c.expected),
                        n(&c.actual),
                        c.passed
                    );
                }
            }
            Err(e) => {
                let _ = writeln!(out, "{},load,,{},false", q(&v.name), q(e));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_drops_what_xml_cannot_carry() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>\u{1}\u{FFFE}\n"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;\u{FFFD}\u{FFFD}\n"
        );
    }

    #[test]
    fn junit_names_and_messages_are_escaped() {
        let v = Verdict {
            name: "s<&>".into(),
            results: Ok(vec![CheckResult {
                what: "holders.a&b.status".into(),
                expected: "sold".into(),
                actual: "<bought>".into(),
                passed: false,
                bound: None,
                actual_value: None,
            }]),
        };
        let x = junit_report(&[v], false);
        assert!(x.contains("<testsuite name=\"s&lt;&amp;&gt;\""), "{x}");
        assert!(x.contains("name=\"holders.a&amp;b.status\""), "{x}");
        assert!(
            x.contains("message=\"expected sold, got &lt;bought&gt;\""),
            "{x}"
        );
        assert!(x.contains("tests=\"1\" failures=\"1\""), "{x}");
    }
}
