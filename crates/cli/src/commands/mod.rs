//! The subcommands, one module each; each returns an exit code or a [`Failure`].
//! This module dispatches and holds what several commands share: loading a scenario by
//! path or name, and running the engine with a progress display.

mod batch;
mod check;
mod convert;
mod describe;
mod docs;
mod explain;
mod export;
pub mod generate;
pub(crate) mod html;
mod list;
mod rank;
mod run;
mod targets;
mod validate;

pub use html::report as html_report;
pub(crate) use run::not_converged_message;
pub use run::{pick_variant, run_report};

use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::path::Path;
use std::time::Duration;

use delever_engine::{EngineConfig, Ledger, Outcome};
use delever_report::RunMeta;
use delever_scenario::{Scenario, Template};

use crate::args::{Cli, Command, ExportCommand, OutputArgs};
use crate::output::emit;
use crate::{Failure, embedded, exit};

/// Run the parsed command line, its tables fitted to the terminal when they go to one.
pub fn dispatch(cli: &Cli) -> Result<i32, Failure> {
    let terminal = output_of(cli.command.as_ref()).is_none() && std::io::stdout().is_terminal();
    let columns = std::env::var("COLUMNS").ok();
    // Asked of the terminal only when there is one.
    let measured = terminal
        .then(terminal_size::terminal_size)
        .flatten()
        .map(|(w, _)| usize::from(w.0));
    let style = table_style(cli, terminal, columns.as_deref(), measured);
    delever_report::render_with(style, || dispatch_command(cli))
}

/// How tables render: `--width N` fits them to N columns anywhere; otherwise only on a
/// terminal (`is_terminal`: stdout is one and no `-o` file), to COLUMNS when it is a
/// number, else the `measured` width, else 80; `--wide` never fits. Files and pipes keep
/// the full width so that their bytes never depend on a window.
pub(crate) fn table_style(
    cli: &Cli,
    is_terminal: bool,
    columns: Option<&str>,
    measured: Option<usize>,
) -> delever_report::Style {
    use delever_report::Style;
    if let Some(width) = cli.width {
        return Style::Fit { width };
    }
    if cli.wide || !is_terminal {
        return Style::Plain;
    }
    let width = columns
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|w| *w > 0)
        .or(measured)
        .unwrap_or(80);
    Style::Fit { width }
}

/// The `-o FILE` of a command that prints tables.
fn output_of(command: Option<&Command>) -> Option<&Path> {
    match command? {
        Command::Run { out, .. }
        | Command::Describe { out, .. }
        | Command::Rank { out, .. }
        | Command::List { out } => out.output.as_deref(),
        Command::Sweep { out, .. } | Command::Mc { out, .. } => out.output.as_deref(),
        Command::Explain { output, .. }
        | Command::Check { output, .. }
        | Command::Merge { output, .. } => output.as_deref(),
        _ => None,
    }
}

/// `f`'s tables as a markdown document under `heading` (`--format markdown`).
pub(crate) fn markdown(heading: &str, f: impl FnOnce() -> String) -> String {
    delever_report::markdown::document(heading, f)
}

// One arm per subcommand, each only unpacking its arguments: flat reads best.
#[allow(clippy::too_many_lines)]
fn dispatch_command(cli: &Cli) -> Result<i32, Failure> {
    match &cli.command {
        None => run::run(
            cli,
            None,
            &OutputArgs::default(),
            &run::RunArgs::default(),
            None,
        ),
        Some(Command::Run {
            scenario,
            out,
            trace,
            max_rounds,
            html,
            variant,
            compare_modes,
            set,
            holders,
        }) => run::run(
            cli,
            scenario.as_deref(),
            out,
            &run::RunArgs {
                trace: *trace,
                max_rounds: *max_rounds,
                variant: variant.as_deref(),
                compare_modes: *compare_modes,
                set,
                holders: *holders,
            },
            html.as_deref(),
        ),
        Some(Command::Explain {
            scenario,
            holder,
            format,
            output,
        }) => explain::explain(cli, scenario.as_deref(), holder, *format, output.as_deref()),
        Some(Command::Validate { files, format }) => validate::validate(files, *format),
        Some(Command::Check {
            paths,
            format,
            output,
            all,
            strict,
            bless,
            rel_tol,
        }) => check::check(
            paths,
            &check::CheckArgs {
                format: *format,
                output: output.as_deref(),
                all: *all,
                strict: *strict,
                bless: bless.then(|| rel_tol.unwrap_or(delever_scenario::DEFAULT_REL_TOL)),
            },
        ),
        Some(Command::Describe { scenario, out }) => describe::describe(scenario.as_deref(), out),
        Some(Command::Rank {
            scenario,
            variant,
            out,
        }) => rank::rank(cli, scenario.as_deref(), variant.as_deref(), out),
        Some(Command::Export {
            what:
                ExportCommand::Dot {
                    scenario,
                    after_run,
                    output,
                },
        }) => export::export_dot(cli, scenario.as_deref(), *after_run, output.as_deref()),
        Some(Command::Schema { output }) => {
            let schema = delever_scenario::json_schema();
            let mut text = serde_json::to_string_pretty(&schema)
                .map_err(|e| Failure::input(format!("error: rendering the schema: {e}")))?;
            text.push('\n');
            emit(&text, output.as_deref())?;
            Ok(exit::OK)
        }
        Some(Command::List { out }) => list::list(out),
        Some(Command::Sweep {
            scenario,
            vary,
            out,
            html,
            max_rounds,
        }) => batch::sweep(
            cli,
            scenario.as_deref(),
            vary,
            out,
            html.as_deref(),
            *max_rounds,
        ),
        Some(Command::Mc {
            scenario,
            draws,
            seed,
            out,
            draws_out,
            html,
            max_rounds,
        }) => batch::mc(
            cli,
            scenario.as_deref(),
            *draws,
            *seed,
            out,
            draws_out.as_deref(),
            html.as_deref(),
            *max_rounds,
        ),
        Some(Command::Merge {
            files,
            format,
            output,
            draws_out,
            html,
        }) => batch::merge(
            files,
            *format,
            output.as_deref(),
            draws_out.as_deref(),
            html.as_deref(),
        ),
        Some(Command::Generate(args)) => generate::generate(args, cli.quiet),
        Some(Command::Convert {
            accounts,
            holdings,
            to,
            out_dir,
            force,
        }) => convert::convert(
            accounts,
            holdings,
            *to,
            out_dir.as_deref(),
            *force,
            cli.quiet,
        ),
        Some(Command::Completions { shell, output }) => {
            docs::completions(*shell, output.as_deref())
        }
        Some(Command::Man { output }) => docs::man(output.as_deref()),
        Some(Command::Serve {
            scenarios,
            port,
            bind,
        }) => crate::serve::serve(scenarios, *port, *bind),
    }
}

/// Where a scenario argument points: a file, or a shipped scenario's embedded text.
pub enum Resolved {
    /// A scenario file.
    File(std::path::PathBuf),
    /// A shipped scenario: its name and text.
    Embedded(&'static str, &'static str),
}

/// Resolve a scenario given as a path, a shipped name, or nothing (the default).
pub fn resolve(arg: Option<&str>) -> Result<Resolved, Failure> {
    let name = arg.unwrap_or(embedded::DEFAULT);
    let path = Path::new(name);
    // `-` is standard input: the scenario crate reads it (once) wherever a path is read.
    if arg.is_some() && delever_scenario::is_stdin(path) {
        return Ok(Resolved::File(path.to_path_buf()));
    }
    if arg.is_some() && (path.exists() || looks_like_path(name)) {
        return Ok(Resolved::File(path.to_path_buf()));
    }
    if let Some((n, text)) = embedded::EMBEDDED.iter().find(|(n, _)| *n == name) {
        return Ok(Resolved::Embedded(n, text));
    }
    let names: Vec<&str> = embedded::EMBEDDED.iter().map(|(n, _)| *n).collect();
    let mut msg = format!("error: `{name}` is neither a scenario file nor a shipped scenario");
    if let Some(best) = names
        .iter()
        .map(|n| (strsim::jaro_winkler(n, name), *n))
        .filter(|(s, _)| *s > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        let _ = write!(msg, "\n  hint: did you mean `{}`?", best.1);
    } else {
        msg.push_str("\n  hint: `delever list` shows the shipped scenarios");
    }
    Err(Failure::input(msg))
}

/// Load a resolved scenario.
pub fn load_resolved(r: &Resolved) -> Result<Scenario, Failure> {
    match r {
        Resolved::File(path) => {
            tracing::info!(path = %path.display(), "loading scenario file");
            // The name must equal the file's stem only under `check`; elsewhere (ad-hoc
            // copies, pipes) a different name is a warning.
            let (scenario, warning) =
                Scenario::load_lenient(path).map_err(|e| Failure::input(e.to_string()))?;
            if let Some(w) = warning {
                crate::notice(&format!("warning: {w}"));
            }
            Ok(scenario)
        }
        Resolved::Embedded(name, text) => {
            tracing::info!(name, "loading shipped scenario");
            let origin = format!("scenarios/{name}.yaml");
            Scenario::from_yaml(text, &origin, None).map_err(|e| Failure::input(e.to_string()))
        }
    }
}

/// A resolved scenario as a [`Template`] (for `run --set`), with the stem rule a warning
/// as in [`load_resolved`].
pub fn load_template(r: &Resolved) -> Result<Template, Failure> {
    match r {
        Resolved::File(path) => {
            let (t, warning) =
                Template::load_lenient(path).map_err(|e| Failure::input(e.to_string()))?;
            if let Some(w) = warning {
                crate::notice(&format!("warning: {w}"));
            }
            Ok(t)
        }
        Resolved::Embedded(name, text) => {
            Template::from_yaml(text, &format!("scenarios/{name}.yaml"), None)
                .map_err(|e| Failure::input(e.to_string()))
        }
    }
}

/// Load a scenario given as a path, a shipped name, or nothing (the default).
pub fn load(arg: Option<&str>) -> Result<Scenario, Failure> {
    load_resolved(&resolve(arg)?)
}

fn looks_like_path(s: &str) -> bool {
    let ext = Path::new(s)
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    s.contains('/') || s.contains('\\') || matches!(ext.as_deref(), Some("yaml" | "yml"))
}

/// The report's view of a scenario.
pub fn meta(s: &Scenario) -> RunMeta {
    RunMeta {
        name: s.name.clone(),
        description: s.description.clone(),
        as_of: s.as_of.clone(),
    }
}

/// Run the engine with a progress display on a terminal.
pub fn simulate(cli: &Cli, scenario: &Scenario, config: &EngineConfig) -> Result<Outcome, Failure> {
    simulate_detailed(cli, scenario, config).map(|(o, _)| o)
}

/// Holders above which `run` leaves marginal contributions to `delever rank` (each is one
/// more run of the scenario).
pub const RUN_CONTRIBUTIONS_MAX_HOLDERS: usize = 100;

/// Account-book rows (accounts plus holdings, over every book) above which `run` leaves
/// marginal contributions to `delever rank`. Each contribution reruns the whole cascade
/// over every row: on a 1M-account book (6M rows) and its 8 other holders that is nine
/// more runs, more CPU than the load and the run together (docs/performance.md).
pub const RUN_CONTRIBUTIONS_MAX_BOOK_ROWS: usize = 1_000_000;

/// Why `run` leaves contributions to `delever rank` on a network of `holders` holders whose
/// account books have `book_rows` rows in all, or `None` when it computes them.
#[must_use]
pub fn contributions_left_to_rank(holders: usize, book_rows: usize) -> Option<String> {
    if holders > RUN_CONTRIBUTIONS_MAX_HOLDERS {
        Some(format!(
            "not computed in `run` for {holders} holders (more than {RUN_CONTRIBUTIONS_MAX_HOLDERS}: one more run each); `delever rank` computes them"
        ))
    } else if book_rows > RUN_CONTRIBUTIONS_MAX_BOOK_ROWS {
        Some(format!(
            "not computed in `run` for account books of {book_rows} rows (more than {RUN_CONTRIBUTIONS_MAX_BOOK_ROWS}: one more run of every row per holder); `delever rank` computes them"
        ))
    } else {
        None
    }
}

/// Accounts plus holdings rows over every account book of `net`.
fn book_rows(net: &delever_graph::Network) -> usize {
    net.holders()
        .iter()
        .map(|h| match &h.kind {
            delever_graph::HolderKind::AccountBook { book, .. } => book.len() + book.holdings(),
            _ => 0,
        })
        .sum()
}

/// The systemic metrics of a run (`outcome`, `ledger` with `config`): GLT vulnerability,
/// DebtRank, and marginal contributions when `all` or the scenario is within
/// [`RUN_CONTRIBUTIONS_MAX_HOLDERS`] holders and [`RUN_CONTRIBUTIONS_MAX_BOOK_ROWS`] book rows.
pub fn systemic(
    scenario: &Scenario,
    config: &EngineConfig,
    outcome: &Outcome,
    ledger: &Ledger,
    all: bool,
    quiet: bool,
) -> Result<delever_report::SystemicReport, Failure> {
    let net = &scenario.network;
    let _span = tracing::info_span!("systemic", scenario = %scenario.name).entered();
    let n = net.holders().len();
    // One counterfactual run per holder: a bar when that is long work on a terminal.
    let bar = (!quiet && std::io::stderr().is_terminal() && n > 50).then(|| {
        let pb = indicatif::ProgressBar::new(n as u64);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:30} {pos}/{len} counterfactual runs [{elapsed}, about {eta} left]",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    });
    let tick = || {
        if let Some(pb) = &bar {
            pb.inc(1);
        }
    };
    let contributions = match contributions_left_to_rank(n, book_rows(net)) {
        Some(why) if !all => Err(why),
        _ => Ok(&tick as &(dyn Fn() + Sync)),
    };
    let s = delever_report::SystemicReport::compute(
        net,
        &scenario.shocks,
        config,
        (outcome, ledger),
        contributions,
    );
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    s.map_err(|e| {
        Failure::input(format!(
            "error: {}: a counterfactual run failed: {e}",
            scenario.name
        ))
    })
}

/// [`simulate`], also returning the run's [`Ledger`].
pub fn simulate_detailed(
    cli: &Cli,
    scenario: &Scenario,
    config: &EngineConfig,
) -> Result<(Outcome, Ledger), Failure> {
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
    let result =
        delever_engine::run_detailed(&scenario.network, &scenario.shocks, config, &mut observe);
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

#[cfg(test)]
mod tests {
    use clap::Parser as _;
    use delever_report::Style;

    use super::{contributions_left_to_rank, table_style};
    use crate::args::Cli;

    /// A terminal's tables fit COLUMNS, else the measured width, else 80; pipes and files
    /// keep the full width; `--wide` and `--width N` override.
    #[test]
    fn tables_fit_a_terminal_only() {
        let cli =
            |args: &[&str]| Cli::parse_from(std::iter::once("delever").chain(args.iter().copied()));
        let plain = cli(&[]);
        assert_eq!(
            table_style(&plain, true, Some("100"), Some(120)),
            Style::Fit { width: 100 }
        );
        assert_eq!(
            table_style(&plain, true, Some("wide"), Some(120)),
            Style::Fit { width: 120 }
        );
        assert_eq!(
            table_style(&plain, true, None, None),
            Style::Fit { width: 80 }
        );
        assert_eq!(
            table_style(&plain, false, Some("80"), Some(80)),
            Style::Plain
        );
        assert_eq!(
            table_style(&cli(&["--wide"]), true, Some("80"), None),
            Style::Plain
        );
        assert_eq!(
            table_style(&cli(&["--width", "60"]), false, None, None),
            Style::Fit { width: 60 }
        );
    }

    #[test]
    fn run_leaves_contributions_to_rank_past_either_budget() {
        assert_eq!(contributions_left_to_rank(100, 1_000_000), None);
        assert_eq!(contributions_left_to_rank(1, 0), None);
        let many = contributions_left_to_rank(101, 0).expect("over the holder budget");
        assert!(
            many.contains("101 holders") && many.contains("delever rank"),
            "{many}"
        );
        let rows = contributions_left_to_rank(9, 6_000_000).expect("over the row budget");
        assert!(
            rows.contains("account books of 6000000 rows") && rows.contains("delever rank"),
            "{rows}"
        );
    }
}
