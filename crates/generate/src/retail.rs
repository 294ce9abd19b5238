//! A retail margin book: the synthetic market of `delever_engine::synth::market`, whose
//! account book (`synth::account_book`) is written as CSV, Parquet or Arrow files.
//! [`generate_streamed`] (what `delever generate retail-book` runs) never holds the book:
//! each table is written as its accounts are drawn again (`synth::AccountDraws`, the same
//! draws), so 100 million accounts cost a batch of memory, not tens of GB.
//!
//! The distributions are the engine's, reused rather than copied: `A` assets with prices
//! uniform in $10–$500 and square-root impact, ADV falling with rank; `N` accounts each
//! holding `h` distinct assets (Zipf popularity), worth `value × U(0.2, 1.8)` with weights
//! `U(0.2, 1)`, loan-to-value `U(0, 0.6)` and cash `U(0, 2%)` of value; the accounts
//! borrow from a broker at 30% maintenance (reset 35%) that tightens margin by 5 points
//! past losses of 5% of its capital. Beside the book stand three leveraged ETFs, three
//! unlevered funds and two hedge funds on prime-broker margin, as in `synth::market`.
//! The shock is a market move (each asset moves by beta × return; every beta is 1).

use delever_engine::synth::{MarketSpec, market, market_without_book};
use delever_engine::{EngineConfig, Shock};
use delever_graph::{HolderIx, HolderKind, Network};

use crate::error::check;
use crate::{GenerateError, Generated, SourceRef};

/// Most accounts in a generated book as Parquet or Arrow (500 million holdings rows at
/// the default 5 each, about 3.8 GB of Parquet).
pub const MAX_ACCOUNTS: usize = 100_000_000;

/// Most accounts in a generated book as CSV (10 million is about 2 GB of text; larger
/// books belong in Parquet).
pub const MAX_CSV_ACCOUNTS: usize = 10_000_000;

/// Most holdings per account (the synthetic book's weight table holds 64).
pub const MAX_HOLDINGS_PER_ACCOUNT: usize = 64;

/// Parameters of a retail book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Accounts `N`, 1 to 100 million (10 million as CSV).
    pub accounts: usize,
    /// Assets.
    pub assets: usize,
    /// Distinct holdings per account.
    pub holdings_per_account: usize,
    /// Average value of an account's holdings, USD.
    pub account_value_usd: f64,
    /// Market return of the shock, a fraction (`-0.10` is a 10% fall).
    pub market_return: f64,
    /// Seed.
    pub seed: u64,
    /// The file format of the book's two tables.
    pub book_format: crate::BookFormat,
}

impl Default for Params {
    /// 100,000 accounts, 500 assets, 5 holdings each, $20,000 each, a 20% fall (enough to
    /// call the most indebted accounts: at 60% loan-to-value equity falls to 25% < 30%), seed 1.
    fn default() -> Self {
        Params {
            accounts: 100_000,
            assets: 500,
            holdings_per_account: 5,
            account_value_usd: 20_000.0,
            market_return: -0.20,
            seed: 1,
            book_format: crate::BookFormat::Csv,
        }
    }
}

impl Params {
    /// Check every parameter.
    pub fn validate(&self) -> Result<(), GenerateError> {
        let csv = self.book_format == crate::BookFormat::Csv;
        let max = if csv { MAX_CSV_ACCOUNTS } else { MAX_ACCOUNTS };
        check(
            (1..=max).contains(&self.accounts),
            "accounts",
            || {
                format!(
                    "must be between 1 and {max}{}, got {}",
                    if csv { " as CSV" } else { "" },
                    self.accounts
                )
            },
            if csv {
                "10 million accounts is about 2 GB of CSV; larger books (up to 100 million) need `--format parquet`"
            } else {
                "100 million accounts (500 million holdings) is the design target; try `--accounts 1000000`"
            },
        )?;
        check(
            (1..=100_000).contains(&self.assets),
            "assets",
            || format!("must be between 1 and 100000, got {}", self.assets),
            "the synthetic market has 500 assets by default",
        )?;
        check(
            self.holdings_per_account >= 1
                && self.holdings_per_account <= self.assets.min(MAX_HOLDINGS_PER_ACCOUNT),
            "holdings-per-account",
            || {
                format!(
                    "must be between 1 and min(assets, {MAX_HOLDINGS_PER_ACCOUNT}) = {}, got {}",
                    self.assets.min(MAX_HOLDINGS_PER_ACCOUNT),
                    self.holdings_per_account
                )
            },
            "each account holds distinct assets; 5 is typical of retail books",
        )?;
        check(
            self.account_value_usd.is_finite() && self.account_value_usd > 0.0,
            "account-value",
            || format!("must be a number > 0, got {}", self.account_value_usd),
            "the average account's holdings in USD, e.g. 20000",
        )?;
        check(
            self.market_return.is_finite() && (-1.0..=1.0).contains(&self.market_return),
            "market-return",
            || format!("must be in [-1, 1], got {}", self.market_return),
            "returns are fractions: -0.10 is a 10% fall",
        )
    }

    /// The command that regenerates the scenario `name`.
    pub fn command(&self, name: &str) -> String {
        format!(
            "delever generate retail-book --accounts {} --assets {} --holdings-per-account {} --account-value {} --market-return {} --format {} --seed {} --name {name} --out-dir DIR",
            self.accounts,
            self.assets,
            self.holdings_per_account,
            self.account_value_usd,
            self.market_return,
            self.book_format.extension(),
            self.seed
        )
    }

    fn spec(&self) -> MarketSpec {
        MarketSpec {
            accounts: self.accounts,
            holdings_per_account: self.holdings_per_account,
            assets: self.assets,
            seed: self.seed,
            account_value_usd: self.account_value_usd,
        }
    }
}

/// Generate the scenario `name` from `p`; the book is named `retail`, so its files are
/// `<name>-retail-accounts.csv` and `<name>-retail-holdings.csv` (`.parquet` or `.arrow`
/// in those formats).
pub fn generate(p: &Params, name: &str) -> Result<Generated, GenerateError> {
    p.validate()?;
    crate::check_name(name)?;
    Ok(generated(p, name, market(&p.spec())?, Vec::new()))
}

/// [`generate`] without the book in memory: the network's book is empty and
/// [`Generated::streamed`] draws the same accounts again as each table is written, so the
/// files are byte for byte those of [`generate`].
pub fn generate_streamed(p: &Params, name: &str) -> Result<Generated, GenerateError> {
    p.validate()?;
    crate::check_name(name)?;
    let (network, prices) = market_without_book(&p.spec())?;
    let streamed = network
        .holders()
        .iter()
        .position(|h| matches!(h.kind, HolderKind::AccountBook { .. }))
        .map(|i| crate::StreamedBook {
            holder: HolderIx(i as u32),
            spec: p.spec(),
            prices,
        })
        .into_iter()
        .collect();
    Ok(generated(p, name, network, streamed))
}

/// The scenario around `network`.
fn generated(
    p: &Params,
    name: &str,
    network: Network,
    streamed: Vec<crate::StreamedBook>,
) -> Generated {
    let description = format!(
        "A synthetic retail margin book of {n} accounts over {m} assets ({h} holdings per\n\
         account, about {v} USD each), the market of delever_engine::synth::market: the book\n\
         borrows from a broker at 30% maintenance (reset 35%), beside three leveraged ETFs,\n\
         three unlevered funds and two hedge funds on prime-broker margin. The accounts are in\n\
         the two {fmt} files next to this one. The shock is a market move of {r} (every beta\n\
         is 1).\n\
         \n\
         Generated by delever-generate (generator retail-book, seed {seed}). Regenerate with:\n\
         {cmd}\n",
        n = p.accounts,
        m = p.assets,
        h = p.holdings_per_account,
        v = p.account_value_usd,
        r = p.market_return,
        seed = p.seed,
        fmt = match p.book_format {
            crate::BookFormat::Csv => "CSV",
            crate::BookFormat::Parquet => "Parquet",
            crate::BookFormat::Arrow => "Arrow IPC",
        },
        cmd = p.command(name),
    );
    Generated {
        name: name.to_string(),
        description,
        as_of: "2026-01-01".into(),
        sources: vec![SourceRef {
            id: "delever-synth".into(),
            title: "delever_engine::synth::market and account_book: the synthetic retail book of delever's benches and tests (not data)".into(),
            url: None,
            date: None,
        }],
        assumptions: vec![
            format!("Every figure is drawn at random (seed {}); as_of is nominal.", p.seed),
            "Accounts hold distinct assets picked by Zipf popularity (a few names dominate), worth the average value times U(0.2, 1.8), with loan-to-value U(0, 0.6) and cash U(0, 2%) of value.".into(),
            "Asset ADV scales with the book (5% of the book's value for the most traded name, falling as rank^-0.8), so books of every size cascade alike.".into(),
        ],
        network,
        shocks: vec![Shock::Market {
            ret: p.market_return,
            tag: None,
        }],
        // A book's default (docs/model.md): the least fixed point is opt-in, written out
        // so the file says what it runs.
        engine: EngineConfig {
            least_fixed_point: false,
            ..EngineConfig::default()
        },
        book_format: p.book_format,
        streamed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_book_is_the_engines_synthetic_book() {
        let p = Params {
            accounts: 300,
            ..Params::default()
        };
        let g = generate(&p, "t").expect("valid");
        let same = market(&p.spec()).expect("valid");
        assert_eq!(g.network.holders(), same.holders());
        assert_eq!(g.books().len(), 1);
        assert_eq!(g.books()[0].accounts, "t-retail-accounts.csv");
    }

    #[test]
    fn bad_parameters_are_refused() {
        for (p, name) in [
            (
                Params {
                    accounts: 0,
                    ..Params::default()
                },
                "accounts",
            ),
            (
                Params {
                    accounts: MAX_CSV_ACCOUNTS + 1,
                    ..Params::default()
                },
                "accounts",
            ),
            (
                Params {
                    accounts: MAX_ACCOUNTS + 1,
                    book_format: crate::BookFormat::Parquet,
                    ..Params::default()
                },
                "accounts",
            ),
            (
                Params {
                    holdings_per_account: 65,
                    ..Params::default()
                },
                "holdings-per-account",
            ),
        ] {
            match p.validate() {
                Err(GenerateError::InvalidParameter { param, .. }) => assert_eq!(param, name),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn columnar_books_may_hold_100_million_accounts() {
        for book_format in [crate::BookFormat::Parquet, crate::BookFormat::Arrow] {
            let p = Params {
                accounts: MAX_ACCOUNTS,
                book_format,
                ..Params::default()
            };
            assert!(p.validate().is_ok(), "{book_format:?}");
        }
    }

    /// Every file of `g`, in order, as bytes.
    fn files(g: &Generated) -> Vec<(String, Vec<u8>)> {
        g.files()
            .into_iter()
            .map(|f| {
                let mut bytes = Vec::new();
                g.write_file(f.kind, &mut bytes).expect("in memory");
                (f.name, bytes)
            })
            .collect()
    }

    #[test]
    fn streamed_books_write_the_same_bytes_as_books_in_memory() {
        for book_format in [
            crate::BookFormat::Csv,
            crate::BookFormat::Parquet,
            crate::BookFormat::Arrow,
        ] {
            // More than one batch of holdings rows, and a partial last batch.
            let p = Params {
                accounts: 250_000,
                assets: 70,
                holdings_per_account: 5,
                seed: 11,
                book_format,
                ..Params::default()
            };
            let memory = generate(&p, "s").expect("valid");
            let streamed = generate_streamed(&p, "s").expect("valid");
            assert_eq!(streamed.streamed.len(), 1);
            let HolderKind::AccountBook { book, .. } = &memory.network.holders()[0].kind else {
                panic!("the first holder is the book");
            };
            let h = HolderIx(0);
            assert_eq!(streamed.book_size(h), Some((book.len(), book.holdings())));
            assert_eq!(memory.book_size(h), streamed.book_size(h));
            let (a, b) = (files(&memory), files(&streamed));
            assert_eq!(a.len(), 3);
            for ((na, fa), (nb, fb)) in a.iter().zip(&b) {
                assert_eq!(na, nb);
                assert!(fa == fb, "{book_format:?}: {na} differs");
            }
        }
    }
}
