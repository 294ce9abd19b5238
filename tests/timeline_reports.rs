//! A timeline run's reports: the JSON `days[]`, the day table, `--trace` by day, the tidy
//! CSV's day scopes, a holder's days (`explain`) and the HTML day player.
//!
//! These networks are built in Rust (as the engine's own timeline tests do) and rendered
//! with the report crate; `tests/timeline.rs` runs a YAML timeline through the binary.

use delever_engine::{EngineConfig, Ledger, Mode, Outcome, Shock, Silent};
use delever_graph::{
    Asset, AssetIx, BalanceSheetRule, Holder, HolderIx, HolderKind, ImpactDecay, ImpactLaw, Lender,
    MarginTerms, Network, NetworkBuilder, Timing, TransientImpact,
};
use delever_report::{HolderDaysReport, RunMeta, RunReport, csv_num, price};
use serde_json::Value;

fn asset(id: &str, price: f64, impact: ImpactLaw) -> Asset {
    Asset {
        id: id.into(),
        price,
        shares_outstanding: 1e9,
        adv_usd: 1e9,
        daily_vol: 0.02,
        beta: 1.0,
        duration: 0.0,
        tags: vec![],
        impact,
        decay: ImpactDecay::default(),
    }
}

const FLAT: ImpactLaw = ImpactLaw::Linear { per_usd: 0.0 };

fn timeline(days: u32) -> EngineConfig {
    EngineConfig {
        mode: Mode::Timeline,
        days,
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

fn hit(k: u32, ret: f64) -> Shock {
    Shock::AssetReturn {
        asset: AssetIx(k),
        ret,
    }
}

fn on(day: u32, shock: Shock) -> Shock {
    Shock::OnDay {
        day,
        shock: Box::new(shock),
    }
}

fn meta(name: &str) -> RunMeta {
    RunMeta {
        name: name.into(),
        description: "A week of deleveraging.".into(),
        as_of: "2026-01-02".into(),
    }
}

fn run(net: &Network, shocks: &[Shock], cfg: &EngineConfig) -> (Outcome, Ledger) {
    delever_engine::run_detailed(net, shocks, cfg, &mut Silent).expect("valid run")
}

/// The engine's T+2 account: 100 shares at $100 on a $5,000 loan, maintenance 30%. A 35%
/// fall calls it (E = $1,500 < 0.3 × $6,500); with two days to cure it sells on day 2 the
/// amount that restores maintenance: V − E/m = $6,500 − $1,500/0.3 = $1,500.
fn margin_net(cure_days: u32) -> Network {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    b.add_lender(Lender::new("broker", 1e6));
    let mut h = Holder::new("acct", HolderKind::MarginAccount { cure_rate: 0.0 });
    h.timing = Timing {
        cure_days,
        ..Timing::default()
    };
    b.add_holder(h);
    b.holds("acct", "X", 100.0);
    b.lends(
        "broker",
        "acct",
        MarginTerms {
            loan: 5_000.0,
            maintenance: 0.3,
            reset: 0.3,
        },
    );
    b.build().expect("valid")
}

/// A small market over a week: a stock with half its impact transient (half-life one
/// day), a T+2 margin account, a prime-brokered fund its lender closes out at 10% of ADV a
/// day after a one-day delay, a 2× ETF and a fund whose investors redeem with a lag.
fn week_net() -> Network {
    let mut b = NetworkBuilder::new();
    let mut x = asset("NVDA", 100.0, ImpactLaw::SquareRoot { y: 0.8 });
    x.adv_usd = 2e8;
    x.decay = ImpactDecay {
        permanent: 0.5,
        transient: vec![TransientImpact {
            share: 0.5,
            half_life_days: 1.0,
        }],
    };
    b.add_asset(x);
    let mut y = asset("AMD", 50.0, ImpactLaw::SquareRoot { y: 0.8 });
    y.adv_usd = 1e8;
    b.add_asset(y);
    let mut pb = Lender::new("prime", 1e9);
    pb.liquidation.delay_days = 1;
    pb.liquidation.participation = Some(0.1);
    pb.liquidation.close_out = true;
    b.add_lender(pb);
    b.add_lender(Lender::new("broker", 1e8));
    let mut acct = Holder::new("acct", HolderKind::MarginAccount { cure_rate: 0.0 });
    acct.timing.cure_days = 2;
    b.add_holder(acct);
    b.holds("acct", "NVDA", 1e5);
    b.lends(
        "broker",
        "acct",
        MarginTerms {
            loan: 6.2e6,
            maintenance: 0.3,
            reset: 0.3,
        },
    );
    b.add_holder(Holder::new(
        "fund",
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Passive,
        },
    ));
    b.holds("fund", "NVDA", 1e6);
    b.holds("fund", "AMD", 1e6);
    b.lends(
        "prime",
        "fund",
        MarginTerms {
            loan: 1.3e8,
            maintenance: 0.15,
            reset: 0.15,
        },
    );
    b.add_holder(Holder::new(
        "etf-2x",
        HolderKind::LeveragedEtf {
            multiple: 2.0,
            nav: 2e7,
            basket: vec![("NVDA".into(), 1.0)],
        },
    ));
    let mut mf = Holder::new(
        "mutual",
        HolderKind::Fund {
            redemption_beta: 2.0,
        },
    );
    mf.timing.redemption_lag_days = 1;
    b.add_holder(mf);
    b.holds("mutual", "NVDA", 2e5);
    b.holds("mutual", "AMD", 2e5);
    b.build().expect("valid")
}

fn week_shocks() -> Vec<Shock> {
    vec![hit(0, -0.17), hit(1, -0.10), on(2, hit(1, -0.03))]
}

/// Keys of a JSON object as serialised, in document order (a `Value` sorts them).
fn keys<T: serde::Serialize>(x: &T) -> Vec<String> {
    let text = serde_json::to_string(x).expect("serialises");
    let (mut depth, mut in_str, mut esc) = (0, false, false);
    let (mut cur, mut out) = (String::new(), Vec::new());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
                if depth == 1 && chars.peek() == Some(&':') {
                    out.push(std::mem::take(&mut cur));
                }
                continue;
            }
            if depth == 1 {
                cur.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                cur.clear();
            }
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            _ => {}
        }
    }
    out
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1.0)
}

/// A timeline report's keys, in order.
const REPORT_KEYS: [&str; 14] = [
    "delever_version",
    "format_version",
    "scenario",
    "mode",
    "termination",
    "rounds",
    "residual",
    "totals",
    "assets",
    "holders",
    "lenders",
    "trace",
    "trace_omitted_rounds",
    "days",
];

/// `days[]` keys, in order.
const DAY_KEYS: [&str; 17] = [
    "day",
    "termination",
    "rounds",
    "residual",
    "price_index",
    "sales_usd",
    "sales_by_kind",
    "exogenous_sales_usd",
    "new_calls",
    "open_calls",
    "liquidations",
    "new_defaults",
    "lender_losses_usd",
    "lenders",
    "multiple_equilibria",
    "assets",
    "holders",
];

/// `days[].assets[]` keys, in order.
const ASSET_KEYS: [&str; 8] = [
    "id",
    "open",
    "close",
    "fundamental",
    "permanent_impact",
    "transient_impact",
    "sales_shares",
    "sales_usd",
];

/// `days[].holders[]` keys, in order.
const HOLDER_KEYS: [&str; 16] = [
    "id",
    "status",
    "sales_usd",
    "value_usd",
    "cash_usd",
    "debt_usd",
    "equity_usd",
    "calls",
    "new_calls",
    "open_calls",
    "new_defaults",
    "due_day",
    "closing_out",
    "cure_usd",
    "paid_out_usd",
    "lender_loss_usd",
];

/// `days[]` holds every day with stable keys, its figures are the engine's, and every key
/// the report had before keeps its place; trace entries carry their day.
#[test]
fn json_days_hold_the_engines_days_with_stable_keys() {
    let net = week_net();
    let (out, _) = run(&net, &week_shocks(), &timeline(5));
    let r = RunReport::new(&meta("week"), &net, &out);
    let v: Value = serde_json::from_str(&r.to_json()).expect("JSON");
    assert_eq!(v["mode"], "timeline");
    assert_eq!(keys(&r), REPORT_KEYS);
    let days = v["days"].as_array().expect("days");
    assert_eq!(days.len(), 5);
    for (d, (j, e)) in days.iter().zip(&out.days).enumerate() {
        assert_eq!(keys(&r.days[d]), DAY_KEYS, "day {d}");
        assert_eq!(j["day"], d);
        assert_eq!(j["rounds"], e.rounds);
        assert_eq!(j["sales_usd"].as_f64(), Some(e.sales_usd));
        assert_eq!(j["price_index"].as_f64(), Some(e.price_index));
        assert_eq!(j["new_calls"], e.new_calls);
        assert_eq!(j["liquidations"], e.liquidations);
        // Sales by kind: an object in the kinds' report order.
        let kinds: Vec<&str> = e.sales_by_kind.iter().map(|(k, _)| k.name()).collect();
        assert_eq!(keys(&r.days[d].sales_by_kind), kinds);
        for (k, x) in &e.sales_by_kind {
            assert_eq!(j["sales_by_kind"][k.name()].as_f64(), Some(*x));
        }
        // Lender losses: the total and each lender's, by id.
        let total: f64 = e.lender_losses_usd.iter().sum();
        assert_eq!(j["lender_losses_usd"].as_f64(), Some(total));
        assert_eq!(j["lenders"][0]["id"], "prime");
        assert_eq!(keys(&r.days[d].lenders[0]), ["id", "losses_usd"]);
        assert_eq!(
            j["lenders"][0]["losses_usd"].as_f64(),
            Some(e.lender_losses_usd[0])
        );
        for (k, a) in e.assets.iter().enumerate() {
            let ja = &j["assets"][k];
            assert_eq!(keys(&r.days[d].assets[k]), ASSET_KEYS);
            assert_eq!(ja["close"].as_f64(), Some(a.close));
            assert_eq!(ja["transient_impact"].as_f64(), Some(a.transient_impact));
        }
        assert_eq!(j["assets"][0]["id"], "NVDA");
        for (i, h) in e.holders.iter().enumerate() {
            let jh = &j["holders"][i];
            assert_eq!(keys(&r.days[d].holders[i]), HOLDER_KEYS);
            assert_eq!(jh["status"], h.status.name());
            assert_eq!(jh["equity_usd"].as_f64(), Some(h.equity));
            assert_eq!(jh["due_day"], serde_json::json!(h.due_day));
            assert_eq!(jh["closing_out"], serde_json::json!(h.closing_out));
        }
    }
    // The fund defaults on day 0 (not in default before its close: `null`); its prime
    // broker closes it out from day 1, after its one-day delay.
    assert_eq!(days[0]["holders"][1]["new_defaults"], 1);
    assert_eq!(days[0]["holders"][1]["closing_out"], Value::Null);
    assert_eq!(days[1]["holders"][1]["closing_out"], true);
    // The T+2 account's call is open, due on day 2.
    assert_eq!(days[0]["holders"][0]["due_day"], 2);
    assert_eq!(days[2]["holders"][0]["due_day"], Value::Null);
    // Every existing key keeps its meaning at the end of the horizon.
    let last = days.last().expect("a last day");
    assert_eq!(
        last["lender_losses_usd"].as_f64(),
        Some(out.totals.lender_losses_usd)
    );
    for (k, a) in out.assets.iter().enumerate() {
        assert_eq!(last["assets"][k]["close"].as_f64(), Some(a.price_after));
    }
    // The trace: each round has its day, days in order, rounds restarting each day.
    let trace = v["trace"].as_array().expect("trace");
    assert_eq!(trace.len(), out.trace.len());
    assert_eq!(keys(&r.trace[0])[..2], ["day", "round"]);
    let mut prev = (0u64, 0u64);
    for t in trace {
        assert!(t.get("day").is_some() && t.get("round").is_some());
        let (d, r) = (
            t["day"].as_u64().expect("day"),
            t["round"].as_u64().expect("round"),
        );
        assert!(
            (d == prev.0 && r == prev.1 + 1) || (d == prev.0 + 1 && r == 1),
            "{prev:?} then {d}/{r}"
        );
        prev = (d, r);
    }
    assert_eq!(prev.0, 4);
}

/// In the one-instant modes the report has no `days` (absent, not empty), and every trace
/// entry says day 0.
#[test]
fn one_instant_reports_have_no_days_and_trace_day_zero() {
    let net = week_net();
    for mode in [Mode::Equilibrium, Mode::Sequential] {
        let cfg = EngineConfig {
            mode,
            ..EngineConfig::default()
        };
        let (out, _) = run(&net, &[hit(0, -0.17), hit(1, -0.10)], &cfg);
        let r = RunReport::new(&meta("instant"), &net, &out);
        let v: Value = serde_json::from_str(&r.to_json()).expect("JSON");
        assert!(v.get("days").is_none(), "{mode:?}");
        let trace = v["trace"].as_array().expect("trace");
        assert!(!trace.is_empty());
        assert!(trace.iter().all(|t| t["day"] == 0), "{mode:?}");
        let csv = r.to_csv();
        assert!(!csv.contains("\nday"), "{mode:?}");
        assert!(csv.contains("\nround,1,sales_usd,"), "{mode:?}");
        assert!(!r.to_table().contains("Day by day"));
        assert!(
            !r.trace_table()
                .starts_with("Round by round, within each day")
        );
    }
}

/// `run` prints a per-day table after the headline; `--trace` groups rounds by day.
#[test]
fn the_table_has_a_day_table_and_the_trace_a_day_column() {
    let net = week_net();
    let (out, _) = run(&net, &week_shocks(), &timeline(5));
    let r = RunReport::new(&meta("week"), &net, &out);
    let table = r.to_table();
    assert!(
        table.contains(&format!("after {} rounds over 5 days", out.rounds)),
        "{table}"
    );
    assert!(table.contains("total loss (at the last close)"), "{table}");
    let start = table.find("Day by day").expect("a day table");
    assert!(
        start < table.find("Assets").expect("assets table"),
        "{table}"
    );
    let day_table: Vec<&str> = table[start..].lines().take(8).collect();
    let head = day_table[1];
    for col in [
        "day",
        "index",
        "NVDA close",
        "AMD close",
        "sales",
        "new calls",
        "open calls",
        "liquidations",
        "defaults",
        "lender losses",
        "transient",
        "sales by kind",
    ] {
        assert!(head.contains(col), "{col} missing in {head}");
    }
    for (d, line) in day_table[3..8].iter().enumerate() {
        assert!(line.starts_with(&format!("{d} ")), "{line}");
        let e = &out.days[d];
        assert!(line.contains(&format!("{:.4}", e.price_index)), "{line}");
        assert!(line.contains(&price(e.assets[0].close)), "{line}");
    }
    // Day 1: the fund's lender starts selling.
    assert!(
        day_table[4].contains("leveraged fund $"),
        "{}",
        day_table[4]
    );
    let trace = r.trace_table();
    let lines: Vec<&str> = trace.lines().collect();
    assert!(
        lines[0].starts_with("Round by round, within each day"),
        "{trace}"
    );
    assert!(lines[1].starts_with("day  round"), "{trace}");
    // One row per round; each day starts again at round 1 with its own sales.
    let rows: Vec<Vec<&str>> = lines[3..]
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), out.trace.len());
    for (row, t) in rows.iter().zip(&out.trace) {
        assert_eq!(row[0], t.day.to_string());
        assert_eq!(row[1], t.round.to_string());
        if t.round == 1 {
            // "this round" is the day's sales so far: nothing carried from the day before.
            assert_eq!(row[3], format!("+{}", row[2]), "{row:?}");
        }
    }
}

/// The CSV stays tidy: one fact per (scope, id, metric); days are scopes `day`,
/// `day_kind`, `day_lender`, `day_asset` and `day_holder` with ids `DAY/ID`; a timeline's
/// rounds have ids `DAY/ROUND`.
#[test]
fn csv_has_day_scopes_and_stays_tidy() {
    let net = week_net();
    let (out, _) = run(&net, &week_shocks(), &timeline(5));
    let csv = RunReport::new(&meta("week"), &net, &out).to_csv();
    let mut seen = std::collections::BTreeSet::new();
    let mut scopes = std::collections::BTreeSet::new();
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), 4, "{line}");
        assert!(
            seen.insert((cells[0], cells[1], cells[2])),
            "a repeated fact: {line}"
        );
        scopes.insert(cells[0]);
    }
    for s in [
        "day",
        "day_kind",
        "day_lender",
        "day_asset",
        "day_holder",
        "round",
    ] {
        assert!(scopes.contains(s), "no {s} rows");
    }
    let value = |scope: &str, id: &str, metric: &str| -> String {
        let prefix = format!("{scope},{id},{metric},");
        csv.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no row {prefix}"))
            .to_owned()
    };
    let d1 = &out.days[1];
    // CSV numbers are rounded to 12 significant digits (`csv_num`), on purpose.
    assert_eq!(value("day", "1", "sales_usd"), csv_num(d1.sales_usd));
    assert_eq!(
        value("day", "1", "liquidations"),
        d1.liquidations.to_string()
    );
    assert_eq!(
        value("day_asset", "1/NVDA", "close"),
        csv_num(d1.assets[0].close)
    );
    assert_eq!(
        value("day_holder", "1/fund", "sales_usd"),
        csv_num(d1.holders[1].sales_usd)
    );
    assert_eq!(value("day_holder", "1/fund", "closing_out"), "true");
    assert!(!csv.contains("day_holder,0/fund,closing_out"));
    assert_eq!(value("day_holder", "0/acct", "due_day"), "2");
    assert_eq!(
        value("day_kind", "1/leveraged_fund", "sales_usd"),
        d1.sales_by_kind
            .iter()
            .find(|(k, _)| k.name() == "leveraged_fund")
            .map(|(_, v)| csv_num(*v))
            .expect("a fund sold")
    );
    assert_eq!(
        value("day_lender", "1/prime", "losses_usd"),
        csv_num(d1.lender_losses_usd[0])
    );
    assert_eq!(
        value("round", "1/1", "new_calls"),
        out.trace
            .iter()
            .find(|t| t.day == 1)
            .map(|t| t.new_calls.to_string())
            .expect("day 1 rounds")
    );
    // No open call, no row: tidy data has no empty cells.
    assert!(!csv.contains("day_holder,0/etf-2x,due_day"));
}

/// `explain --holder` on a timeline: the T+2 account's days as a table whose rows add up,
/// with a line in words per day, and as JSON.
#[test]
fn a_holders_days_read_day_by_day() {
    let net = margin_net(2);
    let (out, _) = run(&net, &[hit(0, -0.35)], &timeline(4));
    let r = HolderDaysReport::new(&meta("t2"), &net, &out, HolderIx(0));
    let table = r.to_table();
    for needle in [
        "holder    acct (margin account), on margin from broker",
        "scenario  t2 (timeline over 4 days, converged)",
        "timing    calls due 2 trading days after they are issued; its lender acts at once",
        "equity = value + cash − debt + other",
        "day 0: margin call (equity below 30% maintenance), due on day 2\n",
        "day 1: the call issued on day 0 is still open, due on day 2\n",
        "day 2: the call issued on day 0 fell due; sold $1.50K to restore 30% maintenance\n",
        "day 3: nothing to do\n",
    ] {
        assert!(table.contains(needle), "missing {needle:?} in\n{table}");
    }
    let v: Value = serde_json::from_str(&r.to_json()).expect("JSON");
    assert_eq!(v["mode"], "timeline");
    assert_eq!(v["identity"], delever_report::EQUITY_IDENTITY);
    assert_eq!(v["timing"]["cure_days"], 2);
    assert_eq!(v["timing"]["lender_delay_days"], 0);
    let days = v["days"].as_array().expect("days");
    assert_eq!(days.len(), 4);
    assert_eq!(
        keys(&r.days[0]),
        [
            "day",
            "price_index",
            "value_usd",
            "cash_usd",
            "debt_usd",
            "other_usd",
            "equity_usd",
            "status",
            "sales_usd",
            "calls",
            "new_calls",
            "open_calls",
            "new_defaults",
            "due_day",
            "closing_out",
            "cure_usd",
            "paid_out_usd",
            "lender_loss_usd",
            "narrative"
        ]
    );
    let f = |d: usize, k: &str| days[d][k].as_f64().expect(k);
    // Day 0: V = 100 × $65 = $6,500 on a $5,000 loan; E = $1,500. Day 2: $1,500 sold at $65
    // repays the loan: V = $5,000, loan $3,500, E still $1,500.
    for (d, value, debt) in [
        (0, 6_500.0, 5_000.0),
        (1, 6_500.0, 5_000.0),
        (2, 5_000.0, 3_500.0),
    ] {
        assert!(close(f(d, "value_usd"), value, 1e-12), "day {d}");
        assert!(close(f(d, "debt_usd"), debt, 1e-12), "day {d}");
        assert!(close(f(d, "equity_usd"), 1_500.0, 1e-12), "day {d}");
        assert_eq!(f(d, "cash_usd"), 0.0);
        assert_eq!(f(d, "other_usd"), 0.0, "a margin account has nothing else");
    }
    assert_eq!(days[0]["status"], "margin_call");
    assert_eq!(days[0]["due_day"], 2);
    assert_eq!(days[1]["sales_usd"], 0.0);
    assert!(close(f(2, "sales_usd"), 1_500.0, 1e-12));
    assert_eq!(
        days[2]["narrative"],
        "day 2: the call issued on day 0 fell due; sold $1.50K to restore 30% maintenance"
    );
}

/// Every holder's every day adds up: equity = value + cash − debt + other, and `other` is
/// zero for holders with nothing but holdings, cash and debt; the narrative names what
/// happened (a close-out, an ETF's rebalance, redemptions a day late).
#[test]
fn every_holder_day_adds_up_and_says_what_happened() {
    let net = week_net();
    let (out, _) = run(&net, &week_shocks(), &timeline(5));
    let mut words = String::new();
    for i in 0..net.holders().len() {
        let r = HolderDaysReport::new(&meta("week"), &net, &out, HolderIx(i as u32));
        assert_eq!(r.days.len(), 5);
        for d in &r.days {
            let sum = d.value_usd + d.cash_usd - d.debt_usd + d.other_usd;
            assert!(
                close(sum, d.equity_usd, 1e-12),
                "{} day {}",
                r.holder,
                d.day
            );
            if r.kind != "leveraged_etf" {
                assert_eq!(d.other_usd, 0.0, "{} day {}", r.holder, d.day);
            }
            words.push_str(&d.narrative);
            words.push('\n');
        }
        // Every row of the table is there, and the days in words.
        let table = r.to_table();
        assert!(table.contains("Day by day\nday 0: "), "{table}");
    }
    for needle in [
        "day 1: sold $",
        "of collateral: its lender is closing it out",
        "to rebalance at the close",
        "to pay redemptions; paid $",
        "margin call (equity below 15% maintenance)",
        "defaulted (equity at or below zero)",
    ] {
        assert!(words.contains(needle), "missing {needle:?} in\n{words}");
    }
    // The lagged fund sells nothing on day 0 and pays redemptions from day 1.
    let mutual = HolderDaysReport::new(&meta("week"), &net, &out, HolderIx(3));
    assert_eq!(mutual.days[0].narrative, "day 0: nothing to do");
    assert!(mutual.days[1].paid_out_usd > 0.0);
}

/// The HTML report of a timeline is byte-identical for the same run, on any number of
/// threads.
#[test]
fn the_timeline_page_is_byte_identical_at_any_thread_count() {
    use delever_report::html::{HtmlInput, Player, render};
    let net = week_net();
    let pages: Vec<String> = [1, 2, 4]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("pool")
                .install(|| {
                    let (out, ledger) = run(&net, &week_shocks(), &timeline(5));
                    render(&HtmlInput {
                        meta: &meta("week"),
                        notes: &delever_report::ScenarioNotes::default(),
                        net: &net,
                        outcome: &out,
                        ledger: &ledger,
                        player: &Player::new(&net, &ledger),
                        systemic: None,
                    })
                })
        })
        .collect();
    assert!(pages[0] == pages[1] && pages[0] == pages[2]);
    // It plays days: one sales bar a day, the days table, the day buttons.
    let page = &pages[0];
    assert_eq!(page.matches("<g class=\"bar\" data-day=").count(), 5);
    assert_eq!(page.matches("<tr data-day=").count(), 5);
    assert!(page.contains("id=\"btn-next-day\""));
    assert!(page.contains("a timeline over 5 days"));
}

/// `net` with every holder's calls due two days after they are issued.
fn with_cure_days(net: &Network, days: u32) -> Network {
    let mut b = NetworkBuilder::new();
    for a in net.assets() {
        b.add_asset(a.clone());
    }
    for l in net.lenders() {
        b.add_lender(l.clone());
    }
    for (i, h) in net.holders().iter().enumerate() {
        let hx = HolderIx(i as u32);
        let mut h = h.clone();
        h.timing.cure_days = days;
        let retail = matches!(
            h.kind,
            HolderKind::AccountBook { .. } | HolderKind::MarginCohort { .. }
        );
        b.add_holder(h.clone());
        for (a, s) in net.holdings(hx) {
            b.holds(&h.id, &net.asset(a).id, s);
        }
        if let Some(m) = net.margin(hx) {
            let mut terms = m.terms;
            if retail {
                // Books and cohorts derive their loans from their rows or buckets.
                terms.loan = 0.0;
            }
            b.lends(&net.lender(m.lender).id, &h.id, terms);
        }
    }
    b.build().expect("valid")
}

/// A book of accounts reads in accounts (called, waiting, sold after the deadline), and a
/// broad market's reports stay readable: three assets' closes in the day table, four asset
/// lines in the day chart, every asset in the JSON.
#[test]
fn a_book_reads_in_accounts_and_a_broad_market_stays_readable() {
    let mut spec = delever_engine::synth::MarketSpec::new(2_000);
    spec.seed = 11;
    let net = with_cure_days(&delever_engine::synth::market(&spec).expect("valid"), 2);
    let shocks = [Shock::Market {
        ret: -0.15,
        tag: None,
    }];
    let (out, ledger) = run(&net, &shocks, &timeline(4));
    let book = net
        .holders()
        .iter()
        .position(|h| matches!(h.kind, HolderKind::AccountBook { .. }))
        .expect("a book");
    let r = HolderDaysReport::new(&meta("book"), &net, &out, HolderIx(book as u32));
    let words: Vec<&str> = r.days.iter().map(|d| d.narrative.as_str()).collect();
    assert!(
        words[0].contains("newly called (equity below")
            && words[0].contains("waiting for their deadline"),
        "{words:?}"
    );
    assert_eq!(r.days[0].sales_usd, 0.0, "{words:?}");
    assert!(
        r.days[2].sales_usd > 0.0 && words[2].contains("sold $"),
        "{words:?}"
    );
    assert!(r.to_table().contains(" new, "), "{}", r.to_table());
    // Three closes in the day table, whatever the number of assets.
    let report = RunReport::new(&meta("book"), &net, &out);
    let table = report.to_table();
    let head = table
        .lines()
        .skip_while(|l| !l.starts_with("Day by day"))
        .nth(1)
        .expect("a day table");
    assert_eq!(head.matches(" close").count(), 3, "{head}");
    assert_eq!(report.days[0].assets.len(), net.assets().len());
    // Four asset lines in the day chart (and the index).
    let page = delever_report::html::render(&delever_report::html::HtmlInput {
        meta: &meta("book"),
        notes: &delever_report::ScenarioNotes::default(),
        net: &net,
        outcome: &out,
        ledger: &ledger,
        player: &delever_report::html::Player::new(&net, &ledger),
        systemic: None,
    });
    assert_eq!(page.matches("class=\"fline\"").count(), 4);
    assert_eq!(page.matches("<g class=\"candle\"").count(), 4 * 4);
}
