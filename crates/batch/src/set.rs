//! `run --set PATH=VALUE`: one scenario field replaced before a single run. The value is
//! written as in `sweep --vary` (a number or a word), the path is checked by the same code,
//! and the instance is validated like a file, so `--set` and a one-value `--vary` accept
//! and refuse exactly the same things.

use delever_scenario::{FieldPath, OverrideValue, Scenario, Template};

use crate::BatchError;
use crate::grid::Vary;
use crate::sweep::{PATH_HINT, PathProblem, checked_path, override_value};

/// Parse and check every `PATH=VALUE` of `specs` against `template`, in order.
pub fn overrides(
    template: &Template,
    specs: &[String],
) -> Result<Vec<(FieldPath, OverrideValue)>, BatchError> {
    specs.iter().map(|s| one(template, s)).collect()
}

/// How to write a `--set`.
const HOW: &str =
    "write PATH=VALUE, e.g. --set shocks[0].return=-0.3 or --set engine.mode=sequential";

fn one(template: &Template, spec: &str) -> Result<(FieldPath, OverrideValue), BatchError> {
    let set = |message: String, hint: Option<&str>| BatchError::Set {
        spec: spec.to_owned(),
        message,
        hint: hint.map(str::to_owned),
    };
    if !spec.contains('=') {
        return Err(set("expected PATH=VALUE".into(), Some(HOW)));
    }
    let vary = Vary::parse(spec).map_err(|e| match e {
        BatchError::Vary { message, .. } => set(message, Some(HOW)),
        other => other,
    })?;
    let [value] = vary.values.as_slice() else {
        return Err(set(
            format!("{} values; --set takes one", vary.values.len()),
            Some("to run several values, use `delever sweep --vary PATH=v1,v2,...`"),
        ));
    };
    let path = checked_path(template, &vary.path).map_err(|e| match e {
        PathProblem::Syntax(message) => set(message, Some(PATH_HINT)),
        PathProblem::Missing(source) => set(format!("not in this scenario:\n{source}"), None),
    })?;
    Ok((path, override_value(value)))
}

/// `template` with `overrides` applied, validated like a file.
pub fn apply(
    template: &Template,
    overrides: &[(FieldPath, OverrideValue)],
    specs: &[String],
) -> Result<Scenario, BatchError> {
    template
        .instantiate(overrides)
        .map_err(|source| BatchError::Set {
            spec: specs.join(" --set "),
            message: format!("the scenario refuses this value:\n{source}"),
            hint: None,
        })
}
