//! The network as a graphviz DOT digraph.
//!
//! Assets are boxes, holders ellipses (sized by gross exposure), lenders octagons; edges are
//! holdings (grey), ETF baskets (dashed), margin loans (blue, lender → borrower) and
//! interbank claims (red, debtor → creditor). After a run, holders and lenders are coloured
//! by final status.

use std::fmt::Write as _;

use delever_engine::{Outcome, Status};
use delever_graph::{Edge, HolderIx, Network, NodeRef};

use crate::text::usd;

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
    let _ = writeln!(out, "  node [fontname=\"Helvetica\", fontsize=10];");
    let _ = writeln!(out, "  edge [fontname=\"Helvetica\", fontsize=8];");
    for (i, l) in net.lenders().iter().enumerate() {
        let colour = outcome
            .and_then(|o| o.lenders.get(i))
            .map_or("#ffffff", |lo| {
                if lo.defaulted {
                    "#d55e00"
                } else if lo.tightened {
                    "#e69f00"
                } else {
                    "#ffffff"
                }
            });
        let _ = writeln!(
            out,
            "  {} [shape=octagon, style=filled, fillcolor={}, label={}];",
            quote(&format!("L:{}", l.id)),
            quote(colour),
            quote(&format!("{}\ncapital {}", l.id, usd(l.capital)))
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
    for a in net.assets() {
        let _ = writeln!(
            out,
            "  {} [shape=box, label={}];",
            quote(&format!("A:{}", a.id)),
            quote(&format!("{}\n${:.2}", a.id, a.price))
        );
    }
    write_edges(&mut out, net, &prices);
    if outcome.is_some() {
        write_legend(&mut out);
    }
    out.push_str("}\n");
    out
}

/// Every edge: holdings, baskets, margin loans, interbank claims.
fn write_edges(out: &mut String, net: &Network, prices: &[f64]) {
    let node_name = |n: NodeRef| match n {
        NodeRef::Asset(a) => format!("A:{}", net.asset(a).id),
        NodeRef::Holder(h) => format!("H:{}", net.holder(h).id),
        NodeRef::Lender(l) => format!("L:{}", net.lender(l).id),
    };
    let g = net.graph();
    for e in g.edge_indices() {
        let Some((fi, ti)) = g.edge_endpoints(e) else {
            continue;
        };
        let (from, to) = (node_name(g[fi]), node_name(g[ti]));
        let attrs = match &g[e] {
            Edge::Holds { shares } => {
                let price = match g[ti] {
                    NodeRef::Asset(a) => prices[a.get()],
                    _ => 0.0,
                };
                format!("color=\"#777777\", label={}", quote(&usd(shares * price)))
            }
            Edge::Tracks { weight } => format!(
                "color=\"#777777\", style=dashed, label={}",
                quote(&format!("{:.0}%", weight * 100.0))
            ),
            Edge::Trades => "color=\"#777777\", style=dotted, label=\"hedge/futures\"".to_owned(),
            Edge::Lends(t) => format!(
                "color=\"#0072b2\", penwidth=1.5, label={}",
                quote(&format!(
                    "loan {}\nm {:.0}%",
                    usd(t.loan),
                    t.maintenance * 100.0
                ))
            ),
            Edge::Owes { amount } => {
                format!("color=\"#d55e00\", label={}", quote(&usd(*amount)))
            }
        };
        let _ = writeln!(out, "  {} -> {} [{attrs}];", quote(&from), quote(&to));
    }
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
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_escapes_quotes_backslashes_and_line_breaks() {
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(quote("a\\b"), "\"a\\\\b\"");
        assert_eq!(quote("one\ntwo"), "\"one\\ntwo\"");
        assert_eq!(quote("one\r\ntwo"), "\"one\\ntwo\"");
    }
}
