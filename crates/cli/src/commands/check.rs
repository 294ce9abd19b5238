//! `delever check`: run scenarios and compare them with their `expect:` blocks; every
//! variant of a scenario (`variants:`) is checked too, as `<scenario>@<variant>`.
//!
//! Scenarios run in parallel (rayon); results are collected in input order, so the output
//! never depends on which finished first.

use std::fmt::Write as _;
use std::path::PathBuf;

use delever_engine::Termination;
use delever_report::{Format, Table};
use delever_scenario::{CheckResult, Scenario};
use rayon::prelude::*;
use serde_json::json;

use crate::args::OutputArgs;
use crate::output::Outputs;
use crate::{Failure, embedded, exit};

/// Where a scenario to check comes from.
enum Target {
    File(PathBuf),
    Shipped(&'static str, &'static str),
}

/// The verdict on one scenario.
struct Verdict {
    name: String,
    /// `Err` when the scenario could not be loaded or run (bad input).
    results: Result<Vec<CheckResult>, String>,
}

impl Verdict {
    fn passed(&self) -> bool {
        self.results
            .as_ref()
            .is_ok_and(|r| r.iter().all(|c| c.passed))
    }
    fn label(&self) -> &'static str {
        match &self.results {
            Err(_) => "ERROR",
            Ok(r) if r.is_empty() => "no expectations",
            Ok(_) if self.passed() => "pass",
            Ok(_) => "FAIL",
        }
    }
}

/// Expand the command line into scenarios: directories give their `*.yaml` files (sorted),
/// files stay as they are, no argument means every shipped scenario.
fn targets(paths: &[PathBuf]) -> Result<Vec<Target>, Failure> {
    if paths.is_empty() {
        return Ok(embedded::EMBEDDED
            .iter()
            .map(|(n, t)| Target::Shipped(n, t))
            .collect());
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Failure::input(format!("error: cannot read `{}`: {e}", p.display())))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| {
                    f.extension().is_some_and(|x| {
                        x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml")
                    })
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Failure::input(format!(
                    "error: `{}` holds no scenario (*.yaml) files",
                    p.display()
                )));
            }
            out.extend(files.into_iter().map(Target::File));
        } else {
            out.push(Target::File(p.clone()));
        }
    }
    Ok(out)
}

/// The scenario's verdict, then one per variant (`<scenario>@<variant>`), in file order.
fn check_all(t: &Target) -> Vec<Verdict> {
    let (base, scenario) = check_one(t);
    let mut out = vec![base];
    if let Some(s) = scenario {
        match s.expand() {
            Ok(variants) => out.extend(variants.par_iter().map(verdict).collect::<Vec<_>>()),
            Err(e) => out.push(Verdict {
                name: s.name.clone(),
                results: Err(e.to_string()),
            }),
        }
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

fn check_one(t: &Target) -> (Verdict, Option<Scenario>) {
    let loaded = match t {
        Target::File(p) => Scenario::load(p),
        Target::Shipped(name, text) => {
            Scenario::from_yaml(text, &format!("scenarios/{name}.yaml"), None)
        }
    };
    let fallback = match t {
        Target::File(p) => p.display().to_string(),
        Target::Shipped(n, _) => (*n).to_owned(),
    };
    let scenario = match loaded {
        Ok(s) => s,
        Err(e) => {
            let v = Verdict {
                name: fallback,
                results: Err(e.to_string()),
            };
            return (v, None);
        }
    };
    (verdict(&scenario), Some(scenario))
}

/// Run the checks and report; exit 1 on any failed expectation, 2 on any bad scenario.
pub fn check(paths: &[PathBuf], out: &OutputArgs, all: bool) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", out.output.as_deref())?;
    let targets = targets(paths)?;
    let verdicts: Vec<Verdict> = targets.par_iter().flat_map_iter(check_all).collect();
    let text = match Format::from(out.format) {
        Format::Table => table(&verdicts, all),
        Format::Json => json_report(&verdicts),
        Format::Csv => csv_report(&verdicts),
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
    Ok(if verdicts.iter().all(Verdict::passed) {
        exit::OK
    } else {
        exit::CHECK_FAILED
    })
}

fn table(verdicts: &[Verdict], all: bool) -> String {
    let mut summary = Table::new(["scenario", "result", "checks", "failed"]).left(1);
    for v in verdicts {
        let (n, failed) = match &v.results {
            Ok(r) => (r.len(), r.iter().filter(|c| !c.passed).count()),
            Err(_) => (0, 0),
        };
        summary.row([
            v.name.clone(),
            v.label().to_owned(),
            n.to_string(),
            failed.to_string(),
        ]);
    }
    let mut out = summary.render();
    let mut details = Table::new(["scenario", "figure", "expected", "actual", "result"])
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
                    if c.passed { "pass" } else { "FAIL" }.to_owned(),
                ]);
            }
        }
    }
    if !details.is_empty() {
        out.push('\n');
        out.push_str(&details.render());
    }
    let passed = verdicts.iter().filter(|v| v.passed()).count();
    let _ = writeln!(out, "\n{passed} of {} scenarios passed", verdicts.len());
    out
}

fn json_report(verdicts: &[Verdict]) -> String {
    let v: Vec<_> = verdicts
        .iter()
        .map(|v| {
            json!({
                "scenario": v.name,
                "result": v.label(),
                "error": v.results.as_ref().err(),
                "checks": v.results.as_ref().map(|r| r.iter().map(|c| json!({
                    "what": c.what,
                    "expected": c.expected,
                    "actual": c.actual,
                    "passed": c.passed,
                })).collect::<Vec<_>>()).unwrap_or_default(),
            })
        })
        .collect();
    serde_json::to_string_pretty(&json!({
        "passed": verdicts.iter().all(Verdict::passed),
        "scenarios": v,
    }))
    .unwrap_or_default()
        + "\n"
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
