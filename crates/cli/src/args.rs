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
command takes a SCENARIO, give a file path, the name of a shipped scenario (`delever list`),
or - to read it from standard input (`cat my.yaml | delever run -`).";

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

Exit codes: 0 ok; 1 a `check` expectation failed; 2 bad input or usage (nothing is
written); 3 the engine did not converge (the report is still written).
Output files (-o, --html, --draws-out) are written all or none; a link's target is
replaced, /dev/null and FIFOs are written through, /dev/stdout is stdout.
Logs go to stderr: -v info, -vv debug, -vvv trace; RUST_LOG overrides (e.g.
RUST_LOG=delever_engine=debug).";

/// `--version`: the crate version, and the commit and its date when built from a git
/// checkout (build.rs; plain version from a tarball).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), env!("DELEVER_GIT_SUFFIX"));

/// The `delever` command line.
#[derive(Debug, Parser)]
#[command(
    name = "delever",
    version = VERSION,
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
    /// Worker threads (default and 0: all cores; at most 4 per core or 256). Results are
    /// identical at any count.
    #[arg(
        long,
        global = true,
        value_name = "N",
        value_parser = whole_usize,
        allow_negative_numbers = true
    )]
    pub threads: Option<usize>,
    /// When to colour output: auto (only on a terminal, and not when NO_COLOR is set),
    /// always, never. Decided per stream: logs on stderr, tables on stdout.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Tables at full width even on a narrow terminal (by default, tables printed to a
    /// terminal fit its width: headers wrap, then the rightmost columns are left out with
    /// a note). Files and pipes always get the full width.
    #[arg(long, global = true, conflicts_with = "width")]
    pub wide: bool,
    /// Fit tables to N columns (at least 40), also into files and pipes (default: the
    /// terminal's width, from COLUMNS or the terminal, when stdout is one).
    #[arg(long, global = true, value_name = "N", value_parser = whole_usize)]
    pub width: Option<usize>,
    /// What to do (default: `run` on the embedded default scenario).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour a stream only when it is a terminal and NO_COLOR is unset or empty.
    #[default]
    Auto,
    /// Always colour (even into files and pipes).
    Always,
    /// Never colour.
    Never,
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
    /// GitHub-flavoured markdown: the tables under headings, the other lines as lists.
    Markdown,
}

impl From<FormatArg> for delever_report::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => delever_report::Format::Table,
            FormatArg::Json => delever_report::Format::Json,
            FormatArg::Csv => delever_report::Format::Csv,
            FormatArg::Markdown => delever_report::Format::Markdown,
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
    /// GitHub-flavoured markdown: the tables under headings, the other lines as lists.
    Markdown,
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
margin calls, defaults, lender losses), then assets, holder kinds, the holders that lost
most (--holders N|all) and each lender's losses by borrower. --format json gives
the full report with stable keys (see ARCHITECTURE.md, 'JSON report'). Exit code 3 means
the iteration hit its round limit: the report is still written and says so.")]
    Run {
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
        scenario: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
        /// Also print the round-by-round trace (tables only; JSON always has it).
        #[arg(long)]
        trace: bool,
        /// Override the scenario's round limit (1 gives the one-round answer).
        #[arg(long, value_name = "N", value_parser = rounds, allow_negative_numbers = true)]
        max_rounds: Option<u32>,
        /// Also write a self-contained HTML report (charts, network, round-by-round player)
        /// to FILE: one file, no network requests; open it in any browser or print it.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Run the scenario's variant NAME (from its `variants:` block) instead of the base.
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        /// Set one field before running: PATH=VALUE, with sweep's field paths
        /// (shocks[0].return=-0.3, holders[*].margin.maintenance=0.3); repeatable, applied
        /// in order.
        #[arg(long = "set", value_name = "PATH=VALUE", conflicts_with = "variant")]
        set: Vec<String>,
        /// Run the equilibrium (fixed point) and the sequential (rounds) mode and print them
        /// side by side: headline totals, per-asset drawdowns and the gap between them.
        #[arg(long, conflicts_with = "html")]
        compare_modes: bool,
        /// Rows of the 'Holders by loss' table and of each lender's losses by borrower:
        /// a number (0 leaves the tables out) or `all` (default 10). JSON and CSV always
        /// list every holder and borrower.
        #[arg(long, value_name = "N|all", value_parser = holders_count)]
        holders: Option<usize>,
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
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
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
    #[command(after_help = "\
Each argument is a scenario file, a directory (its *.yaml files) or a shipped scenario's
name. Exit code 2 when any is invalid. --format json prints one object per scenario
(name, path, ok, and its errors with file, line, column, field, message and hint) and
still exits 2 when any is invalid; the document goes to stdout, nothing to stderr.")]
    Validate {
        /// Scenario files, directories or shipped scenario names.
        #[arg(required = true, value_name = "FILE|DIR|NAME")]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ValidateFormat::Text)]
        format: ValidateFormat,
    },
    /// Run scenarios and compare them with their `expect:` blocks (regression tests).
    #[command(after_help = "\
With no argument, checks every shipped scenario; a directory means its *.yaml files.
Scenarios run in parallel; the output order is fixed. Exit code 1 when any expectation
fails (the failing figures are shown side by side, with their difference) or a scenario
did not converge without its expect: block saying `termination: max_rounds` (or, with
--strict, has no expect: block); 2 when a scenario cannot be loaded (then no report is
written).

--bless rewrites each file's top-level expect: block from the current run (termination,
every total, each asset's price_after and drawdown, each holder's status and
equity_after; approx bounds at --rel-tol, default 1e-6, exact for counts and zeros).
Only the block's lines change; comments and layout elsewhere stay. Files are replaced
atomically, all or none; symbolic links, devices and shipped scenarios are refused.
Variants' own expect: blocks are left alone.

Examples (CI):
  delever check scenarios/ --strict --format junit -o check.xml
  delever check my.yaml --bless && git diff my.yaml")]
    Check {
        /// Scenario files, directories or shipped scenario names (default: every shipped
        /// scenario).
        #[arg(value_name = "DIR|FILE|NAME")]
        paths: Vec<PathBuf>,
        /// Output format (junit: JUnit XML for CI test reports).
        #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
        format: CheckFormat,
        /// Write to FILE instead of stdout (written whole or not at all).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Show every expectation, not only the failed ones.
        #[arg(long)]
        all: bool,
        /// Fail scenarios (and variants) that have no expect: block.
        #[arg(long)]
        strict: bool,
        /// Write (or replace) each scenario file's top-level expect: block from this run,
        /// in place, keeping the rest of the file as it is; then check.
        #[arg(long)]
        bless: bool,
        /// With --bless: the relative tolerance of the written approx bounds.
        #[arg(
            long,
            value_name = "X",
            requires = "bless",
            value_parser = rel_tol,
            allow_negative_numbers = true
        )]
        rel_tol: Option<f64>,
    },
    /// Run a scenario over a grid of parameter values: where is the cliff?
    #[command(after_help = "\
Each --vary names a scenario field by its path and the values it takes:
  PATH=START:STOP:STEPS      STEPS (at most 10^6) evenly spaced values, both ends included (-0.05:-0.40:8)
  PATH=START:STOP:STEPS:log  evenly spaced in the logarithm (1e-4:1e-2:5:log)
  PATH=v1,v2,...             a list of numbers or words (engine.mode=equilibrium,sequential)
Paths are keys and selectors: shocks[0].return, holders[hf-1].margin.maintenance (an id),
holders[*].margin.maintenance (every holder), assets[NVDA].impact.y, engine.damping. See
docs/scenario-format.md, 'Field paths'. The grid is every combination (the last --vary
varies fastest); variants run in parallel and the rows come out in grid order.

Output: one row per variant with the run's totals (amplification, total and initial loss,
forced sales, calls, defaults, lender losses, loss per holder kind). --html draws the
threshold curves (amplification against the first parameter, one curve per value of the
second) and marks each curve's cliff. Exit code 3 when any variant did not converge (its
row says so); 2 for a bad path or a value the scenario format refuses (nothing written).

Many machines: --shard K/N runs the K-th of N slices (K from 0) and writes a shard file;
`delever merge` combines the N files into exactly what one run would have printed. See
docs/scaling.md (Slurm job arrays, Kubernetes indexed jobs).

Examples:
  delever sweep semis-sentiment-reversal --vary shocks[0].return=-0.05:-0.40:36 --html cliff.html
  delever sweep my.yaml --vary shocks[0].return=-0.1:-0.5:41 --vary defaults.impact.y=0.5,1,1.5 --format csv -o grid.csv
  delever sweep my.yaml --vary engine.mode=equilibrium,sequential --vary shocks[0].return=-0.2,-0.3")]
    Sweep {
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
        scenario: Option<String>,
        /// A field and its values: PATH=START:STOP:STEPS or PATH=v1,v2,... (repeatable).
        #[arg(long = "vary", value_name = "PATH=VALUES", required = true)]
        vary: Vec<String>,
        #[command(flatten)]
        out: BatchOutputArgs,
        /// Also write a self-contained HTML page of threshold curves to FILE.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Override every variant's round limit.
        #[arg(long, value_name = "N", value_parser = rounds, allow_negative_numbers = true)]
        max_rounds: Option<u32>,
    },
    /// Draw random shocks from the scenario's distribution: the cascade's loss distribution.
    #[command(after_help = "\
The scenario's monte_carlo: block names the distribution: multivariate normal or Student-t
log-returns over a horizon, per-asset vols and a correlation (docs/scenario-format.md). Each
draw shocks the assets, runs the cascade to its fixed point and records its totals. The
summary gives, for total loss, initial loss, forced sales, amplification, lender losses,
the loss of each holder kind and the loss of each named lender: mean, quantiles, value at risk (the α-quantile) and expected
shortfall (the mean of the worst ⌈(1−α)n⌉ draws) at 95%, 99% and 99.9%; and the
probabilities of a lender default, a holder default and a margin call.

Draw i depends only on --seed and i: the same study comes out at any --threads and any
sharding. Exit code 3 when any draw did not converge (counted, and said).

Examples:
  delever mc --draws 100000 --seed 7
  delever mc my.yaml --draws 20000 --format json -o mc.json --draws-out draws.csv --html mc.html
  delever mc my.yaml --draws 1000000 --seed 7 --shard 3/16 -o shard-3.jsonl")]
    Mc {
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
        scenario: Option<String>,
        /// Number of draws.
        #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = whole_u64, allow_negative_numbers = true)]
        draws: u64,
        /// Seed of the random draws.
        #[arg(long, value_name = "S", default_value_t = 1, value_parser = whole_u64, allow_negative_numbers = true)]
        seed: u64,
        #[command(flatten)]
        out: BatchOutputArgs,
        /// Also write every draw's figures to FILE (CSV, or JSON lines if FILE ends in .jsonl):
        /// its totals, each kind's and each lender's loss, and each drawn asset's return.
        #[arg(long, value_name = "FILE")]
        draws_out: Option<PathBuf>,
        /// Also write a self-contained HTML page (loss histogram, VaR/ES, shock vs loss).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// Override every draw's round limit.
        #[arg(long, value_name = "N", value_parser = rounds, allow_negative_numbers = true)]
        max_rounds: Option<u32>,
    },
    /// Combine the shard files of a sweep or Monte Carlo run (--shard K/N) into its output.
    #[command(after_help = "\
The shards must come from one run (same scenario text, grid or seed and draws, same delever
version: their headers carry a fingerprint) and cover every K of N exactly once. The output
is byte for byte what the run without --shard prints with the same --format.

Example:
  delever merge shards/*.jsonl --format csv -o sweep.csv")]
    Merge {
        /// Shard files written by `sweep` or `mc` with --shard K/N (a directory: its *.jsonl).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = BatchFormat::Table)]
        format: BatchFormat,
        /// Write to FILE instead of stdout (written whole or not at all).
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
        /// Monte Carlo shards: also write every draw's figures to FILE.
        #[arg(long, value_name = "FILE")]
        draws_out: Option<PathBuf>,
        /// Also write the HTML page (threshold curves, or the loss distribution).
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
    },
    /// Rank the holders by who makes the cascade bad (contribution, GLT S and IV, DebtRank)
    #[command(after_help = "\
contribution: the cascade loss (total − initial) with the holder's forced selling switched
off, against the full run — one more run per holder that sold, in parallel (the figures are
the same at any --threads). systemicness S and indirect vulnerability IV: Greenwood, Landier
& Thesmar (2015), for the holders that target their leverage (S sums to the aggregate
vulnerability AV). DebtRank: Battiston et al. (2012) in Bardoscia et al.'s (2015) linear
form, on interbank claims and margin loans, if the holder alone defaulted. What each does
and does not say: docs/model.md, 'Systemic metrics'.

Example:  delever rank eba-2018-leverage")]
    Rank {
        /// Scenario file or shipped scenario name (default: the embedded default).
        scenario: Option<String>,
        /// Rank the scenario's variant NAME (from its `variants:` block).
        #[arg(long, value_name = "NAME")]
        variant: Option<String>,
        #[command(flatten)]
        out: OutputArgs,
    },
    /// Summarise a scenario's network: where the leveraged exposure sits, by kind and asset.
    Describe {
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
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
    /// Write a seeded synthetic scenario (Caccioli, GLT, retail book) or the Caccioli window.
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

The probability of contagion over many seeds (the paper's window of diversification),
as SVG and CSV with a progress bar:
  delever generate caccioli-window --out-dir window/")]
    Generate(crate::commands::generate::GenerateArgs),
    /// Convert an account book's CSV tables to Parquet or Arrow IPC files.
    #[command(after_help = "\
Reads ACCOUNTS (`account,cash,loan`) and HOLDINGS (`account,asset,shares`), checks them as
a scenario's account book is checked (header, amounts, unique account ids, holdings
grouped by account in the accounts' order; asset ids are checked when a scenario loads
the book), and writes STEM.parquet (zstd, row groups of 262,144 rows) or STEM.arrow
beside each input, or into --out-dir. Bad rows are told by file, line and column; exit
code 2 and nothing written. Point an account_book at the result with accounts_parquet and
holdings_parquet (or accounts_arrow and holdings_arrow).

Example:
  delever convert books/accounts.csv books/holdings.csv --to parquet
  delever generate retail-book --accounts 1000000 --out-dir gen/ && \\
    delever convert gen/retail-book-seed1-retail-accounts.csv gen/retail-book-seed1-retail-holdings.csv")]
    Convert {
        /// The accounts CSV (`account,cash,loan`).
        accounts: PathBuf,
        /// The holdings CSV (`account,asset,shares`).
        holdings: PathBuf,
        /// The format to write.
        #[arg(long, value_enum, default_value_t = ConvertTo::Parquet)]
        to: ConvertTo,
        /// Write into DIR (created if missing) instead of beside each input.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
        /// Overwrite files that already exist.
        #[arg(long)]
        force: bool,
    },
    /// Print a shell completion script to stdout (or -o FILE).
    #[command(after_help = "\
Examples:
  delever completions bash > ~/.local/share/bash-completion/completions/delever
  delever completions zsh > ~/.zfunc/_delever      (with fpath+=~/.zfunc before compinit)
  delever completions fish > ~/.config/fish/completions/delever.fish
  delever completions powershell >> $PROFILE")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the man page (roff) to stdout, or write one page per command into -o DIR.
    #[command(after_help = "\
Examples:
  delever man | man -l -
  delever man -o /usr/local/share/man/man1     writes delever.1, delever-run.1, ...")]
    Man {
        /// Write delever.1 and one page per subcommand (delever-run.1, ...) into DIR.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Serve a local web page for teaching: sliders re-solve a scenario live.
    #[command(after_help = "\
Serves one self-contained page (no external requests) at http://127.0.0.1:PORT/: pick a
shipped scenario, one given here, or upload one (at most 1 MiB, validated like a file);
move the sliders its `teach:` block declares and every move re-solves on the server, as
`delever run --set PATH=VALUE` would, redrawing prices, sales, the network and the round
player (both equilibria when there are two). Nothing is written to disk. The first line
on stdout is the address. Ctrl-C stops the server.

Examples:
  delever serve                                   the shipped scenarios on port 8080
  delever serve my.yaml --port 0                  also my.yaml, on a free port
  delever serve --bind 0.0.0.0                    reachable from the class network (warns)")]
    Serve {
        /// Scenario files or shipped names to offer first (every shipped scenario is offered).
        #[arg(value_name = "SCENARIO")]
        scenarios: Vec<String>,
        /// Port to listen on (0: a free port, printed on stdout).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on; anything but loopback is reachable from other machines.
        #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
    },
}

/// Output format of `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum CheckFormat {
    /// Aligned tables for people.
    #[default]
    Table,
    /// One JSON document: numeric actual, expected, delta and rel_delta per check.
    Json,
    /// CSV: one row per expectation.
    Csv,
    /// JUnit XML: one testsuite per scenario, one testcase per expectation.
    Junit,
    /// GitHub-flavoured markdown: the tables under headings, the other lines as lists.
    Markdown,
}

/// Output format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ValidateFormat {
    /// One line per valid file; errors on stderr.
    #[default]
    Text,
    /// One JSON document on stdout, one object per scenario.
    Json,
}

/// Output format of `sweep`, `mc` and `merge`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum BatchFormat {
    /// Aligned tables for people.
    #[default]
    Table,
    /// One JSON document with stable keys.
    Json,
    /// JSON lines: one object per variant (mc: the summary as one line).
    Jsonl,
    /// CSV: one row per variant (mc: metric,statistic,level,value).
    Csv,
    /// GitHub-flavoured markdown: the tables under headings, the other lines as lists.
    Markdown,
}

/// Where `sweep` and `mc` output goes, and which slice they run.
#[derive(Debug, Clone, Args, Default)]
pub struct BatchOutputArgs {
    /// Output format (with --shard: always the shard file format).
    #[arg(long, value_enum)]
    pub format: Option<BatchFormat>,
    /// Write to FILE instead of stdout (written whole or not at all).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Run only slice K of N (K from 0) and write a shard file for `delever merge`.
    #[arg(long, value_name = "K/N", allow_hyphen_values = true)]
    pub shard: Option<String>,
}

/// Export targets.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The network as graphviz DOT: `delever export dot S.yaml | dot -Tsvg > net.svg`.
    Dot {
        /// Scenario file, shipped scenario name, or - for stdin (default: the embedded default).
        scenario: Option<String>,
        /// Run the scenario first and colour nodes by final status.
        #[arg(long)]
        after_run: bool,
        /// Write to FILE instead of stdout.
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// A whole number from 0 to `max`, for clap. Flags using it allow negative numbers, so
/// that `--seed -1` reaches this parser and is told "must be ≥ 0" instead of clap's
/// "unexpected argument '-1'".
fn whole(s: &str, max: u64) -> Result<u64, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err("must be ≥ 0 (a whole number)".to_owned());
    }
    match t.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        Ok(_) => Err(format!("must be at most {max}")),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => {
            Err(format!("must be at most {max}"))
        }
        Err(_) => Err("expected a whole number ≥ 0".to_owned()),
    }
}

/// [`whole`] for a `u64` flag.
pub fn whole_u64(s: &str) -> Result<u64, String> {
    whole(s, u64::MAX)
}

/// `--max-rounds`: a whole number from 1 to the scenario format's limit (a run keeps a
/// trace of every round up to its bound; the file's `engine.max_rounds` has the same one).
pub fn rounds(s: &str) -> Result<u32, String> {
    let n = whole(s, u64::from(delever_scenario::MAX_ROUNDS))?;
    if n == 0 {
        return Err("must be at least 1 (1 gives the one-round answer)".to_owned());
    }
    u32::try_from(n).map_err(|e| e.to_string())
}

/// `--holders`: a whole number, or `all` (every row).
fn holders_count(s: &str) -> Result<usize, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(usize::MAX);
    }
    whole_usize(s).map_err(|e| format!("{e}, or `all`"))
}

/// `--rel-tol`: a finite number ≥ 0.
fn rel_tol(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(_) => Err("must be a finite number ≥ 0 (e.g. 1e-6)".to_owned()),
        Err(_) => Err("expected a number ≥ 0 (e.g. 1e-6)".to_owned()),
    }
}

/// [`whole`] for a `usize` flag.
pub fn whole_usize(s: &str) -> Result<usize, String> {
    let max = u64::try_from(usize::MAX).unwrap_or(u64::MAX);
    whole(s, max).and_then(|n| usize::try_from(n).map_err(|e| e.to_string()))
}

/// The format `delever convert` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConvertTo {
    /// Apache Parquet (zstd-compressed).
    Parquet,
    /// Arrow IPC file format (Feather v2).
    Arrow,
}
