//! [`EngineError`]: why a run was refused before it started.

/// A shock or setting the engine cannot apply. The network itself was validated by its
/// builder, so every error here names a shock (by its position in the list) or a setting.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EngineError {
    /// A shock names an asset index the network does not have.
    #[error("shock {shock}: asset index {index} is out of range (the network has {count} assets)")]
    AssetOutOfRange {
        /// Position of the shock in the list.
        shock: usize,
        /// The bad index.
        index: u32,
        /// Number of assets.
        count: usize,
    },
    /// A shock names a holder index the network does not have.
    #[error(
        "shock {shock}: holder index {index} is out of range (the network has {count} holders)"
    )]
    HolderOutOfRange {
        /// Position of the shock in the list.
        shock: usize,
        /// The bad index.
        index: u32,
        /// Number of holders.
        count: usize,
    },
    /// A shock names a lender index the network does not have.
    #[error(
        "shock {shock}: lender index {index} is out of range (the network has {count} lenders)"
    )]
    LenderOutOfRange {
        /// Position of the shock in the list.
        shock: usize,
        /// The bad index.
        index: u32,
        /// Number of lenders.
        count: usize,
    },
    /// A return below −100%: no price can fall by more than all of it.
    #[error("shock {shock}: return {ret} is below -1 (a price cannot fall by more than 100%)")]
    ReturnBelowMinusOne {
        /// Position of the shock in the list.
        shock: usize,
        /// The bad return.
        ret: f64,
    },
    /// A number that must be finite is not.
    #[error("shock {shock}: `{field}` must be a finite number, got {value}")]
    NotFinite {
        /// Position of the shock in the list.
        shock: usize,
        /// The field at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A number that must be ≥ 0 is negative.
    #[error("shock {shock}: `{field}` must be ≥ 0, got {value}")]
    Negative {
        /// Position of the shock in the list.
        shock: usize,
        /// The field at fault.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A tag that no asset carries.
    #[error("shock {shock}: no asset carries the tag `{tag}`")]
    UnknownTag {
        /// Position of the shock in the list.
        shock: usize,
        /// The tag.
        tag: String,
    },
    /// A redemption fraction outside `[0, 1]`.
    #[error("shock {shock}: redemption fraction must be in [0, 1], got {fraction}")]
    RedemptionOutOfRange {
        /// Position of the shock in the list.
        shock: usize,
        /// The bad fraction.
        fraction: f64,
    },
    /// A redemption aimed at a holder that has no investors to redeem.
    #[error(
        "shock {shock}: `{holder}` is a {kind}; only funds and leveraged ETFs face redemptions"
    )]
    NotRedeemable {
        /// Position of the shock in the list.
        shock: usize,
        /// Holder id.
        holder: String,
        /// Its kind's name.
        kind: &'static str,
    },
    /// A holder index the network does not have (asked of [`crate::explain`]).
    #[error("holder index {index} is out of range (the network has {count} holders)")]
    NoSuchHolder {
        /// The bad index.
        index: u32,
        /// Number of holders.
        count: usize,
    },
    /// An outcome handed to [`crate::explain::Replay`] that is not a run of its network.
    #[error("the outcome is not a run of this network (asset, holder or lender counts differ)")]
    ForeignOutcome,
    /// A sequential run handed to [`crate::explain::Replay`]: its rounds carry balance
    /// sheets from one to the next, so they cannot be re-evaluated from prices alone.
    #[error(
        "a sequential run cannot be replayed round by round (its balance sheets carry over \
         between rounds); explain and the HTML player follow equilibrium runs"
    )]
    SequentialReplay,
    /// A run whose trace omits rounds (it took more than [`crate::TRACE_ROUNDS`]) handed to
    /// [`crate::explain::Replay`]: a replay needs every round's prices.
    #[error(
        "the run took {rounds} rounds; its trace keeps the first {kept} and the last, so its \
         rounds cannot be replayed one by one (explain and the HTML player need every round)"
    )]
    TraceTruncated {
        /// Rounds the run took.
        rounds: u32,
        /// Rounds the trace keeps in full.
        kept: u32,
    },
    /// A figure of the outcome overflowed to infinity or became NaN: some input is too large
    /// for double precision in combination with the others. Never reported as a result.
    #[error(
        "{place}: `{field}` is not a finite number ({value}): the inputs are too large to \
         compute with (a product of prices, sizes or multiples overflowed)"
    )]
    NonFiniteResult {
        /// Where: `holder `x``, `asset `y``, `the totals`, `round 3`, …
        place: String,
        /// The outcome field.
        field: &'static str,
        /// The value found.
        value: f64,
    },
    /// A shock scheduled on a day the run does not have.
    #[error(
        "shock {shock}: day {day} is outside the run's {days} day(s) ({mode} mode){}",
        if *days == 1 { "; only the timeline mode has days after day 0" } else { "" }
    )]
    DayOutsideHorizon {
        /// Position of the shock in the list.
        shock: usize,
        /// The day asked for.
        day: u32,
        /// Days the run has.
        days: u32,
        /// The engine mode.
        mode: &'static str,
    },
    /// A dated shock inside another dated shock.
    #[error("shock {shock}: a dated shock cannot contain another dated shock")]
    NestedDay {
        /// Position of the shock in the list.
        shock: usize,
    },
    /// An engine setting out of range.
    #[error("engine setting `{field}`: {message}")]
    InvalidConfig {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}
