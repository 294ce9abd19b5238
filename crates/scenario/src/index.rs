//! A path → line:column index of a YAML document, built from saphyr's marked events.
//!
//! `serde` tells *what* is wrong and at which field path; this index tells *where* that
//! path is in the file, so that semantic problems found long after parsing (an unknown id,
//! a sum that does not add up) can still name a line and column.
//!
//! The index never expands aliases: an alias is a leaf at the place it is written. It
//! still measures how far the aliases *would* expand, in nodes and in bytes of text, and
//! refuses documents that would blow up (billion laughs, or one long string aliased a
//! thousand times) or nest too deeply, before anything else reads them. It also refuses
//! YAML tags (`!!str 200`, `!!binary`): the format has numbers, strings, lists and
//! mappings, and a tag would change what a value is without changing how it looks.

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, OnceLock};

use saphyr_parser::{Event, Parser, ScanError, Span, Tag};

/// Deepest nesting of mappings and sequences accepted. A scenario needs about eight.
pub(crate) const MAX_DEPTH: usize = 64;

/// Aliases may add at most this many nodes, or ten times the document's own node count,
/// whichever is larger, when expanded.
const MAX_ALIAS_EXPANSION: u64 = 100_000;

/// Aliases may add at most this many bytes of text, or the document's own size, whichever
/// is larger, when expanded: a scenario aliases a basket or an impact law, not megabytes.
pub(crate) const MAX_ALIAS_BYTES: u64 = 16 * 1024 * 1024;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Loc {
    pub line: usize,
    pub column: usize,
}

impl Loc {
    fn of(span: &Span) -> Loc {
        Loc {
            line: span.start.line(),
            column: span.start.col() + 1,
        }
    }
}

/// Where a node is: its key (for mapping values) and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Node {
    pub key: Option<Loc>,
    pub value: Loc,
}

/// A problem found while indexing: a syntax error, a duplicate key, a limit passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IndexError {
    pub loc: Option<Loc>,
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

/// Field path → location, for every node of the document.
///
/// Only the checks run when the index is built; the path map is built on the first
/// lookup, from a copy of the text. Lookups are made only to locate a problem, so a
/// document that loads cleanly never pays for a map of millions of paths (it was most of
/// the load time and memory of a 100,000-bank scenario, issue 15).
#[derive(Debug, Default)]
pub(crate) struct Index {
    text: Arc<str>,
    nodes: OnceLock<BTreeMap<String, Node>>,
    empty: bool,
}

impl Index {
    /// The path map, built on first use. The text passed the checks when the index was
    /// built, and the same text gives the same events, so the recording run succeeds;
    /// were it to fail, lookups would find nothing and problems go unlocated.
    fn nodes(&self) -> &BTreeMap<String, Node> {
        self.nodes
            .get_or_init(|| run(&self.text, true).map(|b| b.paths).unwrap_or_default())
    }

    /// The node at exactly this path.
    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<Node> {
        self.nodes().get(path).copied()
    }

    /// Where the value at `path` is, or failing that where its nearest written ancestor is.
    pub fn value_or_ancestor(&self, path: &str) -> Option<Loc> {
        let nodes = self.nodes();
        let mut p = path;
        loop {
            if let Some(n) = nodes.get(p) {
                return Some(n.value);
            }
            if p.is_empty() {
                return None;
            }
            p = parent(p);
        }
    }

    /// Where the key of `path` is (its value when it has no key), or its nearest ancestor.
    pub fn key_or_ancestor(&self, path: &str) -> Option<Loc> {
        match self.nodes().get(path) {
            Some(n) => Some(n.key.unwrap_or(n.value)),
            None => self.value_or_ancestor(path),
        }
    }
}

/// The path one level up: `a.b[3]` → `a.b`, `a.b` → `a`, `a` → the root (empty path).
pub(crate) fn parent(path: &str) -> &str {
    if path.ends_with(']')
        && let Some(i) = path.rfind('[')
    {
        return &path[..i];
    }
    match path.rfind('.') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// `parent.key` (or `key` at the root).
pub(crate) fn join_key(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// `parent[i]`.
pub(crate) fn join_index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

enum Frame {
    Map {
        path: String,
        key: Option<(String, Loc)>,
        keys: BTreeSet<String>,
        /// Hashes of the keys, in place of `keys` when paths are not recorded.
        hashes: BTreeSet<u64>,
        anchor: usize,
        start: Size,
    },
    Seq {
        path: String,
        next: usize,
        anchor: usize,
        start: Size,
    },
    /// A collection used as a mapping key: nothing inside it gets a path.
    KeyCollection {
        anchor: usize,
        start: Size,
        loc: Loc,
    },
}

/// How much of the document there is with every alias expanded: nodes, and bytes of
/// scalar text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Size {
    nodes: u64,
    bytes: u64,
}

impl Size {
    fn minus(self, start: Size) -> Size {
        Size {
            nodes: self.nodes.saturating_sub(start.nodes),
            bytes: self.bytes.saturating_sub(start.bytes),
        }
    }
}

/// What a new node is to its parent.
enum Role {
    Key,
    Value(String, Option<Loc>),
    Ignored,
}

struct Builder {
    /// Whether to build paths and record every node (else only check).
    record: bool,
    paths: BTreeMap<String, Node>,
    stack: Vec<Frame>,
    duplicates: Vec<IndexError>,
    /// Node events seen.
    nodes: u64,
    /// The document's size with every alias expanded.
    expanded: Size,
    /// Bytes of text the aliases add.
    alias_bytes: u64,
    /// Bytes of text aliases may add.
    max_alias_bytes: u64,
    /// Expanded size of each anchored node; `None` while the node is still open.
    anchors: Vec<Option<Size>>,
    documents: usize,
    /// The document's root is a collection or a non-null scalar.
    root_content: bool,
}

fn fatal(loc: Loc, path: &str, message: impl Into<String>, hint: Option<&str>) -> IndexError {
    IndexError {
        loc: Some(loc),
        path: path.to_owned(),
        message: message.into(),
        hint: hint.map(Into::into),
    }
}

impl Builder {
    fn current_path(&self) -> &str {
        match self.stack.last() {
            Some(Frame::Map { path, .. } | Frame::Seq { path, .. }) => path,
            _ => "",
        }
    }

    /// Decide where a node goes; `key_text` is its text if it is a scalar.
    fn role(&mut self, key_text: Option<&str>, loc: Loc) -> Role {
        match self.stack.last_mut() {
            None => Role::Value(String::new(), None),
            Some(Frame::KeyCollection { .. }) => Role::Ignored,
            Some(Frame::Seq { path, next, .. }) => {
                let p = if self.record {
                    join_index(path, *next)
                } else {
                    String::new()
                };
                *next += 1;
                Role::Value(p, None)
            }
            Some(Frame::Map {
                path,
                key,
                keys,
                hashes,
                ..
            }) => {
                if let Some((k, kloc)) = key.take() {
                    let p = if self.record {
                        join_key(path, &k)
                    } else {
                        String::new()
                    };
                    Role::Value(p, Some(kloc))
                } else if !self.record {
                    // Checking only: a repeated hash is reported as a duplicate, and the
                    // caller then records to report it exactly (or find it was a collision).
                    if let Some(text) = key_text {
                        let mut h = DefaultHasher::new();
                        text.hash(&mut h);
                        if !hashes.insert(h.finish()) {
                            self.duplicates.push(fatal(loc, "", "duplicate key", None));
                        }
                        *key = Some((String::new(), loc));
                    }
                    Role::Key
                } else {
                    if let Some(text) = key_text {
                        if !keys.insert(text.to_owned()) {
                            let p = join_key(path, text);
                            let first = self
                                .paths
                                .get(&p)
                                .and_then(|n| n.key)
                                .map_or(String::new(), |l| format!(" (first at line {})", l.line));
                            self.duplicates.push(fatal(
                                loc,
                                &p,
                                format!("duplicate key `{text}`{first}"),
                                Some("each key may appear once in a mapping; remove or rename one"),
                            ));
                        }
                        *key = Some((text.to_owned(), loc));
                    }
                    Role::Key
                }
            }
        }
    }

    fn record(&mut self, role: Role, loc: Loc) {
        if let Role::Value(path, key) = role
            && self.record
        {
            self.paths.entry(path).or_insert(Node { key, value: loc });
        }
    }

    /// Count a node written in the document, with `bytes` of scalar text.
    fn count(&mut self, loc: Loc, bytes: usize) -> Result<(), IndexError> {
        self.nodes += 1;
        self.expanded.nodes = self.expanded.nodes.saturating_add(1);
        self.expanded.bytes = self.expanded.bytes.saturating_add(bytes as u64);
        self.check_expansion(loc)
    }

    fn check_expansion(&self, loc: Loc) -> Result<(), IndexError> {
        if self.alias_bytes > self.max_alias_bytes {
            return Err(fatal(
                loc,
                self.current_path(),
                format!(
                    "aliases expand this document by more than {} MiB of text (an alias bomb?)",
                    self.max_alias_bytes / (1024 * 1024)
                ),
                Some("write the values out, or alias only small values"),
            ));
        }
        let allowed = self
            .nodes
            .saturating_mul(10)
            .max(MAX_ALIAS_EXPANSION)
            .saturating_add(self.nodes);
        if self.expanded.nodes > allowed {
            return Err(fatal(
                loc,
                self.current_path(),
                format!(
                    "aliases expand this document to more than {allowed} nodes (an alias bomb?)"
                ),
                Some("write the values out, or use fewer nested aliases"),
            ));
        }
        Ok(())
    }

    fn open_anchor(&mut self, anchor: usize) {
        if anchor > 0 {
            if self.anchors.len() <= anchor {
                self.anchors.resize(anchor + 1, None);
            }
            if let Some(slot) = self.anchors.get_mut(anchor) {
                *slot = None;
            }
        }
    }

    fn close_anchor(&mut self, anchor: usize, start: Size) {
        if anchor > 0 {
            if self.anchors.len() <= anchor {
                self.anchors.resize(anchor + 1, None);
            }
            if let Some(slot) = self.anchors.get_mut(anchor) {
                *slot = Some(self.expanded.minus(start));
            }
        }
    }

    /// A tagged node: refused, at the node, with the path it would have had.
    fn tagged(&self, tag: &Tag, loc: Loc) -> IndexError {
        let shown = if tag.is_yaml_core_schema() {
            format!("!!{}", tag.suffix)
        } else {
            tag.to_string()
        };
        let path = match self.stack.last() {
            Some(Frame::Map {
                path,
                key: Some((k, _)),
                ..
            }) => join_key(path, k),
            Some(Frame::Seq { path, next, .. }) => join_index(path, *next),
            _ => self.current_path().to_owned(),
        };
        fatal(
            loc,
            &path,
            format!(
                "YAML tags are not accepted, found `{}`",
                crate::error::clip(&shown)
            ),
            Some(
                "remove the tag: write numbers plainly (`price: 200`) and put strings in quotes (`id: \"200\"`)",
            ),
        )
    }

    fn push(&mut self, frame: Frame, loc: Loc) -> Result<(), IndexError> {
        if self.stack.len() >= MAX_DEPTH {
            let path = self.current_path();
            let short = match path.char_indices().nth(40) {
                Some((i, _)) => format!("{}…", &path[..i]),
                None => path.to_owned(),
            };
            return Err(fatal(
                loc,
                &short,
                format!("the document nests deeper than {MAX_DEPTH} levels"),
                Some("a scenario needs only a few levels of nesting; is this the right file?"),
            ));
        }
        self.stack.push(frame);
        Ok(())
    }

    fn start_collection(
        &mut self,
        is_map: bool,
        anchor: usize,
        loc: Loc,
    ) -> Result<(), IndexError> {
        if self.stack.is_empty() {
            self.root_content = true;
        }
        let start = self.expanded;
        self.count(loc, 0)?;
        self.open_anchor(anchor);
        let role = self.role(None, loc);
        let frame = match &role {
            Role::Key | Role::Ignored => Frame::KeyCollection { anchor, start, loc },
            Role::Value(path, _) if is_map => Frame::Map {
                path: path.clone(),
                key: None,
                keys: BTreeSet::new(),
                hashes: BTreeSet::new(),
                anchor,
                start,
            },
            Role::Value(path, _) => Frame::Seq {
                path: path.clone(),
                next: 0,
                anchor,
                start,
            },
        };
        // A collection used as a key gives its parent map the key `?` when it closes
        // (see `end_collection`); nothing inside it gets a path.
        self.record(role, loc);
        self.push(frame, loc)
    }

    fn end_collection(&mut self) {
        let Some(frame) = self.stack.pop() else {
            return;
        };
        let (anchor, start, key_loc) = match frame {
            Frame::Map { anchor, start, .. } | Frame::Seq { anchor, start, .. } => {
                (anchor, start, None)
            }
            Frame::KeyCollection { anchor, start, loc } => (anchor, start, Some(loc)),
        };
        self.close_anchor(anchor, start);
        if let (Some(loc), Some(Frame::Map { key, .. })) = (key_loc, self.stack.last_mut())
            && key.is_none()
        {
            *key = Some(("?".to_owned(), loc));
        }
    }

    fn event(&mut self, event: &Event<'_>, span: &Span) -> Result<(), IndexError> {
        let loc = Loc::of(span);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(fatal(
                        loc,
                        "",
                        "the file holds more than one YAML document",
                        Some("a scenario is one document: remove the second `---`"),
                    ));
                }
            }
            Event::Scalar(text, _, anchor, tag) => {
                if let Some(tag) = tag {
                    return Err(self.tagged(tag, loc));
                }
                if self.stack.is_empty() {
                    self.root_content =
                        !matches!(text.as_ref(), "" | "~" | "null" | "Null" | "NULL");
                }
                let start = self.expanded;
                self.count(loc, text.len())?;
                let role = self.role(Some(text), loc);
                self.record(role, loc);
                if *anchor > 0 {
                    self.open_anchor(*anchor);
                    self.close_anchor(*anchor, start);
                }
            }
            Event::Alias(anchor) => {
                let size = match self.anchors.get(*anchor) {
                    Some(Some(size)) => *size,
                    _ => {
                        return Err(fatal(
                            loc,
                            self.current_path(),
                            "this alias refers to a node that contains it",
                            Some("recursive structures cannot be a scenario"),
                        ));
                    }
                };
                self.nodes += 1;
                self.expanded.nodes = self.expanded.nodes.saturating_add(size.nodes);
                self.expanded.bytes = self.expanded.bytes.saturating_add(size.bytes);
                self.alias_bytes = self.alias_bytes.saturating_add(size.bytes);
                self.check_expansion(loc)?;
                let role = self.role(Some("*alias"), loc);
                self.record(role, loc);
            }
            Event::MappingStart(_, Some(tag)) | Event::SequenceStart(_, Some(tag)) => {
                return Err(self.tagged(tag, loc));
            }
            Event::MappingStart(anchor, None) => self.start_collection(true, *anchor, loc)?,
            Event::SequenceStart(anchor, None) => self.start_collection(false, *anchor, loc)?,
            Event::MappingEnd | Event::SequenceEnd => self.end_collection(),
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }
}

fn syntax(e: &ScanError) -> IndexError {
    if e.info().contains("recursion limit exceeded") {
        // saphyr's own guard on flow nesting (`[[[[…`), which it may hit while scanning
        // ahead of the events that would reach ours.
        return IndexError {
            loc: Some(Loc {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            }),
            path: String::new(),
            message: format!("the document nests deeper than {MAX_DEPTH} levels"),
            hint: Some(
                "a scenario needs only a few levels of nesting; is this the right file?".into(),
            ),
        };
    }
    IndexError {
        loc: Some(Loc {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        }),
        path: String::new(),
        message: format!("YAML syntax error: {}", e.info()),
        hint: Some(
            "check the indentation (spaces, not tabs), the brackets and the quoting around here"
                .into(),
        ),
    }
}

/// Index `text`, or say why it cannot be read: a syntax error (fatal, one), limits passed
/// (fatal, one), or duplicate keys (all of them). An empty document is not an error here;
/// [`Index::is_empty`] tells.
pub(crate) fn build(text: &str) -> Result<Index, Vec<IndexError>> {
    let checked = match run(text, false) {
        Ok(b) => b,
        // Checking found a problem: run again recording paths, to report it exactly.
        Err(_) => run(text, true)?,
    };
    Ok(Index {
        text: Arc::from(text),
        empty: !checked.root_content,
        nodes: if checked.record {
            OnceLock::from(checked.paths)
        } else {
            OnceLock::new()
        },
    })
}

/// One pass over the events of `text`: checks, and with `record` every node's path.
fn run(text: &str, record: bool) -> Result<Builder, Vec<IndexError>> {
    let mut b = Builder {
        record,
        paths: BTreeMap::new(),
        stack: Vec::new(),
        duplicates: Vec::new(),
        nodes: 0,
        expanded: Size::default(),
        alias_bytes: 0,
        max_alias_bytes: (text.len() as u64).max(MAX_ALIAS_BYTES),
        anchors: Vec::new(),
        documents: 0,
        root_content: false,
    };
    for item in Parser::new_from_str(text) {
        match item {
            Ok((event, span)) => b.event(&event, &span).map_err(|e| vec![e])?,
            Err(e) => return Err(vec![syntax(&e)]),
        }
    }
    if b.duplicates.is_empty() {
        Ok(b)
    } else {
        Err(b.duplicates)
    }
}

impl Index {
    /// The index of `text` whose checks were made in parts: the holders list of a large
    /// scenario by libyaml and serde slice by slice, the rest by [`build`] on the text
    /// without the list (see `yaml::split`). Its path map is built from the whole text
    /// when a problem must be located, as for any index.
    pub(crate) fn checked_in_parts(text: &str) -> Index {
        Index {
            text: Arc::from(text),
            nodes: OnceLock::new(),
            empty: false,
        }
    }

    /// Whether the document has no content at all (only comments or whitespace, or
    /// an explicit null).
    pub fn is_empty(&self) -> bool {
        self.empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    fn at(index: &Index, path: &str) -> (usize, usize) {
        let n = index.get(path).expect(path);
        (n.value.line, n.value.column)
    }

    #[test]
    fn paths_and_locations() {
        let text = "a:\n  b: [1, 2]\n  c:\n    - x: 1\n      y: 2\n";
        let ix = build(text).expect("valid");
        assert_eq!(at(&ix, "a.b[1]"), (2, 10));
        assert_eq!(at(&ix, "a.c[0].y"), (5, 10));
        let n = ix.get("a.c[0].y").expect("y");
        assert_eq!(n.key, Some(Loc { line: 5, column: 7 }));
        assert_eq!(
            ix.value_or_ancestor("a.c[0].z"),
            Some(Loc { line: 4, column: 7 })
        );
        assert_eq!(
            ix.key_or_ancestor("a.c[0].y"),
            Some(Loc { line: 5, column: 7 })
        );
    }

    #[test]
    fn a_clean_document_builds_its_path_map_only_when_asked() {
        let ix = build("a: [1, 2]\n").expect("valid");
        assert!(ix.nodes.get().is_none(), "no paths for a clean load");
        assert_eq!(
            ix.value_or_ancestor("a[1]"),
            Some(Loc { line: 1, column: 8 })
        );
        assert!(ix.nodes.get().is_some());
    }

    #[test]
    fn parent_paths() {
        assert_eq!(parent("a.b[3]"), "a.b");
        assert_eq!(parent("a.b"), "a");
        assert_eq!(parent("a"), "");
        assert_eq!(parent(""), "");
    }

    #[test]
    fn duplicate_keys_are_all_reported() {
        let errs = build("a: 1\nb: 2\na: 3\nb: 4\n").expect_err("dups");
        assert_eq!(errs.len(), 2);
        assert!(
            errs[0]
                .message
                .contains("duplicate key `a` (first at line 1)")
        );
        assert_eq!(errs[1].loc, Some(Loc { line: 4, column: 1 }));
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            let refs = vec![format!("*a{p}"); 10].join(", ");
            writeln!(text, "a{i}: &a{i} [{refs}]").expect("write to a string");
        }
        let errs = build(&text).expect_err("bomb");
        assert!(errs[0].message.contains("alias bomb"), "{errs:?}");
    }

    #[test]
    fn a_long_string_aliased_many_times_is_refused() {
        // 200 KB × 2,000 aliases = 400 MB of text, in 2,000 nodes: few nodes, many bytes.
        let mut text = format!("s: &s \"{}\"\nl: [", "x".repeat(200_000));
        for _ in 0..2000 {
            text.push_str("*s, ");
        }
        text.push_str("]\n");
        let t = std::time::Instant::now();
        let errs = build(&text).expect_err("bomb");
        assert!(t.elapsed().as_secs_f64() < 1.0, "{:?}", t.elapsed());
        assert!(
            errs[0].message.contains("more than 16 MiB of text"),
            "{errs:?}"
        );
        assert_eq!(errs[0].path, "l");
        // The 84th alias passes 16 MiB: the refusal comes there, not at the end.
        assert_eq!(errs[0].loc.map(|l| l.line), Some(2));
        // A few aliases of a long string are fine (up to the document's own size).
        let ok = format!("s: &s \"{}\"\nl: [*s, *s]\n", "x".repeat(200_000));
        assert!(build(&ok).is_ok());
    }

    #[test]
    fn tags_are_refused_where_they_are() {
        for (text, path, tag) in [
            ("a:\n  price: !!str 200\n", "a.price", "!!str"),
            ("a: [1, !!binary AAAA]\n", "a[1]", "!!binary"),
            ("a: !thing { x: 1 }\n", "a", "!thing"),
            ("a: !!seq [1]\n", "a", "!!seq"),
        ] {
            let errs = build(text).expect_err(text);
            assert_eq!(errs.len(), 1, "{errs:?}");
            assert_eq!(errs[0].path, path, "{text}");
            assert!(
                errs[0].message.contains(&format!("found `{tag}`")),
                "{errs:?}"
            );
            assert!(
                errs[0]
                    .hint
                    .as_deref()
                    .unwrap_or("")
                    .contains("remove the tag")
            );
        }
        // A `!` inside a quoted string is text, not a tag.
        assert!(build("a: \"!!str 200\"\n").is_ok());
    }

    #[test]
    fn modest_aliases_are_fine() {
        let ix = build("base: &b {x: 1, y: 2}\nother: *b\n").expect("valid");
        assert!(ix.get("other").is_some());
    }

    #[test]
    fn deep_nesting_is_refused() {
        let flow = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        let mut block = String::new();
        for i in 0..200 {
            block.push_str(&" ".repeat(i));
            block.push_str("k:\n");
        }
        let mut dashes = String::new();
        for i in 0..200 {
            dashes.push_str(&" ".repeat(2 * i));
            dashes.push_str("-\n");
        }
        for text in [flow, block, dashes] {
            let errs = build(&text).expect_err("deep");
            assert!(errs[0].message.contains("deeper than 64"), "{errs:?}");
        }
        let ok = format!("{}1{}", "[".repeat(60), "]".repeat(60));
        assert!(build(&ok).is_ok());
    }

    #[test]
    fn syntax_errors_have_locations() {
        let errs = build("a: [1, 2\nb: 3\n").expect_err("syntax");
        assert!(errs[0].message.starts_with("YAML syntax error"));
        assert!(errs[0].loc.is_some());
    }

    #[test]
    fn empty_documents() {
        assert!(build("").expect("ok").is_empty());
        assert!(build("# only a comment\n").expect("ok").is_empty());
        assert!(build("~").expect("ok").is_empty());
        assert!(!build("a: 1").expect("ok").is_empty());
        assert!(!build("hello").expect("ok").is_empty());
    }
}
