//! The sweep page (`delever sweep --html`): threshold curves that show how big a shock tips
//! the cascade. x is the first swept parameter (named in words, in percent when it is a
//! fraction), one curve per value of the second (and any after the third), one
//! small-multiple panel per value of the third. Each curve's regime changes (first margin
//! call, first default, first lender loss or default, a jump in amplification beyond the
//! local slope: [`crate::regime`]) are drawn as labelled lines and listed. Runs that did
//! not converge or have several equilibria are marked and listed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::charts::{Frame, open_svg};
use super::svg::{esc, f1};
use super::xy::{Mark, Plot, Unit, finite_range, mark_legend, marker, no_values, series_style};
use super::{ScenarioNotes, card_list, page_open, scenario_section};
use crate::batch::{ParamValue, RunFigures, SweepDoc, SweepRow};
use crate::regime::{Regime, curve_regimes, param_is_fraction, param_label, param_value_text};
use crate::run::RunMeta;

/// Most panels (values of the third parameter) drawn; the rest are in the table.
const MAX_PANELS: usize = 12;
/// Most curves per panel (7 colours × 2 dash patterns).
const MAX_CURVES: usize = 14;
/// Most rows in the full data table (a bigger sweep belongs in CSV).
const MAX_TABLE_ROWS: usize = 10_000;
/// Most rows in the list of runs to read with care.
const MAX_CARE_ROWS: usize = 200;
/// Most rows of regime labels above a panel; labels that do not fit are in the table.
const MAX_LABEL_ROWS: usize = 3;
/// Height of a row of regime labels, px.
const LABEL_ROW: f64 = 13.0;
/// A generous width of one character of an 11 px label, px (labels are placed so that
/// their boxes at this width never overlap).
const CHAR_W: f64 = 6.4;

/// A figure drawn for every curve.
struct Metric {
    id: &'static str,
    title: &'static str,
    /// The y axis's title.
    axis: &'static str,
    unit: Unit,
    get: fn(&RunFigures) -> f64,
}

const METRICS: [Metric; 6] = [
    Metric {
        id: "amplification",
        title: "Amplification (total loss \u{f7} initial loss)",
        axis: "amplification",
        unit: Unit::Times,
        get: |f| f.amplification,
    },
    Metric {
        id: "total-loss",
        title: "Total loss at the fixed point",
        axis: "total loss",
        unit: Unit::Usd,
        get: |f| f.total_loss_usd,
    },
    Metric {
        id: "forced-sales",
        title: "Forced sales",
        axis: "forced sales",
        unit: Unit::Usd,
        get: |f| f.forced_sales_usd,
    },
    Metric {
        id: "defaults",
        title: "Holder defaults",
        axis: "holders defaulted",
        unit: Unit::Count,
        get: |f| f.defaults as f64,
    },
    Metric {
        id: "margin-calls",
        title: "Margin calls",
        axis: "accounts called",
        unit: Unit::Count,
        get: |f| f.margin_calls as f64,
    },
    Metric {
        id: "lender-losses",
        title: "Lender losses",
        axis: "lender losses",
        unit: Unit::Usd,
        get: |f| f.lender_losses_usd,
    },
];

/// The first parameter's name in words and how its values read.
struct XAxis<'a> {
    /// The field path (`shocks[0].return`).
    path: &'a str,
    /// Its name in words (`Shock 1 return`).
    label: String,
    /// Whether it is a fraction (percent ticks and values).
    fraction: bool,
}

impl<'a> XAxis<'a> {
    fn of(doc: &'a SweepDoc) -> Self {
        let path = doc.parameters.first().map_or("x", String::as_str);
        XAxis {
            path,
            label: param_label(path),
            fraction: param_is_fraction(path),
        }
    }
    fn unit(&self) -> Unit {
        if self.fraction {
            Unit::Share
        } else {
            Unit::Plain
        }
    }
    fn value(&self, x: f64) -> String {
        param_value_text(x, self.fraction)
    }
}

/// The regime changes of one drawn curve (points as (x, y, row)).
fn regimes_of(doc: &SweepDoc, s: &[(f64, f64, usize)], x: &XAxis) -> Vec<Regime> {
    let pts: Vec<(f64, u64, &RunFigures)> = s
        .iter()
        .map(|&(xv, _, r)| (xv, doc.rows[r].index, &doc.rows[r].figures))
        .collect();
    curve_regimes(&pts, x.path)
}

/// Regime labels placed above a panel: (screen x of the line, label centre, row, label,
/// tooltip); and how many labels did not fit.
type Placed = (Vec<(f64, f64, usize, &'static str, String)>, usize);

/// Places one label per distinct (change, position) in rows above the plot, left to right,
/// each in the first row where its box clears the previous label's by 4 px.
fn place_labels(marks: &[(f64, &'static str, String)], f: &Frame) -> Placed {
    let mut merged: Vec<(f64, &'static str, String)> = Vec::new();
    for (sx, label, tip) in marks {
        match merged
            .iter_mut()
            .find(|m| m.1 == *label && (m.0 - sx).abs() < 0.5)
        {
            Some(m) => {
                m.2.push('\n');
                m.2.push_str(tip);
            }
            None => merged.push((*sx, label, tip.clone())),
        }
    }
    merged.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(b.1)));
    let mut ends = [f64::NEG_INFINITY; MAX_LABEL_ROWS];
    let mut placed = Vec::new();
    let mut dropped = 0;
    for (sx, label, tip) in merged {
        let w = CHAR_W * label.chars().count() as f64;
        let cx = sx.clamp(f.left + w / 2.0, f.width - 2.0 - w / 2.0);
        if let Some(row) = ends.iter().position(|&e| cx - w / 2.0 >= e + 4.0) {
            ends[row] = cx + w / 2.0;
            placed.push((sx, cx, row, label, tip));
        } else {
            dropped += 1;
            // Still drawn as a line, with its tooltip, but unlabelled.
            placed.push((sx, f64::NAN, 0, label, tip));
        }
    }
    (placed, dropped)
}

/// The value of parameter `i` of a row, as text (`n/a` when the row lacks it).
fn value_text(row: &SweepRow, i: usize) -> String {
    row.values
        .get(i)
        .map_or_else(|| "n/a".to_owned(), ToString::to_string)
}

/// The rows grouped for drawing: panels (third parameter) × curves (second and later).
struct Grid {
    /// Curve labels (`p2 = v`), in order of first appearance in the grid.
    curves: Vec<String>,
    /// Panel labels (`p3 = v`; one unlabelled panel with fewer than three parameters) and,
    /// per curve, its rows' indices in x order.
    panels: Vec<(Option<String>, Vec<Vec<usize>>)>,
}

/// The x of a row: the first parameter, when it is a number.
fn x_of(row: &SweepRow) -> Option<f64> {
    row.values.first().and_then(ParamValue::as_f64)
}

fn group(doc: &SweepDoc) -> Grid {
    let names = &doc.parameters;
    let curve_label = |row: &SweepRow| {
        let parts: Vec<String> = (1..names.len().max(row.values.len()))
            .filter(|&i| i != 2)
            .map(|i| {
                format!(
                    "{} = {}",
                    names.get(i).map_or("?", String::as_str),
                    value_text(row, i)
                )
            })
            .collect();
        parts.join(", ")
    };
    let panel_label = |row: &SweepRow| {
        (names.len() >= 3).then(|| format!("{} = {}", names[2], value_text(row, 2)))
    };
    let mut curve_ix: BTreeMap<String, usize> = BTreeMap::new();
    let mut panel_ix: BTreeMap<Option<String>, usize> = BTreeMap::new();
    let mut grid = Grid {
        curves: Vec::new(),
        panels: Vec::new(),
    };
    for (r, row) in doc.rows.iter().enumerate() {
        let c = curve_label(row);
        let ci = *curve_ix.entry(c.clone()).or_insert_with(|| {
            grid.curves.push(c);
            grid.curves.len() - 1
        });
        let p = panel_label(row);
        let pi = *panel_ix.entry(p.clone()).or_insert_with(|| {
            grid.panels.push((p, Vec::new()));
            grid.panels.len() - 1
        });
        let curves = &mut grid.panels[pi].1;
        if curves.len() <= ci {
            curves.resize(ci + 1, Vec::new());
        }
        curves[ci].push(r);
    }
    for (_, curves) in &mut grid.panels {
        for rows in curves {
            rows.sort_by(|&a, &b| {
                let (xa, xb) = (x_of(&doc.rows[a]), x_of(&doc.rows[b]));
                xa.unwrap_or(f64::NAN)
                    .total_cmp(&xb.unwrap_or(f64::NAN))
                    .then(a.cmp(&b))
            });
        }
    }
    grid
}

fn mark_of(f: &RunFigures) -> Mark {
    if f.termination != "converged" {
        Mark::NotConverged
    } else if f.multiple_equilibria {
        Mark::Multiple
    } else {
        Mark::Dot
    }
}

/// The parameter values of a row in words: `p1 = a, p2 = b`.
fn row_params(doc: &SweepDoc, row: &SweepRow) -> String {
    (0..doc.parameters.len().max(row.values.len()))
        .map(|i| {
            format!(
                "{} = {}",
                doc.parameters.get(i).map_or("?", String::as_str),
                value_text(row, i)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One curve: its line (broken at non-finite points) and its points by status.
fn draw_curve(
    out: &mut String,
    plot: &Plot,
    doc: &SweepDoc,
    s: &[(f64, f64, usize)],
    i: usize,
    m: &Metric,
) {
    let (colour, dash) = series_style(i);
    // Non-finite points break the line rather than being drawn at a made-up place.
    let mut seg: Vec<String> = Vec::new();
    let flush = |seg: &mut Vec<String>, out: &mut String| {
        if seg.len() >= 2 {
            let _ = write!(
                out,
                "<polyline class=\"curve\" stroke=\"{colour}\"{} points=\"{}\"/>",
                if dash.is_empty() {
                    String::new()
                } else {
                    format!(" stroke-dasharray=\"{dash}\"")
                },
                seg.join(" ")
            );
        }
        seg.clear();
    };
    for &(x, y, _) in s {
        if x.is_finite() && y.is_finite() {
            seg.push(format!("{},{}", f1(plot.sx(x)), f1(plot.sy(y))));
        } else {
            flush(&mut seg, out);
        }
    }
    flush(&mut seg, out);
    for &(x, y, r) in s {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        let row = &doc.rows[r];
        let mk = mark_of(&row.figures);
        let tip = format!(
            "{}: {}{}",
            row_params(doc, row),
            m.unit.fmt(y),
            match mk {
                Mark::Dot => String::new(),
                Mark::NotConverged => format!(" ({})", row.figures.termination),
                Mark::Multiple => " (several equilibria)".to_owned(),
            }
        );
        marker(out, plot.sx(x), plot.sy(y), colour, mk, &tip);
    }
}

/// One panel of one metric: a curve per series, regime changes as labelled lines, points
/// by status.
#[allow(clippy::too_many_lines)]
fn panel_svg(doc: &SweepDoc, grid: &Grid, p: usize, m: &Metric, x: &XAxis) -> String {
    let (label, curves) = &grid.panels[p];
    let shown = curves.len().min(MAX_CURVES);
    let pts = |rows: &[usize]| -> Vec<(f64, f64, usize)> {
        rows.iter()
            .filter_map(|&r| {
                let row = &doc.rows[r];
                x_of(row).map(|xv| (xv, (m.get)(&row.figures), r))
            })
            .collect()
    };
    let series: Vec<Vec<(f64, f64, usize)>> = curves[..shown].iter().map(|c| pts(c)).collect();
    let all = || {
        series
            .iter()
            .flatten()
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
    };
    let (Some(xr), Some(yr)) = (
        finite_range(all().map(|t| t.0)),
        finite_range(all().map(|t| t.1)),
    ) else {
        return no_values(&format!("{} for {}", m.title.to_lowercase(), x.label));
    };
    let regimes: Vec<Vec<Regime>> = series.iter().map(|s| regimes_of(doc, s, x)).collect();
    let mut f = Frame {
        width: 600.0,
        height: 300.0,
        left: 66.0,
        right: 572.0,
        top: 12.0,
        bottom: 258.0,
    };
    // Where each change falls on screen: halfway between its two grid points (the grid
    // cannot say where in between). The x scale does not depend on the frame's top.
    let (probe, _, _) = Plot::new(
        Frame {
            width: f.width,
            height: f.height,
            left: f.left,
            right: f.right,
            top: f.top,
            bottom: f.bottom,
        },
        xr,
        yr,
        m.unit != Unit::Times,
    );
    let probe = &probe;
    let marks: Vec<(f64, &'static str, String)> = regimes
        .iter()
        .zip(&grid.curves)
        .flat_map(|(rs, name)| {
            rs.iter().map(move |r| {
                let tip = if name.is_empty() {
                    r.text.clone()
                } else {
                    format!("{name}: {}", r.text)
                };
                (
                    f64::midpoint(probe.sx(r.x_before), probe.sx(r.x_after)),
                    r.label,
                    tip,
                )
            })
        })
        .collect();
    let (placed, dropped) = place_labels(&marks, &f);
    let rows = placed
        .iter()
        .filter(|p| p.1.is_finite())
        .map(|p| p.2 + 1)
        .max()
        .unwrap_or(0);
    f.top += LABEL_ROW * rows as f64;
    f.height += LABEL_ROW * rows as f64;
    f.bottom += LABEL_ROW * rows as f64;
    let (plot, xt, yt) = Plot::new(f, xr, yr, m.unit != Unit::Times);
    let mut out = String::new();
    let id = format!("sw-{}-{p}", m.id);
    let title = match label {
        Some(l) => format!("{} against {}, {l}", m.title, x.label),
        None => format!("{} against {}", m.title, x.label),
    };
    let desc = regimes
        .iter()
        .zip(&grid.curves)
        .map(|(rs, name)| {
            let name = if name.is_empty() { "the curve" } else { name };
            if rs.is_empty() {
                format!("{name}: no regime change inside the grid")
            } else {
                format!(
                    "{name}: {}",
                    rs.iter()
                        .map(|r| r.text.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            }
        })
        .collect::<Vec<_>>()
        .join(". ");
    open_svg(&mut out, &id, &plot.f, &title, &format!("{desc}."));
    plot.axes(&mut out, xt, yt, (&x.label, x.unit()), (m.axis, m.unit));
    for (sx, cx, row, text, tip) in &placed {
        let sx = *sx;
        let _ = write!(
            out,
            "<g class=\"regime\"><title>{}</title><line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
            esc(tip),
            f1(if cx.is_finite() {
                LABEL_ROW * (*row as f64 + 1.0) + 2.0
            } else {
                plot.f.top
            }),
            f1(plot.f.bottom),
            x = f1(sx)
        );
        if cx.is_finite() {
            text_el(&mut out, *cx, LABEL_ROW * (*row as f64 + 1.0) - 1.0, text);
        }
        out.push_str("</g>");
    }
    for (i, s) in series.iter().enumerate() {
        draw_curve(&mut out, &plot, doc, s, i, m);
    }
    out.push_str("</svg>");
    if dropped > 0 {
        let _ = write!(
            out,
            "<p class=\"muted\">{dropped} regime change{} drawn without a label (no room); the table lists every one.</p>",
            if dropped == 1 { "" } else { "s" }
        );
    }
    if curves.len() > shown {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more curves not drawn; they are in the data table.</p>",
            curves.len() - shown
        );
    }
    out
}

/// A regime's label at (x, y), centred.
fn text_el(out: &mut String, x: f64, y: f64, label: &str) {
    super::svg::text(
        out,
        x,
        y,
        "class=\"regime-label\" text-anchor=\"middle\"",
        label,
    );
}

/// The legend of curves (HTML), with each curve's line style.
fn curve_legend(grid: &Grid) -> String {
    if grid.curves.len() <= 1 && grid.curves.first().is_none_or(String::is_empty) {
        return String::new();
    }
    let mut out = String::from("<ul class=\"legend\" aria-label=\"Curves\">");
    for (i, name) in grid.curves.iter().take(MAX_CURVES).enumerate() {
        let (colour, _) = series_style(i);
        let dash = i / super::xy::SERIES_COLOURS.len() % super::xy::SERIES_DASHES.len();
        let _ = write!(
            out,
            "<li><span class=\"lsw d{dash}\" style=\"border-color:{colour}\"></span>{}</li>",
            esc(name)
        );
    }
    out.push_str("</ul>");
    out
}

/// One figure: every panel of one metric.
fn metric_figure(out: &mut String, doc: &SweepDoc, grid: &Grid, m: &Metric, wide: bool) {
    let x = XAxis::of(doc);
    let _ = write!(
        out,
        "<figure id=\"fig-{}\"{}><h3>{}</h3><div class=\"panels\">",
        m.id,
        if wide { " class=\"wide\"" } else { "" },
        esc(m.title)
    );
    for p in 0..grid.panels.len().min(MAX_PANELS) {
        out.push_str("<div>");
        if let Some(l) = &grid.panels[p].0 {
            let _ = write!(out, "<h4>{}</h4>", esc(l));
        }
        out.push_str(&panel_svg(doc, grid, p, m, &x));
        out.push_str("</div>");
    }
    out.push_str("</div>");
    out.push_str(&curve_legend(grid));
    if wide {
        out.push_str(mark_legend());
    }
    if grid.panels.len() > MAX_PANELS {
        let _ = write!(
            out,
            "<p class=\"muted\">{} more panels not drawn; they are in the data table.</p>",
            grid.panels.len() - MAX_PANELS
        );
    }
    let _ = writeln!(
        out,
        "<figcaption>{} against {} (<code>{}</code>{}), one curve per value of the other parameters. \
         The grey lines mark regime changes, labelled in words: where the first margin call, default \
         or lender loss appears, or amplification jumps well beyond its slope either side; each falls \
         between two grid points.</figcaption></figure>",
        esc(m.title),
        esc(&x.label),
        esc(x.path),
        if x.fraction { ", in percent" } else { "" }
    );
}

/// The regime changes of every curve, in words.
fn regime_table(out: &mut String, doc: &SweepDoc, grid: &Grid) {
    let x = XAxis::of(doc);
    let mut rows = String::new();
    let mut count = 0;
    for (label, curves) in &grid.panels {
        for (ci, rs) in curves.iter().enumerate() {
            if rs.is_empty() {
                continue;
            }
            let pts: Vec<(f64, f64, usize)> = rs
                .iter()
                .filter_map(|&r| x_of(&doc.rows[r]).map(|xv| (xv, 0.0, r)))
                .collect();
            let name = [label.clone().unwrap_or_default(), grid.curves[ci].clone()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ");
            let name = if name.is_empty() {
                "all runs".to_owned()
            } else {
                name
            };
            let regimes = regimes_of(doc, &pts, &x);
            if regimes.is_empty() {
                let _ = write!(
                    rows,
                    "<tr><th scope=\"row\" class=\"text\">{}</th><td class=\"text\" colspan=\"3\">none inside the grid</td></tr>",
                    esc(&name)
                );
            }
            for r in &regimes {
                count += 1;
                let _ = write!(
                    rows,
                    "<tr><th scope=\"row\" class=\"text\">{}</th><td class=\"text\">{}</td><td class=\"text\">{} to {}</td>\
                     <td class=\"text\">{}</td></tr>",
                    esc(&name),
                    esc(r.label),
                    esc(&x.value(r.x_before)),
                    esc(&x.value(r.x_after)),
                    esc(&r.detail)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "<div class=\"wide\"><table class=\"num\" id=\"regimes\"><caption>Regime changes as {} grows more severe \
         ({count})</caption><thead><tr><th scope=\"col\">curve</th><th scope=\"col\">change</th>\
         <th scope=\"col\">between</th><th scope=\"col\">what changed</th></tr></thead><tbody>{rows}</tbody></table></div>",
        esc(&x.label)
    );
}

/// The runs to read with care: not converged, or several equilibria.
fn care_table(out: &mut String, doc: &SweepDoc) {
    let care: Vec<&SweepRow> = doc
        .rows
        .iter()
        .filter(|r| r.figures.termination != "converged" || r.figures.multiple_equilibria)
        .collect();
    if care.is_empty() {
        out.push_str(
            "<p class=\"muted\" id=\"care\">Every run converged to a single equilibrium.</p>\n",
        );
        return;
    }
    let _ = write!(
        out,
        "<div class=\"wide\"><table class=\"num\" id=\"care\"><caption>Runs to read with care ({}{})</caption>\
         <thead><tr><th scope=\"col\">#</th><th scope=\"col\">parameters</th><th scope=\"col\">termination</th>\
         <th scope=\"col\">rounds</th><th scope=\"col\">several equilibria</th><th scope=\"col\">amplification</th>\
         <th scope=\"col\">total loss</th></tr></thead><tbody>",
        care.len(),
        if care.len() > MAX_CARE_ROWS {
            format!(", first {MAX_CARE_ROWS} listed")
        } else {
            String::new()
        }
    );
    for r in care.iter().take(MAX_CARE_ROWS) {
        let _ = write!(
            out,
            "<tr><th scope=\"row\">{}</th><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td>\
             <td class=\"text\">{}</td><td>{}</td><td>{}</td></tr>",
            r.index,
            esc(&row_params(doc, r)),
            esc(&r.figures.termination),
            r.figures.rounds,
            if r.figures.multiple_equilibria {
                "yes"
            } else {
                "no"
            },
            esc(&Unit::Times.fmt(r.figures.amplification)),
            esc(&Unit::Usd.fmt(r.figures.total_loss_usd))
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// With a first parameter that is not a number: amplification and total loss as a table,
/// rows the first parameter's values, columns the curves, one table per panel.
fn text_tables(out: &mut String, doc: &SweepDoc, grid: &Grid) {
    let x_name = doc.parameters.first().map_or("x", String::as_str);
    let _ = writeln!(
        out,
        "<p class=\"muted\">The first parameter, <code>{}</code>, is not numeric: no curves, but the \
         figures side by side.</p>",
        esc(x_name)
    );
    for (label, curves) in &grid.panels {
        let mut xs: Vec<String> = Vec::new();
        for rs in curves {
            for &r in rs {
                let v = value_text(&doc.rows[r], 0);
                if !xs.contains(&v) {
                    xs.push(v);
                }
            }
        }
        let _ = write!(
            out,
            "<div class=\"wide\"><table class=\"num\"><caption>Amplification and total loss{}</caption>\
             <thead><tr><th scope=\"col\">{}</th>",
            label
                .as_ref()
                .map_or_else(String::new, |l| format!(", {}", esc(l))),
            esc(x_name)
        );
        for (ci, c) in grid.curves.iter().enumerate() {
            if curves.get(ci).is_some_and(|v| !v.is_empty()) {
                let _ = write!(
                    out,
                    "<th scope=\"col\">{}</th>",
                    esc(if c.is_empty() { "value" } else { c })
                );
            }
        }
        out.push_str("</tr></thead><tbody>");
        for x in &xs {
            let _ = write!(out, "<tr><th scope=\"row\">{}</th>", esc(x));
            for rs in curves.iter().filter(|v| !v.is_empty()) {
                let cell = rs
                    .iter()
                    .map(|&r| &doc.rows[r])
                    .filter(|row| value_text(row, 0) == *x)
                    .map(|row| {
                        format!(
                            "{} \u{00b7} {}{}",
                            Unit::Times.fmt(row.figures.amplification),
                            Unit::Usd.fmt(row.figures.total_loss_usd),
                            if mark_of(&row.figures) == Mark::Dot {
                                ""
                            } else {
                                " \u{26a0}"
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ");
                let _ = write!(out, "<td>{}</td>", esc(&cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>\n");
    }
}

/// Every row, in a collapsible table.
fn data_table(out: &mut String, doc: &SweepDoc) {
    let _ = write!(
        out,
        "<details id=\"data\"><summary>All {} rows{}</summary><div class=\"wide scroll\"><table class=\"num\">\
         <thead><tr><th scope=\"col\">#</th>",
        doc.rows.len(),
        if doc.rows.len() > MAX_TABLE_ROWS {
            format!(" (first {MAX_TABLE_ROWS} shown; the CSV has them all)")
        } else {
            String::new()
        }
    );
    for p in &doc.parameters {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(p));
    }
    out.push_str(
        "<th scope=\"col\">termination</th><th scope=\"col\">rounds</th><th scope=\"col\">initial loss</th>\
         <th scope=\"col\">total loss</th><th scope=\"col\">amplification</th><th scope=\"col\">forced sales</th>\
         <th scope=\"col\">defaults</th><th scope=\"col\">margin calls</th><th scope=\"col\">lender losses</th>\
         <th scope=\"col\">lender defaults</th><th scope=\"col\">several equilibria</th>",
    );
    for k in &doc.kinds {
        let _ = write!(out, "<th scope=\"col\">loss: {}</th>", esc(k));
    }
    out.push_str("</tr></thead><tbody>");
    for r in doc.rows.iter().take(MAX_TABLE_ROWS) {
        let f = &r.figures;
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", r.index);
        for i in 0..doc.parameters.len() {
            let _ = write!(out, "<td>{}</td>", esc(&value_text(r, i)));
        }
        let _ = write!(
            out,
            "<td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td>",
            esc(&f.termination),
            f.rounds,
            esc(&Unit::Usd.fmt(f.initial_loss_usd)),
            esc(&Unit::Usd.fmt(f.total_loss_usd)),
            esc(&Unit::Times.fmt(f.amplification)),
            esc(&Unit::Usd.fmt(f.forced_sales_usd)),
            f.defaults,
            f.margin_calls,
            esc(&Unit::Usd.fmt(f.lender_losses_usd)),
            f.lender_defaults,
            if f.multiple_equilibria { "yes" } else { "no" }
        );
        for k in 0..doc.kinds.len() {
            let v = f.loss_by_kind.get(k).copied().unwrap_or(f64::NAN);
            let _ = write!(out, "<td>{}</td>", esc(&Unit::Usd.fmt(v)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details>\n");
}

/// The row with the largest finite value of `get`, if any.
fn worst(doc: &SweepDoc, get: fn(&RunFigures) -> f64) -> Option<&SweepRow> {
    doc.rows
        .iter()
        .filter(|r| get(&r.figures).is_finite())
        .max_by(|a, b| {
            get(&a.figures)
                .total_cmp(&get(&b.figures))
                // Ties: the first row in grid order wins (max_by keeps the last maximum).
                .then(b.index.cmp(&a.index))
        })
}

fn sweep_cards(out: &mut String, doc: &SweepDoc) {
    let converged = doc
        .rows
        .iter()
        .filter(|r| r.figures.termination == "converged")
        .count();
    let multiple = doc
        .rows
        .iter()
        .filter(|r| r.figures.multiple_equilibria)
        .count();
    let amp = worst(doc, |f| f.amplification);
    let loss = worst(doc, |f| f.total_loss_usd);
    let items: [(&str, String, String, bool); 5] = [
        (
            "Variants",
            doc.rows.len().to_string(),
            if doc.variants == doc.rows.len() as u64 {
                "the full grid".to_owned()
            } else {
                format!("of {} in the grid", doc.variants)
            },
            false,
        ),
        (
            "Largest amplification",
            amp.map_or_else(
                || "n/a".to_owned(),
                |r| Unit::Times.fmt(r.figures.amplification),
            ),
            amp.map_or_else(|| "no finite values".to_owned(), |r| row_params(doc, r)),
            true,
        ),
        (
            "Largest total loss",
            loss.map_or_else(
                || "n/a".to_owned(),
                |r| Unit::Usd.fmt(r.figures.total_loss_usd),
            ),
            loss.map_or_else(|| "no finite values".to_owned(), |r| row_params(doc, r)),
            true,
        ),
        (
            "Converged",
            converged.to_string(),
            format!("{} did not", doc.rows.len() - converged),
            false,
        ),
        (
            "Several equilibria",
            multiple.to_string(),
            "runs".to_owned(),
            false,
        ),
    ];
    card_list(out, &items);
}

fn sweep_header(out: &mut String, doc: &SweepDoc, meta: &RunMeta) {
    out.push_str(
        "<header class=\"top\">\n<p class=\"kicker\">delever \u{00b7} parameter sweep</p>\n",
    );
    let _ = write!(out, "<h1>{}</h1>\n<p class=\"muted\">", esc(&doc.scenario));
    if !meta.as_of.is_empty() {
        let _ = write!(out, "Figures as of {} \u{00b7} ", esc(&meta.as_of));
    }
    if doc.parameters.is_empty() {
        out.push_str("no swept parameters");
    } else {
        let names: Vec<String> = doc
            .parameters
            .iter()
            .map(|p| format!("{} (<code>{}</code>)", esc(&param_label(p)), esc(p)))
            .collect();
        let _ = write!(out, "swept: {}", names.join(" \u{00d7} "));
    }
    out.push_str("</p>\n");
    super::lede(out, meta);
    let nc = doc
        .rows
        .iter()
        .filter(|r| r.figures.termination != "converged")
        .count();
    if nc > 0 {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"alert\">{nc} run{} stopped at the round limit before prices settled \
             (hollow squares; <a href=\"#care\">listed below</a>): their figures are the last round's, not a fixed point.</p>",
            if nc == 1 { "" } else { "s" }
        );
    }
    let me = doc
        .rows
        .iter()
        .filter(|r| r.figures.multiple_equilibria)
        .count();
    if me > 0 {
        let _ = writeln!(
            out,
            "<p class=\"banner\" role=\"note\">{me} run{} ha{} several equilibria (diamonds): the figures are \
             the greatest, least severe fixed point's.</p>",
            if me == 1 { "" } else { "s" },
            if me == 1 { "s" } else { "ve" }
        );
    }
    out.push_str("</header>\n");
}

/// The sweep page: one complete, self-contained HTML document (no script, no requests).
/// `meta` gives the scenario's description and date; the page's title is `doc.scenario`.
pub fn sweep_page(doc: &SweepDoc, meta: &RunMeta, notes: &ScenarioNotes) -> String {
    let mut out = String::with_capacity(64 * 1024);
    page_open(
        &mut out,
        &format!("{} \u{2014} delever sweep", doc.scenario),
        false,
    );
    sweep_header(&mut out, doc, meta);
    sweep_cards(&mut out, doc);
    let grid = group(doc);
    let numeric = !doc.rows.is_empty() && doc.rows.iter().all(|r| x_of(r).is_some());
    if doc.rows.is_empty() {
        out.push_str("<p class=\"muted empty\">This sweep has no rows: nothing to draw.</p>\n");
    } else if numeric {
        out.push_str("<h2>Threshold curves</h2>\n<div class=\"grid\">\n");
        for (i, m) in METRICS.iter().enumerate() {
            metric_figure(&mut out, doc, &grid, m, i == 0);
        }
        out.push_str("</div>\n<h2>Regime changes</h2>\n<div class=\"tables\">\n");
        regime_table(&mut out, doc, &grid);
        out.push_str("</div>\n");
    } else {
        out.push_str("<h2>Figures by parameter</h2>\n<div class=\"tables\">\n");
        text_tables(&mut out, doc, &grid);
        out.push_str("</div>\n");
    }
    out.push_str("<h2>Runs to read with care</h2>\n");
    care_table(&mut out, doc);
    out.push_str("<h2>Data</h2>\n");
    data_table(&mut out, doc);
    scenario_section(&mut out, meta, notes);
    let _ = write!(
        out,
        "<footer><p>Made by delever {} from a sweep of the scenario <code>{}</code>. This file is \
         self-contained: it loads nothing from the network.</p></footer>\n</main>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION"),
        esc(&doc.scenario)
    );
    out
}
