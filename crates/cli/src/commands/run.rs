//! `delever run`: the cascade to its fixed point, as a table, JSON or CSV.

use std::path::Path;

use delever_report::{Format, RunReport};

use super::{html, load, meta, simulate_detailed};
use crate::args::{Cli, OutputArgs};
use crate::output::emit;
use crate::{Failure, exit};

pub fn run(
    cli: &Cli,
    arg: Option<&str>,
    out: &OutputArgs,
    trace: bool,
    max_rounds: Option<u32>,
    html_path: Option<&Path>,
) -> Result<i32, Failure> {
    let scenario = load(arg)?;
    let mut config = scenario.engine.clone();
    if let Some(n) = max_rounds {
        if n == 0 {
            return Err(Failure::input(
                "error: --max-rounds must be at least 1\n  hint: 1 gives the one-round answer",
            ));
        }
        config.max_rounds = n;
    }
    let (outcome, ledger) = simulate_detailed(cli, &scenario, &config)?;
    // The HTML file first: if it cannot be written, nothing has gone to stdout yet.
    if let Some(path) = html_path {
        html::write_report(&scenario, &outcome, &ledger, path)?;
    }
    let report = RunReport::new(&meta(&scenario), &scenario.network, &outcome);
    let text = match Format::from(out.format) {
        Format::Table => {
            let mut t = report.to_table();
            if trace {
                t.push('\n');
                t.push_str(&report.trace_table());
            }
            t
        }
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
    };
    emit(&text, out.output.as_deref())?;
    let code = outcome.exit_code();
    if code == exit::NOT_CONVERGED {
        eprintln!(
            "warning: {} did not converge within {} rounds (residual {:.2e}); the report above says so\n  hint: raise `engine.max_rounds` or lower `engine.damping`",
            scenario.name, outcome.rounds, outcome.residual
        );
    }
    Ok(code)
}
