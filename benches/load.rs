//! Loading: `Scenario::load` on a scenario whose account book has 2 million accounts and
//! 10 million holdings rows (two CSV files, generated once in a temp dir), and
//! `Scenario::from_yaml` on YAML scenarios of 1,000, 10,000 and 100,000 banks with five
//! holdings each (issue 15: loading must stay linear in the holders).
//!
//! Group `formats`: the same generated retail book (`delever generate retail-book`,
//! 500,000 accounts, 2.5 million holdings) loaded from CSV (parsed on every core) and
//! from Parquet, about half a minute for the group.
//!
//! Group `holder_tables`: banks loaded from holder tables (CSV) at 10,000 and 100,000.
//!
//! Run: `cargo bench --bench load` (a few minutes; `-- yaml` for the YAML group only,
//! `-- formats` for CSV against Parquet, `-- holder_tables` for the holder tables).
//! Figures in docs/performance.md.

// `criterion_group!` defines an undocumented public function.
#![allow(missing_docs)]

mod common;
use common::Lcg;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use delever_scenario::Scenario;

const ACCOUNTS: usize = 2_000_000;
const HOLDINGS_PER_ACCOUNT: usize = 5;
const ASSETS: [(&str, f64); 8] = [
    ("NVDA", 200.0),
    ("AVGO", 383.0),
    ("TSM", 289.0),
    ("AMD", 216.0),
    ("MU", 536.0),
    ("SNDK", 507.0),
    ("ASML", 967.0),
    ("SOX-REST", 100.0),
];

fn write_book(dir: &Path) -> std::io::Result<()> {
    let mut acc = BufWriter::with_capacity(1 << 20, File::create(dir.join("accounts.csv"))?);
    let mut hold = BufWriter::with_capacity(1 << 20, File::create(dir.join("holdings.csv"))?);
    writeln!(acc, "account,cash,loan")?;
    writeln!(hold, "account,asset,shares")?;
    let mut rng = Lcg(42);
    for i in 0..ACCOUNTS {
        let mut value = 0.0;
        for k in 0..HOLDINGS_PER_ACCOUNT {
            let (asset, price) = ASSETS[(i + k * 3) % ASSETS.len()];
            let shares = 1 + rng.next() % 400;
            value += shares as f64 * price;
            writeln!(hold, "u{i},{asset},{shares}")?;
        }
        // Loan-to-value between 0 and 0.6: every account starts solvent.
        let ltv = (rng.next() % 60) as f64 / 100.0;
        let cash = rng.next() % 5_000;
        writeln!(acc, "u{i},{cash},{:.2}", value * ltv)?;
    }
    acc.flush()?;
    hold.flush()
}

fn write_scenario(dir: &Path) -> std::io::Result<PathBuf> {
    let mut text = String::from(
        "name: big-book\n\
         description: Two million margin accounts with ten million positions, for the load bench.\n\
         as_of: 2026-05-29\n\
         assets:\n",
    );
    for (id, price) in ASSETS {
        writeln!(
            text,
            "  - {{ id: {id}, price: {price}, shares_outstanding: 1.0e10, adv_usd: 1.0e10, daily_vol: 0.03 }}"
        )
        .expect("write to a string");
    }
    text.push_str(
        "lenders:\n  - { id: brokers, capital: 1.0e11 }\n\
         holders:\n  - id: retail\n    kind: account_book\n    accounts_csv: accounts.csv\n    holdings_csv: holdings.csv\n    margin: { lender: brokers, maintenance: 0.25, reset: 0.30 }\n\
         shocks:\n  - { type: asset, asset: NVDA, return: -0.10 }\n",
    );
    let path = dir.join("big-book.yaml");
    std::fs::write(&path, text)?;
    Ok(path)
}

fn setup() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "delever-load-bench-{ACCOUNTS}x{HOLDINGS_PER_ACCOUNT}"
    ));
    let scenario = dir.join("big-book.yaml");
    if !scenario.exists() {
        std::fs::create_dir_all(&dir).expect("temp dir");
        write_book(&dir).expect("write the CSV book");
        write_scenario(&dir).expect("write the scenario");
    }
    scenario
}

fn load(c: &mut Criterion) {
    let path = setup();
    let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let delever_graph::HolderKind::AccountBook { book, .. } = &s.network.holders()[0].kind else {
        panic!("the bench scenario holds one account book");
    };
    assert_eq!(
        (book.len(), book.holdings()),
        (ACCOUNTS, ACCOUNTS * HOLDINGS_PER_ACCOUNT)
    );
    drop(s);

    let mut group = c.benchmark_group("load");
    // One load takes about a second: ten flat samples of one load each.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function("account_book_2M_accounts_10M_holdings", |b| {
        b.iter(|| Scenario::load(&path).map(|s| s.network.holders().len()));
    });
    group.finish();
}

/// A YAML scenario of `n` leverage-targeting banks over 20 assets, five holdings each, as
/// `delever generate glt` writes them.
fn banks_yaml(n: usize) -> String {
    let mut text = String::with_capacity(n * 420);
    text.push_str(
        "name: many-banks\ndescription: Banks for the YAML load bench.\nas_of: 2026-05-29\nassets:\n",
    );
    for k in 0..20 {
        writeln!(
            text,
            "  - {{ id: G{k}, price: 1.0, shares_outstanding: 1.0e15, adv_usd: 1.0e12, daily_vol: 0.02, impact: {{ law: linear, per_usd: 4.0e-14 }} }}"
        )
        .expect("write to a string");
    }
    text.push_str("holders:\n");
    let mut rng = Lcg(7);
    for i in 0..n {
        let shares: Vec<f64> = (0..5)
            .map(|_| 1.0e8 + (rng.next() % 10_000) as f64 * 1.0e5)
            .collect();
        // Liabilities at 90% of the holdings (prices are 1): every bank starts solvent.
        let liabilities = 0.9 * shares.iter().sum::<f64>();
        writeln!(
            text,
            "  - id: bank{i}\n    kind: bank\n    other_liabilities: {liabilities:?}\n    cash_use: pro_rata\n    rule: {{ type: leverage_target, target: 12.5, symmetric: true }}\n    holdings:"
        )
        .expect("write to a string");
        for (j, s) in shares.iter().enumerate() {
            writeln!(
                text,
                "      - {{ asset: G{}, shares: {s:?} }}",
                (i + 3 * j) % 20
            )
            .expect("write to a string");
        }
    }
    text.push_str("shocks:\n  - { type: asset, asset: G0, return: -0.05 }\n");
    text
}

fn yaml(c: &mut Criterion) {
    let mut group = c.benchmark_group("yaml");
    // Few flat samples and short windows: at 100,000 banks one load takes about a
    // second, and the whole group runs in about a minute.
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    for n in [1_000, 10_000, 100_000] {
        let text = banks_yaml(n);
        let s =
            Scenario::from_yaml(&text, "many-banks.yaml", None).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.network.holders().len(), n);
        drop(s);
        group.measurement_time(Duration::from_secs(if n >= 100_000 { 20 } else { 3 }));
        group.bench_function(format!("banks_{n}"), |b| {
            b.iter(|| {
                Scenario::from_yaml(&text, "many-banks.yaml", None)
                    .map(|s| s.network.holders().len())
            });
        });
    }
    group.finish();
}

/// Accounts of the `formats` group's book.
const FORMAT_ACCOUNTS: usize = 500_000;

/// The retail book of `delever generate retail-book` written once in `format` into the
/// system temp dir; its scenario file.
fn generated_book(format: delever_generate::BookFormat) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("delever-load-bench-formats-{FORMAT_ACCOUNTS}"));
    let p = delever_generate::retail::Params {
        accounts: FORMAT_ACCOUNTS,
        book_format: format,
        ..delever_generate::retail::Params::default()
    };
    let name = format!("rb-{}", format.extension());
    let scenario = dir.join(format!("{name}.yaml"));
    if !scenario.exists() {
        std::fs::create_dir_all(&dir).expect("temp dir");
        let g = delever_generate::retail::generate(&p, &name).expect("valid parameters");
        for f in g.files() {
            let mut out = BufWriter::new(File::create(dir.join(&f.name)).expect("create"));
            g.write_file(f.kind, &mut out).expect("write");
            out.flush().expect("flush");
        }
    }
    scenario
}

fn formats(c: &mut Criterion) {
    let mut group = c.benchmark_group("formats");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(8));
    for format in [
        delever_generate::BookFormat::Csv,
        delever_generate::BookFormat::Parquet,
    ] {
        let path = generated_book(format);
        let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let books = s
            .network
            .holders()
            .iter()
            .filter(|h| matches!(h.kind, delever_graph::HolderKind::AccountBook { .. }))
            .count();
        assert_eq!(books, 1);
        drop(s);
        group.bench_function(format!("retail_500k_{}", format.extension()), |b| {
            b.iter(|| Scenario::load(&path).map(|s| s.network.holders().len()));
        });
    }
    group.finish();
}

/// Holder tables of `n` threshold banks over two bond assets (the INET comparison's
/// shape: `id,kind,cash,…,rule_target` and `holder,asset,usd`, two holdings a bank with
/// ids sharing a long prefix), written once into the system temp dir; the scenario file.
fn holder_tables_files(n: usize) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("delever-load-bench-tables-{n}"));
    let scenario = dir.join(format!("tables-{n}.yaml"));
    if scenario.exists() {
        return scenario;
    }
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut banks = String::from(
        "id,kind,cash,other_assets,other_liabilities,default_below_ratio,rule,rule_max,rule_target\n",
    );
    let mut holdings = String::from("holder,asset,usd\n");
    let mut rng = Lcg(15);
    let (mut gov, mut corp) = (0.0, 0.0);
    for i in 0..n {
        let g = 1.0e9 + (rng.next() % 10_000) as f64 * 1.0e6;
        let c = 1.0e9 + (rng.next() % 10_000) as f64 * 1.0e6;
        let (cash, other) = (5.0e8, 2.0e10);
        // Liabilities at 95% of the assets: every bank starts solvent.
        let liabilities = 0.95 * (cash + other + g + c);
        writeln!(
            banks,
            "EBA-BANK-{i:06},bank,{cash:e},{other:e},{liabilities:e},0.03,threshold,25,20"
        )
        .expect("write to a string");
        writeln!(
            holdings,
            "EBA-BANK-{i:06},GOV,{g:e}\nEBA-BANK-{i:06},CORP,{c:e}"
        )
        .expect("write to a string");
        gov += g;
        corp += c;
    }
    let yaml = format!(
        "name: tables-{n}\ndescription: Banks in holder tables for the load bench.\nas_of: 2026-05-29\n\
         defaults:\n  impact: {{ law: exponential, alpha: 0.2 }}\n\
         assets:\n  - {{ id: GOV, price: 1.0, shares_outstanding: {gov:e} }}\n  - {{ id: CORP, price: 1.0, shares_outstanding: {corp:e} }}\n\
         holder_tables:\n  - {{ holders_csv: banks.csv, holdings_csv: holdings.csv }}\n\
         shocks:\n  - {{ type: asset, asset: GOV, return: -0.1 }}\n"
    );
    std::fs::write(dir.join("banks.csv"), banks).expect("write banks.csv");
    std::fs::write(dir.join("holdings.csv"), holdings).expect("write holdings.csv");
    std::fs::write(&scenario, yaml).expect("write the scenario");
    scenario
}

/// `Scenario::load` of banks from holder tables (issue 15: the load of a risk team's
/// positions export, at 10,000 and 100,000 banks).
fn holder_tables(c: &mut Criterion) {
    let mut group = c.benchmark_group("holder_tables");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    for n in [10_000, 100_000] {
        let path = holder_tables_files(n);
        let s = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.network.holders().len(), n);
        drop(s);
        group.measurement_time(Duration::from_secs(if n >= 100_000 { 10 } else { 3 }));
        group.bench_function(format!("banks_{n}"), |b| {
            b.iter(|| Scenario::load(&path).map(|s| s.network.holders().len()));
        });
    }
    group.finish();
}

criterion_group!(benches, yaml, load, formats, holder_tables);
criterion_main!(benches);
