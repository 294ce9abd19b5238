//! Sweep and Monte Carlo throughput on the default scenario
//! (`scenarios/semis-sentiment-reversal.yaml`), all cores: variants per second for a
//! 200-variant sweep of the shock size and the impact coefficient (each variant rebuilt
//! from the template, validated and run to its fixed point, least fixed point included),
//! and draws per second for 1,000 Student-t draws. Targets (issue 6): 10,000 variants a
//! minute and 100,000 draws in under a minute on 2 cores. Figures are in
//! `docs/performance.md`; CI only compiles this (`cargo bench --no-run`).

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use delever_batch::grid::{Grid, Vary};
use delever_batch::mc::Study;
use delever_batch::sweep::Sweep;
use delever_scenario::{Scenario, Template};

const DEFAULT: &str = "scenarios/semis-sentiment-reversal.yaml";

fn sweep(c: &mut Criterion) {
    let Ok(template) = Template::load(Path::new(DEFAULT)) else {
        eprintln!("{DEFAULT} does not load");
        return;
    };
    let (Ok(a), Ok(b)) = (
        Vary::parse("shocks[0].return=-0.05:-0.50:20"),
        Vary::parse("defaults.impact.y=0.5:1.5:10"),
    ) else {
        return;
    };
    let Ok(grid) = Grid::new(vec![a, b]) else {
        return;
    };
    let Ok(sweep) = Sweep::new(&template, &grid, None) else {
        eprintln!("the sweep's paths do not resolve in {DEFAULT}");
        return;
    };
    let mut g = c.benchmark_group("sweep");
    g.sample_size(10);
    g.throughput(Throughput::Elements(grid.len()));
    g.bench_function("default_scenario_200_variants", |bench| {
        bench.iter(|| black_box(sweep.run(0..grid.len(), &|| {})));
    });
    g.finish();
}

fn monte_carlo(c: &mut Criterion) {
    let Ok(scenario) = Scenario::load(Path::new(DEFAULT)) else {
        eprintln!("{DEFAULT} does not load");
        return;
    };
    let Ok(study) = Study::new(&scenario, None) else {
        eprintln!("{DEFAULT} has no monte_carlo: block");
        return;
    };
    let draws = 1_000;
    let mut g = c.benchmark_group("monte_carlo");
    g.sample_size(10);
    g.throughput(Throughput::Elements(draws));
    g.bench_function("default_scenario_1000_draws", |bench| {
        bench.iter(|| black_box(study.run(7, 0..draws, &|| {})));
    });
    g.finish();
}

criterion_group!(benches, sweep, monte_carlo);
criterion_main!(benches);
