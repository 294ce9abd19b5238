//! CSV account books: resolving their paths against the scenario's directory (never
//! leaving it), loading them, and keeping them for the instances of a sweep template.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use delever_graph::AccountBook;

use super::cx::{Cx, pending};
use super::{Origin, Place};
use crate::book::{self, AssetLookup, BookFiles, BookFormat, MemoryBook};
use crate::index::join_key;
use crate::spec::{KindName, ScenarioSpec};

/// Account books loaded once and reused by the instances of a sweep template, keyed by
/// everything a book's content depends on: the two paths as written and the asset ids'
/// indices (the `asset` column is resolved through them).
#[derive(Debug, Clone, Default)]
pub(crate) struct BookCache {
    entries: Vec<CachedBook>,
}

#[derive(Debug, Clone)]
struct CachedBook {
    accounts_csv: String,
    holdings_csv: String,
    format: BookFormat,
    lookup: AssetLookup,
    accounts_file: AccountsFile,
    book: Arc<AccountBook>,
}

/// An account book's accounts file: its name in messages, and where to read it again for
/// the line numbers of bad rows.
#[derive(Debug, Clone)]
pub(crate) struct AccountsFile {
    pub(crate) name: String,
    pub(crate) path: PathBuf,
    /// Its format: CSV rows are told by line, binary tables by row only.
    pub(crate) format: BookFormat,
    /// The key its problems are told under: the format's accounts key, or `accounts`
    /// for a table given in memory.
    pub(crate) key: &'static str,
}

impl BookCache {
    fn get(
        &self,
        accounts: &str,
        holdings: &str,
        format: BookFormat,
        lookup: &AssetLookup,
    ) -> Option<&CachedBook> {
        self.entries.iter().find(|c| {
            c.accounts_csv == accounts
                && c.holdings_csv == holdings
                && c.format == format
                && &c.lookup == lookup
        })
    }

    /// Number of books held.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Resolve a CSV include against the scenario's directory, refusing paths that leave it.
pub(crate) fn resolve_include(
    base: Option<&Path>,
    rel: &str,
) -> Result<(PathBuf, String), (String, String)> {
    let Some(base) = base else {
        return Err((
            "CSV books need a scenario file to be relative to; this scenario was given as text"
                .into(),
            "load the scenario from a file (`delever run FILE.yaml`)".into(),
        ));
    };
    let p = Path::new(rel);
    if rel.trim().is_empty() {
        return Err((
            "the path is empty".into(),
            "give the CSV's path relative to the scenario file".into(),
        ));
    }
    if p.is_absolute() || p.has_root() {
        return Err((
            format!("absolute path `{rel}` refused"),
            "give the CSV's path relative to the scenario file's directory".into(),
        ));
    }
    let mut depth: i64 = 0;
    for c in p.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => depth = -1,
        }
        if depth < 0 {
            return Err((
                format!("`{rel}` leaves the scenario's directory"),
                "keep CSV books in the scenario's directory or below it".into(),
            ));
        }
    }
    let joined = base.join(p);
    let display = if base == Path::new(".") {
        p.display().to_string()
    } else {
        joined.display().to_string()
    };
    let canon_base = base.canonicalize().map_err(|e| {
        (
            format!(
                "cannot resolve the scenario's directory `{}`: {e}",
                base.display()
            ),
            "check that the scenario's directory exists".to_owned(),
        )
    })?;
    let canon = joined.canonicalize().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            (
                format!("file not found: `{display}`"),
                format!(
                    "the path is relative to the scenario's directory `{}`",
                    base.display()
                ),
            )
        } else {
            (
                format!("cannot open `{display}`: {e}"),
                "check the path".into(),
            )
        }
    })?;
    if !canon.starts_with(&canon_base) {
        return Err((
            format!("`{rel}` leads outside the scenario's directory (through a link)"),
            "keep CSV books in the scenario's directory or below it".into(),
        ));
    }
    if !canon.is_file() {
        return Err((
            format!("`{display}` is not a file"),
            "give the path of a CSV file".into(),
        ));
    }
    Ok((canon, display))
}

/// Load an account book's CSVs; problems go to `cx`. Returns the book and the accounts
/// file's display name.
pub(crate) fn load_book(
    cx: &mut Cx<'_>,
    base: &str,
    origin: &Origin<'_>,
    (accounts, holdings): (&str, &str),
    lookup: &AssetLookup,
    format: BookFormat,
) -> (Option<Arc<AccountBook>>, Option<AccountsFile>) {
    if let Some(hit) = origin
        .books
        .and_then(|c| c.get(accounts, holdings, format, lookup))
    {
        // Books are shared: an instance points at the book loaded once, no copy.
        return (Some(Arc::clone(&hit.book)), Some(hit.accounts_file.clone()));
    }
    let mut resolved = Vec::new();
    let (accounts_key, holdings_key) = format.keys();
    for (key, rel) in [(accounts_key, accounts), (holdings_key, holdings)] {
        match resolve_include(origin.base_dir, rel) {
            Ok(r) => resolved.push(r),
            Err((msg, hint)) => cx.err(join_key(base, key), msg, Some(hint)),
        }
    }
    let Ok([(acc_path, acc_name), (hold_path, hold_name)]) = <[_; 2]>::try_from(resolved) else {
        return (None, None);
    };
    let _span =
        tracing::debug_span!("load_book", accounts = %acc_name, holdings = %hold_name).entered();
    let accounts_file = AccountsFile {
        name: acc_name.clone(),
        path: acc_path.clone(),
        format,
        key: accounts_key,
    };
    match book::load_as(
        &BookFiles {
            accounts: &acc_path,
            holdings: &hold_path,
        },
        lookup,
        format,
    ) {
        Ok(book) => {
            tracing::debug!(
                accounts = book.len(),
                holdings = book.holdings(),
                "account book loaded"
            );
            let book = Arc::new(book);
            if let Some(record) = origin.record {
                record.borrow_mut().entries.push(CachedBook {
                    accounts_csv: accounts.to_owned(),
                    holdings_csv: holdings.to_owned(),
                    format,
                    lookup: lookup.clone(),
                    accounts_file: accounts_file.clone(),
                    book: Arc::clone(&book),
                });
            }
            (Some(book), Some(accounts_file))
        }
        Err(problems) => {
            for p in problems {
                let file = if p.key == accounts_key {
                    acc_name.clone()
                } else {
                    hold_name.clone()
                };
                cx.problems.push(pending(
                    join_key(base, p.key),
                    Place::File {
                        file,
                        line: p.line,
                        column: p.column,
                    },
                    p.message,
                    p.hint,
                ));
            }
            (None, Some(accounts_file))
        }
    }
}

/// Load an account book given in memory; problems go to `cx`, located under the holder's
/// `accounts`/`holdings` paths with the tables' names as files (by row, no line).
pub(crate) fn load_memory_book(
    cx: &mut Cx<'_>,
    base: &str,
    memory: &MemoryBook,
    lookup: &AssetLookup,
) -> (Option<Arc<AccountBook>>, Option<AccountsFile>) {
    let accounts_file = AccountsFile {
        name: memory.accounts().name().to_owned(),
        path: PathBuf::new(),
        // Rows, not lines, as in an Arrow IPC table: nothing is read again.
        format: BookFormat::Arrow,
        key: book::MEMORY_ACCOUNTS_KEY,
    };
    match memory.load(lookup) {
        Ok(book) => (Some(book), Some(accounts_file)),
        Err(problems) => {
            for p in problems {
                cx.problems.push(pending(
                    join_key(base, p.key),
                    Place::File {
                        file: memory.file_of(p.key).to_owned(),
                        line: p.line,
                        column: p.column,
                    },
                    p.message,
                    p.hint,
                ));
            }
            (None, Some(accounts_file))
        }
    }
}

/// Every book given in memory must be for an `account_book` holder: one for another id
/// is a problem (it would be ignored).
pub(crate) fn memory_books_used(cx: &mut Cx<'_>, spec: &ScenarioSpec, origin: &Origin<'_>) {
    let Some(memory) = origin.memory else {
        return;
    };
    for id in memory.keys() {
        let kind = spec.holders.iter().find(|h| &h.id == id).map(|h| h.kind);
        if kind == Some(KindName::AccountBook) {
            continue;
        }
        let books: Vec<&str> = spec
            .holders
            .iter()
            .filter(|h| h.kind == KindName::AccountBook)
            .map(|h| h.id.as_str())
            .collect();
        cx.err(
            "holders",
            match kind {
                Some(k) => format!(
                    "an account book was given in memory for holder `{id}`, a {}, not an account_book",
                    k.name()
                ),
                None => format!(
                    "an account book was given in memory for holder `{id}`, which the scenario does not have"
                ),
            },
            Some(if books.is_empty() {
                format!("add an `account_book` holder `{id}` (with its `margin`)")
            } else {
                format!("its account_book holders are `{}`", books.join("`, `"))
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_stay_inside() {
        let base = std::env::temp_dir();
        assert!(resolve_include(None, "a.csv").is_err());
        let e = resolve_include(Some(&base), "../etc/passwd").expect_err("escape");
        assert!(e.0.contains("leaves"), "{e:?}");
        let e = resolve_include(Some(&base), "/etc/passwd").expect_err("absolute");
        assert!(e.0.contains("absolute"), "{e:?}");
        let e = resolve_include(Some(&base), "a/../../x.csv").expect_err("escape");
        assert!(e.0.contains("leaves"), "{e:?}");
        let e = resolve_include(Some(&base), "no-such-file-here.csv").expect_err("missing");
        assert!(e.0.contains("not found"), "{e:?}");
    }
}
