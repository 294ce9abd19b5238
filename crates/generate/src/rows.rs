//! Where an account book's rows come from as its files are written: a book in memory, or
//! the synthetic book's draws repeated account by account ([`StreamedBook`]), so that a
//! book of 100 million accounts is written without ever being held whole.

use std::io;

use delever_engine::synth::{AccountDraws, MarketSpec};
use delever_graph::{AccountBook, HolderIx};

/// An account book that is drawn again each time one of its files is written: the draws
/// of `delever_engine::synth::account_book`, one account at a time.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamedBook {
    /// The account-book holder (its book in the network is empty).
    pub holder: HolderIx,
    /// The market's shape and seed.
    pub spec: MarketSpec,
    /// The asset prices the accounts' shares are drawn at.
    pub prices: Vec<f64>,
}

impl StreamedBook {
    /// Accounts.
    pub fn len(&self) -> usize {
        self.spec.accounts
    }
    /// Whether it has no accounts.
    pub fn is_empty(&self) -> bool {
        self.spec.accounts == 0
    }
    /// Holdings rows (each account holds the same number of distinct assets).
    pub fn holdings(&self) -> usize {
        self.spec.accounts * self.spec.holdings_per_account.min(self.prices.len())
    }
}

/// One account as the writers see it.
pub(crate) struct Row<'b> {
    /// Its index (its id is `a{index + 1}`).
    pub index: usize,
    pub cash: f64,
    pub loan: f64,
    pub assets: &'b [u32],
    pub shares: &'b [f64],
}

/// The rows of a book, in account order.
#[derive(Clone, Copy)]
pub(crate) enum BookRows<'a> {
    Memory(&'a AccountBook),
    Drawn(&'a StreamedBook),
}

impl BookRows<'_> {
    /// Call `f` on every account in order; stops at its first error.
    pub fn each(self, mut f: impl FnMut(Row<'_>) -> io::Result<()>) -> io::Result<()> {
        match self {
            BookRows::Memory(book) => {
                let mut assets: Vec<u32> = Vec::new();
                for index in 0..book.len() {
                    let (a, b) = (
                        book.row_ptr[index] as usize,
                        book.row_ptr[index + 1] as usize,
                    );
                    assets.clear();
                    assets.extend(book.assets[a..b].iter().map(|x| x.0));
                    f(Row {
                        index,
                        cash: book.cash[index],
                        loan: book.loan[index],
                        assets: &assets,
                        shares: &book.shares[a..b],
                    })?;
                }
                Ok(())
            }
            BookRows::Drawn(s) => {
                let mut draws = AccountDraws::new(&s.spec, &s.prices);
                let mut index = 0;
                while let Some(acc) = draws.next_account() {
                    f(Row {
                        index,
                        cash: acc.cash,
                        loan: acc.loan,
                        assets: acc.assets,
                        shares: acc.shares,
                    })?;
                    index += 1;
                }
                Ok(())
            }
        }
    }
}
