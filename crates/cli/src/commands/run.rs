//! `delever run`: the cascade to its fixed point (or in sequential rounds), as a table,
//! JSON or CSV; `--variant` picks one of the scenario's variants; `--compare-modes` runs
//! the equilibrium and the sequential mode side by side.

use std::fmt::Write as _;
use std::path::Path;

use delever_engine::{EngineConfig, Mode, Outcome, Settlement};
use delever_report::{Format, RunReport, Table, csv_field, usd};
use delever_scenario::Scenario;
use serde_json::json;

use super::{html, load, meta, simulate_detailed};
use crate::args::{Cli, FormatArg, OutputArgs};
use crate::output::Outputs;
use crate::{Failure, exit};

/// The options of `delever run` besides the scenario, the output and the HTML file.
#[derive(Debug, Clone, Copy, Default)]
pub struct RunArgs<'a> {
    /// Also print the round-by-round trace (tables).
    pub trace: bool,
    /// Override the round limit.
    pub max_rounds: Option<u32>,
    /// Run this variant of the scenario.
    pub variant: Option<&'a str>,
    /// Run both modes and print them side by side.
    pub compare_modes: bool,
    /// `--set PATH=VALUE` overrides, in order.
    pub set: &'a [String],
    /// `--holders N|all`: rows of the holder and per-lender tables (default 10).
    pub holders: Option<usize>,
}

pub fn run(
    cli: &Cli,
    arg: Option<&str>,
    out: &OutputArgs,
    args: &RunArgs<'_>,
    html_path: Option<&Path>,
) -> Result<i32, Failure> {
    // Every destination is checked before the run: a bad path costs nothing.
    let mut outputs = Outputs::new();
    let html_slot = html_path
        .map(|p| outputs.plan("--html", Some(p)))
        .transpose()?;
    let out_slot = outputs.plan("-o", out.output.as_deref())?;
    let scenario = if args.set.is_empty() {
        pick_variant(load(arg)?, args.variant)?
    } else {
        with_overrides(arg, args.set)?
    };
    let mut config = scenario.engine.clone();
    if let Some(n) = args.max_rounds {
        if n == 0 {
            return Err(Failure::input(
                "error: --max-rounds must be at least 1\n  hint: 1 gives the one-round answer",
            ));
        }
        config.max_rounds = n;
    }
    if args.compare_modes {
        let c = compare(cli, &scenario, &config, out.format, args.trace)?;
        outputs.put(out_slot, c.text);
        outputs.commit()?;
        // Exit 3 if either mode hit its round limit.
        let mut code = exit::OK;
        for o in &c.outcomes {
            if o.exit_code() == exit::NOT_CONVERGED {
                warn_not_converged(&scenario.name, o);
                code = exit::NOT_CONVERGED;
            }
        }
        return Ok(code);
    }
    let crate::api::Run {
        outcome,
        ledger,
        report,
    } = run_report(cli, &scenario, &config)?;
    if let Some(slot) = html_slot {
        outputs.put(
            slot,
            html::report(&scenario, &outcome, &ledger, report.systemic.as_ref()),
        );
    }
    let report = report.with_top_holders(args.holders.unwrap_or(delever_report::DEFAULT_TOP));
    let text = match Format::from(out.format) {
        Format::Table => {
            let mut t = report.to_table();
            if args.trace {
                t.push('\n');
                t.push_str(&report.trace_table());
            }
            t
        }
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
        Format::Markdown => super::markdown(&format!("delever run {}", scenario.name), || {
            let mut t = report.to_table();
            if args.trace {
                t.push('\n');
                t.push_str(&report.trace_table());
            }
            t
        }),
    };
    outputs.put(out_slot, text);
    outputs.commit()?;
    let code = outcome.exit_code();
    if code == exit::NOT_CONVERGED {
        warn_not_converged(&scenario.name, &outcome);
    }
    Ok(code)
}

/// The run, its ledger and its report with systemic metrics: `delever run`'s pipeline,
/// shared with [`crate::api::run`] so that embedders get the same report.
pub fn run_report(
    cli: &Cli,
    scenario: &Scenario,
    config: &EngineConfig,
) -> Result<crate::api::Run, Failure> {
    let (outcome, ledger) = simulate_detailed(cli, scenario, config)?;
    let systemic = super::systemic(scenario, config, &outcome, &ledger, false, cli.quiet)?;
    let report =
        RunReport::new(&meta(scenario), &scenario.network, &outcome).with_systemic(systemic);
    Ok(crate::api::Run {
        outcome,
        ledger,
        report,
    })
}

/// The scenario with `--set` overrides applied: the sweep's path grammar and checks, and
/// the instance validated like a file (exit 2 with located diagnostics otherwise).
fn with_overrides(arg: Option<&str>, specs: &[String]) -> Result<Scenario, Failure> {
    let template = super::load_template(&super::resolve(arg)?)?;
    let fail = |e: delever_batch::BatchError| {
        let mut msg = format!("error: {e}");
        if let Some(h) = e.hint() {
            msg.push_str("\n  hint: ");
            msg.push_str(h);
        }
        Failure::input(msg)
    };
    let overrides = delever_batch::set::overrides(&template, specs).map_err(fail)?;
    delever_batch::set::apply(&template, &overrides, specs).map_err(fail)
}

/// Say on stderr that `outcome` stopped at its round limit, and what to try.
pub fn warn_not_converged(name: &str, outcome: &Outcome) {
    let text = not_converged_message(name, outcome);
    if text.starts_with("note:") {
        // A note, not a warning: silenced by -q (the exit code still says it).
        crate::notice(&text);
    } else {
        eprintln!("{text}");
    }
}

/// What `delever run` prints on stderr when `outcome` stopped at its round limit (exit
/// 3): a warning with a hint, or a note for a deliberate one-round run.
pub fn not_converged_message(name: &str, outcome: &Outcome) -> String {
    if outcome.rounds == 1 && outcome.mode == Mode::Equilibrium {
        // A deliberate one-round run (GLT's setting) is not a failure to converge, but the
        // exit code still says the fixed point was not reached.
        return format!(
            "note: {name} stopped after one round, as configured (the one-round answer); exit code 3 marks that the cascade's fixed point was not computed\n  hint: raise `engine.max_rounds` (or drop --max-rounds 1) for the full cascade"
        );
    }
    let hint = match outcome.mode {
        Mode::Equilibrium => {
            "raise `engine.max_rounds`; if prices oscillate (a rule that buys back), set `engine.damping` below 1 (0.5 averages old and new prices) — a very small damping only slows convergence"
        }
        Mode::Timeline => {
            "raise `engine.max_rounds` (the limit applies to each day's fixed point); `days` in the JSON report says which day stopped short"
        }
        Mode::Sequential => "raise `engine.max_rounds`: holders were still placing orders",
    };
    format!(
        "warning: {name} ({} mode) did not converge within {} rounds (residual {:.2e}); the report above says so\n  hint: {hint}",
        outcome.mode.name(),
        outcome.rounds,
        outcome.residual
    )
}

/// The scenario itself, or its variant `name` (exit 2 with the known names otherwise).
pub fn pick_variant(scenario: Scenario, name: Option<&str>) -> Result<Scenario, Failure> {
    let Some(name) = name else {
        return Ok(scenario);
    };
    if let Some(v) = scenario.find_variant(name) {
        return scenario
            .variant(v)
            .map_err(|e| Failure::input(e.to_string()));
    }
    let names: Vec<&str> = scenario.variants.iter().map(|v| v.name.as_str()).collect();
    let mut msg = format!("error: {} has no variant `{name}`", scenario.name);
    if names.is_empty() {
        msg.push_str("\n  hint: it has no `variants:` block");
    } else if let Some(best) = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        let _ = write!(msg, "\n  hint: did you mean `{}`?", best.1);
    } else {
        let _ = write!(msg, "\n  hint: its variants are {}", names.join(", "));
    }
    Err(Failure::input(msg))
}

/// The text of `--compare-modes` and the two runs.
struct Compared {
    text: String,
    outcomes: [Outcome; 2],
}

/// Both modes on the same scenario and settings.
fn compare(
    cli: &Cli,
    scenario: &Scenario,
    config: &EngineConfig,
    format: FormatArg,
    trace: bool,
) -> Result<Compared, Failure> {
    let run_in = |mode: Mode| -> Result<(Outcome, RunReport), Failure> {
        // The rounds keep the scenario's settlement timing; the fixed point has only one.
        let settlement = if mode == Mode::Sequential {
            config.settlement
        } else {
            Settlement::AtSettlement
        };
        let cfg = EngineConfig {
            mode,
            settlement,
            ..config.clone()
        };
        let (o, _) = simulate_detailed(cli, scenario, &cfg)?;
        let r = RunReport::new(&meta(scenario), &scenario.network, &o);
        Ok((o, r))
    };
    let (eo, eq) = run_in(Mode::Equilibrium)?;
    let (so, sq) = run_in(Mode::Sequential)?;
    let text = match Format::from(format) {
        Format::Table => {
            let mut t = compare_table(scenario, &eq, &sq);
            if trace {
                for r in [&eq, &sq] {
                    let _ = write!(t, "\n{} mode\n{}", r.mode, r.trace_table());
                }
            }
            t
        }
        Format::Json => compare_json(&eq, &sq),
        Format::Csv => compare_csv(&eq, &sq),
        Format::Markdown => super::markdown(
            &format!("delever run {} --compare-modes", scenario.name),
            || {
                let mut t = compare_table(scenario, &eq, &sq);
                if trace {
                    for r in [&eq, &sq] {
                        let _ = write!(t, "\n{} mode\n{}", r.mode, r.trace_table());
                    }
                }
                t
            },
        ),
    };
    Ok(Compared {
        text,
        outcomes: [eo, so],
    })
}

/// The final cumulative fraction of holdings sold (0 with no rounds).
fn sold(r: &RunReport) -> f64 {
    r.trace.last().map_or(0.0, |t| t.fraction_sold)
}

fn signed_usd(x: f64) -> String {
    format!("{}{}", if x > 0.0 { "+" } else { "" }, usd(x))
}

fn signed_count(a: u64, b: u64) -> String {
    if b >= a {
        format!("+{}", b - a)
    } else {
        format!("-{}", a - b)
    }
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn points(x: f64) -> String {
    format!("{:+.2} pp", x * 100.0)
}

/// Headline totals and per-asset drawdowns of both modes, and the gap (sequential −
/// equilibrium).
fn compare_table(scenario: &Scenario, eq: &RunReport, sq: &RunReport) -> String {
    let (e, s) = (&eq.totals, &sq.totals);
    let mut out = format!("scenario  {}", scenario.name);
    if !scenario.as_of.is_empty() {
        let _ = write!(out, "  (as of {})", scenario.as_of);
    }
    out.push_str(
        "\ncompare   equilibrium (fixed point, sales settle at final prices) and sequential\n          (rounds, sales settle at the midpoint of each round's prices); gap = sequential − equilibrium\n\n",
    );
    let mut head = Table::new(["headline", "equilibrium", "sequential", "gap"]);
    head.row([
        "result".to_owned(),
        format!("{} after {}", eq.termination, eq.rounds),
        format!("{} after {}", sq.termination, sq.rounds),
        String::new(),
    ]);
    for (label, a, b) in [
        (
            "initial loss (shock alone)",
            e.initial_loss_usd,
            s.initial_loss_usd,
        ),
        ("total loss", e.total_loss_usd, s.total_loss_usd),
        ("forced sales", e.forced_sales_usd, s.forced_sales_usd),
        ("lender losses", e.lender_losses_usd, s.lender_losses_usd),
    ] {
        head.row([label.to_owned(), usd(a), usd(b), signed_usd(b - a)]);
    }
    head.row([
        "amplification".to_owned(),
        format!("{:.3}x", e.amplification),
        format!("{:.3}x", s.amplification),
        format!("{:+.3}x", s.amplification - e.amplification),
    ]);
    head.row([
        "holdings sold".to_owned(),
        pct(sold(eq)),
        pct(sold(sq)),
        points(sold(sq) - sold(eq)),
    ]);
    for (label, a, b) in [
        ("defaults", e.defaults, s.defaults),
        ("margin calls (accounts)", e.margin_calls, s.margin_calls),
    ] {
        head.row([
            label.to_owned(),
            a.to_string(),
            b.to_string(),
            signed_count(a, b),
        ]);
    }
    out.push_str(&head.render());
    out.push('\n');
    let mut assets = Table::new(["asset", "equilibrium", "sequential", "gap"]).titled("Drawdowns");
    for (a, b) in eq.assets.iter().zip(&sq.assets) {
        assets.row([
            a.id.clone(),
            pct(a.drawdown),
            pct(b.drawdown),
            points(b.drawdown - a.drawdown),
        ]);
    }
    out.push_str(&assets.render());
    out
}

/// `b − a` for counts.
fn count_gap(a: u64, b: u64) -> i64 {
    let signed = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
    signed(b).saturating_sub(signed(a))
}

/// The gap (sequential − equilibrium) as JSON.
fn gap(eq: &RunReport, sq: &RunReport) -> serde_json::Value {
    let (e, s) = (&eq.totals, &sq.totals);
    json!({
        "total_loss_usd": s.total_loss_usd - e.total_loss_usd,
        "amplification": s.amplification - e.amplification,
        "forced_sales_usd": s.forced_sales_usd - e.forced_sales_usd,
        "lender_losses_usd": s.lender_losses_usd - e.lender_losses_usd,
        "fraction_sold": sold(sq) - sold(eq),
        "defaults": count_gap(e.defaults, s.defaults),
        "margin_calls": count_gap(e.margin_calls, s.margin_calls),
        "assets": eq.assets.iter().zip(&sq.assets).map(|(a, b)| json!({
            "id": a.id,
            "drawdown": b.drawdown - a.drawdown,
            "price_after": b.price_after - a.price_after,
        })).collect::<Vec<_>>(),
    })
}

/// Both reports whole, and the gap.
fn compare_json(eq: &RunReport, sq: &RunReport) -> String {
    let doc = json!({
        "scenario": eq.scenario,
        "equilibrium": serde_json::to_value(eq).unwrap_or_default(),
        "sequential": serde_json::to_value(sq).unwrap_or_default(),
        "gap": gap(eq, sq),
    });
    serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
}

/// Tidy CSV with the mode first: `mode,scope,id,metric,value` (the gap as mode `gap`).
fn compare_csv(eq: &RunReport, sq: &RunReport) -> String {
    let mut out = String::from("mode,scope,id,metric,value\n");
    for r in [eq, sq] {
        for line in r.to_csv().lines().skip(1) {
            let _ = writeln!(out, "{},{line}", r.mode);
        }
    }
    let g = gap(eq, sq);
    for key in [
        "total_loss_usd",
        "amplification",
        "forced_sales_usd",
        "lender_losses_usd",
        "fraction_sold",
        "defaults",
        "margin_calls",
    ] {
        let _ = writeln!(
            out,
            "gap,totals,{},{key},{}",
            csv_field(&eq.scenario),
            g[key]
        );
    }
    for a in g["assets"].as_array().into_iter().flatten() {
        let id = csv_field(a["id"].as_str().unwrap_or_default());
        let _ = writeln!(out, "gap,asset,{id},drawdown,{}", a["drawdown"]);
    }
    out
}
