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
        systemic: None,
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
        steps: Vec::new(),
    };
    let losses = super::charts::kind_losses(&ctx);
    let (shock, total): (f64, f64) = losses
        .iter()
        .fold((0.0, 0.0), |a, l| (a.0 + l.0, a.1 + l.1));
    let t = &outcome.totals;
    assert!((shock - t.initial_loss_usd).abs() <= 1e-9 * t.initial_loss_usd.abs());
    assert!((total - t.total_loss_usd).abs() <= 1e-9 * t.total_loss_usd.abs());
}

/// The kinds table and the stacked chart's legend give each kind's share of the forced
/// sales, and the shares add up to the whole.
#[test]
fn each_kind_shows_its_share_of_forced_sales() {
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
        steps: Vec::new(),
    };
    let mut table = String::new();
    super::tables::kinds_table(&mut table, &ctx);
    assert!(table.contains("share of sales"), "{table}");
    let legend = super::charts::final_sales(&ctx);
    assert_eq!(legend.len(), 2);
    let shares: Vec<f64> = legend
        .iter()
        .map(|l| {
            let open = l.find('(').expect("a share in brackets");
            l[open + 1..l.len() - 2]
                .parse::<f64>()
                .expect("a percentage")
        })
        .collect();
    assert!(shares.iter().all(|s| *s > 0.0), "{legend:?}");
    assert!(
        (shares.iter().sum::<f64>() - 100.0).abs() < 0.11,
        "{legend:?}"
    );
    for l in &legend {
        let open = l.find('(').expect("a share");
        assert!(
            table.contains(&l[open + 1..l.len() - 1]),
            "{l} not in {table}"
        );
    }
}

/// The hostile network over three days, with half of `AAA`'s impact transient and news on
/// day 1 too; a timeline page (no replay: its player reads the run's days).
fn timeline_report() -> (String, delever_engine::Outcome, Player) {
    let mut b = NetworkBuilder::new();
    let net0 = network();
    for a in net0.assets() {
        let mut a = a.clone();
        a.decay = delever_graph::ImpactDecay {
            permanent: 0.5,
            transient: vec![delever_graph::TransientImpact {
                share: 0.5,
                half_life_days: 1.0,
            }],
        };
        b.add_asset(a);
    }
    for l in net0.lenders() {
        b.add_lender(l.clone());
    }
    for (i, h) in net0.holders().iter().enumerate() {
        let mut h = h.clone();
        h.timing.cure_days = 1;
        b.add_holder(h.clone());
        for (a, s) in net0.holdings(delever_graph::HolderIx(i as u32)) {
            b.holds(&h.id, &net0.asset(a).id, s);
        }
        if let Some(m) = net0.margin(delever_graph::HolderIx(i as u32)) {
            b.lends(&net0.lender(m.lender).id, &h.id, m.terms);
        }
    }
    let net = b.build().expect("valid");
    let shocks = [
        Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.35,
        },
        Shock::OnDay {
            day: 1,
            shock: Box::new(Shock::AssetReturn {
                asset: AssetIx(1),
                ret: -0.05,
            }),
        },
    ];
    let cfg = EngineConfig {
        mode: delever_engine::Mode::Timeline,
        days: 3,
        ..EngineConfig::default()
    };
    let (outcome, ledger) = run_detailed(&net, &shocks, &cfg, &mut Silent).expect("runs");
    let (meta, notes) = meta();
    let player = Player::new(&net, &ledger);
    let html = render(&HtmlInput {
        meta: &meta,
        notes: &notes,
        net: &net,
        outcome: &outcome,
        ledger: &ledger,
        player: &player,
        systemic: None,
    });
    (html, outcome, player)
}

#[test]
fn a_timeline_page_plays_days_and_their_rounds() {
    let (html, o, player) = timeline_report();
    assert_eq!(o.days.len(), 3);
    // Self-contained and escaped, as every page.
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
    assert_eq!(html.matches("<script").count(), 2);
    assert!(!html.contains("<svg onload"));
    assert!(!html.contains(EVIL));
    // Price paths over days: a close line (twice: faint and drawn) and a dashed
    // fundamental per asset, one open-to-close candle per asset and day, the index.
    assert_eq!(html.matches("class=\"fline\"").count(), 2);
    assert_eq!(html.matches("<g class=\"candle\"").count(), 2 * 3);
    assert_eq!(html.matches("class=\"pline index\"").count(), 2);
    // Sales by kind: one stacked bar a day; the days table: one row a day.
    assert_eq!(html.matches("<g class=\"bar\" data-day=").count(), 3);
    assert_eq!(html.matches("<tr data-day=").count(), 3);
    assert!(html.contains("id=\"btn-prev-day\"") && html.contains("id=\"btn-next-day\""));
    // The player: step 0 is the first day's open, then every round of every day in order.
    let d = data(&html);
    assert_eq!(d["mode"], "timeline");
    let steps = d["steps"].as_array().expect("steps");
    let n = o.trace.len();
    assert_eq!(d["n"], n);
    assert_eq!(steps.len(), n + 1);
    assert_eq!(steps[0]["label"], "Day 0 open, after the news");
    assert_eq!(steps[0]["d"], -1);
    let mut at = 1;
    let mut ends = Vec::new();
    for day in &o.days {
        for r in 1..=day.rounds {
            assert_eq!(
                steps[at]["label"],
                format!("Day {}, round {r} of {}", day.day, day.rounds)
            );
            assert_eq!(steps[at]["d"], day.day);
            at += 1;
        }
        ends.push(at - 1);
    }
    assert_eq!(d["dayEnds"], serde_json::json!(ends));
    // A day's rounds keep the cursor on its day; the next day moves it.
    assert_eq!(steps[1]["x"], steps[ends[0]]["x"]);
    assert_ne!(steps[ends[0]]["x"], steps[ends[0] + 1]["x"]);
    // The close line shows a day once it has closed.
    let clip = |k: usize| steps[k]["clip"].as_f64().expect("clip");
    assert!(clip(ends[0]) > clip(ends[0] - 1).max(clip(0)));
    assert!(clip(ends[0] + 1) == clip(ends[0]));
    let summary = steps[ends[1]]["summary"].as_str().expect("summary");
    assert!(summary.contains("Day 1 closes"), "{summary}");
    // Holders take each day's status; nothing has happened at step 0.
    assert!(
        steps[0]["h"]
            .as_array()
            .is_some_and(|h| h.iter().all(|c| c == 0))
    );
    for (k, day) in [(ends[0], 0), (ends[0] + 1, 1), (n, 2)] {
        let want: Vec<usize> = player
            .holders
            .iter()
            .map(|h| super::status_code(o.days[day].holders[h.get()].status))
            .collect();
        assert_eq!(steps[k]["h"], serde_json::json!(want), "step {k}");
    }
}

#[test]
fn a_timeline_page_is_deterministic() {
    let (a, ..) = timeline_report();
    let (b, ..) = timeline_report();
    assert!(a == b, "two renders of the same timeline differ");
}

/// 200 margin accounts at two brokers and 5 funds without a loan: past 60 holders the
/// network draws one node per kind and lender (three nodes), each standing for all its
/// members, labelled with the lender and the count, coloured by the most severe status.
#[test]
fn a_large_network_is_drawn_one_node_per_kind_and_lender() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("AAA", 100.0));
    b.add_lender(Lender::new("north", 1e9));
    b.add_lender(Lender::new("south", 1e9));
    for i in 0..200 {
        let id = format!("acct-{i}");
        b.add_holder(Holder::new(
            id.clone(),
            HolderKind::MarginAccount { cure_rate: 0.0 },
        ));
        b.holds(&id, "AAA", 100.0 + f64::from(i));
        // Every fifth account (at both brokers) is deep in debt: it defaults.
        let loan = if i % 5 == 0 { 9_000.0 } else { 2_000.0 };
        b.lends(
            if i % 2 == 0 { "north" } else { "south" },
            &id,
            MarginTerms {
                loan,
                maintenance: 0.3,
                reset: 0.3,
            },
        );
    }
    for i in 0..5 {
        let id = format!("fund-{i}");
        b.add_holder(Holder::new(
            id.clone(),
            HolderKind::Fund {
                redemption_beta: 0.0,
            },
        ));
        b.holds(&id, "AAA", 1_000.0);
    }
    let net = b.build().expect("a valid network");
    let shocks = [Shock::AssetReturn {
        asset: AssetIx(0),
        ret: -0.3,
    }];
    let (outcome, ledger) =
        run_detailed(&net, &shocks, &EngineConfig::default(), &mut Silent).expect("runs");
    let mut player = Player::new(&net, &ledger);
    Replay::new(&net, &shocks)
        .and_then(|mut r| r.rounds(&outcome, &mut |round| player.round(round)))
        .expect("replays");
    assert!(player.aggregated);
    assert_eq!(player.members.len(), 3);
    assert_eq!(
        player.members.iter().map(Vec::len).sum::<usize>(),
        205,
        "every holder in a node"
    );
    let (meta, notes) = meta();
    let html = render(&HtmlInput {
        meta: &meta,
        notes: &notes,
        net: &net,
        outcome: &outcome,
        ledger: &ledger,
        player: &player,
        systemic: None,
    });
    assert_eq!(
        html.matches("<circle class=\"hn ").count(),
        3,
        "three holder nodes"
    );
    assert!(
        html.contains(">via north (100)<"),
        "labelled by lender and count"
    );
    assert!(html.contains(">via south (100)<"));
    assert!(html.contains(">no margin loan (5)<"));
    assert!(html.contains("205 of 205 holders as 3 nodes, one per kind and lender"));
    // Some accounts default: their nodes show it, the funds' does not.
    assert!(
        outcome
            .holders
            .iter()
            .any(|h| h.status == delever_engine::Status::Defaulted)
    );
    assert_eq!(
        html.matches("class=\"hn st-defaulted\"").count(),
        2,
        "{html}"
    );
}
