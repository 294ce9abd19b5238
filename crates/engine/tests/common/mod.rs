//! Shared fixtures for the engine's integration tests.
#![allow(dead_code)]

use delever_engine::{EngineConfig, Ledger, Outcome, Shock, Silent};
use delever_graph::{Asset, AssetIx, ImpactLaw, Network};

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
