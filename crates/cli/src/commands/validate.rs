//! `delever validate`: check scenario files, directories and shipped scenarios, report
//! every problem.

use std::fmt::Write as _;
use std::path::PathBuf;

use delever_scenario::{Diagnostic, Scenario, ScenarioError};
use serde_json::json;

use super::targets::{Target, targets};
use crate::args::ValidateFormat;
use crate::output::emit;
use crate::{Failure, exit};

/// One line for a valid scenario.
fn ok_line(t: &Target, s: &Scenario) -> String {
    let n = &s.network;
    format!(
        "ok  {}  ({} assets, {} holders, {} lenders, {} shocks)",
        t.label(),
        n.assets().len(),
        n.holders().len(),
        n.lenders().len(),
        s.shocks.len()
    )
}

fn diagnostic_json(d: &Diagnostic) -> serde_json::Value {
    json!({
        "file": d.file,
        "line": d.line,
        "column": d.column,
        "field": d.path,
        "message": d.message,
        "hint": d.hint,
    })
}

/// One object per scenario: its name (when it loaded), path (files) or shipped name, `ok`,
/// and its errors.
fn json_report(loaded: &[(Target, Result<Scenario, ScenarioError>)]) -> String {
    let scenarios: Vec<_> = loaded
        .iter()
        .map(|(t, r)| {
            let (path, shipped) = match t {
                Target::File(p) => (Some(p.display().to_string()), None),
                Target::Shipped(n, _) => (None, Some(*n)),
            };
            let errors: Vec<_> = r
                .as_ref()
                .err()
                .map(|e| e.diagnostics.iter().map(diagnostic_json).collect())
                .unwrap_or_default();
            json!({
                "name": r.as_ref().map_or_else(|_| t.label(), |s| s.name.clone()),
                "path": path,
                "shipped": shipped,
                "ok": r.is_ok(),
                "errors": errors,
            })
        })
        .collect();
    let mut doc = delever_report::json_versions();
    doc.insert("ok".into(), loaded.iter().all(|(_, r)| r.is_ok()).into());
    doc.insert("scenarios".into(), scenarios.into());
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Validate every target. Text: the valid ones on stdout, or every problem on stderr with
/// exit 2. JSON: one document on stdout either way, exit 2 when any is invalid.
pub fn validate(files: &[PathBuf], format: ValidateFormat) -> Result<i32, Failure> {
    let loaded: Vec<(Target, Result<Scenario, ScenarioError>)> = targets(files)?
        .into_iter()
        .map(|t| {
            let r = t.load();
            (t, r)
        })
        .collect();
    let invalid = loaded.iter().filter(|(_, r)| r.is_err()).count();
    if format == ValidateFormat::Json {
        emit(&json_report(&loaded), None)?;
        return Ok(if invalid == 0 {
            exit::OK
        } else {
            exit::BAD_INPUT
        });
    }
    if invalid == 0 {
        let ok: Vec<String> = loaded
            .iter()
            .filter_map(|(t, r)| r.as_ref().ok().map(|s| ok_line(t, s)))
            .collect();
        emit(&(ok.join("\n") + "\n"), None)?;
        return Ok(exit::OK);
    }
    let mut msg = loaded
        .iter()
        .filter_map(|(_, r)| r.as_ref().err().map(ToString::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    if loaded.len() > 1 {
        let _ = write!(msg, "\n{invalid} of {} files are invalid", loaded.len());
    }
    Err(Failure::input(msg))
}
