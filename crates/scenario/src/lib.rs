//! The delever scenario format: YAML in, a validated model out.
//!
//! [`Scenario::load`] reads a scenario file (and the CSV account books it names) and
//! returns a [`Scenario`]: the scenario's metadata ([`Source`]s, assumptions), a validated
//! [`delever_graph::Network`], the [`delever_engine::Shock`]s resolved to node indices, the
//! [`delever_engine::EngineConfig`] and, when the file has an `expect:` block, the
//! [`Expectations`] a regression run checks, and its [`Variant`]s (the same network with
//! other shocks, engine settings or impact laws; [`Scenario::expand`]).
//! [`Scenario::from_yaml`] does the same from text. A `monte_carlo:` block resolves to a
//! [`MonteCarlo`]: the distribution `delever mc` draws asset shocks from.
//!
//! A [`Template`] is a scenario loaded once from which sweep instances are built: each is
//! the scenario with some fields, named by [`FieldPath`]s (`holders[*].margin.maintenance`),
//! replaced by [`OverrideValue`]s and validated like a file.
//!
//! Anything wrong comes back as a [`ScenarioError`]: a list of [`Diagnostic`]s, each naming
//! the file, line and column, the field path (`holders[3].margin.maintenance`), what was
//! expected and, where it helps, a hint such as "did you mean `maintenance`?". Syntax and
//! type errors stop at the first; semantic problems (unknown ids, values out of range,
//! weights that do not sum to 1, bad CSV rows) are all reported at once, sorted by line.
//!
//! [`json_schema`] gives the JSON Schema of the format. The format itself is documented
//! in `docs/scenario-format.md`.
//!
//! How it works: the text is indexed with a span-preserving YAML parser (saphyr), which
//! also refuses alias bombs and deep nesting; it is then deserialised with `serde` into
//! format types that deny unknown keys, checked, and handed to the graph's
//! [`delever_graph::NetworkBuilder`]. The builder's problems are mapped back to the YAML
//! paths and, through the index, to lines and columns. Nothing here panics on input.

mod bless;
mod book;
mod check;
mod convert;
mod error;
mod expect;
mod index;
mod kinds;
mod limits;
mod montecarlo;
mod schema;
mod spec;
mod suggest;
mod tables;
mod teach;
mod template;
mod variant;
mod yaml;

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use bless::{BlessError, MAX_BLESSED_ROWS, expect_block, replace_expect_block};
pub use book::{
    BookFormat, BookProblem, Column, MemoryBook, MemoryBooks, MemoryTable, ROW_GROUP_ROWS,
    TableColumns, WriteError, csv_tables, write_table,
};
pub use check::CheckResult;
pub use error::{Diagnostic, ScenarioError};
pub use expect::{
    AssetExpectations, Bound, DEFAULT_REL_TOL, DayExpectations, Expectation, Expectations,
    HolderExpectations,
};
pub use limits::MAX_ROUNDS;
pub use montecarlo::{MonteCarlo, ShockDistribution};
pub use teach::{MAX_SLIDERS, Slider};
pub use template::{FieldPath, OverrideValue, PathError, Segment, Template};
pub use variant::Variant;

use convert::{Origin, Pending, Place};
use index::Index;

/// The path that means standard input: `Scenario::load(Path::new("-"))` reads the
/// scenario from stdin (once per process; later loads get the same text).
pub const STDIN_PATH: &str = "-";

/// How diagnostics name standard input.
pub const STDIN_ORIGIN: &str = "<stdin>";

/// Where a scenario's text comes from: its name in diagnostics, the directory its CSV
/// books are resolved against, the stem its name should equal, and its path.
struct TextSource {
    origin: String,
    base: PathBuf,
    stem: Option<String>,
    path: Option<PathBuf>,
}

impl TextSource {
    fn of(path: &Path) -> TextSource {
        if is_stdin(path) {
            // Piped text has no file: CSV books are relative to the current directory and
            // there is no stem for the name to match.
            return TextSource {
                origin: STDIN_ORIGIN.to_owned(),
                base: PathBuf::from("."),
                stem: None,
                path: None,
            };
        }
        TextSource {
            origin: path.display().to_string(),
            base: match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            },
            stem: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
            path: Some(path.to_path_buf()),
        }
    }
}

/// Whether `path` is [`STDIN_PATH`].
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN_PATH
}

/// Largest scenario file accepted, in bytes (64 MiB). Account books in CSV are exempt:
/// they are streamed.
pub const MAX_YAML_BYTES: u64 = 64 * 1024 * 1024;

/// A cited source of the scenario's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Id that `source:` fields refer to.
    pub id: String,
    /// Title of the publication.
    pub title: String,
    /// Where to find it.
    pub url: Option<String>,
    /// Publication date, ISO `YYYY-MM-DD` (validated).
    pub date: Option<String>,
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Scenario name (equal to the file's stem when loaded from a file).
    pub name: String,
    /// What the scenario is about.
    pub description: String,
    /// Date the figures refer to, ISO `YYYY-MM-DD` (validated).
    pub as_of: String,
    /// Cited sources; every `source:` field refers to one of these.
    pub sources: Vec<Source>,
    /// Assumptions, in plain words.
    pub assumptions: Vec<String>,
    /// The validated network.
    pub network: delever_graph::Network,
    /// Shocks, with ids resolved to indices, in file order.
    pub shocks: Vec<delever_engine::Shock>,
    /// Engine settings (defaults from [`delever_engine::EngineConfig::default`]).
    pub engine: delever_engine::EngineConfig,
    /// The `expect:` block, if any.
    pub expect: Option<Expectations>,
    /// The `variants:` block, validated; [`Scenario::variant`] and [`Scenario::expand`]
    /// turn them into scenarios.
    pub variants: Vec<Variant>,
    /// The `monte_carlo:` block, validated: the distribution `delever mc` draws asset
    /// shocks from. Variants inherit it.
    pub monte_carlo: Option<MonteCarlo>,
    /// The `teach:` block's sliders, for `delever serve` (empty when there is none).
    pub teach: Vec<Slider>,
    /// The file the scenario was loaded from, if it was.
    pub path: Option<PathBuf>,
}

impl Scenario {
    /// Load a scenario file; CSV books are resolved relative to its directory and may not
    /// leave it. The scenario's `name` must equal the file's stem. The path `-` reads
    /// standard input ([`STDIN_PATH`]; no stem, CSV books relative to the current
    /// directory, diagnostics say `<stdin>`).
    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let src = TextSource::of(path);
        let _span = tracing::info_span!("load_scenario", file = %src.origin).entered();
        let text = read_text(path)?;
        let mut scenario = parse_text(&text, &src.origin, Some(&src.base), src.stem.as_deref())?;
        scenario.path = src.path;
        Ok(scenario)
    }

    /// [`Scenario::load`] without the rule that the name equals the file's stem: a name
    /// that differs comes back as a warning (located at `name:`) for the caller to show.
    pub fn load_lenient(path: &Path) -> Result<(Scenario, Option<Diagnostic>), ScenarioError> {
        let src = TextSource::of(path);
        let _span = tracing::info_span!("load_scenario", file = %src.origin).entered();
        let text = read_text(path)?;
        let mut scenario = parse_text(&text, &src.origin, Some(&src.base), None)?;
        scenario.path = src.path;
        let warning = stem_warning(&text, &src.origin, src.stem.as_deref(), &scenario.name);
        Ok((scenario, warning))
    }

    /// Parse a scenario from text. `origin` names it in diagnostics (a file name, or
    /// something like `<stdin>`); CSV books are resolved against `base_dir`, and are an
    /// error when it is `None`. The name is not checked against a file stem.
    pub fn from_yaml(
        text: &str,
        origin: &str,
        base_dir: Option<&Path>,
    ) -> Result<Scenario, ScenarioError> {
        if text.len() as u64 > MAX_YAML_BYTES {
            return Err(too_large(origin, text.len() as u64));
        }
        if let Some(d) = nul_byte(text.as_bytes(), origin) {
            return Err(ScenarioError::one(d));
        }
        parse_text(text, origin, base_dir, None)
    }
}

/// The warning for a scenario whose `name` differs from its file's stem, located at the
/// `name:` key.
fn stem_warning(text: &str, origin: &str, stem: Option<&str>, name: &str) -> Option<Diagnostic> {
    let stem = stem?;
    if name == stem {
        return None;
    }
    let loc = index_text(text.strip_prefix('\u{feff}').unwrap_or(text), origin)
        .ok()
        .and_then(|i| i.value_or_ancestor("name"));
    Some(Diagnostic {
        line: loc.map(|l| l.line),
        column: loc.map(|l| l.column),
        path: "name".to_owned(),
        ..diag(
            origin,
            format!("the name `{name}` differs from the file's stem `{stem}`"),
            Some(&format!(
                "`delever check` refuses this: set `name: {stem}`, or rename the file to `{name}.yaml`"
            )),
        )
    })
}

/// Read a scenario file's text as [`Scenario::load`] does, for callers that want the text
/// too (a fingerprint): a regular file only (a FIFO, a device or a socket is refused
/// rather than read, so the call never blocks or reads forever), at most
/// [`MAX_YAML_BYTES`], UTF-8 without NUL bytes. Errors name the file.
///
/// The path `-` ([`STDIN_PATH`]) reads standard input instead, to its end, with the same
/// limits; it is read once and kept, so every later call returns the same text. A
/// terminal on stdin is refused (a scenario is piped in, not typed).
pub fn read_text(path: &Path) -> Result<String, ScenarioError> {
    if is_stdin(path) {
        static STDIN: std::sync::OnceLock<Result<String, ScenarioError>> =
            std::sync::OnceLock::new();
        return STDIN.get_or_init(read_stdin).clone();
    }
    let origin = path.display().to_string();
    let bytes = read_limited(path, &origin)?;
    decode(bytes, &origin)
}

/// Standard input's text, with the limits of a file.
fn read_stdin() -> Result<String, ScenarioError> {
    use std::io::IsTerminal as _;
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(ScenarioError::one(diag(
            STDIN_ORIGIN,
            "standard input is a terminal; `-` reads a scenario piped in",
            Some("pipe the scenario in (`cat my.yaml | delever run -`) or give its path"),
        )));
    }
    let mut bytes = Vec::new();
    stdin
        .lock()
        .take(MAX_YAML_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            ScenarioError::one(diag(
                STDIN_ORIGIN,
                format!("cannot read standard input: {e}"),
                None,
            ))
        })?;
    if bytes.len() as u64 > MAX_YAML_BYTES {
        return Err(too_large(STDIN_ORIGIN, bytes.len() as u64));
    }
    decode(bytes, STDIN_ORIGIN)
}

/// The JSON Schema of the scenario format (draft 2020-12), as written by `delever schema`.
///
/// Beyond key names and types it carries the ranges the loader checks, the closed sets of
/// names, and per holder kind, impact law, rule, shock and distribution type (`if`/`then`)
/// the keys required and the keys that do not apply. It is never stricter than the loader:
/// every scenario that loads validates. What only the loader checks (ids that must exist,
/// sums, CSV books, cross-field orderings) is listed in docs/scenario-format.md.
pub fn json_schema() -> serde_json::Value {
    schema::json_schema()
}

fn diag(origin: &str, message: impl Into<String>, hint: Option<&str>) -> Diagnostic {
    Diagnostic {
        file: origin.to_owned(),
        line: None,
        column: None,
        path: String::new(),
        message: message.into(),
        hint: hint.map(Into::into),
    }
}

fn too_large(origin: &str, len: u64) -> ScenarioError {
    ScenarioError::one(diag(
        origin,
        format!(
            "the file is {:.1} MiB; scenario files are limited to {} MiB",
            len as f64 / (1024.0 * 1024.0),
            MAX_YAML_BYTES / (1024 * 1024)
        ),
        Some(
            "put large account books in CSV files (`accounts_csv`, `holdings_csv`); is this the right file?",
        ),
    ))
}

/// Read at most `MAX_YAML_BYTES` (checking the size first, and again while reading, so a
/// growing file or a device cannot make us read forever).
fn read_limited(path: &Path, origin: &str) -> Result<Vec<u8>, ScenarioError> {
    let cannot = |e: &std::io::Error| {
        let hint = match e.kind() {
            std::io::ErrorKind::NotFound => Some("check the path"),
            std::io::ErrorKind::PermissionDenied => Some("check the file's permissions"),
            _ => None,
        };
        ScenarioError::one(diag(origin, format!("cannot read the file: {e}"), hint))
    };
    let meta = std::fs::metadata(path).map_err(|e| cannot(&e))?;
    if meta.is_dir() {
        return Err(ScenarioError::one(diag(
            origin,
            "this is a directory, not a scenario file",
            Some("give the path of a .yaml file"),
        )));
    }
    // Opening a FIFO blocks until something writes to it, and a device may never end:
    // only regular files are read (links to them are followed).
    if !meta.is_file() {
        return Err(ScenarioError::one(diag(
            origin,
            format!(
                "this is {}, not a regular file; scenarios are read from files only",
                special_file(&meta)
            ),
            Some("give the path of a .yaml file; save piped text to a file first"),
        )));
    }
    if meta.len() > MAX_YAML_BYTES {
        return Err(too_large(origin, meta.len()));
    }
    let file = File::open(path).map_err(|e| cannot(&e))?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(MAX_YAML_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(&e))?;
    if bytes.len() as u64 > MAX_YAML_BYTES {
        return Err(too_large(origin, bytes.len() as u64));
    }
    Ok(bytes)
}

/// What kind of special file `meta` describes, for a message: "a FIFO (named pipe)".
fn special_file(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

/// Characters that YAML 1.1 readers (libyaml, behind serde) take for line breaks and
/// YAML 1.2 readers (saphyr, behind the span index) do not. They are refused, so that
/// both readers see the same lines and every line number is the one an editor shows.
fn odd_line_break(text: &str, origin: &str) -> Option<Diagnostic> {
    if text.is_ascii() {
        return None;
    }
    let (at, c) = text
        .char_indices()
        .find(|(_, c)| matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}'))?;
    let (name, escape) = match c {
        '\u{2028}' => ("line separator", "\\L"),
        '\u{2029}' => ("paragraph separator", "\\P"),
        _ => ("next-line character", "\\N"),
    };
    let (line, col) = line_col(text.as_bytes(), at);
    Some(Diagnostic {
        line: Some(line),
        column: Some(col),
        ..diag(
            origin,
            format!(
                "the file contains a Unicode {name} (U+{:04X}); YAML readers disagree on whether it ends a line",
                u32::from(c)
            ),
            Some(&format!(
                "replace it with a newline or delete it; inside a double-quoted string, write it as `{escape}`"
            )),
        )
    })
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(bytes: &[u8], at: usize) -> (usize, usize) {
    let before = bytes.get(..at).unwrap_or(bytes);
    let line = before.split(|&b| b == b'\n').count();
    let start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(before.get(start..).unwrap_or_default())
        .chars()
        .count()
        + 1;
    (line, col)
}

fn nul_byte(bytes: &[u8], origin: &str) -> Option<Diagnostic> {
    let at = bytes.iter().position(|&b| b == 0)?;
    let (line, col) = line_col(bytes, at);
    Some(Diagnostic {
        line: Some(line),
        column: Some(col),
        ..diag(
            origin,
            "this looks like a binary file (it contains a NUL byte), not YAML text",
            Some("a scenario is a UTF-8 YAML text file; is this the right file?"),
        )
    })
}

fn decode(bytes: Vec<u8>, origin: &str) -> Result<String, ScenarioError> {
    if let Some(d) = nul_byte(&bytes, origin) {
        return Err(ScenarioError::one(d));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let (line, col) = line_col(bytes, at);
        let byte = bytes.get(at).copied().unwrap_or(0);
        ScenarioError::one(Diagnostic {
            line: Some(line),
            column: Some(col),
            ..diag(
                origin,
                format!("the file is not UTF-8 text (invalid byte 0x{byte:02x})"),
                Some("save the scenario as UTF-8; is this the right file?"),
            )
        })
    })
}

fn parse_text(
    text: &str,
    origin: &str,
    base_dir: Option<&Path>,
    stem: Option<&str>,
) -> Result<Scenario, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let parallel = text.len() >= PARALLEL_PARSE_BYTES && !may_anchor(text);
    let plan = parallel
        .then(|| yaml::split::plan(text, yaml::split::SLICE_BYTES))
        .flatten();
    let (index, spec) = if let Some(plan) = plan {
        // The holders list deserialised in slices on rayon's threads, the rest of the text
        // deserialised and checked by the index beside them (see `yaml::split` for why
        // the list needs no index of its own). Anything that does not fit is read whole,
        // as below, so refusals keep their wording and place.
        let (rest_checked, spec) = rayon::join(
            || index::build(plan.rest()).is_ok_and(|i| !i.is_empty()),
            || plan.parse(text),
        );
        match spec {
            Some(spec) if rest_checked && odd_line_break(text, origin).is_none() => {
                tracing::debug!(slices = plan.slices(), "holders read in slices");
                (Index::checked_in_parts(text), Ok(spec))
            }
            _ => {
                tracing::debug!("holders not read in slices; reading the whole text");
                let index = index_text(text, origin)?;
                (index, yaml::parse(text))
            }
        }
    } else if parallel {
        // The index's checks and serde's parse, on two threads: a large scenario loads in
        // about the time of the slower one. Safe only without anchors: the index refuses
        // alias bombs before serde would expand them, and without an anchor there is no
        // alias to expand (serde's own depth limit covers deep nesting). The result is
        // the sequential one: serde's is used only when the index accepts the text.
        let (index, spec) = std::thread::scope(|sc| {
            let parse = sc.spawn(|| yaml::parse(text));
            let index = index_text(text, origin);
            (index, parse.join())
        });
        let index = index?;
        (
            index,
            spec.unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        )
    } else {
        let index = index_text(text, origin)?;
        (index, yaml::parse(text))
    };
    let spec = spec.map_err(|f| ScenarioError::one(describe(&f, &index, origin)))?;
    finish(spec, &index, origin, &Origin::new(base_dir, stem))
}

/// Whether `text` may hold a YAML anchor: an anchor is `&` followed at once by its name,
/// so a text whose every `&` is followed by white space (or ends it) has none. `R&D` in a
/// description answers yes: the test may say yes wrongly, never no.
fn may_anchor(text: &str) -> bool {
    let b = text.as_bytes();
    b.iter()
        .enumerate()
        .any(|(i, &c)| c == b'&' && b.get(i + 1).is_some_and(|n| !n.is_ascii_whitespace()))
}

/// Scenario texts at least this long are indexed and parsed on two threads (see
/// [`parse_text`]); below it a thread costs more than it saves.
const PARALLEL_PARSE_BYTES: usize = 1 << 20;

/// Index the text (syntax, limits, locations); refuse an empty document.
pub(crate) fn index_text(text: &str, origin: &str) -> Result<Index, ScenarioError> {
    if let Some(d) = odd_line_break(text, origin) {
        return Err(ScenarioError::one(d));
    }
    let index = index::build(text).map_err(|errs| {
        if let [e] = errs.as_slice()
            && e.message.starts_with("YAML syntax error")
            && let Some(f) = yaml::syntax_error(text)
        {
            return ScenarioError::one(Diagnostic {
                file: origin.to_owned(),
                line: f.location.map(|l| l.0),
                column: f.location.map(|l| l.1),
                path: String::new(),
                message: format!("YAML syntax error: {}", f.message),
                hint: e.hint.clone(),
            });
        }
        ScenarioError::from(
            errs.into_iter()
                .map(|e| Diagnostic {
                    file: origin.to_owned(),
                    line: e.loc.map(|l| l.line),
                    column: e.loc.map(|l| l.column),
                    path: e.path,
                    message: e.message,
                    hint: e.hint,
                })
                .collect::<Vec<_>>(),
        )
    })?;
    if index.is_empty() {
        return Err(ScenarioError::one(Diagnostic {
            line: Some(1),
            column: Some(1),
            ..diag(
                origin,
                "the file is empty: a scenario needs at least `name`, `description`, `as_of` and `assets`",
                Some("see docs/scenario-format.md for a complete small example"),
            )
        }));
    }
    Ok(index)
}

/// Validate a deserialised spec and build the scenario; problems are located through
/// `index` and sorted by file and line.
pub(crate) fn finish(
    mut spec: spec::ScenarioSpec,
    index: &Index,
    origin_name: &str,
    origin: &Origin<'_>,
) -> Result<Scenario, ScenarioError> {
    let located = |pending: Vec<Pending>| {
        let mut diags: Vec<Diagnostic> = pending
            .into_iter()
            .map(|p| locate(p, index, origin_name))
            .collect();
        diags.sort_by(|a, b| {
            (a.file != origin_name, &a.file, a.line, a.column).cmp(&(
                b.file != origin_name,
                &b.file,
                b.line,
                b.column,
            ))
        });
        ScenarioError::from(diags)
    };
    // Holders from tables join the YAML holders here, and from here on are validated
    // like them; problems with them are then placed back in their tables.
    let (table_holders, placed) = tables::load(&spec, origin).map_err(located)?;
    if spec.holders.is_empty() {
        // Moved, not copied: a table of many holders is large.
        spec.holders = table_holders;
    } else {
        spec.holders.extend(table_holders);
    }
    let converted = convert::convert(&spec, origin).map_err(|pending| {
        located(
            pending
                .into_iter()
                .map(|p| placed.relocate(p, &spec.holders))
                .collect(),
        )
    })?;
    // A large scenario's holders are freed on every core (a holder has a few allocations
    // of its own).
    {
        use rayon::prelude::*;
        std::mem::take(&mut spec.holders)
            .into_par_iter()
            .with_min_len(4096)
            .for_each(drop);
    }
    Ok(Scenario {
        name: spec.name,
        description: spec.description,
        as_of: spec.as_of,
        sources: converted.sources,
        assumptions: spec.assumptions,
        network: converted.network,
        shocks: converted.shocks,
        engine: converted.engine,
        expect: converted.expect,
        variants: converted.variants,
        monte_carlo: converted.monte_carlo,
        teach: converted.teach,
        path: None,
    })
}

/// Give a semantic problem its line and column.
fn locate(p: Pending, index: &Index, origin: &str) -> Diagnostic {
    let (file, loc) = match p.place {
        Place::Value => (
            origin.to_owned(),
            index
                .value_or_ancestor(&p.path)
                .map(|l| (l.line, Some(l.column))),
        ),
        Place::Key => (
            origin.to_owned(),
            index
                .key_or_ancestor(&p.path)
                .map(|l| (l.line, Some(l.column))),
        ),
        Place::File { file, line, column } => (file, line.map(|l| (l, column))),
    };
    let hint = p.hint.or_else(|| fallback_hint(&p.path, &p.message));
    Diagnostic {
        file,
        line: loc.map(|l| l.0),
        column: loc.and_then(|l| l.1),
        path: p.path,
        message: p.message,
        hint,
    }
}

/// A hint for a problem that came without one: what the field holds, and that it cannot
/// be negative when that is what went wrong.
fn fallback_hint(path: &str, message: &str) -> Option<String> {
    let key = last_key(path);
    let help = field_help(key);
    let sign = if message.contains("> 0") {
        Some("it must be positive")
    } else if message.contains("≥ 0") {
        Some("it cannot be negative")
    } else {
        None
    };
    match (sign, help) {
        (Some(s), Some(h)) => Some(format!("{s}; `{key}` is {h}")),
        (Some(s), None) => Some(s.to_owned()),
        (None, Some(h)) => Some(format!("`{key}`: {h}")),
        (None, None) => None,
    }
}

/// Names between backticks, in order: `` `a`, `b` `` → [a, b].
fn backticked(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// A readable name for serde's "expected …" (`f64` → "a number").
fn friendly_expected(e: &str) -> String {
    match e {
        "f64" | "f32" | "a finite number" => "a number".into(),
        "u64" | "u32" | "usize" => "a whole number ≥ 0".into(),
        "a boolean" => "true or false".into(),
        "a sequence" => "a list".into(),
        "a map" => "a mapping (`key: value` pairs)".into(),
        _ if e.starts_with("struct ") => "a mapping (`key: value` pairs)".into(),
        _ => e.to_owned(),
    }
}

/// A readable name for serde's "invalid type: …" (`map` → "a mapping").
fn friendly_found(f: &str) -> String {
    if let Some(s) = f.strip_prefix("string ") {
        return format!("the string {s}");
    }
    for (prefix, name) in [
        ("integer ", "the number "),
        ("floating point ", "the number "),
        ("boolean ", ""),
    ] {
        if let Some(v) = f.strip_prefix(prefix) {
            return format!("{name}{}", v.trim_matches('`'));
        }
    }
    match f {
        "map" => "a mapping".into(),
        "sequence" => "a list".into(),
        "unit value" => "an empty value (null)".into(),
        _ => f.to_owned(),
    }
}

/// What a key holds, for hints on type errors and missing keys.
fn field_help(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => {
            "the scenario's name, equal to the file's stem, e.g. `name: semis-sentiment-reversal`"
        }
        "description" => "a few sentences on what the scenario is about",
        "as_of" | "date" => "an ISO date, e.g. `2026-05-29`",
        "id" => "a unique id, e.g. `id: NVDA`",
        "title" => "the source's title, in quotes if it has a colon",
        "price" => "the price in USD per share, e.g. `price: 180.0`",
        "shares_outstanding" => {
            "the number of shares outstanding, e.g. `shares_outstanding: 2.43e10`"
        }
        "adv_usd" => "average daily volume in USD, e.g. `adv_usd: 4.0e10`",
        "daily_vol" => "daily return volatility as a fraction, e.g. `daily_vol: 0.025`",
        "beta" => "market beta, e.g. `beta: 2.1`",
        "duration" => "cash-flow duration in years, e.g. `duration: 8`",
        "cash" | "other_assets" | "other_liabilities" | "capital" | "nav" | "amount" | "loan"
        | "usd" => "an amount in USD, a plain number such as `5.0e8` (no `$`, no `B`)",
        "maintenance" => {
            "maintenance margin as a fraction in (0, 1], e.g. `maintenance: 0.30` (FINRA minimum 0.25)"
        }
        "reset" => {
            "the equity fraction a called account is restored to, in [maintenance, 1], e.g. `reset: 0.5`"
        }
        "cure_rate" => {
            "the share of margin calls met with fresh cash, in [0, 1], e.g. `cure_rate: 0.2`"
        }
        "lender" => "a lender's id, e.g. `lender: ib`",
        "asset" => "an asset's id, e.g. `asset: NVDA`",
        "holder" => "a holder's id",
        "creditor" => "the id of the holder or lender owed",
        "shares" => "a number of shares, e.g. `shares: 1.0e6`",
        "kind" => kinds::one_of(),
        "law" => "one of linear, exponential, square_root, cont_schaanning",
        "type" => {
            "the rule or shock type, e.g. `type: leverage_target` or `type: asset`; an option's is `call` or `put`"
        }
        "side" => "the dealer's side of an option line: `long` or `short`",
        "strike" => "the option's strike in USD per share, e.g. `strike: 210`",
        "expiry_days" => "trading days to expiry, e.g. `expiry_days: 21` for a month",
        "implied_vol" => "annual implied volatility as a fraction, e.g. `implied_vol: 0.45`",
        "usd_per_pct" => {
            "the dealer's dollar gamma per 1% move in USD, negative when short gamma, e.g. `usd_per_pct: -2.0e8`"
        }
        "target_vol" | "realised_vol" => "an annual volatility as a fraction, e.g. `0.10` for 10%",
        "half_life_days" => "a half-life in trading days, e.g. `half_life_days: 20`",
        "max_leverage" => "a cap on exposure / NAV, e.g. `max_leverage: 2`",
        "band" => "a fraction in [0, 1), e.g. `band: 0.05`",
        "lag_days" | "days" => "a whole number of trading days, e.g. `21`",
        "weight" => "a weight > 0 in the signal, e.g. `weight: 1`",
        "max_usd" => "the position at full signal in USD, e.g. `max_usd: 2.0e9`",
        "past_returns" => {
            "the asset's return over each lookback, in their order, e.g. `past_returns: [0.05, 0.12, 0.60]`"
        }
        "options" => {
            "a list such as `[{ asset: NVDA, type: call, strike: 210, expiry_days: 10, implied_vol: 0.5, shares: 1.0e7, side: short }]`"
        }
        "gamma" => "a list such as `[{ asset: NVDA, usd_per_pct: -2.0e8 }]`",
        "lookbacks" => "a list such as `[{ days: 21 }, { days: 63 }, { days: 252 }]`",
        "markets" => {
            "a list such as `[{ asset: NVDA, max_usd: 2.0e9, past_returns: [0.05, 0.12, 0.60] }]`"
        }
        "return" => "a return as a fraction: `return: -0.10` is a 10% fall",
        "delta" => "a change in the discount rate as a fraction: `delta: 0.01` is +100 bp",
        "fraction" | "by" | "share" | "ltv" | "min_ratio" => "a fraction, e.g. `0.05` for 5%",
        "accounts" => "a whole number of accounts, e.g. `accounts: 1200000`",
        "multiple" => "the leverage multiple, e.g. `multiple: 3` or `multiple: -3`",
        "target" | "max" => "a leverage (assets/equity), e.g. `3.0`",
        "max_rounds" => "a whole number of rounds ≥ 1, e.g. `max_rounds: 1000`",
        "tolerance" => "a small positive number, e.g. `tolerance: 1e-10`",
        "damping" => "a weight in (0, 1], e.g. `damping: 1.0`",
        "least_fixed_point" | "symmetric" | "starts_insolvent" => "`true` or `false`",
        "mode" => {
            "`equilibrium` (the fixed point, default), `sequential` (rounds) or `timeline` (days)"
        }
        "glt" => "`exact` (Greenwood–Landier–Thesmar's linear accounting) or `cascade` (default)",
        "settlement" => {
            "`at_settlement` (default) or `at_next_decision` (INET's timing), with `mode: sequential`"
        }
        "default_below_ratio" => {
            "an equity/assets ratio as a fraction, e.g. `default_below_ratio: 0.03` (insolvent below a 3% leverage ratio)"
        }
        "variants" => {
            "a list of variants, e.g. `- { name: gov-10pct, shocks: [ … ], expect: { … } }`"
        }
        "tags" | "assumptions" => "a list of strings, e.g. `[semis, ai]`",
        "holdings" => "a list such as `[{ asset: NVDA, shares: 1.0e6 }]`",
        "sources" | "assets" | "holders" | "lenders" | "shocks" => {
            "a list of mappings, one `- ` item each"
        }
        "basket" => "asset id → weight, e.g. `basket: { NVDA: 0.6, AMD: 0.4 }`",
        "status" => {
            "a status (unaffected, sold, bought, margin_call, liquidated, defaulted) or a list of them"
        }
        _ => return None,
    })
}

fn last_key(path: &str) -> &str {
    let p = path.trim_end_matches(|c: char| c == ']' || c.is_ascii_digit());
    let p = p.strip_suffix('[').unwrap_or(p);
    p.rsplit('.').next().unwrap_or(p)
}

/// Turn serde's first error into a diagnostic with a readable message and a hint.
pub(crate) fn describe(f: &yaml::SerdeFailure, index: &Index, origin: &str) -> Diagnostic {
    let mut path = f.path.clone();
    let (message, hint, at_key) = explain(&f.message, &mut path);
    let hint = hint.or_else(|| fallback_hint(&path, &message));
    let loc = if at_key {
        index.key_or_ancestor(&path)
    } else {
        index.value_or_ancestor(&path)
    };
    let (line, column) = match (loc, f.location) {
        (Some(l), _) => (Some(l.line), Some(l.column)),
        (None, Some((l, c))) => (Some(l), Some(c)),
        (None, None) => (None, None),
    };
    Diagnostic {
        file: origin.to_owned(),
        line,
        column,
        path,
        message,
        hint,
    }
}

/// serde's message → (message, hint, whether it is about the key rather than the value).
/// A missing key is appended to `path`.
fn explain(msg: &str, path: &mut String) -> (String, Option<String>, bool) {
    if let Some(rest) = msg.strip_prefix("unknown field `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let keys = backticked(expected);
        let hint = suggest::did_you_mean(name, keys.iter().copied()).map_or_else(
            || "remove it, or check its indentation: it may belong to another mapping".to_owned(),
            |k| format!("did you mean `{k}`?"),
        );
        let expected = if keys.is_empty() {
            "this mapping takes no keys".to_owned()
        } else {
            format!(
                "expected one of {}",
                suggest::list(keys.iter().copied(), 40)
            )
        };
        return (
            format!("unknown key `{name}`; {expected}"),
            Some(hint),
            true,
        );
    }
    if let Some(rest) = msg.strip_prefix("unknown variant `") {
        let (name, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let values = backticked(expected);
        let hint = suggest::did_you_mean(name, values.iter().copied())
            .map(|k| format!("did you mean `{k}`?"));
        let message = format!(
            "unknown value `{name}` for `{}`; expected one of {}",
            last_key(path),
            suggest::list(values.iter().copied(), 40)
        );
        return (message, hint, false);
    }
    if let Some(rest) = msg.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or(rest);
        *path = index::join_key(path, name);
        let hint = field_help(name).map(|h| format!("`{name}`: {h}"));
        return (format!("missing required key `{name}`"), hint, false);
    }
    let help = || field_help(last_key(path)).map(|h| format!("`{}`: {h}", last_key(path)));
    if let Some(rest) = msg.strip_prefix("invalid type: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        if path.is_empty() {
            let message = format!(
                "expected a mapping of scenario keys (`name`, `description`, `as_of`, `assets`, …), found {}",
                friendly_found(found)
            );
            let hint = "a scenario is a mapping: `name: …`, `description: …`, `as_of: …`, `assets: […]`; see docs/scenario-format.md";
            return (message, Some(hint.to_owned()), false);
        }
        let message = {
            format!(
                "expected {}, found {}",
                friendly_expected(expected),
                friendly_found(found)
            )
        };
        let hint = help().or_else(|| {
            (expected == "f64").then(|| {
                "write a plain number, e.g. `0.30` or `1.2e9` (no `%`, `$` or units)".to_owned()
            })
        });
        return (message, hint, false);
    }
    if let Some(rest) = msg.strip_prefix("invalid value: ") {
        let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let message = format!(
            "expected {}, found {}",
            friendly_expected(expected),
            friendly_found(found)
        );
        return (message, help(), false);
    }
    if msg.starts_with("expected a finite number") {
        let hint = "numbers must be finite: `.nan`, `.inf` and `-.inf` are not allowed";
        return (msg.to_owned(), Some(hint.to_owned()), false);
    }
    if msg.contains("repetition limit exceeded") || msg.contains("recursion limit exceeded") {
        return (
            format!("the document is too deeply nested or its aliases expand too far ({msg})"),
            Some("write the values out instead of nesting aliases".to_owned()),
            false,
        );
    }
    (msg.to_owned(), None, false)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeline_tests;
