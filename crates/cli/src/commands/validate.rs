//! `delever validate`: check scenario files, report every problem.

use std::fmt::Write as _;
use std::path::PathBuf;

use delever_scenario::Scenario;

use crate::output::emit;
use crate::{Failure, exit};

pub fn validate(files: &[PathBuf]) -> Result<i32, Failure> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match Scenario::load(f) {
            Ok(s) => {
                let n = &s.network;
                ok.push(format!(
                    "ok  {}  ({} assets, {} holders, {} lenders, {} shocks)",
                    f.display(),
                    n.assets().len(),
                    n.holders().len(),
                    n.lenders().len(),
                    s.shocks.len()
                ));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        emit(&(ok.join("\n") + "\n"), None)?;
        Ok(exit::OK)
    } else {
        let mut msg = errors.join("\n");
        if files.len() > 1 {
            let _ = write!(
                msg,
                "\n{} of {} files are invalid",
                errors.len(),
                files.len()
            );
        }
        Err(Failure::input(msg))
    }
}
