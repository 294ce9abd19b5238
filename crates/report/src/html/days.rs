//! The HTML report of a timeline run: price paths over days (each day's open and close,
//! the close line, the fundamental dashed), forced sales by holder kind per day, the days
//! table, and the player's steps — every round of every day, grouped by day.
//!
//! A timeline's days carry balance sheets over, so its rounds are not replayed: the
//! network shows each holder's status on the day on show (from the run's days), and the
//! rounds within a day move the prices (from the trace).

use std::fmt::Write as _;

use delever_engine::{DayOutcome, Outcome, Termination};
use delever_graph::{AssetIx, HolderIx};
use serde_json::{Value, json};

use super::charts::{Frame, LINE_COLOURS, LINE_DASHES, PriceChart, open_svg, price_ticks, y_axis};
use super::svg::{esc, f1, money, money_tick, nice_ticks, pct_tick, signed_pct, spread, text};
use super::{Ctx, kind_colour, kind_label, network, status_class, status_code, status_label};

/// Most asset lines in the day chart: each has a close line, candles and a dashed
/// fundamental, so fewer than in the round chart keep it readable.
const MAX_DAY_LINES: usize = 4;
/// Assets whose closes the days table shows.
const TABLE_ASSETS: usize = 3;

/// One step of the day player after step 0 (just after the first day's news).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The day.
    pub day: usize,
    /// The round's index in the trace (`None`: the day's rounds are not in the trace,
    /// which keeps the first 10,000 of a run; the step shows the day's close).
    pub trace: Option<usize>,
}

/// The player's steps: every round of every day in order; a day whose rounds the trace
/// does not hold gets one step at its close.
pub(crate) fn steps(o: &Outcome) -> Vec<Step> {
    let mut out = Vec::with_capacity(o.trace.len() + o.days.len());
    for (d, _) in o.days.iter().enumerate() {
        let before = out.len();
        for (i, t) in o.trace.iter().enumerate() {
            if t.day as usize == d {
                out.push(Step {
                    day: d,
                    trace: Some(i),
                });
            }
        }
        if out.len() == before {
            out.push(Step {
                day: d,
                trace: None,
            });
        }
    }
    out
}

/// The step (1-based, as the player counts) that ends each day.
fn day_ends(steps: &[Step], days: usize) -> Vec<usize> {
    (0..days)
        .map(|d| steps.iter().rposition(|s| s.day == d).map_or(0, |i| i + 1))
        .collect()
}

/// Gross starting shares per asset (the price index's weights).
fn gross(ctx: &Ctx<'_>) -> Vec<f64> {
    let mut g = vec![0.0; ctx.outcome.assets.len()];
    for h in &ctx.ledger.holders {
        for p in &h.positions {
            if let Some(x) = g.get_mut(p.asset.get()) {
                *x += p.initial_shares.abs();
            }
        }
    }
    g
}

/// The price index of prices `p` (value of the starting positions over pre-shock).
fn index_of(ctx: &Ctx<'_>, g: &[f64], p: &[f64]) -> f64 {
    let v0: f64 = g
        .iter()
        .zip(&ctx.outcome.assets)
        .map(|(g, a)| g * a.price_before)
        .sum();
    if v0 > 0.0 {
        g.iter().zip(p).map(|(g, p)| g * p).sum::<f64>() / v0
    } else {
        1.0
    }
}

/// Prices at a step (0: the first day's open).
fn step_prices(o: &Outcome, steps: &[Step], k: usize) -> Vec<f64> {
    if k == 0 {
        return o.days[0].assets.iter().map(|a| a.open).collect();
    }
    let s = steps[k - 1];
    match s.trace {
        Some(i) => o.trace[i].prices.clone(),
        None => o.days[s.day].assets.iter().map(|a| a.close).collect(),
    }
}

/// The assets drawn: all when few, else the largest moves at the last close.
fn line_assets(o: &Outcome) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..o.assets.len()).collect();
    if idx.len() > MAX_DAY_LINES {
        idx.sort_by(|&a, &b| {
            o.assets[b]
                .drawdown
                .abs()
                .total_cmp(&o.assets[a].drawdown.abs())
                .then(a.cmp(&b))
        });
        idx.truncate(MAX_DAY_LINES);
        idx.sort_unstable();
    }
    idx
}

/// The day chart and what the player moves in it.
pub(crate) struct DayChart {
    /// The chart, its cursor and dots per step.
    pub chart: PriceChart,
    /// The clip's width per step (the close lines drawn so far).
    pub clip: Vec<f64>,
}

/// Where things go along the day axis: `before` (pre-shock), then one slot per day.
struct DayScale<'f> {
    f: &'f Frame,
    days: usize,
    lo: f64,
    hi: f64,
}

impl DayScale<'_> {
    /// Slot 0 is before the shock; day `d` is slot `d + 1`.
    fn x_slot(&self, slot: usize) -> f64 {
        // Half a slot of margin on both sides keeps the candles off the axes.
        let span = self.days as f64 + 1.0;
        self.f.left + (self.f.right - self.f.left) * (slot as f64 + 0.5) / span
    }
    fn x_day(&self, d: usize) -> f64 {
        self.x_slot(d + 1)
    }
    fn y(&self, v: f64) -> f64 {
        self.f.y(v, self.lo, self.hi)
    }
    /// `points` for pre-shock (0) then one value per day.
    fn points(&self, per_day: &[f64]) -> String {
        std::iter::once(format!("{},{}", f1(self.x_slot(0)), f1(self.y(0.0))))
            .chain(
                per_day
                    .iter()
                    .enumerate()
                    .map(|(d, v)| format!("{},{}", f1(self.x_day(d)), f1(self.y(*v)))),
            )
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Relative change since before the shock.
fn rel(p: f64, p0: f64) -> f64 {
    p / p0 - 1.0
}

/// One drawn asset's paths.
struct Paths {
    open: Vec<f64>,
    close: Vec<f64>,
    fundamental: Vec<f64>,
}

fn paths(o: &Outcome, k: usize) -> Paths {
    let p0 = o.assets[k].price_before;
    let pick = |f: &dyn Fn(&DayOutcome) -> f64| -> Vec<f64> {
        o.days.iter().map(|d| rel(f(d), p0)).collect()
    };
    Paths {
        open: pick(&|d| d.assets[k].open),
        close: pick(&|d| d.assets[k].close),
        fundamental: pick(&|d| d.assets[k].fundamental),
    }
}

/// The day axis: "before", then the days.
fn day_axis(out: &mut String, sc: &DayScale<'_>) {
    let f = sc.f;
    out.push_str("<g class=\"axis x\">");
    let _ = write!(
        out,
        "<line class=\"base\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        f1(f.left),
        f1(f.right),
        f1(f.bottom),
        f1(f.bottom)
    );
    let stride = if sc.days <= 15 {
        1
    } else {
        let (_, s, _) = nice_ticks(0.0, sc.days as f64, 8);
        (s.round() as usize).max(1)
    };
    text(
        out,
        sc.x_slot(0),
        f.bottom + 15.0,
        "text-anchor=\"middle\"",
        "before",
    );
    for d in 0..sc.days {
        if d % stride == 0 {
            text(
                out,
                sc.x_day(d),
                f.bottom + 15.0,
                "text-anchor=\"middle\"",
                &d.to_string(),
            );
        }
    }
    text(
        out,
        f64::midpoint(f.left, f.right),
        f.height - 4.0,
        "class=\"axis-title\" text-anchor=\"middle\"",
        "day (each: open \u{25cb} to close \u{25cf}; dashed: the fundamental, without impact)",
    );
    out.push_str("</g>");
}

/// The drawn paths: per asset its close line (a faint copy of the whole path, and the path
/// so far, clipped by the player), its dashed fundamental and a candle a day; the index;
/// the end labels, spread apart.
fn day_lines(
    out: &mut String,
    ctx: &Ctx<'_>,
    sc: &DayScale<'_>,
    lines: &[usize],
    ps: &[Paths],
    index: &[f64],
) {
    let o = ctx.outcome;
    let n_days = o.days.len();
    let f = sc.f;
    let mut solid = String::new();
    let mut ghost = String::new();
    let mut ends = Vec::new();
    for (i, (&k, p)) in lines.iter().zip(ps).enumerate() {
        let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
        let dash = LINE_DASHES[(i / LINE_COLOURS.len()) % LINE_DASHES.len()];
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let id = &ctx.net.asset(AssetIx(k as u32)).id;
        let pts = sc.points(&p.close);
        let last = p.close.last().copied().unwrap_or(0.0);
        let _ = write!(
            ghost,
            "<polyline class=\"pline\" points=\"{pts}\" stroke=\"{colour}\"{dash}/>"
        );
        let _ = write!(
            solid,
            "<polyline class=\"fline\" points=\"{}\" stroke=\"{colour}\"><title>{}: fundamental (no impact), {} at the end</title></polyline>",
            sc.points(&p.fundamental),
            esc(id),
            signed_pct(p.fundamental.last().copied().unwrap_or(0.0))
        );
        let _ = write!(
            solid,
            "<polyline class=\"pline\" points=\"{pts}\" stroke=\"{colour}\"{dash}><title>{}: closes {}</title></polyline>",
            esc(id),
            esc(&p
                .close
                .iter()
                .map(|v| signed_pct(*v))
                .collect::<Vec<_>>()
                .join(", "))
        );
        for d in 0..n_days {
            let (x, yo, yc) = (sc.x_day(d), sc.y(p.open[d]), sc.y(p.close[d]));
            let _ = write!(
                solid,
                "<g class=\"candle\" stroke=\"{colour}\"><title>{} day {d}: open {}, close {}, fundamental {}</title>\
                 <line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>\
                 <circle class=\"open\" cx=\"{x}\" cy=\"{}\" r=\"3\"/><circle class=\"close\" cx=\"{x}\" cy=\"{}\" r=\"2.5\" fill=\"{colour}\"/></g>",
                esc(id),
                signed_pct(p.open[d]),
                signed_pct(p.close[d]),
                signed_pct(p.fundamental[d]),
                f1(yo),
                f1(yc),
                f1(yo),
                f1(yc),
                x = f1(x)
            );
        }
        ends.push((
            format!("{} {}", short(id), signed_pct(last)),
            colour,
            sc.y(last),
        ));
    }
    let ipts = sc.points(index);
    let ilast = index.last().copied().unwrap_or(0.0);
    let _ = write!(ghost, "<polyline class=\"pline index\" points=\"{ipts}\"/>");
    let _ = write!(
        solid,
        "<polyline class=\"pline index\" points=\"{ipts}\"><title>All starting holdings (price index): closes {}</title></polyline>",
        esc(&index
            .iter()
            .map(|v| signed_pct(*v))
            .collect::<Vec<_>>()
            .join(", "))
    );
    ends.push((
        format!("all holdings {}", signed_pct(ilast)),
        "#000000",
        sc.y(ilast),
    ));
    // Without script the whole path shows; the player clips it at the day on show.
    let full = sc.x_day(n_days.saturating_sub(1)) + 6.0;
    let _ = write!(
        out,
        "<g class=\"ghost\" aria-hidden=\"true\">{ghost}</g><clipPath id=\"price-clip\"><rect id=\"price-clip-rect\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\"/></clipPath><g clip-path=\"url(#price-clip)\">{solid}</g>",
        f1(full),
        f1(f.height)
    );
    end_labels(out, f, &ends);
}

/// Labels at the right end of the lines (label, colour, wanted y), spread apart.
fn end_labels(out: &mut String, f: &Frame, ends: &[(String, &str, f64)]) {
    let placed = spread(
        &ends.iter().map(|e| e.2).collect::<Vec<_>>(),
        12.0,
        f.top + 4.0,
        f.bottom,
    );
    out.push_str("<g class=\"end-labels\">");
    for ((label, colour, y0), y) in ends.iter().zip(&placed) {
        let _ = write!(
            out,
            "<line class=\"leader\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{colour}\"/>",
            f1(f.right + 2.0),
            f1(f.right + 8.0),
            f1(*y0),
            f1(*y)
        );
        text(
            out,
            f.right + 11.0,
            y + 4.0,
            &format!("fill=\"{colour}\""),
            label,
        );
    }
    out.push_str("</g>");
}

/// Each drawn asset's closes, in words (the chart's description).
fn closes_text(ctx: &Ctx<'_>, lines: &[usize], ps: &[Paths]) -> String {
    lines
        .iter()
        .zip(ps)
        .map(|(&k, p)| {
            format!(
                "{}: closes {}",
                ctx.net.asset(AssetIx(k as u32)).id,
                p.close
                    .iter()
                    .map(|v| signed_pct(*v))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The player's cursor and one dot per line (the asset lines, then the index), where the
/// last step puts them (without script, the page shows the last step).
fn player_marks(out: &mut String, f: &Frame, x: f64, dots_y: &[Vec<f64>], lines: usize) {
    let _ = write!(
        out,
        "<line id=\"price-cursor\" class=\"cursor\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
        f1(f.top),
        f1(f.bottom),
        x = f1(x)
    );
    for (i, ys) in dots_y.iter().enumerate() {
        let colour = if i < lines {
            LINE_COLOURS[i % LINE_COLOURS.len()]
        } else {
            "#000000"
        };
        let _ = write!(
            out,
            "<circle class=\"pdot\" data-line=\"{i}\" r=\"3.5\" cx=\"{}\" cy=\"{}\" fill=\"{colour}\"/>",
            f1(x),
            f1(ys.last().copied().unwrap_or(0.0))
        );
    }
}

/// Price paths over days: per drawn asset its close line, each day's open-to-close
/// candle (a rebound shows as an open above the day before's close) and its fundamental
/// dashed; the price index of all starting holdings in black. The player moves dots
/// through each day's rounds.
pub(crate) fn price_chart(ctx: &Ctx<'_>, steps: &[Step]) -> DayChart {
    let o = ctx.outcome;
    let f = Frame {
        width: 600.0,
        height: 330.0,
        left: 52.0,
        right: 452.0,
        top: 14.0,
        bottom: 290.0,
    };
    let n_days = o.days.len();
    let lines = line_assets(o);
    let ps: Vec<Paths> = lines.iter().map(|&k| paths(o, k)).collect();
    let g = gross(ctx);
    let index: Vec<f64> = o.days.iter().map(|d| d.price_index - 1.0).collect();
    let step_p: Vec<Vec<f64>> = (0..=steps.len())
        .map(|k| step_prices(o, steps, k))
        .collect();
    let step_index: Vec<f64> = step_p.iter().map(|p| index_of(ctx, &g, p) - 1.0).collect();
    let mut series: Vec<&[f64]> = Vec::new();
    for p in &ps {
        series.extend([p.open.as_slice(), &p.close, &p.fundamental]);
    }
    series.push(&index);
    series.push(&step_index);
    series.push(&[0.0]);
    let ticks = price_ticks(&series);
    let sc = DayScale {
        f: &f,
        days: n_days,
        lo: ticks.0,
        hi: ticks.0 + ticks.1 * (ticks.2 - 1) as f64,
    };

    let mut out = String::new();
    let desc = format!(
        "Close of each asset relative to before the shock, day by day over {n_days} day{}, with each \
         day's open and the fundamental price. {}",
        if n_days == 1 { "" } else { "s" },
        closes_text(ctx, &lines, &ps)
    );
    open_svg(
        &mut out,
        "price-chart",
        &f,
        "Price paths over days: open, close and fundamental",
        &desc,
    );
    y_axis(&mut out, &f, sc.lo, sc.hi, ticks, &pct_tick);
    day_axis(&mut out, &sc);

    day_lines(&mut out, ctx, &sc, &lines, &ps, &index);

    // The player: the cursor sits on the day on show; the dots move through its rounds.
    let n = steps.len();
    let day_of = |k: usize| if k == 0 { 0 } else { steps[k - 1].day };
    let cursor_x: Vec<f64> = (0..=n).map(|k| sc.x_day(day_of(k))).collect();
    let mut dots_y: Vec<Vec<f64>> = Vec::with_capacity(lines.len() + 1);
    for &k in &lines {
        let p0 = o.assets[k].price_before;
        dots_y.push(step_p.iter().map(|p| sc.y(rel(p[k], p0))).collect());
    }
    dots_y.push(step_index.iter().map(|v| sc.y(*v)).collect());
    // The close lines show up to the day before the one on show while its rounds run,
    // and up to the day itself once it closes.
    let ends = day_ends(steps, n_days);
    let clip: Vec<f64> = (0..=n)
        .map(|k| {
            let d = day_of(k);
            let closed = k > 0 && ends.get(d) == Some(&k);
            sc.x_slot(if closed { d + 1 } else { d }) + 6.0
        })
        .collect();
    let x_end = cursor_x.last().copied().unwrap_or(f.left);
    player_marks(&mut out, &f, x_end, &dots_y, lines.len());
    out.push_str("</svg>");
    DayChart {
        chart: PriceChart {
            svg: out,
            cursor_x,
            dots_y,
        },
        clip,
    }
}

/// An id short enough for a chart label.
fn short(id: &str) -> String {
    const MAX: usize = 12;
    if id.chars().count() <= MAX {
        id.to_owned()
    } else {
        let mut s: String = id.chars().take(MAX - 1).collect();
        s.push('\u{2026}');
        s
    }
}

/// Each day's forced sales by holder kind (rows: days, columns: `ctx.kinds`).
fn day_sales(ctx: &Ctx<'_>) -> Vec<Vec<f64>> {
    ctx.outcome
        .days
        .iter()
        .map(|d| {
            ctx.kinds
                .iter()
                .map(|k| {
                    d.sales_by_kind
                        .iter()
                        .find(|(t, _)| t == k)
                        .map_or(0.0, |(_, v)| *v)
                })
                .collect()
        })
        .collect()
}

/// Stack signed parts from zero: (start, end) per part.
fn stack(parts: &[f64]) -> Vec<(f64, f64)> {
    let (mut up, mut down) = (0.0, 0.0);
    parts
        .iter()
        .map(|&v| {
            if v >= 0.0 {
                let s = (up, up + v);
                up += v;
                s
            } else {
                let s = (down + v, down);
                down += v;
                s
            }
        })
        .collect()
}

/// Forced sales by holder kind per day: one stacked bar a day (below zero: net buying).
pub(crate) fn sales_chart(ctx: &Ctx<'_>) -> String {
    let f = Frame {
        width: 600.0,
        height: 330.0,
        left: 62.0,
        right: 588.0,
        top: 14.0,
        bottom: 290.0,
    };
    let rows = day_sales(ctx);
    let n = rows.len().max(1);
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in &rows {
        for (s, e) in stack(r) {
            lo = lo.min(s);
            hi = hi.max(e);
        }
    }
    if hi - lo <= 0.0 {
        hi = 1.0;
    }
    let ticks = nice_ticks(lo, hi, 5);
    let (lo, hi) = (
        ticks.0.min(0.0),
        (ticks.0 + ticks.1 * (ticks.2 - 1) as f64).max(0.0),
    );
    let band = (f.right - f.left) / n as f64;
    let width = (band * 0.72).clamp(1.0, 64.0);
    let total: Vec<String> = ctx
        .kinds
        .iter()
        .enumerate()
        .map(|(j, k)| {
            format!(
                "{} {}",
                kind_label(*k),
                money(rows.iter().map(|r| r[j]).sum())
            )
        })
        .collect();
    let mut out = String::new();
    open_svg(
        &mut out,
        "sales-chart",
        &f,
        "Forced sales by holder kind, per day",
        &format!(
            "Stacked bars, one per day, of the day's net forced sales at its close. Over {} day{}: {}.",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            total.join(", ")
        ),
    );
    y_axis(&mut out, &f, lo, hi, ticks, &money_tick);
    let centre = |d: usize| f.left + band * (d as f64 + 0.5);
    bar_axis(&mut out, &f, rows.len(), &centre);
    let zero = f.y(0.0, lo, hi);
    let _ = write!(
        out,
        "<line class=\"base\" x1=\"{}\" x2=\"{}\" y1=\"{z}\" y2=\"{z}\"/>",
        f1(f.left),
        f1(f.right),
        z = f1(zero)
    );
    for (d, r) in rows.iter().enumerate() {
        let parts: Vec<String> = ctx
            .kinds
            .iter()
            .zip(r)
            .map(|(k, v)| format!("{} {}", kind_label(*k), money(*v)))
            .collect();
        let _ = write!(
            out,
            "<g class=\"bar\" data-day=\"{d}\"><title>Day {d}: {}</title>",
            esc(&parts.join(", "))
        );
        for (k, (s, e)) in ctx.kinds.iter().zip(stack(r)) {
            if (e - s).abs() <= 0.0 {
                continue;
            }
            let (y1, y2) = (f.y(e, lo, hi), f.y(s, lo, hi));
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                f1(centre(d) - width / 2.0),
                f1(y1),
                f1(width),
                f1((y2 - y1).max(0.5)),
                kind_colour(*k)
            );
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// The sales chart's day axis: a label under every bar (or every few, many days).
fn bar_axis(out: &mut String, f: &Frame, days: usize, centre: &dyn Fn(usize) -> f64) {
    out.push_str("<g class=\"axis x\">");
    let stride = if days <= 15 {
        1
    } else {
        let (_, s, _) = nice_ticks(0.0, days as f64, 8);
        (s.round() as usize).max(1)
    };
    for d in (0..days).filter(|d| d % stride == 0) {
        text(
            out,
            centre(d),
            f.bottom + 15.0,
            "text-anchor=\"middle\"",
            &d.to_string(),
        );
    }
    text(
        out,
        f64::midpoint(f.left, f.right),
        f.height - 4.0,
        "class=\"axis-title\" text-anchor=\"middle\"",
        "day",
    );
    out.push_str("</g>");
}

/// Each kind's sales over all days, for the legend.
pub(crate) fn total_sales(ctx: &Ctx<'_>) -> Vec<String> {
    let rows = day_sales(ctx);
    (0..ctx.kinds.len())
        .map(|j| money(rows.iter().map(|r| r[j]).sum()))
        .collect()
}

/// The day's largest transient impact still standing at the close (any asset).
fn transient(d: &DayOutcome) -> f64 {
    d.assets
        .iter()
        .map(|a| a.transient_impact)
        .fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Assets whose closes the days table shows: the largest forced sales first.
fn table_assets(o: &Outcome) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..o.assets.len()).collect();
    idx.sort_by(|&a, &b| {
        o.assets[b]
            .forced_sales_usd
            .total_cmp(&o.assets[a].forced_sales_usd)
            .then(a.cmp(&b))
    });
    idx.truncate(TABLE_ASSETS);
    idx
}

/// The days table: one row a day (the player marks the day on show).
pub(crate) fn days_table(out: &mut String, ctx: &Ctx<'_>) {
    let o = ctx.outcome;
    let shown = table_assets(o);
    out.push_str(
        "<div class=\"wide\"><table class=\"num\" id=\"days-table\"><caption>Day by day: sales at each close; \
         lender losses standing at the close; transient: the largest impact still to decay (any asset)</caption>\
         <thead><tr><th scope=\"col\">day</th><th scope=\"col\">rounds</th><th scope=\"col\">price index</th>",
    );
    for &k in &shown {
        let _ = write!(
            out,
            "<th scope=\"col\">{} close</th>",
            esc(&ctx.net.asset(AssetIx(k as u32)).id)
        );
    }
    out.push_str(
        "<th scope=\"col\">sales</th><th scope=\"col\">new calls</th><th scope=\"col\">open calls</th>\
         <th scope=\"col\">liquidations</th><th scope=\"col\">defaults</th><th scope=\"col\">lender losses</th>\
         <th scope=\"col\">transient</th><th scope=\"col\">sales by kind</th></tr></thead><tbody>",
    );
    for d in &o.days {
        let by_kind = ctx
            .kinds
            .iter()
            .filter_map(|k| {
                d.sales_by_kind
                    .iter()
                    .find(|(t, v)| t == k && *v != 0.0)
                    .map(|(_, v)| format!("{} {}", kind_label(*k), money(*v)))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "<tr data-day=\"{}\"><th scope=\"row\">{}{}</th><td>{}</td><td>{:.4}</td>",
            d.day,
            d.day,
            if d.termination == Termination::MaxRounds {
                " <span class=\"badge warn\">round limit</span>"
            } else {
                ""
            },
            d.rounds,
            d.price_index
        );
        for &k in &shown {
            let a = &d.assets[k];
            let _ = write!(
                out,
                "<td>{:.2} ({})</td>",
                a.close,
                esc(&signed_pct(rel(a.close, o.assets[k].price_before)))
            );
        }
        let lender_losses: f64 = d.lender_losses_usd.iter().sum();
        let _ = write!(
            out,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(&money(d.sales_usd)),
            d.new_calls,
            d.open_calls,
            d.liquidations,
            d.new_defaults,
            esc(&money(lender_losses)),
            esc(&signed_pct(transient(d))),
            esc(&by_kind)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// What the player says at step `k`.
fn summary(ctx: &Ctx<'_>, steps: &[Step], ends: &[usize], k: usize) -> String {
    let o = ctx.outcome;
    if k == 0 {
        return format!(
            "Day 0 opens after the news, before any forced sale: holders have lost {} on their \
             starting positions at the fundamental prices all the news leads to. Each day's \
             rounds then solve its sales and prices together; balance sheets carry to the next \
             day.",
            money(o.totals.initial_loss_usd)
        );
    }
    let s = steps[k - 1];
    let d = &o.days[s.day];
    let mut out = match s.trace {
        Some(i) => {
            let t = &o.trace[i];
            let mut line = format!(
                "Day {}, round {} of {}: the day's forced sales so far {}; price index {:.4} ({} since before the shock).",
                s.day,
                t.round,
                d.rounds,
                money(t.sales_usd),
                t.price_index,
                signed_pct(t.price_index - 1.0)
            );
            let sellers = t
                .largest_sellers
                .iter()
                .take(3)
                .map(|(h, v)| format!("{} {}", ctx.net.holder(*h).id, money(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            if !sellers.is_empty() {
                let _ = write!(line, " Largest sellers today: {sellers}.");
            }
            line
        }
        None => format!(
            "Day {} (its rounds are beyond the trace's limit; this is its close).",
            s.day
        ),
    };
    if ends.get(s.day) == Some(&k) {
        let lender: f64 = d.lender_losses_usd.iter().sum();
        let _ = write!(
            out,
            " Day {} closes: sales {}, {} new call{}, {} open, {} liquidation{}, {} default{}; lenders' losses {}; transient impact still standing {}.",
            s.day,
            money(d.sales_usd),
            d.new_calls,
            plural(d.new_calls),
            d.open_calls,
            d.liquidations,
            plural(d.liquidations),
            d.new_defaults,
            plural(d.new_defaults),
            money(lender),
            signed_pct(transient(d))
        );
        if d.termination == Termination::MaxRounds {
            out.push_str(" Its round limit was reached before prices settled.");
        }
    }
    out
}

/// Status codes of the drawn holders and lenders at step `k`: nothing at step 0, then
/// each holder's status on the day on show (what its rule did that day, at the close) and
/// each lender's losses at that close against its capital.
fn states(ctx: &Ctx<'_>, steps: &[Step], k: usize) -> (Vec<usize>, Vec<u8>) {
    let o = ctx.outcome;
    let pl = ctx.player;
    if k == 0 {
        return (vec![0; pl.holders.len()], vec![0; pl.lenders.len()]);
    }
    let day = &o.days[steps[k - 1].day];
    let last = k == steps.len();
    let holders = pl
        .holders
        .iter()
        .map(|h: &HolderIx| {
            day.holders
                .get(h.get())
                .map_or(0, |x| status_code(x.status))
        })
        .collect();
    let lenders = pl
        .lenders
        .iter()
        .map(|&l| {
            let lo = o.lenders.get(l);
            let losses = day.lender_losses_usd.get(l).copied().unwrap_or(0.0);
            let defaulted = lo.is_some_and(|x| losses > x.capital);
            // The run keeps whether a lender tightened at the last close only.
            let tightened = last && lo.is_some_and(|x| x.tightened);
            network::lender_code(tightened, defaulted)
        })
        .collect();
    (holders, lenders)
}

/// A coordinate as the data block holds it (one decimal, as in the SVG).
fn coord(x: f64) -> Value {
    Value::from(f1(x).parse::<f64>().unwrap_or(0.0))
}

/// The player's data for a timeline: one step after the first day's news, then every
/// round of every day; `dayEnds` are the steps that close each day.
pub(crate) fn player_data(
    ctx: &Ctx<'_>,
    steps: &[Step],
    chart: &DayChart,
    rows: &[usize],
) -> Value {
    let prices = &chart.chart;
    let o = ctx.outcome;
    let n = steps.len();
    let ends = day_ends(steps, o.days.len());
    let mut out = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let p = step_prices(o, steps, k);
        let (label, head, day) = if k == 0 {
            (
                "Day 0 open, after the news".to_owned(),
                "day 0 open".to_owned(),
                -1i64,
            )
        } else {
            let s = steps[k - 1];
            let d = &o.days[s.day];
            match s.trace {
                Some(i) => (
                    format!("Day {}, round {} of {}", s.day, o.trace[i].round, d.rounds),
                    format!("day {}, round {}", s.day, o.trace[i].round),
                    i64::try_from(s.day).unwrap_or(i64::MAX),
                ),
                None => (
                    format!("Day {} close", s.day),
                    format!("day {} close", s.day),
                    i64::try_from(s.day).unwrap_or(i64::MAX),
                ),
            }
        };
        let (h, l) = states(ctx, steps, k);
        let a: Vec<String> = ctx
            .player
            .assets
            .iter()
            .map(|a| signed_pct(rel(p[a.get()], o.assets[a.get()].price_before)))
            .collect();
        let now: Vec<String> = rows
            .iter()
            .map(|&i| {
                format!(
                    "{:.2} ({})",
                    p[i],
                    signed_pct(rel(p[i], o.assets[i].price_before))
                )
            })
            .collect();
        let dots: Vec<Value> = prices.dots_y.iter().map(|ys| coord(ys[k])).collect();
        out.push(json!({
            "label": label,
            "head": head,
            "summary": summary(ctx, steps, &ends, k),
            "d": day,
            "x": coord(prices.cursor_x[k]),
            "clip": coord(chart.clip[k]),
            "dots": dots,
            "h": h,
            "l": l,
            "a": a,
            "p": now,
        }));
    }
    json!({
        "mode": "timeline",
        "n": n,
        "days": o.days.len(),
        "dayEnds": ends,
        "interval": super::PLAY_INTERVAL_MS,
        "statusClass": super::STATUSES.iter().map(|s| status_class(*s)).collect::<Vec<_>>(),
        "statusLabel": super::STATUSES.iter().map(|s| status_label(*s)).collect::<Vec<_>>(),
        "lenderClass": (0..3u8).map(network::lender_class).collect::<Vec<_>>(),
        "lenderLabel": (0..3u8).map(network::lender_label).collect::<Vec<_>>(),
        "steps": out,
    })
}

/// The final label of the player (shown without script).
pub(crate) fn last_label(o: &Outcome, steps: &[Step]) -> String {
    match steps.last() {
        Some(&Step {
            day,
            trace: Some(i),
        }) => format!(
            "Day {day}, round {} of {}",
            o.trace[i].round, o.days[day].rounds
        ),
        Some(&Step { day, trace: None }) => format!("Day {day} close"),
        None => "Day 0 open, after the news".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use delever_engine::{EngineConfig, Mode, Shock, run};
    use delever_graph::AssetIx;

    use super::steps;

    #[test]
    fn a_day_beyond_the_trace_gets_one_step_at_its_close() {
        let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
        let shocks = [
            Shock::AssetReturn {
                asset: AssetIx(0),
                ret: -0.40,
            },
            Shock::OnDay {
                day: 2,
                shock: Box::new(Shock::AssetReturn {
                    asset: AssetIx(0),
                    ret: -0.05,
                }),
            },
        ];
        let cfg = EngineConfig {
            mode: Mode::Timeline,
            days: 3,
            ..EngineConfig::default()
        };
        let mut o = run(&net, &shocks, &cfg).expect("runs");
        let full = steps(&o);
        assert_eq!(full.len(), o.trace.len());
        assert!(full.iter().all(|s| s.trace.is_some()));
        // As if the trace's bound had dropped day 1's rounds.
        o.trace.retain(|t| t.day != 1);
        let cut = steps(&o);
        let day1: Vec<_> = cut.iter().filter(|s| s.day == 1).collect();
        assert_eq!(day1.len(), 1);
        assert!(day1[0].trace.is_none());
        // Days stay in order, each with at least one step.
        let days: Vec<usize> = cut.iter().map(|s| s.day).collect();
        assert!(days.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(days.first(), Some(&0));
        assert_eq!(days.last(), Some(&2));
    }
}
