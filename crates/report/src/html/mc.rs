//! The Monte Carlo page (`delever mc --html`): the distribution of total loss with its value
//! at risk and expected shortfall, the convexity picture (initial against total loss per draw), the probability of
//! defaults and margin calls, the loss of each holder kind, and every metric's quantiles.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use delever_graph::KindTag;

use super::charts::{Frame, open_svg};
use super::svg::{esc, f1, text};
use super::xy::{Mark, Plot, Unit, finite_range, mark_legend, marker, no_values};
use super::{ScenarioNotes, card_list, kind_colour, kind_label, page_open, scenario_section};
use crate::batch::{Distribution, McDraw, McSummary};
use crate::run::RunMeta;

/// Above this many draws the scatter shows a deterministic sample.
pub(crate) const MAX_SCATTER: usize = 5_000;
/// Most tail draws (the worst by total loss) always kept in the scatter.
const MAX_TAIL: usize = 1_000;
/// Relative tolerance when matching quantile levels across metrics.
const LEVEL_EPS: f64 = 1e-9;
/// The histogram's axis covers the draws between these quantiles when the tail beyond
/// would take more than [`TAIL_SHARE`] of the axis; the draws outside are summarised in
/// a note, so that a few extreme draws do not squeeze the bulk into a couple of bars.
const BULK: (f64, f64) = (0.005, 0.995);
/// See [`BULK`].
const TAIL_SHARE: f64 = 0.25;
/// A generous width of one character of an 11 px label, px.
const CHAR_W: f64 = 6.4;
/// Height of a row of marker labels, px.
const LABEL_ROW: f64 = 13.0;

/// How a metric's values read, from its name.
fn unit_of(metric: &str) -> Unit {
    if metric.ends_with("_usd") || metric.starts_with("loss_by_kind.") {
        Unit::Usd
    } else if metric == "amplification" {
        Unit::Times
    } else if metric.contains("defaults") || metric.contains("calls") {
        Unit::Count
    } else {
        Unit::Plain
    }
}

/// A level as a percentage (`99%`, `97.5%`).
fn level(p: f64) -> String {
    let s = format!("{:.2}", p * 100.0);
    format!("{}%", s.trim_end_matches('0').trim_end_matches('.'))
}

/// The value at level `p` in a list of `(level, value)` pairs.
fn at(pairs: &[(f64, f64)], p: f64) -> Option<f64> {
    pairs
        .iter()
        .find(|(q, _)| (q - p).abs() <= LEVEL_EPS)
        .map(|(_, v)| *v)
}

/// Every level in some lists of `(level, value)` pairs, sorted, without repeats.
fn levels<'a>(lists: impl Iterator<Item = &'a [(f64, f64)]>) -> Vec<f64> {
    let mut all: Vec<f64> = lists
        .flat_map(|l| l.iter().map(|(p, _)| *p))
        .filter(|p| p.is_finite())
        .collect();
    all.sort_by(f64::total_cmp);
    all.dedup_by(|a, b| (*a - *b).abs() <= LEVEL_EPS);
    all
}

/// A metric's name in words (`loss_by_kind.bank` → `loss: banks`).
fn metric_label(name: &str) -> String {
    match name {
        "total_loss_usd" => "total loss".to_owned(),
        "initial_loss_usd" => "initial loss (the shock)".to_owned(),
        "cascade_loss_usd" => "cascade loss (total \u{2212} initial)".to_owned(),
        "forced_sales_usd" => "forced sales".to_owned(),
        "amplification" => "amplification".to_owned(),
        "lender_losses_usd" => "losses borne by lenders".to_owned(),
        "borrower_shortfalls_usd" => "borrower shortfalls".to_owned(),
        "interbank_losses_usd" => "interbank losses".to_owned(),
        _ => match name.strip_prefix("loss_by_kind.") {
            Some(k) => format!("loss: {}", kind_style(k).0),
            None => name.trim_end_matches("_usd").replace(['_', '.'], " "),
        },
    }
}

/// The p-quantile of sorted finite values (type 7, as the summary's).
fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * p.clamp(0.0, 1.0);
    let (i, frac) = (h.floor() as usize, h - h.floor());
    let next = v.get(i + 1).copied().unwrap_or(v[i]);
    v[i] + frac * (next - v[i])
}

/// The histogram's range: the draws' full range, or the bulk between the [`BULK`]
/// quantiles on a side whose tail would take more than [`TAIL_SHARE`] of the axis.
pub(crate) fn bulk_range(sorted: &[f64]) -> Option<(f64, f64)> {
    let (min, max) = (*sorted.first()?, *sorted.last()?);
    let (qlo, qhi) = (
        quantile_sorted(sorted, BULK.0),
        quantile_sorted(sorted, BULK.1),
    );
    let span = qhi - qlo;
    if span <= 0.0 {
        return Some((min, max));
    }
    let lo = if qlo - min > TAIL_SHARE * span {
        qlo
    } else {
        min
    };
    let hi = if max - qhi > TAIL_SHARE * span {
        qhi
    } else {
        max
    };
    Some((lo, hi))
}

/// Places labels centred at screen x's in rows, left to right, each in the first row
/// where it clears the previous label by 4 px, keeping inside [left, right]. Returns each
/// label's centre and row, and the rows used.
pub(crate) fn label_rows(
    items: &[(f64, usize)],
    left: f64,
    right: f64,
) -> (Vec<(f64, usize)>, usize) {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| items[a].0.total_cmp(&items[b].0));
    let mut ends: Vec<f64> = Vec::new();
    let mut placed = vec![(0.0, 0); items.len()];
    for i in order {
        let (x, chars) = items[i];
        let w = CHAR_W * chars as f64;
        let cx = x.clamp(left + w / 2.0, (right - w / 2.0).max(left + w / 2.0));
        let row = if let Some(r) = ends.iter().position(|&e| cx - w / 2.0 >= e + 4.0) {
            r
        } else {
            ends.push(f64::NEG_INFINITY);
            ends.len() - 1
        };
        ends[row] = cx + w / 2.0;
        placed[i] = (cx, row);
    }
    (placed, ends.len())
}

fn metric<'s>(s: &'s McSummary, name: &str) -> Option<&'s Distribution> {
    s.metrics.iter().find(|m| m.metric == name)
}

/// A holder kind's readable name and colour, from its serialised name.
fn kind_style(name: &str) -> (String, &'static str) {
    KindTag::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .map_or_else(
            || (name.to_owned(), "#999999"),
            |k| (kind_label(k).to_owned(), kind_colour(k)),
        )
}

/// The draws the scatter shows, in draw order: all of them up to [`MAX_SCATTER`]; beyond,
/// every k-th draw plus the tail (the worst 1% by total loss, at most [`MAX_TAIL`]).
/// Returns the positions and whether the draws were sampled.
pub(crate) fn scatter_sample(draws: &[McDraw]) -> (Vec<usize>, bool) {
    let n = draws.len();
    let tail = tail_positions(draws);
    if n <= MAX_SCATTER {
        return ((0..n).collect(), false);
    }
    let k = n.div_ceil(MAX_SCATTER - tail.len()).max(1);
    let mut keep: BTreeSet<usize> = (0..n).step_by(k).collect();
    keep.extend(tail);
    (keep.into_iter().collect(), true)
}

/// Positions of the worst 1% of draws by total loss (at least one, at most [`MAX_TAIL`]);
/// ties by position. Draws with a non-finite loss are not in the tail.
fn tail_positions(draws: &[McDraw]) -> BTreeSet<usize> {
    let mut idx: Vec<usize> = (0..draws.len())
        .filter(|&i| draws[i].figures.total_loss_usd.is_finite())
        .collect();
    idx.sort_by(|&a, &b| {
        draws[b]
            .figures
            .total_loss_usd
            .total_cmp(&draws[a].figures.total_loss_usd)
            .then(a.cmp(&b))
    });
    let count = draws.len().div_ceil(100).clamp(1, MAX_TAIL);
    idx.into_iter().take(count).collect()
}

/// Histogram of total loss across draws, with markers at each value at risk and expected
/// shortfall. The axis covers the bulk of the draws ([`bulk_range`]); the draws and
/// markers beyond it are summarised in the note returned with the chart.
#[allow(clippy::too_many_lines)]
fn histogram(draws: &[McDraw], dist: Option<&Distribution>) -> (String, String) {
    let mut values: Vec<f64> = draws
        .iter()
        .map(|d| d.figures.total_loss_usd)
        .filter(|v| v.is_finite())
        .collect();
    values.sort_by(f64::total_cmp);
    let mut risk: Vec<(&str, f64, f64)> = dist
        .map(|d| {
            let var = d.var.iter().map(|(a, v)| ("VaR", *a, *v));
            let es = d.es.iter().map(|(a, v)| ("ES", *a, *v));
            var.chain(es).filter(|t| t.2.is_finite()).collect()
        })
        .unwrap_or_default();
    risk.sort_by(|a, b| a.2.total_cmp(&b.2).then(a.1.total_cmp(&b.1)));
    let Some((lo, hi)) = bulk_range(&values) else {
        return (no_values("total loss across draws"), String::new());
    };
    let (min, max) = (values[0], values[values.len() - 1]);
    let inside: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v| *v >= lo && *v <= hi)
        .collect();
    let bins = if inside.len() >= 1600 {
        40
    } else {
        (inside.len() as f64).sqrt().ceil().clamp(5.0, 40.0) as usize
    };
    // One value, or all equal: a single bar of some width around it.
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        let pad = (lo.abs() * 0.05).max(1.0);
        (lo - pad, hi + pad)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in &inside {
        let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64;
    let mut f = Frame {
        width: 1000.0,
        height: 290.0,
        left: 56.0,
        right: 968.0,
        top: 8.0,
        bottom: 248.0,
    };
    // The x scale does not depend on the frame's top: place the labels first.
    let (probe, _, _) = Plot::new(Frame { ..f }, (lo, hi), (0.0, top), true);
    // Markers inside the axis (its nice ticks reach a little past the bulk) are drawn;
    // the rest are named in the note.
    let (shown, off): (Vec<_>, Vec<_>) = risk
        .iter()
        .copied()
        .partition(|t| t.2 >= probe.x.0 && t.2 <= probe.x.1);
    let names: Vec<String> = shown
        .iter()
        .map(|(name, a, _)| format!("{name} {}", level(*a)))
        .collect();
    let items: Vec<(f64, usize)> = shown
        .iter()
        .zip(&names)
        .map(|(t, n)| (probe.sx(t.2), n.chars().count()))
        .collect();
    let (placed, rows) = label_rows(&items, 2.0, f.width - 2.0);
    let extra = LABEL_ROW * rows as f64;
    f.top += extra;
    f.bottom += extra;
    f.height += extra;
    let (plot, xt, yt) = Plot::new(f, (lo, hi), (0.0, top), true);
    let mut out = String::new();
    let desc = format!(
        "{} draws in {bins} bins from {} to {}. {}",
        inside.len(),
        Unit::Usd.fmt(lo),
        Unit::Usd.fmt(hi),
        risk.iter()
            .map(|(name, a, v)| format!("{name} at {}: {}", level(*a), Unit::Usd.fmt(*v)))
            .collect::<Vec<_>>()
            .join("; ")
    );
    open_svg(
        &mut out,
        "mc-hist",
        &plot.f,
        "Total loss across draws",
        &desc,
    );
    plot.axes(
        &mut out,
        xt,
        yt,
        ("total loss at the fixed point", Unit::Usd),
        ("draws", Unit::Count),
    );
    for (b, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let (x0, x1) = (lo + width * b as f64, lo + width * (b + 1) as f64);
        let (sx0, sx1) = (plot.sx(x0), plot.sx(x1));
        let y = plot.sy(c as f64);
        let _ = write!(
            out,
            "<rect class=\"hbar\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
            f1(sx0),
            f1(y),
            f1((sx1 - sx0).max(0.5)),
            f1((plot.f.bottom - y).max(0.0)),
            esc(&format!(
                "{c} draws from {} to {}",
                Unit::Usd.fmt(x0),
                Unit::Usd.fmt(x1)
            ))
        );
    }
    for (((name, a, v), label), (cx, row)) in shown.iter().zip(&names).zip(&placed) {
        let x = plot.sx(*v);
        let ly = LABEL_ROW * (*row as f64 + 1.0) - 2.0;
        let _ = write!(
            out,
            "<g><title>{}</title><line class=\"risk {}\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
            esc(&format!("{name} at {}: {}", level(*a), Unit::Usd.fmt(*v))),
            if *name == "VaR" { "var" } else { "es" },
            f1(ly + 3.0),
            f1(plot.f.bottom),
            x = f1(x)
        );
        text(
            &mut out,
            *cx,
            ly,
            "class=\"risk-label\" text-anchor=\"middle\"",
            label,
        );
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    let mut note = Vec::new();
    let below = values.iter().filter(|v| **v < lo).count();
    let above = values.iter().filter(|v| **v > hi).count();
    if above > 0 {
        note.push(format!(
            "{above} draw{} above {} (up to {}) {} left off the axis",
            if above == 1 { "" } else { "s" },
            Unit::Usd.fmt(hi),
            Unit::Usd.fmt(max),
            if above == 1 { "is" } else { "are" }
        ));
    }
    if below > 0 {
        note.push(format!(
            "{below} draw{} below {} (down to {}) {} left off the axis",
            if below == 1 { "" } else { "s" },
            Unit::Usd.fmt(lo),
            Unit::Usd.fmt(min),
            if below == 1 { "is" } else { "are" }
        ));
    }
    if !off.is_empty() {
        note.push(format!(
            "beyond it: {}",
            off.iter()
                .map(|(name, a, v)| format!("{name} {} {}", level(*a), Unit::Usd.fmt(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let note = if note.is_empty() {
        String::new()
    } else {
        format!(
            "<p class=\"muted tails\" id=\"hist-tails\">The axis shows the bulk of the draws: {}. \
             Every figure on this page counts every draw.</p>",
            esc(&note.join("; "))
        )
    };
    (out, note)
}

/// Initial loss against total loss per draw, with the 45° line (no amplification).
fn scatter(draws: &[McDraw]) -> (String, bool, usize) {
    let (keep, sampled) = scatter_sample(draws);
    let tail = tail_positions(draws);
    let finite = |i: &usize| {
        let f = &draws[*i].figures;
        f.initial_loss_usd.is_finite() && f.total_loss_usd.is_finite()
    };
    let pts: Vec<usize> = keep.into_iter().filter(finite).collect();
    let xr = finite_range(pts.iter().map(|&i| draws[i].figures.initial_loss_usd));
    let yr = finite_range(pts.iter().map(|&i| draws[i].figures.total_loss_usd));
    let (Some(xr), Some(yr)) = (xr, yr) else {
        return (no_values("initial and total loss across draws"), sampled, 0);
    };
    let f = Frame {
        width: 1000.0,
        height: 380.0,
        left: 62.0,
        right: 968.0,
        top: 12.0,
        bottom: 318.0,
    };
    let (plot, xt, yt) = Plot::new(f, xr, yr, false);
    let mut out = String::new();
    open_svg(
        &mut out,
        "mc-scatter",
        &plot.f,
        "Initial loss against total loss, per draw",
        &format!(
            "{} draws{}. Points above the dashed 45-degree line are draws the cascade amplified.",
            pts.len(),
            if sampled {
                format!(" of {} (a deterministic sample)", draws.len())
            } else {
                String::new()
            }
        ),
    );
    plot.axes(
        &mut out,
        xt,
        yt,
        ("initial loss (the shock alone)", Unit::Usd),
        ("total loss", Unit::Usd),
    );
    // The line y = x across the part of the plot where both ranges overlap.
    let (a, b) = (plot.x.0.max(plot.y.0), plot.x.1.min(plot.y.1));
    if a < b {
        let _ = write!(
            out,
            "<line class=\"diag\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"><title>total = initial (no amplification)</title></line>",
            f1(plot.sx(a)),
            f1(plot.sy(a)),
            f1(plot.sx(b)),
            f1(plot.sy(b))
        );
    }
    // Plain dots without tooltips keep a big study's file small; marked draws have one.
    let mut plain = [String::new(), String::new()];
    let mut marked = String::new();
    for &i in &pts {
        let d = &draws[i];
        let fg = &d.figures;
        let (x, y) = (plot.sx(fg.initial_loss_usd), plot.sy(fg.total_loss_usd));
        let is_tail = tail.contains(&i);
        let colour = if is_tail { "#d55e00" } else { "#0072b2" };
        let mk = if fg.termination != "converged" {
            Mark::NotConverged
        } else if fg.multiple_equilibria {
            Mark::Multiple
        } else {
            Mark::Dot
        };
        if mk == Mark::Dot {
            let _ = write!(
                plain[usize::from(is_tail)],
                "<circle cx=\"{}\" cy=\"{}\" r=\"2.2\"/>",
                f1(x),
                f1(y)
            );
        } else {
            let tip = format!(
                "draw {}: initial {}, total {}{}",
                d.index,
                Unit::Usd.fmt(fg.initial_loss_usd),
                Unit::Usd.fmt(fg.total_loss_usd),
                if mk == Mark::NotConverged {
                    format!(" ({})", fg.termination)
                } else {
                    " (several equilibria)".to_owned()
                }
            );
            marker(&mut marked, x, y, colour, mk, &tip);
        }
    }
    let _ = write!(
        out,
        "<g class=\"scat\" fill=\"#0072b2\">{}</g><g class=\"scat\" fill=\"#d55e00\">{}</g>{marked}</svg>",
        plain[0], plain[1]
    );
    (out, sampled, pts.len())
}

/// Probability of lender default, holder default and margin call, as bars.
fn probabilities(s: &McSummary) -> String {
    let rows = [
        ("a lender defaults", s.p_lender_default),
        ("a holder defaults", s.p_holder_default),
        ("a margin call", s.p_margin_call),
    ];
    let f = Frame {
        width: 600.0,
        height: 150.0,
        left: 130.0,
        right: 540.0,
        top: 10.0,
        bottom: 130.0,
    };
    let mut out = String::new();
    open_svg(
        &mut out,
        "mc-prob",
        &f,
        "Share of draws with a default or a margin call",
        &rows
            .iter()
            .map(|(l, p)| format!("{l}: {}", Unit::Share.fmt(*p)))
            .collect::<Vec<_>>()
            .join("; "),
    );
    let band = (f.bottom - f.top) / rows.len() as f64;
    for (i, (label, p)) in rows.iter().enumerate() {
        let y = f.top + band * i as f64;
        let w = if p.is_finite() {
            (f.right - f.left) * p.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f6f7f9\" stroke=\"#d5d9de\"/>\
             <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#d55e00\"/>",
            f1(f.left),
            f1(y + band * 0.2),
            f1(f.right - f.left),
            f1(band * 0.6),
            f1(f.left),
            f1(y + band * 0.2),
            f1(w),
            f1(band * 0.6)
        );
        text(
            &mut out,
            f.left - 8.0,
            y + band * 0.5 + 4.0,
            "text-anchor=\"end\"",
            label,
        );
        text(
            &mut out,
            f.right + 6.0,
            y + band * 0.5 + 4.0,
            "class=\"value\"",
            &Unit::Share.fmt(*p),
        );
    }
    out.push_str("</svg>");
    out
}

/// Loss of each holder kind across draws: whiskers min–max, box between the quartiles (or
/// the outermost quantiles listed), a bar at the median, a dot at the mean.
fn kind_boxes(s: &McSummary) -> String {
    let rows: Vec<(String, &'static str, &Distribution)> = s
        .kinds
        .iter()
        .filter_map(|k| {
            metric(s, &format!("loss_by_kind.{k}")).map(|d| {
                let (label, colour) = kind_style(k);
                (label, colour, d)
            })
        })
        .collect();
    if rows.is_empty() {
        return "<p class=\"muted empty\">No loss metrics by holder kind in this study.</p>"
            .to_owned();
    }
    let values = rows.iter().flat_map(|(_, _, d)| {
        [d.min, d.max, d.mean]
            .into_iter()
            .chain(d.quantiles.iter().map(|q| q.1))
    });
    let Some(xr) = finite_range(values) else {
        return no_values("loss by holder kind");
    };
    let row_h = 34.0;
    let f = Frame {
        width: 600.0,
        height: 56.0 + row_h * rows.len() as f64,
        left: 120.0,
        right: 572.0,
        top: 8.0,
        bottom: 8.0 + row_h * rows.len() as f64,
    };
    let (plot, xt, _) = Plot::new(f, xr, (0.0, 1.0), false);
    let mut out = String::new();
    let desc = rows
        .iter()
        .map(|(l, _, d)| {
            format!(
                "{l}: mean {}, from {} to {}",
                Unit::Usd.fmt(d.mean),
                Unit::Usd.fmt(d.min),
                Unit::Usd.fmt(d.max)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    open_svg(
        &mut out,
        "mc-kinds",
        &plot.f,
        "Loss by holder kind across draws",
        &desc,
    );
    // Only the x axis means anything here; rows are labelled by kind.
    plot.axes(
        &mut out,
        xt,
        (0.0, 2.0, 0),
        ("loss across draws", Unit::Usd),
        ("", Unit::Plain),
    );
    for (i, (label, colour, d)) in rows.iter().enumerate() {
        let cy = plot.f.top + row_h * (i as f64 + 0.5);
        text(
            &mut out,
            plot.f.left - 8.0,
            cy + 4.0,
            "text-anchor=\"end\"",
            label,
        );
        box_row(&mut out, &plot, (cy, row_h), (label, colour), d);
    }
    out.push_str("</svg>");
    out
}

/// One kind's box at height `cy` (rows `row_h` high): whiskers, box, median, mean.
fn box_row(
    out: &mut String,
    plot: &Plot,
    (cy, row_h): (f64, f64),
    (label, colour): (&str, &str),
    d: &Distribution,
) {
    let ps = levels(std::iter::once(d.quantiles.as_slice()));
    let q = |p: f64| at(&d.quantiles, p);
    let (b0, b1) = match (q(0.25), q(0.75)) {
        (Some(a), Some(b)) => (Some(a), Some(b)),
        _ => (
            ps.first().and_then(|p| q(*p)),
            ps.last().and_then(|p| q(*p)),
        ),
    };
    let mut tip = format!(
        "{label}: min {}, mean {}, max {}",
        Unit::Usd.fmt(d.min),
        Unit::Usd.fmt(d.mean),
        Unit::Usd.fmt(d.max)
    );
    for p in &ps {
        if let Some(v) = q(*p) {
            let _ = write!(tip, ", q{} {}", level(*p), Unit::Usd.fmt(v));
        }
    }
    let _ = write!(out, "<g><title>{}</title>", esc(&tip));
    if d.min.is_finite() && d.max.is_finite() {
        let _ = write!(
            out,
            "<line class=\"whisker\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>",
            f1(plot.sx(d.min)),
            f1(plot.sx(d.max)),
            y = f1(cy)
        );
    }
    if let (Some(a), Some(b)) = (b0, b1)
        && a.is_finite()
        && b.is_finite()
    {
        let (x0, x1) = (plot.sx(a.min(b)), plot.sx(a.max(b)));
        let _ = write!(
            out,
            "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"/>",
            f1(x0),
            f1(cy - row_h * 0.3),
            f1((x1 - x0).max(1.0)),
            f1(row_h * 0.6)
        );
    }
    if let Some(m) = q(0.5).filter(|m| m.is_finite()) {
        let _ = write!(
            out,
            "<line class=\"median\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
            f1(cy - row_h * 0.3),
            f1(cy + row_h * 0.3),
            x = f1(plot.sx(m))
        );
    }
    if d.mean.is_finite() {
        let _ = write!(
            out,
            "<circle cx=\"{}\" cy=\"{}\" r=\"3.5\" fill=\"#fff\" stroke=\"#000\"/>",
            f1(plot.sx(d.mean)),
            f1(cy)
        );
    }
    out.push_str("</g>");
}

/// Every metric's mean, spread and quantiles, then its tail (value at risk and expected
/// shortfall) in a second table, so that each fits a laptop screen and an A4 page
/// without scrolling. A quantile at a level the value at risk is also given at is left
/// to the tail table: VaR at α is the α-quantile.
fn quantile_table(out: &mut String, s: &McSummary) {
    if s.metrics.is_empty() {
        out.push_str("<p class=\"muted\">The summary holds no metrics.</p>\n");
        return;
    }
    let vs = levels(s.metrics.iter().map(|m| m.var.as_slice()));
    let es = levels(s.metrics.iter().map(|m| m.es.as_slice()));
    let qs: Vec<f64> = levels(s.metrics.iter().map(|m| m.quantiles.as_slice()))
        .into_iter()
        .filter(|p| !vs.iter().any(|a| (a - p).abs() <= LEVEL_EPS))
        .collect();
    out.push_str(
        "<div class=\"wide\"><table class=\"num fit\" id=\"quantiles\"><caption>Every metric across draws</caption>\
         <thead><tr><th scope=\"col\">metric</th><th scope=\"col\">mean</th><th scope=\"col\">std</th>\
         <th scope=\"col\">min</th>",
    );
    for p in &qs {
        let _ = write!(out, "<th scope=\"col\">q {}</th>", level(*p));
    }
    out.push_str("<th scope=\"col\">max</th></tr></thead><tbody>");
    for m in &s.metrics {
        let u = unit_of(&m.metric);
        let cell = |v: Option<f64>| esc(&v.map_or_else(|| "\u{2014}".to_owned(), |v| u.fmt(v)));
        let _ = write!(
            out,
            "<tr><th scope=\"row\" title=\"{}\">{}</th><td>{}</td><td>{}</td><td>{}</td>",
            esc(&m.metric),
            esc(&metric_label(&m.metric)),
            cell(Some(m.mean)),
            cell(Some(m.std)),
            cell(Some(m.min))
        );
        for p in &qs {
            let _ = write!(out, "<td>{}</td>", cell(at(&m.quantiles, *p)));
        }
        let _ = write!(out, "<td>{}</td></tr>", cell(Some(m.max)));
    }
    out.push_str("</tbody></table></div>\n");
    if vs.is_empty() && es.is_empty() {
        return;
    }
    out.push_str(
        "<div class=\"wide\"><table class=\"num fit\" id=\"tails\"><caption>The tail: value at risk (the \
         \u{3b1}-quantile) and expected shortfall (the mean beyond it)</caption><thead><tr><th scope=\"col\">metric</th>",
    );
    for a in &vs {
        let _ = write!(out, "<th scope=\"col\">VaR {}</th>", level(*a));
    }
    for a in &es {
        let _ = write!(out, "<th scope=\"col\">ES {}</th>", level(*a));
    }
    out.push_str("</tr></thead><tbody>");
    for m in &s.metrics {
        let u = unit_of(&m.metric);
        let cell = |v: Option<f64>| esc(&v.map_or_else(|| "\u{2014}".to_owned(), |v| u.fmt(v)));
        let _ = write!(
            out,
            "<tr><th scope=\"row\" title=\"{}\">{}</th>",
            esc(&m.metric),
            esc(&metric_label(&m.metric))
        );
        for a in &vs {
            let _ = write!(out, "<td>{}</td>", cell(at(&m.var, *a)));
        }
        for a in &es {
            let _ = write!(out, "<td>{}</td>", cell(at(&m.es, *a)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>\n");
}

fn mc_cards(out: &mut String, s: &McSummary) {
    let loss = metric(s, "total_loss_usd");
    let top = |pairs: &[(f64, f64)]| pairs.iter().copied().max_by(|a, b| a.0.total_cmp(&b.0));
    let risk = |name: &str, pairs: Option<(f64, f64)>| match pairs {
        Some((a, v)) => (format!("{name} {}", level(a)), Unit::Usd.fmt(v)),
        None => (name.to_owned(), "n/a".to_owned()),
    };
    let (var_label, var) = risk("VaR", loss.and_then(|d| top(&d.var)));
    let (es_label, es) = risk("ES", loss.and_then(|d| top(&d.es)));
    let items: [(&str, String, String, bool); 7] = [
        (
            "Mean total loss",
            loss.map_or_else(|| "n/a".to_owned(), |d| Unit::Usd.fmt(d.mean)),
            format!("over {} draws", s.draws),
            true,
        ),
        ("Value at risk", var, var_label, true),
        ("Expected shortfall", es, es_label, true),
        (
            "Lender default",
            Unit::Share.fmt(s.p_lender_default),
            "of draws".to_owned(),
            false,
        ),
        (
            "Holder default",
            Unit::Share.fmt(s.p_holder_default),
            "of draws".to_owned(),
            false,
        ),
        (
            "Margin call",
            Unit::Share.fmt(s.p_margin_call),
            "of draws".to_owned(),
            false,
        ),
        (
            "Read with care",
            (s.not_converged + s.multiple_equilibria).to_string(),
            format!(
                "{} not converged, {} several equilibria",
                s.not_converged, s.multiple_equilibria
            ),
            false,
        ),
    ];
    card_list(out, &items);
}

fn mc_header(out: &mut String, s: &McSummary, draws: &[McDraw], meta: &RunMeta) {
    out.push_str(
        "<header class=\"top\">\n<p class=\"kicker\">delever \u{00b7} Monte Carlo study</p>\n",
    );
    let _ = write!(out, "<h1>{}</h1>\n<p class=\"muted\">", esc(&s.scenario));
    if !meta.as_of.is_empty() {
        let _ = write!(out, "Figures as of {} \u{00b7} ", esc(&meta.as_of));
    }
    let _ = writeln!(
        out,
        "{} draws \u{00b7} seed {} \u{00b7} {}</p>",
        s.draws,
        s.seed,
        esc(&s.distribution)
    );
    super::lede(out, meta);
    if s.not_converged > 0 {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"alert\">{} draw{} stopped at the round limit before prices settled \
             (hollow squares in the scatter); their figures, the last round's, are still counted.</p>",
            s.not_converged,
            if s.not_converged == 1 { "" } else { "s" }
        );
    }
    if s.multiple_equilibria > 0 {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"note\">{} draw{} had several equilibria (diamonds): the figures are the \
             greatest, least severe fixed point's.</p>",
            s.multiple_equilibria,
            if s.multiple_equilibria == 1 { "" } else { "s" }
        );
    }
    if draws.len() as u64 != s.draws {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"note\">The charts use the {} draws given to this page; the summary \
             covers all {} of the study.</p>",
            draws.len(),
            s.draws
        );
    }
    out.push_str("</header>\n");
}

/// The Monte Carlo page: one complete, self-contained HTML document (no script, no
/// requests). `summary` gives the table and the markers, `draws` the histogram and the
/// scatter (sampled deterministically above 5,000 draws); `meta` gives the scenario's
/// description and date.
pub fn mc_page(
    summary: &McSummary,
    draws: &[McDraw],
    meta: &RunMeta,
    notes: &ScenarioNotes,
) -> String {
    let mut out = String::with_capacity(64 * 1024);
    page_open(
        &mut out,
        &format!("{} \u{2014} delever Monte Carlo study", summary.scenario),
        false,
    );
    mc_header(&mut out, summary, draws, meta);
    mc_cards(&mut out, summary);
    let loss = metric(summary, "total_loss_usd");
    out.push_str("<div class=\"grid\">\n");
    let (hist, tails) = histogram(draws, loss);
    let _ = writeln!(
        out,
        "<figure id=\"fig-hist\" class=\"wide\"><h3>Total loss across draws</h3>{hist}{tails}\
         <ul class=\"legend\"><li><span class=\"lsw\" style=\"border-color:#d55e00\"></span>value at risk (VaR)</li>\
         <li><span class=\"lsw d1\" style=\"border-color:#000\"></span>expected shortfall (ES)</li></ul>\
         <figcaption>How often each total loss came up. VaR at level \u{3b1} is the \u{3b1}-quantile of \
         the loss; ES is the mean of the worst (1 \u{2212} \u{3b1}) share of draws.{}</figcaption></figure>",
        if loss.is_none() {
            " The summary has no <code>total_loss_usd</code> metric, so no markers."
        } else {
            ""
        }
    );
    let (svg, sampled, shown) = scatter(draws);
    let _ = writeln!(
        out,
        "<figure id=\"fig-scatter\" class=\"wide\"><h3>The shock against the cascade</h3>{svg}\
         <ul class=\"legend\"><li><span class=\"swatch\" style=\"background:#0072b2\"></span>a draw</li>\
         <li><span class=\"swatch\" style=\"background:#d55e00\"></span>worst 1% of draws by total loss</li></ul>{}\
         <figcaption>Each point is a draw: the loss from the shock alone (x) and at the fixed point (y). \
         On the dashed 45\u{b0} line the cascade added nothing; the further above it, the more the forced \
         sales amplified the shock, and a bend upward is the convexity of the cascade.{}</figcaption></figure>",
        mark_legend(),
        if sampled {
            format!(
                " To keep this file small it shows {shown} of the {} draws: every k-th draw, and all \
                 of the worst 1% (at most {MAX_TAIL}).",
                draws.len()
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "<figure id=\"fig-prob\"><h3>How often it breaks</h3>{}<p>Not converged: <strong>{}</strong> \
         draws; several equilibria: <strong>{}</strong> draws.</p><figcaption>Share of draws in which at \
         least one lender defaulted, at least one holder defaulted, or at least one margin call was \
         made.</figcaption></figure>",
        probabilities(summary),
        summary.not_converged,
        summary.multiple_equilibria
    );
    let _ = writeln!(
        out,
        "<figure id=\"fig-kinds\"><h3>Who loses</h3>{}<figcaption>Loss of each holder kind across draws: \
         the line runs from the smallest to the largest, the box between the quartiles (or the outermost \
         quantiles the study reports), the bar is the median, the circle the mean.</figcaption></figure>",
        kind_boxes(summary)
    );
    out.push_str("</div>\n<h2>Quantiles</h2>\n<div class=\"tables\">\n");
    quantile_table(&mut out, summary);
    out.push_str("</div>\n");
    scenario_section(&mut out, meta, notes);
    let _ = write!(
        out,
        "<footer><p>Made by delever {} from a Monte Carlo study of the scenario <code>{}</code> (seed {}). \
         This file is self-contained: it loads nothing from the network.</p></footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&summary.scenario),
        summary.seed
    );
    out
}
