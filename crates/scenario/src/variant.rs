//! Scenario variants: the same network with other shocks, engine settings or impact
//! laws, each with its own expected results (`variants:` in the format).
//!
//! A scenario file holds one network; a study usually asks the same question several ways
//! (shock sizes, impact levels, equilibrium against sequential). Variants say what
//! changes and nothing else. They are validated when the scenario loads, with the same
//! diagnostics as the base (`variants[3].shocks[0].return`), and expanded on request into
//! ordinary [`Scenario`]s ([`Scenario::variant`], [`Scenario::expand`]).

use delever_engine::{EngineConfig, Shock};
use delever_graph::{AssetIx, ImpactDecay, ImpactLaw};

use crate::{Diagnostic, Expectations, Scenario, ScenarioError};

/// A validated variant: what it changes in the base scenario.
#[derive(Debug, Clone)]
pub struct Variant {
    /// Its name, unique among the scenario's variants (letters, digits, `-`, `_`, `.`).
    pub name: String,
    /// What it changes, in words.
    pub description: Option<String>,
    /// The shocks it runs with: its own, or the base's when it gives none.
    pub shocks: Vec<Shock>,
    /// Engine settings: the base's, with the keys it gives replaced.
    pub engine: EngineConfig,
    /// Assets whose impact law (and its decay over days) it replaces.
    pub impact: Vec<(AssetIx, ImpactLaw, ImpactDecay)>,
    /// Its expected results (the base's are not inherited).
    pub expect: Option<Expectations>,
}

impl Scenario {
    /// The variant called `name`, if the scenario has one.
    pub fn find_variant(&self, name: &str) -> Option<&Variant> {
        self.variants.iter().find(|v| v.name == name)
    }

    /// The scenario `v` describes: this network with the variant's impact laws, and the
    /// variant's shocks, engine settings and expectations. It is named
    /// `<scenario>@<variant>` and has no variants of its own. The expanded scenario owns a
    /// copy of the network (account books are shared, not copied).
    ///
    /// Variants are validated when the scenario loads, so this fails only for a
    /// [`Variant`] built by hand with laws the network refuses.
    pub fn variant(&self, v: &Variant) -> Result<Scenario, ScenarioError> {
        let network = if v.impact.is_empty() {
            self.network.clone()
        } else {
            self.network.with_impacts(&v.impact).map_err(|e| {
                ScenarioError::from(
                    e.problems
                        .into_iter()
                        .map(|p| Diagnostic {
                            file: self.origin(),
                            line: None,
                            column: None,
                            path: format!("variants.{}.impact", v.name),
                            message: p.to_string(),
                            hint: None,
                        })
                        .collect::<Vec<_>>(),
                )
            })?
        };
        Ok(Scenario {
            name: format!("{}@{}", self.name, v.name),
            description: v
                .description
                .clone()
                .unwrap_or_else(|| self.description.clone()),
            as_of: self.as_of.clone(),
            sources: self.sources.clone(),
            assumptions: self.assumptions.clone(),
            network,
            shocks: v.shocks.clone(),
            engine: v.engine.clone(),
            expect: v.expect.clone(),
            variants: Vec::new(),
            monte_carlo: self.monte_carlo.clone(),
            teach: self.teach.clone(),
            path: self.path.clone(),
        })
    }

    /// Every variant expanded ([`Scenario::variant`]), in file order.
    pub fn expand(&self) -> Result<Vec<Scenario>, ScenarioError> {
        self.variants.iter().map(|v| self.variant(v)).collect()
    }

    fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| self.name.clone(), |p| p.display().to_string())
    }
}
