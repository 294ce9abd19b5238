//! The report's charts as inline SVG: the price path per asset, forced sales by holder kind
//! and round, and the loss waterfall. Every chart is complete without script (it shows the
//! final round); the player only moves a cursor and fades bars.

use std::fmt::Write as _;

use delever_graph::{AssetIx, KindTag};

use super::svg::{esc, f1, money, money_tick, nice_ticks, pct_tick, signed_pct, text};
use super::{Ctx, kind_colour, kind_label};

/// Most asset lines in the price chart (all of them when there are at most this many + 2).
const MAX_LINES: usize = 10;

/// Line colours: Okabe–Ito without yellow (too pale for a thin line on white) and without
/// black (the price index's colour).
pub(crate) const LINE_COLOURS: [&str; 6] = [
    "#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9",
];
/// Dash patterns that tell lines apart when colours repeat (and in greyscale print).
pub(crate) const LINE_DASHES: [&str; 3] = ["", "6 3", "2 3"];

/// A plot area inside a `width × height` viewBox.
pub(crate) struct Frame {
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Frame {
    pub(crate) fn x(&self, k: f64, n: f64) -> f64 {
        if n <= 0.0 {
            self.left
        } else {
            self.left + (self.right - self.left) * k / n
        }
    }
    pub(crate) fn y(&self, v: f64, lo: f64, hi: f64) -> f64 {
        if hi <= lo {
            f64::midpoint(self.top, self.bottom)
        } else {
            self.bottom - (self.bottom - self.top) * (v - lo) / (hi - lo)
        }
    }
}

/// Open an accessible SVG: `role="img"`, a `<title>` and a `<desc>`.
pub(crate) fn open_svg(out: &mut String, id: &str, f: &Frame, title: &str, desc: &str) {
    let _ = write!(
        out,
        "<svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-labelledby=\"{id}-title {id}-desc\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        f1(f.width),
        f1(f.height),
        esc(title),
        esc(desc)
    );
}

/// Horizontal grid lines and y tick labels.
pub(crate) fn y_axis(
    out: &mut String,
    f: &Frame,
    lo: f64,
    hi: f64,
    ticks: (f64, f64, usize),
    fmt: &dyn Fn(f64, f64) -> String,
) {
    let (first, step, count) = ticks;
    out.push_str("<g class=\"axis y\">");
    for i in 0..count {
        let v = first + step * i as f64;
        if v < lo - step * 1e-9 || v > hi + step * 1e-9 {
            continue;
        }
        let y = f.y(v, lo, hi);
        let _ = write!(
            out,
            "<line class=\"gl{}\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
            if v.abs() < step * 1e-9 { " zero" } else { "" },
            f1(f.left),
            f1(f.right),
            f1(y),
            f1(y)
        );
        text(
            out,
            f.left - 6.0,
            y + 4.0,
            "text-anchor=\"end\"",
            &fmt(v, step),
        );
    }
    out.push_str("</g>");
}

/// Round ticks along the x axis (steps `from..=n`), every round or a nice stride.
fn x_axis(
    out: &mut String,
    f: &Frame,
    from: usize,
    n: usize,
    label: &str,
    at: &dyn Fn(usize) -> f64,
) {
    let span = n.saturating_sub(from).max(1);
    let stride = if span <= 12 {
        1
    } else {
        let (_, s, _) = nice_ticks(0.0, span as f64, 8);
        (s.round() as usize).max(1)
    };
    out.push_str("<g class=\"axis x\">");
    let _ = write!(
        out,
        "<line class=\"base\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        f1(f.left),
        f1(f.right),
        f1(f.bottom),
        f1(f.bottom)
    );
    for k in from..=n {
        if k % stride != 0 && k != from {
            continue;
        }
        let x = at(k);
        let name = if k == 0 {
            "shock".to_owned()
        } else {
            k.to_string()
        };
        text(out, x, f.bottom + 18.0, "text-anchor=\"middle\"", &name);
    }
    text(
        out,
        f64::midpoint(f.left, f.right),
        f.height - 4.0,
        "class=\"axis-title\" text-anchor=\"middle\"",
        label,
    );
    out.push_str("</g>");
}

/// The price chart and what the player moves in it.
pub(crate) struct PriceChart {
    pub svg: String,
    /// Cursor x per step (0 = after the shock).
    pub cursor_x: Vec<f64>,
    /// Per drawn line, its y per step (the dots the player moves).
    pub dots_y: Vec<Vec<f64>>,
}

/// Relative price change since before the shock, per step (0 = shocked), for one asset.
fn path_of(ctx: &Ctx<'_>, a: usize) -> Vec<f64> {
    let p0 = ctx.outcome.assets[a].price_before;
    std::iter::once(ctx.outcome.assets[a].price_shocked)
        .chain(ctx.outcome.trace.iter().map(|t| t.prices[a]))
        .map(|p| p / p0 - 1.0)
        .collect()
}

/// The aggregate price index (value of all starting positions over pre-shock), per step.
fn index_path(ctx: &Ctx<'_>) -> Vec<f64> {
    let mut gross = vec![0.0; ctx.outcome.assets.len()];
    for h in &ctx.ledger.holders {
        for p in &h.positions {
            if let Some(g) = gross.get_mut(p.asset.get()) {
                *g += p.initial_shares.abs();
            }
        }
    }
    let v0: f64 = gross
        .iter()
        .zip(&ctx.outcome.assets)
        .map(|(g, a)| g * a.price_before)
        .sum();
    let shocked: f64 = gross
        .iter()
        .zip(&ctx.outcome.assets)
        .map(|(g, a)| g * a.price_shocked)
        .sum();
    let first = if v0 > 0.0 { shocked / v0 } else { 1.0 };
    std::iter::once(first)
        .chain(ctx.outcome.trace.iter().map(|t| t.price_index))
        .map(|x| x - 1.0)
        .collect()
}

/// The assets drawn as lines: all when few, else the largest final moves (asset order).
pub(crate) fn line_assets(ctx: &Ctx<'_>) -> Vec<AssetIx> {
    let n = ctx.outcome.assets.len();
    let mut idx: Vec<usize> = (0..n).collect();
    if n > MAX_LINES + 2 {
        idx.sort_by(|&a, &b| {
            ctx.outcome.assets[b]
                .drawdown
                .abs()
                .total_cmp(&ctx.outcome.assets[a].drawdown.abs())
                .then(a.cmp(&b))
        });
        idx.truncate(MAX_LINES);
        idx.sort_unstable();
    }
    idx.into_iter().map(|i| AssetIx(i as u32)).collect()
}

/// A plot's frame with its value range and round count.
struct Scale<'f> {
    f: &'f Frame,
    lo: f64,
    hi: f64,
    n: f64,
}

impl Scale<'_> {
    fn x(&self, k: usize) -> f64 {
        self.f.x(k as f64, self.n)
    }
    fn y(&self, v: f64) -> f64 {
        self.f.y(v, self.lo, self.hi)
    }
    /// An SVG `points` list for one value per step.
    fn points(&self, p: &[f64]) -> String {
        p.iter()
            .enumerate()
            .map(|(k, v)| format!("{},{}", f1(self.x(k)), f1(self.y(*v))))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Nice ticks around every finite value of `series`, padded.
pub(crate) fn price_ticks(series: &[&[f64]]) -> (f64, f64, usize) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in series.iter().flat_map(|s| s.iter()) {
        if v.is_finite() {
            lo = lo.min(*v);
            hi = hi.max(*v);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (-0.01, 0.01);
    }
    let pad = ((hi - lo) * 0.08).max(0.002);
    nice_ticks(lo - pad, hi + pad, 6)
}

/// The price lines (a faint copy of each whole path, and the path so far clipped at the
/// player's round, the index on top) and their end labels, spread apart.
fn price_lines(
    out: &mut String,
    ctx: &Ctx<'_>,
    sc: &Scale<'_>,
    lines: &[AssetIx],
    paths: &[Vec<f64>],
    index: &[f64],
) {
    let mut ends = Vec::new();
    let mut solid = String::new();
    let mut ghost = String::new();
    for (i, (a, p)) in lines.iter().zip(paths).enumerate() {
        let colour = LINE_COLOURS[i % LINE_COLOURS.len()];
        let dash = LINE_DASHES[(i / LINE_COLOURS.len()) % LINE_DASHES.len()];
        let dash = if dash.is_empty() {
            String::new()
        } else {
            format!(" stroke-dasharray=\"{dash}\"")
        };
        let pts = sc.points(p);
        let last = *p.last().unwrap_or(&0.0);
        let id = &ctx.net.asset(*a).id;
        let _ = write!(
            solid,
            "<polyline class=\"pline\" points=\"{pts}\" stroke=\"{colour}\"{dash}><title>{}: {} after the shock, {} at the end</title></polyline>",
            esc(id),
            signed_pct(p[0]),
            signed_pct(last)
        );
        let _ = write!(
            ghost,
            "<polyline class=\"pline\" points=\"{pts}\" stroke=\"{colour}\"{dash}/>"
        );
        ends.push((
            format!("{} {}", short_id(id), signed_pct(last)),
            colour,
            sc.y(last),
        ));
    }
    let ipts = sc.points(index);
    let ilast = *index.last().unwrap_or(&0.0);
    let _ = write!(
        solid,
        "<polyline class=\"pline index\" points=\"{ipts}\"><title>All starting holdings (price index): {} after the shock, {} at the end</title></polyline>",
        signed_pct(index.first().copied().unwrap_or(0.0)),
        signed_pct(ilast)
    );
    let _ = write!(ghost, "<polyline class=\"pline index\" points=\"{ipts}\"/>");
    ends.push((
        format!("all holdings {}", signed_pct(ilast)),
        "#000000",
        sc.y(ilast),
    ));
    let f = sc.f;
    let last_x = sc.x(ctx.n);
    let _ = write!(
        out,
        "<g class=\"ghost\" aria-hidden=\"true\">{ghost}</g><clipPath id=\"price-clip\"><rect id=\"price-clip-rect\" x=\"0\" y=\"0\" width=\"{}\" height=\"{}\"/></clipPath><g clip-path=\"url(#price-clip)\">{solid}</g>",
        f1(last_x + 4.0),
        f1(f.height)
    );
    super::day_charts::end_labels(out, f, &ends);
}

/// Price path per asset across rounds, relative to the pre-shock price.
pub(crate) fn price_chart(ctx: &Ctx<'_>) -> PriceChart {
    let f = Frame {
        width: 600.0,
        height: 330.0,
        left: 52.0,
        right: 452.0,
        top: 14.0,
        bottom: 290.0,
    };
    let n = ctx.n;
    let lines = line_assets(ctx);
    let paths: Vec<Vec<f64>> = lines.iter().map(|a| path_of(ctx, a.get())).collect();
    let index = index_path(ctx);
    let mut series: Vec<&[f64]> = paths.iter().map(Vec::as_slice).collect();
    series.push(&index);
    let ticks = price_ticks(&series);
    let sc = Scale {
        f: &f,
        lo: ticks.0,
        hi: ticks.0 + ticks.1 * (ticks.2 - 1) as f64,
        n: n as f64,
    };

    let mut out = String::new();
    let desc = format!(
        "Price of each asset relative to before the shock, from just after the shock (round 0) to round {n}. {}",
        lines
            .iter()
            .zip(&paths)
            .map(|(a, p)| format!(
                "{} {} to {}",
                ctx.net.asset(*a).id,
                signed_pct(p[0]),
                signed_pct(*p.last().unwrap_or(&0.0))
            ))
            .collect::<Vec<_>>()
            .join("; ")
    );
    open_svg(
        &mut out,
        "price-chart",
        &f,
        "Price path per asset, round by round",
        &desc,
    );
    y_axis(&mut out, &f, sc.lo, sc.hi, ticks, &pct_tick);
    x_axis(
        &mut out,
        &f,
        0,
        n,
        "round (0 = just after the shock, before any forced sale)",
        &|k| sc.x(k),
    );
    price_lines(&mut out, ctx, &sc, &lines, &paths, &index);

    // The player's cursor and dots (at the final round without script).
    let cursor_x: Vec<f64> = (0..=n).map(|k| sc.x(k)).collect();
    let dots_y: Vec<Vec<f64>> = paths
        .iter()
        .chain(std::iter::once(&index))
        .map(|p| p.iter().map(|v| sc.y(*v)).collect())
        .collect();
    let _ = write!(
        out,
        "<line id=\"price-cursor\" class=\"cursor\" x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\"/>",
        f1(f.top),
        f1(f.bottom),
        x = f1(sc.x(n))
    );
    for (i, ys) in dots_y.iter().enumerate() {
        let colour = if i < lines.len() {
            LINE_COLOURS[i % LINE_COLOURS.len()]
        } else {
            "#000000"
        };
        let _ = write!(
            out,
            "<circle class=\"pdot\" data-line=\"{i}\" r=\"3.5\" cx=\"{}\" cy=\"{}\" fill=\"{colour}\"/>",
            f1(sc.x(n)),
            f1(*ys.last().unwrap_or(&0.0))
        );
    }
    out.push_str("</svg>");
    PriceChart {
        svg: out,
        cursor_x,
        dots_y,
    }
}

/// An id short enough for a chart label (the full id is in the tooltip and the tables).
fn short_id(id: &str) -> String {
    const MAX: usize = 12;
    if id.chars().count() <= MAX {
        id.to_owned()
    } else {
        let mut s: String = id.chars().take(MAX - 1).collect();
        s.push('\u{2026}');
        s
    }
}

/// Stack signed segments from `base`: positives upward, negatives downward. Returns
/// (start, end) per segment.
fn stack(base: f64, parts: &[f64]) -> Vec<(f64, f64)> {
    let (mut up, mut down) = (base, base);
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

/// Stacked rectangles for `parts` (one per kind, in `kinds` order) from `base`, centred on
/// `cx`, `width` wide; each kind in its colour.
fn stacked_rects(
    out: &mut String,
    sc: &Scale<'_>,
    kinds: &[KindTag],
    base: f64,
    parts: &[f64],
    cx: f64,
    width: f64,
) {
    for (k, (s, e)) in kinds.iter().zip(stack(base, parts)) {
        if (e - s).abs() <= 0.0 {
            continue;
        }
        let (y1, y2) = (sc.y(e), sc.y(s));
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
            f1(cx - width / 2.0),
            f1(y1),
            f1(width),
            f1((y2 - y1).max(0.5)),
            kind_colour(*k)
        );
    }
}

/// Per-round, per-kind cumulative sales (rows: rounds, columns: `ctx.kinds`).
fn sales_table(ctx: &Ctx<'_>) -> Vec<Vec<f64>> {
    ctx.outcome
        .trace
        .iter()
        .map(|t| {
            ctx.kinds
                .iter()
                .map(|k| {
                    t.sales_by_kind
                        .iter()
                        .find(|(t, _)| t == k)
                        .map_or(0.0, |(_, v)| *v)
                })
                .collect()
        })
        .collect()
}

/// Forced sales by holder kind and round: stacked bars of cumulative sales after each round.
pub(crate) fn sales_chart(ctx: &Ctx<'_>) -> String {
    let f = Frame {
        width: 600.0,
        height: 330.0,
        left: 62.0,
        right: 588.0,
        top: 14.0,
        bottom: 290.0,
    };
    let n = ctx.n.max(1);
    let rows = sales_table(ctx);
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for r in &rows {
        for (s, e) in stack(0.0, r) {
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
    let mut out = String::new();
    let last = rows.last().map(|r| {
        ctx.kinds
            .iter()
            .zip(r)
            .map(|(k, v)| format!("{} {}", kind_label(*k), money(*v)))
            .collect::<Vec<_>>()
            .join(", ")
    });
    open_svg(
        &mut out,
        "sales-chart",
        &f,
        "Forced sales by holder kind, cumulative after each round",
        &format!(
            "Stacked bars, one per round. After round {}: {}.",
            ctx.n,
            last.unwrap_or_default()
        ),
    );
    y_axis(&mut out, &f, lo, hi, ticks, &money_tick);
    let centre = |k: usize| f.left + band * (k as f64 - 0.5);
    x_axis(&mut out, &f, 1, n, "round", &centre);
    for (k, r) in rows.iter().enumerate() {
        let round = k + 1;
        let _ = write!(
            out,
            "<g class=\"bar\" data-round=\"{round}\"><title>Round {round}: "
        );
        let parts: Vec<String> = ctx
            .kinds
            .iter()
            .zip(r)
            .map(|(kind, v)| format!("{} {}", kind_label(*kind), money(*v)))
            .collect();
        out.push_str(&esc(&parts.join(", ")));
        out.push_str("</title>");
        let sc = Scale {
            f: &f,
            lo,
            hi,
            n: 1.0,
        };
        stacked_rects(&mut out, &sc, &ctx.kinds, 0.0, r, centre(round), width);
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

/// Loss per holder kind at the shocked and at the final prices, from the ledger's starting
/// positions: (shock, total) per kind in `ctx.kinds` order.
pub(crate) fn kind_losses(ctx: &Ctx<'_>) -> Vec<(f64, f64)> {
    let mut out = vec![(0.0, 0.0); ctx.kinds.len()];
    for h in &ctx.ledger.holders {
        let kind = ctx.net.holder(h.holder).kind.tag();
        let Some(k) = ctx.kinds.iter().position(|&t| t == kind) else {
            continue;
        };
        for p in &h.positions {
            if let Some(a) = ctx.outcome.assets.get(p.asset.get()) {
                out[k].0 += p.initial_shares * (a.price_before - a.price_shocked);
                out[k].1 += p.initial_shares * (a.price_before - a.price_after);
            }
        }
    }
    out
}

/// The value over (or under) a waterfall column: the cascade's with a sign.
fn column_label(out: &mut String, sc: &Scale<'_>, c: usize, base: f64, sum: f64, cx: f64) {
    let top = base + sum;
    let label = if c == 1 && sum >= 0.0 {
        format!("+{}", money(sum))
    } else {
        money(sum)
    };
    // Above a column that rises, below one that falls.
    let ly = if sum >= 0.0 {
        sc.y(top.max(base)) - 6.0
    } else {
        sc.y(top.min(base)) + 15.0
    };
    text(
        out,
        cx,
        ly,
        "class=\"value\" text-anchor=\"middle\"",
        &label,
    );
}

/// Nice ticks covering zero and every stacked column (base, parts).
fn stack_ticks<'p>(columns: impl Iterator<Item = (f64, &'p [f64])>) -> (f64, f64, usize) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for (base, parts) in columns {
        for (s, e) in stack(base, parts) {
            lo = lo.min(s);
            hi = hi.max(e);
        }
    }
    if hi - lo <= 0.0 {
        hi = 1.0;
    }
    nice_ticks(lo, hi, 5)
}

/// The loss waterfall: the exogenous shock, the cascade on top of it, and the total, each
/// stacked by holder kind.
pub(crate) fn waterfall(ctx: &Ctx<'_>) -> String {
    let f = Frame {
        width: 600.0,
        height: 310.0,
        left: 62.0,
        right: 588.0,
        top: 18.0,
        bottom: 272.0,
    };
    let losses = kind_losses(ctx);
    let shock: Vec<f64> = losses.iter().map(|l| l.0).collect();
    let cascade: Vec<f64> = losses.iter().map(|l| l.1 - l.0).collect();
    let total: Vec<f64> = losses.iter().map(|l| l.1).collect();
    let (si, st) = (shock.iter().sum::<f64>(), total.iter().sum::<f64>());
    let columns = [
        ("exogenous shock", 0.0, &shock, si),
        ("the cascade", si, &cascade, st - si),
        (super::end_label(ctx.outcome), 0.0, &total, st),
    ];
    let ticks = stack_ticks(
        columns
            .iter()
            .map(|(_, base, parts, _)| (*base, parts.as_slice())),
    );
    let (lo, hi) = (
        ticks.0.min(0.0),
        (ticks.0 + ticks.1 * (ticks.2 - 1) as f64).max(0.0),
    );
    let band = (f.right - f.left) / 3.0;
    let width = band * 0.5;
    let mut out = String::new();
    open_svg(
        &mut out,
        "waterfall",
        &f,
        "Loss waterfall: the shock, then the cascade, by holder kind",
        &format!(
            "The exogenous shock alone cost holders {}; the cascade of forced sales added {}; the {} is {}.",
            money(si),
            money(st - si),
            super::end_label(ctx.outcome).replace("total", "total loss"),
            money(st)
        ),
    );
    y_axis(&mut out, &f, lo, hi, ticks, &money_tick);
    let _ = write!(
        out,
        "<line class=\"base\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>",
        f1(f.left),
        f1(f.right),
        y = f1(f.y(0.0, lo, hi))
    );
    let mut tops = Vec::new();
    for (c, (name, base, parts, sum)) in columns.iter().enumerate() {
        let cx = f.left + band * (c as f64 + 0.5);
        let _ = write!(
            out,
            "<g class=\"wcol\"><title>{}: {}",
            esc(name),
            esc(&money(*sum))
        );
        for (k, v) in ctx.kinds.iter().zip(parts.iter()) {
            let _ = write!(out, "; {} {}", esc(kind_label(*k)), esc(&money(*v)));
        }
        out.push_str("</title>");
        let sc = Scale {
            f: &f,
            lo,
            hi,
            n: 1.0,
        };
        stacked_rects(&mut out, &sc, &ctx.kinds, *base, parts, cx, width);
        out.push_str("</g>");
        let top = base + sum;
        column_label(&mut out, &sc, c, *base, *sum, cx);
        text(
            &mut out,
            cx,
            f.bottom + 16.0,
            "text-anchor=\"middle\"",
            name,
        );
        tops.push((cx, top));
    }
    // Connectors: shock top → cascade base, cascade top → total top.
    for w in tops.windows(2) {
        let (x1, v) = w[0];
        let (x2, _) = w[1];
        let y = f.y(v, lo, hi);
        let _ = write!(
            out,
            "<line class=\"connector\" x1=\"{}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>",
            f1(x1 + width / 2.0),
            f1(x2 - width / 2.0),
            y = f1(y)
        );
    }
    out.push_str("</svg>");
    out
}

/// The waterfall's numbers as a table, by kind.
pub(crate) fn waterfall_table(ctx: &Ctx<'_>) -> String {
    let losses = kind_losses(ctx);
    let mut out = String::from(
        "<table class=\"num\"><caption>Losses by holder kind</caption><thead><tr><th scope=\"col\">holder kind</th>\
         <th scope=\"col\">shock</th><th scope=\"col\">cascade</th><th scope=\"col\">total</th>\
         <th scope=\"col\">amplification</th></tr></thead><tbody>",
    );
    for (k, (s, t)) in ctx.kinds.iter().zip(&losses) {
        let amp = if *s == 0.0 {
            "n/a".to_owned()
        } else {
            format!("{:.3}\u{00d7}", t / s)
        };
        let _ = write!(
            out,
            "<tr><th scope=\"row\"><span class=\"swatch\" style=\"background:{}\"></span>{}</th><td>{}</td><td>{}</td><td>{}</td><td>{amp}</td></tr>",
            kind_colour(*k),
            esc(kind_label(*k)),
            esc(&money(*s)),
            esc(&money(t - s)),
            esc(&money(*t)),
        );
    }
    let (s, t): (f64, f64) = losses
        .iter()
        .fold((0.0, 0.0), |a, l| (a.0 + l.0, a.1 + l.1));
    let amp = if s == 0.0 {
        "n/a".to_owned()
    } else {
        format!("{:.3}\u{00d7}", t / s)
    };
    let _ = write!(
        out,
        "</tbody><tfoot><tr><th scope=\"row\">all holders</th><td>{}</td><td>{}</td><td>{}</td><td>{amp}</td></tr></tfoot></table>",
        esc(&money(s)),
        esc(&money(t - s)),
        esc(&money(t))
    );
    out
}

/// A legend of holder kinds (HTML, so it wraps and prints), with each kind's final figure.
pub(crate) fn kind_legend(kinds: &[KindTag], figures: &[String]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (k, fig) in kinds.iter().zip(figures) {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{} <span class=\"muted\">{}</span></li>",
            kind_colour(*k),
            esc(kind_label(*k)),
            esc(fig)
        );
    }
    out.push_str("</ul>");
    out
}

/// Each kind's cumulative sales after the last round, with its share of them all.
pub(crate) fn final_sales(ctx: &Ctx<'_>) -> Vec<String> {
    let rows = sales_table(ctx);
    let last = rows
        .last()
        .cloned()
        .unwrap_or_else(|| vec![0.0; ctx.kinds.len()]);
    let total: f64 = last.iter().sum();
    last.iter()
        .map(|v| format!("{} ({})", money(*v), crate::text::share(*v, total)))
        .collect()
}
