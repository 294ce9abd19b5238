//! Write the HTML report of a five-day timeline to a file: the browser test's timeline
//! page (tests/browser/run.sh), until scenarios can say `engine: { mode: timeline }`.
//!
//! A stock with 70% of its impact transient (half-life one day), a T+2 margin account, a
//! prime-brokered fund its lender closes out at 30% of ADV a day after a one-day delay, a
//! 2× ETF and a fund whose investors redeem a day late; news on days 0 and 2.
//!
//!     cargo run -p delever-report --example timeline_page -- OUT.html

use delever_engine::{EngineConfig, Mode, Shock, Silent, run_detailed};
use delever_graph::{
    Asset, AssetIx, BalanceSheetRule, Holder, HolderKind, ImpactDecay, ImpactLaw, Lender,
    MarginTerms, Network, NetworkBuilder, TransientImpact,
};
use delever_report::html::{HtmlInput, Player, render};
use delever_report::{RunMeta, ScenarioNotes};

fn asset(id: &str, price: f64, adv_usd: f64, transient: bool) -> Asset {
    Asset {
        id: id.into(),
        price,
        shares_outstanding: 1e9,
        adv_usd,
        daily_vol: 0.03,
        beta: 1.0,
        duration: 0.0,
        tags: vec![],
        impact: ImpactLaw::SquareRoot { y: 1.5 },
        decay: if transient {
            ImpactDecay {
                permanent: 0.3,
                transient: vec![TransientImpact {
                    share: 0.7,
                    half_life_days: 1.0,
                }],
            }
        } else {
            ImpactDecay::default()
        },
    }
}

fn network() -> Result<Network, String> {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0, 2e8, true));
    b.add_asset(asset("AMD", 50.0, 1e8, false));
    let mut pb = Lender::new("prime", 1e9);
    pb.liquidation.delay_days = 1;
    pb.liquidation.participation = Some(0.3);
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
    b.build().map_err(|e| e.to_string())
}

fn main() -> Result<(), String> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: timeline_page OUT.html")?;
    let net = network()?;
    let hit = |k: u32, ret: f64| Shock::AssetReturn {
        asset: AssetIx(k),
        ret,
    };
    let shocks = [
        hit(0, -0.17),
        hit(1, -0.10),
        Shock::OnDay {
            day: 2,
            shock: Box::new(hit(1, -0.03)),
        },
    ];
    let cfg = EngineConfig {
        mode: Mode::Timeline,
        days: 5,
        ..EngineConfig::default()
    };
    let (outcome, ledger) =
        run_detailed(&net, &shocks, &cfg, &mut Silent).map_err(|e| e.to_string())?;
    let meta = RunMeta {
        name: "timeline-week".into(),
        description: "Five days of deleveraging: a sell-off on day 0 and more news on day 2; \
                      a margin call due at T+2, a prime broker closing out a fund over several \
                      sessions, a 2x ETF rebalancing at every close and lagged redemptions."
            .into(),
        as_of: "2026-01-02".into(),
    };
    let notes = ScenarioNotes {
        assumptions: vec!["70% of NVDA's impact decays with a half-life of one day.".into()],
        sources: Vec::new(),
    };
    let html = render(&HtmlInput {
        meta: &meta,
        notes: &notes,
        net: &net,
        outcome: &outcome,
        ledger: &ledger,
        player: &Player::new(&net, &ledger),
    });
    std::fs::write(&path, html).map_err(|e| format!("writing {path}: {e}"))
}
