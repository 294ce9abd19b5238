//! The HTML, DOT and sweep outputs of issue 17: regime changes in a sweep (JSON, table,
//! page), the pages' readability promises that need no browser, and the DOT drawing
//! after a run. The browser checks are in tests/browser (run by .ci/run).

// A test that unwraps fails with the line that broke, which is all a message would say.
#![allow(clippy::unwrap_used)]

use crate::util::{delever, scratch};

/// One margin account at 42% loan-to-value, maintenance 25%, in a market too deep to
/// move: at a return r it is called when (1 + r) − 0.42 < 0.25 (1 + r), below −44%, and
/// defaults (equity below 0, its lender loses) below −58%.
const FIRST_DEFAULT: &str = "\
name: first-default
description: One margin account at 42% loan-to-value (maintenance 25%) in a deep market.
as_of: 2026-01-01
sources:
  - { id: t, title: \"Round test figures\", date: 2026-01-01 }
defaults:
  impact: { law: square_root, y: 0.7 }
assets:
  - { id: X, price: 100.0, shares_outstanding: 1.0e12, adv_usd: 1.0e13, daily_vol: 0.02 }
lenders:
  - { id: broker, capital: 1.0e9 }
holders:
  - id: acct
    kind: margin_account
    holdings: [ { asset: X, usd: 1.0e6 } ]
    margin: { lender: broker, loan: 4.2e5, maintenance: 0.25 }
shocks:
  - { type: asset, asset: X, return: -0.05 }
";

fn first_default_file(dir: &std::path::Path) -> String {
    let path = dir.join("first-default.yaml");
    std::fs::write(&path, FIRST_DEFAULT).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn a_sweep_names_its_first_call_default_and_lender_loss_where_they_happen() {
    let dir = scratch("report_html_regimes");
    let file = first_default_file(&dir);
    let vary = "--vary=shocks[0].return=-0.05:-0.70:14";
    let r = delever(["sweep", &file, vary, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    // The rows keep their keys; `regimes` is added beside them.
    assert_eq!(doc["rows"].as_array().unwrap().len(), 14);
    assert!(doc["rows"][0]["total_loss_usd"].is_number());
    let curves = doc["regimes"].as_array().unwrap();
    assert_eq!(curves.len(), 1, "one curve: {curves:?}");
    let found: Vec<(String, f64, f64)> = curves[0]["regimes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["kind"].as_str().unwrap().to_owned(),
                r["x_before"].as_f64().unwrap(),
                r["x_after"].as_f64().unwrap(),
            )
        })
        .collect();
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let at = |kind: &str| found.iter().find(|f| f.0 == kind).cloned();
    let call = at("first_margin_call").unwrap();
    assert!(near(call.1, -0.40) && near(call.2, -0.45), "{found:?}");
    let default = at("first_default").unwrap();
    assert!(
        near(default.1, -0.55) && near(default.2, -0.60),
        "{found:?}"
    );
    let loss = at("first_lender_loss").unwrap();
    assert!(near(loss.1, -0.55) && near(loss.2, -0.60), "{found:?}");
    // Nothing else: amplification is flat at 1×, so no jump, and the lender survives.
    assert_eq!(found.len(), 3, "{found:?}");

    // The table says it in words, the page labels it on the chart and lists it.
    let t = delever(["sweep", &file, vary]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout
            .contains("first default between Shock 1 return = \u{2212}55% and \u{2212}60%: defaults 0 \u{2192} 1"),
        "{}",
        t.stdout
    );
    let html = dir.join("sweep.html");
    let h = delever([
        "sweep",
        &file,
        vary,
        "--html",
        html.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains(">first default</text>"),
        "labelled on the chart"
    );
    assert!(
        page.contains("<td class=\"text\">first default</td><td class=\"text\">\u{2212}55% to \u{2212}60%</td>"),
        "listed in the table"
    );
}

#[test]
fn dot_after_a_run_shows_final_prices_lender_losses_and_an_edge_legend() {
    let r = delever(["export", "dot", "--after-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dot = r.stdout;
    // Every asset node shows its price before and after, and the move.
    let assets: Vec<&str> = dot
        .lines()
        .filter(|l| l.trim_start().starts_with("\"A:"))
        .filter(|l| l.contains("shape=box"))
        .collect();
    assert!(!assets.is_empty());
    for a in &assets {
        assert!(a.contains(" \u{2192} $") && a.contains('%'), "{a}");
    }
    // Lenders are filled by loss and say it; the legend names the bands.
    let lenders: Vec<&str> = dot
        .lines()
        .filter(|l| l.trim_start().starts_with("\"L:") && l.contains("shape=octagon"))
        .collect();
    assert!(!lenders.is_empty());
    for l in &lenders {
        assert!(l.contains("no loss") || l.contains("loss $"), "{l}");
    }
    assert!(dot.contains("cluster_lender_legend") && dot.contains("loss over 25% of capital"));
    // A legend for the edge styles the drawing uses.
    assert!(dot.contains("cluster_edge_legend"), "{dot}");
    assert!(dot.contains("holds (USD at start prices; wider = more)"));
    assert!(dot.contains("margin loan, lender \u{2192} borrower"));
    // Readable: the default scenario's ~90 holdings carry their amounts as tooltips, not
    // labels that would pile up; nodes at 11 pt.
    let holdings = dot
        .lines()
        .filter(|l| l.contains("-> \"A:") && l.contains("tooltip="))
        .count();
    assert!(
        holdings > delever_report::dot::MAX_EDGE_LABELS,
        "{holdings}"
    );
    assert!(
        !dot.lines()
            .any(|l| l.contains("tooltip=") && l.contains(" label=")),
        "holdings labelled"
    );
    assert!(dot.contains("node [fontname=\"Helvetica\", fontsize=11]"));
    // Before a run: the start price, no statuses, still the edge legend.
    let before = delever(["export", "dot"]);
    assert_eq!(before.code, 0, "{}", before.stderr);
    assert!(before.stdout.contains("cluster_edge_legend"));
    assert!(!before.stdout.contains("final status"));
}
