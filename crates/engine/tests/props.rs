//! Property tests on random small networks (a deterministic generator driven by a seed
//! that proptest picks), and thread-count determinism.

mod common;

use common::{asset, cfg, hold, law, random_book, terms};
use delever_engine::synth::{MarketSpec, Rng, market};
use delever_engine::{EngineConfig, Outcome, PRICE_FLOOR, Shock, Status, Termination};
use delever_graph::{
    AssetIx, BalanceSheetRule, CashUse, Holder, HolderKind, Lender, LtvBucket, Network,
    NetworkBuilder, SaleOrder,
};
use proptest::prelude::*;

// One arm per holder kind: the generator reads best as one table of cases.
#[allow(clippy::too_many_lines)]
/// A random network that is quiet at zero shock: every rule has headroom at pre-shock
/// prices, and nothing buys.
fn network(seed: u64) -> Network {
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
    let holders = 1 + rng.below(6);
    for h in 0..holders {
        let id = format!("h{h}");
        let lender = format!("L{}", rng.below(2));
        let kind = rng.below(7);
        match kind {
            0 => {
                b.add_holder(Holder::new(
                    &id,
                    HolderKind::MarginAccount {
                        cure_rate: rng.range(0.0, 0.5),
                    },
                ));
                let v = hold(&mut b, &mut rng, &id, &prices, 1e5);
                let ltv = rng.range(0.0, 0.6);
                let t = terms(&mut rng, v * ltv);
                b.lends(&lender, &id, t);
            }
            1 => {
                b.add_holder(Holder::new(
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
                        cure_rate: rng.range(0.0, 0.3),
                    },
                ));
                hold(&mut b, &mut rng, &id, &prices, 1e5);
                let t = terms(&mut rng, 0.0);
                b.lends(&lender, &id, t);
            }
            2 => {
                let rows = 1 + rng.below(40) as usize;
                let book = random_book(&mut rng, &prices, rows);
                let mut holder = Holder::new(
                    &id,
                    HolderKind::AccountBook {
                        book: book.into(),
                        cure_rate: rng.range(0.0, 0.3),
                    },
                );
                if rng.uniform() < 0.5 {
                    holder.sale_order = SaleOrder::MostLiquidFirst;
                }
                b.add_holder(holder);
                let t = terms(&mut rng, 0.0);
                b.lends(&lender, &id, t);
            }
            3 => {
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
            4 | 5 => {
                let v = rng.range(1e4, 1e6);
                let cash = v * rng.range(0.0, 0.2);
                let lev = rng.range(1.5, 20.0);
                let assets = v + cash;
                let debt = assets - assets / lev;
                let rule = match rng.below(5) {
                    0 => BalanceSheetRule::LeverageTarget {
                        target: lev * rng.range(1.01, 1.3),
                        symmetric: false,
                    },
                    1 => {
                        let max = lev * rng.range(1.01, 1.3);
                        BalanceSheetRule::Threshold {
                            max,
                            target: max * 0.95,
                        }
                    }
                    2 => BalanceSheetRule::FailLiquidate,
                    3 => BalanceSheetRule::CapitalRatio {
                        min_ratio: rng.range(0.5, 0.99) / lev,
                    },
                    _ => BalanceSheetRule::Passive,
                };
                let mut holder = Holder::new(
                    &id,
                    if kind == 4 {
                        HolderKind::Bank { rule }
                    } else {
                        HolderKind::LeveragedFund { rule }
                    },
                );
                holder.cash = cash;
                holder.other_liabilities = debt;
                holder.cash_use =
                    [CashUse::First, CashUse::ProRata, CashUse::Never][rng.below(3) as usize];
                if rng.uniform() < 0.3 {
                    holder.sale_order = SaleOrder::MostLiquidFirst;
                }
                b.add_holder(holder);
                // Holdings worth v in all.
                let n = prices.len() as f64;
                for (k, p) in prices.iter().enumerate() {
                    b.holds(&id, &format!("a{k}"), v / n / p);
                }
            }
            _ => {
                let mut holder = Holder::new(
                    &id,
                    HolderKind::Fund {
                        redemption_beta: rng.range(0.0, 3.0),
                    },
                );
                holder.cash = rng.range(0.0, 1e4);
                b.add_holder(holder);
                hold(&mut b, &mut rng, &id, &prices, 1e5);
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

fn converged(net: &Network, shocks: &[Shock]) -> (Outcome, delever_engine::Ledger) {
    let (out, ledger) = common::run_ledger(net, shocks, &cfg());
    assert_eq!(out.termination, Termination::Converged);
    (out, ledger)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Zero shock: nobody sells, one round, everybody unaffected; the least fixed point is
    /// below the greatest.
    #[test]
    fn zero_shock_is_quiet(seed in any::<u64>()) {
        let net = network(seed);
        let out = common::run(&net, &[], &EngineConfig::default());
        prop_assert_eq!(out.rounds, 1);
        prop_assert_eq!(out.termination, Termination::Converged);
        prop_assert!(out.assets.iter().all(|a| a.forced_sales_shares == 0.0));
        prop_assert!(out.holders.iter().all(|h| h.status == Status::Unaffected));
        prop_assert_eq!(out.totals.defaults, 0);
        // The least fixed point may differ (an all-liquidated state can be self-fulfilling),
        // but never lies above the greatest one.
        let least = out.least.expect("asked for");
        for (l, a) in least.prices.iter().zip(&out.assets) {
            prop_assert!(*l <= a.price_after * (1.0 + 1e-9));
        }
    }

    /// A larger shock never gives less selling (per asset) or fewer calls and defaults.
    #[test]
    fn larger_shock_never_sells_less(seed in any::<u64>(), ret in -0.5f64..0.0, k in 1.0f64..2.0) {
        let net = network(seed);
        let (small, _) = converged(&net, &market_shock(&net, ret));
        let (big, _) = converged(&net, &market_shock(&net, (ret * k).max(-1.0)));
        for (s, b) in small.assets.iter().zip(&big.assets) {
            let slack = 1e-6 * s.forced_sales_shares.abs().max(1.0);
            prop_assert!(b.forced_sales_shares + slack >= s.forced_sales_shares,
                "asset {:?}: {} < {}", s.asset, b.forced_sales_shares, s.forced_sales_shares);
            prop_assert!(b.price_after <= s.price_after * (1.0 + 1e-8));
        }
        prop_assert!(big.totals.defaults >= small.totals.defaults);
        prop_assert!(big.totals.margin_calls >= small.totals.margin_calls);
    }

    /// Shares and cash are conserved: no holder sells more than it holds or less than
    /// nothing; the ledger adds up to the asset totals; and the shares sold, valued at the
    /// final prices, raise what the rule asked for — repaid debt, paid-out redemptions and
    /// cash kept. Prices stay finite, at or above the floor and at or below the shocked
    /// prices.
    #[test]
    fn conservation_and_bounds(seed in any::<u64>(), ret in -0.6f64..0.0) {
        let net = network(seed);
        let (out, ledger) = converged(&net, &market_shock(&net, ret));
        let mut per_asset = vec![0.0; net.assets().len()];
        for (h, l) in out.holders.iter().zip(&ledger.holders) {
            let etf = matches!(net.holders()[h.holder.get()].kind, HolderKind::LeveragedEtf { .. });
            for pos in &l.positions {
                per_asset[pos.asset.get()] += pos.sold_shares;
                prop_assert_eq!(pos.kept_shares, pos.initial_shares - pos.sold_shares);
                if !etf {
                    let eps = 1e-9 * pos.initial_shares.abs().max(1e-12);
                    prop_assert!(pos.sold_shares >= -eps, "{} sold {}", h.holder.0, pos.sold_shares);
                    prop_assert!(pos.sold_shares <= pos.initial_shares + eps);
                }
            }
            if !etf {
                let uses = l.debt_repaid_usd + l.paid_out_usd + l.cash_kept_usd;
                prop_assert!((l.proceeds_usd - uses).abs() <= 1e-6 * uses.abs().max(1.0),
                    "holder {}: proceeds {} vs uses {}", h.holder.0, l.proceeds_usd, uses);
                prop_assert!(l.paid_out_usd >= 0.0 && l.cash_kept_usd >= -1e-9 * uses.abs().max(1.0));
            }
        }
        for (a, s) in out.assets.iter().zip(&per_asset) {
            prop_assert!((a.forced_sales_shares - s).abs() <= 1e-9 * s.abs().max(1.0));
            prop_assert!(a.price_after.is_finite());
            prop_assert!(a.price_after >= a.price_before * PRICE_FLOOR);
            prop_assert!(a.price_after <= a.price_shocked * (1.0 + 1e-12));
        }
    }

    /// Identical results at 1, 2 and 8 threads, to the bit.
    #[test]
    fn thread_count_does_not_matter(seed in any::<u64>(), ret in -0.6f64..0.0) {
        let net = network(seed);
        let shocks = market_shock(&net, ret);
        let runs: Vec<String> = [1, 2, 8].iter().map(|&t| in_pool(t, &net, &shocks)).collect();
        prop_assert_eq!(&runs[0], &runs[1]);
        prop_assert_eq!(&runs[0], &runs[2]);
    }
}

/// `Debug` prints every f64 in its shortest round-trip form, so equal strings mean equal
/// bits (and −0.0 prints differently from 0.0).
fn in_pool(threads: usize, net: &Network, shocks: &[Shock]) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("thread pool");
    pool.install(|| {
        let out = common::run(net, shocks, &EngineConfig::default());
        format!("{out:?}")
    })
}

/// A book of many chunks (≈ 3 × `CHUNK_ROWS` rows) reduces identically on any thread count.
#[test]
fn big_book_is_bit_identical_across_threads() {
    let spec = MarketSpec::new(3 * delever_engine::CHUNK_ROWS + 123);
    let net = market(&spec).expect("valid");
    let shocks = [Shock::Market {
        ret: -0.3,
        tag: None,
    }];
    let one = in_pool(1, &net, &shocks);
    assert!(
        one.contains("MarginCall"),
        "the shock must make the book sell"
    );
    assert_eq!(one, in_pool(2, &net, &shocks));
    assert_eq!(one, in_pool(8, &net, &shocks));
}
