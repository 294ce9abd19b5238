//! Figures that must not mislead (issue "Reports a risk committee can read"): the cascade
//! loss beside the total, amplification only where it means something, and several
//! equilibria shown with the digits and the price gap that tell them apart.

use crate::util::delever;

/// A Caccioli system's first loss is zero: the report shows the cascade loss and no
/// ratio (it said "amplification 1.000x" for a $260B cascade before); the JSON keeps
/// `amplification` and says it is not meaningful.
#[test]
fn amplification_is_absent_when_the_first_loss_is_zero() {
    let t = delever(["run", "caccioli-overlapping-portfolios"]);
    assert_eq!(t.code, 0, "{}", t.stderr);
    assert!(
        t.stdout.contains("cascade loss (total − initial)"),
        "{}",
        t.stdout
    );
    assert!(
        t.stdout.contains("n/a (initial loss too small)"),
        "{}",
        t.stdout
    );
    assert!(!t.stdout.contains("1.000x"), "{}", t.stdout);
    let j = delever(["run", "caccioli-overlapping-portfolios", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("json");
    let x = &v["totals"];
    let f = |k: &str| x[k].as_f64().expect("number");
    assert_eq!(
        f("cascade_loss_usd"),
        f("total_loss_usd") - f("initial_loss_usd")
    );
    assert_eq!(x["amplification_meaningful"], false);
    // The default scenario's ratio means something and is shown.
    let d = delever(["run", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&d.stdout).expect("json");
    assert_eq!(v["totals"]["amplification_meaningful"], true);
    let page = crate::util::scratch("report-figures").join("c.html");
    let h = delever([
        "run",
        "caccioli-overlapping-portfolios",
        "--html",
        page.to_str().expect("utf-8"),
    ]);
    assert_eq!(h.code, 0, "{}", h.stderr);
    let html = std::fs::read_to_string(&page).expect("written");
    assert!(html.contains("Cascade loss"));
    assert!(!html.contains("1.000\u{00d7}"));
}

/// Several equilibria: the warning gives the largest price gap, and the JSON carries it.
#[test]
fn several_equilibria_say_how_far_apart_they_are() {
    let t = delever(["run", "caccioli-overlapping-portfolios"]);
    assert!(
        t.stdout.contains("several equilibria") && t.stdout.contains("prices differ by up to"),
        "{}",
        t.stdout
    );
    let j = delever(["run", "caccioli-overlapping-portfolios", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("json");
    let gap = v["least_fixed_point"]["max_price_gap"]
        .as_f64()
        .expect("number");
    assert!(gap > 0.1 && gap <= 1.0, "{gap}");
}

/// Sweeps and Monte Carlo carry the run report's loss definitions: at −1.0% CSF's sweep
/// row says what the run says, $4.50B of interbank losses, not only the $0 borne by
/// the (absent) lenders block. Failed before: the rows had `lender_losses_usd` only.
#[test]
fn sweep_and_mc_rows_name_each_loss_as_the_run_does() {
    let run = delever([
        "run",
        "cifuentes-shin-ferrucci",
        "--set",
        "shocks[0].return=-0.010",
        "--format",
        "json",
    ]);
    let r: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let interbank = r["totals"]["interbank_losses_usd"]
        .as_f64()
        .expect("number");
    // $4.50B as the table prints it (the exact figure is 4.501e9).
    assert!((interbank - 4.5e9).abs() < 5e6, "{interbank}");
    let sweep = delever([
        "sweep",
        "cifuentes-shin-ferrucci",
        "--vary",
        "shocks[0].return=-0.010",
        "--format",
        "json",
    ]);
    let s: serde_json::Value = serde_json::from_str(&sweep.stdout).expect("json");
    let row = &s["rows"][0];
    assert_eq!(row["interbank_losses_usd"].as_f64(), Some(interbank));
    assert_eq!(
        row["borrower_shortfalls_usd"].as_f64(),
        r["totals"]["borrower_shortfalls_usd"].as_f64()
    );
    let table = delever([
        "sweep",
        "cifuentes-shin-ferrucci",
        "--vary",
        "shocks[0].return=-0.010",
    ]);
    assert!(
        table.stdout.contains("interbank") && table.stdout.contains("$4.50B"),
        "{}",
        table.stdout
    );
    let csv = delever([
        "sweep",
        "cifuentes-shin-ferrucci",
        "--vary",
        "shocks[0].return=-0.010",
        "--format",
        "csv",
    ]);
    assert!(
        csv.stdout.lines().next().is_some_and(
            |h| h.contains("lender_losses_usd,borrower_shortfalls_usd,interbank_losses_usd")
        ),
        "{}",
        csv.stdout
    );
    let mc = delever(["mc", "--draws", "20", "--seed", "3", "--format", "csv"]);
    assert!(
        mc.stdout.contains("interbank_losses_usd") && mc.stdout.contains("borrower_shortfalls_usd"),
        "{}",
        mc.stdout
    );
}
