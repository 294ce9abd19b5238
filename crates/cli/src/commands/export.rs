//! `delever export dot`: the network for graphviz.

use std::path::Path;

use super::run::warn_not_converged;
use super::{load, simulate};
use crate::args::Cli;
use crate::output::Outputs;
use crate::{Failure, exit};

/// `delever export dot`; with `--after-run`, exit 3 (and the warning) when the run did not
/// converge, as `delever run` does: the colours are those of the round limit.
pub fn export_dot(
    cli: &Cli,
    arg: Option<&str>,
    after_run: bool,
    output: Option<&Path>,
) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", output)?;
    let scenario = load(arg)?;
    let outcome = if after_run {
        Some(simulate(cli, &scenario, &scenario.engine)?)
    } else {
        None
    };
    let text = delever_report::dot::render(&scenario.name, &scenario.network, outcome.as_ref());
    outputs.put(slot, text);
    outputs.commit()?;
    let code = outcome
        .as_ref()
        .map_or(exit::OK, delever_engine::Outcome::exit_code);
    if let Some(o) = outcome.as_ref().filter(|_| code == exit::NOT_CONVERGED) {
        warn_not_converged(&scenario.name, o);
    }
    Ok(code)
}
