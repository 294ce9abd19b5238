//! The validated `teach:` block: the sliders `delever serve` shows for a scenario.

use crate::convert::Cx;
use crate::spec::TeachSpec;
use crate::template::FieldPath;

/// Most sliders one scenario may declare: a page of sliders is already hard to read.
pub const MAX_SLIDERS: usize = 12;

/// Most steps from a slider's `min` to its `max`: finer is not movable by hand.
pub const MAX_SLIDER_STEPS: f64 = 10_000.0;

/// Longest slider label, in characters.
pub const MAX_LABEL_CHARS: usize = 80;

/// One slider of the `teach:` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Slider {
    /// The field it sets, in the sweep's field-path grammar (checked for syntax here; the
    /// server checks that it names something in the scenario).
    pub path: String,
    /// What it moves, in words.
    pub label: String,
    /// Lowest value.
    pub min: f64,
    /// Highest value.
    pub max: f64,
    /// Step between values.
    pub step: f64,
}

/// Check the `teach:` block (at `teach`), reporting problems located at their fields.
pub(crate) fn teach(cx: &mut Cx<'_>, spec: Option<&TeachSpec>) -> Vec<Slider> {
    let Some(spec) = spec else {
        return Vec::new();
    };
    if spec.sliders.len() > MAX_SLIDERS {
        cx.err(
            "teach.sliders",
            format!(
                "{} sliders; at most {MAX_SLIDERS} are allowed",
                spec.sliders.len()
            ),
            Some("keep the parameters that matter for the lesson".into()),
        );
    }
    let mut out = Vec::new();
    for (i, s) in spec.sliders.iter().enumerate() {
        let at = format!("teach.sliders[{i}]");
        let mut ok = true;
        if let Err(e) = FieldPath::parse(&s.path) {
            cx.err(
                format!("{at}.path"),
                format!("not a field path: {e}"),
                Some("write a path as in `run --set`, e.g. `shocks[0].return`".into()),
            );
            ok = false;
        }
        let label = s.label.trim();
        if label.is_empty() || label.chars().count() > MAX_LABEL_CHARS {
            cx.err(
                format!("{at}.label"),
                format!("a label needs 1 to {MAX_LABEL_CHARS} characters"),
                Some("say what the slider moves, e.g. `shock to the asset`".into()),
            );
            ok = false;
        }
        let (min, max, step) = (s.min.0, s.max.0, s.step.0);
        if min >= max {
            cx.err(
                format!("{at}.max"),
                format!("max ({max}) must be above min ({min})"),
                None,
            );
            ok = false;
        }
        if step <= 0.0 || (max > min && (max - min) / step > MAX_SLIDER_STEPS) {
            cx.err(
                format!("{at}.step"),
                format!(
                    "step {step} must be positive and give at most {MAX_SLIDER_STEPS} steps from min to max"
                ),
                Some("a hundred steps move smoothly by hand".into()),
            );
            ok = false;
        }
        if ok {
            out.push(Slider {
                path: s.path.clone(),
                label: label.to_owned(),
                min,
                max,
                step,
            });
        }
    }
    out
}
