//! Parameter grids: `--vary PATH=START:STOP:STEPS` and `--vary PATH=v1,v2,…`, and their
//! full cartesian product in a fixed order (the last parameter varies fastest).

use delever_report::batch::ParamValue;

use crate::BatchError;

/// Largest grid accepted: beyond this a sweep is a mistake in a `--vary` (a missing
/// comma, a step count of 10⁶), not a study.
pub const MAX_VARIANTS: u64 = 100_000_000;

/// Most points one range may have. A range's values are made when it is parsed, so a
/// typo such as `-0.05:-0.40:33333333` would otherwise allocate hundreds of megabytes
/// before the grid's own limit is checked; a million points on one axis is already far
/// finer than any study needs.
pub const MAX_STEPS: u64 = 1_000_000;

/// One swept parameter: a field path and the values it takes, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Vary {
    /// The field path as written (`shocks[0].return`).
    pub path: String,
    /// Its values, in sweep order.
    pub values: Vec<ParamValue>,
}

impl Vary {
    /// Parse `PATH=START:STOP:STEPS` (`STEPS` points, both ends included; add `:log` for
    /// geometric spacing) or `PATH=v1,v2,…` (numbers, or words such as `sequential`).
    pub fn parse(spec: &str) -> Result<Vary, BatchError> {
        let bad = |message: String, hint: &str| BatchError::Vary {
            spec: spec.to_owned(),
            message,
            hint: hint.to_owned(),
        };
        let Some((path, values)) = spec.split_once('=') else {
            return Err(bad(
                "expected PATH=VALUES".into(),
                "e.g. --vary shocks[0].return=-0.05:-0.40:8 or --vary engine.mode=equilibrium,sequential",
            ));
        };
        let path = path.trim();
        if path.is_empty() {
            return Err(bad(
                "the field path before `=` is empty".into(),
                "name a scenario field, e.g. shocks[0].return",
            ));
        }
        let values = values.trim();
        let values = if values.contains(':') {
            range(values).map_err(|m| {
                bad(
                    m,
                    "a range is START:STOP:STEPS (e.g. -0.05:-0.40:8, or 1e-4:1e-2:5:log); a list is v1,v2,…",
                )
            })?
        } else {
            list(values).map_err(|m| bad(m, "a list is v1,v2,… (e.g. 0.25,0.30,0.35)"))?
        };
        Ok(Vary {
            path: path.to_owned(),
            values,
        })
    }
}

fn number(s: &str, what: &str) -> Result<f64, String> {
    let x: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{what} `{}` is not a number", s.trim()))?;
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!("{what} `{}` is not a finite number", s.trim()))
    }
}

fn range(s: &str) -> Result<Vec<ParamValue>, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let log = match parts.as_slice() {
        [_, _, _] => false,
        [_, _, _, "log"] => true,
        [_, _, _, other] => {
            return Err(format!(
                "the fourth part of a range may only be `log`, got `{other}`"
            ));
        }
        _ => {
            return Err(format!(
                "a range has three parts START:STOP:STEPS, got {} in `{s}`",
                parts.len()
            ));
        }
    };
    let start = number(parts[0], "START")?;
    let stop = number(parts[1], "STOP")?;
    let steps: u64 = parts[2]
        .trim()
        .parse()
        .map_err(|_| format!("STEPS `{}` is not a whole number ≥ 1", parts[2].trim()))?;
    if steps == 0 {
        return Err("STEPS must be at least 1".into());
    }
    if steps == 1 && start != stop {
        return Err(format!(
            "one step from {start} to {stop} is ambiguous; give STEPS ≥ 2, or a single value"
        ));
    }
    if steps > MAX_STEPS {
        return Err(format!(
            "STEPS {steps} is more than {MAX_STEPS}, the most one range may have"
        ));
    }
    if log && (start <= 0.0 || stop <= 0.0) {
        return Err(format!(
            "a log range needs START and STOP > 0, got {start} and {stop}"
        ));
    }
    Ok(linspace(start, stop, steps, log)
        .into_iter()
        .map(ParamValue::Number)
        .collect())
}

/// `steps` points from `start` to `stop`, both included exactly; evenly spaced, or
/// evenly spaced in the logarithm when `log`.
fn linspace(start: f64, stop: f64, steps: u64, log: bool) -> Vec<f64> {
    if steps == 1 {
        return vec![start];
    }
    let last = steps - 1;
    (0..steps)
        .map(|i| {
            // Exactly START and STOP, not exp(ln(x)) ± rounding: people type the ends
            // they mean.
            if i == 0 {
                return start;
            }
            if i == last {
                return stop;
            }
            let t = i as f64 / last as f64;
            let x = if log {
                (start.ln() + t * (stop.ln() - start.ln())).exp()
            } else {
                start + t * (stop - start)
            };
            round12(x)
        })
        .collect()
}

/// `x` to 12 significant digits: a grid point prints as the number a person would type
/// (`-0.012`, not `-0.012000000000000002`) and is still far finer than any step.
fn round12(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

fn list(s: &str) -> Result<Vec<ParamValue>, String> {
    let mut out = Vec::new();
    for (i, item) in s.split(',').enumerate() {
        let item = item.trim();
        if item.is_empty() {
            return Err(format!("value {} of the list is empty", i + 1));
        }
        out.push(match item.parse::<f64>() {
            Ok(x) if x.is_finite() => ParamValue::Number(x),
            Ok(_) => return Err(format!("value `{item}` is not a finite number")),
            Err(_) => ParamValue::Text(item.to_owned()),
        });
    }
    Ok(out)
}

/// The full grid of a sweep: every combination of the parameters' values.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The parameters, in `--vary` order.
    pub params: Vec<Vary>,
    len: u64,
}

impl Grid {
    /// The grid of `params`; refuses repeated paths and grids over [`MAX_VARIANTS`].
    pub fn new(params: Vec<Vary>) -> Result<Grid, BatchError> {
        if params.is_empty() {
            return Err(BatchError::Usage {
                message: "a sweep needs at least one --vary".into(),
                hint: "e.g. --vary shocks[0].return=-0.05:-0.40:8".into(),
            });
        }
        for (i, p) in params.iter().enumerate() {
            if params[..i].iter().any(|q| q.path == p.path) {
                return Err(BatchError::Usage {
                    message: format!("`{}` is varied twice", p.path),
                    hint: "give each field one --vary; list all its values there".into(),
                });
            }
        }
        let mut len: u64 = 1;
        for p in &params {
            len = len
                .checked_mul(p.values.len() as u64)
                .filter(|&n| n <= MAX_VARIANTS)
                .ok_or_else(|| BatchError::Usage {
                    message: format!("the grid has more than {MAX_VARIANTS} variants"),
                    hint: "use fewer steps, or split the study into several sweeps".into(),
                })?;
        }
        Ok(Grid { params, len })
    }

    /// Number of variants (the product of the parameters' value counts).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the grid is empty (never, for a grid [`Grid::new`] accepted).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The values of variant `index` (`< len()`), one per parameter: mixed radix with the
    /// last parameter fastest, so a CSV of the sweep reads like nested loops.
    pub fn point(&self, index: u64) -> Vec<ParamValue> {
        let mut rest = index;
        let mut out = vec![ParamValue::Number(0.0); self.params.len()];
        for (slot, p) in out.iter_mut().zip(&self.params).rev() {
            let n = p.values.len() as u64;
            *slot = p.values[(rest % n) as usize].clone();
            rest /= n;
        }
        out
    }

    /// The parameters' paths, in order.
    pub fn paths(&self) -> Vec<String> {
        self.params.iter().map(|p| p.path.clone()).collect()
    }
}

#[cfg(test)]
// A test that unwraps fails with the line that broke, which is all a message would say.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn nums(v: &Vary) -> Vec<f64> {
        v.values.iter().map(|x| x.as_f64().unwrap()).collect()
    }

    #[test]
    fn ranges_include_both_ends() {
        let v = Vary::parse("shocks[0].return=-0.05:-0.40:8").unwrap();
        assert_eq!(v.path, "shocks[0].return");
        let x = nums(&v);
        assert_eq!(x.len(), 8);
        assert_eq!(x[0], -0.05);
        assert_eq!(x[7], -0.40);
        assert_eq!(x[1], -0.1);
        assert_eq!(x[6], -0.35);
        let y = nums(&Vary::parse("a=-0.002:-0.02:10").unwrap());
        assert_eq!(y[5], -0.012, "rounded to what a person types");
    }

    #[test]
    fn log_ranges_are_geometric() {
        let x = nums(&Vary::parse("impact.l=1e-4:1e-2:3:log").unwrap());
        assert_eq!(x[0], 1e-4);
        assert_eq!(x[1], 1e-3);
        assert_eq!(x[2], 1e-2);
    }

    #[test]
    fn lists_keep_numbers_and_words() {
        let v = Vary::parse("engine.mode = equilibrium, sequential").unwrap();
        assert_eq!(v.path, "engine.mode");
        assert_eq!(
            v.values,
            vec![
                ParamValue::Text("equilibrium".into()),
                ParamValue::Text("sequential".into())
            ]
        );
        assert_eq!(
            nums(&Vary::parse("a=0.25,0.3,1e-3").unwrap()),
            vec![0.25, 0.3, 1e-3]
        );
        assert_eq!(nums(&Vary::parse("a=-0.2").unwrap()), vec![-0.2]);
    }

    #[test]
    fn bad_specs_say_what_and_how() {
        for (spec, needle) in [
            ("shocks[0].return", "PATH=VALUES"),
            ("=1,2", "empty"),
            ("a=1:2", "three parts"),
            ("a=1:2:0", "at least 1"),
            ("a=1:2:x", "whole number"),
            ("a=x:2:3", "START `x`"),
            ("a=0:1:3:lin", "only be `log`"),
            ("a=0:1:3:log", "> 0"),
            ("a=1:2:1", "ambiguous"),
            ("a=1,,2", "empty"),
            ("a=1,inf", "finite"),
            ("a=nan:1:2", "finite"),
            // Found by the field_path fuzz target: 33 million points were made (and
            // took seconds) before any limit was checked.
            ("shocks[0].return=-0.05:-0.40:33333333", "most one range"),
            ("a=0:1:1000001", "most one range"),
        ] {
            let e = Vary::parse(spec).unwrap_err().to_string();
            assert!(e.contains(needle), "{spec}: {e}");
        }
    }

    #[test]
    fn a_range_may_have_a_million_points() {
        let x = nums(&Vary::parse("a=0:1:1000000").unwrap());
        assert_eq!((x.len(), x[0], x[999_999]), (1_000_000, 0.0, 1.0));
    }

    #[test]
    fn grid_points_are_nested_loops() {
        let g = Grid::new(vec![
            Vary::parse("a=1,2").unwrap(),
            Vary::parse("b=10,20,30").unwrap(),
        ])
        .unwrap();
        assert_eq!(g.len(), 6);
        let pts: Vec<(f64, f64)> = (0..6)
            .map(|i| {
                let p = g.point(i);
                (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
            })
            .collect();
        assert_eq!(
            pts,
            vec![
                (1.0, 10.0),
                (1.0, 20.0),
                (1.0, 30.0),
                (2.0, 10.0),
                (2.0, 20.0),
                (2.0, 30.0)
            ]
        );
    }

    #[test]
    fn grids_refuse_repeats_empties_and_explosions() {
        assert!(Grid::new(vec![]).is_err());
        let a = Vary::parse("a=1,2").unwrap();
        assert!(
            Grid::new(vec![a.clone(), a])
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let big = Vary::parse("a=0:1:100000").unwrap();
        let b2 = Vary::parse("b=0:1:100000").unwrap();
        assert!(
            Grid::new(vec![big, b2])
                .unwrap_err()
                .to_string()
                .contains("more than")
        );
    }
}
