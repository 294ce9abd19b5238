//! Time the engine on a synthetic account book of any size, for `docs/performance.md`.
//!
//! ```text
//! cargo run --release -p delever-engine --example scale -- --accounts 10000000
//! /usr/bin/time -v target/release/examples/scale --accounts 10000000
//! ```
//!
//! Prints the time to generate the book, to run the cascade to convergence (greatest and,
//! with `--least`, least fixed point; with `--sequential`, in sequential rounds; with
//! `--days N`, as a timeline of N days, adding `--timing` for two-day deadlines on every
//! margin holder and half of every asset's impact transient with a one-day half-life),
//! and one round against a plain pass over the same holdings arrays.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use delever_engine::synth::{MarketSpec, market};
use delever_engine::{EngineConfig, Mode, SalesMap, Shock, plain_value};
use delever_graph::HolderKind;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

// A script of steps, each printing its figure: clearer in one place.
#[allow(clippy::too_many_lines)]
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let accounts: usize = match arg(&args, "--accounts").map(|s| s.replace('_', "").parse()) {
        None => 1_000_000,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("error: --accounts: {e}");
            return ExitCode::from(2);
        }
    };
    let least = args.iter().any(|a| a == "--least");
    let days: u32 = arg(&args, "--days")
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let mode = if args.iter().any(|a| a == "--sequential") {
        Mode::Sequential
    } else if arg(&args, "--days").is_some() {
        Mode::Timeline
    } else {
        Mode::Equilibrium
    };
    let timing = args.iter().any(|a| a == "--timing");
    let shock: f64 = arg(&args, "--shock")
        .and_then(|s| s.parse().ok())
        .unwrap_or(-0.2);

    let t = Instant::now();
    let net = match market(&MarketSpec::new(accounts)) {
        Ok(n) if timing => with_timing(&n),
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let holdings = match &net.holders()[0].kind {
        HolderKind::AccountBook { book, .. } => book.holdings(),
        _ => 0,
    };
    println!(
        "book: {accounts} accounts, {holdings} holdings, {} assets; generated in {:.2?}",
        net.assets().len(),
        t.elapsed()
    );
    let shocks = [Shock::Market {
        ret: shock,
        tag: None,
    }];
    let cfg = EngineConfig {
        least_fixed_point: least,
        mode,
        days,
        ..EngineConfig::default()
    };
    let t = Instant::now();
    let out = match delever_engine::run(&net, &shocks, &cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    println!(
        "run ({}): {:?} after {} rounds (residual {:.1e}) in {:.2?}; calls {}, defaults {}, forced sales ${:.3e}, amplification {:.3}{}",
        out.mode.name(),
        out.termination,
        out.rounds,
        out.residual,
        t.elapsed(),
        out.totals.margin_calls,
        out.totals.defaults,
        out.totals.forced_sales_usd,
        out.totals.amplification,
        out.least.as_ref().map_or(String::new(), |l| format!(
            "; least fixed point after {} rounds, differs: {}",
            l.rounds, l.differs
        ))
    );
    for d in &out.days {
        println!(
            "  day {}: {} rounds, sales ${:.3e}, new calls {}, open calls {}, new defaults {}",
            d.day, d.rounds, d.sales_usd, d.new_calls, d.open_calls, d.new_defaults
        );
    }

    // One round (S(p) at the shocked prices) against a plain pass over the same arrays.
    let mut map = match SalesMap::new(&net, &shocks) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let p = map.shocked_prices().to_vec();
    // Warm up (first touch of the buffers, the lenders' tightening guess), then take the
    // best of five of each.
    let mut sold = map.sales(&p).iter().sum::<f64>();
    let mut value = 0.0;
    let (mut round, mut plain) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let t = Instant::now();
        sold += map.sales(&p).iter().sum::<f64>();
        round = round.min(t.elapsed());
        if let HolderKind::AccountBook { book, .. } = &net.holders()[0].kind {
            let t = Instant::now();
            value += plain_value(book, &p);
            plain = plain.min(t.elapsed());
        }
    }
    println!(
        "one round {round:.2?} vs plain pass {plain:.2?} (ratio {:.2}); checksums {sold:.3e} {value:.3e}",
        round.as_secs_f64() / plain.as_secs_f64().max(1e-12)
    );
    ExitCode::SUCCESS
}

/// The same network with two-day deadlines on every holder and half of every asset's
/// impact transient (one-day half-life). The book is shared, not copied.
fn with_timing(net: &delever_graph::Network) -> delever_graph::Network {
    use delever_graph::{HolderIx, HolderKind, ImpactDecay, NetworkBuilder, TransientImpact};
    let mut b = NetworkBuilder::new();
    for a in net.assets() {
        let mut a = a.clone();
        a.decay = ImpactDecay {
            permanent: 0.5,
            transient: vec![TransientImpact {
                share: 0.5,
                half_life_days: 1.0,
            }],
        };
        b.add_asset(a);
    }
    for l in net.lenders() {
        b.add_lender(l.clone());
    }
    for (i, h) in net.holders().iter().enumerate() {
        let mut h = h.clone();
        h.timing.cure_days = 2;
        let hx = HolderIx(i as u32);
        b.add_holder(h);
        for (a, s) in net.holdings(hx) {
            b.holds(&net.holder(hx).id, &net.asset(a).id, s);
        }
    }
    for (i, h) in net.holders().iter().enumerate() {
        if let Some(m) = net.margin(HolderIx(i as u32)) {
            let mut terms = m.terms;
            if matches!(
                h.kind,
                HolderKind::AccountBook { .. } | HolderKind::MarginCohort { .. }
            ) {
                terms.loan = 0.0;
            }
            b.lends(&net.lender(m.lender).id, &h.id, terms);
        }
    }
    b.build().unwrap_or_else(|_| net.clone())
}
