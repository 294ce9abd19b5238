//! The `delever` command line: argument parsing (clap), logging, and the commands.
//!
//! The binary (`crates/cli/src/main.rs`) only calls [`main`], which returns the process
//! exit code of the contract: 0 success, 1 a `check` expectation failed, 2 bad input or
//! usage, 3 the engine did not converge (the report is still written).

pub mod api;
mod args;
mod commands;
mod embedded;
mod output;
pub mod serve;

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{CommandFactory as _, FromArgMatches as _};

pub use args::{Cli, ColorChoice};

/// `-q`: notes, warnings and "wrote FILE" confirmations are not printed.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Whether `-q` was given (set once, at start-up).
pub(crate) fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Print a note or warning on stderr, unless `-q`.
pub(crate) fn notice(text: &str) {
    if !quiet() {
        eprintln!("{}", text.trim_end());
    }
}

/// Whether to colour a stream: `always` and `never` say so; `auto` colours a terminal,
/// unless `NO_COLOR` is set to anything but the empty string (no-color.org).
pub fn use_color(
    choice: ColorChoice,
    is_terminal: bool,
    no_color: Option<&std::ffi::OsStr>,
) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && no_color.is_none_or(std::ffi::OsStr::is_empty),
    }
}

/// The `--color` given on the command line, read before clap parses it so that clap's
/// own help and errors follow it too. The last one wins, as clap decides.
fn color_arg(args: &[std::ffi::OsString]) -> Option<ColorChoice> {
    let mut found = None;
    let mut it = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(a) = it.next() {
        if a == "--" {
            break;
        }
        let value = if a == "--color" {
            it.next()
        } else {
            a.strip_prefix("--color=")
        };
        found = match value {
            Some("always") => Some(ColorChoice::Always),
            Some("never") => Some(ColorChoice::Never),
            Some("auto") => Some(ColorChoice::Auto),
            _ => found,
        };
    }
    found
}

/// Exit codes (a contract: scripts and CI depend on them).
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A `check` expectation failed.
    pub const CHECK_FAILED: i32 = 1;
    /// Bad input or usage; the message is on stderr and nothing partial was written.
    pub const BAD_INPUT: i32 = 2;
    /// The engine did not converge within its round limit; the report was still written.
    pub const NOT_CONVERGED: i32 = 3;
}

/// An error that ends a command with a given exit code after printing `message`.
#[derive(Debug)]
pub struct Failure {
    /// Exit code.
    pub code: i32,
    /// What to print on stderr (already formatted, may span lines).
    pub message: String,
}

impl Failure {
    /// Bad input or usage (exit 2).
    pub fn input(message: impl Into<String>) -> Self {
        Failure {
            code: exit::BAD_INPUT,
            message: message.into(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::input(format!("{e:#}"))
    }
}

/// Run the command line and return the exit code.
pub fn main() -> i32 {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let clap_color = match color_arg(&args).unwrap_or_default() {
        ColorChoice::Auto if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) => {
            clap::ColorChoice::Never
        }
        // clap decides per stream whether it is a terminal.
        ColorChoice::Auto => clap::ColorChoice::Auto,
        ColorChoice::Always => clap::ColorChoice::Always,
        ColorChoice::Never => clap::ColorChoice::Never,
    };
    let parsed = Cli::command()
        .color(clap_color)
        .try_get_matches_from(&args)
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return if e.use_stderr() {
                exit::BAD_INPUT
            } else {
                exit::OK
            };
        }
    };
    QUIET.store(cli.quiet, Ordering::Relaxed);
    let ansi = use_color(
        cli.color,
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    init_logging(cli.verbose, cli.quiet, ansi);
    if let Err(f) = check_threads(cli.threads, std::env::var("RAYON_NUM_THREADS").ok()) {
        eprintln!("{}", f.message.trim_end());
        return f.code;
    }
    if let Some(n) = cli.threads {
        // Results do not depend on the thread count (fixed-order reductions); this only
        // trades speed for CPU.
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build_global()
        {
            tracing::warn!("could not set the thread count: {e}");
        }
    }
    match commands::dispatch(&cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("{}", f.message.trim_end());
            f.code
        }
    }
}

/// The floor of the thread cap: any count up to this is accepted on every machine, so a
/// command line that works on a workstation works on a two-core CI runner too.
pub const THREADS_FLOOR: usize = 256;

/// Most worker threads `--threads` or `RAYON_NUM_THREADS` may ask for: four per core, and
/// at least [`THREADS_FLOOR`]. Results do not depend on the count, so threads beyond the
/// cores only add overhead, and rayon's start-up cost grows faster than the count
/// (measured on two cores: 256 threads 0.04 s, 512 0.6 s, 1024 3.3 s, 100,000 minutes).
pub fn max_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    cores.saturating_mul(4).max(THREADS_FLOOR)
}

/// Refuse a thread count above [`max_threads`], from `--threads` or (when it is not
/// given) the `RAYON_NUM_THREADS` environment variable rayon reads.
fn check_threads(flag: Option<usize>, env: Option<String>) -> Result<(), Failure> {
    let (what, n) = match (flag, env) {
        (Some(n), _) => (format!("--threads {n}"), n),
        (None, Some(v)) => match v.trim().parse::<usize>() {
            Ok(n) => (format!("RAYON_NUM_THREADS={n}"), n),
            // rayon ignores a value it cannot read; so do we.
            Err(_) => return Ok(()),
        },
        (None, None) => return Ok(()),
    };
    let max = max_threads();
    if n > max {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        return Err(Failure::input(format!(
            "error: {what}: at most {max} worker threads here (4 per core, at least {THREADS_FLOOR})\n  hint: results are the same at any count; this machine has {cores} cores, so --threads {cores} (or no --threads) is fastest"
        )));
    }
    Ok(())
}

/// Logs go to stderr, coloured only when `ansi` (see [`use_color`]).
fn init_logging(verbose: u8, quiet: bool, ansi: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // RUST_LOG wins when set, so `RUST_LOG=delever_engine=trace` works as users expect.
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(verbose >= 2)
        .try_init();
}
