//! Deterministic synthetic networks for benches, tests and examples.
//!
//! Everything is drawn from [`Rng`], a small seeded generator written here (`SplitMix64`),
//! so the same seed gives the same network on every machine and every run.

use delever_graph::{
    AccountBook, Asset, AssetIx, BalanceSheetRule, BuildError, CashUse, Holder, HolderKind,
    ImpactLaw, Lender, MarginTerms, Network, NetworkBuilder,
};
use ndarray::{Array1, Array2};

use crate::glt::GltInput;

/// `SplitMix64` (Steele, Lea & Flood 2014): tiny, fast, and good enough for test data.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in `[lo, hi)`.
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.uniform()
    }
    /// Uniform integer in `0..n` (`n > 0`; 0 when `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            // Multiply-shift: unbiased enough for test data and branch-free.
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }
}

/// Shape of a synthetic market.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarketSpec {
    /// Margin accounts in the account book.
    pub accounts: usize,
    /// Holdings per account.
    pub holdings_per_account: usize,
    /// Number of assets.
    pub assets: usize,
    /// Seed.
    pub seed: u64,
    /// Average value of an account's holdings, USD.
    pub account_value_usd: f64,
}

impl MarketSpec {
    /// `accounts` accounts with 5 holdings each over 500 assets, $20,000 per account.
    pub fn new(accounts: usize) -> Self {
        MarketSpec {
            accounts,
            holdings_per_account: 5,
            assets: 500,
            seed: 42,
            account_value_usd: 20_000.0,
        }
    }
}

fn asset(id: String, price: f64, adv: f64, vol: f64, impact: ImpactLaw) -> Asset {
    Asset {
        id,
        price,
        shares_outstanding: adv / price * 250.0,
        adv_usd: adv,
        daily_vol: vol,
        beta: 1.0,
        duration: 0.0,
        tags: vec!["equity".into()],
        impact,
        decay: delever_graph::ImpactDecay::default(),
    }
}

/// Popularity of asset ranks: a few names dominate, as in retail books (Zipf, exponent 1).
fn pick_asset(rng: &mut Rng, n: usize) -> u32 {
    // Inverse CDF of a continuous Zipf(1) on [1, n+1): rank = (n+1)^u − 1.
    let u = rng.uniform();
    let r = ((n as f64 + 1.0).powf(u) - 1.0).floor() as usize;
    r.min(n.saturating_sub(1)) as u32
}

/// The accounts of [`account_book`] drawn one at a time, in order, with the same draws:
/// a book of any size can be written out without being held in memory (`delever generate
/// retail-book` streams 100 million accounts this way).
#[derive(Debug, Clone)]
pub struct AccountDraws<'a> {
    spec: MarketSpec,
    prices: &'a [f64],
    h: usize,
    rng: Rng,
    left: usize,
    assets: Vec<u32>,
    shares: Vec<f64>,
}

/// One drawn account: its cash, its loan and its holdings (distinct assets, ascending).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DrawnAccount<'b> {
    /// Cash, USD.
    pub cash: f64,
    /// Loan, USD.
    pub loan: f64,
    /// Asset indices of its holdings, ascending.
    pub assets: &'b [u32],
    /// Shares of each holding.
    pub shares: &'b [f64],
}

impl<'a> AccountDraws<'a> {
    /// The draws of `spec.accounts` accounts over assets priced `prices`.
    pub fn new(spec: &MarketSpec, prices: &'a [f64]) -> Self {
        let h = spec.holdings_per_account.min(prices.len());
        AccountDraws {
            spec: *spec,
            prices,
            h,
            rng: Rng::new(spec.seed ^ 0xB00C),
            left: spec.accounts,
            assets: Vec::with_capacity(h),
            shares: Vec::with_capacity(h),
        }
    }

    /// Holdings per account (`spec.holdings_per_account`, at most the number of assets).
    pub fn holdings_per_account(&self) -> usize {
        self.h
    }

    /// The next account, `None` after the last.
    pub fn next_account(&mut self) -> Option<DrawnAccount<'_>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let (h, prices, rng) = (self.h, self.prices, &mut self.rng);
        let row = &mut self.assets;
        row.clear();
        while row.len() < h {
            let a = pick_asset(rng, prices.len());
            if !row.contains(&a) {
                row.push(a);
            }
        }
        row.sort_unstable();
        let value = self.spec.account_value_usd * rng.range(0.2, 1.8);
        let mut weights = [0.0f64; 64];
        let mut wsum = 0.0;
        for w in weights.iter_mut().take(h) {
            *w = rng.range(0.2, 1.0);
            wsum += *w;
        }
        self.shares.clear();
        for (k, &a) in row.iter().enumerate() {
            let w = if k < weights.len() { weights[k] } else { 1.0 };
            self.shares.push(value * w / wsum / prices[a as usize]);
        }
        let loan = value * rng.range(0.0, 0.6);
        let cash = value * rng.range(0.0, 0.02);
        Some(DrawnAccount {
            cash,
            loan,
            assets: &self.assets,
            shares: &self.shares,
        })
    }
}

/// A synthetic account book over `assets` assets with prices `prices`: each account holds
/// `spec.holdings_per_account` distinct assets (popular names more often), worth about
/// `spec.account_value_usd` in all, with a loan-to-value uniform in [0, 0.6) and a little
/// cash. Arrays are allocated once at their final size (10 million accounts must fit).
/// The accounts are those of [`AccountDraws`].
pub fn account_book(spec: &MarketSpec, prices: &[f64]) -> AccountBook {
    let n = spec.accounts;
    let mut draws = AccountDraws::new(spec, prices);
    let h = draws.holdings_per_account();
    let mut cash = Vec::with_capacity(n);
    let mut loan = Vec::with_capacity(n);
    let mut row_ptr = Vec::with_capacity(n + 1);
    let mut assets = Vec::with_capacity(n * h);
    let mut shares = Vec::with_capacity(n * h);
    row_ptr.push(0u64);
    while let Some(acc) = draws.next_account() {
        assets.extend(acc.assets.iter().map(|&a| AssetIx(a)));
        shares.extend_from_slice(acc.shares);
        loan.push(acc.loan);
        cash.push(acc.cash);
        row_ptr.push(assets.len() as u64);
    }
    AccountBook {
        cash,
        loan,
        row_ptr,
        assets,
        shares,
    }
}

/// The market's assets, added to `b`; returns their prices (the book's shares are priced
/// by them).
fn draw_assets(spec: &MarketSpec, b: &mut NetworkBuilder) -> Vec<f64> {
    let mut rng = Rng::new(spec.seed);
    let n = spec.assets.max(1);
    let book_value = spec.accounts as f64 * spec.account_value_usd;
    let mut prices = Vec::with_capacity(n);
    for k in 0..n {
        let price = rng.range(10.0, 500.0);
        // ADV falls with rank; the book is a few per cent of the market's daily volume.
        let adv = (book_value * 0.05 / (k as f64 + 1.0).powf(0.8)).max(1e6);
        let vol = rng.range(0.015, 0.04);
        b.add_asset(asset(
            format!("A{k:03}"),
            price,
            adv,
            vol,
            ImpactLaw::SquareRoot { y: 0.7 },
        ));
        prices.push(price);
    }
    prices
}

/// A synthetic market: `spec.assets` assets (square-root impact, ADV scaled with the book
/// so that books of every size cascade alike), one account book on a broker that tightens
/// margin past a 5% loss of capital, three leveraged ETFs (3×, −3× on the ten most traded
/// names, 2× on the most traded), three unlevered funds and two hedge funds on
/// prime-broker margin.
pub fn market(spec: &MarketSpec) -> Result<Network, BuildError> {
    market_with(spec, |prices| account_book(spec, prices)).map(|(net, _)| net)
}

/// [`market`] with an empty account book in place of `spec.accounts` accounts (the rest of
/// the market, sized for the full book, is the same), and the asset prices that
/// [`AccountDraws`] prices the accounts' shares with: the book is drawn again as it is
/// written.
pub fn market_without_book(spec: &MarketSpec) -> Result<(Network, Vec<f64>), BuildError> {
    market_with(spec, |_| AccountBook {
        row_ptr: vec![0],
        ..AccountBook::default()
    })
}

/// The market, its account book made by `book` from the asset prices.
#[allow(clippy::too_many_lines)] // one section per population, read top to bottom
fn market_with(
    spec: &MarketSpec,
    book: impl FnOnce(&[f64]) -> AccountBook,
) -> Result<(Network, Vec<f64>), BuildError> {
    let n = spec.assets.max(1);
    let book_value = spec.accounts as f64 * spec.account_value_usd;
    let mut b = NetworkBuilder::new();
    let prices = draw_assets(spec, &mut b);
    let loans = book_value * 0.3;
    let mut broker = Lender::new("broker", (loans * 0.05).max(1.0));
    broker.tighten_trigger = Some(0.05);
    broker.tighten_by = 0.05;
    b.add_lender(broker);
    b.add_lender(Lender::new("prime", (book_value * 0.02).max(1.0)));
    if spec.accounts > 0 {
        let book = book(&prices);
        b.add_holder(Holder::new(
            "retail",
            HolderKind::AccountBook {
                book: book.into(),
                cure_rate: 0.1,
            },
        ));
        b.lends(
            "broker",
            "retail",
            MarginTerms {
                loan: 0.0,
                maintenance: 0.30,
                reset: 0.35,
            },
        );
    }
    let top = n.min(10);
    let etf_nav = (book_value * 0.005).max(1e6);
    let basket: Vec<(String, f64)> = (0..top)
        .map(|k| (format!("A{k:03}"), 1.0 / top as f64))
        .collect();
    for (id, multiple, basket) in [
        ("bull3", 3.0, basket.clone()),
        ("bear3", -3.0, basket),
        ("single2", 2.0, vec![("A000".to_string(), 1.0)]),
    ] {
        b.add_holder(Holder::new(
            id,
            HolderKind::LeveragedEtf {
                multiple,
                nav: etf_nav,
                basket,
            },
        ));
    }
    let fund_value = (book_value * 0.01).max(1e6);
    for f in 0..3 {
        let id = format!("fund{f}");
        let mut h = Holder::new(
            id.clone(),
            HolderKind::Fund {
                redemption_beta: 2.5,
            },
        );
        h.cash = fund_value * 0.03;
        b.add_holder(h);
        for k in 0..n.min(50) {
            let a = (k * 3 + f) % n;
            b.holds(&id, &format!("A{a:03}"), fund_value / 50.0 / prices[a]);
        }
    }
    for (f, rule) in [
        BalanceSheetRule::LeverageTarget {
            target: 4.0,
            symmetric: false,
        },
        BalanceSheetRule::Threshold {
            max: 5.0,
            target: 4.0,
        },
    ]
    .into_iter()
    .enumerate()
    {
        let id = format!("hedge{f}");
        let mut h = Holder::new(id.clone(), HolderKind::LeveragedFund { rule });
        h.cash_use = CashUse::First;
        b.add_holder(h);
        let gross = fund_value * 4.0;
        for k in 0..n.min(20) {
            let a = (k * 7 + f) % n;
            b.holds(&id, &format!("A{a:03}"), gross / 20.0 / prices[a]);
        }
        b.lends(
            "prime",
            &id,
            MarginTerms {
                loan: gross * 0.75,
                maintenance: 0.15,
                reset: 0.2,
            },
        );
    }
    b.build().map(|net| (net, prices))
}

/// One asset at $100 (no price impact), one margin account with 100 shares and a $5,000
/// loan (50% loan-to-value), maintenance and reset `m`: the textbook margin call.
pub fn textbook_margin(m: f64) -> Result<Network, BuildError> {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset(
        "X".into(),
        100.0,
        1e9,
        0.02,
        ImpactLaw::Linear { per_usd: 0.0 },
    ));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "X", 100.0);
    b.lends(
        "broker",
        "acct",
        MarginTerms {
            loan: 5_000.0,
            maintenance: m,
            reset: m,
        },
    );
    b.build()
}

/// A random GLT system: `banks` banks over `assets` assets, leverage in [5, 30], each bank
/// in a random subset of the assets with random weights, impact of order 10 bp per 1% of the
/// system's holdings of an asset, and a shock `F` of size `scale` in a random direction
/// (mostly negative).
pub fn glt_system(banks: usize, assets: usize, seed: u64, scale: f64) -> GltInput {
    let mut rng = Rng::new(seed);
    let a: Array1<f64> = (0..banks).map(|_| rng.range(1e9, 1e11)).collect();
    let e: Array1<f64> = a.iter().map(|x| x / rng.range(5.0, 30.0)).collect();
    let mut m = Array2::zeros((banks, assets));
    for i in 0..banks {
        let mut sum = 0.0;
        for k in 0..assets {
            if rng.uniform() < 0.5 || k == i % assets {
                let w = rng.range(0.05, 1.0);
                m[[i, k]] = w;
                sum += w;
            }
        }
        m.row_mut(i).mapv_inplace(|w| w / sum);
    }
    let holdings = m.t().dot(&a);
    let impact: Array1<f64> = holdings.iter().map(|h| 0.1 / h).collect();
    let shock: Array1<f64> = (0..assets).map(|_| scale * rng.range(-1.0, 0.3)).collect();
    GltInput {
        assets: a,
        equity: e,
        weights: m,
        impact,
        shock,
    }
}

/// The engine's version of a GLT system: banks that target their starting leverage
/// (symmetric, cash pro rata), holding `a_n·m_nk / p_k` shares of asset `k` at prices
/// `prices`, with liabilities `a_n − e_n`; linear impact `ℓ_k`.
pub fn glt_network(x: &GltInput, prices: &[f64]) -> Result<Network, BuildError> {
    let (n, k) = x.weights.dim();
    let mut b = NetworkBuilder::new();
    for j in 0..k {
        let mut a = asset(
            format!("G{j}"),
            prices.get(j).copied().unwrap_or(1.0),
            1e12,
            0.02,
            ImpactLaw::Linear {
                per_usd: x.impact[j],
            },
        );
        a.shares_outstanding = 1e15;
        b.add_asset(a);
    }
    for i in 0..n {
        let id = format!("bank{i}");
        let mut h = Holder::new(
            id.clone(),
            HolderKind::Bank {
                rule: BalanceSheetRule::LeverageTarget {
                    target: x.assets[i] / x.equity[i],
                    symmetric: true,
                },
            },
        );
        h.cash_use = CashUse::ProRata;
        h.other_liabilities = x.assets[i] - x.equity[i];
        b.add_holder(h);
        for j in 0..k {
            let w = x.weights[[i, j]];
            if w > 0.0 {
                let p = prices.get(j).copied().unwrap_or(1.0);
                b.holds(&id, &format!("G{j}"), x.assets[i] * w / p);
            }
        }
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_uniform_enough() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        let mean: f64 = (0..10_000).map(|_| a.uniform()).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert!((0..1000).all(|_| a.below(5) < 5));
    }

    #[test]
    fn market_builds_and_is_deterministic() {
        let spec = MarketSpec::new(2_000);
        let x = market(&spec).expect("valid");
        let y = market(&spec).expect("valid");
        assert_eq!(x.holders(), y.holders());
        assert_eq!(x.assets().len(), 500);
        let book = match &x.holders()[0].kind {
            HolderKind::AccountBook { book, .. } => book,
            other => panic!("expected a book, got {other:?}"),
        };
        assert_eq!(book.len(), 2_000);
        assert_eq!(book.holdings(), 10_000);
    }
}
