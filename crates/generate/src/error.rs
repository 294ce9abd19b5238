//! What can go wrong when generating a scenario.

use delever_graph::BuildError;

/// An error from a generator or from writing its files.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// A generator parameter is out of range.
    #[error("{param}: {message}")]
    InvalidParameter {
        /// The parameter's name (the CLI flag without its dashes, e.g. `mu`).
        param: &'static str,
        /// What is wrong, with the value given.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The generated network was refused by the graph builder (a bug in a generator).
    #[error("the generated network is invalid: {0}")]
    Build(#[from] BuildError),
    /// Writing a file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The engine refused a run (a bug in a generator: its shocks are always valid).
    #[error("engine: {0}")]
    Engine(#[from] delever_engine::EngineError),
}

impl GenerateError {
    /// The hint that goes with the error, if any.
    pub fn hint(&self) -> Option<&str> {
        match self {
            GenerateError::InvalidParameter { hint, .. } => Some(hint),
            _ => None,
        }
    }
}

/// `Err(InvalidParameter)` unless `ok`.
pub(crate) fn check(
    ok: bool,
    param: &'static str,
    message: impl FnOnce() -> String,
    hint: &str,
) -> Result<(), GenerateError> {
    if ok {
        Ok(())
    } else {
        Err(GenerateError::InvalidParameter {
            param,
            message: message(),
            hint: hint.to_string(),
        })
    }
}
