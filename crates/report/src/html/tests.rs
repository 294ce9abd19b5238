//! The HTML renderer: self-contained, escaped, deterministic, with the player's data.

use delever_engine::explain::Replay;
use delever_engine::{EngineConfig, Shock, Silent, run_detailed};
use delever_graph::{
    Asset, AssetIx, Holder, HolderKind, ImpactLaw, Lender, MarginTerms, Network, NetworkBuilder,
};

use super::{HtmlInput, Player, ScenarioNotes, SourceNote, render};
use crate::run::RunMeta;

const EVIL: &str = "<script>window.__pwned=1</script>";

fn asset(id: &str, price: f64) -> Asset {
    Asset {
        id: id.to_owned(),
        price,
        shares_outstanding: 1e9,
        adv_usd: 1e8,
        daily_vol: 0.03,
        beta: 1.0,
        duration: 0.0,
        tags: Vec::new(),
        impact: ImpactLaw::SquareRoot { y: 0.7 },
        decay: delever_graph::ImpactDecay::default(),
    }
}

/// Two assets, a lender, two margin accounts (one with a hostile id) and a leveraged ETF.
fn network() -> Network {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("AAA", 100.0));
    b.add_asset(asset(&format!("B{EVIL}"), 50.0));
    b.add_lender(Lender::new("broker\"><svg onload=alert(1)>", 1e7));
    for (id, loan) in [(EVIL.to_owned(), 90_000.0), ("bob".to_owned(), 30_000.0)] {
        b.add_holder(Holder::new(
            id.clone(),
            HolderKind::MarginAccount { cure_rate: 0.0 },
        ));
        b.holds(&id, "AAA", 1_000.0);
        b.holds(&id, &format!("B{EVIL}"), 1_000.0);
        b.lends(
            "broker\"><svg onload=alert(1)>",
            &id,
            MarginTerms {
                loan,
                maintenance: 0.3,
                reset: 0.3,
            },
        );
    }
    b.add_holder(Holder::new(
        "ETF-2x",
        HolderKind::LeveragedEtf {
            multiple: 2.0,
            nav: 1e6,
            basket: vec![("AAA".to_owned(), 0.5), (format!("B{EVIL}"), 0.5)],
        },
    ));
    b.build().expect("a valid network")
}

fn meta() -> (RunMeta, ScenarioNotes) {
    (
        RunMeta {
            name: format!("t{EVIL}"),
            description: format!("First paragraph {EVIL}.\n\nSecond </script><!-- paragraph."),
            as_of: "2026-05-29".to_owned(),
        },
        ScenarioNotes {
            assumptions: vec![format!("an assumption with {EVIL}")],
            sources: vec![SourceNote {
                id: "src".to_owned(),
                title: "A <b>title</b>".to_owned(),
                url: Some("https://example.org/x?a=1&b=2".to_owned()),
                date: Some("2026-01-01".to_owned()),
            }],
        },
    )
}

/// Run the network through the engine and render the report.
fn report() -> (String, usize) {
    let net = network();
    let shocks = [Shock::AssetReturn {
        asset: AssetIx(0),
        ret: -0.35,
    }];
    let (outcome, ledger) =
        run_detailed(&net, &shocks, &EngineConfig::default(), &mut Silent).expect("runs");
    let mut player = Player::new(&net, &ledger);
    Replay::new(&net, &shocks)
        .and_then(|mut r| r.rounds(&outcome, &mut |round| player.round(round)))
        .expect("replays");
    assert_eq!(player.len(), outcome.trace.len());
    let (meta, notes) = meta();
    let html = render(&HtmlInput {
        meta: &meta,
        notes: &notes,
        net: &net,
        outcome: &outcome,
        ledger: &ledger,
        player: &player,
    });
    (html, outcome.trace.len())
}

/// The JSON in the player's data block.
fn data(html: &str) -> serde_json::Value {
    let open = "<script type=\"application/json\" id=\"delever-data\">";
    let start = html.find(open).expect("a data block") + open.len();
    let len = html[start..].find("</script>").expect("closed");
    serde_json::from_str(&html[start..start + len]).expect("valid JSON")
}

#[test]
fn self_contained() {
    let (html, _) = report();
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert!(html.ends_with("</html>\n"));
    for banned in [
        "src=\"http",
        "href=\"http",
        "src='http",
        "href='http",
        "src=\"//",
        "href=\"//",
        "<link",
        "@import",
        "url(http",
        "url(//",
        "@font-face",
        "<iframe",
        "<img",
    ] {
        assert!(!html.contains(banned), "the report contains {banned}");
    }
    // Nothing may load: the page says so to the browser too.
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert!(html.contains("<style>") && html.contains("<script>"));
    // The source's address is printed, not linked.
    assert!(html.contains("https://example.org/x?a=1&amp;b=2"));
}

#[test]
fn every_scenario_string_is_escaped() {
    let (html, _) = report();
    // Exactly two script elements: the data block and the player.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert_eq!(html.matches("</script>").count(), 2);
    assert!(!html.contains("<svg onload"));
    assert!(!html.contains("<b>title"));
    assert!(!html.contains("<!-- paragraph"));
    assert!(html.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;"));
    assert!(html.contains("broker&quot;&gt;&lt;svg onload=alert(1)&gt;"));
    // The data block holds the ids as JSON with <, > and & escaped, and still parses.
    let d = data(&html);
    let text = d.to_string();
    assert!(text.contains(EVIL), "the data keeps the id's text: {text}");
}

#[test]
fn output_is_deterministic() {
    let (a, _) = report();
    let (b, _) = report();
    assert!(a == b, "two renders of the same run differ");
}

#[test]
fn charts_and_player_data_are_present() {
    let (html, n) = report();
    for id in [
        "id=\"price-chart\"",
        "id=\"sales-chart\"",
        "id=\"waterfall\"",
        "id=\"network\"",
        "id=\"player\"",
        "id=\"price-cursor\"",
        "id=\"round-slider\"",
    ] {
        assert!(html.contains(id), "missing {id}");
    }
    assert_eq!(html.matches("<g class=\"bar\" data-round=").count(), n);
    assert_eq!(html.matches("role=\"img\"").count(), 4);
    assert_eq!(html.matches("class=\"hn ").count(), 3);
    let d = data(&html);
    assert_eq!(d["n"], n);
    let steps = d["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), n + 1);
    assert_eq!(steps[0]["label"], format!("After the shock (0 of {n})"));
    assert_eq!(steps[1]["label"], format!("Round 1 of {n}"));
    assert_eq!(steps[n]["label"], format!("Round {n} of {n}"));
    for s in steps {
        assert_eq!(s["h"].as_array().map(Vec::len), Some(3));
        assert_eq!(s["l"].as_array().map(Vec::len), Some(1));
        assert_eq!(s["p"].as_array().map(Vec::len), Some(2));
    }
    // Nothing has happened at step 0; the called accounts show at the end.
    assert!(
        steps[0]["h"]
            .as_array()
            .is_some_and(|h| h.iter().all(|c| c == 0))
    );
    let called = super::status_code(delever_engine::Status::MarginCall);
    assert!(
        steps[n]["h"]
            .as_array()
            .is_some_and(|h| h.iter().any(|c| *c == called)),
        "{}",
        steps[n]["h"]
    );
    // The summary of a round names its largest seller (escaped in the page, plain in data).
    assert!(
        steps[1]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("Round 1:"))
    );
}

#[test]
fn losses_by_kind_add_up_to_the_totals() {
    let net = network();
    let shocks = [Shock::AssetReturn {
        asset: AssetIx(0),
        ret: -0.35,
    }];
    let (outcome, ledger) =
        run_detailed(&net, &shocks, &EngineConfig::default(), &mut Silent).expect("runs");
    let player = Player::new(&net, &ledger);
    let ctx = super::Ctx {
        net: &net,
        outcome: &outcome,
        ledger: &ledger,
        player: &player,
        kinds: vec![
            delever_graph::KindTag::MarginAccount,
            delever_graph::KindTag::LeveragedEtf,
        ],
        n: outcome.trace.len(),
    };
    let losses = super::charts::kind_losses(&ctx);
    let (shock, total): (f64, f64) = losses
        .iter()
        .fold((0.0, 0.0), |a, l| (a.0 + l.0, a.1 + l.1));
    let t = &outcome.totals;
    assert!((shock - t.initial_loss_usd).abs() <= 1e-9 * t.initial_loss_usd.abs());
    assert!((total - t.total_loss_usd).abs() <= 1e-9 * t.total_loss_usd.abs());
}
