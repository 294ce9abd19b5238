//! Where the leveraged exposure sits: per holder, per kind, per asset.

use crate::model::{HolderIx, HolderKind, KindTag};
use crate::network::Network;

/// Balance-sheet figures of one holder at pre-shock prices.
#[derive(Debug, Clone, PartialEq)]
pub struct HolderSummary {
    /// Holder id.
    pub id: String,
    /// Holder kind.
    pub kind: KindTag,
    /// Gross exposure to tradable assets, USD (`|L|·NAV` for a leveraged ETF).
    pub gross_exposure_usd: f64,
    /// Equity (NAV for an ETF), USD.
    pub equity_usd: f64,
    /// Gross exposure over equity (∞ if equity ≤ 0).
    pub leverage: f64,
    /// Margin loan outstanding, USD.
    pub loan_usd: f64,
    /// Number of accounts the node stands for (1 unless a cohort or a book).
    pub accounts: u64,
}

impl HolderSummary {
    /// Whether the holder is levered: borrows, or is an ETF with |L| > 1, or has
    /// exposure beyond its equity.
    pub fn is_leveraged(&self) -> bool {
        self.loan_usd > 0.0 || self.leverage > 1.0 + 1e-12
    }
}

/// Totals over all holders of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct KindSummary {
    /// The kind.
    pub kind: KindTag,
    /// Number of holder nodes of this kind.
    pub holders: usize,
    /// Number of accounts they stand for.
    pub accounts: u64,
    /// Sum of gross exposures, USD.
    pub gross_exposure_usd: f64,
    /// Sum of equity, USD.
    pub equity_usd: f64,
    /// Sum of loans, USD.
    pub loan_usd: f64,
    /// Gross exposure of the levered holders of this kind, USD.
    pub leveraged_exposure_usd: f64,
}

/// Exposure to one asset, split by holder kind.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetSummary {
    /// Asset id.
    pub id: String,
    /// Pre-shock price.
    pub price: f64,
    /// Exposure by kind in [`KindTag::ALL`] order, USD (ETFs: |L|·NAV·weight).
    pub exposure_by_kind: [f64; KindTag::ALL.len()],
    /// Exposure held by levered holders, USD.
    pub leveraged_exposure_usd: f64,
    /// Average daily volume, USD.
    pub adv_usd: f64,
}

impl AssetSummary {
    /// Total exposure over all kinds, USD.
    pub fn total_usd(&self) -> f64 {
        self.exposure_by_kind.iter().sum()
    }
}

/// The summary of a whole network.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// One row per holder, in holder order.
    pub holders: Vec<HolderSummary>,
    /// One row per kind present, in [`KindTag::ALL`] order.
    pub kinds: Vec<KindSummary>,
    /// One row per asset, in asset order.
    pub assets: Vec<AssetSummary>,
    /// Total gross exposure of all levered holders, USD.
    pub leveraged_exposure_usd: f64,
    /// Total margin loans, USD.
    pub loans_usd: f64,
    /// Total lender capital, USD.
    pub lender_capital_usd: f64,
}

fn kind_slot(k: KindTag) -> usize {
    KindTag::ALL.iter().position(|&x| x == k).unwrap_or(0)
}

impl Network {
    /// A holder's gross exposure at `prices`: its holdings' value, or a trend follower's
    /// futures at their notional (a dealer's hedge is the engine's to compute from its
    /// option book: [`Network::summary_with`] adds it). `+ 0.0`: an empty sum is −0.0,
    /// which would print as "-0.00x".
    fn gross_exposure(&self, hx: HolderIx, prices: &[f64]) -> f64 {
        let gross = match &self.holders[hx.get()].kind {
            HolderKind::TrendFollower {
                lookbacks, markets, ..
            } => crate::convexity::trend_start_usd(lookbacks, markets)
                .iter()
                .map(|x| x.abs())
                .sum(),
            _ => self.holdings_value(hx, prices),
        };
        gross + 0.0
    }

    /// Summarise the network at pre-shock prices.
    pub fn summary(&self) -> Summary {
        self.summary_with(&[])
    }

    /// [`Network::summary`], with positions the network does not hold but a holder's
    /// rule does (an options dealer's delta hedge, which the engine computes from its
    /// option book): `(holder, asset, USD signed)`, counted at their absolute value.
    pub fn summary_with(&self, synthetic: &[(HolderIx, crate::model::AssetIx, f64)]) -> Summary {
        let prices = self.prices();
        let mut holders = Vec::with_capacity(self.holders.len());
        let mut assets: Vec<AssetSummary> = self
            .assets
            .iter()
            .map(|a| AssetSummary {
                id: a.id.clone(),
                price: a.price,
                exposure_by_kind: [0.0; KindTag::ALL.len()],
                leveraged_exposure_usd: 0.0,
                adv_usd: a.adv_usd,
            })
            .collect();
        for (i, h) in self.holders.iter().enumerate() {
            let hx = HolderIx(i as u32);
            let extra = || synthetic.iter().filter(move |(h, _, _)| *h == hx);
            let gross = self.gross_exposure(hx, &prices) + extra().map(|x| x.2.abs()).sum::<f64>();
            let equity = self.equity(hx, &prices);
            let loan = self.margin(hx).map_or(0.0, |m| m.terms.loan);
            let accounts = match &h.kind {
                HolderKind::MarginCohort { accounts, .. } => *accounts,
                HolderKind::AccountBook { book, .. } => book.len() as u64,
                _ => 1,
            };
            let row = HolderSummary {
                id: h.id.clone(),
                kind: h.kind.tag(),
                gross_exposure_usd: gross,
                equity_usd: equity,
                leverage: if equity > 0.0 {
                    gross / equity
                } else {
                    f64::INFINITY
                },
                loan_usd: loan,
                accounts,
            };
            let slot = kind_slot(row.kind);
            let levered = row.is_leveraged();
            let mut add = |a: usize, usd: f64| {
                assets[a].exposure_by_kind[slot] += usd;
                if levered {
                    assets[a].leveraged_exposure_usd += usd;
                }
            };
            match &h.kind {
                HolderKind::LeveragedEtf { multiple, nav, .. } => {
                    for &(a, w) in self.basket(hx) {
                        add(a.get(), multiple.abs() * nav * w);
                    }
                }
                HolderKind::TrendFollower {
                    lookbacks, markets, ..
                } => {
                    let usd = crate::convexity::trend_start_usd(lookbacks, markets);
                    for (&a, x) in self.lines(hx).iter().zip(usd) {
                        add(a.get(), x.abs());
                    }
                }
                HolderKind::AccountBook { book, .. } => {
                    for (a, s) in book.assets.iter().zip(&book.shares) {
                        // ETF shares (indices past the assets) are the funds' exposure.
                        if let Some(p) = prices.get(a.get()) {
                            add(a.get(), s * p);
                        }
                    }
                }
                _ => {
                    for (a, s) in self.holdings(hx) {
                        add(a.get(), s * prices[a.get()]);
                    }
                }
            }
            for &(_, a, usd) in extra() {
                add(a.get(), usd.abs());
            }
            holders.push(row);
        }
        let kinds = kind_rows(&holders);
        Summary {
            leveraged_exposure_usd: kinds.iter().map(|k| k.leveraged_exposure_usd).sum(),
            loans_usd: kinds.iter().map(|k| k.loan_usd).sum(),
            lender_capital_usd: self.lenders.iter().map(|l| l.capital).sum(),
            holders,
            kinds,
            assets,
        }
    }
}

/// Totals by kind, for the kinds present, in [`KindTag::ALL`] order.
fn kind_rows(holders: &[HolderSummary]) -> Vec<KindSummary> {
    KindTag::ALL
        .iter()
        .filter_map(|&k| {
            let rows: Vec<&HolderSummary> = holders.iter().filter(|r| r.kind == k).collect();
            (!rows.is_empty()).then(|| KindSummary {
                kind: k,
                holders: rows.len(),
                accounts: rows.iter().map(|r| r.accounts).sum(),
                gross_exposure_usd: rows.iter().map(|r| r.gross_exposure_usd).sum(),
                equity_usd: rows.iter().map(|r| r.equity_usd).sum(),
                loan_usd: rows.iter().map(|r| r.loan_usd).sum(),
                leveraged_exposure_usd: rows
                    .iter()
                    .filter(|r| r.is_leveraged())
                    .map(|r| r.gross_exposure_usd)
                    .sum(),
            })
        })
        .collect()
}
