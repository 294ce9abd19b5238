//! Shared fixtures for the engine's integration tests.
#![allow(dead_code)]

use delever_engine::synth::Rng;
use delever_engine::{EngineConfig, Ledger, Outcome, Shock, Silent};
use delever_graph::{AccountBook, Asset, AssetIx, ImpactLaw, MarginTerms, Network, NetworkBuilder};

/// An asset with the given price and impact law (ADV $1B, σ 2%, 1e9 shares).
pub fn asset(id: &str, price: f64, impact: ImpactLaw) -> Asset {
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
        decay: delever_graph::ImpactDecay::default(),
    }
}

/// No price impact.
pub const FLAT: ImpactLaw = ImpactLaw::Linear { per_usd: 0.0 };

/// Default settings without the least fixed point.
pub fn cfg() -> EngineConfig {
    EngineConfig {
        least_fixed_point: false,
        ..EngineConfig::default()
    }
}

/// A return shock on asset `k`.
pub fn hit(k: u32, ret: f64) -> Shock {
    Shock::AssetReturn {
        asset: AssetIx(k),
        ret,
    }
}

/// Run and unwrap (tests build valid shocks).
pub fn run(net: &Network, shocks: &[Shock], cfg: &EngineConfig) -> Outcome {
    delever_engine::run(net, shocks, cfg).expect("valid shocks")
}

/// Run with the ledger.
pub fn run_ledger(net: &Network, shocks: &[Shock], cfg: &EngineConfig) -> (Outcome, Ledger) {
    delever_engine::run_detailed(net, shocks, cfg, &mut Silent).expect("valid shocks")
}

/// Relative closeness.
pub fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// A random impact law, one of the four, with parameters in their usual ranges.
pub fn law(rng: &mut Rng) -> ImpactLaw {
    match rng.below(4) {
        0 => ImpactLaw::Linear {
            per_usd: rng.range(1e-6, 1e-4),
        },
        1 => ImpactLaw::Exponential {
            alpha: rng.range(0.5, 3.0),
        },
        2 => ImpactLaw::SquareRoot {
            y: rng.range(0.3, 1.5),
        },
        _ => ImpactLaw::ContSchaanning {
            c: 0.4,
            tau_days: rng.range(1.0, 20.0),
            floor: rng.range(0.2, 0.8),
        },
    }
}

/// Random margin terms on `loan`: maintenance 20–40%, reset up to 10 points above.
pub fn terms(rng: &mut Rng, loan: f64) -> MarginTerms {
    let m = rng.range(0.2, 0.4);
    MarginTerms {
        loan,
        maintenance: m,
        reset: m + rng.range(0.0, 0.1),
    }
}

/// Random holdings of about `usd` dollars in all on holder `id`; returns their value.
pub fn hold(b: &mut NetworkBuilder, rng: &mut Rng, id: &str, prices: &[f64], usd: f64) -> f64 {
    let mut value = 0.0;
    for (k, p) in prices.iter().enumerate() {
        if rng.uniform() < 0.7 || k == 0 {
            let v = usd * rng.range(0.1, 1.0);
            b.holds(id, &format!("a{k}"), v / p);
            value += v;
        }
    }
    value
}

/// A random account book of `rows` accounts over assets at `prices`: holdings of $100 to
/// $10,000 in about 60% of the assets, cash up to $100, loan-to-value up to 60%.
pub fn random_book(rng: &mut Rng, prices: &[f64], rows: usize) -> AccountBook {
    let mut book = AccountBook::default();
    book.row_ptr.push(0);
    for _ in 0..rows {
        let mut v = 0.0;
        for (k, p) in prices.iter().enumerate() {
            if rng.uniform() < 0.6 {
                let usd = rng.range(100.0, 10_000.0);
                book.assets.push(AssetIx(k as u32));
                book.shares.push(usd / p);
                v += usd;
            }
        }
        book.row_ptr.push(book.shares.len() as u64);
        book.cash.push(rng.range(0.0, 100.0));
        book.loan.push(v * rng.range(0.0, 0.6));
    }
    book
}
