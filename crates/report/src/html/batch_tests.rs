//! The sweep and Monte Carlo pages: every input renders (no panic), self-contained,
//! escaped, deterministic and well-formed; regime changes on the page and the scatter's
//! sampling.

use super::mc::{MAX_SCATTER, scatter_sample};
use super::{ScenarioNotes, SourceNote, mc_page, sweep_page};
use crate::batch::{Distribution, McDraw, McSummary, ParamValue, RunFigures, SweepDoc, SweepRow};
use crate::run::RunMeta;

const EVIL: &str = "<script>window.__pwned=1</script>";

fn meta() -> (RunMeta, ScenarioNotes) {
    (
        RunMeta {
            name: EVIL.to_owned(),
            description: format!("About {EVIL}.\n\nMore </script><!-- here."),
            as_of: "2026-05-29".to_owned(),
        },
        ScenarioNotes {
            assumptions: vec![format!("assume {EVIL}")],
            sources: vec![SourceNote {
                id: "s".to_owned(),
                title: "A <b>title</b>".to_owned(),
                url: Some("https://example.org/x?a=1&b=2".to_owned()),
                date: None,
            }],
        },
    )
}

/// Figures of a run whose initial loss is `shock` and which tips past `tip`.
fn figures(shock: f64, tip: f64) -> RunFigures {
    let amp = if shock >= tip { 4.0 } else { 1.2 + shock };
    RunFigures {
        termination: "converged".to_owned(),
        rounds: 5,
        initial_loss_usd: shock * 1e10,
        total_loss_usd: amp * shock * 1e10,
        amplification: amp,
        forced_sales_usd: amp * 1e9,
        defaults: (amp * 3.0) as u64,
        margin_calls: (amp * 10.0) as u64,
        lender_losses_usd: if amp > 2.0 { 1e8 } else { 0.0 },
        borrower_shortfalls_usd: 0.0,
        interbank_losses_usd: 0.0,
        lender_defaults: u64::from(amp > 2.0),
        multiple_equilibria: false,
        loss_by_kind: vec![shock * 1e9, amp * 1e9],
    }
}

/// A full grid over `axes` (the last varies fastest); the tipping point falls with the
/// second parameter.
fn sweep(axes: &[Vec<ParamValue>]) -> SweepDoc {
    let mut rows: Vec<Vec<ParamValue>> = vec![Vec::new()];
    for axis in axes {
        rows = rows
            .into_iter()
            .flat_map(|r| {
                axis.iter().map(move |v| {
                    let mut r = r.clone();
                    r.push(v.clone());
                    r
                })
            })
            .collect();
    }
    let rows: Vec<SweepRow> = rows
        .into_iter()
        .enumerate()
        .map(|(i, values)| {
            let x = values.first().and_then(ParamValue::as_f64).unwrap_or(0.1);
            let m = values.get(1).and_then(ParamValue::as_f64).unwrap_or(0.0);
            SweepRow {
                index: i as u64,
                values,
                figures: figures(x, 0.3 - m),
            }
        })
        .collect();
    SweepDoc {
        scenario: format!("sweep {EVIL}"),
        parameters: [
            "shocks[0].return",
            "lenders[0].maintenance",
            "engine.max_rounds",
        ][..axes.len()]
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
        kinds: vec!["margin_account".to_owned(), "leveraged_etf".to_owned()],
        variants: rows.len() as u64,
        rows,
    }
}

fn nums(v: &[f64]) -> Vec<ParamValue> {
    v.iter().map(|x| ParamValue::Number(*x)).collect()
}

fn shocks() -> Vec<ParamValue> {
    nums(&[0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4])
}

/// Tags that must open and close in pairs, in order.
const PAIRED: [&str; 16] = [
    "html", "head", "body", "main", "header", "footer", "section", "figure", "svg", "table",
    "thead", "tbody", "tr", "details", "ul", "g",
];

/// Well-formed enough: the paired tags nest properly, and the page is one document.
fn check_page(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>\n"), "doctype");
    assert!(html.ends_with("</html>\n"), "end");
    let mut stack: Vec<&str> = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let close = rest.starts_with('/');
        let name_start = usize::from(close);
        let end = rest[name_start..]
            .find(|c: char| !c.is_ascii_alphanumeric())
            .map_or(rest.len(), |e| e + name_start);
        let name = &rest[name_start..end];
        let Some(tag) = PAIRED.iter().find(|t| **t == name) else {
            continue;
        };
        let gt = rest.find('>').expect("a closed tag");
        let self_closing = rest[..gt].ends_with('/');
        if close {
            assert_eq!(stack.pop(), Some(*tag), "misnested </{tag}>");
        } else if !self_closing {
            stack.push(tag);
        }
    }
    assert!(stack.is_empty(), "unclosed: {stack:?}");
    // Self-contained: nothing may load, and the page says so to the browser.
    for banned in [
        "src=",
        "href=\"http",
        "href=\"//",
        "<link",
        "@import",
        "url(",
        "<iframe",
        "<img",
        "<script",
    ] {
        assert!(!html.contains(banned), "the page contains {banned}");
    }
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    // The only address is the source's, printed as text.
    for (i, _) in html.match_indices("http") {
        assert!(
            html[i..].starts_with("https://example.org/x?a=1&amp;b=2")
                || html[i..].starts_with("http-equiv"),
            "an address at {i}: {}",
            &html[i..(i + 40).min(html.len())]
        );
    }
    // Every hostile string is escaped.
    assert!(!html.contains("__pwned=1</"));
    assert!(!html.contains("<b>title"));
    assert!(!html.contains("<!-- here"));
    assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
}

fn sweep_html(doc: &SweepDoc) -> String {
    let (m, n) = meta();
    let a = sweep_page(doc, &m, &n);
    check_page(&a);
    assert!(a == sweep_page(doc, &m, &n), "two renders differ");
    a
}

#[test]
fn sweep_with_one_parameter_draws_one_curve_and_labels_its_regime_changes() {
    let html = sweep_html(&sweep(&[shocks()]));
    assert!(html.contains("id=\"sw-amplification-0\""));
    assert_eq!(
        html.matches("class=\"curve\"").count(),
        6,
        "one curve per metric"
    );
    // Defaults and margin calls are separate charts.
    assert!(html.contains("id=\"sw-defaults-0\"") && html.contains("id=\"sw-margin-calls-0\""));
    // The tip between 0.25 and 0.3: the first lender loss and default, and the jump, named
    // in words on the chart and in the table; the x axis in words and percent.
    for label in [
        "first lender loss",
        "first lender default",
        "amplification jump",
    ] {
        assert!(
            html.contains(&format!(
                "class=\"regime-label\" text-anchor=\"middle\">{label}</text>"
            )),
            "{label}"
        );
    }
    assert!(
        html.contains(
            "<td class=\"text\">amplification jump</td><td class=\"text\">25% to 30%</td>"
        ),
        "{html}"
    );
    assert!(
        html.contains(">Shock 1 return</text>"),
        "x axis title in words"
    );
    assert!(html.contains(">30%</text>"), "x ticks in percent");
    assert!(!html.contains("cliff"));
    assert!(html.contains("Every run converged"));
}

#[test]
fn sweep_with_two_and_three_parameters() {
    let two = sweep_html(&sweep(&[shocks(), nums(&[0.0, 0.1])]));
    assert!(two.contains("lenders[0].maintenance = 0.1"));
    assert_eq!(two.matches("<svg id=\"sw-").count(), 6);
    let three = sweep_html(&sweep(&[shocks(), nums(&[0.0, 0.1]), nums(&[10.0, 100.0])]));
    assert!(three.contains("<h4>engine.max_rounds = 100</h4>"));
    assert_eq!(
        three.matches("<svg id=\"sw-").count(),
        12,
        "two panels per metric"
    );
}

#[test]
fn sweep_with_a_text_parameter_gives_tables() {
    let modes = vec![
        ParamValue::Text("equilibrium".to_owned()),
        ParamValue::Text(format!("seq{EVIL}")),
    ];
    let html = sweep_html(&sweep(&[modes, nums(&[0.0, 0.1])]));
    assert!(html.contains("is not numeric"));
    assert!(!html.contains("<svg id=\"sw-"));
}

#[test]
fn sweep_survives_odd_values() {
    // No rows at all, and no parameters.
    let mut empty = sweep(&[shocks()]);
    empty.rows.clear();
    assert!(sweep_html(&empty).contains("no rows"));
    let mut none = sweep(&[]);
    none.parameters.clear();
    sweep_html(&none);
    // NaN and infinite figures and x values, a short row, a run that did not converge,
    // one with several equilibria.
    let mut doc = sweep(&[shocks(), nums(&[0.0, 0.1])]);
    doc.rows[0].figures.amplification = f64::NAN;
    doc.rows[1].figures.total_loss_usd = f64::INFINITY;
    doc.rows[2].values[0] = ParamValue::Number(f64::NAN);
    doc.rows[3].values.truncate(1);
    doc.rows[4].figures.termination = "max_rounds".to_owned();
    doc.rows[5].figures.multiple_equilibria = true;
    doc.rows[6].figures.loss_by_kind.clear();
    let html = sweep_html(&doc);
    assert!(
        html.contains("class=\"pt nc\""),
        "non-converged point marked"
    );
    assert!(
        html.contains("class=\"pt me\""),
        "several equilibria marked"
    );
    assert!(html.contains("id=\"care\"") && html.contains("max_rounds"));
    assert!(html.contains("1 run stopped at the round limit"));
    // Nothing finite at all.
    let mut all_nan = sweep(&[shocks()]);
    for r in &mut all_nan.rows {
        r.figures.amplification = f64::NAN;
        r.figures.total_loss_usd = f64::NAN;
        r.figures.forced_sales_usd = f64::NAN;
        r.figures.lender_losses_usd = f64::NEG_INFINITY;
    }
    assert!(sweep_html(&all_nan).contains("No finite values"));
}

fn dist(metric: &str, scale: f64) -> Distribution {
    Distribution {
        metric: metric.to_owned(),
        mean: scale,
        std: scale / 3.0,
        min: 0.0,
        max: scale * 4.0,
        quantiles: [0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            .iter()
            .map(|p| (*p, p * scale * 3.0))
            .collect(),
        var: vec![(0.95, scale * 2.8), (0.99, scale * 3.5)],
        es: vec![(0.95, scale * 3.2), (0.99, scale * 3.8)],
    }
}

fn study(n: usize) -> (McSummary, Vec<McDraw>) {
    let draws: Vec<McDraw> = (0..n)
        .map(|i| {
            // A deterministic spread of shocks; big ones tip the cascade.
            let u = ((i as u64).wrapping_mul(2_654_435_761) % 10_000) as f64 / 10_000.0;
            let mut f = figures(u * 0.4, 0.3);
            f.termination = if i % 997 == 5 {
                "max_rounds"
            } else {
                "converged"
            }
            .to_owned();
            f.multiple_equilibria = i % 1009 == 7;
            McDraw {
                index: i as u64,
                market_return: -u * 0.4,
                figures: f,
                asset_returns: Vec::new(),
                loss_by_lender: Vec::new(),
            }
        })
        .collect();
    let summary = McSummary {
        scenario: format!("mc {EVIL}"),
        draws: n as u64,
        seed: 42,
        distribution: format!("student_t(4) {EVIL}"),
        kinds: vec![
            "margin_account".to_owned(),
            "leveraged_etf".to_owned(),
            "martian".to_owned(),
        ],
        p_lender_default: 0.02,
        p_holder_default: 0.1,
        p_margin_call: 0.5,
        not_converged: 1,
        multiple_equilibria: 1,
        metrics: vec![
            dist("total_loss_usd", 4e9),
            dist("initial_loss_usd", 5e9),
            dist("amplification", 1.5),
            dist("loss_by_kind.margin_account", 2e9),
            dist("loss_by_kind.leveraged_etf", 4e9),
            dist("loss_by_kind.martian", f64::NAN),
        ],
    };
    (summary, draws)
}

fn mc_html(s: &McSummary, d: &[McDraw]) -> String {
    let (m, n) = meta();
    let a = mc_page(s, d, &m, &n);
    check_page(&a);
    assert!(a == mc_page(s, d, &m, &n), "two renders differ");
    a
}

#[test]
fn mc_page_has_its_figures() {
    let (s, d) = study(2_000);
    let html = mc_html(&s, &d);
    for id in ["mc-hist", "mc-scatter", "mc-prob", "mc-kinds", "quantiles"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "missing {id}");
    }
    assert_eq!(html.matches("class=\"risk var\"").count(), 2);
    assert_eq!(html.matches("class=\"risk es\"").count(), 2);
    assert!(html.contains("class=\"diag\""));
    // Two tables that fit: the spread (a quantile at a VaR level is left to the tail
    // table, where it is the VaR), and the tail.
    assert!(html.contains("<th scope=\"col\">q 75%</th>") && !html.contains("q 99%"));
    assert!(html.contains("id=\"tails\"") && html.contains("<th scope=\"col\">VaR 99%</th>"));
    assert!(!html.contains("class=\"wide scroll\"><table class=\"num fit\""));
    assert!(html.contains("leveraged ETFs") && html.contains("martian"));
    assert!(!html.contains("deterministic sample"));
}

#[test]
fn mc_page_samples_a_big_study() {
    let (s, d) = study(100_000);
    let html = mc_html(&s, &d);
    assert!(html.contains("To keep this file small it shows"));
    assert!(html.len() < 1_500_000, "{} bytes", html.len());
    let (keep, sampled) = scatter_sample(&d);
    assert!(
        sampled && keep.len() <= MAX_SCATTER + 1_000,
        "{}",
        keep.len()
    );
    assert!(keep.windows(2).all(|w| w[0] < w[1]));
    // The worst draw is always kept.
    let worst = (0..d.len())
        .max_by(|&a, &b| {
            d[a].figures
                .total_loss_usd
                .total_cmp(&d[b].figures.total_loss_usd)
                .then(b.cmp(&a))
        })
        .expect("draws");
    assert!(keep.contains(&worst));
}

#[test]
fn mc_page_survives_odd_values() {
    let (mut s, _) = study(0);
    mc_html(&s, &[]);
    s.metrics.clear();
    s.kinds.clear();
    s.p_lender_default = f64::NAN;
    let (_, mut d) = study(50);
    for x in d.iter_mut().take(10) {
        x.figures.total_loss_usd = f64::NAN;
        x.figures.initial_loss_usd = f64::INFINITY;
    }
    let html = mc_html(&s, &d);
    assert!(html.contains("no <code>total_loss_usd</code> metric"));
    // All draws equal, and all non-finite.
    let (s, mut d) = study(10);
    for x in &mut d {
        x.figures.total_loss_usd = 1e9;
        x.figures.initial_loss_usd = 1e9;
    }
    mc_html(&s, &d);
    for x in &mut d {
        x.figures.total_loss_usd = f64::NAN;
    }
    assert!(mc_html(&s, &d).contains("No finite values"));
}

#[test]
fn the_histogram_axis_shows_the_bulk_and_summarises_a_long_tail() {
    use super::mc::bulk_range;
    // 1,000 draws from 0 to 999 and one at 1e6: the axis stops at the 99.5% quantile.
    let mut v: Vec<f64> = (0..1000).map(f64::from).collect();
    v.push(1e6);
    let (lo, hi) = bulk_range(&v).expect("a range");
    assert_eq!(lo, 0.0, "no long tail below: the full range");
    assert!(hi < 1000.0, "{hi}");
    // Without a long tail, the whole range.
    let even: Vec<f64> = (0..1000).map(f64::from).collect();
    assert_eq!(bulk_range(&even), Some((0.0, 999.0)));
    assert_eq!(bulk_range(&[]), None);
    assert_eq!(bulk_range(&[3.0]), Some((3.0, 3.0)));
    // On the page: the note counts the draw left off and names the markers beyond.
    let (mut s, mut d) = study(2_000);
    d[7].figures.total_loss_usd = 1e15;
    if let Some(m) = s.metrics.iter_mut().find(|m| m.metric == "total_loss_usd") {
        m.es.push((0.999, 5e14));
    }
    let html = mc_html(&s, &d);
    assert!(html.contains("id=\"hist-tails\""), "tail note");
    assert!(
        html.contains("(up to $1,000.00T)") || html.contains("(up to "),
        "{html}"
    );
    assert!(
        html.contains("beyond it: ES 99.9%"),
        "marker off the axis named"
    );
}

#[test]
fn marker_labels_never_overlap() {
    use super::mc::label_rows;
    // Five labels of 8 characters at nearly the same place, one far away, one at the edge.
    let items = [
        (500.0, 8),
        (501.0, 8),
        (502.0, 8),
        (503.0, 9),
        (504.0, 8),
        (900.0, 8),
        (999.0, 8),
    ];
    let (placed, rows) = label_rows(&items, 0.0, 1000.0);
    assert_eq!(rows, 5);
    for (i, a) in placed.iter().enumerate() {
        let wa = 6.4 * items[i].1 as f64;
        assert!(
            a.0 - wa / 2.0 >= 0.0 && a.0 + wa / 2.0 <= 1000.0,
            "inside: {a:?}"
        );
        for (j, b) in placed.iter().enumerate().skip(i + 1) {
            let wb = 6.4 * items[j].1 as f64;
            let apart = (a.0 - b.0).abs() >= f64::midpoint(wa, wb);
            assert!(
                a.1 != b.1 || apart,
                "labels {i} and {j} overlap: {placed:?}"
            );
        }
    }
}
