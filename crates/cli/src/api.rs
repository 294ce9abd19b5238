//! The commands as a library, for embedders (the Python package, `crates/python`): the
//! same code paths as `delever run`, so an embedder's JSON report is the CLI's byte for
//! byte. Nothing here prints or writes files.

use clap::Parser as _;
use delever_engine::{EngineConfig, Ledger, Outcome};
use delever_report::RunReport;
use delever_scenario::Scenario;

use crate::{Cli, Failure};

/// The scenario the CLI runs when given none.
pub const DEFAULT_SCENARIO: &str = crate::embedded::DEFAULT;

/// The shipped scenarios compiled into the binary: `(name, YAML text)`, by name.
pub fn shipped() -> &'static [(&'static str, &'static str)] {
    crate::embedded::EMBEDDED
}

/// One run as `delever run` makes it: the engine's outcome, its ledger, and the report
/// with its systemic metrics.
#[derive(Debug)]
pub struct Run {
    /// The engine's outcome.
    pub outcome: Outcome,
    /// Shares and proceeds per holder (the HTML report's player reads it).
    pub ledger: Ledger,
    /// The report; `report.to_json()` is `delever run --format json`.
    pub report: RunReport,
}

/// Run `scenario` with `config` (the scenario's engine settings, or overridden), as
/// `delever run` does, without a progress display.
pub fn run(scenario: &Scenario, config: &EngineConfig) -> Result<Run, Failure> {
    let cli = Cli::try_parse_from(["delever", "-q"])
        .map_err(|e| Failure::input(format!("error: {e}")))?;
    crate::commands::run_report(&cli, scenario, config)
}

/// The self-contained HTML report of `run` (a run of `scenario`), as `delever run --html`.
pub fn html(scenario: &Scenario, run: &Run) -> String {
    crate::commands::html_report(
        scenario,
        &run.outcome,
        &run.ledger,
        run.report.systemic.as_ref(),
    )
}

/// The scenario itself, or its variant `name`, as `delever run --variant` picks it (the
/// error names the known variants).
pub fn pick_variant(scenario: Scenario, name: Option<&str>) -> Result<Scenario, Failure> {
    crate::commands::pick_variant(scenario, name)
}
