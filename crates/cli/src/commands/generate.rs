//! `delever generate`: write a seeded synthetic scenario (YAML, plus CSV books) to a
//! directory. The generators live in `delever-generate`; this module parses their
//! parameters, refuses to overwrite, and writes the set of files whole or not at all
//! (every file staged, then all renamed).

// Doc comments here are the `--help` text users read, not rustdoc.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use std::io::IsTerminal as _;

use delever_generate::{
    BookFormat, FileKind, GenerateError, Generated, caccioli, glt, retail, window,
};

use crate::args::{whole_u64, whole_usize};
use crate::output::Outputs;
use crate::{Failure, exit};

/// Arguments of `delever generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Which generator.
    #[command(subcommand)]
    pub generator: Generator,
}

/// Options every generator takes.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// Directory to write DIR/NAME.yaml (and DIR/NAME-*.csv) into; created if missing.
    #[arg(long, value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Scenario name and file stem (default: the generator's name and the seed).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Seed of the random draw: the same seed writes byte-identical files.
    #[arg(long, default_value_t = 1, value_parser = whole_u64, allow_negative_numbers = true)]
    pub seed: u64,
    /// Overwrite files that already exist.
    #[arg(long)]
    pub force: bool,
}

/// The generators.
#[derive(Debug, clap::Subcommand)]
pub enum Generator {
    /// Caccioli et al. (2014): fail-and-liquidate banks on random overlapping portfolios.
    #[command(after_help = "\
N banks and M assets; each bank-asset link is present with probability mu/M; every bank
has the same assets, split equally, and leverage A/E; the banks hold the whole supply;
prices p = exp(-alpha x). One random bank starts insolvent. Contagion in the paper's
sense: more than 5% of the banks default.

Example:  delever generate caccioli --mu 4 --leverage 20 --seed 7 --out-dir gen/")]
    Caccioli {
        /// Banks N.
        #[arg(long, default_value_t = 1000, value_parser = whole_usize, allow_negative_numbers = true)]
        banks: usize,
        /// Assets M.
        #[arg(long, default_value_t = 1000, value_parser = whole_usize, allow_negative_numbers = true)]
        assets: usize,
        /// Mean diversification mu_b: assets per bank on average, in (0, M].
        #[arg(long, default_value_t = 5.0, allow_negative_numbers = true)]
        mu: f64,
        /// Leverage lambda = assets / equity of every bank, > 1.
        #[arg(long, default_value_t = 20.0, allow_negative_numbers = true)]
        leverage: f64,
        /// Impact alpha of p = exp(-alpha x) (1.0536: selling 10% cuts the price 10%).
        #[arg(long, default_value_t = caccioli::ALPHA, allow_negative_numbers = true)]
        alpha: f64,
        /// Total assets of every bank, USD.
        #[arg(long, default_value_t = 1.0e9, allow_negative_numbers = true)]
        bank_assets: f64,
        #[command(flatten)]
        common: Common,
    },
    /// Greenwood, Landier & Thesmar (2015): leverage-targeting banks, one round of fire sales.
    #[command(after_help = "\
Random balance sheets (assets 1e9-1e11, leverage 5-30), random portfolio weights, linear
impact of 10 bp per 1% of an asset's holdings sold, and asset returns scale x U(-1, 0.3).
The scenario stops after one round (GLT's answer): `delever run` exits 3 on purpose.

Example:  delever generate glt --banks 90 --assets 10 --scale 0.05 --out-dir gen/")]
    Glt {
        /// Banks N.
        #[arg(long, default_value_t = 20, value_parser = whole_usize, allow_negative_numbers = true)]
        banks: usize,
        /// Assets M.
        #[arg(long, default_value_t = 8, value_parser = whole_usize, allow_negative_numbers = true)]
        assets: usize,
        /// Shock size: each asset's return is scale x U(-1, 0.3).
        #[arg(long, default_value_t = 0.05, allow_negative_numbers = true)]
        scale: f64,
        #[command(flatten)]
        common: Common,
    },
    /// Caccioli et al. (2014)'s window of contagion: probability of contagion against
    /// diversification, one curve per leverage, as SVG and CSV.
    #[command(after_help = "\
For every leverage and mean diversification mu_b, runs --trials seeded Caccioli systems
(one random bank starts insolvent, each run to its fixed point) and counts the runs in
which more than 5% of the banks default. Writes DIR/NAME.svg (the phase diagram: one
curve per leverage, mu_b on a log axis) and DIR/NAME.csv (leverage, mu, trials,
contagions, probability, extent = mean share of banks defaulted when contagion happens).
The same seed gives the same files at any thread count. A progress bar shows on a
terminal. The defaults (200 banks, 50 trials, 5 x 15 points) finish in seconds, in class;
docs/teaching.md's figure is --banks 1000 --trials 200 --seed 2014 (about 3 minutes).

Examples:
  delever generate caccioli-window --out-dir window/
  delever generate caccioli-window --leverage 8,20 --mu 1,2,4,8,16 --trials 100 --out-dir window/")]
    CaccioliWindow {
        /// Banks N (and assets M, unless --assets).
        #[arg(long, default_value_t = 200, value_parser = whole_usize, allow_negative_numbers = true)]
        banks: usize,
        /// Assets M (default: as many as banks).
        #[arg(long, value_parser = whole_usize, allow_negative_numbers = true)]
        assets: Option<usize>,
        /// Leverages, comma-separated: one curve each.
        #[arg(long, value_delimiter = ',', default_values_t = window::LEVERAGES, allow_negative_numbers = true)]
        leverage: Vec<f64>,
        /// Mean diversifications mu_b, comma-separated: the points of each curve.
        #[arg(long, value_delimiter = ',', default_values_t = window::MUS, allow_negative_numbers = true)]
        mu: Vec<f64>,
        /// Seeded trials per point (the standard error of a probability is at most 0.5/sqrt(trials)).
        #[arg(long, default_value_t = 50, value_parser = whole_usize, allow_negative_numbers = true)]
        trials: usize,
        /// Impact alpha of p = exp(-alpha x) (1.0536: selling 10% cuts the price 10%).
        #[arg(long, default_value_t = caccioli::ALPHA, allow_negative_numbers = true)]
        alpha: f64,
        #[command(flatten)]
        common: Common,
    },
    /// A retail margin book of up to 100 million accounts (10 million as CSV).
    #[command(after_help = "\
The synthetic market of delever's benches: a broker-financed book of N accounts (Zipf
popularity of names, loan-to-value uniform in [0, 0.6)), three leveraged ETFs, three
funds and two hedge funds; the shock is a market move. Files: NAME.yaml,
NAME-retail-accounts.csv, NAME-retail-holdings.csv (.parquet or .arrow with --format).
One million accounts is about 250 MB of CSV; Parquet is smaller and loads faster. The
accounts are drawn as they are written, so the book is never held in memory: up to 100
million accounts as Parquet or Arrow (10 million as CSV).

Example:  delever generate retail-book --accounts 1000000 --format parquet --out-dir gen/")]
    RetailBook {
        /// Accounts N (1 to 100,000,000; at most 10,000,000 as CSV).
        #[arg(long, default_value_t = 100_000, value_parser = whole_usize, allow_negative_numbers = true)]
        accounts: usize,
        /// Assets.
        #[arg(long, default_value_t = 500, value_parser = whole_usize, allow_negative_numbers = true)]
        assets: usize,
        /// Distinct holdings per account (at most 64 and the number of assets).
        #[arg(long, default_value_t = 5, value_parser = whole_usize, allow_negative_numbers = true)]
        holdings_per_account: usize,
        /// Average value of an account's holdings, USD.
        #[arg(long, default_value_t = 20_000.0, allow_negative_numbers = true)]
        account_value: f64,
        /// The shock: market return, a fraction (-0.20 is a 20% fall).
        #[arg(long, default_value_t = -0.20, allow_negative_numbers = true)]
        market_return: f64,
        /// The book's file format: csv, parquet (loads fastest) or arrow (Arrow IPC).
        #[arg(long, value_enum, default_value_t = TableFormat::Csv)]
        format: TableFormat,
        #[command(flatten)]
        common: Common,
    },
}

fn bad(e: &GenerateError) -> Failure {
    let mut msg = match e {
        GenerateError::InvalidParameter { param, message, .. } => {
            format!("error: --{param}: {message}")
        }
        other => format!("error: {other}"),
    };
    if let Some(h) = e.hint() {
        msg.push_str("\n  hint: ");
        msg.push_str(h);
    }
    Failure::input(msg)
}

/// Run `delever generate`; `quiet` (`-q`) prints nothing but errors.
pub fn generate(args: &GenerateArgs, quiet: bool) -> Result<i32, Failure> {
    let (g, common) = match &args.generator {
        Generator::CaccioliWindow {
            banks,
            assets,
            leverage,
            mu,
            trials,
            alpha,
            common,
        } => {
            let base = caccioli::Params {
                banks: *banks,
                assets: assets.unwrap_or(*banks),
                alpha: *alpha,
                seed: common.seed,
                ..caccioli::Params::default()
            };
            return caccioli_window(&base, leverage, mu, *trials, common, quiet);
        }
        Generator::Caccioli {
            banks,
            assets,
            mu,
            leverage,
            alpha,
            bank_assets,
            common,
        } => {
            let p = caccioli::Params {
                banks: *banks,
                assets: *assets,
                mu: *mu,
                leverage: *leverage,
                alpha: *alpha,
                bank_assets_usd: *bank_assets,
                seed: common.seed,
            };
            let name = common
                .name
                .clone()
                .unwrap_or_else(|| format!("caccioli-seed{}", common.seed));
            (caccioli::generate(&p, &name), common)
        }
        Generator::Glt {
            banks,
            assets,
            scale,
            common,
        } => {
            let p = glt::Params {
                banks: *banks,
                assets: *assets,
                scale: *scale,
                seed: common.seed,
            };
            let name = common
                .name
                .clone()
                .unwrap_or_else(|| format!("glt-seed{}", common.seed));
            (glt::generate(&p, &name), common)
        }
        Generator::RetailBook {
            accounts,
            assets,
            holdings_per_account,
            account_value,
            market_return,
            format,
            common,
        } => {
            let p = retail::Params {
                accounts: *accounts,
                assets: *assets,
                holdings_per_account: *holdings_per_account,
                account_value_usd: *account_value,
                market_return: *market_return,
                seed: common.seed,
                book_format: match format {
                    TableFormat::Csv => BookFormat::Csv,
                    TableFormat::Parquet => BookFormat::Parquet,
                    TableFormat::Arrow => BookFormat::Arrow,
                },
            };
            let name = common
                .name
                .clone()
                .unwrap_or_else(|| format!("retail-book-seed{}", common.seed));
            (retail::generate_streamed(&p, &name), common)
        }
    };
    let g = g.map_err(|e| bad(&e))?;
    write_all(&g, common, quiet)?;
    Ok(exit::OK)
}

/// `delever generate caccioli-window`: the grid of contagion probabilities, with a
/// progress bar on a terminal, written as NAME.svg and NAME.csv whole or not at all.
fn caccioli_window(
    base: &caccioli::Params,
    leverages: &[f64],
    mus: &[f64],
    trials: usize,
    common: &Common,
    quiet: bool,
) -> Result<i32, Failure> {
    let name = common
        .name
        .clone()
        .unwrap_or_else(|| "caccioli-window".to_string());
    let names = [format!("{name}.svg"), format!("{name}.csv")];
    // Refused before the long work, not after it.
    prepare_dir(&common.out_dir, &names, common.force)?;
    let points = (leverages.len() * mus.len()) as u64;
    let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
        let pb = indicatif::ProgressBar::new(points);
        pb.set_style(
            indicatif::ProgressStyle::with_template(&format!(
                "{{bar:30}} {{pos}}/{{len}} points x {trials} trials [{{elapsed}}, about {{eta}} left]"
            ))
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        pb
    });
    let tick = || {
        if let Some(pb) = &bar {
            pb.inc(1);
        }
    };
    let w = window::compute(base, leverages, mus, trials, &tick);
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let w = w.map_err(|e| bad(&e))?;
    let dir = &common.out_dir;
    let mut outputs = Outputs::silent();
    let svg = outputs.plan("--out-dir", Some(&dir.join(&names[0])))?;
    let csv = outputs.plan("--out-dir", Some(&dir.join(&names[1])))?;
    outputs.put(svg, w.to_svg());
    outputs.put(csv, w.to_csv());
    outputs.commit()?;
    if !quiet {
        let contagious = w
            .points
            .iter()
            .filter(|p| p.contagion.probability > 0.0)
            .count();
        eprintln!(
            "wrote {} (the window: {} of {} points with contagion) and {} ({} rows)",
            dir.join(&names[0]).display(),
            contagious,
            w.points.len(),
            dir.join(&names[1]).display(),
            w.points.len()
        );
    }
    Ok(exit::OK)
}

/// Refuse to overwrite any of `names` in `dir` unless `force`, then create `dir`.
fn prepare_dir(dir: &std::path::Path, names: &[String], force: bool) -> Result<(), Failure> {
    if !force {
        // `symlink_metadata`: a dangling link is something that exists too.
        let existing: Vec<String> = names
            .iter()
            .map(|n| dir.join(n))
            .filter(|p| std::fs::symlink_metadata(p).is_ok())
            .map(|p| p.display().to_string())
            .collect();
        if !existing.is_empty() {
            return Err(Failure::input(format!(
                "error: refusing to overwrite {}\n  hint: pass --force to replace them, or choose another --out-dir or --name",
                existing.join(", ")
            )));
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        Failure::input(format!(
            "error: cannot create `{}`: {e}\n  hint: check that the parent directory exists and is writable",
            dir.display()
        ))
    })
}

/// Check that nothing would be overwritten, then write the set of files whole or not at
/// all: every file is staged as a temporary file beside its destination, then all are
/// renamed into place; a failure before the renames leaves the old set as it was.
fn write_all(g: &Generated, common: &Common, quiet: bool) -> Result<(), Failure> {
    let dir = &common.out_dir;
    let files = g.files();
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    prepare_dir(dir, &names, common.force)?;
    // The `wrote` lines below say more (what each file holds).
    let mut outputs = Outputs::silent();
    let slots = files
        .iter()
        .map(|f| outputs.plan("--out-dir", Some(&dir.join(&f.name))))
        .collect::<Result<Vec<_>, _>>()?;
    let mut wrote = Vec::with_capacity(files.len());
    for (f, slot) in files.iter().zip(slots) {
        let bytes = outputs.stage(slot, |w| {
            g.write_file(f.kind, w).map_err(|e| match e {
                GenerateError::Io(io) => io,
                other => std::io::Error::other(other.to_string()),
            })
        })?;
        wrote.push(format!(
            "wrote {} ({}; {})",
            dir.join(&f.name).display(),
            size(bytes),
            what(g, f.kind)
        ));
    }
    outputs.commit()?;
    if !quiet {
        // Said only once every file is in place: nothing reported here is taken back.
        for line in &wrote {
            eprintln!("{line}");
        }
        eprintln!(
            "check it with: delever validate {}",
            dir.join(format!("{}.yaml", g.name)).display()
        );
    }
    Ok(())
}

/// What a generated file holds, for the `wrote` line.
fn what(g: &Generated, kind: FileKind) -> String {
    match kind {
        FileKind::Scenario => format!(
            "scenario: {} assets, {} holders, {} lenders, {} shocks",
            g.network.assets().len(),
            g.network.holders().len(),
            g.network.lenders().len(),
            g.shocks.len()
        ),
        FileKind::Accounts(h) | FileKind::Holdings(h) => match g.book_size(h) {
            Some((accounts, holdings)) => {
                if matches!(kind, FileKind::Accounts(_)) {
                    format!("{accounts} accounts")
                } else {
                    format!("{holdings} holdings")
                }
            }
            None => String::new(),
        },
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.2} GiB", b as f64 / f64::from(1u32 << 30)),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The file format of a generated book (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TableFormat {
    /// CSV files.
    Csv,
    /// Parquet files.
    Parquet,
    /// Arrow IPC files.
    Arrow,
}
