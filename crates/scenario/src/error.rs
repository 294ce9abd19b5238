//! [`Diagnostic`] and [`ScenarioError`]: what is wrong with a scenario, and where.

use std::fmt;

/// One problem found in a scenario file (or in a CSV book it includes).
///
/// Rendered as `FILE:LINE:COL: PATH: MESSAGE`, with missing parts left out, and a second
/// line `  hint: HINT` when there is a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file at fault: the scenario's name as given by the caller, or a CSV book's path.
    pub file: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), when known.
    pub column: Option<usize>,
    /// Field path in the scenario, e.g. `holders[3].margin.maintenance`; empty for the
    /// document as a whole.
    pub path: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        f.write_str(": ")?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// A scenario could not be loaded: every problem found, in file and line order.
///
/// Syntax and type errors stop parsing, so they come one at a time; semantic problems
/// (unknown ids, values out of range, sums that do not add up, bad CSV rows) are all
/// reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct ScenarioError {
    /// The problems, at least one.
    pub diagnostics: Vec<Diagnostic>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

impl ScenarioError {
    /// An error holding one diagnostic.
    pub(crate) fn one(d: Diagnostic) -> Self {
        ScenarioError {
            diagnostics: vec![d],
        }
    }
}

impl From<Vec<Diagnostic>> for ScenarioError {
    fn from(diagnostics: Vec<Diagnostic>) -> Self {
        ScenarioError { diagnostics }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(line: Option<usize>, column: Option<usize>, path: &str, hint: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: "s.yaml".into(),
            line,
            column,
            path: path.into(),
            message: "bad".into(),
            hint: hint.map(Into::into),
        }
    }

    #[test]
    fn display_leaves_out_missing_parts() {
        assert_eq!(
            d(Some(3), Some(7), "a.b", Some("fix it")).to_string(),
            "s.yaml:3:7: a.b: bad\n  hint: fix it"
        );
        assert_eq!(
            d(Some(3), None, "a.b", None).to_string(),
            "s.yaml:3: a.b: bad"
        );
        assert_eq!(d(None, Some(7), "", None).to_string(), "s.yaml: bad");
        let e = ScenarioError {
            diagnostics: vec![
                d(Some(1), Some(1), "x", None),
                d(Some(2), Some(1), "y", None),
            ],
        };
        assert_eq!(e.to_string(), "s.yaml:1:1: x: bad\ns.yaml:2:1: y: bad");
    }
}
