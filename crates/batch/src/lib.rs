//! Many delever runs at once: parameter sweeps, Monte Carlo shock studies, and the shards
//! that spread either over machines.
//!
//! - [`grid`]: `--vary PATH=START:STOP:STEPS` / `PATH=v1,v2` and the cartesian grid;
//! - [`sweep`]: every variant of a [`delever_scenario::Template`] run in parallel, one
//!   [`delever_report::batch::SweepRow`] each;
//! - [`mc`]: shocks drawn from the scenario's `monte_carlo:` distribution (multivariate
//!   normal or Student-t log-returns), one [`delever_report::batch::McDraw`] each;
//! - [`stats`]: quantiles, value at risk and expected shortfall of the draws;
//! - [`set`]: `run --set PATH=VALUE`, one field and one value in the sweep's grammar;
//! - [`shard`]: `--shard K/N` slices and the shard file format `delever merge` reads.
//!
//! Everything is deterministic: variant `i` and draw `i` depend only on the inputs and
//! `i` (draw `i`'s random numbers on the seed and `i`), parallel results are collected in
//! index order, and sums run in index order, so output is byte-identical at any thread
//! count and for any sharding.

pub mod figures;
pub mod grid;
pub mod mc;
pub mod set;
pub mod shard;
pub mod stats;
pub mod sweep;

use delever_engine::EngineError;
use delever_scenario::ScenarioError;

/// What can go wrong in a batch: bad grids and shard specs, a variant the scenario format
/// refuses, shard files that do not belong together.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// A `--vary` that does not parse.
    #[error("--vary {spec}: {message}")]
    Vary {
        /// The spec as given.
        spec: String,
        /// What is wrong.
        message: String,
        /// How to write it.
        hint: String,
    },
    /// A `run --set` that does not parse, names nothing in the scenario, or whose value
    /// the scenario format refuses.
    #[error("--set {spec}: {message}")]
    Set {
        /// The spec as given.
        spec: String,
        /// What is wrong (located diagnostics, when the scenario refused it).
        message: String,
        /// How to write it, when that is the problem.
        hint: Option<String>,
    },
    /// A usage problem (shard spec, grid size, missing `monte_carlo:` block, …).
    #[error("{message}")]
    Usage {
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
    /// A `--vary` path that names nothing in the scenario.
    #[error("--vary {spec}:\n{source}")]
    Path {
        /// The path as given.
        spec: String,
        /// The diagnostics (where the path stops resolving, and suggestions).
        source: ScenarioError,
    },
    /// A variant the scenario format refuses (a maintenance margin of 1.2).
    #[error("variant {index} ({label}):\n{source}")]
    Variant {
        /// Its index in the grid.
        index: u64,
        /// Its values, `path = value, …`.
        label: String,
        /// The diagnostics.
        source: ScenarioError,
    },
    /// The engine refused a variant's or draw's shocks or settings.
    #[error("{what} {index}: {source}")]
    Engine {
        /// `variant` or `draw`.
        what: &'static str,
        /// Its index.
        index: u64,
        /// The engine's error.
        source: EngineError,
    },
    /// A shard file that cannot be merged.
    #[error("{file}: {message}")]
    Merge {
        /// The file.
        file: String,
        /// What is wrong.
        message: String,
        /// What to do.
        hint: String,
    },
}

impl BatchError {
    /// A hint for the person at the terminal, when there is one.
    pub fn hint(&self) -> Option<&str> {
        match self {
            BatchError::Vary { hint, .. }
            | BatchError::Usage { hint, .. }
            | BatchError::Merge { hint, .. } => Some(hint),
            BatchError::Set { hint, .. } => hint.as_deref(),
            BatchError::Path { .. } | BatchError::Variant { .. } | BatchError::Engine { .. } => {
                None
            }
        }
    }
}
