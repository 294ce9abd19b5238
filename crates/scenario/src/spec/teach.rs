//! The `teach:` block: which parameters `delever serve` offers as sliders.

use schemars::JsonSchema;
use serde::Deserialize;

use super::Num;

/// Classroom settings for `delever serve`: the parameters a student may move.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeachSpec {
    /// Sliders, in the order the page shows them (at most 12).
    #[serde(default)]
    pub sliders: Vec<SliderSpec>,
}

/// One slider: a scenario field, in the sweep's field-path grammar, and its range.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SliderSpec {
    /// Field path, as in `run --set` and `sweep --vary`: `shocks[0].return`,
    /// `assets[ILLIQ].impact.alpha`, `holders[*].rule.min_ratio`.
    pub path: String,
    /// What the slider moves, in words (at most 80 characters).
    pub label: String,
    /// Lowest value.
    pub min: Num,
    /// Highest value (above `min`).
    pub max: Num,
    /// Step between values (positive; at most 10,000 steps from `min` to `max`).
    pub step: Num,
}
