//! Engine benches on synthetic account books (`delever_engine::synth`): a full run to
//! convergence at 10 thousand and 1 million margin accounts (5 holdings each over 500
//! assets, plus ETFs, funds and lenders), and one round against a plain pass over the same
//! holdings arrays; a five-day timeline against one day. The 10-million case is measured by
//! `crates/engine/examples/scale.rs` (see `docs/performance.md`). CI only compiles this
//! (`cargo bench --no-run`).

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use delever_engine::synth::{MarketSpec, market};
use delever_engine::{EngineConfig, Mode, SalesMap, Shock, plain_value};
use delever_graph::HolderKind;

const SHOCK: f64 = -0.2;

fn shocks() -> [Shock; 1] {
    [Shock::Market {
        ret: SHOCK,
        tag: None,
    }]
}

fn converge(c: &mut Criterion) {
    let mut g = c.benchmark_group("converge");
    g.sample_size(10);
    for accounts in [10_000usize, 1_000_000] {
        let Ok(net) = market(&MarketSpec::new(accounts)) else {
            eprintln!("synthetic market of {accounts} accounts failed to build");
            continue;
        };
        let greatest = EngineConfig {
            least_fixed_point: false,
            ..EngineConfig::default()
        };
        g.bench_with_input(BenchmarkId::new("greatest", accounts), &net, |b, net| {
            b.iter(|| black_box(delever_engine::run(net, &shocks(), &greatest)));
        });
        g.bench_with_input(
            BenchmarkId::new("greatest+least", accounts),
            &net,
            |b, net| {
                b.iter(|| {
                    black_box(delever_engine::run(
                        net,
                        &shocks(),
                        &EngineConfig::default(),
                    ))
                });
            },
        );
    }
    g.finish();
}

fn round_vs_plain(c: &mut Criterion) {
    let mut g = c.benchmark_group("round");
    g.sample_size(20);
    for accounts in [10_000usize, 1_000_000] {
        let Ok(net) = market(&MarketSpec::new(accounts)) else {
            continue;
        };
        let Ok(mut map) = SalesMap::new(&net, &shocks()) else {
            continue;
        };
        let p = map.shocked_prices().to_vec();
        g.bench_function(BenchmarkId::new("one_round", accounts), |b| {
            b.iter(|| black_box(map.sales(black_box(&p))));
        });
        if let HolderKind::AccountBook { book, .. } = &net.holders()[0].kind {
            g.bench_function(BenchmarkId::new("plain_pass", accounts), |b| {
                b.iter(|| black_box(plain_value(book, black_box(&p))));
            });
        }
    }
    g.finish();
}

/// A timeline of five days against one day (and the equilibrium), at a million accounts:
/// each day's fixed point starts from the day's open, so later days cost a few rounds.
fn timeline(c: &mut Criterion) {
    let mut g = c.benchmark_group("timeline");
    g.sample_size(10);
    let accounts = 1_000_000usize;
    let Ok(net) = market(&MarketSpec::new(accounts)) else {
        return;
    };
    for days in [1u32, 5] {
        let cfg = EngineConfig {
            mode: Mode::Timeline,
            days,
            least_fixed_point: false,
            ..EngineConfig::default()
        };
        g.bench_with_input(
            BenchmarkId::new(format!("days={days}"), accounts),
            &net,
            |b, net| {
                b.iter(|| black_box(delever_engine::run(net, &shocks(), &cfg)));
            },
        );
    }
    g.finish();
}

criterion_group!(benches, converge, round_vs_plain, timeline);
criterion_main!(benches);
