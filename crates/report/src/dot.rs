//! The network as a graphviz DOT digraph.
//!
//! Assets are boxes, holders ellipses (sized by gross exposure), lenders octagons; edges are
//! holdings (grey, wider for more), ETF baskets (dashed), hedges (dotted), margin loans
//! (blue, lender → borrower) and interbank claims (red, debtor → creditor); a legend names
//! each edge style. After a run, holders are coloured by final status, lenders by their
//! loss as a share of capital, and assets show their price before and after.
//!
//! Readability: with more than [`MAX_EDGE_LABELS`] holdings, their amounts move from the
//! edge labels to tooltips (and the edge's width), so that the labels that remain do not
//! pile on one another.

use std::fmt::Write as _;

use delever_engine::{Outcome, Status};
use delever_graph::{Edge, HolderIx, Network, NodeRef};

use crate::text::usd;

/// Most holdings edges labelled with their amount; past this they carry it as a tooltip
/// and in their width only (the default scenario has about 90: labelled, they overlap).
pub const MAX_EDGE_LABELS: usize = 40;

/// Lender fill by loss as a share of capital: none, up to 5%, up to 25%, more, defaulted
/// (sequential oranges, colour-blind safe; each band also in the node's label).
const LENDER_LOSS: [(&str, &str); 5] = [
    ("#ffffff", "no loss"),
    ("#fee6ce", "loss up to 5% of capital"),
    ("#fdae6b", "loss 5\u{2013}25% of capital"),
    ("#e6550d", "loss over 25% of capital"),
    ("#7f2704", "defaulted (loss over capital)"),
];

/// The band of [`LENDER_LOSS`] for a loss of `share` of capital.
fn loss_band(share: f64, defaulted: bool) -> usize {
    if defaulted {
        4
    } else if share.is_nan() || share <= 0.0 {
        0
    } else if share <= 0.05 {
        1
    } else if share <= 0.25 {
        2
    } else {
        3
    }
}

/// A price with enough digits to see a small move: at least two decimals, four
/// significant digits below 100 (`0.9912`, `1.500`, `180.00`).
fn price(p: f64) -> String {
    if !p.is_finite() || p == 0.0 {
        return format!("${p}");
    }
    let mag = p.abs().log10().floor() as i32;
    let decimals = (3 - mag).clamp(2, 8) as usize;
    format!("${p:.decimals$}")
}

/// Fill colour per status: a colour-blind-safe palette (Okabe–Ito).
fn status_colour(s: Status) -> &'static str {
    match s {
        Status::Unaffected => "#ffffff",
        Status::Bought => "#56b4e9",
        Status::Sold => "#f0e442",
        Status::MarginCall => "#e69f00",
        Status::Liquidated => "#cc79a7",
        Status::Defaulted => "#d55e00",
    }
}

/// A DOT quoted string. Line breaks become the `\n` escape (a centred line in a label), so
/// every statement stays on one line of the file.
fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace("\r\n", "\\n")
            .replace(['\n', '\r'], "\\n")
    )
}

#[allow(clippy::too_many_lines)]
/// Render the network; with an outcome, colour nodes by final status and add a legend.
pub fn render(name: &str, net: &Network, outcome: Option<&Outcome>) -> String {
    let prices = net.prices();
    let max_exposure = (0..net.holders().len())
        .map(|i| net.holdings_value(HolderIx(i as u32), &prices))
        .fold(0.0_f64, f64::max);
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(name));
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, fontname=\"Helvetica\", label={}, labelloc=t];",
        quote(name)
    );
    // Room between ranks and nodes so that edge labels do not sit on one another.
    let _ = writeln!(out, "  graph [nodesep=0.35, ranksep=1.6, fontsize=12];");
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=11];");
    let _ = writeln!(
        out,
        "  edge [fontname=\"Helvetica\", fontsize=9, fontcolor=\"#444444\"];"
    );
    for (i, l) in net.lenders().iter().enumerate() {
        let lo = outcome.and_then(|o| o.lenders.get(i));
        let (colour, extra, border) = lo.map_or(("#ffffff", String::new(), ""), |lo| {
            let loss = lo.borrower_losses_usd + lo.interbank_losses_usd;
            let share = if lo.capital > 0.0 {
                loss / lo.capital
            } else {
                f64::NAN
            };
            let band = loss_band(share, lo.defaulted);
            let words = if lo.defaulted {
                "\ndefaulted".to_owned()
            } else if lo.tightened {
                "\ntightened margin".to_owned()
            } else {
                String::new()
            };
            let text = if loss > 0.0 {
                format!(
                    "\nloss {}{}{words}",
                    usd(loss),
                    if share.is_finite() {
                        format!(" ({:.1}% of capital)", share * 100.0)
                    } else {
                        String::new()
                    }
                )
            } else {
                format!("\nno loss{words}")
            };
            // A tightened lender gets a thick orange border; the fill is its loss.
            let border = if lo.tightened && !lo.defaulted {
                ", color=\"#e69f00\", penwidth=3"
            } else {
                ""
            };
            (LENDER_LOSS[band].0, text, border)
        });
        let font = if colour == LENDER_LOSS[3].0 || colour == LENDER_LOSS[4].0 {
            ", fontcolor=\"#ffffff\""
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "  {} [shape=octagon, style=filled, fillcolor={}{font}{border}, label={}];",
            quote(&format!("L:{}", l.id)),
            quote(colour),
            quote(&format!("{}\ncapital {}{extra}", l.id, usd(l.capital)))
        );
    }
    for (i, h) in net.holders().iter().enumerate() {
        let hx = HolderIx(i as u32);
        let exposure = net.holdings_value(hx, &prices);
        // Area proportional to exposure: width ∝ √exposure, between 0.6 and 2.4 inches.
        let width = if max_exposure > 0.0 {
            0.6 + 1.8 * (exposure / max_exposure).sqrt()
        } else {
            0.6
        };
        let colour = outcome
            .and_then(|o| o.holders.get(i))
            .map_or("#ffffff", |ho| status_colour(ho.status));
        let status = outcome
            .and_then(|o| o.holders.get(i))
            .map(|ho| format!("\n{}", ho.status.name()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} [shape=ellipse, style=filled, fillcolor={}, width={width:.2}, label={}];",
            quote(&format!("H:{}", h.id)),
            quote(colour),
            quote(&format!(
                "{}\n{}\n{}{status}",
                h.id,
                h.kind.tag().name(),
                usd(exposure)
            ))
        );
    }
    for (i, a) in net.assets().iter().enumerate() {
        // After a run: the price before the shock, the final price and the fall.
        let label = match outcome.and_then(|o| o.assets.get(i)) {
            Some(ao) => format!(
                "{}\n{} \u{2192} {}\n{}",
                a.id,
                price(ao.price_before),
                price(ao.price_after),
                signed_pct(ao.price_after / ao.price_before - 1.0)
            ),
            None => format!("{}\n{}", a.id, price(a.price)),
        };
        let _ = writeln!(
            out,
            "  {} [shape=box, label={}];",
            quote(&format!("A:{}", a.id)),
            quote(&label)
        );
    }
    let styles = write_edges(&mut out, net, &prices);
    write_edge_legend(&mut out, styles);
    if outcome.is_some() {
        write_legend(&mut out);
    }
    out.push_str("}\n");
    out
}

/// A signed percentage with a true minus sign (`−16.6%`).
fn signed_pct(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let s = format!("{:+.1}%", x * 100.0);
    match s.strip_prefix('-') {
        Some(rest) if rest != "0.0%" => format!("\u{2212}{rest}"),
        Some(rest) => rest.to_owned(),
        None if s == "+0.0%" => "0.0%".to_owned(),
        None => s,
    }
}

/// Which edge styles a drawing uses, for its legend.
#[derive(Debug, Default, Clone, Copy)]
#[allow(clippy::struct_excessive_bools)]
struct Styles {
    holds: bool,
    tracks: bool,
    trades: bool,
    lends: bool,
    owes: bool,
}

/// Every edge: holdings, baskets, margin loans, interbank claims. Returns the styles used.
fn write_edges(out: &mut String, net: &Network, prices: &[f64]) -> Styles {
    let node_name = |n: NodeRef| match n {
        NodeRef::Asset(a) => format!("A:{}", net.asset(a).id),
        NodeRef::Holder(h) => format!("H:{}", net.holder(h).id),
        NodeRef::Lender(l) => format!("L:{}", net.lender(l).id),
    };
    let g = net.graph();
    let holding = |e| match (&g[e], g.edge_endpoints(e)) {
        (Edge::Holds { shares }, Some((_, ti))) => match g[ti] {
            NodeRef::Asset(a) => Some((shares * prices[a.get()]).abs()),
            _ => Some(0.0),
        },
        _ => None,
    };
    let holdings: Vec<f64> = g.edge_indices().filter_map(holding).collect();
    let label_holdings = holdings.len() <= MAX_EDGE_LABELS;
    let max_hold = holdings.iter().copied().fold(0.0_f64, f64::max);
    let mut styles = Styles::default();
    for e in g.edge_indices() {
        let Some((fi, ti)) = g.edge_endpoints(e) else {
            continue;
        };
        let (from, to) = (node_name(g[fi]), node_name(g[ti]));
        let attrs = match &g[e] {
            Edge::Holds { shares } => {
                styles.holds = true;
                let price = match g[ti] {
                    NodeRef::Asset(a) => prices[a.get()],
                    _ => 0.0,
                };
                let usd_held = shares * price;
                let width = if max_hold > 0.0 {
                    0.5 + 3.0 * (usd_held.abs() / max_hold).sqrt()
                } else {
                    1.0
                };
                let tip = quote(&format!("{} holds {}", &from[2..], usd(usd_held)));
                if label_holdings {
                    format!(
                        "color=\"#777777\", penwidth={width:.2}, label={}, tooltip={tip}",
                        quote(&usd(usd_held))
                    )
                } else {
                    format!("color=\"#777777\", penwidth={width:.2}, tooltip={tip}")
                }
            }
            Edge::Tracks { weight } => {
                styles.tracks = true;
                format!(
                    "color=\"#777777\", style=dashed, label={}",
                    quote(&format!("{:.0}%", weight * 100.0))
                )
            }
            Edge::Trades => {
                styles.trades = true;
                "color=\"#777777\", style=dotted, label=\"hedge/futures\"".to_owned()
            }
            Edge::Lends(t) => {
                styles.lends = true;
                format!(
                    "color=\"#0072b2\", penwidth=1.5, fontcolor=\"#0072b2\", label={}",
                    quote(&format!(
                        "loan {}\nm {:.0}%",
                        usd(t.loan),
                        t.maintenance * 100.0
                    ))
                )
            }
            Edge::Owes { amount } => {
                styles.owes = true;
                format!(
                    "color=\"#d55e00\", fontcolor=\"#d55e00\", label={}",
                    quote(&usd(*amount))
                )
            }
        };
        let _ = writeln!(out, "  {} -> {} [{attrs}];", quote(&from), quote(&to));
    }
    styles
}

/// A legend of the edge styles the drawing uses: a short edge of each, labelled.
fn write_edge_legend(out: &mut String, s: Styles) {
    let rows: [(bool, &str, &str); 5] = [
        (
            s.holds,
            "color=\"#777777\", penwidth=2",
            "holds (USD at start prices; wider = more)",
        ),
        (
            s.tracks,
            "color=\"#777777\", style=dashed",
            "ETF basket weight",
        ),
        (
            s.trades,
            "color=\"#777777\", style=dotted",
            "hedge / futures",
        ),
        (
            s.lends,
            "color=\"#0072b2\", penwidth=1.5",
            "margin loan, lender \u{2192} borrower (m: maintenance)",
        ),
        (
            s.owes,
            "color=\"#d55e00\"",
            "interbank claim, debtor \u{2192} creditor",
        ),
    ];
    let _ = writeln!(out, "  subgraph cluster_edge_legend {{");
    let _ = writeln!(out, "    label=\"edges\"; fontsize=11; color=\"#bbbbbb\";");
    for (i, (used, attrs, words)) in rows.iter().enumerate() {
        if !used {
            continue;
        }
        let _ = writeln!(
            out,
            "    \"legend:e{i}a\" [shape=point, width=0.05, label=\"\"]; \"legend:e{i}b\" [shape=plaintext, label={}];",
            quote(words)
        );
        let _ = writeln!(
            out,
            "    \"legend:e{i}a\" -> \"legend:e{i}b\" [{attrs}, arrowhead=normal];"
        );
    }
    let _ = writeln!(out, "  }}");
}

/// A legend of status colours (after a run).
fn write_legend(out: &mut String) {
    let _ = writeln!(out, "  subgraph cluster_legend {{");
    let _ = writeln!(out, "    label=\"final status\"; fontsize=10;");
    for s in [
        Status::Unaffected,
        Status::Bought,
        Status::Sold,
        Status::MarginCall,
        Status::Liquidated,
        Status::Defaulted,
    ] {
        let _ = writeln!(
            out,
            "    {} [shape=ellipse, style=filled, fillcolor={}, label={}];",
            quote(&format!("legend:{}", s.name())),
            quote(status_colour(s)),
            quote(s.name())
        );
    }
    let _ = writeln!(out, "  }}");
    let _ = writeln!(out, "  subgraph cluster_lender_legend {{");
    let _ = writeln!(out, "    label=\"lenders: loss\"; fontsize=10;");
    for (i, (colour, words)) in LENDER_LOSS.iter().enumerate() {
        let _ = writeln!(
            out,
            "    {} [shape=octagon, style=filled, fillcolor={}{}, label={}];",
            quote(&format!("legend:lender{i}")),
            quote(colour),
            if i >= 3 {
                ", fontcolor=\"#ffffff\""
            } else {
                ""
            },
            quote(words)
        );
    }
    let _ = writeln!(out, "  }}");
}

#[cfg(test)]
mod tests {
    use super::{loss_band, price, quote, signed_pct};

    #[test]
    fn prices_show_small_moves_and_loss_bands_split_at_5_and_25_percent() {
        assert_eq!(price(0.9912), "$0.9912");
        assert_eq!(price(180.0), "$180.00");
        assert_eq!(price(1.5), "$1.500");
        assert_eq!(signed_pct(-0.1661), "\u{2212}16.6%");
        assert_eq!(signed_pct(-0.00001), "0.0%");
        assert_eq!(
            [0.0, 0.01, 0.05, 0.2, 0.9].map(|s| loss_band(s, false)),
            [0, 1, 1, 2, 3]
        );
        assert_eq!(loss_band(0.0, true), 4);
    }

    #[test]
    fn quoting_escapes_quotes_backslashes_and_line_breaks() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("a\\b"), "\"a\\\\b\"");
        assert_eq!(quote("one\ntwo"), "\"one\\ntwo\"");
        assert_eq!(quote("one\r\ntwo"), "\"one\\ntwo\"");
    }
}
