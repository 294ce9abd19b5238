//! Sweep templates: a scenario loaded once, from which variants with some fields replaced
//! are built fast (`delever sweep FILE --vary PATH=…`).
//!
//! A [`FieldPath`] names fields of the document (`holders[*].margin.maintenance`); a
//! [`Template`] keeps the document as a generic YAML value tree and, per instance, clones
//! the tree, writes the [`OverrideValue`]s and runs the same deserialisation and
//! validation as a file load.
//!
//! Why a value tree rather than editing the typed spec or the built network: a path in
//! the document means the same thing a user sees in the file, every field of the format
//! is reachable without a hand-written setter per field, and an instance is validated
//! by exactly the code that validates a file, so it can never hold a value a file could
//! not. The costs that matter are kept out of the loop: the text is not re-parsed (the
//! tree and the span index are built once, so diagnostics still carry the original
//! line:column), and CSV account books are read once and reused while their file fields
//! are not overridden.

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::book::MemoryBooks;
use crate::convert::{BookCache, Origin};
use crate::index::{Index, join_index, join_key};
use crate::yaml::{Scalar, Shape, Step, Tree};
use crate::{Diagnostic, Scenario, ScenarioError, suggest};

/// One segment of a [`FieldPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key: `margin`.
    Key(String),
    /// A list index, from 0: `[2]`.
    Index(usize),
    /// The list element whose `id` is this (or whose `asset` is, in lists of holdings
    /// without ids): `[hf-1]`, `[NVDA]`.
    Id(String),
    /// Every element of the list: `[*]`.
    All,
}

/// A field path in a scenario document: `shocks[0].return`,
/// `holders[hf-1].margin.maintenance`, `holders[*].margin.maintenance`,
/// `assets[NVDA].impact.y`, `engine.damping`.
///
/// Grammar: a key, then any number of `.key` and `[selector]`; a key is letters, digits,
/// `_` and `-`; a selector is an index (digits), `*`, or an id (anything but brackets
/// and white space). [`fmt::Display`] prints the canonical text, which parses back to the
/// same path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPath {
    segments: Vec<Segment>,
}

/// Why a field path did not parse: where (1-based column, in characters) and what was
/// expected there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// The text is empty.
    #[error("empty field path; expected something like `holders[hf-1].margin.maintenance`")]
    Empty,
    /// Something else than what the grammar allows at `column`.
    #[error("`{path}`, column {column}: expected {expected}, found {found}")]
    Unexpected {
        /// The path as given.
        path: String,
        /// 1-based column, in characters.
        column: usize,
        /// What the grammar allows there.
        expected: &'static str,
        /// What is there (`` `]` ``, or "the end of the path").
        found: String,
    },
    /// A `[` without its `]`.
    #[error("`{path}`, column {column}: this `[` is never closed")]
    Unclosed {
        /// The path as given.
        path: String,
        /// 1-based column of the `[`.
        column: usize,
    },
    /// `[]`.
    #[error(
        "`{path}`, column {column}: empty `[]`; expected an index (`[0]`), an id (`[NVDA]`) or `[*]`"
    )]
    EmptySelector {
        /// The path as given.
        path: String,
        /// 1-based column of the `[`.
        column: usize,
    },
}

impl PathError {
    /// The 1-based column (in characters) the problem is at, when there is one.
    pub fn column(&self) -> Option<usize> {
        match self {
            PathError::Empty => None,
            PathError::Unexpected { column, .. }
            | PathError::Unclosed { column, .. }
            | PathError::EmptySelector { column, .. } => Some(*column),
        }
    }
}

fn is_key_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

impl FieldPath {
    /// Parse a path such as `holders[hf-1].margin.maintenance`.
    pub fn parse(s: &str) -> Result<FieldPath, PathError> {
        if s.is_empty() {
            return Err(PathError::Empty);
        }
        let chars: Vec<char> = s.chars().collect();
        let n = chars.len();
        let unexpected = |i: usize, expected: &'static str| PathError::Unexpected {
            path: s.to_owned(),
            column: i + 1,
            expected,
            found: chars
                .get(i)
                .map_or_else(|| "the end of the path".to_owned(), |c| format!("`{c}`")),
        };
        let mut segments = Vec::new();
        let mut i = 0;
        loop {
            let start = i;
            while i < n && is_key_char(chars[i]) {
                i += 1;
            }
            if i == start {
                return Err(unexpected(i, "a key (letters, digits, `_` or `-`)"));
            }
            segments.push(Segment::Key(chars[start..i].iter().collect()));
            while i < n && chars[i] == '[' {
                let open = i;
                i += 1;
                let first = i;
                while i < n && chars[i] != ']' {
                    if chars[i] == '[' || chars[i].is_whitespace() {
                        return Err(unexpected(i, "an index, an id or `*`, then `]`"));
                    }
                    i += 1;
                }
                if i == n {
                    return Err(PathError::Unclosed {
                        path: s.to_owned(),
                        column: open + 1,
                    });
                }
                let inner: String = chars[first..i].iter().collect();
                segments.push(if inner.is_empty() {
                    return Err(PathError::EmptySelector {
                        path: s.to_owned(),
                        column: open + 1,
                    });
                } else if inner == "*" {
                    Segment::All
                } else if inner.bytes().all(|b| b.is_ascii_digit()) {
                    Segment::Index(
                        inner
                            .parse()
                            .map_err(|_| unexpected(first, "an index that is not that large"))?,
                    )
                } else {
                    Segment::Id(inner)
                });
                i += 1;
            }
            if i == n {
                break;
            }
            if chars[i] != '.' {
                return Err(unexpected(i, "`.`, `[` or the end of the path"));
            }
            i += 1;
        }
        Ok(FieldPath { segments })
    }

    /// The segments, in order; the first is always a key.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            match s {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
                Segment::Id(id) => write!(f, "[{id}]")?,
                Segment::All => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl FromStr for FieldPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        FieldPath::parse(s)
    }
}

/// A value to put at a path: a number, or any other YAML scalar as text (`sequential`,
/// `true`). Text is read as YAML reads a plain scalar in the file, so `true` is a
/// boolean and `0.5` a number.
#[derive(Debug, Clone, PartialEq)]
pub enum OverrideValue {
    /// A number. Non-finite numbers are refused by validation, like `.nan` in a file.
    Number(f64),
    /// Any other scalar, as it would be written in the file.
    Text(String),
}

impl OverrideValue {
    /// A value from command-line text: a number when the text is a finite number, else
    /// text.
    pub fn from_text(s: &str) -> OverrideValue {
        match s.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => OverrideValue::Number(x),
            _ => OverrideValue::Text(s.to_owned()),
        }
    }

    fn scalar(&self) -> Scalar {
        match self {
            OverrideValue::Number(x) => Scalar::Number(*x),
            OverrideValue::Text(s) => Scalar::Plain(s.clone()),
        }
    }
}

impl fmt::Display for OverrideValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OverrideValue::Number(x) => write!(f, "{x}"),
            OverrideValue::Text(s) => f.write_str(s),
        }
    }
}

impl From<f64> for OverrideValue {
    fn from(x: f64) -> Self {
        OverrideValue::Number(x)
    }
}

/// The format's lists that may be written with an empty value (`holders:`), as paths of
/// keys (`*`: every item of a list): the spec's lists with a default. A template's tree
/// drops them when empty, so that its instances read them as the scenario did.
const EMPTY_LISTS: &[&[&str]] = &[
    &["sources"],
    &["assumptions"],
    &["assets"],
    &["assets", "*", "tags"],
    &["holders"],
    &["holder_tables"],
    &["lenders"],
    &["shocks"],
    &["variants"],
    &["teach", "sliders"],
];

/// A scenario loaded once, from which variants with replaced fields are built fast.
///
/// Instances ([`Template::instantiate`]) are the scenario without its `variants:` and
/// `expect:` blocks (a sweep neither runs variants nor checks expectations; paths into
/// them are refused), with the base's name. Account books are read once, at load, and
/// reused by every instance that does not override their `accounts_csv`/`holdings_csv`
/// (or the asset ids they resolve against). `Template` is `Send + Sync`: instances can be
/// built from many threads at once.
#[derive(Debug)]
pub struct Template {
    base: Scenario,
    /// The document without `variants` and `expect`.
    tree: Tree,
    index: Index,
    origin: String,
    base_dir: Option<PathBuf>,
    stem: Option<String>,
    books: BookCache,
    /// Account books given in memory, by holder id; shared with every instance.
    memory: MemoryBooks,
}

/// A place a path selects: its steps, its path in the crate's notation, and whether the
/// last key is inserted rather than replaced.
#[derive(Debug)]
struct Target {
    steps: Vec<Step>,
    text: String,
    insert: bool,
}

/// Why a path does not resolve: at which segment, below which written node.
#[derive(Debug)]
struct Miss {
    /// The segment that failed: under `[*]` the deepest failure is the informative one.
    depth: usize,
    at: String,
    message: String,
    hint: Option<String>,
}

/// Top-level blocks instances do not have.
const DROPPED: &[(&str, &str)] = &[
    (
        "variants",
        "a sweep instance has no variants: vary the base scenario's own fields (`shocks[0].return`, `engine.mode`)",
    ),
    (
        "expect",
        "a sweep instance checks no expectations: vary the scenario's fields, and read the results from the sweep's output",
    ),
];

impl Template {
    /// Load a scenario file as a template; it is validated like [`Scenario::load`].
    /// The path `-` reads standard input, as [`Scenario::load`] does.
    pub fn load(path: &Path) -> Result<Template, ScenarioError> {
        let src = crate::TextSource::of(path);
        let text = crate::read_text(path)?;
        let mut t = Template::build(
            &text,
            src.origin,
            Some(src.base),
            src.stem,
            MemoryBooks::new(),
        )?;
        t.base.path = src.path;
        Ok(t)
    }

    /// [`Template::load`] without the rule that the name equals the file's stem, as
    /// [`Scenario::load_lenient`]: a name that differs comes back as a warning.
    pub fn load_lenient(path: &Path) -> Result<(Template, Option<Diagnostic>), ScenarioError> {
        let src = crate::TextSource::of(path);
        let text = crate::read_text(path)?;
        let mut t = Template::build(
            &text,
            src.origin.clone(),
            Some(src.base),
            None,
            MemoryBooks::new(),
        )?;
        t.base.path = src.path;
        let warning = crate::stem_warning(&text, &src.origin, src.stem.as_deref(), &t.base.name);
        Ok((t, warning))
    }

    /// A template from text, like [`Scenario::from_yaml`]: `origin` names it in
    /// diagnostics, CSV books are resolved against `base_dir`.
    pub fn from_yaml(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Template, ScenarioError> {
        Template::from_yaml_with_books(text, origin, base_dir, MemoryBooks::new())
    }

    /// [`Template::from_yaml`] with account books given in memory, by holder id: each is
    /// the tables of the scenario's `account_book` holder of that id, which then names
    /// no table files (no `accounts_csv`, `holdings_csv` or their Parquet and Arrow
    /// forms). The holder's other keys (`margin`, `cure_rate`) are the scenario's. A book
    /// is checked as a Parquet book is, its problems told under the holder's `accounts`
    /// and `holdings` paths with the tables' names as files; it is validated once and
    /// shared by the template's instances.
    ///
    /// # Errors
    /// As [`Template::from_yaml`]; also a book for an id that is not an `account_book`
    /// holder, or for a holder that names table files.
    pub fn from_yaml_with_books(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
        books: MemoryBooks,
    ) -> Result<Template, ScenarioError> {
        if text.len() as u64 > crate::MAX_YAML_BYTES {
            return Err(crate::too_large(origin, text.len() as u64));
        }
        if let Some(d) = crate::nul_byte(text.as_bytes(), origin) {
            return Err(ScenarioError::one(d));
        }
        Template::build(
            text,
            origin.to_owned(),
            base_dir.map(Path::to_path_buf),
            None,
            books,
        )
    }

    /// The account books it was given in memory, by holder id.
    pub fn memory_books(&self) -> &MemoryBooks {
        &self.memory
    }

    fn build(
        text: &str,
        origin: String,
        base_dir: Option<PathBuf>,
        stem: Option<String>,
        memory: MemoryBooks,
    ) -> Result<Template, ScenarioError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let index = crate::index_text(text, &origin)?;
        let spec = crate::yaml::parse(text)
            .map_err(|f| ScenarioError::one(crate::describe(&f, &index, &origin)))?;
        let record = RefCell::new(BookCache::default());
        let base = crate::finish(
            spec,
            &index,
            &origin,
            &Origin {
                base_dir: base_dir.as_deref(),
                stem: stem.as_deref(),
                books: None,
                record: Some(&record),
                memory: Some(&memory),
            },
        )?;
        // The text deserialised once already, so this cannot fail on syntax; map it anyway.
        let mut tree = Tree::parse(text)
            .map_err(|f| ScenarioError::one(crate::describe(&f, &index, &origin)))?;
        for (key, _) in DROPPED {
            tree.remove_top(key);
        }
        tree.drop_empty_lists(EMPTY_LISTS);
        Ok(Template {
            base,
            tree,
            index,
            origin,
            base_dir,
            stem,
            books: record.into_inner(),
            memory,
        })
    }

    /// The scenario as written (validated at load), with its variants and expectations.
    pub fn base(&self) -> &Scenario {
        &self.base
    }

    /// The number written at `path` (the first place it selects), if that place holds
    /// one: where `delever serve` starts a slider.
    pub fn number_at(&self, path: &FieldPath) -> Option<f64> {
        let targets = self.targets(path).ok()?;
        targets.first().and_then(|t| self.tree.number(&t.steps))
    }

    /// Check that `path` names something in this scenario. Errors name the path, the
    /// segment that failed, what is there, and suggest a key or id. Returns how many
    /// places the path selects (more than one with `[*]`).
    ///
    /// `[*]` selects the elements in which the rest of the path resolves (a holder
    /// without `margin` is skipped by `holders[*].margin.maintenance`); it is an error
    /// only when it selects nothing. A last key absent from its mapping is accepted when
    /// the format allows it there (it is inserted).
    pub fn check_path(&self, path: &FieldPath) -> Result<usize, ScenarioError> {
        let targets = self.targets(path)?;
        let inserts: Vec<&Target> = targets.iter().filter(|t| t.insert).collect();
        if !inserts.is_empty() {
            // Ask serde whether the inserted keys exist: `key: null` is accepted by an
            // optional field and refused as an unknown key otherwise.
            let mut tree = self.tree.clone();
            for t in &inserts {
                tree.set_null(&t.steps);
            }
            if let Err(f) = tree.spec()
                && f.message.starts_with("unknown field")
                && inserts
                    .iter()
                    .any(|t| t.text == f.path || crate::index::parent(&t.text) == f.path)
            {
                let d = crate::describe(&f, &self.index, &self.origin);
                return Err(ScenarioError::one(Diagnostic {
                    path: path.to_string(),
                    message: format!("`{}`: {}", f.path, d.message),
                    ..d
                }));
            }
        }
        Ok(targets.len())
    }

    /// The scenario with these fields replaced, validated exactly like a loaded file (see
    /// the type's documentation for what instances leave out). Overrides apply in order;
    /// a later one wins where two select the same place. Every diagnostic's hint names
    /// the override that produced it (or, when the problem is elsewhere, lists them).
    pub fn instantiate(
        &self,
        overrides: &[(FieldPath, OverrideValue)],
    ) -> Result<Scenario, ScenarioError> {
        let mut tree = self.tree.clone();
        let mut applied: Vec<(Vec<String>, String)> = Vec::with_capacity(overrides.len());
        let mut errors = Vec::new();
        for (path, value) in overrides {
            match self.targets(path) {
                Ok(targets) => {
                    let v = value.scalar();
                    for t in &targets {
                        tree.set(&t.steps, &v);
                    }
                    applied.push((
                        targets.into_iter().map(|t| t.text).collect(),
                        format!("{path} = {value}"),
                    ));
                }
                Err(e) => errors.extend(e.diagnostics),
            }
        }
        if !errors.is_empty() {
            return Err(ScenarioError::from(errors));
        }
        let attribute = |e: ScenarioError| {
            ScenarioError::from(
                e.diagnostics
                    .into_iter()
                    .map(|d| attribute(d, &applied))
                    .collect::<Vec<_>>(),
            )
        };
        let spec = tree.spec().map_err(|f| {
            attribute(ScenarioError::one(crate::describe(
                &f,
                &self.index,
                &self.origin,
            )))
        })?;
        let mut s = crate::finish(
            spec,
            &self.index,
            &self.origin,
            &Origin {
                base_dir: self.base_dir.as_deref(),
                stem: self.stem.as_deref(),
                books: Some(&self.books),
                record: None,
                memory: Some(&self.memory),
            },
        )
        .map_err(attribute)?;
        s.path.clone_from(&self.base.path);
        Ok(s)
    }

    /// Number of account books held for reuse.
    #[cfg(test)]
    pub(crate) fn cached_books(&self) -> usize {
        self.books.len()
    }

    #[cfg(test)]
    pub(crate) fn tree(&self) -> &Tree {
        &self.tree
    }

    fn targets(&self, path: &FieldPath) -> Result<Vec<Target>, ScenarioError> {
        let fail = |m: Miss| {
            let loc = self.index.value_or_ancestor(&m.at);
            ScenarioError::one(Diagnostic {
                file: self.origin.clone(),
                line: loc.map(|l| l.line),
                column: loc.map(|l| l.column),
                path: path.to_string(),
                message: m.message,
                hint: m.hint,
            })
        };
        if let Some(Segment::Key(k)) = path.segments.first()
            && let Some((_, hint)) = DROPPED.iter().find(|(d, _)| d == k)
        {
            return Err(fail(Miss {
                depth: 0,
                at: k.clone(),
                message: format!("sweep instances have no `{k}` block: they leave it out"),
                hint: Some((*hint).to_owned()),
            }));
        }
        let mut out = Vec::new();
        walk(&self.tree, &path.segments, 0, &mut Vec::new(), "", &mut out).map_err(fail)?;
        Ok(out)
    }
}

fn shown(text: &str) -> String {
    if text.is_empty() {
        "the document".to_owned()
    } else {
        format!("`{text}`")
    }
}

/// Resolve `segs[i..]` below the node at `steps` (whose path is `text`), pushing every
/// place selected.
#[allow(clippy::too_many_lines)] // one arm per (segment, node) pair, each with its message
fn walk(
    tree: &Tree,
    segs: &[Segment],
    i: usize,
    steps: &mut Vec<Step>,
    text: &str,
    out: &mut Vec<Target>,
) -> Result<(), Miss> {
    let miss = |message: String, hint: Option<String>| Miss {
        depth: i,
        at: text.to_owned(),
        message,
        hint,
    };
    let Some(shape) = tree.shape(steps) else {
        return Err(miss(format!("{} does not exist", shown(text)), None));
    };
    let Some(seg) = segs.get(i) else {
        return match shape {
            Shape::Scalar(_) => {
                out.push(Target {
                    steps: steps.clone(),
                    text: text.to_owned(),
                    insert: false,
                });
                Ok(())
            }
            Shape::Map(keys) => Err(miss(
                format!(
                    "{} is a mapping; a path must end at a single value",
                    shown(text)
                ),
                Some(format!(
                    "name one of its keys: {}",
                    suggest::list(keys.iter().map(String::as_str), 12)
                )),
            )),
            Shape::Seq(n) => Err(miss(
                format!(
                    "{} is a list of {n}; a path must end at a single value",
                    shown(text)
                ),
                Some("select an element (`[0]`, `[id]` or `[*]`) and one of its keys".into()),
            )),
        };
    };
    let last = i + 1 == segs.len();
    match (seg, shape) {
        (Segment::Key(k), Shape::Map(keys)) => {
            if keys.iter().any(|x| x == k) {
                descend(
                    tree,
                    segs,
                    i,
                    steps,
                    out,
                    Step::Key(k.clone()),
                    &join_key(text, k),
                )
            } else if last {
                let mut s = steps.clone();
                s.push(Step::Key(k.clone()));
                out.push(Target {
                    steps: s,
                    text: join_key(text, k),
                    insert: true,
                });
                Ok(())
            } else {
                let hint = match suggest::did_you_mean(k, keys.iter().map(String::as_str)) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!(
                        "only a path's last key can be added; its keys are {} (write `{k}` in the scenario first if it belongs there)",
                        suggest::list(keys.iter().map(String::as_str), 12)
                    ),
                };
                Err(miss(
                    format!("{} has no key `{k}`", shown(text)),
                    Some(hint),
                ))
            }
        }
        (Segment::Key(k), Shape::Seq(n)) => Err(miss(
            format!(
                "{} is a list of {n}, not a mapping with key `{k}`",
                shown(text)
            ),
            Some(format!(
                "select elements first: `{text}[0].{k}`, `{text}[<id>].{k}` or `{text}[*].{k}`"
            )),
        )),
        (Segment::Key(k), Shape::Scalar(v)) => Err(miss(
            format!(
                "{} is a single value (`{v}`); it has no key `{k}`",
                shown(text)
            ),
            None,
        )),
        (Segment::Index(n), Shape::Seq(len)) => {
            if *n < len {
                descend(
                    tree,
                    segs,
                    i,
                    steps,
                    out,
                    Step::Index(*n),
                    &join_index(text, *n),
                )
            } else if len == 0 {
                Err(miss(format!("{} is an empty list", shown(text)), None))
            } else {
                Err(miss(
                    format!(
                        "index {n} is out of range: {} has {len} element{}",
                        shown(text),
                        if len == 1 { "" } else { "s" }
                    ),
                    Some(format!("indices start at 0; the last is [{}]", len - 1)),
                ))
            }
        }
        (Segment::Id(id), Shape::Seq(len)) => {
            let mut ids = Vec::new();
            let mut hits = Vec::new();
            for j in 0..len {
                let field = |f: &str| match tree
                    .shape(&[steps.as_slice(), &[Step::Index(j), Step::Key(f.to_owned())]].concat())
                {
                    Some(Shape::Scalar(s)) => Some(s),
                    _ => None,
                };
                if let Some(e) = field("id").or_else(|| field("asset")) {
                    if &e == id {
                        hits.push(j);
                    }
                    ids.push(e);
                }
            }
            match hits.as_slice() {
                [j] => descend(
                    tree,
                    segs,
                    i,
                    steps,
                    out,
                    Step::Index(*j),
                    &join_index(text, *j),
                ),
                [] => {
                    let hint = if ids.is_empty() {
                        format!(
                            "the elements of {} have no `id` (or `asset`); select them by index, `[0]`",
                            shown(text)
                        )
                    } else {
                        suggest::hint_for(id, ids.iter().map(String::as_str), "ids")
                    };
                    Err(miss(
                        format!("no element of {} has the id `{id}`", shown(text)),
                        Some(hint),
                    ))
                }
                several => Err(miss(
                    format!(
                        "`[{id}]` is ambiguous: {} elements of {} match it",
                        several.len(),
                        shown(text)
                    ),
                    Some(format!(
                        "select one by index: {}",
                        several
                            .iter()
                            .map(|j| format!("`[{j}]`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                )),
            }
        }
        (Segment::All, Shape::Seq(len)) => {
            if len == 0 {
                return Err(miss(
                    format!("{} is an empty list: `[*]` selects nothing", shown(text)),
                    None,
                ));
            }
            let mut deepest: Option<Miss> = None;
            let before = out.len();
            for j in 0..len {
                if let Err(m) = descend(
                    tree,
                    segs,
                    i,
                    steps,
                    out,
                    Step::Index(j),
                    &join_index(text, j),
                ) && deepest.as_ref().is_none_or(|d| m.depth > d.depth)
                {
                    deepest = Some(m);
                }
            }
            match deepest {
                Some(m) if out.len() == before => Err(m),
                _ => Ok(()),
            }
        }
        (Segment::Index(_) | Segment::Id(_) | Segment::All, Shape::Map(keys)) => {
            let hint = match seg {
                Segment::Id(id) if keys.iter().any(|k| k == id) => {
                    format!("`{id}` is a key here: write `{text}.{id}`")
                }
                _ => format!(
                    "name one of its keys: {}",
                    suggest::list(keys.iter().map(String::as_str), 12)
                ),
            };
            Err(miss(
                format!("{} is a mapping, not a list", shown(text)),
                Some(hint),
            ))
        }
        (Segment::Index(_) | Segment::Id(_) | Segment::All, Shape::Scalar(v)) => Err(miss(
            format!("{} is a single value (`{v}`), not a list", shown(text)),
            None,
        )),
    }
}

/// Walk one step down, then on.
fn descend(
    tree: &Tree,
    segs: &[Segment],
    i: usize,
    steps: &mut Vec<Step>,
    out: &mut Vec<Target>,
    step: Step,
    child: &str,
) -> Result<(), Miss> {
    steps.push(step);
    let r = walk(tree, segs, i + 1, steps, child, out);
    steps.pop();
    r
}

/// Whether a problem at `diag` is about the place `target` (the same field, one inside
/// it, or the mapping or list holding it).
fn related(diag: &str, target: &str) -> bool {
    let below = |long: &str, short: &str| {
        long.strip_prefix(short)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
    };
    !diag.is_empty() && (diag == target || below(diag, target) || below(target, diag))
}

/// Name the override(s) behind an instance's problem in its hint.
fn attribute(mut d: Diagnostic, applied: &[(Vec<String>, String)]) -> Diagnostic {
    if applied.is_empty() {
        return d;
    }
    let own: Vec<&str> = applied
        .iter()
        .filter(|(targets, _)| targets.iter().any(|t| related(&d.path, t)))
        .map(|(_, label)| label.as_str())
        .collect();
    let note = if own.is_empty() {
        format!(
            "the base scenario is valid; this instance overrides {}",
            suggest::list(applied.iter().map(|(_, l)| l.as_str()), 8)
        )
    } else {
        format!("with the override {}", suggest::list(own, 8))
    };
    d.hint = Some(match d.hint {
        Some(h) => format!("{note}; {h}"),
        None => note,
    });
    d
}

#[cfg(test)]
mod tests;
