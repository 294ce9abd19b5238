//! Account books from Arrow data in memory: the same two tables as the files,
//! `account,cash,loan` and `account,asset,shares`, as record batches a caller already
//! holds (the Python package imports data frames through Arrow's C stream interface).
//!
//! The tables go through the Parquet and Arrow IPC readers' checks (`columnar.rs`), so
//! the messages are theirs, told by row and column name. The batches' buffers are read in
//! place: a `float64` column is checked and copied into the book without a conversion
//! pass; whole numbers and text are converted as the file readers convert them.
//!
//! A scenario uses a memory book for an `account_book` holder that names no table files
//! ([`Template::from_yaml_with_books`](crate::Template::from_yaml_with_books)). The book
//! is validated once per set of asset ids and kept: the instances of a sweep share it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use delever_graph::{AccountBook, AssetIx};

use super::columnar::{
    ACCOUNT_COLUMNS, HOLDING_COLUMNS, Table, accounts_from, find_columns, holdings_from,
};
use super::{AssetLookup, BookProblem, CsvProblem};

/// Account books held in memory, by the id of the `account_book` holder each is for.
pub type MemoryBooks = BTreeMap<String, Arc<MemoryBook>>;

/// The key problems with a memory book's accounts table are told under
/// (`holders[book].accounts`): the table has no key in the scenario.
pub(crate) const ACCOUNTS_KEY: &str = "accounts";
/// The key of problems with a memory book's holdings table.
pub(crate) const HOLDINGS_KEY: &str = "holdings";

/// One table of an account book held in memory: Arrow record batches sharing a schema.
/// Columns are found by name (other columns are ignored), as in a Parquet book.
#[derive(Debug, Clone)]
pub struct MemoryTable {
    name: String,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl MemoryTable {
    /// A table named `name` in messages (it stands where a file name would, e.g.
    /// `accounts (DataFrame)`), of `batches` with `schema`. A batch whose schema differs
    /// is refused when the book is built, told by its position.
    pub fn new(name: impl Into<String>, schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        MemoryTable {
            name: name.into(),
            schema,
            batches,
        }
    }

    /// Its name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of rows, over all batches.
    pub fn rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }

    /// The three wanted columns, batch by batch, or a problem keyed `key`.
    fn table(&self, want: [&str; 3], key: &'static str) -> Result<Table, CsvProblem> {
        let at = find_columns(&self.schema, want, key, &format!("table `{}`", self.name))?;
        let mut columns = Vec::with_capacity(self.batches.len());
        for (b, batch) in self.batches.iter().enumerate() {
            // The columns are taken by position: the batch must agree with the schema
            // the positions were found in.
            if batch.schema().fields() != self.schema.fields() {
                return Err(CsvProblem {
                    key,
                    line: None,
                    column: None,
                    message: format!(
                        "batch {} of table `{}` has other columns than the table's schema",
                        b + 1,
                        self.name
                    ),
                    hint: Some("give batches of one schema".into()),
                    at: None,
                });
            }
            columns.push(at.map(|i| std::sync::Arc::clone(batch.column(i))));
        }
        Ok(Table { columns })
    }
}

/// An account book's two tables in memory, for an `account_book` holder. Validated
/// when a scenario is built with it (its `asset` column needs the scenario's assets), and
/// kept once valid, per set of asset ids.
#[derive(Debug)]
pub struct MemoryBook {
    accounts: MemoryTable,
    holdings: MemoryTable,
    /// Books built from the tables, by the asset lookup they were resolved against.
    built: Mutex<Vec<(AssetLookup, Arc<AccountBook>)>>,
}

impl MemoryBook {
    /// A book of an accounts table (`account, cash, loan`) and a holdings table
    /// (`account, asset, shares`, grouped by account in the accounts' order).
    pub fn new(accounts: MemoryTable, holdings: MemoryTable) -> Self {
        MemoryBook {
            accounts,
            holdings,
            built: Mutex::new(Vec::new()),
        }
    }

    /// The accounts table.
    pub fn accounts(&self) -> &MemoryTable {
        &self.accounts
    }

    /// The holdings table.
    pub fn holdings(&self) -> &MemoryTable {
        &self.holdings
    }

    /// The account book, its `asset` column resolved against `assets` (asset `i` of the
    /// slice is `AssetIx(i)`), checked as a Parquet book is.
    ///
    /// # Errors
    /// Every problem found, its `file` the table's name, told by row and column name
    /// (tables have rows, not lines: `line` and `column` are `None`).
    pub fn account_book(&self, assets: &[&str]) -> Result<AccountBook, Vec<BookProblem>> {
        let lookup = AssetLookup::new(
            assets
                .iter()
                .enumerate()
                .map(|(i, a)| (*a, AssetIx(u32::try_from(i).unwrap_or(u32::MAX)))),
        );
        self.build(&lookup).map_err(|ps| {
            ps.into_iter()
                .map(|p| BookProblem {
                    file: self.file_of(p.key).to_owned(),
                    line: p.line,
                    column: p.column,
                    message: p.message,
                    hint: p.hint,
                })
                .collect()
        })
    }

    /// The table a problem's key names.
    pub(crate) fn file_of(&self, key: &str) -> &str {
        if key == HOLDINGS_KEY {
            &self.holdings.name
        } else {
            &self.accounts.name
        }
    }

    /// The book against `lookup`: the one built before for the same lookup, or a new one
    /// (then kept).
    pub(crate) fn load(&self, lookup: &AssetLookup) -> Result<Arc<AccountBook>, Vec<CsvProblem>> {
        // A poisoned lock only means another thread panicked while pushing: the list is
        // still a list of complete entries.
        if let Some((_, book)) = self
            .built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(l, _)| l == lookup)
        {
            return Ok(Arc::clone(book));
        }
        let book = Arc::new(self.build(lookup)?);
        self.built
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((lookup.clone(), Arc::clone(&book)));
        Ok(book)
    }

    fn build(&self, lookup: &AssetLookup) -> Result<AccountBook, Vec<CsvProblem>> {
        let mut out = Vec::new();
        let accounts = match self.accounts.table(ACCOUNT_COLUMNS, ACCOUNTS_KEY) {
            Ok(t) => t,
            Err(p) => return Err(vec![p]),
        };
        let Some((ids, cash, loan)) = accounts_from(&accounts, ACCOUNTS_KEY, &mut out)
            .map(|(ids, cash, loan)| super::checked(ids, cash, loan))
        else {
            return Err(out);
        };
        let holdings = match self.holdings.table(HOLDING_COLUMNS, HOLDINGS_KEY) {
            Ok(t) => t,
            Err(p) => return Err(vec![p]),
        };
        let Some(h) = holdings_from(
            &holdings,
            (ACCOUNTS_KEY, HOLDINGS_KEY),
            &ids,
            lookup,
            &mut out,
        ) else {
            return Err(out);
        };
        Ok(AccountBook {
            cash,
            loan,
            row_ptr: h.row_ptr,
            assets: h.assets,
            shares: h.shares,
        })
    }
}

#[cfg(test)]
mod tests;
