//! `delever serve`'s latency: one re-solve per textbook scenario, as a slider move makes
//! it (the overrides applied to the loaded template, the run, the systemic metrics, the
//! JSON report and the HTML page of each equilibrium). Figures are in
//! `docs/performance.md`. CI only compiles this (`cargo bench --no-run`).

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use delever_cli::serve::{SolveRequest, catalog, solve};

const TEXTBOOK: [&str; 4] = [
    "cifuentes-shin-ferrucci",
    "caccioli-overlapping-portfolios",
    "glt-vulnerable-banks",
    "cont-schaanning-threshold",
];

fn benches(c: &mut Criterion) {
    let entries = match catalog(&[]) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("the shipped scenarios failed to load: {}", e.message);
            return;
        }
    };
    let mut g = c.benchmark_group("serve-resolve");
    g.sample_size(20);
    for name in TEXTBOOK {
        let Some(e) = entries.iter().find(|e| e.name == name) else {
            eprintln!("{name} is not offered");
            continue;
        };
        // A slider move: the first slider at its midpoint.
        let set = e
            .sliders
            .first()
            .map(|s| {
                let steps = ((s.max - s.min) / s.step / 2.0).round();
                vec![format!("{}={}", s.path, s.min + steps * s.step)]
            })
            .unwrap_or_default();
        let req = SolveRequest {
            scenario: Some(name.to_owned()),
            set,
            ..SolveRequest::default()
        };
        g.bench_function(name, |b| {
            b.iter(|| black_box(solve(&entries, &req).map(|s| s.html.len())));
        });
    }
    g.finish();
}

criterion_group!(serve, benches);
criterion_main!(serve);
