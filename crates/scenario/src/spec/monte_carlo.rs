//! The `monte_carlo:` block.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use super::numbers::{Num, yaml_float};

/// The `monte_carlo:` block: correlated random log-returns of the assets, drawn by
/// `delever mc` in place of (or on top of) the scenario's price shocks.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MonteCarloSpec {
    /// The distribution of the draws: `{ type: normal }` or `{ type: student_t, dof: 4 }`.
    pub distribution: DistributionSpec,
    /// Horizon of the drawn returns, in trading days (> 0; default 1): vols scale by
    /// √horizon, means by horizon.
    pub horizon_days: Option<Num>,
    /// The assets drawn, with their vols and means (default: every asset, with its own
    /// `daily_vol` and mean 0).
    pub assets: Option<Vec<McAssetSpec>>,
    /// Correlation of the draws: one number for every pair (default 0), or
    /// `{ matrix: [[1, ρ], [ρ, 1]] }` in the order of `assets`.
    pub correlation: Option<CorrelationSpec>,
    /// Apply the scenario's own price shocks as well as the draw (default false: the draw
    /// replaces them; other shocks are kept either way).
    pub scenario_shocks: Option<bool>,
    /// Source id of the parameters.
    pub source: Option<String>,
}

/// A distribution name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum DistName {
    /// Gaussian log-returns.
    Normal,
    /// Student-t log-returns (fat tails), with `dof` degrees of freedom.
    StudentT,
}

/// The distribution of the draws.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DistributionSpec {
    /// `normal` or `student_t`.
    #[serde(rename = "type")]
    pub kind: DistName,
    /// `student_t` (required): degrees of freedom, > 2 (e.g. 4 for daily equity returns).
    pub dof: Option<Num>,
}

/// One asset drawn.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct McAssetSpec {
    /// Asset id.
    pub asset: String,
    /// Daily volatility of the log-return (≥ 0; default: the asset's `daily_vol`).
    pub daily_vol: Option<Num>,
    /// Mean daily log-return (default 0).
    pub daily_mean: Option<Num>,
}

/// A correlation: one number for every pair, or a full matrix.
#[derive(Debug)]
pub(crate) enum CorrelationSpec {
    /// The same correlation for every pair, in [−1, 1].
    Uniform(Num),
    /// The matrix, rows in the order of the drawn assets.
    Matrix(Vec<Vec<Num>>),
}

/// `{ matrix: [[…], …] }`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MatrixSpec {
    matrix: Vec<Vec<Num>>,
}

impl<'de> Deserialize<'de> for CorrelationSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CorrelationSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a correlation (a number in [-1, 1]) or `{ matrix: [[…], …] }`")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<CorrelationSpec, E> {
                if v.is_finite() {
                    Ok(CorrelationSpec::Uniform(Num(v)))
                } else {
                    Err(E::custom(format!(
                        "expected a finite number, found {}",
                        yaml_float(v)
                    )))
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<CorrelationSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<CorrelationSpec, E> {
                self.visit_f64(v as f64)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CorrelationSpec, A::Error> {
                let m = MatrixSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(CorrelationSpec::Matrix(m.matrix))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for CorrelationSpec {
    fn schema_name() -> Cow<'static, str> {
        "Correlation".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "One correlation for every pair of drawn assets, in [-1, 1], or `{ matrix: [[1, ρ], [ρ, 1]] }` in the order of `assets` (symmetric, unit diagonal, positive semidefinite).",
            "anyOf": [
                { "type": "number", "minimum": -1, "maximum": 1 },
                {
                    "type": "object",
                    "properties": {
                        "matrix": {
                            "type": "array",
                            "items": { "type": "array", "items": { "type": "number" } }
                        }
                    },
                    "required": ["matrix"],
                    "additionalProperties": false
                }
            ]
        })
    }
}
