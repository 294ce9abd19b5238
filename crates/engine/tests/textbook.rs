//! Textbook checks: each test reproduces a published number or a hand-worked example.

// The hand-worked numbers in the comments use the papers' notation (λ_max, m_r, Σ S_n).
#![allow(clippy::doc_markdown)]

mod common;

use common::{FLAT, asset, cfg, close, hit, run, run_ledger};
use delever_engine::glt::{GltInput, closed_form};
use delever_engine::synth::{glt_network, glt_system, textbook_margin};
use delever_engine::{EngineConfig, EngineError, Shock, Status, Termination};
use delever_graph::{
    AssetIx, BalanceSheetRule, CashUse, Holder, HolderIx, HolderKind, ImpactLaw, Lender, LenderIx,
    MarginTerms, NetworkBuilder,
};
use ndarray::array;

// ---------------------------------------------------------------- margin calls

/// 50% LTV, no impact: called after a fall of 1 − 0.5/(1 − m): 33.3% at m = 25%, 28.6% at
/// 30%, 16.7% at 40% (worked by hand from the maintenance rule, FINRA Rule 4210's 25% floor
/// and the 30–40% house levels).
#[test]
fn margin_call_thresholds() {
    for (m, published) in [(0.25, 0.333), (0.30, 0.286), (0.40, 0.167)] {
        let net = textbook_margin(m).expect("valid");
        let fall = 1.0 - 0.5 / (1.0 - m);
        assert!((fall - published).abs() < 5e-4);
        let before = run(&net, &[hit(0, -(fall - 1e-4))], &cfg());
        assert_eq!(before.holders[0].status, Status::Unaffected, "m = {m}");
        assert_eq!(before.totals.margin_calls, 0);
        let after = run(&net, &[hit(0, -(fall + 1e-4))], &cfg());
        assert_eq!(after.holders[0].status, Status::MarginCall, "m = {m}");
        assert_eq!(after.totals.margin_calls, 1);
    }
}

/// With m_r = m the sale is (1/m − 1) × the loss beyond the call point: 3× at 25%,
/// 2.33× at 30%. A further $100 of loss: sales of $300 and $233.33.
#[test]
fn margin_sale_multiplier() {
    for (m, mult) in [(0.25, 3.0), (0.30, 7.0 / 3.0)] {
        let net = textbook_margin(m).expect("valid");
        // Call point: V = 5000/(1 − m). Fall $100 further: V = 5000/(1−m) − 100.
        let v = 5_000.0 / (1.0 - m) - 100.0;
        let out = run(&net, &[hit(0, v / 10_000.0 - 1.0)], &cfg());
        assert!(
            close(out.holders[0].sales_usd, mult * 100.0, 1e-9),
            "m = {m}: {}",
            out.holders[0].sales_usd
        );
        // After the sale the account is back at maintenance: E / (V − y) = m.
        let e = out.holders[0].equity_after;
        assert!(close(e / (v - out.holders[0].sales_usd), m, 1e-9));
    }
}

/// Below zero equity everything is sold and the lender takes D − V.
#[test]
fn margin_default_passes_shortfall_to_lender() {
    let net = textbook_margin(0.25).expect("valid");
    let out = run(&net, &[hit(0, -0.6)], &cfg());
    assert_eq!(out.holders[0].status, Status::Defaulted);
    assert!(close(out.holders[0].sales_usd, 4_000.0, 1e-12));
    assert!(close(out.totals.lender_losses_usd, 1_000.0, 1e-9));
    assert!(close(out.lenders[0].borrower_losses_usd, 1_000.0, 1e-9));
    assert_eq!(out.totals.defaults, 1);
}

// ---------------------------------------------------------------- leveraged ETFs

fn etf_net(multiple: f64, nav: f64) -> delever_graph::Network {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, FLAT));
    b.add_holder(Holder::new(
        "etf",
        HolderKind::LeveragedEtf {
            multiple,
            nav,
            basket: vec![("X".into(), 1.0)],
        },
    ));
    b.build().expect("valid")
}

/// Cheng & Madhavan: trade = (L² − L)·r·N, with the move for bull and bear funds alike.
/// Multipliers 2, 6, 2, 6, 12 for 2×, 3×, −1×, −2×, −3×.
#[test]
fn etf_rebalance_multipliers() {
    for (l, mult) in [
        (2.0, 2.0),
        (3.0, 6.0),
        (-1.0, 2.0),
        (-2.0, 6.0),
        (-3.0, 12.0),
    ] {
        let out = run(&etf_net(l, 1_000.0), &[hit(0, -0.01)], &cfg());
        // Sold at the shocked price (no impact): dollars = shares × price.
        assert!(
            close(out.holders[0].sales_usd, mult * 0.01 * 1_000.0, 1e-12),
            "L = {l}: {}",
            out.holders[0].sales_usd
        );
        assert_eq!(out.holders[0].status, Status::Sold);
    }
}

/// An inverse fund's short in a collapsing stock is bounded: with it, a mild shock on a book
/// holding an inverse ETF has one equilibrium, not a spurious one at the price floor.
/// Without the cap, the least fixed point sat at the floor (the default scenario reported a
/// $115B "least" loss against $12B).
#[test]
fn inverse_fund_short_is_bounded_so_no_spurious_equilibrium() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0, ImpactLaw::SquareRoot { y: 0.7 }));
    b.add_holder(Holder::new(
        "bear",
        HolderKind::LeveragedEtf {
            multiple: -3.0,
            nav: 1e8,
            basket: vec![("X".into(), 1.0)],
        },
    ));
    let net = b.build().expect("valid");
    let all = EngineConfig::default();
    let out = run(&net, &[hit(0, -0.05)], &all);
    let least = out.least.as_ref().expect("least fixed point computed");
    assert!(
        !least.differs,
        "least {:?} vs greatest {:?}",
        least.prices, out.assets[0].price_after
    );
    // At the floor the cap binds: 12 × NAV of shares at the reference price, not 12 × NAV
    // at a price of 1e-7.
    assert!(least.prices[0] > 90.0, "{:?}", least.prices);
}

/// L = 3, r = +5%, N = $100: buy $30.
#[test]
fn etf_buys_after_gains() {
    let out = run(&etf_net(3.0, 100.0), &[hit(0, 0.05)], &cfg());
    assert!(close(out.holders[0].sales_usd, -30.0, 1e-12));
    assert_eq!(out.holders[0].status, Status::Bought);
    assert!(close(out.holders[0].equity_after, 115.0, 1e-12));
}

/// DeepSeek, 27 Jan 2025: NVDA −17%; a 2× NVDA fund sells 2 × 0.17 × NAV at the close.
#[test]
fn deepseek_two_times_nvda() {
    let out = run(&etf_net(2.0, 4.5e9), &[hit(0, -0.17)], &cfg());
    assert!(close(out.holders[0].sales_usd, 2.0 * 0.17 * 4.5e9, 1e-12));
}

/// A 3× fund is wiped out by a 1/3 fall: at exactly that fall it sells its whole remaining
/// exposure, (L − 1)·N = $200 = 3 synthetic shares at $66.67. Past it (−50%) it still sells
/// those 3 shares (now worth $150) and no more, and defaults.
#[test]
fn etf_wipe_out() {
    let at = run(&etf_net(3.0, 100.0), &[hit(0, -1.0 / 3.0)], &cfg());
    assert!(close(at.holders[0].sales_usd, 200.0, 1e-12));
    let past = run(&etf_net(3.0, 100.0), &[hit(0, -0.5)], &cfg());
    assert_eq!(past.holders[0].status, Status::Defaulted);
    assert!(close(past.assets[0].forced_sales_shares, 3.0, 1e-12));
    assert!(close(past.holders[0].sales_usd, 150.0, 1e-12));
    assert_eq!(past.holders[0].equity_after, 0.0);
}

// ---------------------------------------------------------------- GLT

/// The engine's version of GLT: banks targeting leverage symmetrically, cash pro rata,
/// linear impact, one round. Returns (price returns, AV) in GLT's terms.
fn engine_glt(x: &GltInput, prices: &[f64]) -> (Vec<f64>, f64) {
    let net = glt_network(x, prices).expect("valid");
    let shocks: Vec<Shock> = x
        .shock
        .iter()
        .enumerate()
        .map(|(k, f)| hit(k as u32, *f))
        .collect();
    let cfg = EngineConfig {
        max_rounds: 1,
        least_fixed_point: false,
        ..EngineConfig::default()
    };
    let out = run(&net, &shocks, &cfg);
    let moves: Vec<f64> = out
        .assets
        .iter()
        .map(|a| a.price_after / a.price_before - 1.0)
        .collect();
    // AV: loss of the banks' starting portfolios from the fire sale alone, over equity.
    let fire = out.totals.total_loss_usd - out.totals.initial_loss_usd;
    (moves, -fire / x.equity.sum())
}

/// The 2×2 hand-worked case (see glt.rs) through the engine, with prices of 50 and 20:
/// the one-round price moves match F + ℓφ to second order in F.
#[test]
fn glt_engine_matches_hand_case_to_second_order() {
    let mut x = GltInput {
        assets: array![10.0, 20.0],
        equity: array![1.0, 4.0],
        weights: array![[0.5, 0.5], [0.25, 0.75]],
        impact: array![0.001, 0.002],
        shock: array![-0.1, 0.0],
    };
    let mut ratios = Vec::new();
    for eps in [1e-2, 1e-3, 1e-4] {
        x.shock = array![-eps, 0.0];
        let glt = closed_form(&x).expect("valid");
        let (moves, av) = engine_glt(&x, &[50.0, 20.0]);
        let err = (av - glt.aggregate_vulnerability).abs();
        for (k, m) in moves.iter().enumerate() {
            let want = x.shock[k] + glt.price_moves[k];
            assert!((m - want).abs() < 10.0 * eps * eps);
        }
        ratios.push(err / (eps * eps));
    }
    // Second order: error/ε² stays bounded (and does not grow as ε shrinks).
    assert!(ratios.iter().all(|r| *r < 1.0), "{ratios:?}");
    assert!(ratios[2] <= ratios[0] * 2.0 + 1e-6, "{ratios:?}");
}

/// 100 banks × 20 assets (seeded): Σ S_n = AV to 1e-12; AV linear in ℓ; and the engine's
/// one-round answer differs from the closed form only at second order: error/|F|² is
/// bounded across |F| = 1e-2, 1e-3, 1e-4 while error/|F| shrinks tenfold per decade.
#[test]
fn glt_generated_systems() {
    for seed in [1, 2, 3] {
        let x = glt_system(100, 20, seed, 0.05);
        let out = closed_form(&x).expect("valid");
        let sum: f64 = out.systemicness.sum();
        assert!(
            close(sum, out.aggregate_vulnerability, 1e-12),
            "{sum} vs {}",
            out.aggregate_vulnerability
        );
        let mut y = x.clone();
        y.impact.mapv_inplace(|l| 2.0 * l);
        let doubled = closed_form(&y).expect("valid");
        assert!(close(
            doubled.aggregate_vulnerability,
            2.0 * out.aggregate_vulnerability,
            1e-12
        ));
    }
    let base = glt_system(100, 20, 9, 1.0);
    let prices: Vec<f64> = (0..20).map(|k| 10.0 + 7.0 * f64::from(k)).collect();
    let mut second = Vec::new();
    let mut first = Vec::new();
    for eps in [1e-2, 1e-3, 1e-4] {
        let mut x = base.clone();
        x.shock.mapv_inplace(|f| f * eps);
        let glt = closed_form(&x).expect("valid");
        let (moves, av) = engine_glt(&x, &prices);
        let err_moves = moves
            .iter()
            .zip(x.shock.iter().zip(&glt.price_moves))
            .map(|(m, (f, l))| (m - (f + l)).abs())
            .fold(0.0, f64::max);
        let err = (av - glt.aggregate_vulnerability).abs().max(err_moves);
        second.push(err / (eps * eps));
        first.push(err / eps);
    }
    let (lo, hi) = (
        second.iter().copied().fold(f64::INFINITY, f64::min),
        second.iter().copied().fold(0.0, f64::max),
    );
    assert!(hi < 10.0 && hi <= 3.0 * lo, "error/|F|²: {second:?}");
    assert!(
        first[1] < first[0] / 5.0 && first[2] < first[1] / 5.0,
        "{first:?}"
    );
}

// ---------------------------------------------------------------- Cifuentes–Shin–Ferrucci

fn csf_bank(b: &mut NetworkBuilder, id: &str, shares: f64, cash: f64, debt: f64) {
    let mut h = Holder::new(
        id,
        HolderKind::Bank {
            rule: BalanceSheetRule::CapitalRatio { min_ratio: 0.08 },
        },
    );
    h.cash = cash;
    h.other_liabilities = debt;
    h.cash_use = CashUse::Never;
    b.add_holder(h);
    b.holds(id, "ILLQ", shares);
}

/// Three banks keep a capital ratio of 8% on one illiquid asset with p = exp(−α·x).
/// From p = 1 prices fall monotonically to the greatest fixed point, where every bank's
/// sale is exactly what the ratio asks for at that price.
#[test]
fn csf_monotone_decrease_to_greatest_fixed_point() {
    let mut b = NetworkBuilder::new();
    let mut a = asset("ILLQ", 1.0, ImpactLaw::Exponential { alpha: 1.0 });
    a.shares_outstanding = 1_000.0;
    b.add_asset(a);
    // Bank i: 100 shares, cash c, debt d: E/A = (100 + c − d)/(100 + c).
    for (id, cash, debt) in [
        ("b1", 20.0, 109.0),
        ("b2", 30.0, 118.0),
        ("b3", 10.0, 100.0),
    ] {
        csf_bank(&mut b, id, 100.0, cash, debt);
    }
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.03)], &cfg());
    assert_eq!(out.termination, Termination::Converged);
    assert!(out.rounds > 2, "a real cascade: {} rounds", out.rounds);
    let prices: Vec<f64> = out.trace.iter().map(|t| t.prices[0]).collect();
    for w in prices.windows(2) {
        assert!(w[1] <= w[0], "prices must fall monotonically: {prices:?}");
    }
    // Fixed point: p* = 0.97·exp(−Σ y_i(p*)/p0/1000) with y_i = A − E/r*.
    let p = out.assets[0].price_after;
    let mut sold = 0.0;
    for (cash, debt) in [(20.0, 109.0), (30.0, 118.0), (10.0, 100.0)] {
        let a = 100.0 * p + cash;
        let e = a - debt;
        let y: f64 = if e < 0.08 * a { a - e / 0.08 } else { 0.0 };
        sold += if y > 100.0 * p || e <= 0.0 {
            100.0
        } else {
            y.max(0.0) / p
        };
    }
    let want = 0.97 * (-sold / 1_000.0).exp();
    assert!(close(p, want, 1e-8), "{p} vs {want}");
}

/// A self-fulfilling fire sale: at the shocked price the bank is fine (greatest fixed
/// point = shocked price); if it had liquidated, the price would have fallen enough to
/// make it insolvent (least fixed point). The engine flags `differs`.
///
/// Bank: 500 of 1000 shares, cash 50, debt 90, α = 1. At p = 0.99: A = 545, E = 455... —
/// scaled: 50 shares worth 49.5, A = 99.5, E = 9.5, E/A = 9.5% ≥ 8%: no sale. All sold:
/// p = 0.99·exp(−0.5) = 0.6005, V = 30.0, E = −9.97 ≤ 0: liquidation is self-consistent.
#[test]
fn csf_two_equilibria_are_flagged() {
    let mut b = NetworkBuilder::new();
    let mut a = asset("ILLQ", 1.0, ImpactLaw::Exponential { alpha: 1.0 });
    a.shares_outstanding = 100.0;
    b.add_asset(a);
    csf_bank(&mut b, "bank", 50.0, 50.0, 90.0);
    let net = b.build().expect("valid");
    let out = run(
        &net,
        &[hit(0, -0.01)],
        &EngineConfig {
            least_fixed_point: true,
            ..EngineConfig::default()
        },
    );
    assert!(close(out.assets[0].price_after, 0.99, 1e-12));
    let least = out.least.expect("asked for");
    assert!(least.differs);
    assert!(close(least.prices[0], 0.99 * (-0.5f64).exp(), 1e-9));
    assert!(least.total_loss_usd > out.totals.total_loss_usd);
    // A milder system has a single equilibrium and says so.
    let mut b = NetworkBuilder::new();
    let mut a = asset("ILLQ", 1.0, ImpactLaw::Exponential { alpha: 1.0 });
    a.shares_outstanding = 1000.0;
    b.add_asset(a);
    csf_bank(&mut b, "bank", 50.0, 50.0, 60.0);
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.01)], &EngineConfig::default());
    assert!(!out.least.expect("default asks").differs);
}

// ---------------------------------------------------------------- Caccioli et al.

/// α = −ln(0.9)/0.1: liquidating 10% of an asset's shares cuts its price by 10%. A bank
/// holding 10% of the shares fails (loss ≥ equity) and liquidates: the price ends at
/// p_s × 0.9.
#[test]
fn caccioli_fail_and_liquidate() {
    let alpha = -(0.9f64.ln()) / 0.1;
    let mut b = NetworkBuilder::new();
    let mut a = asset("X", 10.0, ImpactLaw::Exponential { alpha });
    a.shares_outstanding = 1_000.0;
    b.add_asset(a);
    let mut h = Holder::new(
        "bank",
        HolderKind::Bank {
            rule: BalanceSheetRule::FailLiquidate,
        },
    );
    // 100 shares at $10 = 1000 of assets, leverage 20: equity 50, debt 950.
    h.other_liabilities = 950.0;
    b.add_holder(h);
    b.holds("bank", "X", 100.0);
    let net = b.build().expect("valid");
    // A 4% fall leaves equity 10 > 0: passive.
    let calm = run(&net, &[hit(0, -0.04)], &cfg());
    assert_eq!(calm.holders[0].status, Status::Unaffected);
    assert!(close(calm.assets[0].price_after, 9.6, 1e-12));
    // A 6% fall wipes the equity out: sell all 100 shares, 10% of the float.
    let crash = run(&net, &[hit(0, -0.06)], &cfg());
    assert_eq!(crash.holders[0].status, Status::Defaulted);
    assert!(close(crash.assets[0].price_after, 9.4 * 0.9, 1e-12));
    // The same through an exogenous sale of 10% of the shares.
    let mut b = NetworkBuilder::new();
    let mut a = asset("X", 10.0, ImpactLaw::Exponential { alpha });
    a.shares_outstanding = 1_000.0;
    b.add_asset(a);
    let net = b.build().expect("valid");
    let out = run(
        &net,
        &[Shock::ExogenousSale {
            asset: AssetIx(0),
            usd: 1_000.0,
        }],
        &cfg(),
    );
    assert!(close(out.assets[0].price_after, 9.0, 1e-12));
    assert!(close(out.totals.exogenous_sales_usd, 900.0, 1e-12));
}

// ---------------------------------------------------------------- Cont–Schaanning

/// Threshold rule, λ_max = 33, λ_b = 31.35 (= 0.95·33), marketable Π = 100 shares at $1,
/// illiquid I = 20, leverage 30 to start (A = 120, E = 4).
/// −0.1%: A = 119.9, E = 3.9, λ = 30.7 < 33 → nothing.
/// −0.5%: A = 119.5, E = 3.5, λ = 34.1 > 33 → Γ = (119.5 − 31.35·3.5)/99.5 = 0.098241,
/// i.e. 9.8241 shares.
#[test]
fn cont_schaanning_threshold() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, FLAT));
    let mut h = Holder::new(
        "bank",
        HolderKind::Bank {
            rule: BalanceSheetRule::Threshold {
                max: 33.0,
                target: 31.35,
            },
        },
    );
    h.other_assets = 20.0;
    h.other_liabilities = 116.0;
    h.cash_use = CashUse::Never;
    b.add_holder(h);
    b.holds("bank", "X", 100.0);
    let net = b.build().expect("valid");
    let calm = run(&net, &[hit(0, -0.001)], &cfg());
    assert_eq!(calm.assets[0].forced_sales_shares, 0.0);
    let hit_out = run(&net, &[hit(0, -0.005)], &cfg());
    let gamma = (119.5 - 31.35 * 3.5) / 99.5;
    assert!(close(gamma, 0.098_241, 1e-5));
    assert!(close(
        hit_out.assets[0].forced_sales_shares,
        gamma * 100.0,
        1e-9
    ));
    assert_eq!(hit_out.holders[0].status, Status::Sold);
    // One-sided: a gain triggers no buying.
    let up = run(&net, &[hit(0, 0.05)], &cfg());
    assert_eq!(up.holders[0].status, Status::Unaffected);
}

// ---------------------------------------------------------------- lenders and clearing

/// A ring of three lenders A → B → C → A owing 10 each; A's borrower loses it 8 (an
/// account with 10 shares and a loan of 9 after a 90% fall). Clearing (hand-worked in
/// clearing.rs): payments (0, 1, 2). All three lenders default.
#[test]
fn eisenberg_noe_ring_through_the_engine() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, FLAT));
    for (id, cap) in [("A", 5.0), ("B", 1.0), ("C", 1.0)] {
        b.add_lender(Lender::new(id, cap));
    }
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "X", 10.0);
    b.lends(
        "A",
        "acct",
        MarginTerms {
            loan: 9.0,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    b.owes("A", "B", 10.0);
    b.owes("B", "C", 10.0);
    b.owes("C", "A", 10.0);
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.9)], &cfg());
    let l = &out.lenders;
    assert!(close(l[0].borrower_losses_usd, 8.0, 1e-9));
    assert!(close(l[0].interbank_losses_usd, 8.0, 1e-9));
    assert!(close(l[1].interbank_losses_usd, 10.0, 1e-9));
    assert!(close(l[2].interbank_losses_usd, 9.0, 1e-9));
    assert!(l.iter().all(|x| x.defaulted));
    // One account + three lenders.
    assert_eq!(out.totals.defaults, 4);
}

/// A lender default pushes a creditor bank into selling: the bank's equity includes
/// what it actually receives on its claim.
#[test]
fn lender_default_makes_a_bank_sell() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, FLAT));
    b.add_asset(asset("Y", 1.0, FLAT));
    b.add_lender(Lender::new("broker", 1.0));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "X", 100.0);
    b.lends(
        "broker",
        "acct",
        MarginTerms {
            loan: 60.0,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let mut bank = Holder::new(
        "bank",
        HolderKind::Bank {
            rule: BalanceSheetRule::LeverageTarget {
                target: 10.0,
                symmetric: false,
            },
        },
    );
    // Assets: 90 of Y + a claim of 10 on the broker = 100; equity 10; leverage 10.
    bank.other_liabilities = 90.0;
    bank.cash_use = CashUse::Never;
    b.add_holder(bank);
    b.holds("bank", "Y", 90.0);
    b.owes("broker", "bank", 10.0);
    let net = b.build().expect("valid");
    // X −50%: the account defaults with shortfall 10, the broker (capital 1) loses 10 and
    // can pay its creditor only w = 1 + 0 + 10 − 10 = 1. The bank: A = 91, E = 1, sells
    // A − 10·E = 81 of Y.
    let out = run(&net, &[hit(0, -0.5)], &cfg());
    assert!(out.lenders[0].defaulted);
    let bank = &out.holders[1];
    assert!(close(bank.sales_usd, 81.0, 1e-9), "{}", bank.sales_usd);
    assert!(close(bank.equity_after, 1.0, 1e-9));
}

/// Tightening: a lender past its loss trigger raises margins on all its borrowers, which
/// calls an account that would otherwise be fine.
#[test]
fn lender_tightening_feeds_back() {
    let build = |trigger: Option<f64>| {
        let mut b = NetworkBuilder::new();
        b.add_asset(asset("X", 1.0, FLAT));
        b.add_asset(asset("Y", 1.0, FLAT));
        let mut l = Lender::new("broker", 100.0);
        l.tighten_trigger = trigger;
        l.tighten_by = 0.2;
        b.add_lender(l);
        for (id, a, loan) in [("weak", "X", 90.0), ("strong", "Y", 60.0)] {
            b.add_holder(Holder::new(
                id,
                HolderKind::MarginAccount { cure_rate: 0.0 },
            ));
            b.holds(id, a, 100.0);
            b.lends(
                "broker",
                id,
                MarginTerms {
                    loan,
                    maintenance: 0.25,
                    reset: 0.25,
                },
            );
        }
        b.build().expect("valid")
    };
    // X −20%: "weak" defaults (V 80 < loan 90, loss 10 = 10% of capital). "strong" (Y flat,
    // equity 40% of V) is fine at 25% maintenance but called at 45%.
    let shocks = [hit(0, -0.2)];
    let loose = run(&build(None), &shocks, &cfg());
    assert_eq!(loose.holders[1].status, Status::Unaffected);
    let tight = run(&build(Some(0.05)), &shocks, &cfg());
    assert!(tight.lenders[0].tightened);
    assert_eq!(tight.holders[1].status, Status::MarginCall);
    // Called at 45%: y = V − E/m_r = 100 − 40/0.45.
    assert!(close(tight.holders[1].sales_usd, 100.0 - 40.0 / 0.45, 1e-9));
    // A tightening shock does the same from round 1, and margins are capped at 1.
    let shocked = run(
        &build(None),
        &[Shock::MarginTightening {
            lender: Some(LenderIx(0)),
            by: 5.0,
        }],
        &cfg(),
    );
    // Maintenance 1: every account with a loan is called and sells down to no loan.
    assert!(close(shocked.holders[1].sales_usd, 60.0, 1e-9));
}

// ---------------------------------------------------------------- funds, cohorts, order

/// Fund: outflow β·max(0, −R)·NAV0 + f·NAV0, met from cash first.
/// NAV0 = 100 (90 of X + 10 cash). X −10%: R = −9%, β = 2.5 → outflow 22.5 + redemption
/// 10% (10) = 32.5; cash 10 first → sells 22.5 of X.
#[test]
fn fund_redemptions_cash_first() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, FLAT));
    let mut f = Holder::new(
        "fund",
        HolderKind::Fund {
            redemption_beta: 2.5,
        },
    );
    f.cash = 10.0;
    b.add_holder(f);
    b.holds("fund", "X", 90.0);
    let net = b.build().expect("valid");
    let shocks = [
        hit(0, -0.1),
        Shock::Redemption {
            holder: HolderIx(0),
            fraction: 0.1,
        },
    ];
    let (out, ledger) = run_ledger(&net, &shocks, &cfg());
    assert!(close(out.holders[0].sales_usd, 22.5, 1e-12));
    assert!(close(ledger.holders[0].paid_out_usd, 22.5, 1e-12));
}

/// Most liquid first: a $50 sale empties the higher-ADV position before touching the
/// other one.
#[test]
fn most_liquid_first() {
    let mut b = NetworkBuilder::new();
    let mut deep = asset("DEEP", 1.0, FLAT);
    deep.adv_usd = 1e10;
    b.add_asset(asset("THIN", 1.0, FLAT));
    b.add_asset(deep);
    let mut h = Holder::new(
        "fund",
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::LeverageTarget {
                target: 2.0,
                symmetric: false,
            },
        },
    );
    h.other_liabilities = 100.0;
    h.sale_order = delever_graph::SaleOrder::MostLiquidFirst;
    b.add_holder(h);
    b.holds("fund", "THIN", 100.0);
    b.holds("fund", "DEEP", 40.0);
    let net = b.build().expect("valid");
    // A = 140, E = 40 → target 80: sell 60. DEEP (40) goes first, then 20 of THIN.
    let out = run(&net, &[], &cfg());
    assert!(close(out.assets[1].forced_sales_shares, 40.0, 1e-12));
    assert!(close(out.assets[0].forced_sales_shares, 20.0, 1e-12));
    assert_eq!(out.holders[0].status, Status::Sold);
}

/// A cohort: buckets at 30%, 50% and 65% LTV (shares 0.5, 0.3, 0.2 of 1000 accounts),
/// m = 25%. A 30% fall calls only the 65% bucket (called when the fall exceeds
/// 1 − ltv/(1 − m) = 13.3%; the 50% bucket at 33.3%): 200 accounts.
#[test]
fn cohort_calls_progressively() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, FLAT));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "cohort",
        HolderKind::MarginCohort {
            accounts: 1000,
            buckets: vec![
                delever_graph::LtvBucket {
                    ltv: 0.3,
                    share: 0.5,
                },
                delever_graph::LtvBucket {
                    ltv: 0.5,
                    share: 0.3,
                },
                delever_graph::LtvBucket {
                    ltv: 0.65,
                    share: 0.2,
                },
            ],
            cure_rate: 0.0,
        },
    ));
    b.holds("cohort", "X", 1000.0);
    b.lends(
        "broker",
        "cohort",
        MarginTerms {
            loan: 0.0,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let net = b.build().expect("valid");
    let out = run(&net, &[hit(0, -0.30)], &cfg());
    assert_eq!(out.holders[0].margin_calls, 200);
    assert_eq!(out.holders[0].status, Status::MarginCall);
    // Bucket: V = 140, D = 130, E = 10: y = 140 − 10/0.25 = 100.
    assert!(close(out.holders[0].sales_usd, 100.0, 1e-9));
    let out = run(&net, &[hit(0, -0.40)], &cfg());
    assert_eq!(out.holders[0].margin_calls, 500);
}

// ---------------------------------------------------------------- termination and errors

#[test]
fn zero_shock_is_one_quiet_round() {
    let net = textbook_margin(0.3).expect("valid");
    let out = run(&net, &[], &EngineConfig::default());
    assert_eq!(out.termination, Termination::Converged);
    assert_eq!(out.rounds, 1);
    assert_eq!(out.totals.forced_sales_usd, 0.0);
    assert_eq!(out.totals.amplification, 1.0);
    assert!(!out.least.expect("default").differs);
}

/// Round limit reached: an outcome, not an error; max_rounds = 1 is one evaluation.
#[test]
fn max_rounds_is_an_outcome() {
    let net = delever_engine::synth::market(&delever_engine::synth::MarketSpec::new(5_000))
        .expect("valid");
    let shocks = [Shock::Market {
        ret: -0.25,
        tag: None,
    }];
    let out = run(
        &net,
        &shocks,
        &EngineConfig {
            max_rounds: 1,
            least_fixed_point: false,
            ..EngineConfig::default()
        },
    );
    assert_eq!(out.termination, Termination::MaxRounds);
    assert_eq!(out.rounds, 1);
    assert_eq!(out.exit_code(), 3);
    let full = run(&net, &shocks, &cfg());
    assert_eq!(full.termination, Termination::Converged);
    assert!(full.totals.total_loss_usd > out.totals.initial_loss_usd);
    assert!(full.totals.amplification > 1.0);
}

#[test]
fn bad_shocks_are_errors() {
    let net = textbook_margin(0.3).expect("valid");
    let cfg = EngineConfig::default();
    let err = |s: Shock| delever_engine::run(&net, &[s], &cfg).expect_err("must fail");
    assert!(matches!(
        err(hit(3, -0.1)),
        EngineError::AssetOutOfRange { index: 3, .. }
    ));
    assert!(matches!(
        err(hit(0, -1.5)),
        EngineError::ReturnBelowMinusOne { .. }
    ));
    assert!(matches!(
        err(hit(0, f64::NAN)),
        EngineError::NotFinite { .. }
    ));
    assert!(matches!(
        err(Shock::TagReturn {
            tag: "nope".into(),
            ret: -0.1
        }),
        EngineError::UnknownTag { .. }
    ));
    assert!(matches!(
        err(Shock::Redemption {
            holder: HolderIx(0),
            fraction: 0.1
        }),
        EngineError::NotRedeemable { .. }
    ));
    assert!(matches!(
        err(Shock::Redemption {
            holder: HolderIx(9),
            fraction: 0.1
        }),
        EngineError::HolderOutOfRange { .. }
    ));
    assert!(matches!(
        err(Shock::MarginTightening {
            lender: Some(LenderIx(4)),
            by: 0.1
        }),
        EngineError::LenderOutOfRange { .. }
    ));
    assert!(matches!(
        err(Shock::ExogenousSale {
            asset: AssetIx(0),
            usd: -1.0
        }),
        EngineError::Negative { .. }
    ));
    let bad = EngineConfig {
        damping: 0.0,
        ..EngineConfig::default()
    };
    assert!(matches!(
        delever_engine::run(&net, &[], &bad),
        Err(EngineError::InvalidConfig { .. })
    ));
    // A total return of exactly −100% is allowed: the price stops at the floor.
    let out = run(&net, &[hit(0, -1.0)], &cfg);
    assert!(out.assets[0].price_after > 0.0);
    assert_eq!(out.holders[0].status, Status::Defaulted);
}

/// The ETF fund redemption case and observers: every round reaches the observer.
#[test]
fn observer_sees_every_round() {
    let net = delever_engine::synth::market(&delever_engine::synth::MarketSpec::new(3_000))
        .expect("valid");
    let mut seen = Vec::new();
    let mut obs = |t: &delever_engine::RoundTrace| seen.push(t.round);
    let out = delever_engine::run_with_observer(
        &net,
        &[Shock::Market {
            ret: -0.2,
            tag: None,
        }],
        &cfg(),
        &mut obs,
    )
    .expect("valid");
    assert_eq!(seen.len(), out.trace.len());
    assert_eq!(seen.last().copied(), Some(out.rounds));
}

/// A damped step moves prices by `d·(Φ(p) − p)`: with a tiny `d` every step is tiny, and a
/// convergence test on the step would call the shocked prices a fixed point after one
/// round (issue 11: damping 1e-12 reported "converged" at a loss of 1.0500e9 against the
/// true 1.0593e9). The test is on the undamped map's residual, so tiny damping runs out
/// of rounds instead, and moderate damping reaches the undamped fixed point.
#[test]
fn damping_never_fakes_convergence() {
    let x = glt_system(12, 3, 7, 0.05);
    let net = glt_network(&x, &[50.0, 20.0, 10.0]).expect("valid");
    let shocks = [hit(0, -0.08), hit(1, -0.04)];
    let with = |damping: f64| {
        let c = EngineConfig {
            damping,
            least_fixed_point: false,
            max_rounds: 2_000,
            ..EngineConfig::default()
        };
        run(&net, &shocks, &c)
    };
    let exact = with(1.0);
    assert_eq!(exact.termination, Termination::Converged);
    assert!(exact.totals.total_loss_usd > exact.totals.initial_loss_usd * 1.001);
    let tiny = with(1e-12);
    assert_eq!(tiny.termination, Termination::MaxRounds);
    // The reported residual is the undamped map's: far from the tolerance.
    assert!(tiny.residual > 1e-6, "{}", tiny.residual);
    let half = with(0.5);
    assert_eq!(half.termination, Termination::Converged);
    assert!(
        close(
            half.totals.total_loss_usd,
            exact.totals.total_loss_usd,
            1e-8
        ),
        "{} vs {}",
        half.totals.total_loss_usd,
        exact.totals.total_loss_usd
    );
}

/// However many rounds a run takes, its trace stays bounded: rounds 1..=TRACE_ROUNDS and
/// the last one; a replay (explain, the HTML player) of such a run is refused by name.
#[test]
fn long_runs_keep_a_bounded_trace() {
    let x = glt_system(12, 3, 7, 0.05);
    let net = glt_network(&x, &[50.0, 20.0, 10.0]).expect("valid");
    let shocks = [hit(0, -0.08), hit(1, -0.04)];
    let rounds = delever_engine::TRACE_ROUNDS + 2_500;
    let c = EngineConfig {
        damping: 1e-9,
        least_fixed_point: false,
        max_rounds: rounds,
        ..EngineConfig::default()
    };
    let out = run(&net, &shocks, &c);
    assert_eq!(out.rounds, rounds);
    assert_eq!(out.trace.len(), delever_engine::TRACE_ROUNDS as usize + 1);
    assert_eq!(out.trace_omitted(), 2_499);
    let kept: Vec<u32> = out.trace.iter().map(|t| t.round).collect();
    assert_eq!(kept[..3], [1, 2, 3]);
    assert_eq!(
        kept[kept.len() - 2..],
        [delever_engine::TRACE_ROUNDS, rounds]
    );
    let err = delever_engine::explain::Replay::new(&net, &shocks)
        .and_then(|mut r| r.explain(&out, HolderIx(0)))
        .expect_err("a truncated trace cannot be replayed");
    assert!(matches!(err, EngineError::TraceTruncated { .. }), "{err}");
    // A run that fits keeps every round.
    let short = run(
        &net,
        &shocks,
        &EngineConfig {
            max_rounds: 50,
            ..c
        },
    );
    assert_eq!(short.trace_omitted(), 0);
    assert_eq!(short.trace.len(), 50);
}

/// Inputs that are finite one by one but overflow together (a $1e300 price on 1e10
/// shares) are refused with the place the overflow appeared, never reported as `null`
/// figures or a silent crash to the price floor.
#[test]
fn overflowing_inputs_are_refused_by_name() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("HUGE", 1e300, FLAT));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "whale",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("whale", "HUGE", 1e10);
    b.lends(
        "broker",
        "whale",
        MarginTerms {
            loan: 1e6,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let net = b.build().expect("every number is finite");
    let err = delever_engine::run(&net, &[hit(0, -0.5)], &cfg()).expect_err("overflow");
    match &err {
        EngineError::NonFiniteResult { place, .. } => {
            assert!(place.contains("whale") || place.contains("totals"), "{err}");
        }
        other => panic!("expected NonFiniteResult, got {other}"),
    }
    // Same shape at sane magnitudes runs.
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("OK", 100.0, FLAT));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "whale",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("whale", "OK", 1e4);
    b.lends(
        "broker",
        "whale",
        MarginTerms {
            loan: 1e5,
            maintenance: 0.25,
            reset: 0.25,
        },
    );
    let net = b.build().expect("valid");
    assert!(delever_engine::run(&net, &[hit(0, -0.5)], &cfg()).is_ok());
}
