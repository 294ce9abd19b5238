//! The timeline mode against the rest of the engine: one day of it is the equilibrium.

use delever_engine::{EngineConfig, Mode, Outcome};
use delever_graph::{Liquidation, Network, Timing};
use delever_scenario::{FieldPath, OverrideValue, Scenario, Template};

use crate::util::shipped_files;

/// Every field of two outcomes but the mode and the days, compared exactly.
fn same_but_days(a: &Outcome, b: &Outcome) -> Result<(), String> {
    let strip = |o: &Outcome| Outcome {
        mode: Mode::Equilibrium,
        days: Vec::new(),
        ..o.clone()
    };
    let (a, b) = (strip(a), strip(b));
    if a == b {
        return Ok(());
    }
    let fmt = |o: &Outcome| format!("{o:#?}");
    let (x, y) = (fmt(&a), fmt(&b));
    let line = x
        .lines()
        .zip(y.lines())
        .enumerate()
        .find(|(_, (l, r))| l != r)
        .map(|(n, (l, r))| format!("line {n}: {l} | {r}"))
        .unwrap_or_default();
    Err(line)
}

/// A one-day timeline with no deadlines, caps or transient impact gives the equilibrium's
/// outcome bit for bit, on every shipped scenario and variant (sequential ones run as
/// equilibria). Deadlines are switched off as a user would: `defaults.cure_days=0` and
/// `defaults.redemption_lag_days=0`; scenarios that set their own timing are skipped.
#[test]
fn one_day_is_the_equilibrium_bit_for_bit() {
    let zero = |path: &str| {
        (
            FieldPath::parse(path).expect("valid path"),
            OverrideValue::Number(0.0),
        )
    };
    let overrides = [
        zero("defaults.cure_days"),
        zero("defaults.redemption_lag_days"),
    ];
    let mut checked = 0;
    for file in shipped_files() {
        // A file without a `defaults:` section gets an empty one to write into.
        let text = std::fs::read_to_string(&file).expect("readable");
        let text = if text.lines().any(|l| l.starts_with("defaults:")) {
            text
        } else {
            text.replacen("\nassets:", "\ndefaults: {}\nassets:", 1)
        };
        let t =
            Template::from_yaml(&text, &file.display().to_string(), file.parent()).expect("loads");
        let s = t.instantiate(&overrides).expect("valid overrides");
        // Instances drop `variants:`; apply the file's own to the instance.
        let file_variants = Scenario::load(&file).expect("loads").variants;
        let variants: Vec<Scenario> = file_variants
            .iter()
            .map(|v| s.variant(v).expect("variant applies"))
            .collect();
        for s in std::iter::once(s).chain(variants) {
            if !without_timing(&s.network) {
                continue;
            }
            let eq_cfg = EngineConfig {
                mode: Mode::Equilibrium,
                ..s.engine.clone()
            };
            let eq = delever_engine::run(&s.network, &s.shocks, &eq_cfg).expect("runs");
            let cfg = EngineConfig {
                mode: Mode::Timeline,
                days: 1,
                ..eq_cfg
            };
            let tl = delever_engine::run(&s.network, &s.shocks, &cfg).expect("runs");
            assert_eq!(tl.days.len(), 1, "{}", s.name);
            if let Err(diff) = same_but_days(&eq, &tl) {
                panic!("{}: {diff}", s.name);
            }
            checked += 1;
        }
    }
    assert!(checked >= 25, "{checked}");
}

/// No deadline, cap, close-out delay or transient impact anywhere.
fn without_timing(net: &Network) -> bool {
    net.assets().iter().all(|a| a.decay.is_permanent())
        && net.holders().iter().all(|h| h.timing == Timing::default())
        && net
            .lenders()
            .iter()
            .all(|l| l.liquidation == Liquidation::default())
}
