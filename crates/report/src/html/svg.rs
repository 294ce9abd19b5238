//! Small helpers for writing HTML and SVG by hand: escaping, number formats, axis ticks.

use std::fmt::Write as _;

/// Escape text for HTML and SVG, in element content and in quoted attributes alike.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON made safe to sit inside a `<script>` element: no `<`, `>` or `&` (so no
/// `</script>` or `<!--`), no line separators JavaScript treats as line ends.
pub(crate) fn script_json(v: &serde_json::Value) -> String {
    let text = serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned());
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with one decimal (SVG output stays small and deterministic).
pub(crate) fn f1(x: f64) -> String {
    if x.is_finite() {
        let r = (x * 10.0).round() / 10.0;
        // Avoid "-0.0".
        if r == 0.0 {
            "0".to_owned()
        } else if r.fract() == 0.0 {
            format!("{r:.0}")
        } else {
            format!("{r:.1}")
        }
    } else {
        "0".to_owned()
    }
}

/// A signed percentage with a true minus sign: `−11.2%`, `+0.4%`, `0.0%`.
pub(crate) fn signed_pct(x: f64) -> String {
    let v = x * 100.0;
    if !v.is_finite() {
        return String::from("n/a");
    }
    let r = (v * 10.0).round() / 10.0;
    if r == 0.0 {
        "0.0%".to_owned()
    } else if r < 0.0 {
        format!("\u{2212}{:.1}%", -r)
    } else {
        format!("+{r:.1}%")
    }
}

/// USD with a true minus sign, in human units (`$1.23B`, `−$450.00M`).
pub(crate) fn money(x: f64) -> String {
    crate::text::usd(x).replacen('-', "\u{2212}", 1)
}

/// USD for axis ticks: as short as the step allows (`$5B`, `$2.5B`, `$500M`).
pub(crate) fn money_tick(x: f64, step: f64) -> String {
    if x == 0.0 {
        return "$0".to_owned();
    }
    let sign = if x < 0.0 { "\u{2212}" } else { "" };
    let a = x.abs();
    let (div, unit) = if a >= 1e12 || step >= 1e12 {
        (1e12, "T")
    } else if a >= 1e9 || step >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 || step >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 || step >= 1e3 {
        (1e3, "K")
    } else {
        (1.0, "")
    };
    let v = a / div;
    let s = step / div;
    let decimals = if s >= 1.0 {
        0
    } else if s >= 0.1 {
        1
    } else {
        2
    };
    format!("{sign}${v:.decimals$}{unit}")
}

/// A percentage tick (`−10%`, `−2.5%`) given the step (fractions).
pub(crate) fn pct_tick(x: f64, step: f64) -> String {
    let v = x * 100.0;
    let s = step * 100.0;
    let decimals = if s >= 1.0 {
        0
    } else if s >= 0.1 {
        1
    } else {
        2
    };
    let r = format!("{:.decimals$}", v.abs());
    let zero = r.chars().all(|c| c == '0' || c == '.');
    if v < 0.0 && !zero {
        format!("\u{2212}{r}%")
    } else {
        format!("{r}%")
    }
}

/// "Nice" ticks covering `[lo, hi]`: a step of 1, 2 or 5 × 10^k giving about `target`
/// intervals. Returns (first, step, count).
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> (f64, f64, usize) {
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else if lo == 0.0 {
        (-1.0, 1.0)
    } else {
        (lo - lo.abs() * 0.05, hi + lo.abs() * 0.05)
    };
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() * step;
    let last = (hi / step).ceil() * step;
    let count = ((last - first) / step).round() as usize + 1;
    (first, step, count.clamp(2, 40))
}

/// Push label positions apart so neighbours are at least `gap` apart, keeping them inside
/// `[lo, hi]` as far as possible. `ys` are the wanted positions; returns the placed ones in
/// the same order. Deterministic (ties by index).
pub(crate) fn spread(ys: &[f64], gap: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..ys.len()).collect();
    order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]).then(a.cmp(&b)));
    let mut placed: Vec<f64> = order.iter().map(|&i| ys[i].clamp(lo, hi.max(lo))).collect();
    // Push down so neighbours are `gap` apart, then back up from the bottom edge.
    for k in 1..placed.len() {
        if placed[k] < placed[k - 1] + gap {
            placed[k] = placed[k - 1] + gap;
        }
    }
    if let Some(last) = placed.last_mut()
        && *last > hi
    {
        *last = hi;
    }
    for k in (0..placed.len().saturating_sub(1)).rev() {
        if placed[k] > placed[k + 1] - gap {
            placed[k] = placed[k + 1] - gap;
        }
    }
    let mut out = vec![0.0; ys.len()];
    for (k, &i) in order.iter().enumerate() {
        out[i] = placed[k];
    }
    out
}

/// `<text>` with escaped content.
pub(crate) fn text(out: &mut String, x: f64, y: f64, attrs: &str, content: &str) {
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\"{}{attrs}>{}</text>",
        f1(x),
        f1(y),
        if attrs.is_empty() { "" } else { " " },
        esc(content)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            esc("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
        let v = serde_json::json!({"id": "</script><!-- \u{2028}"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('\u{2028}'));
        let back: serde_json::Value = serde_json::from_str(&s).expect("still JSON");
        assert_eq!(back, v);
    }

    #[test]
    fn ticks_are_nice_and_cover_the_range() {
        let (first, step, n) = nice_ticks(-0.13, -0.085, 5);
        assert!(first <= -0.13 && first + step * (n - 1) as f64 >= -0.085);
        assert!((step - 0.01).abs() < 1e-12, "{step}");
        let (first, step, _) = nice_ticks(0.0, 2.02e10, 5);
        assert_eq!(first, 0.0);
        assert!((step - 5e9).abs() < 1.0, "{step}");
        assert_eq!(money_tick(1.5e10, 5e9), "$15B");
        assert_eq!(money_tick(2.5e9, 5e8), "$2.5B");
        assert_eq!(pct_tick(-0.1, 0.01), "\u{2212}10%");
        assert_eq!(pct_tick(-0.0, 0.01), "0%");
    }

    #[test]
    fn labels_spread_apart_in_order() {
        let ys = spread(&[10.0, 11.0, 11.5, 200.0], 10.0, 0.0, 100.0);
        assert_eq!(ys[0], 10.0);
        assert!(ys[1] >= 20.0 && ys[2] >= ys[1] + 10.0);
        assert!(ys[3] <= 100.0);
        assert_eq!(signed_pct(-0.1123), "\u{2212}11.2%");
        assert_eq!(f1(-0.01), "0");
        assert_eq!(f1(12.25), "12.3");
    }
}
