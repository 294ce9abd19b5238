//! Sweeps: every variant of a grid run in parallel, one row each.

use std::ops::Range;

use delever_graph::KindTag;
use delever_report::batch::{ParamValue, SweepRow};
use delever_scenario::{FieldPath, OverrideValue, Template};
use rayon::prelude::*;

use crate::BatchError;
use crate::figures::{figures, kinds};
use crate::grid::Grid;

/// A sweep ready to run: the template, its grid, and the parsed paths.
#[derive(Debug)]
pub struct Sweep<'a> {
    template: &'a Template,
    grid: &'a Grid,
    paths: Vec<FieldPath>,
    kinds: Vec<KindTag>,
    max_rounds: Option<u32>,
}

impl<'a> Sweep<'a> {
    /// Check every path of `grid` against the scenario (so a typo fails before anything
    /// runs) and prepare the sweep. `max_rounds` overrides the scenario's round limit.
    pub fn new(
        template: &'a Template,
        grid: &'a Grid,
        max_rounds: Option<u32>,
    ) -> Result<Sweep<'a>, BatchError> {
        let mut paths = Vec::with_capacity(grid.params.len());
        for p in &grid.params {
            let path = checked_path(template, &p.path).map_err(|e| match e {
                PathProblem::Syntax(message) => BatchError::Vary {
                    spec: p.path.clone(),
                    message,
                    hint: PATH_HINT.into(),
                },
                PathProblem::Missing(source) => BatchError::Path {
                    spec: p.path.clone(),
                    source,
                },
            })?;
            paths.push(path);
        }
        Ok(Sweep {
            template,
            grid,
            paths,
            kinds: kinds(&template.base().network),
            max_rounds,
        })
    }

    /// Names of the holder kinds, the order of `loss_by_kind`.
    pub fn kind_names(&self) -> Vec<String> {
        self.kinds.iter().map(|k| k.name().to_owned()).collect()
    }

    /// `path = value, …` of variant `index`.
    pub fn label(&self, index: u64) -> String {
        self.grid
            .params
            .iter()
            .zip(self.grid.point(index))
            .map(|(p, v)| format!("{} = {v}", p.path))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Run variants `range` in parallel; `tick` is called after each. Rows come back in
    /// grid order; the first failing variant (in grid order) is the error.
    pub fn run(
        &self,
        range: Range<u64>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<SweepRow>, BatchError> {
        let rows: Vec<Result<SweepRow, BatchError>> = range
            .into_par_iter()
            .map(|i| {
                let r = self.variant(i);
                tick();
                r
            })
            .collect();
        rows.into_iter().collect()
    }

    /// Variant `index`: its scenario and its cascade.
    pub fn variant(&self, index: u64) -> Result<SweepRow, BatchError> {
        let values = self.grid.point(index);
        let overrides: Vec<(FieldPath, OverrideValue)> = self
            .paths
            .iter()
            .cloned()
            .zip(values.iter().map(override_value))
            .collect();
        let scenario =
            self.template
                .instantiate(&overrides)
                .map_err(|source| BatchError::Variant {
                    index,
                    label: self.label(index),
                    source,
                })?;
        let mut cfg = scenario.engine.clone();
        if let Some(m) = self.max_rounds {
            cfg.max_rounds = m;
        }
        let out =
            delever_engine::run(&scenario.network, &scenario.shocks, &cfg).map_err(|source| {
                BatchError::Engine {
                    what: "variant",
                    index,
                    source,
                }
            })?;
        Ok(SweepRow {
            index,
            values,
            figures: figures(&out, &self.kinds),
        })
    }
}

/// How to write a field path, for the hint of a path that does not parse.
pub(crate) const PATH_HINT: &str = "a field path is keys and [index], [id] or [*] selectors, e.g. holders[hf-1].margin.maintenance; see docs/scenario-format.md, 'Field paths'";

/// Why a field path was refused: it does not parse (the message), or it names nothing in
/// the scenario (located diagnostics with suggestions).
pub(crate) enum PathProblem {
    Syntax(String),
    Missing(delever_scenario::ScenarioError),
}

/// Parse `path` and check that it names something in `template` (shared by `sweep
/// --vary` and `run --set`, so both give the same diagnostics).
pub(crate) fn checked_path(template: &Template, path: &str) -> Result<FieldPath, PathProblem> {
    let parsed = FieldPath::parse(path).map_err(|e| PathProblem::Syntax(e.to_string()))?;
    template.check_path(&parsed).map_err(PathProblem::Missing)?;
    Ok(parsed)
}

/// A grid value as the template's override value.
pub(crate) fn override_value(v: &ParamValue) -> OverrideValue {
    match v {
        ParamValue::Number(x) => OverrideValue::Number(*x),
        ParamValue::Text(s) => OverrideValue::Text(s.clone()),
    }
}
