//! A timeline run's reports: the JSON `days[]`, the day table, `--trace` by day, the tidy
//! CSV's day scopes, a holder's days (`explain`) and the HTML day player.
//!
//! The scenario format has no timeline fields yet, so these networks are built in Rust
//! (as the engine's own timeline tests do) and rendered with the report crate.

use delever_engine::{EngineConfig, Ledger, Mode, Outcome, Shock, Silent, Status};
use delever_graph::{
    Asset, AssetIx, BalanceSheetRule, Holder, HolderIx, HolderKind, ImpactDecay, ImpactLaw, Lender,
    MarginTerms, Network, NetworkBuilder, Timing, TransientImpact,
};
use delever_report::{HolderDaysReport, RunMeta, RunReport};
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

#[test]
fn look() {
    let net = week_net();
    let (out, _) = run(&net, &week_shocks(), &timeline(5));
    let r = RunReport::new(&meta("week"), &net, &out);
    println!("{}", r.to_table());
    println!("{}", r.trace_table());
    for i in 0..4 {
        let x = HolderDaysReport::new(&meta("week"), &net, &out, HolderIx(i));
        println!("{}", x.to_table());
    }
    let _ = (margin_net(2), Status::Sold);
    let v: Value = serde_json::from_str(&r.to_json()).unwrap();
    let _ = v;
    panic!();
}
