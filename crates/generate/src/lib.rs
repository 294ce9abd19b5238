//! Seeded, deterministic generators of synthetic delever scenarios.
//!
//! Each generator returns a [`Generated`]: the in-memory model (a
//! [`delever_graph::Network`], its [`delever_engine::Shock`]s and an
//! [`delever_engine::EngineConfig`]) together with the scenario's metadata. The same value
//! writes itself out as files ([`Generated::files`], [`Generated::write_file`]): a scenario
//! YAML in the documented format and, for account books, two CSV files. Loading the YAML
//! with `delever_scenario::Scenario::load` gives the same network, shocks and settings, so
//! running the file and running the in-memory model give the same outcome.
//!
//! The generators:
//!
//! - [`caccioli::generate`]: Caccioli, Shrestha, Moore & Farmer (2014): banks on a random
//!   bipartite graph of assets, fail-and-liquidate, exponential impact; and
//!   [`caccioli::contagion_probability`], the Monte Carlo estimate behind the paper's
//!   window of contagion (drawn by [`figure::window_svg`]);
//! - [`glt::generate`]: Greenwood, Landier & Thesmar (2015) leverage-targeting banks, from
//!   `delever_engine::synth::glt_system`;
//! - [`retail::generate`]: a retail margin book (up to 10 million accounts as CSV, 100
//!   million as Parquet or Arrow), the market of `delever_engine::synth::market`, written
//!   as account-book tables; [`retail::generate_streamed`] draws the accounts again as
//!   each table is written instead of holding the book in memory.
//!
//! Everything random is drawn from `delever_engine::synth::Rng` seeded by the caller: the
//! same parameters give byte-identical files on every machine. Nothing here reads files;
//! writing goes through any [`std::io::Write`] the caller provides (the CLI writes to a
//! temporary file and renames it).

pub mod caccioli;
mod columnar;
mod csv;
mod error;
pub mod figure;
pub mod glt;
pub mod retail;
mod rows;
pub mod window;
pub mod yaml;

use std::io::Write;

use delever_engine::{EngineConfig, Shock};
use delever_graph::{HolderIx, HolderKind, Network};

pub use crate::columnar::{BATCH_ROWS, write_accounts_table, write_holdings_table};
pub use crate::csv::{write_accounts_csv, write_holdings_csv};
pub use crate::error::GenerateError;
pub use crate::rows::StreamedBook;

/// A publication the generated scenario cites (its `sources:` entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    /// Id, unique among the scenario's sources.
    pub id: String,
    /// Title of the publication.
    pub title: String,
    /// Where to find it.
    pub url: Option<String>,
    /// Publication date, ISO `YYYY-MM-DD`.
    pub date: Option<String>,
}

/// A generated scenario: metadata and the in-memory model.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Scenario name; also the stem of the YAML file.
    pub name: String,
    /// What the scenario is and how it was generated (generator, parameters, seed, the
    /// command that regenerates it).
    pub description: String,
    /// Date the figures refer to, ISO.
    pub as_of: String,
    /// Cited sources.
    pub sources: Vec<SourceRef>,
    /// Assumptions in plain words.
    pub assumptions: Vec<String>,
    /// The network.
    pub network: Network,
    /// The shocks, applied in order.
    pub shocks: Vec<Shock>,
    /// Engine settings.
    pub engine: EngineConfig,
    /// The file format of the account books' tables.
    pub book_format: BookFormat,
    /// Account books drawn as their files are written (`retail::generate_streamed`): their
    /// holders' books in `network` are empty.
    pub streamed: Vec<StreamedBook>,
}

/// The file format of a generated account book's two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BookFormat {
    /// CSV (`accounts_csv`, `holdings_csv`).
    #[default]
    Csv,
    /// Apache Parquet, snappy-compressed, row groups of [`BATCH_ROWS`] rows
    /// (`accounts_parquet`, `holdings_parquet`).
    Parquet,
    /// Arrow IPC file (`accounts_arrow`, `holdings_arrow`).
    Arrow,
}

impl BookFormat {
    /// The scenario keys naming the accounts and the holdings table.
    pub fn keys(self) -> (&'static str, &'static str) {
        match self {
            BookFormat::Csv => ("accounts_csv", "holdings_csv"),
            BookFormat::Parquet => ("accounts_parquet", "holdings_parquet"),
            BookFormat::Arrow => ("accounts_arrow", "holdings_arrow"),
        }
    }
    /// The file name extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            BookFormat::Csv => "csv",
            BookFormat::Parquet => "parquet",
            BookFormat::Arrow => "arrow",
        }
    }
}

/// The CSV file names of one account-book holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookFiles {
    /// The account-book holder.
    pub holder: HolderIx,
    /// `accounts_csv` file name, relative to the scenario file.
    pub accounts: String,
    /// `holdings_csv` file name, relative to the scenario file.
    pub holdings: String,
}

/// What one output file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// The scenario YAML.
    Scenario,
    /// An account book's `account,cash,loan` rows.
    Accounts(HolderIx),
    /// An account book's `account,asset,shares` rows.
    Holdings(HolderIx),
}

/// One file a [`Generated`] writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// File name (no directory): `<name>.yaml` or `<name>-<holder>-accounts.csv`, ….
    pub name: String,
    /// What it holds.
    pub kind: FileKind,
}

impl Generated {
    /// The CSV file names of every account-book holder: `<name>-<holder>-accounts.csv` and
    /// `<name>-<holder>-holdings.csv`.
    pub fn books(&self) -> Vec<BookFiles> {
        self.network
            .holders()
            .iter()
            .enumerate()
            .filter(|(_, h)| matches!(h.kind, HolderKind::AccountBook { .. }))
            .map(|(i, h)| BookFiles {
                holder: HolderIx(i as u32),
                accounts: format!(
                    "{}-{}-accounts.{}",
                    self.name,
                    h.id,
                    self.book_format.extension()
                ),
                holdings: format!(
                    "{}-{}-holdings.{}",
                    self.name,
                    h.id,
                    self.book_format.extension()
                ),
            })
            .collect()
    }

    /// Every file of the scenario: the YAML first, then each book's two CSV files.
    pub fn files(&self) -> Vec<OutputFile> {
        let mut files = vec![OutputFile {
            name: format!("{}.yaml", self.name),
            kind: FileKind::Scenario,
        }];
        for b in self.books() {
            files.push(OutputFile {
                name: b.accounts,
                kind: FileKind::Accounts(b.holder),
            });
            files.push(OutputFile {
                name: b.holdings,
                kind: FileKind::Holdings(b.holder),
            });
        }
        files
    }

    /// The scenario YAML text.
    pub fn yaml(&self) -> String {
        yaml::scenario(self, &self.books())
    }

    /// The rows of holder `h`'s account book: drawn again if it is streamed, else the
    /// network's (`None` if `h` holds no book).
    fn rows(&self, h: HolderIx) -> Option<rows::BookRows<'_>> {
        if let Some(s) = self.streamed.iter().find(|s| s.holder == h) {
            return Some(rows::BookRows::Drawn(s));
        }
        match &self.network.holder(h).kind {
            HolderKind::AccountBook { book, .. } => Some(rows::BookRows::Memory(book)),
            _ => None,
        }
    }

    /// Accounts and holdings rows of holder `h`'s account book, streamed or in memory
    /// (`None` if `h` holds no book).
    pub fn book_size(&self, h: HolderIx) -> Option<(usize, usize)> {
        if let Some(s) = self.streamed.iter().find(|s| s.holder == h) {
            return Some((s.len(), s.holdings()));
        }
        match &self.network.holder(h).kind {
            HolderKind::AccountBook { book, .. } => Some((book.len(), book.holdings())),
            _ => None,
        }
    }

    /// Write the file `kind` to `w` (books are written as they are read or drawn, a line or
    /// a batch at a time, never built in memory as text).
    pub fn write_file(&self, kind: FileKind, w: &mut dyn Write) -> Result<(), GenerateError> {
        match kind {
            FileKind::Scenario => w.write_all(self.yaml().as_bytes())?,
            FileKind::Accounts(h) => match (self.rows(h), self.book_format) {
                (Some(r), BookFormat::Csv) => csv::accounts_csv(r, w)?,
                (Some(r), f) => columnar::accounts_table(r, f, w)?,
                (None, _) => {}
            },
            FileKind::Holdings(h) => {
                if let Some(r) = self.rows(h) {
                    let ids: Vec<&str> = self
                        .network
                        .assets()
                        .iter()
                        .map(|a| a.id.as_str())
                        .collect();
                    match self.book_format {
                        BookFormat::Csv => csv::holdings_csv(r, &ids, w)?,
                        f => columnar::holdings_table(r, &ids, f, w)?,
                    }
                }
            }
        }
        Ok(())
    }
}

/// A scenario name must be a usable file stem: letters, digits, `-`, `_`, `.`, starting
/// with a letter or digit.
pub fn check_name(name: &str) -> Result<(), GenerateError> {
    error::check(
        !name.is_empty()
            && name.len() <= 100
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
        "name",
        || format!("`{name}` cannot name a scenario file"),
        "use letters, digits, `-`, `_` and `.` (at most 100), e.g. `--name caccioli-lev20`",
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use delever_scenario::Scenario;

    use super::*;

    /// Write every file of `g` into a fresh directory and load the YAML back.
    fn write_and_load(g: &Generated, dir: &str) -> Scenario {
        let dir: PathBuf =
            std::env::temp_dir().join(format!("delever-generate-{}-{dir}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        for f in g.files() {
            let mut file = std::fs::File::create(dir.join(&f.name)).expect("create");
            g.write_file(f.kind, &mut file).expect("write");
        }
        let s = Scenario::load(&dir.join(format!("{}.yaml", g.name)));
        let _ = std::fs::remove_dir_all(&dir);
        match s {
            Ok(s) => s,
            Err(e) => panic!("{e}\n{}", g.yaml()),
        }
    }

    /// The loaded scenario is the in-memory model: same nodes, shocks, settings, outcome.
    fn check_round_trip(g: &Generated, dir: &str) {
        let s = write_and_load(g, dir);
        assert_eq!(s.name, g.name);
        assert_eq!(s.network.assets(), g.network.assets());
        assert_eq!(s.network.holders(), g.network.holders());
        assert_eq!(s.network.lenders(), g.network.lenders());
        for i in 0..g.network.holders().len() {
            let h = HolderIx(i as u32);
            assert!(s.network.holdings(h).eq(g.network.holdings(h)));
            assert_eq!(s.network.margin(h), g.network.margin(h));
        }
        assert_eq!(s.shocks, g.shocks);
        assert_eq!(s.engine, g.engine);
        assert!(!s.sources.is_empty() && !s.assumptions.is_empty());
        assert!(s.description.contains("delever generate"));
        let a = delever_engine::run(&g.network, &g.shocks, &g.engine).expect("runs");
        let b = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
        assert_eq!(a, b);
    }

    #[test]
    fn caccioli_round_trips() {
        let p = caccioli::Params {
            banks: 60,
            assets: 50,
            mu: 3.0,
            leverage: 25.0,
            seed: 4,
            ..caccioli::Params::default()
        };
        check_round_trip(&caccioli::generate(&p, "cac-t").expect("valid"), "cac");
    }

    #[test]
    fn glt_round_trips() {
        let g = glt::generate(&glt::Params::default(), "glt-t").expect("valid");
        check_round_trip(&g, "glt");
    }

    #[test]
    fn retail_round_trips() {
        let p = retail::Params {
            accounts: 500,
            assets: 40,
            ..retail::Params::default()
        };
        check_round_trip(&retail::generate(&p, "retail-t").expect("valid"), "retail");
    }

    #[test]
    fn names_must_be_file_stems() {
        assert!(check_name("caccioli-lev20.v2").is_ok());
        for bad in ["", "../x", "a b", "-x", "a/b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
