//! The scenarios a multi-scenario command (`check`, `validate`) works on: files,
//! directories of `*.yaml` files, and shipped scenarios by name.

use std::path::{Path, PathBuf};

use delever_scenario::{Scenario, ScenarioError};

use crate::{Failure, embedded};

/// Where a scenario comes from.
pub enum Target {
    /// A scenario file.
    File(PathBuf),
    /// A shipped scenario: its name and embedded text.
    Shipped(&'static str, &'static str),
}

impl Target {
    /// How the target is named in reports: its path, or its shipped name.
    pub fn label(&self) -> String {
        match self {
            Target::File(p) => p.display().to_string(),
            Target::Shipped(n, _) => (*n).to_owned(),
        }
    }

    /// Load the scenario.
    pub fn load(&self) -> Result<Scenario, ScenarioError> {
        match self {
            Target::File(p) => Scenario::load(p),
            Target::Shipped(name, text) => {
                Scenario::from_yaml(text, &format!("scenarios/{name}.yaml"), None)
            }
        }
    }
}

/// Expand the command line: a directory gives its `*.yaml`/`*.yml` files (sorted); an
/// argument that is not an existing path, does not look like one, and is a shipped
/// scenario's name gives that scenario; anything else is a file (a missing one is reported
/// when it is loaded). No argument means every shipped scenario.
pub fn targets(paths: &[PathBuf]) -> Result<Vec<Target>, Failure> {
    if paths.is_empty() {
        return Ok(embedded::EMBEDDED
            .iter()
            .map(|(n, t)| Target::Shipped(n, t))
            .collect());
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            out.extend(dir_files(p)?.into_iter().map(Target::File));
        } else if let Some((n, t)) = shipped(p) {
            out.push(Target::Shipped(n, t));
        } else {
            out.push(Target::File(p.clone()));
        }
    }
    Ok(out)
}

/// The shipped scenario `p` names, when `p` is a bare name and no such file exists.
fn shipped(p: &Path) -> Option<(&'static str, &'static str)> {
    if p.exists() || p.components().count() != 1 || p.extension().is_some() {
        return None;
    }
    let name = p.to_str()?;
    embedded::EMBEDDED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, t)| (*n, *t))
}

/// A directory's scenario files, sorted; none is an error.
fn dir_files(p: &Path) -> Result<Vec<PathBuf>, Failure> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(p)
        .map_err(|e| Failure::input(format!("error: cannot read `{}`: {e}", p.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|f| {
            f.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("yaml") || x.eq_ignore_ascii_case("yml"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Failure::input(format!(
            "error: `{}` holds no scenario (*.yaml) files",
            p.display()
        )));
    }
    Ok(files)
}
