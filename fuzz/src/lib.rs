//! What every delever fuzz target asserts about a loaded scenario and a typed error.
//!
//! The targets (in `fuzz_targets/`) feed arbitrary bytes to an input reader; the reader
//! must never panic, and must return either a typed error or a value that holds up: a
//! scenario that loaded runs through the engine without panicking, and every figure of
//! the outcome is finite (or the engine refuses it with a typed error).

use delever_engine::{EngineConfig, Outcome};
use delever_scenario::{Scenario, ScenarioError, Template};

/// Rounds a fuzzed run may take. A scenario may ask for millions; the fuzzer looks for
/// crashes, not for slow convergence, and an execution must stay in the milliseconds.
pub const MAX_ROUNDS: u32 = 1000;
/// Timeline days a fuzzed run may take, for the same reason.
pub const MAX_DAYS: u32 = 20;
/// Longest rendering of one error accepted: error messages quote bounded excerpts of the
/// input, never the input itself (a 100 MB header once came back in a message).
pub const MAX_ERROR_BYTES: usize = 64 * 1024;

/// A scenario error must be a non-empty list of diagnostics, each with a message, and
/// render to bounded text.
pub fn check_error(e: &ScenarioError) {
    assert!(!e.diagnostics.is_empty(), "an error without diagnostics");
    for d in &e.diagnostics {
        assert!(
            !d.message.is_empty(),
            "a diagnostic without a message: {d:?}"
        );
        let shown = d.to_string();
        assert!(
            shown.len() <= MAX_ERROR_BYTES,
            "a diagnostic of {} bytes: {}…",
            shown.len(),
            shown.chars().take(200).collect::<String>()
        );
    }
}

/// The engine settings of `s`, with rounds and days bounded for a fuzzing budget.
pub fn bounded(cfg: &EngineConfig) -> EngineConfig {
    let mut cfg = cfg.clone();
    cfg.max_rounds = cfg.max_rounds.min(MAX_ROUNDS);
    cfg.days = cfg.days.min(MAX_DAYS);
    cfg
}

/// Every figure a report prints from `o` is finite.
pub fn check_outcome(o: &Outcome) {
    let t = &o.totals;
    for (what, v) in [
        ("initial_loss_usd", t.initial_loss_usd),
        ("total_loss_usd", t.total_loss_usd),
        ("amplification", t.amplification),
        ("forced_sales_usd", t.forced_sales_usd),
        ("exogenous_sales_usd", t.exogenous_sales_usd),
        ("lender_losses_usd", t.lender_losses_usd),
        ("cash_cures_usd", t.cash_cures_usd),
    ] {
        assert!(v.is_finite(), "totals.{what} = {v}");
    }
    for a in &o.assets {
        for (what, v) in [
            ("price_before", a.price_before),
            ("price_shocked", a.price_shocked),
            ("price_after", a.price_after),
            ("drawdown", a.drawdown),
            ("forced_sales_usd", a.forced_sales_usd),
        ] {
            assert!(v.is_finite(), "asset {}: {what} = {v}", a.asset.0);
        }
    }
    for h in &o.holders {
        for (what, v) in [
            ("equity_before", h.equity_before),
            ("equity_shocked", h.equity_shocked),
            ("equity_after", h.equity_after),
            ("sales_usd", h.sales_usd),
        ] {
            assert!(v.is_finite(), "holder {}: {what} = {v}", h.holder.0);
        }
    }
}

/// Run `s` (bounded): the outcome's figures are finite, or the engine says why not.
pub fn run_engine(s: &Scenario) {
    match delever_engine::run(&s.network, &s.shocks, &bounded(&s.engine)) {
        Ok(o) => check_outcome(&o),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

/// What a scenario that loaded must allow: its variants expand (or fail with a typed
/// error), it runs, one Monte Carlo draw runs when it has a `monte_carlo:` block.
pub fn exercise(s: &Scenario) {
    run_engine(s);
    match s.expand() {
        Ok(vs) => {
            for v in vs.iter().take(4) {
                run_engine(v);
            }
        }
        Err(e) => check_error(&e),
    }
    if s.monte_carlo.is_some() {
        match delever_batch::mc::Study::new(s, Some(s.engine.max_rounds.min(MAX_ROUNDS))) {
            Ok(study) => {
                let mut buf = Vec::new();
                if let Ok(d) = study.draw(0, 0, &mut buf) {
                    assert!(
                        d.market_return.is_finite(),
                        "market return {}",
                        d.market_return
                    );
                    let f = &d.figures;
                    assert!(
                        f.total_loss_usd.is_finite(),
                        "draw loss {}",
                        f.total_loss_usd
                    );
                }
            }
            Err(e) => assert!(!e.to_string().is_empty()),
        }
    }
}

/// A scenario that loads also loads as a sweep template, and the template's instance
/// without overrides is the same network: a sweep accepts every file `run` accepts.
pub fn check_template(text: &str, base: &Scenario, base_dir: Option<&std::path::Path>) {
    let t = match Template::from_yaml(text, "fuzz.yaml", base_dir) {
        Ok(t) => t,
        Err(e) => panic!("loads as a scenario, not as a template: {e}"),
    };
    match t.instantiate(&[]) {
        Ok(i) => {
            assert_eq!(i.network.holders().len(), base.network.holders().len());
            assert_eq!(i.network.assets().len(), base.network.assets().len());
        }
        Err(e) => panic!("loads as a scenario, its plain instance does not: {e}"),
    }
}

/// A directory of this process's own for targets whose reader takes a path: under
/// `$TMPDIR` (which `run.sh` points at a directory it removes afterwards).
pub fn scratch() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("delever-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("cannot create the fuzz scratch directory");
        d
    })
}

/// A target whose input is two files a fixed scenario names: `data` up to its first `0xFF`
/// byte is the first file, the rest the second (`second` when there is no `0xFF`; the byte
/// never occurs in UTF-8 text, so seeds stay readable). The scenario (`file`, `text`) is
/// written once in [`scratch`], the two files at each execution; the scenario then loads
/// and runs ([`exercise`]) or gives a typed, bounded error ([`check_error`]).
pub fn two_files(data: &[u8], (file, text): (&str, &str), names: (&str, &str), second: &[u8]) {
    let (a, b) = match data.iter().position(|&x| x == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, second),
    };
    let dir = scratch();
    let yaml = dir.join(file);
    if !yaml.exists() {
        std::fs::write(&yaml, text).expect("write the scenario");
    }
    std::fs::write(dir.join(names.0), a).expect("write the first file");
    std::fs::write(dir.join(names.1), b).expect("write the second file");
    match Scenario::load(&yaml) {
        Ok(s) => exercise(&s),
        Err(e) => check_error(&e),
    }
}
