//! The one module that talks to `serde_yaml` (`serde_norway)`: text → [`ScenarioSpec`], or
//! the first parse/type error with its field path and location; and the generic document
//! [`Tree`] that sweep templates edit before deserialising it.

pub(crate) mod split;

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
///
/// Most texts deserialise, so the first pass goes without the path tracking, which wraps
/// every value's deserialiser; only a text that fails is read again with it, to name the
/// field. Both passes run the same deserialisation, so the error is the same one.
pub(crate) fn parse(text: &str) -> Result<ScenarioSpec, SerdeFailure> {
    if let Ok(spec) = serde_yaml::from_str::<ScenarioSpec>(text) {
        return Ok(spec);
    }
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

/// One step down a document: a mapping key or a list index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    Key(String),
    Index(usize),
}

/// What a node of the document is, as far as path resolution cares.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Shape {
    /// A mapping, with its string keys in document order.
    Map(Vec<String>),
    /// A list of this many elements.
    Seq(usize),
    /// A scalar, as YAML text (`0.3`, `sequential`, `true`), or `null`.
    Scalar(String),
}

/// A value to write into the tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Number(f64),
    /// Read as YAML reads a plain scalar: `true`, `null`, `3` or a string.
    Plain(String),
}

/// A scenario document as a generic YAML value tree, kept so that fields can be replaced
/// without re-reading the text.
#[derive(Debug, Clone)]
pub(crate) struct Tree(serde_yaml::Value);

fn child<'v>(v: &'v serde_yaml::Value, step: &Step) -> Option<&'v serde_yaml::Value> {
    match (v, step) {
        (serde_yaml::Value::Mapping(m), Step::Key(k)) => m.get(k.as_str()),
        (serde_yaml::Value::Sequence(s), Step::Index(i)) => s.get(*i),
        (serde_yaml::Value::Tagged(t), _) => child(&t.value, step),
        _ => None,
    }
}

fn child_mut<'v>(v: &'v mut serde_yaml::Value, step: &Step) -> Option<&'v mut serde_yaml::Value> {
    match (v, step) {
        (serde_yaml::Value::Mapping(m), Step::Key(k)) => m.get_mut(k.as_str()),
        (serde_yaml::Value::Sequence(s), Step::Index(i)) => s.get_mut(*i),
        (serde_yaml::Value::Tagged(t), step) => child_mut(&mut t.value, step),
        _ => None,
    }
}

fn scalar_text(v: &serde_yaml::Value) -> String {
    match v {
        serde_yaml::Value::Null => "null".to_owned(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::String(s) => s.clone(),
        serde_yaml::Value::Tagged(t) => scalar_text(&t.value),
        serde_yaml::Value::Sequence(_) | serde_yaml::Value::Mapping(_) => String::new(),
    }
}

impl Scalar {
    fn to_value(&self) -> serde_yaml::Value {
        match self {
            // An integral number is written as an integer so that whole-number fields
            // (`max_rounds`, `accounts`) accept it; below 2^53 the f64 a float field reads
            // back is the same number, bit for bit. -0.0 stays a float to keep its sign.
            Scalar::Number(x)
                if x.fract() == 0.0
                    && x.abs() < 9.007_199_254_740_992e15
                    && !(*x == 0.0 && x.is_sign_negative()) =>
            {
                serde_yaml::Value::Number((*x as i64).into())
            }
            Scalar::Number(x) => serde_yaml::Value::Number((*x).into()),
            Scalar::Plain(s) => match serde_yaml::from_str::<serde_yaml::Value>(s) {
                Ok(
                    v @ (serde_yaml::Value::Null
                    | serde_yaml::Value::Bool(_)
                    | serde_yaml::Value::Number(_)
                    | serde_yaml::Value::String(_)),
                ) if !s.trim().is_empty() => v,
                _ => serde_yaml::Value::String(s.clone()),
            },
        }
    }
}

impl Tree {
    /// Parse the text into a value tree. Only called on text that has already been indexed
    /// and deserialised once (the limits on size, nesting and aliases are checked there).
    pub fn parse(text: &str) -> Result<Tree, SerdeFailure> {
        serde_yaml::from_str(text)
            .map(Tree)
            .map_err(|e| SerdeFailure {
                path: String::new(),
                message: clean_message(&e.to_string()),
                location: e.location().map(|l| (l.line(), l.column())),
            })
    }

    /// Remove the keys of lists left empty (`holders:` with nothing after it): the format
    /// reads an empty value as an empty list, but the tree holds it as a null, which it
    /// would write back as `holders: null`, and the format refuses that. A list's key
    /// left out is the same empty list. `lists` are paths of keys; `*` is every item of a
    /// list.
    pub fn drop_empty_lists(&mut self, lists: &[&[&str]]) {
        fn drop_at(v: &mut serde_yaml::Value, path: &[&str]) {
            match (v, path) {
                (serde_yaml::Value::Tagged(t), _) => drop_at(&mut t.value, path),
                (serde_yaml::Value::Mapping(m), [key])
                    if m.get(*key).is_some_and(serde_yaml::Value::is_null) =>
                {
                    m.remove(*key);
                }
                (serde_yaml::Value::Sequence(items), ["*", rest @ ..]) => {
                    for item in items {
                        drop_at(item, rest);
                    }
                }
                (serde_yaml::Value::Mapping(m), [key, rest @ ..]) => {
                    if let Some(child) = m.get_mut(*key) {
                        drop_at(child, rest);
                    }
                }
                _ => {}
            }
        }
        for path in lists {
            drop_at(&mut self.0, path);
        }
    }

    /// Remove a top-level key, if present.
    pub fn remove_top(&mut self, key: &str) {
        if let serde_yaml::Value::Mapping(m) = &mut self.0 {
            m.remove(key);
        }
    }

    /// The shape of the node at `at`, if there is one.
    pub fn shape(&self, at: &[Step]) -> Option<Shape> {
        let mut v = &self.0;
        for s in at {
            v = child(v, s)?;
        }
        while let serde_yaml::Value::Tagged(t) = v {
            v = &t.value;
        }
        Some(match v {
            serde_yaml::Value::Mapping(m) => Shape::Map(
                m.keys()
                    .map(|k| match k {
                        serde_yaml::Value::String(s) => s.clone(),
                        other => scalar_text(other),
                    })
                    .collect(),
            ),
            serde_yaml::Value::Sequence(s) => Shape::Seq(s.len()),
            other => Shape::Scalar(scalar_text(other)),
        })
    }

    /// The number at `at`, if the node there is a number.
    pub fn number(&self, at: &[Step]) -> Option<f64> {
        let mut v = &self.0;
        for s in at {
            v = child(v, s)?;
        }
        v.as_f64()
    }

    /// Every number in the document, with its steps (for tests that write values back).
    #[cfg(test)]
    pub fn numbers(&self) -> Vec<Vec<Step>> {
        fn walk(v: &serde_yaml::Value, at: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
            match v {
                serde_yaml::Value::Number(_) => out.push(at.clone()),
                serde_yaml::Value::Mapping(m) => {
                    for (k, c) in m {
                        if let serde_yaml::Value::String(k) = k {
                            at.push(Step::Key(k.clone()));
                            walk(c, at, out);
                            at.pop();
                        }
                    }
                }
                serde_yaml::Value::Sequence(s) => {
                    for (i, c) in s.iter().enumerate() {
                        at.push(Step::Index(i));
                        walk(c, at, out);
                        at.pop();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.0, &mut Vec::new(), &mut out);
        out
    }

    /// Put `value` at `at`: replace the node there, or insert the last key into the
    /// mapping above it. False when the parent does not exist or is not a mapping.
    pub fn set(&mut self, at: &[Step], value: &Scalar) -> bool {
        let Some((last, parents)) = at.split_last() else {
            return false;
        };
        let mut v = &mut self.0;
        for s in parents {
            match child_mut(v, s) {
                Some(c) => v = c,
                None => return false,
            }
        }
        while let serde_yaml::Value::Tagged(t) = v {
            v = &mut t.value;
        }
        match (v, last) {
            (serde_yaml::Value::Mapping(m), Step::Key(k)) => {
                m.insert(serde_yaml::Value::String(k.clone()), value.to_value());
                true
            }
            (serde_yaml::Value::Sequence(s), Step::Index(i)) => match s.get_mut(*i) {
                Some(slot) => {
                    *slot = value.to_value();
                    true
                }
                None => false,
            },
            _ => false,
        }
    }

    /// Insert `key: null` into the mapping at `at` (to ask serde whether the key exists).
    pub fn set_null(&mut self, at: &[Step]) -> bool {
        self.set(at, &Scalar::Plain("null".to_owned()))
    }

    /// Deserialise the tree as a scenario, tracking the field path of any error. From its
    /// YAML text, as a file is read: a plain scalar such as `title: 9` then reads as a
    /// string where one is expected, exactly as the file loader reads it (deserialising
    /// the tree itself would refuse it, so a sweep refused what `run` accepted).
    pub fn spec(&self) -> Result<ScenarioSpec, SerdeFailure> {
        let text = serde_yaml::to_string(&self.0).map_err(|e| SerdeFailure {
            message: clean_message(&e.to_string()),
            path: String::new(),
            location: None,
        })?;
        serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(&text)).map_err(|e| {
            let path = render_path(e.path());
            let inner = e.into_inner();
            SerdeFailure {
                message: clean_message(&inner.to_string()),
                path,
                location: None,
            }
        })
    }
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

    /// The untracked first pass must give what the tracked pass gives: compared (as
    /// `Debug` text, every field) on each shipped scenario.
    #[test]
    fn untracked_pass_gives_the_tracked_result() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("scenarios/") {
            let path = entry.expect("entry").path();
            if path.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read");
            let fast = parse(&text).expect("a shipped scenario deserialises");
            let tracked: ScenarioSpec =
                serde_path_to_error::deserialize(serde_yaml::Deserializer::from_str(&text))
                    .expect("tracked");
            assert_eq!(
                format!("{fast:?}"),
                format!("{tracked:?}"),
                "{}",
                path.display()
            );
            seen += 1;
        }
        assert!(
            seen >= 10,
            "only {seen} scenarios read from {}",
            dir.display()
        );
    }
}
