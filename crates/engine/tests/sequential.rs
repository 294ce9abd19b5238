//! The sequential mode: hand-worked two-bank cases (midpoint settlement, cash-first
//! deleveraging, default then full liquidation in the next round), the relation to the
//! equilibrium's greatest fixed point (never worse for sell-only rules; an inverse ETF
//! shows where it can be), every holder kind, and thread-count determinism.

// The hand-worked numbers in the comments use the papers' notation.
#![allow(clippy::doc_markdown)]

mod common;

use common::{asset, close, hit, hold, law, random_book, run, run_ledger, terms};
use delever_engine::synth::{MarketSpec, Rng, market};
use delever_engine::{EngineConfig, Mode, PRICE_FLOOR, Shock, Status, Termination};
use delever_graph::{
    AssetIx, BalanceSheetRule, CashUse, Holder, HolderKind, ImpactLaw, Lender, LtvBucket,
    MarginTerms, Network, NetworkBuilder, SaleOrder,
};
use proptest::prelude::*;

/// Sequential settings: no least fixed point (ignored anyway), default round limit.
fn seq() -> EngineConfig {
    EngineConfig {
        mode: Mode::Sequential,
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

fn eq() -> EngineConfig {
    EngineConfig {
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

/// A bank holding `shares` of X (price 1) with the given rule and balance sheet.
fn bank(
    id: &str,
    rule: BalanceSheetRule,
    cash: f64,
    other_assets: f64,
    liabilities: f64,
) -> Holder {
    let mut h = Holder::new(id, HolderKind::Bank { rule });
    h.cash = cash;
    h.other_assets = other_assets;
    h.other_liabilities = liabilities;
    h
}

/// One asset X at price 1 with linear impact ℓ per dollar, and the given banks.
fn two_banks(per_usd: f64, banks: Vec<(Holder, f64)>) -> Network {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, ImpactLaw::Linear { per_usd }));
    for (h, shares) in banks {
        let id = h.id.clone();
        b.add_holder(h);
        b.holds(&id, "X", shares);
    }
    b.build().expect("valid")
}

const THRESHOLD: BalanceSheetRule = BalanceSheetRule::Threshold {
    max: 12.0,
    target: 8.0,
};

/// Midpoint settlement. Bank S: 100 X, liabilities 90 (E = 10, A/E = 10), threshold
/// λ_max = 12 → λ_b = 8, keeps its cash (`never`). Bank P: 100 X, liabilities 50, passive.
/// Linear impact ℓ = 1e-4 per dollar; X falls 5%: p_s = 0.95.
///
/// Round 1 at p_s: S has A = 95, E = 5, A/E = 19 > 12, so it cuts R = A − 8E = 55 and sells
/// 55/0.95 = 57.894737 shares. Cleared: Q = 57.894737 (at p0 = 1), p_1 = 0.95·(1 − ℓQ) =
/// 0.95 − 0.0055 = 0.9445. Settled at the midpoint (0.95 + 0.9445)/2 = 0.94725: proceeds
/// 57.894737 × 0.94725 = 54.840789 repay debt: liabilities 35.159211. S keeps 42.105263 X
/// worth 39.768421 at p_1: E = 4.609211, A/E = 8.63 < 12, so S is done.
/// Round 2: nobody orders; converged after 2 rounds at p = 0.9445.
///
/// Had the sale settled at the final price 0.9445 (the equilibrium's convention) S would
/// have E = 100 × 0.9445 − 90 = 4.45: the midpoint is worth 57.894737 × 0.00275 = 0.159211
/// to it.
#[test]
fn midpoint_settlement() {
    let mut s = bank("S", THRESHOLD, 0.0, 0.0, 90.0);
    s.cash_use = CashUse::Never;
    let p = bank("P", BalanceSheetRule::Passive, 0.0, 0.0, 50.0);
    let net = two_banks(1e-4, vec![(s, 100.0), (p, 100.0)]);
    let (out, ledger) = run_ledger(&net, &[hit(0, -0.05)], &seq());
    assert_eq!(out.mode, Mode::Sequential);
    assert_eq!(out.termination, Termination::Converged);
    assert_eq!(out.rounds, 2);
    let sold = 55.0 / 0.95;
    assert!(close(out.assets[0].price_after, 0.9445, 1e-12));
    assert!(close(out.assets[0].forced_sales_shares, sold, 1e-12));
    assert!(close(out.holders[0].sales_usd, sold * 0.94725, 1e-12));
    assert!(close(out.holders[0].sales_usd, 54.840_789_473_684_2, 1e-12));
    assert!(close(
        out.holders[0].equity_after,
        4.609_210_526_315_8,
        1e-11
    ));
    assert!(close(
        out.holders[0].equity_after - (100.0 * 0.9445 - 90.0),
        sold * (0.94725 - 0.9445),
        1e-9
    ));
    assert_eq!(out.holders[0].status, Status::Sold);
    assert_eq!(out.holders[1].status, Status::Unaffected);
    assert!(close(
        out.holders[1].equity_after,
        100.0 * 0.9445 - 50.0,
        1e-12
    ));
    // Proceeds all repaid debt; the ledger adds up.
    let l = &ledger.holders[0];
    assert!(close(l.debt_repaid_usd, l.proceeds_usd, 1e-12));
    assert!(close(l.sale_decided_usd, 55.0, 1e-12));
    assert!(close(l.positions[0].kept_shares, 100.0 - sold, 1e-12));
    // The trace: one selling round, then a quiet one.
    assert_eq!(out.trace.len(), 2);
    assert!(close(out.trace[0].fraction_sold, sold / 200.0, 1e-12));
    assert!(close(out.trace[0].residual, 0.0055 / 0.95, 1e-9));
    assert_eq!(out.trace[1].residual, 0.0);
    // Loss: starting 200 X at 1 against 142.105263 X at 0.9445 plus the proceeds.
    let loss = 200.0 - (200.0 - sold) * 0.9445 - sold * 0.94725;
    assert!(close(out.totals.total_loss_usd, loss, 1e-12));
    assert!(close(out.totals.initial_loss_usd, 10.0, 1e-12));
    assert!(close(out.totals.forced_sales_usd, sold * 0.94725, 1e-12));
}

/// Cash first. As above, but S also holds cash 10 against liabilities 100 (A = 110,
/// E = 10) and pays down debt with its cash before it sells (`first`, the default).
///
/// Round 1 at p_s = 0.95: A = 105, E = 5, A/E = 21 > 12: R = 105 − 8 × 5 = 65. Cash pays
/// 10 of it; S sells the other 55 (57.894737 shares), so prices, proceeds and equity are
/// those of `midpoint_settlement`: p_1 = 0.9445, proceeds 54.840789, liabilities
/// 100 − 10 − 54.840789 = 35.159211, cash 0, E = 4.609211. With `never` S would keep its
/// cash and sell all 65 (68.421053 shares): the price falls further (p_1 = 0.95 − 0.0065 =
/// 0.9435).
#[test]
fn cash_first_deleveraging() {
    let s = bank("S", THRESHOLD, 10.0, 0.0, 100.0);
    let p = bank("P", BalanceSheetRule::Passive, 0.0, 0.0, 50.0);
    let net = two_banks(1e-4, vec![(s.clone(), 100.0), (p.clone(), 100.0)]);
    let (out, ledger) = run_ledger(&net, &[hit(0, -0.05)], &seq());
    assert_eq!(out.rounds, 2);
    assert!(close(out.assets[0].price_after, 0.9445, 1e-12));
    assert!(close(out.holders[0].sales_usd, 54.840_789_473_684_2, 1e-12));
    assert!(close(
        out.holders[0].equity_after,
        4.609_210_526_315_8,
        1e-11
    ));
    // All proceeds repaid debt: no cash kept.
    assert!(close(
        ledger.holders[0].debt_repaid_usd,
        54.840_789_473_684_2,
        1e-12
    ));
    assert!(ledger.holders[0].cash_kept_usd.abs() < 1e-12);

    let mut never = s;
    never.cash_use = CashUse::Never;
    let net = two_banks(1e-4, vec![(never, 100.0), (p, 100.0)]);
    let out = run(&net, &[hit(0, -0.05)], &seq());
    assert!(close(out.assets[0].forced_sales_shares, 65.0 / 0.95, 1e-12));
    assert!(close(out.assets[0].price_after, 0.9435, 1e-12));
}

/// Default, then full liquidation in the next round. Linear impact ℓ = 1e-3.
/// Bank S (fail-and-liquidate): 100 X, liabilities 96 (E = 4). Bank D: 50 X and 150 of
/// illiquid assets, liabilities 188 (E = 12, 6%), leverage-ratio rules: act below 4%
/// (threshold λ_max = 25), back to 5% (λ_b = 20), insolvent below 3%.
///
/// X falls 5%: p_s = 0.95. S: V = 95 < 96, insolvent. D: A = 197.5, E = 9.5, 4.81%: fine.
/// Round 1: S sells all 100 X. p_1 = 0.95·(1 − 0.1) = 0.855; midpoint 0.9025: S receives
/// 90.25, pays it to its creditors (5.75 unpaid). At p_1 D has A = 192.75, E = 4.75:
/// 2.46% < 3%, insolvent.
/// Round 2: D sells all 50 X. p_2 = 0.95·(1 − 0.15) = 0.8075; midpoint 0.83125: D
/// receives 41.5625, liabilities fall to 146.4375; equity 150 − 146.4375 = 3.5625 (its
/// creditors are paid in full).
/// Round 3: nobody has anything left to sell: converged after 3 rounds.
///
/// The equilibrium's greatest fixed point is the same price, 0.8075 (both banks
/// liquidated), but it settles every sale there: losses 150 × (1 − 0.8075) = 28.875
/// against the sequential 100 − 90.25 + 50 − 41.5625 = 18.1875.
#[test]
fn default_then_liquidation_next_round() {
    let s = bank("S", BalanceSheetRule::FailLiquidate, 0.0, 0.0, 96.0);
    let mut d = bank(
        "D",
        BalanceSheetRule::Threshold {
            max: 25.0,
            target: 20.0,
        },
        0.0,
        150.0,
        188.0,
    );
    d.default_below_ratio = Some(0.03);
    let net = two_banks(1e-3, vec![(s, 100.0), (d, 50.0)]);
    let shock = [hit(0, -0.05)];
    let out = run(&net, &shock, &seq());
    assert_eq!(out.termination, Termination::Converged);
    assert_eq!(out.rounds, 3);
    let defaults: Vec<u64> = out.trace.iter().map(|t| t.new_defaults).collect();
    assert_eq!(defaults, vec![1, 1, 0]);
    let sold: Vec<f64> = out.trace.iter().map(|t| t.fraction_sold).collect();
    assert!(close(sold[0], 100.0 / 150.0, 1e-12) && close(sold[1], 1.0, 1e-12));
    assert!(close(out.trace[0].prices[0], 0.855, 1e-12));
    assert!(close(out.assets[0].price_after, 0.8075, 1e-12));
    assert!(close(out.holders[0].sales_usd, 90.25, 1e-12));
    assert!(close(out.holders[1].sales_usd, 41.5625, 1e-12));
    assert!(close(out.holders[0].equity_after, -5.75, 1e-12));
    assert!(close(out.holders[1].equity_after, 3.5625, 1e-12));
    assert!(out.holders.iter().all(|h| h.status == Status::Defaulted));
    assert_eq!(out.totals.defaults, 2);
    assert!(close(out.totals.total_loss_usd, 18.1875, 1e-12));
    assert!(close(out.totals.initial_loss_usd, 7.5, 1e-12));
    // S's creditors are not a lender of the model: no lender loss, the shortfall is S's.
    assert_eq!(out.totals.lender_losses_usd, 0.0);

    let e = run(&net, &shock, &eq());
    assert!(close(e.assets[0].price_after, 0.8075, 1e-12));
    assert!(close(e.totals.total_loss_usd, 28.875, 1e-12));
    assert!(out.totals.total_loss_usd < e.totals.total_loss_usd);
}

/// In the equilibrium mode the same insolvency ratio makes a bank sell everything at the
/// prices where E/A < 3%, and not otherwise. Bank: 100 X, 100 illiquid, liabilities 191
/// (E = 9, 4.5%), act below 4%, back to 5%, insolvent below 3%; no impact.
#[test]
fn insolvency_ratio_in_the_equilibrium_mode() {
    let mut d = bank(
        "D",
        BalanceSheetRule::Threshold {
            max: 25.0,
            target: 20.0,
        },
        0.0,
        100.0,
        191.0,
    );
    d.default_below_ratio = Some(0.03);
    let net = two_banks(0.0, vec![(d, 100.0)]);
    // A 2% fall: A = 198, E = 7, 3.54%: between 3% and 4%, so D delevers to 5% with its
    // tradables: R = A − 20E = 58, sold at 0.98.
    for cfg in [eq(), seq()] {
        let out = run(&net, &[hit(0, -0.02)], &cfg);
        assert_eq!(out.holders[0].status, Status::Sold);
        assert!(close(out.holders[0].sales_usd, 58.0, 1e-12));
        assert_eq!(out.totals.defaults, 0);
    }
    // A 4% fall: A = 196, E = 5, 2.55% < 3%: insolvent, sells all 100 X.
    for cfg in [eq(), seq()] {
        let out = run(&net, &[hit(0, -0.04)], &cfg);
        assert_eq!(out.holders[0].status, Status::Defaulted);
        assert!(close(out.assets[0].forced_sales_shares, 100.0, 1e-12));
        assert_eq!(out.totals.defaults, 1);
        // Equity stays positive: creditors are paid in full.
        assert!(close(out.holders[0].equity_after, 5.0, 1e-12));
    }
    // `explain` names the ratio that fired, not the rule's cut.
    let (_, why) =
        delever_engine::explain::explain(&net, &[hit(0, -0.04)], &eq(), delever_graph::HolderIx(0))
            .expect("explains");
    let first = &why.rounds[0].tests;
    assert!(
        matches!(
            first.as_slice(),
            [delever_engine::explain::Test::Insolvent {
                below_ratio: Some(d),
                ..
            }] if *d == 0.03
        ),
        "{first:?}"
    );
}

// ---------------------------------------------------------------- random networks

/// What a random network may contain.
#[derive(Debug, Clone, Copy)]
struct Mix {
    /// Leveraged and inverse ETFs (they buy after gains).
    etfs: bool,
    /// Some holders sell most liquid first.
    most_liquid: bool,
    /// Margin calls partly met with cash.
    cures: bool,
}

/// Rules that only sell, pro rata, calls met by selling: where the sequential mode is
/// never worse than the greatest fixed point.
const SELL_ONLY: Mix = Mix {
    etfs: false,
    most_liquid: false,
    cures: false,
};

const ALL: Mix = Mix {
    etfs: true,
    most_liquid: true,
    cures: true,
};

/// A random network of every holder kind the mix allows, quiet at zero shock.
#[allow(clippy::too_many_lines)] // one arm per holder kind
fn network(seed: u64, mix: Mix) -> Network {
    let Mix {
        etfs,
        most_liquid,
        cures,
    } = mix;
    let cure = |rng: &mut Rng, hi: f64| if cures { rng.range(0.0, hi) } else { 0.0 };
    let mut rng = Rng::new(seed);
    let mut b = NetworkBuilder::new();
    let n_assets = 1 + rng.below(4) as usize;
    let mut prices = Vec::new();
    for k in 0..n_assets {
        let p = rng.range(10.0, 200.0);
        let mut a = asset(&format!("a{k}"), p, law(&mut rng));
        a.shares_outstanding = 1e6 / p * rng.range(1.0, 10.0);
        a.adv_usd = rng.range(1e5, 1e7);
        b.add_asset(a);
        prices.push(p);
    }
    for l in 0..2 {
        let mut x = Lender::new(format!("L{l}"), rng.range(1e3, 1e5));
        if rng.uniform() < 0.5 {
            x.tighten_trigger = Some(rng.range(0.01, 0.5));
            x.tighten_by = rng.range(0.0, 0.2);
        }
        b.add_lender(x);
    }
    let order = |rng: &mut Rng| {
        if most_liquid && rng.uniform() < 0.5 {
            SaleOrder::MostLiquidFirst
        } else {
            SaleOrder::ProRata
        }
    };
    let holders = 1 + rng.below(6);
    for h in 0..holders {
        let id = format!("h{h}");
        let lender = format!("L{}", rng.below(2));
        match rng.below(if etfs { 7 } else { 6 }) {
            0 => {
                let mut x = Holder::new(
                    &id,
                    HolderKind::MarginAccount {
                        cure_rate: cure(&mut rng, 0.5),
                    },
                );
                x.sale_order = order(&mut rng);
                b.add_holder(x);
                let v = hold(&mut b, &mut rng, &id, &prices, 1e5);
                let ltv = rng.range(0.0, 0.6);
                let t = terms(&mut rng, v * ltv);
                b.lends(&lender, &id, t);
            }
            1 => {
                let mut x = Holder::new(
                    &id,
                    HolderKind::MarginCohort {
                        accounts: 1 + rng.below(10_000),
                        buckets: vec![
                            LtvBucket {
                                ltv: rng.range(0.0, 0.3),
                                share: 0.5,
                            },
                            LtvBucket {
                                ltv: rng.range(0.3, 0.6),
                                share: 0.5,
                            },
                        ],
                        cure_rate: cure(&mut rng, 0.3),
                    },
                );
                x.sale_order = order(&mut rng);
                b.add_holder(x);
                hold(&mut b, &mut rng, &id, &prices, 1e5);
                let t = terms(&mut rng, 0.0);
                b.lends(&lender, &id, t);
            }
            2 => {
                let rows = 1 + rng.below(40) as usize;
                let book = random_book(&mut rng, &prices, rows);
                let mut x = Holder::new(
                    &id,
                    HolderKind::AccountBook {
                        book: book.into(),
                        cure_rate: cure(&mut rng, 0.3),
                    },
                );
                x.sale_order = order(&mut rng);
                b.add_holder(x);
                let t = terms(&mut rng, 0.0);
                b.lends(&lender, &id, t);
            }
            3 | 4 => {
                let v = rng.range(1e4, 1e6);
                let cash = v * rng.range(0.0, 0.2);
                let lev = rng.range(1.5, 20.0);
                let total = v + cash;
                let debt = total - total / lev;
                let (rule, ratio) = match rng.below(5) {
                    0 => (
                        BalanceSheetRule::LeverageTarget {
                            target: lev * rng.range(1.01, 1.3),
                            symmetric: false,
                        },
                        None,
                    ),
                    1 => {
                        let max = lev * rng.range(1.01, 1.3);
                        let d = (rng.uniform() < 0.5).then(|| rng.range(0.3, 0.95) / max);
                        (
                            BalanceSheetRule::Threshold {
                                max,
                                target: max * 0.95,
                            },
                            d,
                        )
                    }
                    2 => (BalanceSheetRule::FailLiquidate, None),
                    3 => (
                        BalanceSheetRule::CapitalRatio {
                            min_ratio: rng.range(0.5, 0.99) / lev,
                        },
                        None,
                    ),
                    _ => (BalanceSheetRule::Passive, None),
                };
                let mut x = Holder::new(
                    &id,
                    if rng.uniform() < 0.5 {
                        HolderKind::Bank { rule }
                    } else {
                        HolderKind::LeveragedFund { rule }
                    },
                );
                x.cash = cash;
                x.other_liabilities = debt;
                x.default_below_ratio = ratio;
                x.cash_use =
                    [CashUse::First, CashUse::ProRata, CashUse::Never][rng.below(3) as usize];
                x.sale_order = order(&mut rng);
                b.add_holder(x);
                let n = prices.len() as f64;
                for (k, p) in prices.iter().enumerate() {
                    b.holds(&id, &format!("a{k}"), v / n / p);
                }
            }
            5 => {
                let mut x = Holder::new(
                    &id,
                    HolderKind::Fund {
                        redemption_beta: rng.range(0.0, 3.0),
                    },
                );
                x.cash = rng.range(0.0, 1e4);
                x.sale_order = order(&mut rng);
                b.add_holder(x);
                hold(&mut b, &mut rng, &id, &prices, 1e5);
            }
            _ => {
                let multiple = [2.0, 3.0, -1.0, -2.0, -3.0][rng.below(5) as usize];
                let w = 1.0 / n_assets as f64;
                b.add_holder(Holder::new(
                    &id,
                    HolderKind::LeveragedEtf {
                        multiple,
                        nav: rng.range(1e4, 1e6),
                        basket: (0..n_assets).map(|k| (format!("a{k}"), w)).collect(),
                    },
                ));
            }
        }
    }
    if rng.uniform() < 0.5 {
        b.owes("L0", "L1", rng.range(0.0, 1e4));
    }
    b.build()
        .unwrap_or_else(|e| panic!("generator made an invalid network: {e}"))
}

fn market_shock(net: &Network, ret: f64) -> Vec<Shock> {
    (0..net.assets().len())
        .map(|k| Shock::AssetReturn {
            asset: AssetIx(k as u32),
            ret,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// For rules that only sell, the sequential mode never ends worse than the
    /// equilibrium's greatest fixed point: every price at or above it, and a total loss at
    /// or below it. (Each round's cumulative sales are at most what the memoryless rule asks
    /// for at that round's prices, because every earlier sale settled at a price at or
    /// above them; so by induction the sequential prices never pass the greatest fixed
    /// point. docs/model.md, "Sequential mode".)
    #[test]
    fn sequential_never_worse_than_greatest_fixed_point(seed in any::<u64>(), ret in -0.6f64..0.0) {
        let net = network(seed, SELL_ONLY);
        let shocks = market_shock(&net, ret);
        let e = run(&net, &shocks, &eq());
        let s = run(&net, &shocks, &seq());
        prop_assert_eq!(e.termination, Termination::Converged);
        prop_assert_eq!(s.termination, Termination::Converged);
        for (a, b) in s.assets.iter().zip(&e.assets) {
            prop_assert!(a.price_after >= b.price_after * (1.0 - 1e-9),
                "asset {:?}: sequential {} below equilibrium {}", a.asset, a.price_after, b.price_after);
        }
        let slack = 1e-9 * e.totals.total_loss_usd.abs().max(1.0);
        prop_assert!(s.totals.total_loss_usd <= e.totals.total_loss_usd + slack,
            "loss: sequential {} above equilibrium {}", s.totals.total_loss_usd, e.totals.total_loss_usd);
        prop_assert!(s.totals.defaults <= e.totals.defaults);
    }

    /// Every holder kind runs in the sequential mode: it terminates, prices stay finite and
    /// above the floor, no holder sells more than it holds, the ledger adds up to the asset
    /// totals, and a zero shock is quiet.
    #[test]
    fn every_kind_runs_sequentially(seed in any::<u64>(), ret in -0.6f64..0.2) {
        let net = network(seed, ALL);
        let (out, ledger) = run_ledger(&net, &market_shock(&net, ret), &seq());
        prop_assert!(out.rounds >= 1);
        let mut per_asset = vec![0.0; net.assets().len()];
        for (h, l) in out.holders.iter().zip(&ledger.holders) {
            prop_assert!(h.equity_after.is_finite() && h.sales_usd.is_finite());
            let etf = matches!(net.holders()[h.holder.get()].kind, HolderKind::LeveragedEtf { .. });
            for pos in &l.positions {
                per_asset[pos.asset.get()] += pos.sold_shares;
                if !etf {
                    let eps = 1e-9 * pos.initial_shares.abs().max(1e-12);
                    prop_assert!(pos.sold_shares >= -eps && pos.kept_shares >= -eps,
                        "{:?}", pos);
                }
            }
        }
        for (a, s) in out.assets.iter().zip(&per_asset) {
            prop_assert!(a.price_after.is_finite() && a.price_after >= a.price_before * PRICE_FLOOR);
            prop_assert!((a.forced_sales_shares - s).abs() <= 1e-9 * s.abs().max(1.0));
        }
        let quiet = run(&net, &[], &seq());
        prop_assert_eq!(quiet.rounds, 1);
        prop_assert!(quiet.assets.iter().all(|a| a.forced_sales_shares == 0.0));
        prop_assert!(quiet.holders.iter().all(|h| h.status == Status::Unaffected));
    }

    /// Identical results at 1, 2 and 8 threads, to the bit.
    #[test]
    fn sequential_thread_count_does_not_matter(seed in any::<u64>(), ret in -0.6f64..0.0) {
        let net = network(seed, ALL);
        let shocks = market_shock(&net, ret);
        let one = in_pool(1, &net, &shocks);
        prop_assert_eq!(&one, &in_pool(2, &net, &shocks));
        prop_assert_eq!(&one, &in_pool(8, &net, &shocks));
    }
}

fn in_pool(threads: usize, net: &Network, shocks: &[Shock]) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(|| format!("{:?}", run_ledger(net, shocks, &seq())))
}

/// A book of many chunks (≈ 3 × `CHUNK_ROWS` rows) settles identically on any thread
/// count, round after round.
#[test]
fn big_book_is_bit_identical_across_threads_sequentially() {
    let spec = MarketSpec {
        accounts: 3 * delever_engine::CHUNK_ROWS + 123,
        assets: 20,
        ..MarketSpec::new(0)
    };
    let net = market(&spec).expect("valid");
    let shocks = [Shock::Market {
        ret: -0.3,
        tag: None,
    }];
    let one = in_pool(1, &net, &shocks);
    assert!(one.contains("Sequential"));
    assert_eq!(one, in_pool(2, &net, &shocks));
    assert_eq!(one, in_pool(8, &net, &shocks));
    let out = run(&net, &shocks, &seq());
    assert!(
        out.rounds > 2,
        "a cascade over several rounds: {}",
        out.rounds
    );
    assert!(out.totals.margin_calls > 0);
}

/// X (price 1, ℓ = 1e-3) and Y (price 1, ℓ = 2e-3); lender L (capital 10, tightens by 0.2
/// past losses of 1). A: margin account on L, 100 X, loan 60, maintenance 0.45, reset 0.5,
/// half of every call met with cash. B: margin account on L, 100 Y, loan 75, maintenance
/// 0.1. C: fail-and-liquidate bank, 100 Y, liabilities 95.
fn cure_and_tightening() -> Network {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 1.0, ImpactLaw::Linear { per_usd: 1e-3 }));
    b.add_asset(asset("Y", 1.0, ImpactLaw::Linear { per_usd: 2e-3 }));
    let mut l = Lender::new("L", 10.0);
    l.tighten_trigger = Some(0.1);
    l.tighten_by = 0.2;
    b.add_lender(l);
    b.add_holder(Holder::new(
        "A",
        HolderKind::MarginAccount { cure_rate: 0.5 },
    ));
    b.holds("A", "X", 100.0);
    b.lends(
        "L",
        "A",
        MarginTerms {
            loan: 60.0,
            maintenance: 0.45,
            reset: 0.5,
        },
    );
    b.add_holder(Holder::new(
        "B",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("B", "Y", 100.0);
    b.lends(
        "L",
        "B",
        MarginTerms {
            loan: 75.0,
            maintenance: 0.1,
            reset: 0.1,
        },
    );
    b.add_holder(bank("C", BalanceSheetRule::FailLiquidate, 0.0, 0.0, 95.0));
    b.holds("C", "Y", 100.0);
    b.build().expect("valid")
}

// ---------------------------------------------------------------- where it can be worse

/// An inverse ETF rebalances every round, each time on its *current* NAV, which grows as
/// prices fall (and gains from selling above the round's final price): the rounds add up
/// to more selling than the equilibrium's single rebalance sized on the starting NAV.
///
/// X: price 100, 1e8 shares, linear ℓ = 1e-10 per dollar; a −3× fund with NAV 1e8 (short
/// 3e6 X); X falls 10%: p_s = 90.
/// Round 1 at 90: NAV 1e8·(1 + 0.3) = 1.3e8; exposure −2.7e8 against a target of
/// −3.9e8: it sells 1.2e8 (1,333,333 X). p_1 = 90·(1 − 1e-10 × 1.3333e8) = 88.8.
/// Round 2 at 88.8: NAV 1.3e8 + 3e6 × 1.2 (the short's gain) + 1,333,333 × (89.4 − 88.8)
/// (sold above p_1) = 1.344e8; exposure −4.3333e6 × 88.8 = −3.848e8 against −4.032e8: it
/// sells 1.84e7 more (207,207 X), p_2 = 88.6135 — already below where the first round's
/// rebalance alone would leave it, and the rounds go on to 88.5720.
/// The equilibrium: one rebalance of 12·r·NAV0 at the final return, p = 88.6120.
/// A 3× bull fund is the mirror image: its NAV shrinks as prices fall, so the rounds sell
/// less than the single rebalance (89.3641 against 89.3568).
#[test]
fn inverse_etf_can_end_worse() {
    for (l, seq_p, eq_p) in [
        (-3.0, 88.571_995, 88.612_040),
        (3.0, 89.364_092, 89.356_812),
    ] {
        let mut b = NetworkBuilder::new();
        let mut x = asset("X", 100.0, ImpactLaw::Linear { per_usd: 1e-10 });
        x.shares_outstanding = 1e8;
        b.add_asset(x);
        b.add_holder(Holder::new(
            "etf",
            HolderKind::LeveragedEtf {
                multiple: l,
                nav: 1e8,
                basket: vec![("X".into(), 1.0)],
            },
        ));
        let net = b.build().expect("valid");
        let e = run(&net, &[hit(0, -0.10)], &eq());
        let s = run(&net, &[hit(0, -0.10)], &seq());
        assert_eq!(s.termination, Termination::Converged);
        assert!(
            close(e.assets[0].price_after, eq_p, 1e-7),
            "{l}: {}",
            e.assets[0].price_after
        );
        assert!(
            close(s.assets[0].price_after, seq_p, 1e-7),
            "{l}: {}",
            s.assets[0].price_after
        );
        if l < 0.0 {
            assert!(close(s.trace[0].prices[0], 88.8, 1e-12));
            assert!(close(s.trace[1].prices[0], 88.613_513_513_5, 1e-10));
            assert!(s.assets[0].price_after < e.assets[0].price_after);
        } else {
            assert!(s.assets[0].price_after > e.assets[0].price_after);
        }
    }
}

/// A margin call met partly with cash (cure rate φ = ½), and the lender tightening
/// between two calls: each call is split into sales and a deposit on its own, so two calls
/// (the second under tighter terms) sell more than one call under the final terms.
/// (`cure_and_tightening` describes the network.) X and Y fall 10%.
///
/// Round 1: C is insolvent (V = 90 < 95) and sells its 100 Y: p_Y = 0.9·(1 − 0.2) = 0.72.
/// A (V = 90, E = 30, 33% < 45%) is called under the loose terms: it needs
/// y = 90 − 30/0.5 = 30, sells half (15, 16.667 X) and deposits ½·(0.5·90 − 30) = 7.5;
/// p_X = 0.9·(1 − 0.016667) = 0.885.
/// Round 2: B (72 of Y against a loan of 75) defaults; L's loss passes its trigger and it
/// tightens to 0.65 / 0.7. A, at 49% after round 1, is called again: y = 73.75 − 36.125/0.7
/// = 22.143; it sells half (12.51 X) and deposits 7.75. p_X = 0.87374.
/// In all A sells 29.18 X. The equilibrium makes one call at the final prices under the
/// tight terms: ½·(V − E/0.7) = 27.54 X, p_X = 0.87521.
#[test]
fn cure_rate_with_tightening_can_end_worse() {
    let net = cure_and_tightening();
    let shocks = [hit(0, -0.10), hit(1, -0.10)];
    let e = run(&net, &shocks, &eq());
    let s = run(&net, &shocks, &seq());
    assert!(close(s.trace[0].prices[0], 0.885, 1e-12));
    assert!(close(s.assets[0].forced_sales_shares, 29.176_755, 1e-6));
    assert!(close(e.assets[0].forced_sales_shares, 27.538_994, 1e-6));
    assert!(s.assets[0].price_after < e.assets[0].price_after);
    assert!(s.lenders[0].tightened && e.lenders[0].tightened);
    // Y ends where both liquidations put it in either mode.
    assert!(close(s.assets[1].price_after, 0.54, 1e-12));
    assert!(close(e.assets[1].price_after, 0.54, 1e-12));
    // Without the cure rate the sequential mode is not worse.
    let mut b = NetworkBuilder::new();
    for a in net.assets() {
        b.add_asset(a.clone());
    }
    b.add_lender(net.lenders()[0].clone());
    for (i, h) in net.holders().iter().enumerate() {
        let mut h = h.clone();
        if let HolderKind::MarginAccount { cure_rate } = &mut h.kind {
            *cure_rate = 0.0;
        }
        b.add_holder(h.clone());
        let hx = delever_graph::HolderIx(i as u32);
        for (a, shares) in net.holdings(hx) {
            b.holds(&h.id, &net.asset(a).id, shares);
        }
        if let Some(m) = net.margin(hx) {
            b.lends("L", &h.id, m.terms);
        }
    }
    let net = b.build().expect("valid");
    let e = run(&net, &shocks, &eq());
    let s = run(&net, &shocks, &seq());
    assert!(s.assets[0].price_after >= e.assets[0].price_after);
}

/// Most-liquid-first sales: which positions a holder empties depends on the prices of the
/// round it sells in, so a different price path can leave a different mix; here a
/// leveraged fund ends up selling a little more of its least liquid asset than at the
/// equilibrium (a case proptest found; the network is `network(seed, …)` above).
#[test]
fn most_liquid_first_can_end_worse() {
    let mix = Mix {
        etfs: false,
        most_liquid: true,
        cures: false,
    };
    let net = network(4_367_353_690_654_458_609, mix);
    let shocks = market_shock(&net, -0.066_563_361_255_510_06);
    let e = run(&net, &shocks, &eq());
    let s = run(&net, &shocks, &seq());
    assert!(s.assets[0].price_after < e.assets[0].price_after * (1.0 - 1e-7));
    // …while the sequential mode's total loss is still the smaller.
    assert!(s.totals.total_loss_usd < e.totals.total_loss_usd);
}
