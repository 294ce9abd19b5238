//! The convexity kinds — options dealers, vol-target funds, trend followers: hand-worked
//! numbers for each rule, their monotonicity properties, and their days on a timeline.

mod common;

use common::{FLAT, asset, cfg, close, hit, run};
use delever_engine::{EngineConfig, Mode, Outcome};
use delever_graph::{
    GammaLine, Holder, HolderKind, ImpactLaw, Lookback, Network, NetworkBuilder, OptionLine,
    OptionRight, TrendMarket, VolTargetRule,
};

/// The standard normal distribution function (Abramowitz & Stegun 7.1.26 is too coarse
/// for a test of a delta; this is the same series the engine uses, written out again).
fn phi(x: f64) -> f64 {
    let q = x * x;
    let (mut sum, mut term, mut i) = (x, x, 1.0);
    loop {
        i += 2.0;
        term *= q / i;
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
    }
    0.5 + sum * (-0.5 * q).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Black–Scholes call delta, no rates.
fn call_delta(s: f64, k: f64, years: f64, vol: f64) -> f64 {
    phi(((s / k).ln() + 0.5 * vol * vol * years) / (vol * years.sqrt()))
}

fn one_asset(b: &mut NetworkBuilder, impact: ImpactLaw) {
    b.add_asset(asset("X", 100.0, impact));
}

fn dealer(shares: f64, strike: f64) -> Holder {
    let mut h = Holder::new(
        "dealer",
        HolderKind::OptionsDealer {
            options: vec![OptionLine {
                asset: "X".into(),
                right: OptionRight::Call,
                strike,
                expiry_days: 21.0,
                implied_vol: 0.5,
                shares,
            }],
            gamma: vec![],
        },
    );
    h.cash = 1e9;
    h
}

fn dealer_net(shares: f64, impact: ImpactLaw) -> Network {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, impact);
    b.add_holder(dealer(shares, 100.0));
    b.build().expect("valid")
}

fn vol_target(band: f64, lag_days: u32) -> Holder {
    let mut h = Holder::new(
        "vt",
        HolderKind::VolTarget {
            rule: VolTargetRule {
                target_vol: 0.10,
                realised_vol: 0.10,
                half_life_days: 20.0,
                max_leverage: 2.0,
                band,
                lag_days,
            },
        },
    );
    h.cash = 0.0;
    h
}

fn vt_net(band: f64, lag_days: u32, impact: ImpactLaw) -> Network {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, impact);
    b.add_holder(vol_target(band, lag_days));
    b.holds("vt", "X", 1e6);
    b.build().expect("valid")
}

fn cta(lookbacks: &[(u32, f64)], lag_days: u32) -> Holder {
    let mut h = Holder::new(
        "cta",
        HolderKind::TrendFollower {
            lookbacks: lookbacks
                .iter()
                .map(|&(days, _)| Lookback { days, weight: 1.0 })
                .collect(),
            markets: vec![TrendMarket {
                asset: "X".into(),
                max_usd: 1e8,
                past_returns: lookbacks.iter().map(|&(_, r)| r).collect(),
            }],
            lag_days,
        },
    );
    h.cash = 2e7;
    h
}

fn cta_net(lookbacks: &[(u32, f64)], lag_days: u32) -> Network {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, FLAT);
    b.add_holder(cta(lookbacks, lag_days));
    b.build().expect("valid")
}

fn timeline(days: u32) -> EngineConfig {
    EngineConfig {
        mode: Mode::Timeline,
        days,
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

fn sold(o: &Outcome) -> f64 {
    o.assets[0].forced_sales_shares
}

// ---------------------------------------------------------------- options dealers

/// Short 1M shares of one-month at-the-money calls (σ 50%): its hedge is long
/// `1e6·Δ(100)` shares. After a 10% fall (no impact) it wants `1e6·Δ(90)`, so it sells
/// `1e6·(Δ(100) − Δ(90))` — about 273,400 shares, hand-worked with σ√T = 0.144338:
/// Δ(100) = Φ(0.072169) = 0.52877, Δ(90) = Φ(−0.657790) = 0.25534.
#[test]
fn a_short_gamma_dealer_sells_the_difference_of_deltas() {
    let net = dealer_net(-1e6, FLAT);
    let out = run(&net, &[hit(0, -0.10)], &cfg());
    let t = 21.0 / 252.0;
    let want = 1e6 * (call_delta(100.0, 100.0, t, 0.5) - call_delta(90.0, 100.0, t, 0.5));
    assert!(close(sold(&out), want, 1e-12), "{} vs {want}", sold(&out));
    assert!((want - 273_420.0).abs() < 100.0, "{want}");
    assert!(out.non_monotone.is_empty(), "{:?}", out.non_monotone);
}

/// The linear form: −$100M of dollar gamma per 1% at $100 is `Γ = GEX/(0.01·S₀²) =
/// −10,000` shares per dollar of spot; a 10% fall sells `GEX·(S − S₀)/(0.01·S₀²) = −1e8·(−10)/100 = 10M` shares.
#[test]
fn the_linear_form_sells_gex_per_percent() {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, FLAT);
    let mut h = Holder::new(
        "dealer",
        HolderKind::OptionsDealer {
            options: vec![],
            gamma: vec![GammaLine {
                asset: "X".into(),
                usd_per_pct: -1e8,
            }],
        },
    );
    h.cash = 1e9;
    b.add_holder(h);
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.10)], &cfg());
    assert!(close(sold(&out), 1e7, 1e-12), "{}", sold(&out));
    // The book lost ½·Γ·ΔS² = 50·GEX·r² = 50·1e8·0.01 = $50M.
    let h = &out.holders[0];
    assert!(
        close(h.equity_before - h.equity_after, 5e7, 1e-9),
        "{}",
        h.equity_before - h.equity_after
    );
}

/// Property: a short-gamma dealer never buys into a fall, and sells more the larger the
/// fall; a long-gamma one buys, and the run says the map is not monotone.
#[test]
fn short_gamma_never_buys_into_a_fall_and_long_gamma_is_flagged() {
    let impact = ImpactLaw::Linear { per_usd: 1e-11 };
    let mut last = 0.0;
    for i in 1..=40 {
        let r = -0.0125 * f64::from(i);
        let out = run(&dealer_net(-1e6, impact), &[hit(0, r)], &cfg());
        let s = sold(&out);
        assert!(s >= 0.0 && s >= last - 1e-6, "fall {r}: {s} after {last}");
        last = s;
    }
    let out = run(&dealer_net(1e6, impact), &[hit(0, -0.10)], &cfg());
    assert!(sold(&out) < 0.0, "{}", sold(&out));
    assert_eq!(out.non_monotone.len(), 1, "{:?}", out.non_monotone);
    assert!(out.non_monotone[0].contains("long gamma"));
}

/// The dealer's loss is the option book revalued plus the hedge: short calls lose less
/// than the hedge's fall when prices drop (the calls they sold are worth less).
#[test]
fn a_dealer_s_equity_is_its_capital_plus_the_book_s_pnl() {
    let out = run(&dealer_net(-1e6, FLAT), &[hit(0, -0.10)], &cfg());
    let h = &out.holders[0];
    assert!(close(h.equity_before, 1e9, 1e-12), "{}", h.equity_before);
    // Short gamma: a delta-hedged short option book loses on a large move.
    assert!(h.equity_after < h.equity_before);
}

// ---------------------------------------------------------------- vol targeting

/// Target 10%, estimate 10% (so w₀ = 1), half-life 20 days (λ = 2^(−1/20)). A 3% fall:
/// σ̂² = λ·0.01 + (1 − λ)·252·0.0009, w = 0.1/σ̂; NAV falls 3%, so the target is
/// `1e6·w·0.97` shares and it sells the rest.
#[test]
fn a_vol_target_fund_cuts_exposure_after_a_vol_jump() {
    let out = run(&vt_net(0.0, 1, FLAT), &[hit(0, -0.03)], &cfg());
    let lambda = 0.5f64.powf(1.0 / 20.0);
    let var = lambda * 0.01 + (1.0 - lambda) * 252.0 * 0.0009;
    let w = 0.1 / var.sqrt();
    let want = 1e6 * (1.0 - w * 0.97);
    assert!(close(sold(&out), want, 1e-12), "{} vs {want}", sold(&out));
    // σ̂ ≈ 13.2%, w ≈ 0.758: about 26% of the position sold.
    assert!((var.sqrt() - 0.1319).abs() < 5e-4 && (want - 264_300.0).abs() < 1_000.0);
}

/// Property: a vol-target fund never raises exposure when its realised vol rises (every
/// fall), and sells more the larger the fall; a fall inside its band is not traded.
#[test]
fn a_vol_target_fund_never_buys_when_vol_rises() {
    let mut last = 0.0;
    for i in 1..=30 {
        let r = -0.01 * f64::from(i);
        let out = run(&vt_net(0.0, 1, FLAT), &[hit(0, r)], &cfg());
        let s = sold(&out);
        assert!(s > 0.0 && s >= last, "fall {r}: {s} after {last}");
        last = s;
        assert!(out.non_monotone.is_empty());
    }
    // A 0.5% fall is a quiet day for a 10% estimate (daily 0.63%): only NAV moves, 0.5%,
    // inside a 1% band.
    let out = run(&vt_net(0.01, 1, FLAT), &[hit(0, -0.005)], &cfg());
    assert_eq!(sold(&out), 0.0);
    // A rise makes the map non-monotone, and the run says so.
    let out = run(&vt_net(0.0, 1, FLAT), &[hit(0, 0.05)], &cfg());
    assert_eq!(out.non_monotone.len(), 1, "{:?}", out.non_monotone);
}

/// On a timeline with a one-day lag, the fund trades on day 1 to the target it set at
/// day 0's close, and not on day 0.
#[test]
fn a_lagged_vol_target_trades_the_next_day() {
    let out = run(&vt_net(0.0, 1, FLAT), &[hit(0, -0.03)], &timeline(3));
    assert_eq!(out.days[0].assets[0].sales_shares, 0.0);
    let lambda = 0.5f64.powf(1.0 / 20.0);
    let var = lambda * 0.01 + (1.0 - lambda) * 252.0 * 0.0009;
    let want = 1e6 * (1.0 - 0.1 / var.sqrt() * 0.97);
    assert!(
        close(out.days[1].assets[0].sales_shares, want, 1e-9),
        "{} vs {want}",
        out.days[1].assets[0].sales_shares
    );
    // Day 2: prices unchanged (no impact), a quiet day: nothing more to do.
    assert!(out.days[2].assets[0].sales_shares.abs() < 1e-6 * want);
    // With no lag it trades on day 0, as the one-day equilibrium does.
    let now = run(&vt_net(0.0, 0, FLAT), &[hit(0, -0.03)], &timeline(1));
    let eq = run(&vt_net(0.0, 0, FLAT), &[hit(0, -0.03)], &cfg());
    assert_eq!(now.days[0].assets[0].sales_shares, sold(&eq));
}

// ---------------------------------------------------------------- trend followers

/// Up 10% over a year: long its full $100M (1M shares at $100). A 5% fall leaves the
/// window up (1.10·0.95 = 1.045): no trade. A 12% fall takes it to 1.10·0.88 − 1 =
/// −3.2%: the position flips to 1M short, a sale of 2M shares.
#[test]
fn a_cta_flips_sign_at_its_lookback_break() {
    let net = cta_net(&[(252, 0.10)], 0);
    assert_eq!(sold(&run(&net, &[hit(0, -0.05)], &cfg())), 0.0);
    let out = run(&net, &[hit(0, -0.12)], &cfg());
    assert!(close(sold(&out), 2e6, 1e-12), "{}", sold(&out));
    // The break is at 1/1.10 of the price: just above it, still long.
    let above = run(&net, &[hit(0, 1.0 / 1.1 - 1.0 + 1e-9)], &cfg());
    assert_eq!(sold(&above), 0.0);
}

/// Hurst, Ooi & Pedersen's blend (1, 3, 12 months), up 2%, 5% and 20%: a 6% fall turns
/// the two short windows, so the signal goes from +1 to −1/3 and it sells 4/3 of its
/// full position.
#[test]
fn a_blend_of_lookbacks_turns_in_steps() {
    let net = cta_net(&[(21, 0.02), (63, 0.05), (252, 0.20)], 0);
    let out = run(&net, &[hit(0, -0.06)], &cfg());
    assert!(close(sold(&out), 1e6 * 4.0 / 3.0, 1e-12), "{}", sold(&out));
}

/// Over days the one-month window rolls: up 5% over the month, a 3% fall leaves it up
/// (1.05·0.97 = 1.0185); at a constant price the window's anchor rises as the old days
/// leave it, `100·1.05^(−(21−d)/21)`, and passes 97 after `d > 21·(1 − ln(1/0.97)/ln 1.05)
/// = 7.89` days: the position flips on day 8.
#[test]
fn the_window_rolls_and_the_cta_flips_on_day_eight() {
    let net = cta_net(&[(21, 0.05)], 0);
    let out = run(&net, &[hit(0, -0.03)], &timeline(10));
    for (d, day) in out.days.iter().enumerate() {
        let s = day.assets[0].sales_shares;
        if d == 8 {
            assert!(close(s, 2e6, 1e-12), "day {d}: {s}");
        } else {
            assert_eq!(s, 0.0, "day {d}");
        }
    }
    // With a one-day lag it flips a day later.
    let out = run(&cta_net(&[(21, 0.05)], 1), &[hit(0, -0.03)], &timeline(10));
    assert!(close(out.days[9].assets[0].sales_shares, 2e6, 1e-12));
    assert_eq!(out.days[8].assets[0].sales_shares, 0.0);
}

// ---------------------------------------------------------------- all three

fn all_three(impact: ImpactLaw) -> Network {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, impact);
    b.add_holder(dealer(-1e6, 100.0));
    b.add_holder(vol_target(0.0, 1));
    b.holds("vt", "X", 1e6);
    b.add_holder(cta(&[(21, 0.02), (63, 0.05), (252, 0.20)], 0));
    b.build().expect("valid")
}

/// Zero shock, no sales, in every mode; the same run at 1 and 4 threads is identical.
#[test]
fn zero_shock_no_sales_and_any_thread_count() {
    let net = all_three(ImpactLaw::Linear { per_usd: 1e-10 });
    for c in [cfg(), timeline(5)] {
        let out = run(&net, &[hit(0, 0.0)], &c);
        assert_eq!(out.totals.forced_sales_usd, 0.0);
        assert!(out.days.iter().all(|d| d.assets[0].sales_shares == 0.0));
    }
    let go = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| format!("{:?}", run(&net, &[hit(0, -0.08)], &timeline(5))))
    };
    assert_eq!(go(1), go(4));
}

/// Together, with impact: the cascade converges; the three kinds' sales add up to the
/// asset's; a bigger shock never means less selling.
#[test]
fn together_they_amplify_and_stay_monotone() {
    let net = all_three(ImpactLaw::Linear { per_usd: 1e-10 });
    let mut last = 0.0;
    for i in 1..=20 {
        let out = run(&net, &[hit(0, -0.01 * f64::from(i))], &cfg());
        assert_eq!(
            out.termination,
            delever_engine::Termination::Converged,
            "{i}"
        );
        let s = sold(&out);
        assert!(s >= last - 1e-6, "{i}: {s} after {last}");
        last = s;
    }
}

/// A margin account with a cliff (70% loan-to-value, 25% maintenance: it defaults, and
/// sells everything, below $70) and a long-gamma dealer ($2M of gamma per 1%). A 5% fall
/// leaves the account clear — the dealer buys a little into the fall — while the
/// account's own liquidation (a 30% fall under linear impact 3e-10) would take the price
/// below $70 even after the dealer's purchases: two equilibria, and the map is not
/// monotone. The run flags both.
#[test]
fn long_gamma_two_equilibria_are_flagged() {
    let mut b = NetworkBuilder::new();
    one_asset(&mut b, ImpactLaw::Linear { per_usd: 3e-10 });
    b.add_lender(delever_graph::Lender::new("broker", 1e10));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "X", 1e7);
    b.lends(
        "broker",
        "acct",
        delever_graph::MarginTerms {
            loan: 7e8,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let mut d = Holder::new(
        "dealer",
        HolderKind::OptionsDealer {
            options: vec![],
            gamma: vec![GammaLine {
                asset: "X".into(),
                usd_per_pct: 2e6,
            }],
        },
    );
    d.cash = 1e9;
    b.add_holder(d);
    let net = b.build().expect("valid");
    let c = EngineConfig {
        least_fixed_point: true,
        ..EngineConfig::default()
    };
    let out = run(&net, &[hit(0, -0.05)], &c);
    assert_eq!(out.termination, delever_engine::Termination::Converged);
    assert_eq!(out.non_monotone.len(), 1, "{:?}", out.non_monotone);
    let p = out.assets[0].price_after;
    assert!(p > 95.0 && p < 95.5, "greatest: {p}");
    assert_eq!(out.holders[0].status, delever_engine::Status::Unaffected);
    let least = out.least.as_ref().expect("least fixed point");
    assert!(least.differs, "one equilibrium: {:?}", least.prices);
    assert!(least.prices[0] < 70.0, "least: {}", least.prices[0]);
}
