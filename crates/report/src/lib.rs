//! Rendering for delever: outcomes and network summaries as tables, JSON, CSV and DOT.
//!
//! - [`RunReport`] is the JSON report of a run (the contract in `ARCHITECTURE.md`): build it
//!   with [`RunReport::new`] from a [`RunMeta`], the [`delever_graph::Network`] and the
//!   [`delever_engine::Outcome`], then render it with [`RunReport::to_json`],
//!   [`RunReport::to_table`], [`RunReport::to_csv`] or [`RunReport::trace_table`].
//! - [`SummaryReport`] renders [`delever_graph::Summary`] (`delever describe`).
//! - [`dot`] writes the network for graphviz.
//! - [`html`] writes the self-contained HTML report with its round-by-round player.
//! - [`ExplainReport`] renders [`delever_engine::explain::Explanation`] (`delever explain`):
//!   why a holder sold, round by round, with the numbers in its rule; on a timeline,
//!   [`HolderDaysReport`] shows a holder's days instead (its balance sheet at each close,
//!   its calls and their deadlines, in words).
//!
//! - [`batch`] holds the results of many runs (sweeps, Monte Carlo) and renders them.
//!
//! This crate is the only one that serialises output; it never reads input.

pub mod batch;
mod days;
mod describe;
pub mod dot;
mod explain;
mod explain_days;
mod holders;
pub mod html;
pub mod layout;
pub mod markdown;
pub mod regime;
mod run;
mod systemic;
mod text;
mod width;

pub use describe::SummaryReport;
pub use explain::ExplainReport;
pub use explain_days::{EQUITY_IDENTITY, HolderDaysReport};
pub use holders::{BorrowerLossReport, DEFAULT_TOP};
pub use html::{ScenarioNotes, SourceNote};
pub use layout::{Style, render_with};
pub use run::{RunMeta, RunReport};
pub use systemic::{RankRow, SystemicReport, rank_table};
pub use text::{Table, csv_cell, csv_field, num as csv_num, price, usd};

/// The version of every JSON document delever writes (the top-level `format_version`):
/// raised when a key is renamed or removed or its meaning changes; new keys do not raise
/// it (docs/reliability.md, "Regression checks and JSON versions").
pub const JSON_FORMAT_VERSION: u32 = 1;

/// The delever release that writes a document (the top-level `delever_version`).
pub const DELEVER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The two version keys every JSON document starts with, as a JSON object to extend.
pub fn json_versions() -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("delever_version".into(), DELEVER_VERSION.into());
    m.insert("format_version".into(), JSON_FORMAT_VERSION.into());
    m
}

/// Output formats shared by every command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text tables for people.
    #[default]
    Table,
    /// One JSON document with stable keys.
    Json,
    /// Tidy CSV: one fact per row.
    Csv,
    /// GitHub-flavoured markdown: the tables' content as pipe tables under headings.
    Markdown,
}
