//! `delever completions SHELL` and `delever man`: generated from the clap definition, so
//! they list exactly the commands and flags the binary has.

use std::path::Path;

use clap::CommandFactory as _;

use crate::args::Cli;
use crate::output::{Outputs, emit};
use crate::{Failure, exit};

/// The completion script for `shell`, to stdout or `output`.
pub fn completions(shell: clap_complete::Shell, output: Option<&Path>) -> Result<i32, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "delever", &mut buf);
    let text = String::from_utf8(buf)
        .map_err(|e| Failure::input(format!("error: the completion script is not UTF-8: {e}")))?;
    emit(&text, output)?;
    Ok(exit::OK)
}

/// The man page of `delever` to stdout, or (with `dir`) `delever.1` and one page per
/// subcommand (`delever-run.1`, `delever-export-dot.1`) written into `dir`, all or none.
pub fn man(dir: Option<&Path>) -> Result<i32, Failure> {
    let mut cmd = Cli::command();
    cmd.build();
    let Some(dir) = dir else {
        emit(&page(&cmd)?, None)?;
        return Ok(exit::OK);
    };
    if !dir.is_dir() {
        return Err(Failure::input(format!(
            "error: cannot write man pages into `{}` (-o): not a directory\n  hint: create it first (man pages go to DIR/delever.1, DIR/delever-run.1, ...)",
            dir.display()
        )));
    }
    let mut pages = Vec::new();
    collect(&cmd, "delever", &mut pages)?;
    let mut outputs = Outputs::new();
    for (name, text) in pages {
        let slot = outputs.plan("-o", Some(&dir.join(format!("{name}.1"))))?;
        outputs.put(slot, text);
    }
    outputs.commit()?;
    Ok(exit::OK)
}

/// `cmd`'s page under `name`, then its subcommands' pages (`NAME-SUB`), depth first.
fn collect(
    cmd: &clap::Command,
    name: &str,
    pages: &mut Vec<(String, String)>,
) -> Result<(), Failure> {
    let named = cmd.clone().name(name.to_owned());
    pages.push((name.to_owned(), page(&named)?));
    for sub in cmd.get_subcommands() {
        // clap's generated `help` subcommand has no page of its own.
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        collect(sub, &format!("{name}-{}", sub.get_name()), pages)?;
    }
    Ok(())
}

/// One man page (roff).
fn page(cmd: &clap::Command) -> Result<String, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .map_err(|e| Failure::input(format!("error: rendering the man page: {e}")))?;
    String::from_utf8(buf)
        .map_err(|e| Failure::input(format!("error: the man page is not UTF-8: {e}")))
}
