//! Regime changes along a sweep's curve: where, as the first swept parameter grows more
//! severe, the first margin call, holder default, lender loss or lender default appears,
//! and where amplification jumps well beyond its local slope. These replace the "cliff"
//! (the largest change between grid neighbours), which on a smooth convex curve only
//! points at its steep end.
//!
//! Also the readable name and unit of a swept field path, shared by the sweep's table and
//! HTML page.

use serde::Serialize;

use crate::batch::{ParamValue, RunFigures, SweepDoc, SweepRow};

/// A step of amplification counts as a jump when it is this many times steeper than both
/// neighbouring steps: a smooth curve on an even grid has neighbouring slopes within a
/// factor of ~3 of each other (x² from 0: 1, 3, 5, …), a tipping point many times more.
const JUMP_RATIO: f64 = 4.0;
/// …and when it is at least this large (in ×): smaller steps are noise, not a regime.
const JUMP_FLOOR: f64 = 0.05;
/// Lender losses below this (USD) are float noise, not a loss.
const LOSS_EPS: f64 = 0.005;

/// What changes at a regime boundary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegimeKind {
    /// The first margin call.
    FirstMarginCall,
    /// The first holder default.
    FirstDefault,
    /// The first loss passed to a lender.
    FirstLenderLoss,
    /// The first lender whose losses exceed its capital.
    FirstLenderDefault,
    /// Amplification jumps by much more than its local slope.
    AmplificationJump,
}

impl RegimeKind {
    /// The change in words, as charts and tables label it.
    pub fn label(self) -> &'static str {
        match self {
            RegimeKind::FirstMarginCall => "first margin call",
            RegimeKind::FirstDefault => "first default",
            RegimeKind::FirstLenderLoss => "first lender loss",
            RegimeKind::FirstLenderDefault => "first lender default",
            RegimeKind::AmplificationJump => "amplification jump",
        }
    }
}

/// One regime change of a curve: it happens between two neighbouring grid points (the
/// grid cannot say where in between).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Regime {
    /// What changes.
    pub kind: RegimeKind,
    /// [`RegimeKind::label`].
    pub label: &'static str,
    /// The first parameter at the milder side of the boundary.
    pub x_before: f64,
    /// The first parameter at the more severe side, where the change is seen.
    pub x_after: f64,
    /// The sweep row (grid index) at the milder side.
    pub index_before: u64,
    /// The sweep row (grid index) at the more severe side.
    pub index_after: u64,
    /// What changed, in words (`defaults 0 → 2`).
    pub detail: String,
    /// The change in one sentence (`first default between Shock 1 return = −10% and
    /// −12%: defaults 0 → 2`).
    pub text: String,
}

/// The regime changes of one curve: the rows sharing every parameter but the first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveRegimes {
    /// The other parameters' values, keyed by field path (empty with one parameter).
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The changes, in the order of severity along the curve.
    pub regimes: Vec<Regime>,
}

/// A "first" to look for: its kind, the figure that shows it, the figure in words.
type First = (RegimeKind, fn(&RunFigures) -> f64, &'static str);

/// The regime changes of a curve given as (x, grid index, figures), in any order. Points
/// with a non-finite x are left out. The direction of severity is the one in which total
/// loss grows between the curve's two ends (x falling for a swept negative shock); each
/// "first" is the first step, walking that way, from a point without the thing to one
/// with it. `x_name` names the first parameter in the sentences.
#[allow(clippy::too_many_lines)]
pub fn curve_regimes(points: &[(f64, u64, &RunFigures)], x_name: &str) -> Vec<Regime> {
    let mut pts: Vec<(f64, u64, &RunFigures)> =
        points.iter().copied().filter(|p| p.0.is_finite()).collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    if pts.len() < 2 {
        return Vec::new();
    }
    let ends = (
        pts.first().map_or(f64::NAN, |p| p.2.total_loss_usd),
        pts.last().map_or(f64::NAN, |p| p.2.total_loss_usd),
    );
    if ends.0.is_finite() && ends.1.is_finite() && ends.0 > ends.1 {
        pts.reverse();
    }
    let fraction = param_is_fraction(x_name);
    let xs = |a: f64, b: f64| {
        format!(
            "between {} = {} and {}",
            param_label(x_name),
            param_value_text(a, fraction),
            param_value_text(b, fraction)
        )
    };
    let mut out = Vec::new();
    let firsts: [First; 4] = [
        (
            RegimeKind::FirstMarginCall,
            |f| f.margin_calls as f64,
            "margin calls",
        ),
        (RegimeKind::FirstDefault, |f| f.defaults as f64, "defaults"),
        (
            RegimeKind::FirstLenderLoss,
            |f| f.lender_losses_usd,
            "lender losses",
        ),
        (
            RegimeKind::FirstLenderDefault,
            |f| f.lender_defaults as f64,
            "lender defaults",
        ),
    ];
    for (kind, get, what) in firsts {
        let some = |f: &RunFigures| {
            let v = get(f);
            v.is_finite() && v > LOSS_EPS
        };
        let Some(w) = pts.windows(2).find(|w| !some(w[0].2) && some(w[1].2)) else {
            continue;
        };
        let (a, b) = (w[0], w[1]);
        let fmt = |v: f64| {
            if kind == RegimeKind::FirstLenderLoss {
                crate::text::usd(v)
            } else {
                format!("{v:.0}")
            }
        };
        let detail = format!("{what} {} \u{2192} {}", fmt(get(a.2)), fmt(get(b.2)));
        out.push(Regime {
            kind,
            label: kind.label(),
            x_before: a.0,
            x_after: b.0,
            index_before: a.1,
            index_after: b.1,
            text: format!("{} {}: {detail}", kind.label(), xs(a.0, b.0)),
            detail,
        });
    }
    // Amplification jumps: a step many times steeper than its neighbours on both sides.
    let amp: Vec<f64> = pts.iter().map(|p| p.2.amplification).collect();
    let slope = |i: usize| -> Option<f64> {
        let (dx, dy) = (pts[i + 1].0 - pts[i].0, amp[i + 1] - amp[i]);
        (dx != 0.0 && dy.is_finite()).then(|| (dy / dx).abs())
    };
    let steps = pts.len() - 1;
    if steps >= 2 {
        for i in 0..steps {
            let Some(s) = slope(i) else { continue };
            let jump = (amp[i + 1] - amp[i]).abs();
            let neighbours: Vec<f64> = [i.checked_sub(1), (i + 1 < steps).then_some(i + 1)]
                .into_iter()
                .flatten()
                .filter_map(slope)
                .collect();
            if jump < JUMP_FLOOR || neighbours.is_empty() {
                continue;
            }
            let local = neighbours.iter().copied().fold(0.0, f64::max);
            if s > JUMP_RATIO * local {
                let (a, b) = (pts[i], pts[i + 1]);
                let detail = format!(
                    "amplification {:.3}x \u{2192} {:.3}x, {}",
                    amp[i],
                    amp[i + 1],
                    if local > 0.0 {
                        format!("{:.0} times the slope either side", (s / local).floor())
                    } else {
                        "where the curve is flat either side".to_owned()
                    }
                );
                out.push(Regime {
                    kind: RegimeKind::AmplificationJump,
                    label: RegimeKind::AmplificationJump.label(),
                    x_before: a.0,
                    x_after: b.0,
                    index_before: a.1,
                    index_after: b.1,
                    text: format!("amplification jump {}: {detail}", xs(a.0, b.0)),
                    detail,
                });
            }
        }
    }
    // In the order met walking towards severity.
    let pos = |x: f64| pts.iter().position(|p| p.0 == x).unwrap_or(usize::MAX);
    out.sort_by_key(|r| (pos(r.x_after), r.kind as u8));
    out
}

/// The value of parameter `i` of a row, as a JSON value (`null` when the row lacks it).
fn value_json(row: &SweepRow, i: usize) -> serde_json::Value {
    match row.values.get(i) {
        Some(ParamValue::Number(x)) => serde_json::Number::from_f64(*x)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(ParamValue::Text(s)) => serde_json::Value::String(s.clone()),
        None => serde_json::Value::Null,
    }
}

/// The regime changes of every curve of a sweep (rows grouped by every parameter but the
/// first, in order of first appearance). Empty when the first parameter is not numeric.
pub fn sweep_regimes(doc: &SweepDoc) -> Vec<CurveRegimes> {
    let Some(x_name) = doc.parameters.first() else {
        return Vec::new();
    };
    let mut curves: Vec<(Vec<String>, Vec<usize>)> = Vec::new();
    for (r, row) in doc.rows.iter().enumerate() {
        let key: Vec<String> = (1..doc.parameters.len())
            .map(|i| value_json(row, i).to_string())
            .collect();
        match curves.iter_mut().find(|c| c.0 == key) {
            Some(c) => c.1.push(r),
            None => curves.push((key, vec![r])),
        }
    }
    curves
        .into_iter()
        .filter_map(|(_, rows)| {
            let first = &doc.rows[*rows.first()?];
            let pts: Vec<(f64, u64, &RunFigures)> = rows
                .iter()
                .filter_map(|&r| {
                    let row = &doc.rows[r];
                    row.values
                        .first()
                        .and_then(ParamValue::as_f64)
                        .map(|x| (x, row.index, &row.figures))
                })
                .collect();
            if pts.len() != rows.len() {
                return None;
            }
            let params = (1..doc.parameters.len())
                .map(|i| (doc.parameters[i].clone(), value_json(first, i)))
                .collect();
            Some(CurveRegimes {
                params,
                regimes: curve_regimes(&pts, x_name),
            })
        })
        .collect()
}

/// The regime changes of every curve as text after the sweep's table: a heading, then one
/// line per change (prefixed by the curve's other parameters when there are several
/// curves); nothing when the first parameter is not numeric.
pub fn regimes_text(out: &mut String, doc: &SweepDoc) {
    use std::fmt::Write as _;
    let curves = sweep_regimes(doc);
    if curves.is_empty() {
        return;
    }
    out.push_str("\nregime changes (as the first parameter grows more severe):\n");
    for c in &curves {
        let name = c
            .params
            .iter()
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k} = {s}"),
                v => format!("{k} = {v}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let prefix = if name.is_empty() {
            String::new()
        } else {
            format!("{name}: ")
        };
        if c.regimes.is_empty() {
            let _ = writeln!(
                out,
                "  {prefix}none (no first call, default or lender loss inside the grid, no jump)"
            );
        }
        for r in &c.regimes {
            let _ = writeln!(out, "  {prefix}{}", r.text);
        }
    }
}

/// Field names whose values are fractions (shown as percentages): returns, margins,
/// shares, ratios and volatilities (docs/scenario-format.md).
const FRACTIONS: [&str; 20] = [
    "return",
    "maintenance",
    "reset",
    "cure_rate",
    "ltv",
    "share",
    "by",
    "fraction",
    "min_ratio",
    "default_below_ratio",
    "floor",
    "daily_vol",
    "implied_vol",
    "target_vol",
    "realised_vol",
    "band",
    "participation",
    "permanent",
    "haircut",
    "trigger",
];

/// The last field name of a path, without its index (`shocks[0].return` → `return`).
fn leaf(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// Whether the field at `path` holds a fraction (shown as a percentage).
pub fn param_is_fraction(path: &str) -> bool {
    FRACTIONS.contains(&leaf(path))
}

/// A readable name for a swept field path: `shocks[0].return` → `Shock 1 return`,
/// `holders[*].margin.maintenance` → `Margin maintenance (every holder)`,
/// `assets[ILLIQ].impact.alpha` → `Impact alpha (asset ILLIQ)`.
pub fn param_label(path: &str) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut owner: Option<(String, String)> = None;
    for seg in path.split('.') {
        let (name, index) = match seg.split_once('[') {
            Some((n, rest)) => (n, Some(rest.trim_end_matches(']'))),
            None => (seg, None),
        };
        let name = name.replace('_', " ");
        match index {
            Some(ix) if owner.is_none() => {
                let singular = name.strip_suffix('s').unwrap_or(&name).to_owned();
                let ix = match ix.parse::<u64>() {
                    Ok(n) => (n + 1).to_string(),
                    Err(_) if ix == "*" => "every".to_owned(),
                    Err(_) => ix.to_owned(),
                };
                owner = Some((singular, ix));
            }
            _ => words.push(name),
        }
    }
    let body = words.join(" ");
    let text = match owner {
        Some((o, ix)) if o == "shock" => format!("{o} {ix} {body}"),
        Some((o, ix)) if ix == "every" => format!("{body} (every {o})"),
        Some((o, ix)) => format!("{body} ({o} {ix})"),
        None => body,
    };
    let mut c = text.trim().chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => path.to_owned(),
    }
}

/// A value of a swept parameter in words: a percentage for a fraction (`−12%`), else
/// the number as written; a true minus sign.
pub fn param_value_text(x: f64, fraction: bool) -> String {
    let s = if fraction && x.is_finite() {
        let p = format!("{:.4}", x * 100.0);
        format!("{}%", p.trim_end_matches('0').trim_end_matches('.'))
    } else {
        format!("{}", x + 0.0)
    };
    match s.strip_prefix('-') {
        Some(rest)
            if rest
                .trim_end_matches('%')
                .chars()
                .any(|c| c.is_ascii_digit() && c != '0') =>
        {
            format!("\u{2212}{rest}")
        }
        Some(rest) => rest.to_owned(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig(amp: f64, calls: u64, defaults: u64, lender: f64) -> RunFigures {
        RunFigures {
            termination: "converged".to_owned(),
            rounds: 3,
            initial_loss_usd: 1e9,
            total_loss_usd: amp * 1e9,
            amplification: amp,
            forced_sales_usd: 0.0,
            defaults,
            margin_calls: calls,
            lender_losses_usd: lender,
            borrower_shortfalls_usd: 0.0,
            interbank_losses_usd: 0.0,
            lender_defaults: 0,
            multiple_equilibria: false,
            loss_by_kind: vec![],
        }
    }

    #[test]
    fn firsts_are_found_walking_towards_severity() {
        // A negative shock: severity grows as x falls; the first call at −0.2, the first
        // default at −0.3, a lender loss at −0.4. The largest step (the old "cliff") is at
        // the steep end, −0.4 to −0.5; no jump either: the curve is smooth.
        let f = [
            fig(1.0, 0, 0, 0.0),
            fig(1.1, 2, 0, 0.0),
            fig(1.3, 3, 1, 0.0),
            fig(1.6, 4, 2, 5e6),
            fig(2.0, 5, 3, 9e6),
        ];
        let pts: Vec<(f64, u64, &RunFigures)> = [-0.1, -0.2, -0.3, -0.4, -0.5]
            .iter()
            .zip(&f)
            .enumerate()
            .map(|(i, (x, f))| (*x, i as u64, f))
            .collect();
        let r = curve_regimes(&pts, "shocks[0].return");
        let kinds: Vec<RegimeKind> = r.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            [
                RegimeKind::FirstMarginCall,
                RegimeKind::FirstDefault,
                RegimeKind::FirstLenderLoss
            ]
        );
        assert_eq!((r[1].x_before, r[1].x_after), (-0.2, -0.3));
        assert_eq!(
            r[1].text,
            "first default between Shock 1 return = \u{2212}20% and \u{2212}30%: defaults 0 \u{2192} 1"
        );
        assert!(
            r[2].text.ends_with("lender losses $0.00 \u{2192} $5.00M"),
            "{}",
            r[2].text
        );
    }

    #[test]
    fn a_jump_beyond_the_local_slope_is_one_and_a_smooth_curve_has_none() {
        let jumpy = [1.0, 1.05, 1.1, 3.0, 3.05, 3.1].map(|a| fig(a, 0, 0, 0.0));
        let pts: Vec<(f64, u64, &RunFigures)> = jumpy
            .iter()
            .enumerate()
            .map(|(i, f)| (i as f64, i as u64, f))
            .collect();
        let r = curve_regimes(&pts, "x");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].kind, RegimeKind::AmplificationJump);
        assert_eq!((r[0].x_before, r[0].x_after), (2.0, 3.0));
        // x² and eˣ on an even grid: steep at the end, but no jump.
        for curve in [
            [0.0, 1.0, 4.0, 9.0, 16.0, 25.0].map(|a| 1.0 + a),
            [0.0, 1.0, 2.0, 3.0, 4.0, 5.0].map(f64::exp),
        ] {
            let figs = curve.map(|a| fig(a, 0, 0, 0.0));
            let pts: Vec<(f64, u64, &RunFigures)> = figs
                .iter()
                .enumerate()
                .map(|(i, f)| (i as f64, i as u64, f))
                .collect();
            assert_eq!(curve_regimes(&pts, "x"), vec![], "{curve:?}");
        }
        // Already there at the mildest point, or never: no first.
        let always = [fig(1.0, 1, 0, 0.0), fig(1.0, 2, 0, 0.0)];
        let pts: Vec<(f64, u64, &RunFigures)> = always
            .iter()
            .enumerate()
            .map(|(i, f)| (i as f64, i as u64, f))
            .collect();
        assert_eq!(curve_regimes(&pts, "x"), vec![]);
        assert_eq!(curve_regimes(&[], "x"), vec![]);
    }

    #[test]
    fn field_paths_read_as_words() {
        assert_eq!(param_label("shocks[0].return"), "Shock 1 return");
        assert_eq!(
            param_label("holders[*].margin.maintenance"),
            "Margin maintenance (every holder)"
        );
        assert_eq!(
            param_label("assets[ILLIQ].impact.alpha"),
            "Impact alpha (asset ILLIQ)"
        );
        assert_eq!(param_label("defaults.impact.y"), "Defaults impact y");
        assert_eq!(param_label("engine.max_rounds"), "Engine max rounds");
        assert!(param_is_fraction("shocks[0].return"));
        assert!(!param_is_fraction("defaults.impact.y"));
        assert_eq!(param_value_text(-0.125, true), "\u{2212}12.5%");
        assert_eq!(param_value_text(-0.0, true), "0%");
        assert_eq!(param_value_text(0.7, false), "0.7");
    }
}
