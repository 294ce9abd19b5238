//! `delever export dot`: the network for graphviz.

use std::path::Path;

use super::{load, simulate};
use crate::args::Cli;
use crate::output::emit;
use crate::{Failure, exit};

pub fn export_dot(
    cli: &Cli,
    arg: Option<&str>,
    after_run: bool,
    output: Option<&Path>,
) -> Result<i32, Failure> {
    let scenario = load(arg)?;
    let outcome = if after_run {
        Some(simulate(cli, &scenario, &scenario.engine)?)
    } else {
        None
    };
    let text = delever_report::dot::render(&scenario.name, &scenario.network, outcome.as_ref());
    emit(&text, output)?;
    Ok(exit::OK)
}
