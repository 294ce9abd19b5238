//! Sweep instances of the default scenario: `Template::instantiate` alone, and with the
//! engine run a sweep does per instance (target: 10,000 a minute on 2 cores).

#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use delever_scenario::{FieldPath, OverrideValue, Template};

fn instances(c: &mut Criterion) {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/semis-sentiment-reversal.yaml");
    let t = Template::load(&file).expect("the default scenario loads");
    let overrides = |k: u32| {
        vec![
            (
                FieldPath::parse("shocks[0].return").expect("path"),
                OverrideValue::Number(-0.02 - 0.0001 * f64::from(k % 100)),
            ),
            (
                FieldPath::parse("holders[*].margin.maintenance").expect("path"),
                OverrideValue::Number(0.15),
            ),
        ]
    };
    let mut k = 0;
    c.bench_function("instantiate semis-sentiment-reversal", |b| {
        b.iter(|| {
            k += 1;
            black_box(t.instantiate(&overrides(k)).expect("valid"))
        });
    });
    c.bench_function("instantiate + run semis-sentiment-reversal", |b| {
        b.iter(|| {
            k += 1;
            let s = t.instantiate(&overrides(k)).expect("valid");
            black_box(delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs"))
        });
    });
}

criterion_group!(benches, instances);
criterion_main!(benches);
