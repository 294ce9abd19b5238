//! The timeline mode against the rest of the engine: one day of it is the equilibrium.

use delever_engine::{EngineConfig, Mode, Outcome};
use delever_graph::{HolderKind, Liquidation, Network, Timing};
use delever_scenario::{FieldPath, OverrideValue, Scenario, Template};

use crate::util::{delever, shipped_files};

/// Every field of two outcomes but the mode and the days, compared exactly.
pub(crate) fn same_but_days(a: &Outcome, b: &Outcome) -> Result<(), String> {
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
            // GLT's exact accounting is one round of its own algebra, not a fixed point.
            if !without_timing(&s.network) || s.engine.glt_exact {
                continue;
            }
            // The sequential rounds' settlement timing does not exist at a fixed point.
            let eq_cfg = EngineConfig {
                mode: Mode::Equilibrium,
                settlement: delever_engine::Settlement::AtSettlement,
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
    // A vol-target fund or a CTA trading a day or more after the close it reacts to has
    // timing of its own: in a one-day timeline it has not traded yet.
    let lagged = |h: &delever_graph::Holder| match &h.kind {
        HolderKind::VolTarget { rule } => rule.lag_days > 0,
        HolderKind::TrendFollower { lag_days, .. } => *lag_days > 0,
        _ => false,
    };
    net.assets().iter().all(|a| a.decay.is_permanent())
        && net
            .holders()
            .iter()
            .all(|h| h.timing == Timing::default() && !lagged(h))
        && net
            .lenders()
            .iter()
            .all(|l| l.liquidation == Liquidation::default())
}

// ---------------------------------------------------------------- through the binary

const WEEK: &str = "tests/fixtures/timeline/week.yaml";

/// `run` on a timeline scenario: JSON with `days[]` and trace days, CSV day scopes, the
/// day table and `--trace` by day; the HTML page plays days; `explain` reads a holder's
/// days.
#[test]
fn a_timeline_scenario_through_every_output() {
    let r = delever(["run", WEEK, "--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(v["mode"], "timeline");
    assert_eq!(v["days"].as_array().map(Vec::len), Some(5));
    assert!(
        v["trace"]
            .as_array()
            .expect("trace")
            .iter()
            .any(|t| t["day"] == 4)
    );
    // The hedge fund's prime broker waits a day, then sells at 20% of volume a day.
    let hf = |d: usize| {
        v["days"][d]["holders"][2]["sales_usd"]
            .as_f64()
            .unwrap_or(f64::NAN)
    };
    assert_eq!(hf(0), 0.0);
    assert!(hf(1) > 0.0 && hf(2) > 0.0, "{} {}", hf(1), hf(2));

    let r = delever(["run", WEEK, "--trace"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("Day by day"), "{}", r.stdout);
    let r = delever(["run", WEEK, "--format", "csv"]);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("day,2,")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .lines()
            .any(|l| l.starts_with("day_asset,1/NVDA,close,"))
    );

    let r = delever(["explain", WEEK, "--holder", "hf"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("day 1"), "{}", r.stdout);
    let r = delever(["explain", WEEK, "--holder", "hf", "--format", "json"]);
    let e: serde_json::Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert!(e.to_string().contains("\"day\":4"), "{e}");

    let dir = crate::util::scratch("timeline-html");
    let page = dir.join("week.html");
    let r = delever(["run", WEEK, "--html", page.to_str().expect("utf-8")]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let html = std::fs::read_to_string(&page).expect("page written");
    assert!(
        html.contains("Day 4") || html.contains("day 4"),
        "no day player"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Sweeps and Monte Carlo take timeline scenarios: a sweep over the horizon and a shock's
/// day, and draws that hit day 0 of a week.
#[test]
fn sweeps_and_monte_carlo_take_timelines() {
    let r = delever([
        "sweep",
        WEEK,
        "--vary",
        "engine.days=2,5",
        "--vary",
        "shocks[1].day=0,1",
        "--format",
        "csv",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 5, "{}", r.stdout);
    let dir = crate::util::scratch("timeline-mc");
    let file = dir.join("week.yaml");
    let text = std::fs::read_to_string(crate::util::root().join(WEEK)).expect("fixture")
        + "monte_carlo:\n  distribution: { type: normal }\n  assets: [ { asset: NVDA }, { asset: AMD } ]\n  correlation: 0.5\n";
    std::fs::write(&file, text).expect("write");
    let r = delever([
        "mc",
        file.to_str().expect("utf-8"),
        "--draws",
        "16",
        "--seed",
        "3",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Bad timeline input through the binary: a located error, exit 2, nothing on stdout.
#[test]
fn bad_timeline_input_exits_2_with_its_location() {
    let dir = crate::util::scratch("timeline-bad");
    let text = std::fs::read_to_string(crate::util::root().join(WEEK)).expect("fixture");
    for (from, to, path) in [
        ("days: 5 }", "days: 0 }", "engine.days"),
        (
            "return: -0.05, day: 1",
            "return: -0.05, day: 7",
            "shocks[1].day",
        ),
        (
            "half_life_days: 1 } } }\n  - { id: AMD",
            "half_life_days: -1 } } }\n  - { id: AMD",
            "assets[0].impact.decay.half_life_days",
        ),
        (
            "participation: 0.2",
            "participation: 1.2",
            "lenders[1].liquidation.participation",
        ),
    ] {
        assert!(text.contains(from), "fixture lacks {from}");
        let file = dir.join("week.yaml");
        std::fs::write(&file, text.replacen(from, to, 1)).expect("write");
        let r = delever(["run", file.to_str().expect("utf-8")]);
        assert_eq!(r.code, 2, "{to}: {}", r.stderr);
        assert!(r.stdout.is_empty());
        assert!(r.stderr.contains(path), "{to}: {}", r.stderr);
        assert!(r.stderr.contains("week.yaml:"), "{}", r.stderr);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
