//! The timeline mode against the rest of the engine: one day of it is the equilibrium.

use delever_engine::{EngineConfig, Mode, Outcome};

use crate::util::shipped_scenarios;

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
/// equilibria).
#[test]
fn one_day_is_the_equilibrium_bit_for_bit() {
    let mut checked = 0;
    for s in shipped_scenarios() {
        let variants = s.expand().expect("variants expand");
        for s in std::iter::once(s).chain(variants) {
            // Sequential scenarios too, run as equilibria.
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
