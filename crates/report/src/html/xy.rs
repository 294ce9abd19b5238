//! Numeric x–y charts shared by the sweep and Monte Carlo pages: value formats, a numeric
//! x axis, point markers, and the axis frame around a plot. Every value that reaches a
//! chart may be NaN or infinite; those are left out, never drawn at a made-up place.

use std::fmt::Write as _;

use super::charts::{Frame, y_axis};
use super::svg::{esc, f1, money, money_tick, nice_ticks, text};

/// Okabe–Ito colours for series, in order (yellow last: pale on white).
pub(crate) const SERIES_COLOURS: [&str; 7] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000",
];
/// Dash patterns that tell series apart once colours repeat (and in greyscale print).
pub(crate) const SERIES_DASHES: [&str; 3] = ["", "6 3", "2 3"];

/// The colour and dash pattern of series `i`.
pub(crate) fn series_style(i: usize) -> (&'static str, &'static str) {
    (
        SERIES_COLOURS[i % SERIES_COLOURS.len()],
        SERIES_DASHES[(i / SERIES_COLOURS.len()) % SERIES_DASHES.len()],
    )
}

/// How a chart's values read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    /// US dollars (`$1.2B`).
    Usd,
    /// A ratio (`1.35×`).
    Times,
    /// A count of things.
    Count,
    /// A share between 0 and 1, shown as a percentage.
    Share,
    /// Any other number.
    Plain,
}

impl Unit {
    /// A value in full, for tables and tooltips. Not finite: `n/a` (or `+∞`/`−∞`).
    pub(crate) fn fmt(self, v: f64) -> String {
        if v.is_nan() {
            return "n/a".to_owned();
        }
        if v.is_infinite() {
            return if v > 0.0 {
                "+\u{221e}"
            } else {
                "\u{2212}\u{221e}"
            }
            .to_owned();
        }
        match self {
            Unit::Usd => money(v),
            Unit::Times => format!("{}\u{00d7}", minus(&format!("{v:.3}"))),
            Unit::Count => minus(&format!("{v:.0}")),
            Unit::Share => minus(&format!("{:.1}%", v * 100.0)),
            Unit::Plain => {
                if v != 0.0 && (v.abs() >= 1e7 || v.abs() < 1e-4) {
                    return minus(&format!("{v:.3e}"));
                }
                let s = format!("{v:.4}");
                minus(s.trim_end_matches('0').trim_end_matches('.'))
            }
        }
    }

    /// A tick label given the tick step.
    pub(crate) fn tick(self, v: f64, step: f64) -> String {
        match self {
            Unit::Usd => money_tick(v, step),
            Unit::Times => format!("{}\u{00d7}", num_tick(v, step)),
            Unit::Count | Unit::Plain => num_tick(v, step),
            Unit::Share => format!("{}%", num_tick(v * 100.0, step * 100.0)),
        }
    }
}

/// A true minus sign, and never `-0`.
fn minus(s: &str) -> String {
    let zero = s
        .trim_start_matches('-')
        .chars()
        .all(|c| !c.is_ascii_digit() || c == '0');
    match s.strip_prefix('-') {
        Some(rest) if zero => rest.to_owned(),
        Some(rest) => format!("\u{2212}{rest}"),
        None => s.to_owned(),
    }
}

/// A numeric tick with as many decimals as the step needs.
pub(crate) fn num_tick(v: f64, step: f64) -> String {
    let decimals = if step >= 1.0 || step <= 0.0 || !step.is_finite() {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(6)
    };
    minus(&format!("{v:.decimals$}"))
}

/// The finite range of some values, or `None` when none is finite.
pub(crate) fn finite_range(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    (lo <= hi).then_some((lo, hi))
}

/// A plot's frame and value ranges in both directions.
pub(crate) struct Plot {
    pub f: Frame,
    pub x: (f64, f64),
    pub y: (f64, f64),
}

impl Plot {
    /// Frame `f` with nice ticks around the x and y ranges (`y_zero`: include 0 in y).
    /// Returns the plot and its (x, y) ticks.
    pub(crate) fn new(
        f: Frame,
        x: (f64, f64),
        y: (f64, f64),
        y_zero: bool,
    ) -> (Plot, (f64, f64, usize), (f64, f64, usize)) {
        let xt = nice_ticks(x.0, x.1, 6);
        let (ylo, yhi) = if y_zero {
            (y.0.min(0.0), y.1.max(0.0))
        } else {
            (y.0, y.1)
        };
        let yt = nice_ticks(ylo, yhi, 5);
        let span = |t: (f64, f64, usize)| (t.0, t.0 + t.1 * (t.2 - 1) as f64);
        // Nice ticks may not cover a single point; `nice_ticks` widens degenerate ranges.
        let plot = Plot {
            f,
            x: span(xt),
            y: span(yt),
        };
        (plot, xt, yt)
    }
    /// Screen x of a value.
    pub(crate) fn sx(&self, v: f64) -> f64 {
        if self.x.1 <= self.x.0 {
            f64::midpoint(self.f.left, self.f.right)
        } else {
            self.f.left + (self.f.right - self.f.left) * (v - self.x.0) / (self.x.1 - self.x.0)
        }
    }
    /// Screen y of a value.
    pub(crate) fn sy(&self, v: f64) -> f64 {
        self.f.y(v, self.y.0, self.y.1)
    }
    /// Both axes: grid lines, ticks and titles.
    pub(crate) fn axes(
        &self,
        out: &mut String,
        xt: (f64, f64, usize),
        yt: (f64, f64, usize),
        x: (&str, Unit),
        y: (&str, Unit),
    ) {
        y_axis(out, &self.f, self.y.0, self.y.1, yt, &|v, s| y.1.tick(v, s));
        let (first, step, count) = xt;
        out.push_str("<g class=\"axis x\">");
        let _ = write!(
            out,
            "<line class=\"base\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
            f1(self.f.left),
            f1(self.f.right),
            f1(self.f.bottom),
            f1(self.f.bottom)
        );
        for i in 0..count {
            let v = first + step * i as f64;
            let sx = self.sx(v);
            let _ = write!(
                out,
                "<line class=\"gl\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
                f1(self.f.bottom),
                f1(self.f.bottom + 4.0),
                x = f1(sx)
            );
            text(
                out,
                sx,
                self.f.bottom + 18.0,
                "text-anchor=\"middle\"",
                &x.1.tick(v, step),
            );
        }
        text(
            out,
            f64::midpoint(self.f.left, self.f.right),
            self.f.height - 4.0,
            "class=\"axis-title\" text-anchor=\"middle\"",
            x.0,
        );
        out.push_str("</g>");
        text(
            out,
            12.0,
            f64::midpoint(self.f.top, self.f.bottom),
            &format!(
                "class=\"axis-title\" text-anchor=\"middle\" transform=\"rotate(-90 12 {})\"",
                f1(f64::midpoint(self.f.top, self.f.bottom))
            ),
            y.0,
        );
    }
}

/// How a point is marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mark {
    /// A plain dot.
    Dot,
    /// The run did not converge: a hollow square.
    NotConverged,
    /// Several equilibria: a diamond.
    Multiple,
}

/// A marker at screen (x, y) in `colour`, with an escaped tooltip.
pub(crate) fn marker(out: &mut String, x: f64, y: f64, colour: &str, mark: Mark, tip: &str) {
    let (x, y) = (f1(x), f1(y));
    match mark {
        Mark::Dot => {
            let _ = write!(
                out,
                "<circle class=\"pt\" cx=\"{x}\" cy=\"{y}\" r=\"3\" fill=\"{colour}\"><title>{}</title></circle>",
                esc(tip)
            );
        }
        Mark::NotConverged => {
            let _ = write!(
                out,
                "<rect class=\"pt nc\" x=\"{x}\" y=\"{y}\" width=\"9\" height=\"9\" transform=\"translate(-4.5 -4.5)\" \
                 fill=\"#fff\" stroke=\"{colour}\"><title>{}</title></rect>",
                esc(tip)
            );
        }
        Mark::Multiple => {
            let _ = write!(
                out,
                "<rect class=\"pt me\" x=\"{x}\" y=\"{y}\" width=\"8\" height=\"8\" \
                 transform=\"rotate(45 {x} {y}) translate(-4 -4)\" fill=\"{colour}\" stroke=\"#000\"><title>{}</title></rect>",
                esc(tip)
            );
        }
    }
}

/// The legend of point marks, as HTML.
pub(crate) fn mark_legend() -> &'static str {
    "<ul class=\"legend\" aria-label=\"Point marks\"><li><svg class=\"mk\" viewBox=\"0 0 12 12\" aria-hidden=\"true\">\
     <circle cx=\"6\" cy=\"6\" r=\"3\" fill=\"#555\"/></svg>converged</li>\
     <li><svg class=\"mk\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><rect x=\"1.5\" y=\"1.5\" width=\"9\" height=\"9\" \
     fill=\"#fff\" stroke=\"#555\" stroke-width=\"1.5\"/></svg>did not converge</li>\
     <li><svg class=\"mk\" viewBox=\"0 0 12 12\" aria-hidden=\"true\"><rect x=\"2\" y=\"2\" width=\"8\" height=\"8\" \
     transform=\"rotate(45 6 6)\" fill=\"#555\" stroke=\"#000\"/></svg>several equilibria</li></ul>"
}

/// An empty chart's stand-in: a short note in place of the plot.
pub(crate) fn no_values(what: &str) -> String {
    format!(
        "<p class=\"muted empty\">No finite values of {} to plot.</p>",
        esc(what)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_well() {
        assert_eq!(Unit::Times.fmt(1.3), "1.300\u{00d7}");
        assert_eq!(Unit::Times.fmt(f64::NAN), "n/a");
        assert_eq!(Unit::Usd.fmt(f64::INFINITY), "+\u{221e}");
        assert_eq!(Unit::Share.fmt(0.125), "12.5%");
        assert_eq!(Unit::Count.fmt(-0.2), "0");
        assert_eq!(Unit::Plain.fmt(-0.15), "\u{2212}0.15");
        assert_eq!(Unit::Plain.fmt(2.0), "2");
        assert_eq!(num_tick(-0.1, 0.05), "\u{2212}0.10");
        assert_eq!(num_tick(-0.0, 0.05), "0.00");
        assert_eq!(
            finite_range([f64::NAN, 2.0, -1.0].into_iter()),
            Some((-1.0, 2.0))
        );
        assert_eq!(finite_range([f64::NAN].into_iter()), None);
    }
}
