//! A retail margin book: the synthetic market of `delever_engine::synth::market`, whose
//! account book (`synth::account_book`) is written as CSV files.
//!
//! The distributions are the engine's, reused rather than copied: `A` assets with prices
//! uniform in $10–$500 and square-root impact, ADV falling with rank; `N` accounts each
//! holding `h` distinct assets (Zipf popularity), worth `value × U(0.2, 1.8)` with weights
//! `U(0.2, 1)`, loan-to-value `U(0, 0.6)` and cash `U(0, 2%)` of value; the accounts
//! borrow from a broker at 30% maintenance (reset 35%) that tightens margin by 5 points
//! past losses of 5% of its capital. Beside the book stand three leveraged ETFs, three
//! unlevered funds and two hedge funds on prime-broker margin, as in `synth::market`.
//! The shock is a market move (each asset moves by beta × return; every beta is 1).

use delever_engine::synth::{MarketSpec, market};
use delever_engine::{EngineConfig, Shock};

use crate::error::check;
use crate::{GenerateError, Generated, SourceRef};

/// Most accounts in a generated book.
pub const MAX_ACCOUNTS: usize = 10_000_000;

/// Most holdings per account (the synthetic book's weight table holds 64).
pub const MAX_HOLDINGS_PER_ACCOUNT: usize = 64;

/// Parameters of a retail book.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Accounts `N`, 1 to 10 million.
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
        check(
            (1..=MAX_ACCOUNTS).contains(&self.accounts),
            "accounts",
            || {
                format!(
                    "must be between 1 and {MAX_ACCOUNTS}, got {}",
                    self.accounts
                )
            },
            "10 million accounts is the design target (about 2.5 GB of CSV); try `--accounts 1000000`",
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
    let network = market(&p.spec())?;
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
    Ok(Generated {
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
    })
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
                    accounts: MAX_ACCOUNTS + 1,
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
}
