//! The Caccioli window of contagion as a self-contained SVG: probability of contagion
//! against mean diversification `μ_b` (log scale), one curve per leverage.
//!
//! Accessible by construction: a `<title>` and `<desc>` the figure is labelled by, labelled
//! axes, a legend, and Okabe–Ito colours (distinguishable with the common colour-vision
//! deficiencies) doubled by a marker shape per curve, so no reader depends on colour.

use std::fmt::Write as _;

/// Okabe & Ito's colour-blind-safe palette (yellow left out: too faint on white).
pub const OKABE_ITO: [&str; 7] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
];

/// One curve of the figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// Legend label, e.g. `λ = 20`.
    pub label: String,
    /// `(μ_b, probability)` points, `μ_b > 0`, in increasing `μ_b`.
    pub points: Vec<(f64, f64)>,
}

const W: f64 = 820.0;
const H: f64 = 480.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 660.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 400.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A marker of shape `k` (circle, square, triangle, diamond, …) centred at `(x, y)`.
fn marker(k: usize, x: f64, y: f64, colour: &str) -> String {
    match k % 4 {
        0 => format!(r#"<circle cx="{x:.1}" cy="{y:.1}" r="4" fill="{colour}"/>"#),
        1 => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{colour}"/>"#,
            x - 3.5,
            y - 3.5
        ),
        2 => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{:.1} L{:.1},{:.1} Z" fill="{colour}"/>"#,
            y - 5.0,
            x + 4.5,
            y + 3.5,
            x - 4.5,
            y + 3.5
        ),
        _ => format!(
            r#"<path d="M{x:.1},{:.1} L{:.1},{y:.1} L{x:.1},{:.1} L{:.1},{y:.1} Z" fill="{colour}"/>"#,
            y - 5.0,
            x + 5.0,
            y + 5.0,
            x - 5.0
        ),
    }
}

/// Render `curves` with `title` and the longer description `desc` (for screen readers).
pub fn window_svg(curves: &[Curve], title: &str, desc: &str) -> String {
    let mus = curves.iter().flat_map(|c| c.points.iter().map(|p| p.0));
    let (lo, hi) = mus.fold((f64::INFINITY, 0.0f64), |(lo, hi), m| {
        (lo.min(m), hi.max(m))
    });
    let (lo, hi) = if lo.is_finite() && hi > lo && lo > 0.0 {
        (lo, hi)
    } else {
        (1.0, 100.0)
    };
    let (l0, l1) = (lo.ln(), hi.ln());
    let x = |m: f64| LEFT + (m.ln() - l0) / (l1 - l0) * (RIGHT - LEFT);
    let y = |p: f64| BOTTOM - p.clamp(0.0, 1.0) * (BOTTOM - TOP);
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img" aria-labelledby="title desc" font-family="Helvetica, Arial, sans-serif" font-size="13">"#
    );
    let _ = writeln!(s, r#"<title id="title">{}</title>"#, esc(title));
    let _ = writeln!(s, r#"<desc id="desc">{}</desc>"#, esc(desc));
    let _ = writeln!(s, r#"<rect width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="32" font-size="16" font-weight="bold">{}</text>"#,
        esc(title)
    );
    // Grid and ticks: y every 0.2, x at 1-2-5 decades inside the range.
    for k in 0..=5 {
        let p = f64::from(k) * 0.2;
        let yy = y(p);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yy:.1}" x2="{RIGHT}" y2="{yy:.1}" stroke="#dddddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{p:.1}</text>"##,
            LEFT - 8.0,
            yy + 4.0
        );
    }
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi * 1.0001 {
        for m in [1.0, 2.0, 5.0].map(|f| f * decade) {
            if m >= lo * 0.9999 && m <= hi * 1.0001 {
                let xx = x(m);
                let _ = writeln!(
                    s,
                    r##"<line x1="{xx:.1}" y1="{TOP}" x2="{xx:.1}" y2="{BOTTOM}" stroke="#dddddd"/><text x="{xx:.1}" y="{:.1}" text-anchor="middle">{m}</text>"##,
                    BOTTOM + 18.0
                );
            }
        }
        decade *= 10.0;
    }
    let _ = writeln!(
        s,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#333333"/>"##,
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">Mean diversification μ_b (assets per bank, log scale)</text>"#,
        f64::midpoint(LEFT, RIGHT),
        BOTTOM + 44.0
    );
    let _ = writeln!(
        s,
        r#"<text transform="translate(24 {:.1}) rotate(-90)" text-anchor="middle">Probability of contagion (more than 5% of banks fail)</text>"#,
        f64::midpoint(TOP, BOTTOM)
    );
    for (k, c) in curves.iter().enumerate() {
        let colour = OKABE_ITO[k % OKABE_ITO.len()];
        let path: Vec<String> = c
            .points
            .iter()
            .map(|&(m, p)| format!("{:.1},{:.1}", x(m), y(p)))
            .collect();
        let _ = writeln!(
            s,
            r#"<g><title>{}</title><polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            esc(&c.label),
            path.join(" ")
        );
        for &(m, p) in &c.points {
            s.push_str(&marker(k, x(m), y(p), colour));
        }
        s.push_str("</g>\n");
        let ly = TOP + 10.0 + 24.0 * k as f64;
        let _ = writeln!(
            s,
            r#"<line x1="{:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{colour}" stroke-width="2"/>{}<text x="{:.1}" y="{:.1}">{}</text>"#,
            RIGHT + 20.0,
            RIGHT + 50.0,
            marker(k, RIGHT + 35.0, ly, colour),
            RIGHT + 58.0,
            ly + 4.0,
            esc(&c.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_is_labelled_and_deterministic() {
        let curves = vec![
            Curve {
                label: "λ = 10".into(),
                points: vec![(1.0, 0.0), (4.0, 0.5), (16.0, 0.0)],
            },
            Curve {
                label: "λ = 20 <b>".into(),
                points: vec![(1.0, 0.0), (4.0, 1.0), (16.0, 0.2)],
            },
        ];
        let a = window_svg(&curves, "Window", "Probability of contagion");
        assert_eq!(a, window_svg(&curves, "Window", "Probability of contagion"));
        for needle in [
            "<title id=\"title\">Window</title>",
            "<desc id=\"desc\">",
            "aria-labelledby",
            "Mean diversification",
            "Probability of contagion (more",
            "λ = 10",
            "λ = 20 &lt;b&gt;",
            OKABE_ITO[0],
            OKABE_ITO[1],
        ] {
            assert!(a.contains(needle), "{needle}");
        }
        // μ = 1 sits on the left edge, probability 1 on the top edge.
        assert!(a.contains(&format!("{LEFT:.1},{BOTTOM:.1}")));
        assert!(a.contains(&format!(",{TOP:.1}")));
    }
}
