//! The timeline mode: closed forms for each timing rule, conservation across days,
//! determinism, and the settings it refuses.

mod common;

use common::{FLAT, asset, close, hit};
use delever_engine::{EngineConfig, EngineError, Mode, Outcome, Shock, Status};
use delever_graph::{
    AssetIx, BalanceSheetRule, Holder, HolderKind, ImpactDecay, ImpactLaw, Lender, MarginTerms,
    Network, NetworkBuilder, Timing, TransientImpact,
};

fn timeline(days: u32) -> EngineConfig {
    EngineConfig {
        mode: Mode::Timeline,
        days,
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

fn on(day: u32, shock: Shock) -> Shock {
    Shock::OnDay {
        day,
        shock: Box::new(shock),
    }
}

fn run(net: &Network, shocks: &[Shock], cfg: &EngineConfig) -> Outcome {
    delever_engine::run(net, shocks, cfg).expect("valid run")
}

/// A passive holder of one share, so a network has somebody in it.
fn bystander(b: &mut NetworkBuilder, asset: &str) {
    b.add_holder(Holder::new(
        "bystander",
        HolderKind::Fund {
            redemption_beta: 0.0,
        },
    ));
    b.holds("bystander", asset, 1.0);
}

// ---------------------------------------------------------------- transient impact

/// $10M sold on day 0 into linear impact of 1e-9 per dollar moves the price 1%; half of it
/// permanent, half transient with a half-life of 2 days. With no more sales the price
/// recovers as `p_k = 100·(1 − 0.005 − 0.005·2^(−k/2))`: the transient part halves every
/// two days and the permanent half stays.
#[test]
fn transient_impact_decays_at_its_half_life() {
    let mut b = NetworkBuilder::new();
    let mut x = asset("X", 100.0, ImpactLaw::Linear { per_usd: 1e-9 });
    x.decay = ImpactDecay {
        permanent: 0.5,
        transient: vec![TransientImpact {
            share: 0.5,
            half_life_days: 2.0,
        }],
    };
    b.add_asset(x);
    bystander(&mut b, "X");
    let net = b.build().expect("valid");
    let sale = Shock::ExogenousSale {
        asset: AssetIx(0),
        usd: 1e7,
    };
    let out = run(&net, &[sale], &timeline(7));
    for (k, d) in out.days.iter().enumerate() {
        let left = 0.005 * 0.5f64.powf(k as f64 / 2.0);
        let want = 100.0 * (1.0 - 0.005 - left);
        assert!(
            close(d.assets[0].close, want, 1e-12),
            "day {k}: {}",
            d.assets[0].close
        );
        assert!(close(d.assets[0].permanent_impact, -0.005, 1e-9), "day {k}");
        assert!(close(d.assets[0].transient_impact, -left, 1e-9), "day {k}");
    }
    // The rebound is visible the next morning.
    assert!(out.days[1].assets[0].open > out.days[0].assets[0].close);
    // All permanent (the default): no rebound at all.
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, ImpactLaw::Linear { per_usd: 1e-9 }));
    bystander(&mut b, "X");
    let net = b.build().expect("valid");
    let out = run(&net, &[sale_of(1e7)], &timeline(4));
    for d in &out.days {
        assert!(close(d.assets[0].close, 99.0, 1e-12));
    }
}

fn sale_of(usd: f64) -> Shock {
    Shock::ExogenousSale {
        asset: AssetIx(0),
        usd,
    }
}

// ---------------------------------------------------------------- leveraged ETFs

/// A 2× fund rebalances at every close on that day's return: it trades
/// `L(L − 1)·r_t·N_{t−1}` and its NAV compounds as `N_t = N_{t−1}·(1 + 2·r_t)` — the
/// volatility decay of the daily formula, exactly.
#[test]
fn leveraged_etf_compounds_daily() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    b.add_holder(Holder::new(
        "etf",
        HolderKind::LeveragedEtf {
            multiple: 2.0,
            nav: 1e6,
            basket: vec![("X".into(), 1.0)],
        },
    ));
    let net = b.build().expect("valid");
    let rets = [-0.05, 0.03, -0.10, 0.02, 0.04];
    let shocks: Vec<Shock> = rets
        .iter()
        .enumerate()
        .map(|(d, r)| on(d as u32, hit(0, *r)))
        .collect();
    let out = run(&net, &shocks, &timeline(rets.len() as u32));
    let mut nav = 1e6;
    let mut price = 100.0;
    for (d, r) in rets.iter().enumerate() {
        let day = &out.days[d];
        price *= 1.0 + r;
        assert!(close(day.assets[0].close, price, 1e-12), "day {d}");
        // Sells 2·|r|·N after a fall, buys after a rise.
        let trade = -2.0 * r * nav;
        assert!(
            close(day.holders[0].sales_usd, trade, 1e-9),
            "day {d}: {} vs {trade}",
            day.holders[0].sales_usd
        );
        nav *= 1.0 + 2.0 * r;
        assert!(close(day.holders[0].equity, nav, 1e-12), "day {d}");
    }
    // Volatility decay: the index ends where it started only by chance; the fund below
    // twice its return.
    let index = price / 100.0 - 1.0;
    assert!(nav / 1e6 - 1.0 < 2.0 * index);
}

// ---------------------------------------------------------------- margin-call deadlines

/// 100 shares at $100 on a $5,000 loan, maintenance 30%. A 35% fall calls the account
/// (E = $1,500 < 0.3 × $6,500). With two days to cure and no cash it sells on day 2 — not
/// before — the amount that restores maintenance: V − E/m = $6,500 − $1,500/0.3 = $1,500.
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

#[test]
fn a_call_due_at_t_plus_2_is_acted_on_day_2_and_not_before() {
    let out = run(&margin_net(2), &[hit(0, -0.35)], &timeline(4));
    let acct = |d: usize| &out.days[d].holders[0];
    assert_eq!(acct(0).status, Status::MarginCall);
    assert_eq!(acct(0).sales_usd, 0.0);
    assert_eq!(acct(0).new_calls, 1);
    assert_eq!(acct(0).open_calls, 1);
    assert_eq!(acct(0).due_day, Some(2));
    assert_eq!(acct(1).sales_usd, 0.0);
    assert_eq!(acct(1).new_calls, 0);
    assert!(
        close(acct(2).sales_usd, 1_500.0, 1e-12),
        "{}",
        acct(2).sales_usd
    );
    assert_eq!(acct(2).open_calls, 0);
    assert_eq!(acct(3).sales_usd, 0.0);
    assert_eq!(out.totals.margin_calls, 1);
    // Without a deadline it sells the same amount on day 0.
    let now = run(&margin_net(0), &[hit(0, -0.35)], &timeline(2));
    assert!(close(now.days[0].holders[0].sales_usd, 1_500.0, 1e-12));
    assert_eq!(now.days[1].holders[0].sales_usd, 0.0);
}

/// A deadline does not protect an account in deficit: the broker may sell at once.
#[test]
fn an_account_in_deficit_is_liquidated_before_its_deadline() {
    let shocks = [hit(0, -0.35), on(1, hit(0, -0.40))];
    let out = run(&margin_net(3), &shocks, &timeline(3));
    // Day 1: V = 100 × 39 = $3,900 < loan $5,000: liquidated, the lender loses $1,100.
    assert_eq!(out.days[0].holders[0].sales_usd, 0.0);
    assert_eq!(out.days[1].holders[0].status, Status::Defaulted);
    assert!(close(out.days[1].holders[0].sales_usd, 3_900.0, 1e-12));
    assert!(close(out.totals.lender_losses_usd, 1_100.0, 1e-12));
}

// ---------------------------------------------------------------- participation and pace

/// A fund on margin that defaults sells at most its participation in a day:
/// `0.1 × ADV / previous close` shares, and the rest the next days.
#[test]
fn participation_caps_are_never_exceeded() {
    let mut b = NetworkBuilder::new();
    let mut x = asset("X", 100.0, ImpactLaw::SquareRoot { y: 0.5 });
    x.adv_usd = 1e8;
    b.add_asset(x);
    b.add_lender(Lender::new("pb", 1e10));
    let mut h = Holder::new(
        "fund",
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Passive,
        },
    );
    h.timing = Timing {
        participation: Some(0.1),
        ..Timing::default()
    };
    b.add_holder(h);
    b.holds("fund", "X", 1e7);
    b.lends(
        "pb",
        "fund",
        MarginTerms {
            loan: 8e8,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.25)], &timeline(6));
    let mut prev = 100.0;
    let mut sold = 0.0;
    for d in &out.days {
        let cap = 0.1 * 1e8 / prev;
        let s = d.assets[0].sales_shares;
        assert!(s <= cap * (1.0 + 1e-12), "day {}: {s} > {cap}", d.day);
        assert!(s > 0.5 * cap, "day {}: it keeps selling", d.day);
        sold += s;
        prev = d.assets[0].close;
    }
    assert!(sold < 1e7, "six days are not enough to sell it all");
    assert_eq!(out.totals.defaults, 1);
}

/// Two prime brokers each lend to an identical fund that the shock puts in deficit. The
/// one that starts selling at once and the one that waits two days sell at the same pace;
/// the later seller sells into prices the first one pushed down and loses more.
#[test]
fn the_lender_that_sells_first_loses_least() {
    let mut b = NetworkBuilder::new();
    let mut x = asset("X", 100.0, ImpactLaw::SquareRoot { y: 1.0 });
    x.adv_usd = 1e9;
    b.add_asset(x);
    for (id, delay) in [("early", 0), ("late", 2)] {
        let mut l = Lender::new(id, 1e12);
        l.liquidation.delay_days = delay;
        l.liquidation.participation = Some(0.25);
        b.add_lender(l);
        let fund = format!("fund-{id}");
        b.add_holder(Holder::new(
            &fund,
            HolderKind::LeveragedFund {
                rule: BalanceSheetRule::Passive,
            },
        ));
        b.holds(&fund, "X", 2e7);
        b.lends(
            id,
            &fund,
            MarginTerms {
                loan: 1.85e9,
                maintenance: 0.1,
                reset: 0.1,
            },
        );
    }
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.10)], &timeline(12));
    // Both funds are in deficit after the shock ($1.8B of stock against $1.85B of loans).
    assert_eq!(
        out.days[0].holders[1].sales_usd, 0.0,
        "the late lender waits"
    );
    assert!(
        out.days[0].holders[0].sales_usd > 0.0,
        "the early lender sells at once"
    );
    assert!(
        out.days[2].holders[1].sales_usd > 0.0,
        "the late lender starts on day 2"
    );
    let (early, late) = (
        out.lenders[0].borrower_losses_usd,
        out.lenders[1].borrower_losses_usd,
    );
    assert!(
        early > 0.0 && late > early * 1.05,
        "early {early}, late {late}"
    );
    assert_eq!(out.holders[0].status, Status::Defaulted);
}

// ---------------------------------------------------------------- redemptions

/// An unlevered fund whose investors redeem 2.5× its loss with a one-day lag: nothing on
/// the day of a 10% fall, `2.5 × 10% × NAV0` the next day.
#[test]
fn lagged_redemptions_follow_the_previous_close() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    let mut h = Holder::new(
        "fund",
        HolderKind::Fund {
            redemption_beta: 2.5,
        },
    );
    h.timing = Timing {
        redemption_lag_days: 1,
        ..Timing::default()
    };
    b.add_holder(h);
    b.holds("fund", "X", 1e4);
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.10)], &timeline(3));
    assert_eq!(out.days[0].holders[0].sales_usd, 0.0);
    // NAV0 = $1M; the fund fell 10%: outflow $250,000, paid from sales at $90.
    assert!(close(out.days[1].holders[0].sales_usd, 250_000.0, 1e-12));
    assert!(close(out.days[1].holders[0].paid_out_usd, 250_000.0, 1e-12));
    // Redemptions paid do not count as a loss: no further outflow.
    assert!(out.days[2].holders[0].sales_usd.abs() < 1e-6);
    // The same fund without a lag redeems on the day.
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    b.add_holder(Holder::new(
        "fund",
        HolderKind::Fund {
            redemption_beta: 2.5,
        },
    ));
    b.holds("fund", "X", 1e4);
    let net = b.build().expect("valid");
    let now = run(&net, &[hit(0, -0.10)], &timeline(2));
    assert!(close(now.days[0].holders[0].sales_usd, 250_000.0, 1e-12));
    assert!(now.days[1].holders[0].sales_usd.abs() < 1e-6);
}

// ---------------------------------------------------------------- invariants

fn book_market(accounts: usize) -> Network {
    let mut spec = delever_engine::synth::MarketSpec::new(accounts);
    spec.seed = 11;
    delever_engine::synth::market(&spec).expect("valid")
}

/// With no transient impact, no deadlines and no caps, the first day reaches the fixed
/// point and later days (with no new shock) sell nothing new.
#[test]
fn without_timing_rules_later_days_sell_nothing_new() {
    let net = book_market(5_000);
    let shocks = [Shock::Market {
        ret: -0.15,
        tag: None,
    }];
    let out = run(&net, &shocks, &timeline(4));
    let first = out.days[0].sales_usd.abs();
    assert!(first > 0.0);
    for d in &out.days[1..] {
        assert!(
            d.sales_usd.abs() <= 1e-6 * first,
            "day {}: {} after {first}",
            d.day,
            d.sales_usd
        );
        assert_eq!(d.new_calls, 0, "day {}", d.day);
        assert_eq!(d.new_defaults, 0, "day {}", d.day);
    }
}

/// Shares are conserved across days: every position's starting shares are the shares
/// sold plus the shares kept; each asset's sales over the days are the holders' sales;
/// the money the market paid is the money the sellers received.
#[test]
fn shares_and_cash_are_conserved_across_days() {
    // Deadlines, caps and transient impact on: the conservation must hold regardless.
    let net = with_timing(&book_market(3_000));
    let shocks = [
        Shock::Market {
            ret: -0.12,
            tag: None,
        },
        on(
            2,
            Shock::Market {
                ret: -0.05,
                tag: None,
            },
        ),
    ];
    let (out, ledger) =
        delever_engine::run_detailed(&net, &shocks, &timeline(5), &mut delever_engine::Silent)
            .expect("valid");
    let n = net.assets().len();
    let mut by_asset = vec![0.0; n];
    for h in &ledger.holders {
        for p in &h.positions {
            assert!(close(
                p.initial_shares,
                p.sold_shares + p.kept_shares,
                1e-12
            ));
            by_asset[p.asset.get()] += p.sold_shares;
        }
    }
    for (k, a) in out.assets.iter().enumerate() {
        let days: f64 = out.days.iter().map(|d| d.assets[k].sales_shares).sum();
        assert!(close(a.forced_sales_shares, days, 1e-9), "asset {k}");
        assert!(
            (by_asset[k] - a.forced_sales_shares).abs()
                <= 1e-9 * a.forced_sales_shares.abs().max(1.0),
            "asset {k}: holders {} vs asset {}",
            by_asset[k],
            a.forced_sales_shares
        );
    }
    let paid: f64 = out.assets.iter().map(|a| a.forced_sales_usd).sum();
    let received: f64 = out.holders.iter().map(|h| h.sales_usd).sum();
    assert!(close(paid, received, 1e-9), "{paid} vs {received}");
    for (h, l) in out.holders.iter().zip(&ledger.holders) {
        let by_day: f64 = out
            .days
            .iter()
            .map(|d| d.holders[h.holder.get()].sales_usd)
            .sum();
        assert!(close(h.sales_usd, by_day, 1e-9));
        assert!(close(l.proceeds_usd, h.sales_usd, 1e-12));
    }
}

/// The synthetic market with deadlines on every margin holder, a participation cap on the
/// funds, a pace on the lenders and half of every asset's impact transient.
fn with_timing(net: &Network) -> Network {
    let mut b = NetworkBuilder::new();
    for a in net.assets() {
        let mut a = a.clone();
        a.decay = ImpactDecay {
            permanent: 0.5,
            transient: vec![TransientImpact {
                share: 0.5,
                half_life_days: 1.0,
            }],
        };
        b.add_asset(a);
    }
    for l in net.lenders() {
        let mut l = l.clone();
        l.liquidation.participation = Some(0.2);
        l.liquidation.delay_days = 1;
        b.add_lender(l);
    }
    for (i, h) in net.holders().iter().enumerate() {
        let mut h = h.clone();
        h.timing.cure_days = 2;
        if matches!(h.kind, HolderKind::LeveragedFund { .. }) {
            h.timing.participation = Some(0.1);
        }
        let hx = delever_graph::HolderIx(i as u32);
        b.add_holder(h);
        let id = net.holder(hx).id.clone();
        for (a, s) in net.holdings(hx) {
            b.holds(&id, &net.asset(a).id, s);
        }
    }
    for (i, _) in net.holders().iter().enumerate() {
        let hx = delever_graph::HolderIx(i as u32);
        if let Some(m) = net.margin(hx) {
            let mut terms = m.terms;
            if matches!(
                net.holder(hx).kind,
                HolderKind::AccountBook { .. } | HolderKind::MarginCohort { .. }
            ) {
                // Books and cohorts derive their loans from their rows or buckets.
                terms.loan = 0.0;
            }
            b.lends(&net.lender(m.lender).id, &net.holder(hx).id, terms);
        }
    }
    b.build().expect("valid")
}

/// The same timeline on 1, 2 and 8 threads: identical outcomes.
#[test]
fn timeline_is_identical_at_any_thread_count() {
    let net = with_timing(&book_market(40_000));
    let shocks = [
        Shock::Market {
            ret: -0.15,
            tag: None,
        },
        on(
            1,
            Shock::Market {
                ret: 0.04,
                tag: None,
            },
        ),
    ];
    let runs: Vec<Outcome> = [1, 2, 8]
        .iter()
        .map(|&t| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .expect("pool")
                .install(|| run(&net, &shocks, &timeline(4)))
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
}

// ---------------------------------------------------------------- refused settings

#[test]
fn bad_timeline_settings_are_refused() {
    let net = margin_net(0);
    let zero = EngineConfig {
        days: 0,
        ..timeline(1)
    };
    assert!(matches!(
        delever_engine::run(&net, &[], &zero),
        Err(EngineError::InvalidConfig { field: "days", .. })
    ));
    assert!(matches!(
        delever_engine::run(&net, &[on(3, hit(0, -0.1))], &timeline(3)),
        Err(EngineError::DayOutsideHorizon {
            day: 3,
            days: 3,
            ..
        })
    ));
    // The one-instant modes have day 0 only.
    assert!(matches!(
        delever_engine::run(&net, &[on(1, hit(0, -0.1))], &EngineConfig::default()),
        Err(EngineError::DayOutsideHorizon { .. })
    ));
    assert!(matches!(
        delever_engine::run(&net, &[on(0, on(0, hit(0, -0.1)))], &timeline(2)),
        Err(EngineError::NestedDay { .. })
    ));
    // The model refuses bad half-lives, shares and participation.
    let mut x = asset("X", 100.0, FLAT);
    x.decay = ImpactDecay {
        permanent: 0.5,
        transient: vec![TransientImpact {
            share: 0.5,
            half_life_days: 0.0,
        }],
    };
    let mut b = NetworkBuilder::new();
    b.add_asset(x);
    bystander(&mut b, "X");
    let err = b.build().expect_err("half-life 0");
    assert!(err.to_string().contains("half_life_days"), "{err}");
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    let mut h = Holder::new(
        "f",
        HolderKind::Fund {
            redemption_beta: 1.0,
        },
    );
    h.timing.participation = Some(1.5);
    b.add_holder(h);
    b.holds("f", "X", 1.0);
    let err = b.build().expect_err("participation 1.5");
    assert!(err.to_string().contains("participation"), "{err}");
}

/// An account that sold back to exactly its maintenance (reset = maintenance) is not
/// called again the next day for a few ulps of rounding: later days, with no new shock,
/// find no call and sell nothing. And a call carried from an earlier day is not counted
/// again as new in the next day's trace.
#[test]
fn a_met_call_stays_met_and_carried_calls_are_not_new() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, ImpactLaw::SquareRoot { y: 0.7 }));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "X", 1e5);
    b.lends(
        "broker",
        "acct",
        MarginTerms {
            loan: 5e6,
            maintenance: 0.3,
            reset: 0.3,
        },
    );
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.35)], &timeline(5));
    assert!(out.days[0].holders[0].sales_usd > 0.0);
    for d in &out.days[1..] {
        assert_eq!(d.holders[0].sales_usd, 0.0, "day {}", d.day);
        assert_eq!(d.new_calls, 0, "day {}", d.day);
    }
    // T+2: the call opened on day 0 is carried through days 1 and 2, never new again.
    let out = run(&margin_net(2), &[hit(0, -0.35)], &timeline(3));
    let new_in_trace = |day: u32| -> u64 {
        out.trace
            .iter()
            .filter(|t| t.day == day)
            .map(|t| t.new_calls)
            .sum()
    };
    assert_eq!(new_in_trace(0), 1);
    assert_eq!(new_in_trace(1), 0);
    assert_eq!(new_in_trace(2), 0);
}

/// A lender that takes three days to act makes its borrower's call fall due after three
/// days, even though the borrower's own deadline is one: the reported due day says so.
#[test]
fn the_due_day_counts_the_lenders_delay() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    let mut l = Lender::new("pb", 1e9);
    l.liquidation.delay_days = 3;
    b.add_lender(l);
    let mut h = Holder::new(
        "fund",
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Passive,
        },
    );
    h.timing.cure_days = 1;
    b.add_holder(h);
    b.holds("fund", "X", 1e4);
    b.lends(
        "pb",
        "fund",
        MarginTerms {
            loan: 8e5,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let net = b.build().expect("valid");
    // A 10% fall: V = $900K, E = $100K < 0.25 × V: called on day 0, due on day 3.
    let out = run(&net, &[hit(0, -0.10)], &timeline(5));
    assert_eq!(out.days[0].holders[0].due_day, Some(3));
    assert_eq!(out.days[2].holders[0].sales_usd, 0.0);
    assert!(out.days[3].holders[0].sales_usd > 0.0);
}

/// A prime broker with a two-day delay and a 25%-of-volume pace closes out a fund whose
/// call fell due: it starts on the due day and keeps selling every day until the position
/// is gone — no pause after the first day. The fund keeps equity ($99M of the $200M it
/// had), so it is `liquidated`, not `defaulted`, and no default is counted.
#[test]
fn a_close_out_runs_every_day_from_its_start_and_keeps_the_equity_left() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, ImpactLaw::Linear { per_usd: 1e-12 }));
    let mut l = Lender::new("pb", 1e10);
    l.liquidation.delay_days = 2;
    l.liquidation.participation = Some(0.25);
    l.liquidation.close_out = true;
    b.add_lender(l);
    b.add_holder(Holder::new(
        "fund",
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Passive,
        },
    ));
    b.holds("fund", "X", 1e7);
    b.lends(
        "pb",
        "fund",
        MarginTerms {
            loan: 8e8,
            maintenance: 0.15,
            reset: 0.15,
        },
    );
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.10)], &timeline(8));
    let sold: Vec<f64> = out.days.iter().map(|d| d.assets[0].sales_shares).collect();
    assert_eq!(sold[0], 0.0);
    assert_eq!(sold[1], 0.0);
    // $250M of ADV a day at about $90: 2.5M-2.8M shares a day from day 2 until 10M are sold.
    let mut left = 1e7;
    for (d, &s) in sold.iter().enumerate().skip(2) {
        if left > 1.0 {
            assert!(s > 0.0, "day {d} pauses: {sold:?}");
        }
        left -= s;
    }
    assert!(left.abs() < 1.0, "{sold:?}");
    assert_eq!(out.holders[0].status, Status::Liquidated);
    assert_eq!(out.totals.defaults, 0);
    assert!(out.holders[0].equity_after > 5e7);
}
