//! [`Diagnostic`] and [`ScenarioError`]: what is wrong with a scenario, and where.
//!
//! A message quotes at most [`MAX_QUOTE`] characters of any piece of input (then `…`),
//! so a 100 MB CSV header or a 10 MB YAML string is never echoed back: [`clip`] shortens
//! the pieces where messages are written, and every [`ScenarioError`] passes its
//! diagnostics through [`tidy`] as a net for the rest.

use std::borrow::Cow;
use std::fmt;

/// Longest piece of input a message quotes, in characters.
pub(crate) const MAX_QUOTE: usize = 80;

/// Longest message, path or hint, in characters: lists of expected keys fit easily.
const MAX_TEXT: usize = 2000;

/// A piece of input as a message quotes it: at most [`MAX_QUOTE`] characters, then `…`;
/// control characters escaped (a quoted id cannot move the cursor or ring the bell).
pub(crate) fn clip(s: &str) -> Cow<'_, str> {
    clip_to(s, MAX_QUOTE)
}

/// [`clip`] with another length.
fn clip_to(s: &str, max: usize) -> Cow<'_, str> {
    // Looks at no more than `max + 1` characters, however long `s` is.
    let plain = s
        .chars()
        .take(max + 1)
        .enumerate()
        .all(|(i, c)| i < max && !c.is_control());
    if plain {
        return Cow::Borrowed(s);
    }
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Shorten every span between backticks or double quotes longer than [`MAX_QUOTE`], then
/// the whole text to [`MAX_TEXT`] characters.
pub(crate) fn tidy(text: &str) -> Cow<'_, str> {
    if text.chars().take(MAX_QUOTE + 1).count() <= MAX_QUOTE {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4 * MAX_TEXT));
    let mut rest = text;
    while let Some(open) = rest.find(['`', '"']) {
        let q = &rest[open..=open];
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find(q) else {
            break;
        };
        out.push_str(&clip(&rest[..close]));
        out.push_str(q);
        rest = &rest[close + 1..];
        if out.len() > 4 * MAX_TEXT {
            break;
        }
    }
    out.push_str(rest);
    match clip_to(&out, MAX_TEXT) {
        Cow::Borrowed(_) => Cow::Owned(out),
        Cow::Owned(s) => Cow::Owned(s),
    }
}

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
        ScenarioError::from(vec![d])
    }
}

impl From<Vec<Diagnostic>> for ScenarioError {
    fn from(mut diagnostics: Vec<Diagnostic>) -> Self {
        for d in &mut diagnostics {
            for text in [&mut d.message, &mut d.path, &mut d.file] {
                if let Cow::Owned(t) = tidy(text) {
                    *text = t;
                }
            }
            if let Some(h) = &mut d.hint
                && let Cow::Owned(t) = tidy(h)
            {
                *h = t;
            }
        }
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

    #[test]
    fn quotes_are_clipped() {
        let long = "x".repeat(10_000_000);
        let c = clip(&long);
        assert_eq!(c.chars().count(), MAX_QUOTE + 1);
        assert!(c.ends_with('…'));
        assert_eq!(clip("NVDA"), "NVDA");
        assert_eq!(clip("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        let msg = format!("unknown asset `{long}`; expected \"{long}\" or `NVDA`");
        let t = tidy(&msg);
        assert!(t.len() < 300, "{}", t.len());
        assert!(t.starts_with("unknown asset `xxx"), "{t}");
        assert!(t.ends_with("…\" or `NVDA`"), "{t}");
        let e = ScenarioError::one(Diagnostic {
            message: msg,
            ..d(Some(1), Some(1), &long, Some(&long))
        });
        assert!(
            e.to_string().len() < 3 * MAX_TEXT,
            "{}",
            e.to_string().len()
        );
    }
}
