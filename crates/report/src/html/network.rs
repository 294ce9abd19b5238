//! The network drawing: a deterministic layered layout in three columns — lenders | holders
//! | assets — with nodes sized by exposure and holders and lenders coloured by status. No
//! force layout, no randomness: the same network always gives the same picture.

use std::fmt::Write as _;

use delever_engine::Status;
use delever_graph::{HolderIx, KindTag, NodeRef};

use super::svg::{esc, f1, money, signed_pct, text};
use super::{Ctx, kind_label, status_class, status_label};

const WIDTH: f64 = 1000.0;
const X_LENDERS: f64 = 170.0;
const X_HOLDERS: f64 = 480.0;
const X_ASSETS: f64 = 820.0;
/// Without lenders, two columns: holders | assets.
const X_HOLDERS_ALONE: f64 = 300.0;
const X_ASSETS_ALONE: f64 = 720.0;
const TOP: f64 = 44.0;
/// Largest node radius; the smallest is `R_MIN`.
const R_MAX: f64 = 18.0;
const R_MIN: f64 = 3.5;
/// Vertical room a node needs besides its radius (its label is 11 units tall).
const ROW: f64 = 9.5;

/// Where a node sits.
#[derive(Debug, Clone, Copy)]
struct Spot {
    x: f64,
    y: f64,
    r: f64,
}

/// What the player updates in the drawing.
pub(crate) struct NetworkDrawing {
    pub svg: String,
}

fn radius(exposure: f64, max: f64) -> f64 {
    if max > 0.0 && exposure > 0.0 {
        R_MIN + (R_MAX - R_MIN) * (exposure / max).sqrt()
    } else {
        R_MIN
    }
}

/// Stack radii down a column from `TOP`, with `extra[i]` room before node `i` (group
/// headers). Returns the centres and the column's bottom.
fn stack_column(radii: &[f64], extra: &[f64]) -> (Vec<f64>, f64) {
    let mut y = TOP;
    let mut ys = Vec::with_capacity(radii.len());
    for (i, r) in radii.iter().enumerate() {
        y += extra.get(i).copied().unwrap_or(0.0);
        let half = r.max(ROW);
        y += half;
        ys.push(y);
        y += half + 4.0;
    }
    (ys, y)
}

/// Draw the network (final statuses; the player recolours it round by round).
#[allow(clippy::too_many_lines)]
pub(crate) fn draw(ctx: &Ctx<'_>) -> NetworkDrawing {
    let pl = ctx.player;
    let net = ctx.net;
    let (xh, xa) = if pl.lenders.is_empty() {
        (X_HOLDERS_ALONE, X_ASSETS_ALONE)
    } else {
        (X_HOLDERS, X_ASSETS)
    };
    // Each drawn node's gross exposure: its members' (one holder unless aggregated).
    let node_exp: Vec<f64> = pl
        .members
        .iter()
        .map(|g| g.iter().map(|h| pl.holder_exposure[h.get()]).sum())
        .collect();
    let mut node_of: Vec<Option<usize>> = vec![None; net.holders().len()];
    for (k, g) in pl.members.iter().enumerate() {
        for h in g {
            if let Some(slot) = node_of.get_mut(h.get()) {
                *slot = Some(k);
            }
        }
    }
    let max = node_exp
        .iter()
        .copied()
        .chain(pl.assets.iter().map(|a| pl.asset_exposure[a.get()]))
        .chain(pl.lenders.iter().map(|&l| pl.lender_loans[l]))
        .fold(0.0_f64, f64::max);

    // Holders grouped by kind, a header before each group.
    let h_r: Vec<f64> = node_exp.iter().map(|e| radius(*e, max)).collect();
    let mut h_extra = vec![0.0; pl.holders.len()];
    let mut groups: Vec<(usize, KindTag)> = Vec::new();
    for (i, h) in pl.holders.iter().enumerate() {
        let k = net.holder(*h).kind.tag();
        if groups.last().is_none_or(|g| g.1 != k) {
            groups.push((i, k));
            h_extra[i] = 20.0;
        }
    }
    let (h_y, h_bottom) = stack_column(&h_r, &h_extra);
    let a_r: Vec<f64> = pl
        .assets
        .iter()
        .map(|a| radius(pl.asset_exposure[a.get()], max))
        .collect();
    let (a_y, a_bottom) = stack_column(&a_r, &[]);
    let l_r: Vec<f64> = pl
        .lenders
        .iter()
        .map(|&l| radius(pl.lender_loans[l], max))
        .collect();
    let (l_y, l_bottom) = stack_column(&l_r, &[]);
    let bottom = h_bottom.max(a_bottom).max(l_bottom).max(TOP + 120.0);
    let height = bottom + 16.0;
    // Centre the shorter columns.
    let shift = |col_bottom: f64| (bottom - col_bottom) / 2.0;
    let node_spot: Vec<Spot> = h_y
        .iter()
        .zip(&h_r)
        .map(|(y, r)| Spot {
            x: xh,
            y: y + shift(h_bottom),
            r: *r,
        })
        .collect();
    let mut asset_spot = vec![None; net.assets().len()];
    for ((a, y), r) in pl.assets.iter().zip(&a_y).zip(&a_r) {
        asset_spot[a.get()] = Some(Spot {
            x: xa,
            y: y + shift(a_bottom),
            r: *r,
        });
    }
    let mut lender_spot = vec![None; net.lenders().len()];
    for ((l, y), r) in pl.lenders.iter().zip(&l_y).zip(&l_r) {
        lender_spot[*l] = Some(Spot {
            x: X_LENDERS,
            y: y + shift(l_bottom),
            r: *r,
        });
    }

    let mut out = String::new();
    let shown = format!(
        "{} of {} holders{}, {} of {} assets, {} of {} lenders",
        pl.members.iter().map(Vec::len).sum::<usize>(),
        net.holders().len(),
        if pl.aggregated {
            format!(" as {} nodes, one per kind and lender", pl.members.len())
        } else {
            String::new()
        },
        pl.assets.len(),
        net.assets().len(),
        pl.lenders.len(),
        net.lenders().len()
    );
    let _ = write!(
        out,
        "<svg id=\"network\" class=\"chart network\" viewBox=\"0 0 {} {}\" role=\"img\" \
         aria-labelledby=\"network-title network-desc\">\
         <title id=\"network-title\">The network: lenders, holders and assets</title>\
         <desc id=\"network-desc\">Lenders on the left lend on margin to holders in the middle, \
         who hold the assets on the right. Nodes are sized by exposure; holders and lenders are \
         coloured and labelled by their status. Shown: {}.</desc>",
        f1(WIDTH),
        f1(height),
        esc(&shown)
    );
    // Column titles.
    if !pl.lenders.is_empty() {
        text(
            &mut out,
            X_LENDERS,
            16.0,
            "class=\"col-title\" text-anchor=\"middle\"",
            "Lenders (size: loans)",
        );
    }
    text(
        &mut out,
        xh,
        16.0,
        "class=\"col-title\" text-anchor=\"middle\"",
        "Holders (size: gross exposure)",
    );
    text(
        &mut out,
        xa,
        16.0,
        "class=\"col-title\" text-anchor=\"middle\"",
        "Assets (size: exposure held)",
    );

    // Edges first, under the nodes.
    out.push_str("<g class=\"edges\">");
    let p0 = net.prices();
    // Edges between drawn nodes, summed over the holders a node stands for.
    let mut holds: std::collections::BTreeMap<(usize, usize), f64> =
        std::collections::BTreeMap::new();
    for hl in &ctx.ledger.holders {
        let Some(k) = node_of.get(hl.holder.get()).copied().flatten() else {
            continue;
        };
        for pos in &hl.positions {
            if asset_spot.get(pos.asset.get()).copied().flatten().is_none() {
                continue;
            }
            let usd = pos.initial_shares * p0.get(pos.asset.get()).copied().unwrap_or(0.0);
            *holds.entry((k, pos.asset.get())).or_default() += usd;
        }
    }
    let node_name = |k: usize| -> String {
        if pl.aggregated {
            group_name(ctx, k)
        } else {
            net.holder(pl.holders[k]).id.clone()
        }
    };
    let max_hold = holds.values().map(|u| u.abs()).fold(0.0_f64, f64::max);
    for (&(k, a), usd) in &holds {
        let (hs, Some(asp)) = (node_spot[k], asset_spot[a]) else {
            continue;
        };
        if *usd == 0.0 {
            continue;
        }
        let w = 0.6 + 5.0 * (usd.abs() / max_hold).sqrt();
        let mx = f64::midpoint(hs.x, asp.x);
        let _ = write!(
            out,
            "<path class=\"e-hold{}\" d=\"M{},{} C{},{} {},{} {},{}\" stroke-width=\"{}\"><title>{} {} {} of {}</title></path>",
            if *usd < 0.0 { " short" } else { "" },
            f1(hs.x),
            f1(hs.y),
            f1(mx),
            f1(hs.y),
            f1(mx),
            f1(asp.y),
            f1(asp.x),
            f1(asp.y),
            f1(w),
            esc(&node_name(k)),
            if *usd < 0.0 { "short" } else { "hold" },
            esc(&money(usd.abs())),
            esc(&net.assets()[a].id)
        );
    }
    let mut loans: std::collections::BTreeMap<(usize, usize), f64> =
        std::collections::BTreeMap::new();
    for (i, k) in node_of.iter().enumerate() {
        let h = HolderIx(i as u32);
        if let (Some(m), Some(k)) = (net.margin(h), *k) {
            *loans.entry((m.lender.get(), k)).or_default() += m.terms.loan;
        }
    }
    let max_loan = loans.values().copied().fold(0.0_f64, f64::max);
    for (&(l, k), loan) in &loans {
        let (Some(ls), hs) = (lender_spot.get(l).copied().flatten(), node_spot[k]) else {
            continue;
        };
        let w = if max_loan > 0.0 {
            0.8 + 4.0 * (loan / max_loan).sqrt()
        } else {
            0.8
        };
        let mx = f64::midpoint(ls.x, hs.x);
        let _ = write!(
            out,
            "<path class=\"e-loan\" d=\"M{},{} C{},{} {},{} {},{}\" stroke-width=\"{}\"><title>{} lends {} to {}</title></path>",
            f1(ls.x),
            f1(ls.y),
            f1(mx),
            f1(ls.y),
            f1(mx),
            f1(hs.y),
            f1(hs.x),
            f1(hs.y),
            f1(w),
            esc(&net.lender(net_lender(l)).id),
            esc(&money(*loan)),
            esc(&node_name(k))
        );
    }
    let mut claims: std::collections::BTreeMap<(End, End), f64> = std::collections::BTreeMap::new();
    let key = |n: NodeRef| match n {
        NodeRef::Holder(h) => node_of.get(h.get()).copied().flatten().map(|k| (0u8, k)),
        NodeRef::Lender(l) => lender_spot
            .get(l.get())
            .copied()
            .flatten()
            .map(|_| (1u8, l.get())),
        NodeRef::Asset(_) => None,
    };
    for c in net.claims() {
        if let (Some(d), Some(cr)) = (key(c.debtor), key(c.creditor)) {
            *claims.entry((d, cr)).or_default() += c.amount;
        }
    }
    let spot_of = |(side, i): (u8, usize)| {
        if side == 0 {
            Some(node_spot[i])
        } else {
            lender_spot.get(i).copied().flatten()
        }
    };
    let name_of = |(side, i): (u8, usize)| {
        if side == 0 {
            node_name(i)
        } else {
            net.lender(net_lender(i)).id.clone()
        }
    };
    for (&(dk, ck), amount) in &claims {
        let (Some(d), Some(cr)) = (spot_of(dk), spot_of(ck)) else {
            continue;
        };
        let bend = 60.0 + (d.y - cr.y).abs() * 0.15;
        let _ = write!(
            out,
            "<path class=\"e-claim\" d=\"M{},{} C{},{} {},{} {},{}\"><title>{} owes {} {}</title></path>",
            f1(d.x),
            f1(d.y),
            f1(d.x - bend),
            f1(d.y),
            f1(cr.x - bend),
            f1(cr.y),
            f1(cr.x),
            f1(cr.y),
            esc(&name_of(dk)),
            esc(&name_of(ck)),
            esc(&money(*amount))
        );
    }
    out.push_str("</g>");

    // Group headers.
    for (i, k) in &groups {
        let y = h_y[*i] + shift(h_bottom) - h_r[*i].max(ROW) - 6.0;
        text(&mut out, xh - 20.0, y, "class=\"group\"", kind_label(*k));
    }

    // Lenders.
    out.push_str("<g class=\"nodes lenders\">");
    for (k, &l) in pl.lenders.iter().enumerate() {
        let Some(s) = lender_spot[l] else { continue };
        let lo = ctx.outcome.lenders.get(l);
        let state = lo.map_or(0, |x| lender_code(x.tightened, x.defaulted));
        let lender = &net.lenders()[l];
        let _ = write!(
            out,
            "<g class=\"node\"><rect class=\"ln {}\" data-l=\"{k}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"2\">\
             <title>{}: lender, capital {}, loans {}</title></rect>",
            lender_class(state),
            f1(s.x - s.r),
            f1(s.y - s.r),
            f1(2.0 * s.r),
            f1(2.0 * s.r),
            esc(&lender.id),
            esc(&money(lender.capital)),
            esc(&money(pl.lender_loans[l]))
        );
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}<tspan class=\"status\" data-l=\"{k}\">{}</tspan></text></g>",
            f1(s.x - s.r - 6.0),
            f1(s.y + 4.0),
            esc(&short(&lender.id)),
            esc(lender_label(state))
        );
    }
    out.push_str("</g>");

    // Holders.
    out.push_str("<g class=\"nodes holders\">");
    for (k, h) in pl.holders.iter().enumerate() {
        let s = node_spot[k];
        let status = super::player::worst(pl.members[k].iter().map(|m| {
            ctx.outcome
                .holders
                .get(m.get())
                .map_or(Status::Unaffected, |o| o.status)
        }));
        let holder = net.holder(*h);
        if pl.aggregated {
            group_node(&mut out, ctx, k, s, status, node_exp[k]);
            continue;
        }
        let _ = write!(
            out,
            "<g class=\"node\"><circle class=\"hn {}\" data-h=\"{k}\" cx=\"{}\" cy=\"{}\" r=\"{}\">\
             <title>{}: {}, gross exposure {}</title></circle>",
            status_class(status),
            f1(s.x),
            f1(s.y),
            f1(s.r),
            esc(&holder.id),
            esc(kind_label(holder.kind.tag())),
            esc(&money(node_exp[k]))
        );
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{}\" y=\"{}\">{}<tspan class=\"status\" data-h=\"{k}\">{}</tspan></text></g>",
            f1(s.x + s.r + 5.0),
            f1(s.y + 4.0),
            esc(&short(&holder.id)),
            esc(&format!(" \u{00b7} {}", status_label(status)))
        );
    }
    out.push_str("</g>");

    // Assets.
    out.push_str("<g class=\"nodes assets\">");
    for (k, a) in pl.assets.iter().enumerate() {
        let Some(s) = asset_spot[a.get()] else {
            continue;
        };
        let asset = net.asset(*a);
        let dd = ctx.outcome.assets.get(a.get()).map_or(0.0, |o| o.drawdown);
        let _ = write!(
            out,
            "<g class=\"node\"><circle class=\"an\" cx=\"{}\" cy=\"{}\" r=\"{}\"><title>{}: exposure held {}</title></circle>",
            f1(s.x),
            f1(s.y),
            f1(s.r),
            esc(&asset.id),
            esc(&money(pl.asset_exposure[a.get()]))
        );
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{}\" y=\"{}\">{} <tspan class=\"move\" data-a=\"{k}\">{}</tspan></text></g>",
            f1(s.x + s.r + 5.0),
            f1(s.y + 4.0),
            esc(&short(&asset.id)),
            esc(&signed_pct(dd))
        );
    }
    out.push_str("</g></svg>");
    NetworkDrawing { svg: out }
}

/// One end of an interbank claim in the drawing: (0, holder node) or (1, lender).
type End = (u8, usize);

/// Most characters of an id in a node's label (the tooltip has it in full): a longer
/// label would run past the drawing's edge or into the next column.
const MAX_LABEL_CHARS: usize = 18;

/// An id cut to [`MAX_LABEL_CHARS`], with an ellipsis when cut.
fn short(id: &str) -> String {
    if id.chars().count() <= MAX_LABEL_CHARS {
        id.to_owned()
    } else {
        let mut s: String = id.chars().take(MAX_LABEL_CHARS - 1).collect();
        s.push('\u{2026}');
        s
    }
}

/// An aggregated node's name: `banks borrowing from broker (12)`.
fn group_name(ctx: &Ctx<'_>, k: usize) -> String {
    let pl = ctx.player;
    let kind = kind_label(ctx.net.holder(pl.holders[k]).kind.tag());
    let n = pl.members[k].len();
    match pl.group_lender[k] {
        Some(l) => format!(
            "{n} {kind} borrowing from {}",
            ctx.net.lender(net_lender(l)).id
        ),
        None => format!("{n} {kind} without a margin loan"),
    }
}

/// A node standing for every holder of a kind that borrows from one lender (or none):
/// sized by their exposure, coloured by the most severe status among them.
fn group_node(out: &mut String, ctx: &Ctx<'_>, k: usize, s: Spot, status: Status, exposure: f64) {
    let pl = ctx.player;
    let net = ctx.net;
    let n = pl.members[k].len();
    let largest: Vec<&str> = pl.members[k]
        .iter()
        .take(3)
        .map(|h| net.holder(*h).id.as_str())
        .collect();
    let _ = write!(
        out,
        "<g class=\"node group-node\"><circle class=\"hn {}\" data-h=\"{k}\" cx=\"{}\" cy=\"{}\" r=\"{}\">\
         <title>{}: gross exposure {}; largest: {}{}</title></circle>",
        status_class(status),
        f1(s.x),
        f1(s.y),
        f1(s.r),
        esc(&group_name(ctx, k)),
        esc(&money(exposure)),
        esc(&largest.join(", ")),
        if n > largest.len() { ", \u{2026}" } else { "" }
    );
    let lender = pl.group_lender[k].map_or_else(
        || "no margin loan".to_owned(),
        |l| format!("via {}", short(&net.lender(net_lender(l)).id)),
    );
    let _ = write!(
        out,
        "<text class=\"label\" x=\"{}\" y=\"{}\">{} ({n})<tspan class=\"status\" data-h=\"{k}\">{}</tspan></text></g>",
        f1(s.x + s.r + 5.0),
        f1(s.y + 4.0),
        esc(&lender),
        esc(&format!(" \u{00b7} {}", status_label(status)))
    );
}

fn net_lender(l: usize) -> delever_graph::LenderIx {
    delever_graph::LenderIx(l as u32)
}

/// Lender state codes for the player: 0 normal, 1 tightened margin, 2 defaulted.
pub(crate) fn lender_code(tightened: bool, defaulted: bool) -> u8 {
    if defaulted { 2 } else { u8::from(tightened) }
}

pub(crate) fn lender_class(code: u8) -> &'static str {
    match code {
        2 => "ls-defaulted",
        1 => "ls-tightened",
        _ => "ls-normal",
    }
}

pub(crate) fn lender_label(code: u8) -> &'static str {
    match code {
        2 => " \u{00b7} defaulted",
        1 => " \u{00b7} tightened margin",
        _ => "",
    }
}
