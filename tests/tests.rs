//! delever's integration tests: one test binary gathering every module (ripgrep's layout),
//! so the workspace links it once.

mod check;
mod cli;
mod errors;
mod scenario_props;
mod util;
