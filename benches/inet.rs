//! The delever side of the whole-process comparison with INET Oxford's fire-sale stress
//! test (issue 15): `N` leverage-ratio banks resampled from the 48 EBA 2018 banks of
//! `scenarios/eba-2018-leverage.yaml`, written as a YAML scenario, then loaded from that
//! text (as a user's file would be) and run to its end, at 1,000, 10,000 and 100,000 banks.
//!
//! The banks are built from `scenarios/data/eba-2018.csv` with the scenario's formulas
//! (total assets = CET1 / leverage ratio, cash 5% of assets, government bonds as
//! published, corporate bonds = debt securities − government bonds, other assets the
//! rest, liabilities = assets − CET1), insolvent below a 3% leverage ratio, acting below
//! 4% and back to 5%. Government bonds fall 10%; exponential impact, 1% per 5% of a class
//! sold; sequential rounds in INET's settlement timing (`at_next_decision`), cut at 5
//! rounds as the scenario's `gov-10pct-impact1-inet-5rounds` variant is (INET's fixed 6
//! steps clear 5 times). Bank `k` is EBA bank `Lcg(2018)`'s `k`-th draw modulo 48 — the
//! same draws as the Python driver that times INET's code (docs/performance.md).
//!
//! Before timing, the bench checks the generator: with the identity resampling (the 48
//! banks in table order) it reproduces the shipped variant's result exactly, and at every
//! `N` the first-round loss is the shock times the resampled government bonds.
//!
//! Run: `cargo bench --bench inet` (about a minute and a half; with
//! `DELEVER_INET_YAML_DIR=/some/dir` it also writes the three scenarios there, for
//! `delever run` under `/usr/bin/time`). Figures in
//! docs/performance.md, "Against INET Oxford's fire-sale stress test".

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

mod common;
use common::Lcg;
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use delever_engine::Outcome;
use delever_scenario::Scenario;

const CSV: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/data/eba-2018.csv");
const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/eba-2018-leverage.yaml"
);
const VARIANT: &str = "gov-10pct-impact1-inet-5rounds";
/// Cash as a fraction of total assets, as in the scenario.
const CASH_SHARE: f64 = 0.05;
/// The shock to government bonds.
const SHOCK: f64 = -0.10;
/// `-ln(1 - 1%) / 5%`: selling 5% of a class moves its price by 1%.
const ALPHA: f64 = 0.201_006_717_070_029;
/// The seed of the resampling draws (the Python driver uses the same).
const SEED: u64 = 2018;

/// One EBA bank's balance sheet, EUR.
#[derive(Debug, Clone)]
struct Bank {
    id: String,
    cash: f64,
    gov: f64,
    corp: f64,
    other: f64,
    liabilities: f64,
}

/// The 48 banks of the cleaned CSV, with the scenario's formulas.
fn eba_banks() -> Vec<Bank> {
    let text = std::fs::read_to_string(CSV).unwrap_or_else(|e| panic!("{CSV}: {e}"));
    let m = 1e6;
    let banks: Vec<Bank> = text
        .lines()
        .skip(1)
        .enumerate()
        .map(|(i, line)| {
            let f: Vec<&str> = line.split(',').collect();
            let num = |k: usize| -> f64 {
                f.get(k)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("{CSV}:{}: field {} is not a number", i + 2, k + 1))
            };
            let (equity, leverage_pct, debt_sec, gov) =
                (num(1) * m, num(2), num(3) * m, num(4) * m);
            let assets = equity / (leverage_pct / 100.0);
            let cash = CASH_SHARE * assets;
            Bank {
                id: f.first().map_or_else(String::new, |s| (*s).to_owned()),
                cash,
                gov,
                corp: debt_sec - gov,
                other: assets - cash - debt_sec,
                liabilities: assets - equity,
            }
        })
        .collect();
    assert_eq!(banks.len(), 48, "the EBA 2018 sample has 48 banks");
    banks
}

/// `n` draws (with replacement) of an EBA bank.
fn resample(n: usize, of: usize) -> Vec<usize> {
    let mut rng = Lcg(SEED);
    (0..n)
        .map(|_| usize::try_from(rng.next() % of as u64).expect("an index below 48"))
        .collect()
}

/// The scenario's top (assets and their impact) for the banks `pick`.
fn scenario_head(banks: &[Bank], pick: &[usize]) -> String {
    let total_gov: f64 = pick.iter().map(|&i| banks[i].gov).sum();
    let total_corp: f64 = pick.iter().map(|&i| banks[i].corp).sum();
    format!(
        "name: eba-resampled-{}\n\
         description: {} banks resampled from the EBA 2018 banks, for the INET comparison bench.\n\
         as_of: 2018-11-02\n\
         defaults:\n  impact: {{ law: exponential, alpha: {ALPHA} }}\n\
         assets:\n  - {{ id: GOV, price: 1.0, shares_outstanding: {total_gov:e}, tags: [bonds] }}\n  \
         - {{ id: CORP, price: 1.0, shares_outstanding: {total_corp:e}, tags: [bonds] }}\n",
        pick.len(),
        pick.len()
    )
}

/// The scenario's shock and engine.
const SCENARIO_TAIL: &str = "shocks:\n  - { type: asset, asset: GOV, return: -0.1 }\n\
     engine: { mode: sequential, settlement: at_next_decision, max_rounds: 5 }\n";

/// Bank `k`'s id: the identity resampling keeps the EBA ids, so its report reads like the
/// shipped one.
fn bank_id(banks: &[Bank], pick: &[usize], k: usize) -> String {
    let i = pick[k];
    if pick.len() == banks.len() && i == k {
        banks[i].id.clone()
    } else {
        format!("{}-{k}", banks[i].id)
    }
}

/// The bank's positions: government and corporate bonds, where it has any.
fn positions(b: &Bank) -> impl Iterator<Item = (&'static str, f64)> {
    [("GOV", b.gov), ("CORP", b.corp)]
        .into_iter()
        .filter(|&(_, usd)| usd > 0.0)
}

/// The scenario of the banks `pick` (indices into `banks`) as YAML text.
fn scenario_yaml(banks: &[Bank], pick: &[usize]) -> String {
    let mut t = String::with_capacity(pick.len() * 330 + 1024);
    t.push_str(&scenario_head(banks, pick));
    t.push_str("holders:\n");
    for (k, &i) in pick.iter().enumerate() {
        let b = &banks[i];
        let holdings: Vec<String> = positions(b)
            .map(|(asset, usd)| format!("{{ asset: {asset}, usd: {usd:e} }}"))
            .collect();
        let _ = writeln!(
            t,
            "  - {{ id: {}, kind: bank, cash: {:e}, other_assets: {:e}, other_liabilities: {:e}, holdings: [{}], default_below_ratio: 0.03, rule: {{ type: threshold, max: 25, target: 20 }} }}",
            bank_id(banks, pick, k),
            b.cash,
            b.other,
            b.liabilities,
            holdings.join(", ")
        );
    }
    t.push_str(SCENARIO_TAIL);
    t
}

/// The same scenario with its banks in holder tables (`banks.csv`, `holdings.csv`, the
/// format a risk team's positions export would have), written into `dir`; returns the
/// scenario's path.
fn scenario_tables(banks: &[Bank], pick: &[usize], dir: &std::path::Path) -> std::path::PathBuf {
    let mut holders = String::from(
        "id,kind,cash,other_assets,other_liabilities,default_below_ratio,rule,rule_max,rule_target\n",
    );
    let mut holdings = String::from("holder,asset,usd\n");
    for (k, &i) in pick.iter().enumerate() {
        let b = &banks[i];
        let id = bank_id(banks, pick, k);
        let _ = writeln!(
            holders,
            "{id},bank,{:e},{:e},{:e},0.03,threshold,25,20",
            b.cash, b.other, b.liabilities
        );
        for (asset, usd) in positions(b) {
            let _ = writeln!(holdings, "{id},{asset},{usd:e}");
        }
    }
    let name = format!("eba-resampled-{}", pick.len());
    let yaml = format!(
        "{}holder_tables:\n  - {{ holders_csv: {name}-banks.csv, holdings_csv: {name}-holdings.csv }}\n{SCENARIO_TAIL}",
        scenario_head(banks, pick)
    );
    let write = |file: String, text: &str| {
        let path = dir.join(file);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    };
    write(format!("{name}-banks.csv"), &holders);
    write(format!("{name}-holdings.csv"), &holdings);
    write(format!("{name}.yaml"), &yaml)
}

/// What the bench times: load the scenario from its text, run it to its end.
fn load_and_run(text: &str) -> Outcome {
    let s = Scenario::from_yaml(text, "eba-resampled.yaml", None).unwrap_or_else(|e| panic!("{e}"));
    delever_engine::run(&s.network, &s.shocks, &s.engine).unwrap_or_else(|e| panic!("{e}"))
}

/// The same from a scenario file whose banks are in holder tables.
fn load_tables_and_run(path: &std::path::Path) -> Outcome {
    let s = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    delever_engine::run(&s.network, &s.shocks, &s.engine).unwrap_or_else(|e| panic!("{e}"))
}

/// Two outcomes are the same run: rounds, defaults, losses, sales and prices, bit for bit.
fn assert_same(got: &Outcome, want: &Outcome) {
    assert_eq!(got.termination, want.termination);
    assert_eq!(got.rounds, want.rounds);
    assert_eq!(got.totals.defaults, want.totals.defaults);
    assert_eq!(
        got.totals.total_loss_usd.to_bits(),
        want.totals.total_loss_usd.to_bits()
    );
    assert_eq!(
        got.totals.forced_sales_usd.to_bits(),
        want.totals.forced_sales_usd.to_bits()
    );
    for (g, w) in got.assets.iter().zip(&want.assets) {
        assert_eq!(g.price_after.to_bits(), w.price_after.to_bits());
    }
}

/// The generator is the scenario's: the identity resampling gives the shipped variant's
/// outcome, number for number.
fn check_identity(banks: &[Bank]) {
    let shipped = Scenario::load(std::path::Path::new(SCENARIO)).unwrap_or_else(|e| panic!("{e}"));
    let v = shipped
        .find_variant(VARIANT)
        .unwrap_or_else(|| panic!("{SCENARIO} has no variant {VARIANT}"));
    let s = shipped.variant(v).unwrap_or_else(|e| panic!("{e}"));
    let want =
        delever_engine::run(&s.network, &s.shocks, &s.engine).unwrap_or_else(|e| panic!("{e}"));
    let identity: Vec<usize> = (0..banks.len()).collect();
    let got = load_and_run(&scenario_yaml(banks, &identity));
    assert_same(&got, &want);
    // The variant's pinned figures (scenarios/eba-2018-leverage.yaml), as a second anchor.
    assert_eq!(got.totals.defaults, 2);
    assert!((got.assets[0].drawdown - -0.240_283_081_2).abs() < 1e-9);
}

/// At `n` banks: the first-round loss is 10% of the resampled government bonds (prices
/// are 1), so the generator's totals follow the draws.
fn check_scaled(banks: &[Bank], pick: &[usize], o: &Outcome) {
    let gov: f64 = pick.iter().map(|&i| banks[i].gov).sum();
    let want = -SHOCK * gov;
    assert!(
        (o.totals.initial_loss_usd - want).abs() <= 1e-9 * want,
        "initial loss {} against {want}",
        o.totals.initial_loss_usd
    );
    assert_eq!(o.holders.len(), pick.len());
}

fn inet(c: &mut Criterion) {
    let banks = eba_banks();
    check_identity(&banks);
    // The holder tables' files, removed at the end.
    let dir = std::env::temp_dir().join(format!("delever-inet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut group = c.benchmark_group("inet");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    for n in [1_000, 10_000, 100_000] {
        let pick = resample(n, banks.len());
        let text = scenario_yaml(&banks, &pick);
        let t = Instant::now();
        let o = load_and_run(&text);
        let once = t.elapsed();
        check_scaled(&banks, &pick, &o);
        let tables = scenario_tables(&banks, &pick, &dir);
        let t = Instant::now();
        assert_same(&load_tables_and_run(&tables), &o);
        let once_tables = t.elapsed();
        // For timing `delever run` on the same files outside criterion (CPU time).
        if let Some(out) = std::env::var_os("DELEVER_INET_YAML_DIR") {
            let out = std::path::Path::new(&out);
            let path = out.join(format!("eba-resampled-{n}.yaml"));
            std::fs::write(&path, &text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let tables_dir = out.join("tables");
            std::fs::create_dir_all(&tables_dir)
                .unwrap_or_else(|e| panic!("{}: {e}", tables_dir.display()));
            scenario_tables(&banks, &pick, &tables_dir);
        }
        eprintln!(
            "inet/{n}: one load + run {once:.2?} (from holder tables {once_tables:.2?}); {} rounds, {} defaults, GOV {:.4} CORP {:.4}, forced sales {:.4e}",
            o.rounds,
            o.totals.defaults,
            o.assets[0].price_after,
            o.assets[1].price_after,
            o.totals.forced_sales_usd
        );
        // Ten flat samples; the 100,000-bank YAML run takes about a second each.
        group.measurement_time(Duration::from_secs(if n >= 100_000 { 20 } else { 5 }));
        group.bench_function(format!("load_and_run_{n}_banks"), |b| {
            b.iter(|| black_box(load_and_run(&text).totals.defaults));
        });
        group.measurement_time(Duration::from_secs(if n >= 100_000 { 8 } else { 3 }));
        group.bench_function(format!("load_tables_and_run_{n}_banks"), |b| {
            b.iter(|| black_box(load_tables_and_run(&tables).totals.defaults));
        });
        // The engine alone, on the loaded network: what INET's `run_schedule` is set against.
        let loaded = Scenario::load(&tables).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(format!("run_only_{n}_banks"), |b| {
            b.iter(|| {
                black_box(
                    delever_engine::run(&loaded.network, &loaded.shocks, &loaded.engine)
                        .unwrap_or_else(|e| panic!("{e}"))
                        .totals
                        .defaults,
                )
            });
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, inet);
criterion_main!(benches);
