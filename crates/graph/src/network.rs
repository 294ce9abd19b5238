//! The validated [`Network`] and its read-only accessors.

use petgraph::graph::{DiGraph, NodeIndex};

use crate::checks::check_asset;
use crate::error::{BuildError, Problem, Subject};
use crate::model::{
    Asset, AssetIx, Edge, Holder, HolderIx, HolderKind, ImpactDecay, ImpactLaw, Lender, LenderIx,
    MarginTerms, NodeRef,
};

/// An interbank claim: `debtor` owes `creditor` `amount` dollars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Claim {
    /// Who owes.
    pub debtor: NodeRef,
    /// Who is owed.
    pub creditor: NodeRef,
    /// Face value, USD.
    pub amount: f64,
}

/// A margin link as seen from the borrower.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MarginLink {
    /// Who lends.
    pub lender: LenderIx,
    /// On what terms.
    pub terms: MarginTerms,
}

/// A validated network of assets, holders and lenders.
///
/// The only way to get one is [`crate::NetworkBuilder::build`], which checks every
/// invariant listed in `ARCHITECTURE.md`; code that holds a `Network` can rely on them
/// (finite non-negative amounts, margins in range, weights summing to one, …).
///
/// The petgraph graph is the authoring view (for inspection and DOT export). The vectors
/// beside it hold the same facts indexed for speed: each holder's holdings sorted by asset,
/// each ETF's basket, each borrower's margin link.
#[derive(Debug, Clone)]
pub struct Network {
    pub(crate) graph: DiGraph<NodeRef, Edge>,
    pub(crate) assets: Vec<Asset>,
    pub(crate) holders: Vec<Holder>,
    pub(crate) lenders: Vec<Lender>,
    pub(crate) asset_nodes: Vec<NodeIndex>,
    pub(crate) holder_nodes: Vec<NodeIndex>,
    pub(crate) lender_nodes: Vec<NodeIndex>,
    /// CSR over explicit holdings (not account books): `holding_ptr[h]..holding_ptr[h+1]`.
    pub(crate) holding_ptr: Vec<usize>,
    pub(crate) holding_assets: Vec<AssetIx>,
    pub(crate) holding_shares: Vec<f64>,
    pub(crate) baskets: Vec<Vec<(AssetIx, f64)>>,
    /// Per holder, the asset of each line of a dealer's book (options, then gamma) or of
    /// each of a trend follower's markets.
    pub(crate) lines: Vec<Vec<AssetIx>>,
    pub(crate) margin: Vec<Option<MarginLink>>,
    pub(crate) claims: Vec<Claim>,
    /// Shares outstanding of each leveraged ETF whose shares others hold (per holder;
    /// `None` for every other holder).
    pub(crate) etf_outstanding: Vec<Option<f64>>,
    /// Each holder's holdings of ETF shares, `(fund, shares)`, sorted by fund.
    pub(crate) etf_holdings: Vec<Vec<(HolderIx, f64)>>,
    /// Leveraged ETFs with shares outstanding, in holder order: the `k`-th one's shares are
    /// the pseudo-asset `n_assets + k` in account books' rows.
    pub(crate) etf_classes: Vec<HolderIx>,
    /// Whether some holder (or book row) holds ETF shares.
    pub(crate) etf_held: bool,
}

impl Network {
    /// The petgraph view: node weights are [`NodeRef`]s, edge weights [`Edge`]s.
    pub fn graph(&self) -> &DiGraph<NodeRef, Edge> {
        &self.graph
    }
    /// All assets, indexed by [`AssetIx`].
    pub fn assets(&self) -> &[Asset] {
        &self.assets
    }
    /// All holders, indexed by [`HolderIx`].
    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }
    /// All lenders, indexed by [`LenderIx`].
    pub fn lenders(&self) -> &[Lender] {
        &self.lenders
    }
    /// One asset.
    pub fn asset(&self, a: AssetIx) -> &Asset {
        &self.assets[a.get()]
    }
    /// One holder.
    pub fn holder(&self, h: HolderIx) -> &Holder {
        &self.holders[h.get()]
    }
    /// One lender.
    pub fn lender(&self, l: LenderIx) -> &Lender {
        &self.lenders[l.get()]
    }
    /// The petgraph node of any node.
    pub fn node_index(&self, n: NodeRef) -> NodeIndex {
        match n {
            NodeRef::Asset(a) => self.asset_nodes[a.get()],
            NodeRef::Holder(h) => self.holder_nodes[h.get()],
            NodeRef::Lender(l) => self.lender_nodes[l.get()],
        }
    }
    /// The id of any node.
    pub fn node_id(&self, n: NodeRef) -> &str {
        match n {
            NodeRef::Asset(a) => &self.assets[a.get()].id,
            NodeRef::Holder(h) => &self.holders[h.get()].id,
            NodeRef::Lender(l) => &self.lenders[l.get()].id,
        }
    }
    /// Look an asset up by id (linear scan; for tools, not hot loops).
    pub fn find_asset(&self, id: &str) -> Option<AssetIx> {
        self.assets
            .iter()
            .position(|a| a.id == id)
            .map(|i| AssetIx(i as u32))
    }
    /// Look a holder up by id (linear scan; for tools, not hot loops).
    pub fn find_holder(&self, id: &str) -> Option<HolderIx> {
        self.holders
            .iter()
            .position(|h| h.id == id)
            .map(|i| HolderIx(i as u32))
    }
    /// Look a lender up by id (linear scan; for tools, not hot loops).
    pub fn find_lender(&self, id: &str) -> Option<LenderIx> {
        self.lenders
            .iter()
            .position(|l| l.id == id)
            .map(|i| LenderIx(i as u32))
    }
    /// The explicit holdings of a holder, sorted by asset: `(asset, shares)`.
    /// Account books keep their rows in [`crate::AccountBook`] instead.
    pub fn holdings(&self, h: HolderIx) -> impl ExactSizeIterator<Item = (AssetIx, f64)> + '_ {
        let (a, b) = (self.holding_ptr[h.get()], self.holding_ptr[h.get() + 1]);
        self.holding_assets[a..b]
            .iter()
            .copied()
            .zip(self.holding_shares[a..b].iter().copied())
    }
    /// A leveraged ETF's basket `(asset, weight)`, sorted by asset; empty for other kinds.
    pub fn basket(&self, h: HolderIx) -> &[(AssetIx, f64)] {
        &self.baskets[h.get()]
    }
    /// The asset of each line of an options dealer's book (its `options`, then its
    /// `gamma` lines) or of each of a trend follower's `markets`, in order; empty for
    /// other kinds.
    pub fn lines(&self, h: HolderIx) -> &[AssetIx] {
        &self.lines[h.get()]
    }
    /// A borrower's margin link, if it has one.
    pub fn margin(&self, h: HolderIx) -> Option<&MarginLink> {
        self.margin[h.get()].as_ref()
    }
    /// The borrowers of a lender, in holder order.
    pub fn borrowers(&self, l: LenderIx) -> impl Iterator<Item = HolderIx> + '_ {
        self.margin
            .iter()
            .enumerate()
            .filter(move |(_, m)| m.is_some_and(|m| m.lender == l))
            .map(|(i, _)| HolderIx(i as u32))
    }
    /// A leveraged ETF's shares outstanding, if the scenario gives them.
    pub fn shares_outstanding(&self, h: HolderIx) -> Option<f64> {
        self.etf_outstanding.get(h.get()).copied().flatten()
    }
    /// A leveraged ETF's NAV per share at the reference close (`nav / shares_outstanding`),
    /// if it has shares outstanding.
    pub fn nav_per_share(&self, h: HolderIx) -> Option<f64> {
        let so = self.shares_outstanding(h)?;
        match self.holders[h.get()].kind {
            HolderKind::LeveragedEtf { nav, .. } => Some(nav / so),
            _ => None,
        }
    }
    /// A holder's holdings of leveraged ETF shares, `(fund, shares)`, sorted by fund.
    pub fn etf_holdings(&self, h: HolderIx) -> &[(HolderIx, f64)] {
        self.etf_holdings.get(h.get()).map_or(&[], Vec::as_slice)
    }
    /// Whether any holder (or account book row) holds ETF shares.
    pub fn has_etf_holdings(&self) -> bool {
        self.etf_held
    }
    /// Leveraged ETFs with shares outstanding, in holder order. An account book's row
    /// holding asset index `n_assets + k` holds shares of the `k`-th.
    pub fn etf_classes(&self) -> &[HolderIx] {
        &self.etf_classes
    }
    /// Pre-shock prices, one per asset, then each fund of [`Network::etf_classes`]'s NAV
    /// per share: the prices of every index a book row may hold.
    pub fn extended_prices(&self) -> Vec<f64> {
        let mut p = self.prices();
        p.extend(
            self.etf_classes
                .iter()
                .map(|&f| self.nav_per_share(f).unwrap_or(0.0)),
        );
        p
    }
    /// All interbank claims, in the order they were added.
    pub fn claims(&self) -> &[Claim] {
        &self.claims
    }

    /// Market value of a holder's tradable holdings at `prices` (one per asset).
    ///
    /// For an account book this is the whole book; shares of leveraged ETFs count at their
    /// NAV per share at the reference close; for a leveraged ETF it is the gross
    /// exposure `|L|·NAV` at the reference close (prices are ignored: the fund's exposure is
    /// synthetic).
    pub fn holdings_value(&self, h: HolderIx, prices: &[f64]) -> f64 {
        match &self.holders[h.get()].kind {
            HolderKind::AccountBook { book, .. } => {
                // Rows may hold ETF shares (indices past the assets), at NAV per share.
                let ext = book
                    .has_rows_past(prices.len())
                    .then(|| self.extended_prices());
                let p = ext.as_deref().unwrap_or(prices);
                book.assets
                    .iter()
                    .zip(&book.shares)
                    .map(|(a, s)| s * p.get(a.get()).copied().unwrap_or(0.0))
                    .sum()
            }
            HolderKind::LeveragedEtf { multiple, nav, .. } => multiple.abs() * nav,
            _ => {
                let assets: f64 = self.holdings(h).map(|(a, s)| s * prices[a.get()]).sum();
                if self.etf_holdings(h).is_empty() {
                    return assets;
                }
                // ETF shares at NAV per share at the reference close.
                assets
                    + self
                        .etf_holdings(h)
                        .iter()
                        .map(|&(f, s)| s * self.nav_per_share(f).unwrap_or(0.0))
                        .sum::<f64>()
            }
        }
    }

    /// The same network with some assets' impact laws (and how their impact decays over
    /// days) replaced: a scenario's variants. Every new law is checked as
    /// [`crate::NetworkBuilder::build`] checks laws; if one breaks an invariant, every
    /// problem is returned and no network is made. An index out of range is a problem too.
    pub fn with_impacts(
        &self,
        laws: &[(AssetIx, ImpactLaw, ImpactDecay)],
    ) -> Result<Network, BuildError> {
        let mut problems = Vec::new();
        let mut assets = self.assets.clone();
        for (a, law, decay) in laws {
            let a = *a;
            match assets.get_mut(a.get()) {
                Some(asset) => {
                    asset.impact = *law;
                    asset.decay = decay.clone();
                    check_asset(asset, &mut problems);
                }
                None => problems.push(Problem {
                    subject: Subject::Asset(format!("#{}", a.0)),
                    field: "impact".into(),
                    message: format!(
                        "asset index {} is out of range ({} assets)",
                        a.0,
                        assets.len()
                    ),
                    hint: None,
                }),
            }
        }
        if !problems.is_empty() {
            return Err(BuildError { problems });
        }
        Ok(Network {
            assets,
            ..self.clone()
        })
    }

    /// Pre-shock prices, one per asset.
    pub fn prices(&self) -> Vec<f64> {
        self.assets.iter().map(|a| a.price).collect()
    }

    /// Interbank claims a node is owed minus those it owes, USD.
    pub fn net_interbank(&self, n: NodeRef) -> f64 {
        self.claims
            .iter()
            .map(|c| {
                if c.creditor == n {
                    c.amount
                } else if c.debtor == n {
                    -c.amount
                } else {
                    0.0
                }
            })
            .sum()
    }

    /// A holder's equity at `prices`: holdings + cash + other assets + net interbank
    /// claims − margin loan − other liabilities. For an ETF, its NAV.
    pub fn equity(&self, h: HolderIx, prices: &[f64]) -> f64 {
        let holder = &self.holders[h.get()];
        if let HolderKind::LeveragedEtf { nav, .. } = holder.kind {
            return nav;
        }
        let loan = self.margin(h).map_or(0.0, |m| m.terms.loan);
        self.holdings_value(h, prices)
            + holder.cash
            + holder.other_assets
            + self.net_interbank(NodeRef::Holder(h))
            - loan
            - holder.other_liabilities
    }
}
