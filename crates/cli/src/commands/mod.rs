//! The subcommands. Each returns an exit code or a [`Failure`].

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use delever_engine::{EngineConfig, Outcome};
use delever_report::{Format, RunMeta, RunReport, SummaryReport, Table};
use delever_scenario::Scenario;

use crate::args::{Cli, Command, ExportCommand, OutputArgs};
use crate::output::emit;
use crate::{Failure, embedded, exit};

/// Run the parsed command line.
pub fn dispatch(cli: &Cli) -> Result<i32, Failure> {
    match &cli.command {
        None => run(cli, None, &OutputArgs::default(), false, None),
        Some(Command::Run {
            scenario,
            out,
            trace,
            max_rounds,
        }) => run(cli, scenario.as_deref(), out, *trace, *max_rounds),
        Some(Command::Validate { files }) => validate(files),
        Some(Command::Describe { scenario, out }) => describe(scenario.as_deref(), out),
        Some(Command::Export {
            what:
                ExportCommand::Dot {
                    scenario,
                    after_run,
                    output,
                },
        }) => export_dot(cli, scenario.as_deref(), *after_run, output.as_deref()),
        Some(Command::Schema { output }) => {
            let schema = delever_scenario::json_schema();
            let mut text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Failure::input(format!("error: rendering the schema: {e}")))?;
            text.push('\n');
            emit(&text, output.as_deref())?;
            Ok(exit::OK)
        }
        Some(Command::List { out }) => list(out),
    }
}

/// Load a scenario given as a path, a shipped name, or nothing (the default).
pub fn load(arg: Option<&str>) -> Result<Scenario, Failure> {
    let name = arg.unwrap_or(embedded::DEFAULT);
    let path = Path::new(name);
    if arg.is_some() && (path.exists() || looks_like_path(name)) {
        tracing::info!(path = %path.display(), "loading scenario file");
        return Scenario::load(path).map_err(|e| Failure::input(e.to_string()));
    }
    if let Some(text) = embedded::get(name) {
        tracing::info!(name, "loading shipped scenario");
        let origin = format!("scenarios/{name}.yaml");
        return Scenario::from_yaml(text, &origin, None)
            .map_err(|e| Failure::input(e.to_string()));
    }
    let names: Vec<&str> = embedded::EMBEDDED.iter().map(|(n, _)| *n).collect();
    let mut msg = format!("error: `{name}` is neither a scenario file nor a shipped scenario");
    if let Some(best) = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        msg.push_str(&format!("\n  hint: did you mean `{}`?", best.1));
    } else {
        msg.push_str("\n  hint: `delever list` shows the shipped scenarios");
    }
    Err(Failure::input(msg))
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || s.contains('\\') || s.ends_with(".yaml") || s.ends_with(".yml")
}

fn meta(s: &Scenario) -> RunMeta {
    RunMeta {
        name: s.name.clone(),
        description: s.description.clone(),
        as_of: s.as_of.clone(),
    }
}

/// Run the engine with a progress display on a terminal.
pub fn simulate(
    cli: &Cli,
    scenario: &Scenario,
    config: &EngineConfig,
) -> Result<Outcome, Failure> {
    let show = !cli.quiet && std::io::stderr().is_terminal();
    let bar = show.then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg} [{elapsed}]")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        pb.enable_steady_tick(Duration::from_millis(120));
        pb.set_message(format!("running {}", scenario.name));
        pb
    });
    let span = tracing::info_span!("run", scenario = %scenario.name);
    let _enter = span.enter();
    let mut observe = |r: &delever_engine::RoundTrace| {
        tracing::debug!(
            round = r.round,
            sales_usd = r.sales_usd,
            residual = r.residual,
            "round"
        );
        if let Some(pb) = &bar {
            pb.set_message(format!(
                "{}: round {} residual {:.1e} sales {}",
                scenario.name,
                r.round,
                r.residual,
                delever_report::usd(r.sales_usd)
            ));
        }
    };
    let result = delever_engine::run_with_observer(
        &scenario.network,
        &scenario.shocks,
        config,
        &mut observe,
    );
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    result.map_err(|e| {
        Failure::input(format!(
            "error: {}: {e}\n  hint: check the scenario's `shocks:` block",
            scenario
                .path
                .as_ref()
                .map_or_else(|| scenario.name.clone(), |p| p.display().to_string())
        ))
    })
}

fn run(
    cli: &Cli,
    arg: Option<&str>,
    out: &OutputArgs,
    trace: bool,
    max_rounds: Option<u32>,
) -> Result<i32, Failure> {
    let scenario = load(arg)?;
    let mut config = scenario.engine.clone();
    if let Some(n) = max_rounds {
        if n == 0 {
            return Err(Failure::input(
                "error: --max-rounds must be at least 1\n  hint: 1 gives the one-round answer",
            ));
        }
        config.max_rounds = n;
    }
    let outcome = simulate(cli, &scenario, &config)?;
    let report = RunReport::new(&meta(&scenario), &scenario.network, &outcome);
    let text = match Format::from(out.format) {
        Format::Table => {
            let mut t = report.to_table();
            if trace {
                t.push('\n');
                t.push_str(&report.trace_table());
            }
            t
        }
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
    };
    emit(&text, out.output.as_deref())?;
    let code = outcome.exit_code();
    if code == exit::NOT_CONVERGED {
        eprintln!(
            "warning: {} did not converge within {} rounds (residual {:.2e}); the report above says so\n  hint: raise `engine.max_rounds` or lower `engine.damping`",
            scenario.name, outcome.rounds, outcome.residual
        );
    }
    Ok(code)
}

fn validate(files: &[PathBuf]) -> Result<i32, Failure> {
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match Scenario::load(f) {
            Ok(s) => {
                let n = &s.network;
                ok.push(format!(
                    "ok  {}  ({} assets, {} holders, {} lenders, {} shocks)",
                    f.display(),
                    n.assets().len(),
                    n.holders().len(),
                    n.lenders().len(),
                    s.shocks.len()
                ));
            }
            Err(e) => errors.push(e.to_string()),
        }
    }
    if errors.is_empty() {
        emit(&(ok.join("\n") + "\n"), None)?;
        Ok(exit::OK)
    } else {
        let mut msg = errors.join("\n");
        if files.len() > 1 {
            msg.push_str(&format!(
                "\n{} of {} files are invalid",
                errors.len(),
                files.len()
            ));
        }
        Err(Failure::input(msg))
    }
}

fn describe(arg: Option<&str>, out: &OutputArgs) -> Result<i32, Failure> {
    let scenario = load(arg)?;
    let summary = scenario.network.summary();
    let report = SummaryReport::new(&scenario.name, &summary);
    let text = match Format::from(out.format) {
        Format::Table => report.to_table(),
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
    };
    emit(&text, out.output.as_deref())?;
    Ok(exit::OK)
}

fn export_dot(
    cli: &Cli,
    arg: Option<&str>,
    after_run: bool,
    output: Option<&Path>,
) -> Result<i32, Failure> {
    let scenario = load(arg)?;
    let outcome = if after_run {
        Some(simulate(cli, &scenario, &scenario.engine)?)
    } else {
        None
    };
    let text = delever_report::dot::render(&scenario.name, &scenario.network, outcome.as_ref());
    emit(&text, output)?;
    Ok(exit::OK)
}

fn list(out: &OutputArgs) -> Result<i32, Failure> {
    let mut rows = Vec::new();
    for (name, text) in embedded::EMBEDDED {
        let origin = format!("scenarios/{name}.yaml");
        // A shipped scenario that does not load is a bug; show it rather than hide it.
        let (summary, as_of) = match Scenario::from_yaml(text, &origin, None) {
            Ok(s) => (
                s.description.lines().next().unwrap_or("").trim().to_owned(),
                s.as_of,
            ),
            Err(_) => (
                "(needs its data files: run it from the scenarios/ directory)".to_owned(),
                String::new(),
            ),
        };
        rows.push((*name, as_of, summary));
    }
    let text = match Format::from(out.format) {
        Format::Table => {
            let mut t = Table::new(["scenario", "as of", "description"]).left(1).left(2);
            for (n, d, s) in &rows {
                t.row([n.to_string(), d.clone(), s.clone()]);
            }
            t.render()
        }
        Format::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(n, d, s)| serde_json::json!({"name": n, "as_of": d, "description": s}))
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Csv => {
            let mut s = String::from("name,as_of,description\n");
            for (n, d, desc) in &rows {
                s.push_str(&format!("{n},{d},\"{}\"\n", desc.replace('"', "\"\"")));
            }
            s
        }
    };
    emit(&text, out.output.as_deref())?;
    Ok(exit::OK)
}
