//! `delever rank`'s work: the systemic metrics of a run (GLT vulnerability, DebtRank and
//! one counterfactual run per holder that sold), on the default scenario and on a
//! 1,000-bank Caccioli et al. system (mean diversification 5, leverage 20, one bank
//! failed). Figures are in `docs/performance.md`. CI only compiles this
//! (`cargo bench --no-run`).

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use delever_engine::{EngineConfig, Silent, run_detailed, systemic};
use delever_graph::Network;

fn rank(net: &Network, shocks: &[delever_engine::Shock], cfg: &EngineConfig) -> usize {
    let Ok((o, ledger)) = run_detailed(net, shocks, cfg, &mut Silent) else {
        return 0;
    };
    let v = systemic::vulnerability(net, shocks, cfg, &o, &ledger);
    let d = systemic::debtrank(net, &o);
    let c = systemic::contributions(net, shocks, cfg, &o).map_or(0, |c| c.len());
    c + usize::from(v.is_some()) + usize::from(d.is_some())
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("rank");
    g.sample_size(10);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/semis-sentiment-reversal.yaml"
    );
    match delever_scenario::Scenario::load(std::path::Path::new(path)) {
        Ok(s) => {
            g.bench_function("default-scenario", |b| {
                b.iter(|| black_box(rank(&s.network, &s.shocks, &s.engine)));
            });
        }
        Err(e) => eprintln!("the default scenario failed to load: {e}"),
    }
    let params = delever_generate::caccioli::Params::default();
    match delever_generate::caccioli::generate(&params, "caccioli-1000") {
        Ok(sys) => {
            let cfg = EngineConfig {
                least_fixed_point: false,
                ..sys.engine.clone()
            };
            g.bench_function("caccioli-1000-banks", |b| {
                b.iter(|| black_box(rank(&sys.network, &sys.shocks, &cfg)));
            });
        }
        Err(e) => eprintln!("the Caccioli system failed to build: {e}"),
    }
    g.finish();
}

criterion_group!(systemic_benches, benches);
criterion_main!(systemic_benches);
