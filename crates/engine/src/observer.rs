//! [`Observer`]: a per-round callback, for progress display and tracing.

use crate::outcome::RoundTrace;

/// Receives every round of a run as it finishes (argmin-style observers).
///
/// Any `FnMut(&RoundTrace)` closure is an observer of the main iteration:
///
/// ```
/// # use delever_engine::RoundTrace;
/// let mut rounds = 0;
/// let mut observe = |_t: &RoundTrace| rounds += 1;
/// # let _ = &mut observe;
/// ```
pub trait Observer {
    /// A round of the main iteration (from the shocked prices down to the greatest fixed
    /// point) has finished.
    fn round(&mut self, trace: &RoundTrace);
    /// A round of the least-fixed-point iteration has finished (only when
    /// [`crate::EngineConfig::least_fixed_point`] is set). Ignored by default.
    fn least_round(&mut self, trace: &RoundTrace) {
        let _ = trace;
    }
}

impl<F: FnMut(&RoundTrace)> Observer for F {
    fn round(&mut self, trace: &RoundTrace) {
        self(trace);
    }
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn round(&mut self, _trace: &RoundTrace) {}
}
