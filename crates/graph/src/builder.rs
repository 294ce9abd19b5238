//! [`NetworkBuilder`]: the only way to a [`Network`]; it reports every problem at once.

use std::collections::BTreeMap;
use std::fmt;

use petgraph::graph::DiGraph;

use crate::model::{
    Asset, AssetIx, BalanceSheetRule, Edge, Holder, HolderIx, HolderKind, ImpactLaw, Lender,
    LenderIx, MarginTerms, NodeRef,
};
use crate::network::{Claim, MarginLink, Network};

/// Tolerance on "weights sum to 1" and similar identities.
pub const WEIGHT_TOLERANCE: f64 = 1e-6;

/// What a [`Problem`] is about.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// An asset, by id.
    Asset(String),
    /// A holder, by id.
    Holder(String),
    /// A lender, by id.
    Lender(String),
    /// A holding edge.
    Holding {
        /// Holder id.
        holder: String,
        /// Asset id.
        asset: String,
    },
    /// A margin link.
    Loan {
        /// Lender id.
        lender: String,
        /// Borrower id.
        borrower: String,
    },
    /// An interbank claim.
    Claim {
        /// Debtor id.
        debtor: String,
        /// Creditor id.
        creditor: String,
    },
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Asset(id) => write!(f, "asset `{id}`"),
            Subject::Holder(id) => write!(f, "holder `{id}`"),
            Subject::Lender(id) => write!(f, "lender `{id}`"),
            Subject::Holding { holder, asset } => write!(f, "holding of `{asset}` by `{holder}`"),
            Subject::Loan { lender, borrower } => {
                write!(f, "margin loan from `{lender}` to `{borrower}`")
            }
            Subject::Claim { debtor, creditor } => {
                write!(f, "claim of `{creditor}` on `{debtor}`")
            }
        }
    }
}

/// One invariant the network breaks.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The node or edge at fault.
    pub subject: Subject,
    /// The field, as named in the scenario format (`margin.maintenance`, `ltv_buckets[2].ltv`,
    /// `basket`, …). Empty when the problem is about the node as a whole.
    pub field: String,
    /// What is wrong and what was expected.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.subject)?;
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

/// The network could not be built; every problem found is listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the network is invalid ({} problem{}):\n{}", .problems.len(), if .problems.len() == 1 { "" } else { "s" }, render(.problems))]
pub struct BuildError {
    /// All problems, in the order nodes and edges were added.
    pub problems: Vec<Problem>,
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Collects nodes and edges, then checks them all in [`NetworkBuilder::build`].
///
/// Nodes are added first (each `add_*` returns its index); edges name nodes by id, so an
/// unknown or mistyped id is reported rather than silently dropped.
#[derive(Debug, Default)]
pub struct NetworkBuilder {
    assets: Vec<Asset>,
    holders: Vec<Holder>,
    lenders: Vec<Lender>,
    ids: BTreeMap<String, NodeRef>,
    holdings: Vec<(HolderIx, AssetIx, f64)>,
    loans: Vec<(LenderIx, HolderIx, MarginTerms)>,
    claims: Vec<Claim>,
    problems: Vec<Problem>,
}

fn problem(subject: Subject, field: &str, message: String) -> Problem {
    Problem {
        subject,
        field: field.to_owned(),
        message,
        hint: None,
    }
}

fn hinted(subject: Subject, field: &str, message: String, hint: &str) -> Problem {
    Problem {
        subject,
        field: field.to_owned(),
        message,
        hint: Some(hint.to_owned()),
    }
}

impl NetworkBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    fn register(&mut self, id: &str, node: NodeRef, subject: Subject) {
        if id.is_empty() {
            self.problems
                .push(problem(subject, "id", "ids must not be empty".into()));
            return;
        }
        if let Some(prev) = self.ids.get(id) {
            let what = match prev {
                NodeRef::Asset(_) => "an asset",
                NodeRef::Holder(_) => "a holder",
                NodeRef::Lender(_) => "a lender",
            };
            self.problems.push(hinted(
                subject,
                "id",
                format!("duplicate id `{id}`: already used by {what}"),
                "every asset, holder and lender needs its own id",
            ));
        } else {
            self.ids.insert(id.to_owned(), node);
        }
    }

    /// Add an asset.
    pub fn add_asset(&mut self, asset: Asset) -> AssetIx {
        let ix = AssetIx(self.assets.len() as u32);
        self.register(
            &asset.id.clone(),
            NodeRef::Asset(ix),
            Subject::Asset(asset.id.clone()),
        );
        self.assets.push(asset);
        ix
    }

    /// Add a holder.
    pub fn add_holder(&mut self, holder: Holder) -> HolderIx {
        let ix = HolderIx(self.holders.len() as u32);
        self.register(
            &holder.id.clone(),
            NodeRef::Holder(ix),
            Subject::Holder(holder.id.clone()),
        );
        self.holders.push(holder);
        ix
    }

    /// Add a lender.
    pub fn add_lender(&mut self, lender: Lender) -> LenderIx {
        let ix = LenderIx(self.lenders.len() as u32);
        self.register(
            &lender.id.clone(),
            NodeRef::Lender(ix),
            Subject::Lender(lender.id.clone()),
        );
        self.lenders.push(lender);
        ix
    }

    /// The node with this id, if one was added.
    pub fn lookup(&self, id: &str) -> Option<NodeRef> {
        self.ids.get(id).copied()
    }

    /// The asset with this id, if one was added.
    pub fn asset_ix(&self, id: &str) -> Option<AssetIx> {
        match self.ids.get(id) {
            Some(NodeRef::Asset(a)) => Some(*a),
            _ => None,
        }
    }

    /// All ids added so far, for "did you mean" suggestions.
    pub fn ids(&self) -> impl Iterator<Item = (&str, NodeRef)> {
        self.ids.iter().map(|(k, v)| (k.as_str(), *v))
    }

    fn expect_kind(
        &mut self,
        id: &str,
        want: fn(NodeRef) -> bool,
        what: &str,
        subject: &Subject,
        field: &str,
    ) -> Option<NodeRef> {
        match self.ids.get(id).copied() {
            Some(n) if want(n) => Some(n),
            Some(n) => {
                let is = match n {
                    NodeRef::Asset(_) => "an asset",
                    NodeRef::Holder(_) => "a holder",
                    NodeRef::Lender(_) => "a lender",
                };
                self.problems.push(problem(
                    subject.clone(),
                    field,
                    format!("`{id}` is {is}, expected {what}"),
                ));
                None
            }
            None => {
                self.problems.push(problem(
                    subject.clone(),
                    field,
                    format!("unknown {what} `{id}`"),
                ));
                None
            }
        }
    }

    /// `holder` owns `shares` of `asset`. Several holdings of one asset by one holder add up.
    pub fn holds(&mut self, holder: &str, asset: &str, shares: f64) {
        let subject = Subject::Holding {
            holder: holder.into(),
            asset: asset.into(),
        };
        let h = self.expect_kind(
            holder,
            |n| matches!(n, NodeRef::Holder(_)),
            "holder",
            &subject,
            "holder",
        );
        let a = self.expect_kind(
            asset,
            |n| matches!(n, NodeRef::Asset(_)),
            "asset",
            &subject,
            "asset",
        );
        if !(shares.is_finite() && shares >= 0.0) {
            self.problems.push(problem(
                subject,
                "shares",
                format!("shares must be a finite number ≥ 0, got {shares}"),
            ));
            return;
        }
        if let (Some(NodeRef::Holder(h)), Some(NodeRef::Asset(a))) = (h, a) {
            self.holdings.push((h, a, shares));
        }
    }

    /// `lender` lends to `borrower` on `terms`. For cohorts and account books leave
    /// `terms.loan` at 0: the loan is derived from the LTV buckets or the book's rows.
    pub fn lends(&mut self, lender: &str, borrower: &str, terms: MarginTerms) {
        let subject = Subject::Loan {
            lender: lender.into(),
            borrower: borrower.into(),
        };
        if lender == borrower {
            self.problems.push(hinted(
                subject,
                "lender",
                format!("`{lender}` cannot lend to itself"),
                "a margin link goes from a lender to a different borrower",
            ));
            return;
        }
        let l = self.expect_kind(
            lender,
            |n| matches!(n, NodeRef::Lender(_)),
            "lender",
            &subject,
            "lender",
        );
        let b = self.expect_kind(
            borrower,
            |n| matches!(n, NodeRef::Holder(_)),
            "borrower (a holder)",
            &subject,
            "borrower",
        );
        if let (Some(NodeRef::Lender(l)), Some(NodeRef::Holder(b))) = (l, b) {
            self.loans.push((l, b, terms));
        }
    }

    /// `debtor` owes `creditor` `amount` dollars (an interbank claim). Either side may be a
    /// holder or a lender.
    pub fn owes(&mut self, debtor: &str, creditor: &str, amount: f64) {
        let subject = Subject::Claim {
            debtor: debtor.into(),
            creditor: creditor.into(),
        };
        if debtor == creditor {
            self.problems.push(problem(
                subject,
                "creditor",
                format!("`{debtor}` cannot owe itself"),
            ));
            return;
        }
        let balance_sheet = |n: NodeRef| matches!(n, NodeRef::Holder(_) | NodeRef::Lender(_));
        let d = self.expect_kind(
            debtor,
            balance_sheet,
            "holder or lender",
            &subject,
            "debtor",
        );
        let c = self.expect_kind(
            creditor,
            balance_sheet,
            "holder or lender",
            &subject,
            "creditor",
        );
        if !(amount.is_finite() && amount >= 0.0) {
            self.problems.push(problem(
                subject,
                "amount",
                format!("amount must be a finite number ≥ 0, got {amount}"),
            ));
            return;
        }
        if let (Some(debtor), Some(creditor)) = (d, c) {
            self.claims.push(Claim {
                debtor,
                creditor,
                amount,
            });
        }
    }

    /// Check every invariant and build the network, or list every problem found.
    pub fn build(mut self) -> Result<Network, BuildError> {
        for a in &self.assets {
            check_asset(a, &mut self.problems);
        }
        for l in &self.lenders {
            check_lender(l, &mut self.problems);
        }

        let (holding_ptr, holding_assets, holding_shares) =
            holdings_csr(&mut self.holdings, self.holders.len());

        let prices: Vec<f64> = self.assets.iter().map(|a| a.price).collect();
        let n_assets = self.assets.len();
        let mut baskets = vec![Vec::new(); self.holders.len()];
        for (i, h) in self.holders.iter().enumerate() {
            baskets[i] = check_holder(h, &self.ids, n_assets, &mut self.problems);
            if matches!(h.kind, HolderKind::LeveragedEtf { .. })
                && holding_ptr[i + 1] > holding_ptr[i]
            {
                self.problems.push(hinted(
                    Subject::Holder(h.id.clone()),
                    "holdings",
                    "a leveraged ETF's exposure is given by `nav`, `multiple` and `basket`, not holdings".into(),
                    "remove `holdings` and describe the fund's basket instead",
                ));
            }
        }

        let values: Vec<f64> = (0..self.holders.len())
            .map(|h| {
                (holding_ptr[h]..holding_ptr[h + 1])
                    .map(|k| {
                        holding_shares[k] * prices.get(holding_assets[k].get()).unwrap_or(&0.0)
                    })
                    .sum()
            })
            .collect();
        let margin = resolve_loans(
            &self.loans,
            &self.holders,
            &self.lenders,
            &values,
            &mut self.problems,
        );

        for (i, h) in self.holders.iter().enumerate() {
            let needs_lender = matches!(
                h.kind,
                HolderKind::MarginAccount { .. }
                    | HolderKind::MarginCohort { .. }
                    | HolderKind::AccountBook { .. }
            );
            if needs_lender && margin[i].is_none() {
                self.problems.push(hinted(
                    Subject::Holder(h.id.clone()),
                    "margin",
                    format!("a {} needs a margin link to a lender", h.kind.tag().name()),
                    "add `margin: { lender: <id>, maintenance: …, reset: … }`",
                ));
            }
        }

        let graph_parts = GraphParts {
            holding_ptr: &holding_ptr,
            holding_assets: &holding_assets,
            holding_shares: &holding_shares,
            baskets: &baskets,
            margin: &margin,
        };
        let graph = graph_parts.assemble(&self.assets, &self.holders, &self.lenders, &self.claims);

        let mut net = Network {
            graph: graph.0,
            asset_nodes: graph.1,
            holder_nodes: graph.2,
            lender_nodes: graph.3,
            assets: self.assets,
            holders: self.holders,
            lenders: self.lenders,
            holding_ptr,
            holding_assets,
            holding_shares,
            baskets,
            margin,
            claims: self.claims,
        };

        // Starting equity is checked on the assembled network so that it counts every
        // balance-sheet item exactly as the engine will.
        if self.problems.is_empty() {
            check_solvency(&net, &mut self.problems);
        }
        if self.problems.is_empty() {
            net.claims.shrink_to_fit();
            Ok(net)
        } else {
            Err(BuildError {
                problems: self.problems,
            })
        }
    }
}

/// Holdings in CSR form, sorted by (holder, asset) so iteration order never depends on the
/// order the scenario listed them in; repeated holdings of one asset add up.
fn holdings_csr(
    holdings: &mut [(HolderIx, AssetIx, f64)],
    n_holders: usize,
) -> (Vec<usize>, Vec<AssetIx>, Vec<f64>) {
    holdings.sort_by_key(|&(h, a, _)| (h, a));
    let mut holding_ptr = vec![0usize; n_holders + 1];
    let mut holding_assets = Vec::with_capacity(holdings.len());
    let mut holding_shares: Vec<f64> = Vec::with_capacity(holdings.len());
    let mut last: Option<(HolderIx, AssetIx)> = None;
    for &(h, a, s) in holdings.iter() {
        if last == Some((h, a)) {
            if let Some(x) = holding_shares.last_mut() {
                *x += s;
            }
            continue;
        }
        last = Some((h, a));
        holding_ptr[h.get() + 1] += 1;
        holding_assets.push(a);
        holding_shares.push(s);
    }
    for i in 0..n_holders {
        holding_ptr[i + 1] += holding_ptr[i];
    }
    (holding_ptr, holding_assets, holding_shares)
}

/// Attach each margin link to its borrower: one lender per borrower, loans of cohorts and
/// books derived from their accounts, terms in range.
fn resolve_loans(
    loans: &[(LenderIx, HolderIx, MarginTerms)],
    holders: &[Holder],
    lenders: &[Lender],
    values: &[f64],
    out: &mut Vec<Problem>,
) -> Vec<Option<MarginLink>> {
    let mut margin: Vec<Option<MarginLink>> = vec![None; holders.len()];
    for &(l, b, mut terms) in loans {
        let borrower = &holders[b.get()];
        let subject = Subject::Loan {
            lender: lenders[l.get()].id.clone(),
            borrower: borrower.id.clone(),
        };
        if margin[b.get()].is_some() {
            out.push(hinted(
                subject.clone(),
                "margin",
                format!("`{}` already has a lender", borrower.id),
                "a borrower has one margin link; split a client of several prime brokers into one holder per broker",
            ));
            continue;
        }
        if let Some(derived) = derived_loan(borrower, values[b.get()]) {
            if terms.loan != 0.0 {
                out.push(hinted(
                    subject.clone(),
                    "margin.loan",
                    format!(
                        "a {} derives its loan from its accounts; got loan {}",
                        borrower.kind.tag().name(),
                        terms.loan
                    ),
                    "remove `loan`: cohorts take it from `ltv_buckets`, books from their rows",
                ));
            }
            terms.loan = derived;
        }
        check_terms(&terms, &subject, out);
        if matches!(borrower.kind, HolderKind::LeveragedEtf { .. }) {
            out.push(problem(
                subject,
                "margin",
                "a leveraged ETF does not borrow on margin; its leverage is its `multiple`".into(),
            ));
            continue;
        }
        margin[b.get()] = Some(MarginLink { lender: l, terms });
    }

    margin
}

type Assembled = (
    DiGraph<NodeRef, Edge>,
    Vec<petgraph::graph::NodeIndex>,
    Vec<petgraph::graph::NodeIndex>,
    Vec<petgraph::graph::NodeIndex>,
);

struct GraphParts<'a> {
    holding_ptr: &'a [usize],
    holding_assets: &'a [AssetIx],
    holding_shares: &'a [f64],
    baskets: &'a [Vec<(AssetIx, f64)>],
    margin: &'a [Option<MarginLink>],
}

impl GraphParts<'_> {
    fn assemble(
        &self,
        assets: &[Asset],
        holders: &[Holder],
        lenders: &[Lender],
        claims: &[Claim],
    ) -> Assembled {
        let mut g = DiGraph::with_capacity(
            assets.len() + holders.len() + lenders.len(),
            self.holding_assets.len() + holders.len() + claims.len(),
        );
        let an: Vec<_> = (0..assets.len())
            .map(|i| g.add_node(NodeRef::Asset(AssetIx(i as u32))))
            .collect();
        let hn: Vec<_> = (0..holders.len())
            .map(|i| g.add_node(NodeRef::Holder(HolderIx(i as u32))))
            .collect();
        let ln: Vec<_> = (0..lenders.len())
            .map(|i| g.add_node(NodeRef::Lender(LenderIx(i as u32))))
            .collect();
        for (h, &node) in hn.iter().enumerate() {
            for k in self.holding_ptr[h]..self.holding_ptr[h + 1] {
                g.add_edge(
                    node,
                    an[self.holding_assets[k].get()],
                    Edge::Holds {
                        shares: self.holding_shares[k],
                    },
                );
            }
            for &(a, w) in &self.baskets[h] {
                g.add_edge(node, an[a.get()], Edge::Tracks { weight: w });
            }
            if let Some(m) = self.margin[h] {
                g.add_edge(ln[m.lender.get()], node, Edge::Lends(m.terms));
            }
        }
        let node_of = |n: NodeRef| match n {
            NodeRef::Asset(a) => an[a.get()],
            NodeRef::Holder(h) => hn[h.get()],
            NodeRef::Lender(l) => ln[l.get()],
        };
        for c in claims {
            g.add_edge(
                node_of(c.debtor),
                node_of(c.creditor),
                Edge::Owes { amount: c.amount },
            );
        }
        (g, an, hn, ln)
    }
}

fn derived_loan(h: &Holder, holdings_value: f64) -> Option<f64> {
    match &h.kind {
        HolderKind::MarginCohort { buckets, .. } => Some(
            buckets
                .iter()
                .map(|b| b.ltv * b.share * holdings_value)
                .sum(),
        ),
        HolderKind::AccountBook { book, .. } => Some(book.loan.iter().sum()),
        _ => None,
    }
}

/// A computed figure for a message: six significant digits, no float noise
/// (`0.9`, not `0.8999999999999999`; `-100000`, not `-1.000000e5`).
pub(crate) fn sig(x: f64) -> String {
    if !x.is_finite() || x == 0.0 {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor();
    if !(-4.0..15.0).contains(&magnitude) {
        return format!("{x:.5e}");
    }
    let decimals = (5.0 - magnitude).max(0.0) as usize;
    let s = format!("{x:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

fn finite_pos(x: f64) -> bool {
    x.is_finite() && x > 0.0
}
fn finite_nonneg(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

pub(crate) fn check_asset(a: &Asset, out: &mut Vec<Problem>) {
    check_decay(a, out);
    let s = || Subject::Asset(a.id.clone());
    for (field, v) in [
        ("price", a.price),
        ("shares_outstanding", a.shares_outstanding),
    ] {
        if !finite_pos(v) {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number > 0, got {v}"),
            ));
        }
    }
    for (field, v) in [("adv_usd", a.adv_usd), ("daily_vol", a.daily_vol)] {
        if !finite_nonneg(v) {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number ≥ 0, got {v}"),
            ));
        }
    }
    for (field, v) in [("beta", a.beta), ("duration", a.duration)] {
        if !v.is_finite() {
            out.push(problem(
                s(),
                field,
                format!("must be a finite number, got {v}"),
            ));
        }
    }
    match a.impact {
        ImpactLaw::Linear { per_usd } if !finite_nonneg(per_usd) => out.push(problem(
            s(),
            "impact.per_usd",
            format!("must be a finite number ≥ 0, got {per_usd}"),
        )),
        ImpactLaw::Exponential { alpha } if !finite_nonneg(alpha) => out.push(problem(
            s(),
            "impact.alpha",
            format!("must be a finite number ≥ 0, got {alpha}"),
        )),
        ImpactLaw::SquareRoot { y } => {
            if !finite_nonneg(y) {
                out.push(problem(
                    s(),
                    "impact.y",
                    format!("must be a finite number ≥ 0, got {y}"),
                ));
            }
            if y > 0.0 && !(finite_pos(a.adv_usd) && finite_pos(a.daily_vol)) {
                out.push(hinted(
                    s(),
                    "adv_usd",
                    "the square-root impact law needs adv_usd > 0 and daily_vol > 0".into(),
                    "give the asset's average daily volume (USD) and daily volatility",
                ));
            }
        }
        ImpactLaw::ContSchaanning { c, tau_days, floor } => {
            if !finite_pos(c) {
                out.push(problem(
                    s(),
                    "impact.c",
                    format!("must be a finite number > 0, got {c}"),
                ));
            }
            if !finite_pos(tau_days) {
                out.push(problem(
                    s(),
                    "impact.tau_days",
                    format!("must be a finite number > 0, got {tau_days}"),
                ));
            }
            if !(floor.is_finite() && (0.0..1.0).contains(&floor)) {
                out.push(problem(
                    s(),
                    "impact.floor",
                    format!("must be in [0, 1), got {floor}"),
                ));
            }
            if !(finite_pos(a.adv_usd) && finite_pos(a.daily_vol)) {
                out.push(hinted(
                    s(),
                    "adv_usd",
                    "the Cont–Schaanning impact law needs adv_usd > 0 and daily_vol > 0".into(),
                    "give the asset's average daily volume (USD) and daily volatility",
                ));
            }
        }
        _ => {}
    }
}

/// Longest half-life or delay the timeline accepts, in trading days: about forty years;
/// anything longer is a typo for "permanent" or "never".
pub const MAX_DAYS: f64 = 10_000.0;

fn check_decay(a: &Asset, out: &mut Vec<Problem>) {
    let s = || Subject::Asset(a.id.clone());
    let d = &a.decay;
    if !(d.permanent.is_finite() && (0.0..=1.0).contains(&d.permanent)) {
        out.push(hinted(
            s(),
            "impact.decay.permanent",
            format!("must be in [0, 1], got {}", d.permanent),
            "the share of impact that never reverts: about 1/3 to 1/2 of the peak in the metaorder studies",
        ));
        return;
    }
    let mut total = d.permanent;
    for (i, t) in d.transient.iter().enumerate() {
        if !(t.share.is_finite() && t.share > 0.0 && t.share <= 1.0) {
            out.push(problem(
                s(),
                "impact.decay.transient.share",
                format!("part {i}: must be in (0, 1], got {}", t.share),
            ));
        }
        if !(t.half_life_days.is_finite() && t.half_life_days > 0.0 && t.half_life_days <= MAX_DAYS)
        {
            out.push(hinted(
                s(),
                "impact.decay.half_life_days",
                format!(
                    "part {i}: must be in (0, {MAX_DAYS}] trading days, got {}",
                    t.half_life_days
                ),
                "a half-life in trading days: 0.5 reverts mostly overnight; make impact permanent instead of using a huge half-life",
            ));
        }
        total += t.share;
    }
    if d.transient.is_empty() && d.permanent < 1.0 {
        out.push(hinted(
            s(),
            "impact.decay",
            format!(
                "a permanent share of {} needs transient parts for the rest",
                sig(d.permanent)
            ),
            "give `half_life_days` (one part with the rest of the impact) or a `transient:` list",
        ));
    } else if (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(problem(
            s(),
            "impact.decay",
            format!(
                "the permanent share and the transient shares must sum to 1, got {}",
                sig(total)
            ),
        ));
    }
}

fn check_participation(p: Option<f64>, field: &'static str, s: &Subject, out: &mut Vec<Problem>) {
    if let Some(p) = p
        && !(p.is_finite() && p > 0.0 && p <= 1.0)
    {
        out.push(hinted(
            s.clone(),
            field,
            format!("must be in (0, 1], got {p}"),
            "a fraction of the asset's average daily volume: 0.1–0.25 is a large but executable participation",
        ));
    }
}

fn check_days(days: u32, field: &'static str, s: &Subject, out: &mut Vec<Problem>) {
    if f64::from(days) > MAX_DAYS {
        out.push(problem(
            s.clone(),
            field,
            format!("must be at most {MAX_DAYS} trading days, got {days}"),
        ));
    }
}

fn check_lender(l: &Lender, out: &mut Vec<Problem>) {
    let s = || Subject::Lender(l.id.clone());
    if !finite_pos(l.capital) {
        out.push(problem(
            s(),
            "capital",
            format!("must be a finite number > 0, got {}", l.capital),
        ));
    }
    if !finite_nonneg(l.other_liabilities) {
        out.push(problem(
            s(),
            "other_liabilities",
            format!("must be a finite number ≥ 0, got {}", l.other_liabilities),
        ));
    }
    if let Some(t) = l.tighten_trigger
        && !finite_nonneg(t)
    {
        out.push(problem(
            s(),
            "tighten.trigger",
            format!("must be a finite fraction of capital ≥ 0, got {t}"),
        ));
    }
    if !(l.tighten_by.is_finite() && (0.0..=1.0).contains(&l.tighten_by)) {
        out.push(problem(
            s(),
            "tighten.by",
            format!("must be in [0, 1], got {}", l.tighten_by),
        ));
    }
    check_participation(
        l.liquidation.participation,
        "liquidation.participation",
        &s(),
        out,
    );
    check_days(
        l.liquidation.delay_days,
        "liquidation.delay_days",
        &s(),
        out,
    );
}

fn check_terms(t: &MarginTerms, subject: &Subject, out: &mut Vec<Problem>) {
    if !finite_nonneg(t.loan) {
        out.push(problem(
            subject.clone(),
            "margin.loan",
            format!("must be a finite number ≥ 0, got {}", t.loan),
        ));
    }
    if !(t.maintenance.is_finite() && t.maintenance > 0.0 && t.maintenance <= 1.0) {
        out.push(hinted(
            subject.clone(),
            "margin.maintenance",
            format!("must be in (0, 1], got {}", t.maintenance),
            "maintenance is a fraction: FINRA's minimum is 0.25, brokers' house levels 0.30–0.50",
        ));
    } else if !(t.reset.is_finite() && t.reset >= t.maintenance && t.reset <= 1.0) {
        out.push(hinted(
            subject.clone(),
            "margin.reset",
            format!(
                "must be in [maintenance, 1] = [{}, 1], got {}",
                t.maintenance, t.reset
            ),
            "reset is the equity fraction a called account is restored to; use the maintenance itself or the initial margin (Reg T: 0.5)",
        ));
    }
}

fn check_rule(rule: &BalanceSheetRule, s: &Subject, out: &mut Vec<Problem>) {
    match *rule {
        BalanceSheetRule::LeverageTarget { target, .. }
            if !(target.is_finite() && target >= 1.0) =>
        {
            out.push(problem(
                s.clone(),
                "rule.target",
                format!("target leverage (assets/equity) must be ≥ 1, got {target}"),
            ));
        }
        BalanceSheetRule::Threshold { max, target } => {
            if !(target.is_finite() && target >= 1.0) {
                out.push(problem(
                    s.clone(),
                    "rule.target",
                    format!("target leverage (assets/equity) must be ≥ 1, got {target}"),
                ));
            }
            if !(max.is_finite() && max > target) {
                out.push(hinted(
                    s.clone(),
                    "rule.max",
                    format!("must be greater than target ({target}), got {max}"),
                    "Cont–Schaanning: act above λ_max, return to λ_b = 0.95·λ_max",
                ));
            }
        }
        BalanceSheetRule::CapitalRatio { min_ratio }
            if !(min_ratio.is_finite() && min_ratio > 0.0 && min_ratio < 1.0) =>
        {
            out.push(problem(
                s.clone(),
                "rule.min_ratio",
                format!("must be in (0, 1), got {min_ratio}"),
            ));
        }
        _ => {}
    }
}

fn check_cure(cure: f64, s: &Subject, out: &mut Vec<Problem>) {
    if !(cure.is_finite() && (0.0..=1.0).contains(&cure)) {
        out.push(problem(
            s.clone(),
            "cure_rate",
            format!("must be in [0, 1], got {cure}"),
        ));
    }
}

/// Check one holder; returns its resolved basket (empty unless it is an ETF).
fn check_holder(
    h: &Holder,
    ids: &BTreeMap<String, NodeRef>,
    n_assets: usize,
    out: &mut Vec<Problem>,
) -> Vec<(AssetIx, f64)> {
    let s = Subject::Holder(h.id.clone());
    for (field, v) in [
        ("cash", h.cash),
        ("other_assets", h.other_assets),
        ("other_liabilities", h.other_liabilities),
    ] {
        if !finite_nonneg(v) {
            out.push(problem(
                s.clone(),
                field,
                format!("must be a finite number ≥ 0, got {v}"),
            ));
        }
    }
    let mut basket = Vec::new();
    match &h.kind {
        HolderKind::MarginAccount { cure_rate } => check_cure(*cure_rate, &s, out),
        HolderKind::MarginCohort {
            accounts,
            buckets,
            cure_rate,
        } => {
            check_cure(*cure_rate, &s, out);
            check_cohort(*accounts, buckets, &s, out);
        }
        HolderKind::AccountBook { book, cure_rate } => {
            check_cure(*cure_rate, &s, out);
            check_book(book, &s, n_assets, out);
        }
        HolderKind::LeveragedEtf {
            multiple,
            nav,
            basket: entries,
        } => {
            basket = check_etf(*multiple, *nav, entries, ids, &s, out);
        }
        HolderKind::LeveragedFund { rule } | HolderKind::Bank { rule } => {
            check_rule(rule, &s, out);
        }
        HolderKind::Fund { redemption_beta } => {
            if !finite_nonneg(*redemption_beta) {
                out.push(problem(
                    s.clone(),
                    "redemption_beta",
                    format!("must be a finite number ≥ 0, got {redemption_beta}"),
                ));
            }
        }
    }
    if let Some(d) = h.default_below_ratio {
        check_default_ratio(d, &h.kind, &s, out);
    }
    check_participation(h.timing.participation, "participation", &s, out);
    check_days(h.timing.cure_days, "cure_days", &s, out);
    check_days(h.timing.redemption_lag_days, "redemption_lag_days", &s, out);
    basket
}

/// The ratio (equity/assets) below which a holder's rule starts selling, if it has one.
fn acting_ratio(rule: &BalanceSheetRule) -> Option<(f64, &'static str)> {
    match *rule {
        BalanceSheetRule::Threshold { max, .. } => Some((1.0 / max, "rule.max")),
        BalanceSheetRule::LeverageTarget { target, .. } => Some((1.0 / target, "rule.target")),
        BalanceSheetRule::CapitalRatio { min_ratio } => Some((min_ratio, "rule.min_ratio")),
        BalanceSheetRule::Passive | BalanceSheetRule::FailLiquidate => None,
    }
}

/// An insolvency ratio: banks and leveraged funds only, in (0, 1), below the ratio at
/// which the holder's rule starts selling (else the rule's buffer could never work).
fn check_default_ratio(d: f64, kind: &HolderKind, s: &Subject, out: &mut Vec<Problem>) {
    let field = "default_below_ratio";
    let (HolderKind::Bank { rule } | HolderKind::LeveragedFund { rule }) = kind else {
        out.push(hinted(
            s.clone(),
            field,
            format!(
                "applies to banks and leveraged funds only, not to a {}",
                kind.tag().name()
            ),
            "margin holders default when their equity reaches 0; remove the key",
        ));
        return;
    };
    if !(d.is_finite() && d > 0.0 && d < 1.0) {
        out.push(hinted(
            s.clone(),
            field,
            format!("must be in (0, 1), got {d}"),
            "an equity/assets ratio as a fraction: 0.03 is insolvent below a 3% leverage ratio",
        ));
        return;
    }
    if let Some((acting, key)) = acting_ratio(rule)
        && acting.is_finite()
        && d >= acting
    {
        out.push(hinted(
            s.clone(),
            field,
            format!(
                "must be below the ratio at which the rule starts selling ({} from `{key}`), got {d}",
                sig(acting)
            ),
            "e.g. leverage-ratio banks: insolvent below 0.03, act below 0.04 (`threshold` with `max: 25`), back to 0.05 (`target: 20`)",
        ));
    }
}

fn check_cohort(accounts: u64, buckets: &[crate::LtvBucket], s: &Subject, out: &mut Vec<Problem>) {
    let s = s.clone();
    if accounts == 0 {
        out.push(problem(
            s.clone(),
            "accounts",
            "a cohort must stand for at least one account".into(),
        ));
    }
    if buckets.is_empty() {
        out.push(problem(
            s.clone(),
            "ltv_buckets",
            "a cohort needs at least one loan-to-value bucket".into(),
        ));
    }
    let mut total = 0.0;
    for (i, b) in buckets.iter().enumerate() {
        if !(b.ltv.is_finite() && (0.0..1.0).contains(&b.ltv)) {
            out.push(hinted(
                s.clone(),
                &format!("ltv_buckets[{i}].ltv"),
                format!("loan-to-value must be in [0, 1), got {}", b.ltv),
                "LTV is loan / holdings value; Reg T's initial margin caps it at 0.5 when opened",
            ));
        }
        if !finite_nonneg(b.share) {
            out.push(problem(
                s.clone(),
                &format!("ltv_buckets[{i}].share"),
                format!("must be a finite number ≥ 0, got {}", b.share),
            ));
        }
        total += b.share;
    }
    if !buckets.is_empty() && total.is_finite() && (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(hinted(
            s.clone(),
            "ltv_buckets",
            format!("bucket shares must sum to 1, got {}", sig(total)),
            "each share is the fraction of the cohort's accounts (and holdings) in that bucket",
        ));
    }
}

/// Check a leveraged ETF's parameters; returns its basket resolved to asset indices.
fn check_etf(
    multiple: f64,
    nav: f64,
    entries: &[(String, f64)],
    ids: &BTreeMap<String, NodeRef>,
    s: &Subject,
    out: &mut Vec<Problem>,
) -> Vec<(AssetIx, f64)> {
    let s = s.clone();
    let mut basket = Vec::new();
    if !(multiple.is_finite() && multiple != 0.0) {
        out.push(hinted(
            s.clone(),
            "multiple",
            format!("must be a finite non-zero number, got {multiple}"),
            "e.g. 3 for SOXL, -3 for SOXS, 2 for NVDL",
        ));
    }
    if !finite_pos(nav) {
        out.push(problem(
            s.clone(),
            "nav",
            format!("must be a finite number > 0, got {nav}"),
        ));
    }
    if entries.is_empty() {
        out.push(problem(
            s.clone(),
            "basket",
            "a leveraged ETF needs a basket of at least one asset".into(),
        ));
    }
    let mut total = 0.0;
    for (id, w) in entries {
        let field = format!("basket.{id}");
        if !finite_pos(*w) {
            out.push(problem(
                s.clone(),
                &field,
                format!("weight must be a finite number > 0, got {w}"),
            ));
        }
        total += w;
        match ids.get(id.as_str()) {
            Some(NodeRef::Asset(a)) => basket.push((*a, *w)),
            Some(_) => out.push(problem(
                s.clone(),
                &field,
                format!("`{id}` is not an asset"),
            )),
            None => out.push(problem(s.clone(), &field, format!("unknown asset `{id}`"))),
        }
    }
    if !entries.is_empty() && total.is_finite() && (total - 1.0).abs() > WEIGHT_TOLERANCE {
        out.push(hinted(
            s.clone(),
            "basket",
            format!("basket weights must sum to 1, got {}", sig(total)),
            "weights are fractions of the fund's exposure",
        ));
    }
    basket.sort_by_key(|&(a, _)| a);
    for w in basket.windows(2) {
        if w[0].0 == w[1].0 {
            out.push(problem(
                s.clone(),
                "basket",
                "an asset appears twice in the basket".into(),
            ));
        }
    }
    basket
}

fn check_book(book: &crate::AccountBook, s: &Subject, n_assets: usize, out: &mut Vec<Problem>) {
    let n = book.cash.len();
    if book.loan.len() != n || book.row_ptr.len() != n + 1 {
        out.push(problem(
            s.clone(),
            "accounts",
            format!(
                "inconsistent book: {n} cash entries, {} loans, {} row pointers",
                book.loan.len(),
                book.row_ptr.len()
            ),
        ));
        return;
    }
    if book.assets.len() != book.shares.len()
        || book.row_ptr.first() != Some(&0)
        || book.row_ptr.last().copied() != Some(book.shares.len() as u64)
        || book.row_ptr.windows(2).any(|w| w[0] > w[1])
    {
        out.push(problem(
            s.clone(),
            "holdings",
            "inconsistent book: holdings rows do not match the row pointers".into(),
        ));
        return;
    }
    // Report the first few bad rows by number and count the rest, so a bad file of ten
    // million rows gives a readable message.
    let mut bad = 0usize;
    let mut report = |field: &str, row: usize, msg: String, out: &mut Vec<Problem>| {
        bad += 1;
        if bad <= 5 {
            out.push(problem(s.clone(), &format!("accounts[{row}].{field}"), msg));
        }
    };
    for i in 0..n {
        if !finite_nonneg(book.cash[i]) {
            report(
                "cash",
                i,
                format!("must be a finite number ≥ 0, got {}", book.cash[i]),
                out,
            );
        }
        if !finite_nonneg(book.loan[i]) {
            report(
                "loan",
                i,
                format!("must be a finite number ≥ 0, got {}", book.loan[i]),
                out,
            );
        }
        for k in book.row_ptr[i] as usize..book.row_ptr[i + 1] as usize {
            if book.assets[k].get() >= n_assets {
                report(
                    "asset",
                    i,
                    format!("asset index {} out of range", book.assets[k].0),
                    out,
                );
            }
            if !finite_nonneg(book.shares[k]) {
                report(
                    "shares",
                    i,
                    format!("must be a finite number ≥ 0, got {}", book.shares[k]),
                    out,
                );
            }
        }
    }
    if bad > 5 {
        out.push(problem(
            s.clone(),
            "accounts",
            format!("… and {} more bad rows", bad - 5),
        ));
    }
}

fn check_solvency(net: &Network, out: &mut Vec<Problem>) {
    let prices = net.prices();
    for (i, h) in net.holders.iter().enumerate() {
        let hx = HolderIx(i as u32);
        if h.starts_insolvent {
            continue;
        }
        if let HolderKind::AccountBook { book, .. } = &h.kind {
            let mut bad = 0usize;
            let mut first = None;
            for r in 0..book.len() {
                let v: f64 = book.row(r).map(|(a, s)| s * prices[a.get()]).sum();
                if v + book.cash[r] - book.loan[r] <= 0.0 {
                    bad += 1;
                    first.get_or_insert(r);
                }
            }
            if let Some(r) = first {
                out.push(hinted(
                    Subject::Holder(h.id.clone()),
                    &format!("accounts[{r}]"),
                    format!("{bad} account(s) start with equity ≤ 0 (first: row {r})"),
                    "set `starts_insolvent: true` if the book really starts underwater",
                ));
            }
            continue;
        }
        let e = net.equity(hx, &prices);
        if e <= 0.0 {
            out.push(hinted(
                Subject::Holder(h.id.clone()),
                "",
                format!("starting equity must be positive, got {} USD", sig(e)),
                "check loans and liabilities against holdings, or set `starts_insolvent: true`",
            ));
        } else if let Some(d) = h.default_below_ratio.filter(|d| d.is_finite()) {
            let receivable: f64 = net
                .claims
                .iter()
                .filter(|c| c.creditor == NodeRef::Holder(hx))
                .map(|c| c.amount)
                .sum();
            let assets = net.holdings_value(hx, &prices) + h.cash + h.other_assets + receivable;
            if e < d * assets {
                out.push(hinted(
                    Subject::Holder(h.id.clone()),
                    "default_below_ratio",
                    format!(
                        "the holder starts insolvent: equity/assets is {} at pre-shock prices, below its default_below_ratio {d}",
                        sig(e / assets)
                    ),
                    "check the balance sheet, lower the ratio, or set `starts_insolvent: true`",
                ));
            }
        }
    }
}
