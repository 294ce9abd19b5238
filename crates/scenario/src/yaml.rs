//! The one module that talks to `serde_yaml` (`serde_norway)`: text → [`ScenarioSpec`], or
//! the first parse/type error with its field path and location.

use crate::index::{join_index, join_key};
use crate::spec::ScenarioSpec;

/// Why the text did not deserialise: serde stops at the first problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SerdeFailure {
    /// Field path in the crate's notation (`holders[3].margin.maintenance`).
    pub path: String,
    /// serde's message, without the location and path decorations `serde_yaml` adds.
    pub message: String,
    /// 1-based line and column from `serde_yaml`, when it knows them.
    pub location: Option<(usize, usize)>,
}

/// Deserialise a scenario, tracking the field path of any error.
pub(crate) fn parse(text: &str) -> Result<ScenarioSpec, SerdeFailure> {
    let de = serde_yaml::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = render_path(e.path());
        let inner = e.into_inner();
        let location = inner.location().map(|l| (l.line(), l.column()));
        SerdeFailure {
            message: clean_message(&inner.to_string()),
            path,
            location,
        }
    })
}

/// libyaml's account of a syntax error, which names what it expected (`did not find
/// expected ',' or ']'`) and where the enclosing construct started. Only called on text
/// the span index already refused, so nothing is deserialised.
pub(crate) fn syntax_error(text: &str) -> Option<SerdeFailure> {
    let err = serde_yaml::from_str::<serde::de::IgnoredAny>(text).err()?;
    let location = err.location().map(|l| (l.line(), l.column()))?;
    let full = err.to_string();
    let own = format!(" at line {} column {}", location.0, location.1);
    let message = match full.find(&own) {
        Some(i) => format!("{}{}", &full[..i], &full[i + own.len()..]),
        None => full,
    };
    Some(SerdeFailure {
        path: String::new(),
        message,
        location: Some(location),
    })
}

fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path {
        match seg {
            Segment::Seq { index } => out = join_index(&out, *index),
            Segment::Map { key } => out = join_key(&out, key),
            Segment::Enum { variant } => out = join_key(&out, variant),
            Segment::Unknown => {}
        }
    }
    out
}

/// Drop `serde_yaml`'s `PATH: ` prefix and ` at line L column C` suffix.
fn clean_message(msg: &str) -> String {
    let mut m = msg;
    if let Some(i) = m.rfind(" at line ") {
        let tail = &m[i + " at line ".len()..];
        let looks_like_location = tail
            .split(" column ")
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
        if looks_like_location {
            m = &m[..i];
        }
    }
    if let Some(i) = m.find(": ") {
        let head = &m[..i];
        if !head.is_empty() && !head.contains(' ') && !head.contains('`') {
            m = &m[i + 2..];
        }
    }
    m.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_lose_decorations() {
        assert_eq!(
            clean_message("holders[0].margin: unknown field `x`, expected `a` at line 5 column 27"),
            "unknown field `x`, expected `a`"
        );
        assert_eq!(
            clean_message("invalid type: string \"abc\", expected f64 at line 2 column 4"),
            "invalid type: string \"abc\", expected f64"
        );
        assert_eq!(
            clean_message("missing field `name`"),
            "missing field `name`"
        );
    }

    #[test]
    fn syntax_errors_name_what_was_expected() {
        let f = syntax_error("a: [1, 2\nb: 3\n").expect("syntax error");
        assert!(f.message.contains("did not find expected"), "{f:?}");
        assert!(f.location.is_some());
        assert!(syntax_error("a: [1, 2]\n").is_none());
    }

    #[test]
    fn type_errors_carry_path_and_location() {
        let err = parse(
            "name: x\ndescription: d\nas_of: 2026-01-01\nassets:\n  - id: A\n    price: abc\n",
        )
        .expect_err("type error");
        assert_eq!(err.path, "assets[0].price");
        assert_eq!(err.location, Some((6, 12)));
        assert!(err.message.contains("expected f64"), "{}", err.message);
    }
}
