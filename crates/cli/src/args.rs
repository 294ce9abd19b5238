//! Command-line arguments (clap derive). The help text is the user's first manual.

// Doc comments here are the `--help` text users read, not rustdoc: markdown backticks and
// angle brackets would show up literally in the terminal.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const ABOUT: &str = "Simulate deleveraging cascades: a price shock pushes leveraged holders past \
their limits, their forced sales move prices, and lower prices force more sales — iterated \
to a fixed point.";

const LONG_ABOUT: &str = "\
Simulate deleveraging cascades: a price shock pushes leveraged holders (margin accounts,
leveraged ETFs, hedge funds on prime-broker margin, banks) past their limits; their forced
sales move prices; lower prices force more sales. delever iterates forced sales and price
impact to a fixed point and reports final prices, who sold, who was called or defaulted,
lender losses and how much the cascade amplified the first shock.

With no command, delever runs the embedded default scenario (semis-sentiment-reversal).

Scenarios are YAML files (see docs/scenario-format.md, or `delever schema`). Wherever a
command takes a SCENARIO, give a file path or the name of a shipped scenario (`delever list`).";

const AFTER_HELP: &str = "\
Examples:
  delever                                   run the default scenario, print the summary
  delever run scenarios/archegos-2021-03.yaml --trace
  delever run my.yaml --format json -o report.json
  delever validate scenarios/*.yaml         check files, precise errors, exit 2 if any is bad
  delever check scenarios/                  regression: compare runs with their expect: blocks
  delever describe my.yaml                  where the leveraged exposure sits
  delever run my.yaml --html report.html    charts, network and a round-by-round player
  delever explain my.yaml --holder alice    why alice sold: balance sheet and rule, per round
  delever export dot my.yaml | dot -Tsvg > network.svg

Exit codes: 0 ok; 1 a `check` expectation failed; 2 bad input or usage (nothing partial is
written); 3 the engine did not converge (the report is still written).
Logs go to stderr: -v info, -vv debug, -vvv trace; RUST_LOG overrides (e.g.
RUST_LOG=delever_engine=debug).";

/// The `delever` command line.
#[derive(Debug, Parser)]
#[command(
    name = "delever",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = AFTER_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// More logging on stderr (-v info, -vv debug, -vvv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr; no progress display.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Worker threads (default: all cores). Results are identical at any count.
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(usize))]
    pub threads: Option<usize>,
    /// What to do (default: `run` on the embedded default scenario).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum FormatArg {
    /// Aligned tables for people.
    #[default]
    Table,
    /// One JSON document with stable keys.
    Json,
    /// Tidy CSV: scope,id,metric,value.
    Csv,
}

impl From<FormatArg> for delever_report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => delever_report::Format::Table,
            FormatArg::Json => delever_report::Format::Json,
            FormatArg::Csv => delever_report::Format::Csv,
        }
    }
}

/// Output format of `explain`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ExplainFormat {
    /// Balance sheet table and the rule's numbers, for people.
    #[default]
    Table,
    /// One JSON document.
    Json,
}

/// Where output goes.
#[derive(Debug, Clone, Args, Default)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write to FILE instead of stdout (written whole or not at all).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario's cascade to its fixed point and report it.
    #[command(after_help = "\
The table shows headline totals (initial loss, total loss, amplification, forced sales,
margin calls, defaults, lender losses), then assets and holder kinds. --format json gives
the full report with stable keys (see ARCHITECTURE.md, 'JSON report'). Exit code 3 means
the iteration hit its round limit: the report is still written and says so.")]
    Run {
        /// Scenario file or shipped scenario name (default: the embedded default).
        scenario: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
        /// Also print the round-by-round trace (tables only; JSON always has it).
        #[arg(long)]
        trace: bool,
        /// Override the scenario's round limit (1 gives the one-round answer).
        #[arg(long, value_name = "N")]
        max_rounds: Option<u32>,
        /// Also write a self-contained HTML report (charts, network, round-by-round player)
        /// to FILE: one file, no network requests; open it in any browser or print it.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Run the scenario's variant NAME (from its `variants:` block) instead of the base.
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Run the equilibrium (fixed point) and the sequential (rounds) mode and print them
        /// side by side: headline totals, per-asset drawdowns and the gap between them.
        #[arg(long, conflicts_with = "html")]
        compare_modes: bool,
    },
    /// Why a holder sold: its balance sheet each round, the rule that fired and its numbers.
    #[command(after_help = "\
Re-evaluates every round of the run at the prices it decided at and shows the holder's
balance sheet (holdings V, cash, loan, equity E, the ratio its rule tests), then the test
its rule made with the numbers in it, e.g.
  E = $4.10B < m·V = 0.30 × $15.20B = $4.56B → margin call: sell y = V − E/m_r = ...
An unknown holder id is exit code 2 with the closest ids suggested.

Example:  delever explain semis-sentiment-reversal --holder SOXL")]
    Explain {
        /// Scenario file or shipped scenario name (default: the embedded default).
        scenario: Option<String>,
        /// The holder to explain (its id in the scenario).
        #[arg(long, value_name = "ID")]
        holder: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExplainFormat::Table)]
        format: ExplainFormat,
        /// Write to FILE instead of stdout (written whole or not at all).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check scenario files and report every problem with file:line:column and a hint.
    Validate {
        /// Scenario files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Run scenarios and compare them with their `expect:` blocks (regression tests).
    #[command(after_help = "\
With no argument, checks every shipped scenario; a directory means its *.yaml files.
Scenarios run in parallel; the output order is fixed. Exit code 1 when any expectation
fails (the failing figures are shown side by side), 2 when a scenario cannot be loaded.

Example (CI):  delever check scenarios/")]
    Check {
        /// Scenario files or directories (default: the shipped scenarios).
        #[arg(value_name = "DIR|FILE")]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        out: OutputArgs,
        /// Show every expectation, not only the failed ones.
        #[arg(long)]
        all: bool,
    },
    /// Summarise a scenario's network: where the leveraged exposure sits, by kind and asset.
    Describe {
        /// Scenario file or shipped scenario name (default: the embedded default).
        scenario: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Export the network in another format.
    Export {
        /// What to export.
        #[command(subcommand)]
        what: ExportCommand,
    },
    /// Print the JSON Schema of the scenario format (for editors and validators).
    Schema {
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the named scenarios shipped with delever.
    List {
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Write a seeded synthetic scenario: Caccioli banks, GLT banks or a retail margin book.
    #[command(after_help = "\
Each generator draws a random system from its seed and writes DIR/NAME.yaml (and, for
retail-book, DIR/NAME-retail-accounts.csv and DIR/NAME-retail-holdings.csv). The same
parameters and seed always write byte-identical files; the YAML's description records the
parameters and the command that regenerates it. Existing files are kept unless --force;
every file is written whole or not at all. Bad parameters exit with code 2.

Examples:
  delever generate caccioli --mu 4 --leverage 20 --seed 7 --out-dir gen/
  delever generate glt --banks 90 --assets 10 --out-dir gen/ --name glt-90
  delever generate retail-book --accounts 1000000 --out-dir gen/
  delever run gen/caccioli-seed7.yaml

The probability of contagion over many seeds (the paper's window of diversification) is
drawn by: cargo run --release -p delever-generate --example caccioli_window")]
    Generate(crate::commands::generate::GenerateArgs),
}

/// Export targets.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The network as graphviz DOT: `delever export dot S.yaml | dot -Tsvg > net.svg`.
    Dot {
        /// Scenario file or shipped scenario name (default: the embedded default).
        scenario: Option<String>,
        /// Run the scenario first and colour nodes by final status.
        #[arg(long)]
        after_run: bool,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}
