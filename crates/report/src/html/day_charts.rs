//! A timeline's charts: price paths over days (each day's open and close, the close line,
//! the fundamental dashed, the player's marks) and forced sales by holder kind per day;
//! and the day player's data, which steps through the charts' coordinates.

use std::fmt::Write as _;

use delever_engine::{DayOutcome, Outcome};
use delever_graph::AssetIx;
use serde_json::{Value, json};

use super::charts::{Frame, LINE_COLOURS, LINE_DASHES, PriceChart, open_svg, price_ticks, y_axis};
use super::days::{
    Step, coord, day_ends, day_sales, gross, index_of, rel, states, step_prices, summary,
};
use super::svg::{esc, f1, money, money_tick, nice_ticks, pct_tick, signed_pct, spread, text};
use super::{Ctx, kind_colour, kind_label, network, status_class, status_label};

/// Most asset lines in the day chart: each has a close line, candles and a dashed
/// fundamental, so fewer than in the round chart keep it readable.
const MAX_DAY_LINES: usize = 4;

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
pub(super) struct DayScale<'f> {
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

/// One drawn asset's paths.
pub(super) struct Paths {
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
        f.bottom + 18.0,
        "text-anchor=\"middle\"",
        "before",
    );
    for d in 0..sc.days {
        if d % stride == 0 {
            text(
                out,
                sc.x_day(d),
                f.bottom + 18.0,
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
pub(crate) fn end_labels(out: &mut String, f: &Frame, ends: &[(String, &str, f64)]) {
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
            f.bottom + 18.0,
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
                    "{} ({})",
                    crate::text::price(p[i]),
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
