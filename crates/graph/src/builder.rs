//! [`NetworkBuilder`]: the only way to a [`Network`]; it reports every problem at once.

use petgraph::graph::DiGraph;

use crate::checks::{check_asset, check_holder, check_lender, check_terms, sig};
use crate::error::{BuildError, Problem, Subject, hinted, problem};
use crate::model::{
    Asset, AssetIx, Edge, Holder, HolderIx, HolderKind, IdMap, Lender, LenderIx, MarginTerms,
    NodeRef,
};
use crate::network::{Claim, MarginLink, Network};

/// Collects nodes and edges, then checks them all in [`NetworkBuilder::build`].
///
/// Nodes are added first (each `add_*` returns its index); edges name nodes by id, so an
/// unknown or mistyped id is reported rather than silently dropped.
#[derive(Debug, Default)]
pub struct NetworkBuilder {
    assets: Vec<Asset>,
    holders: Vec<Holder>,
    lenders: Vec<Lender>,
    ids: IdMap<String, NodeRef>,
    holdings: Vec<(HolderIx, AssetIx, f64)>,
    loans: Vec<(LenderIx, HolderIx, MarginTerms)>,
    claims: Vec<Claim>,
    /// `(fund, shares outstanding)` as given.
    outstanding: Vec<(HolderIx, f64)>,
    /// `(holder, fund, shares)` of ETF shares.
    etf_holdings: Vec<(HolderIx, HolderIx, f64)>,
    problems: Vec<Problem>,
}

impl NetworkBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// `subject` is made only for a problem: two ids copied per node and holding for
    /// nothing were a good part of building 100,000 holders (issue 15).
    fn register(&mut self, id: &str, node: NodeRef, subject: impl FnOnce() -> Subject) {
        if id.is_empty() {
            self.problems
                .push(problem(subject(), "id", "ids must not be empty".into()));
            return;
        }
        if let Err(prev) = self.ids.insert_new(id.to_owned(), node) {
            let what = match prev {
                NodeRef::Asset(_) => "an asset",
                NodeRef::Holder(_) => "a holder",
                NodeRef::Lender(_) => "a lender",
            };
            self.problems.push(hinted(
                subject(),
                "id",
                format!("duplicate id `{id}`: already used by {what}"),
                "every asset, holder and lender needs its own id",
            ));
        }
    }

    /// Room for `nodes` more assets, holders and lenders together, `holders` of them
    /// holders: a large network's id map and holder list are then sized once rather than
    /// grown (and their ids re-placed) again and again.
    pub fn reserve(&mut self, nodes: usize, holders: usize) {
        self.ids.reserve(nodes);
        self.holders.reserve(holders);
    }

    /// Add an asset.
    pub fn add_asset(&mut self, asset: Asset) -> AssetIx {
        let ix = AssetIx(self.assets.len() as u32);
        self.register(&asset.id, NodeRef::Asset(ix), || {
            Subject::Asset(asset.id.clone())
        });
        self.assets.push(asset);
        ix
    }

    /// Add a holder.
    pub fn add_holder(&mut self, holder: Holder) -> HolderIx {
        let ix = HolderIx(self.holders.len() as u32);
        self.register(&holder.id, NodeRef::Holder(ix), || {
            Subject::Holder(holder.id.clone())
        });
        self.holders.push(holder);
        ix
    }

    /// Add a lender.
    pub fn add_lender(&mut self, lender: Lender) -> LenderIx {
        let ix = LenderIx(self.lenders.len() as u32);
        self.register(&lender.id, NodeRef::Lender(ix), || {
            Subject::Lender(lender.id.clone())
        });
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
        self.ids.sorted().into_iter().map(|(k, v)| (k.as_str(), *v))
    }

    fn expect_kind(
        &mut self,
        id: &str,
        want: fn(NodeRef) -> bool,
        what: &str,
        subject: &dyn Fn() -> Subject,
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
                    subject(),
                    field,
                    format!("`{id}` is {is}, expected {what}"),
                ));
                None
            }
            None => {
                self.problems
                    .push(problem(subject(), field, format!("unknown {what} `{id}`")));
                None
            }
        }
    }

    /// `holder` owns `shares` of `asset`. Several holdings of one asset by one holder add up.
    pub fn holds(&mut self, holder: &str, asset: &str, shares: f64) {
        let ends = self.holding(
            holder,
            asset,
            shares,
            |n| matches!(n, NodeRef::Asset(_)),
            "asset",
        );
        if let Some((h, NodeRef::Asset(a))) = ends {
            self.holdings.push((h, a, shares));
        }
    }

    /// [`NetworkBuilder::holds`] between a holder and an asset added already, named by
    /// their indices: no id looked up (a scenario of 100,000 banks has twice as many
    /// holdings). An index not added is reported as an unknown node.
    pub fn holds_ix(&mut self, holder: HolderIx, asset: AssetIx, shares: f64) {
        let (h, a) = (self.holders.get(holder.get()), self.assets.get(asset.get()));
        let subject = || Subject::Holding {
            holder: h.map_or_else(|| format!("#{}", holder.get()), |h| h.id.clone()),
            asset: a.map_or_else(|| format!("#{}", asset.get()), |a| a.id.clone()),
        };
        let problem_at = match (h, a) {
            (None, _) => Some(("holder", "unknown holder".to_owned())),
            (_, None) => Some(("asset", "unknown asset".to_owned())),
            _ if !(shares.is_finite() && shares >= 0.0) => Some((
                "shares",
                format!("shares must be a finite number ≥ 0, got {shares}"),
            )),
            _ => None,
        };
        match problem_at {
            Some((field, message)) => self.problems.push(problem(subject(), field, message)),
            None => self.holdings.push((holder, asset, shares)),
        }
    }

    /// The two ends of a holding of `shares` of `what` (`target`, which must satisfy
    /// `want`) by `holder`, or `None` with the problems recorded.
    fn holding(
        &mut self,
        holder: &str,
        target: &str,
        shares: f64,
        want: fn(NodeRef) -> bool,
        what: &str,
    ) -> Option<(HolderIx, NodeRef)> {
        let subject = || Subject::Holding {
            holder: holder.into(),
            asset: target.into(),
        };
        let h = self.expect_kind(
            holder,
            |n| matches!(n, NodeRef::Holder(_)),
            "holder",
            &subject,
            "holder",
        );
        let t = self.expect_kind(target, want, what, &subject, "asset");
        if !(shares.is_finite() && shares >= 0.0) {
            self.problems.push(problem(
                subject(),
                "shares",
                format!("shares must be a finite number ≥ 0, got {shares}"),
            ));
            return None;
        }
        match (h, t) {
            (Some(NodeRef::Holder(h)), Some(t)) => Some((h, t)),
            _ => None,
        }
    }

    /// Leveraged ETF `fund` has `shares` shares outstanding (needed for others to hold its
    /// shares; NAV per share is `nav / shares`).
    pub fn shares_outstanding(&mut self, fund: &str, shares: f64) {
        let subject = Subject::Holder(fund.into());
        let f = self.expect_kind(
            fund,
            |n| matches!(n, NodeRef::Holder(_)),
            "holder",
            &|| subject.clone(),
            "id",
        );
        if !(shares.is_finite() && shares > 0.0) {
            self.problems.push(problem(
                subject,
                "shares_outstanding",
                format!("shares_outstanding must be a finite number > 0, got {shares}"),
            ));
            return;
        }
        if let Some(NodeRef::Holder(f)) = f {
            self.outstanding.push((f, shares));
        }
    }

    /// `holder` owns `shares` shares of leveraged ETF `fund` (a margin account or cohort;
    /// the fund must give its shares outstanding and be a bull fund). Several holdings of
    /// one fund add up.
    pub fn holds_etf(&mut self, holder: &str, fund: &str, shares: f64) {
        let want = |n| matches!(n, NodeRef::Holder(_));
        if let Some((h, NodeRef::Holder(f))) =
            self.holding(holder, fund, shares, want, "leveraged ETF")
        {
            self.etf_holdings.push((h, f, shares));
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
            &|| subject.clone(),
            "lender",
        );
        let b = self.expect_kind(
            borrower,
            |n| matches!(n, NodeRef::Holder(_)),
            "borrower (a holder)",
            &|| subject.clone(),
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
            &|| subject.clone(),
            "debtor",
        );
        let c = self.expect_kind(
            creditor,
            balance_sheet,
            "holder or lender",
            &|| subject.clone(),
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
    // The build's steps in order, most of them one call each: reads best in one place.
    #[allow(clippy::too_many_lines)]
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
        let mut lines = vec![Vec::new(); self.holders.len()];
        // Book rows may hold ETF shares: indices past the assets, one per fund with
        // shares outstanding, in holder order.
        let etf_classes = classes(&self.holders, &self.outstanding);
        for (i, h) in self.holders.iter().enumerate() {
            let r = check_holder(
                h,
                &self.ids,
                n_assets + etf_classes.len(),
                &mut self.problems,
            );
            baskets[i] = r.basket;
            lines[i] = r.lines;
            let synthetic = synthetic_holdings(&h.kind);
            if let Some((message, hint)) = synthetic
                && holding_ptr[i + 1] > holding_ptr[i]
            {
                self.problems.push(hinted(
                    Subject::Holder(h.id.clone()),
                    "holdings",
                    message.into(),
                    hint,
                ));
            }
        }

        let (etf_outstanding, etf_holdings, etf_held) = etf_shares(
            &self.holders,
            (&self.outstanding, &etf_classes, n_assets),
            &mut self.etf_holdings,
            &mut self.problems,
        );
        let values = holder_values(
            &self.holders,
            &prices,
            (&holding_ptr, &holding_assets, &holding_shares),
            &etf_outstanding,
            &etf_holdings,
        );
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
            lines: &lines,
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
            lines,
            margin,
            claims: self.claims,
            etf_outstanding,
            etf_holdings,
            etf_classes,
            etf_held,
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

/// Leveraged ETFs given shares outstanding, in holder order.
fn classes(holders: &[Holder], given: &[(HolderIx, f64)]) -> Vec<HolderIx> {
    let mut c: Vec<HolderIx> = given
        .iter()
        .map(|&(f, _)| f)
        .filter(|f| matches!(holders[f.get()].kind, HolderKind::LeveragedEtf { .. }))
        .collect();
    c.sort_unstable();
    c.dedup();
    c
}

/// Account books' rows holding ETF shares (asset indices `n_assets + k`): an inverse
/// fund's shares are refused; shares held in all (with the explicit holdings) may not
/// exceed a fund's shares outstanding. Whether any row holds ETF shares.
fn book_etf_shares(
    holders: &[Holder],
    classes: &[HolderIx],
    outstanding: &[Option<f64>],
    explicit: &[Vec<(HolderIx, f64)>],
    n_assets: usize,
    out: &mut Vec<Problem>,
) -> bool {
    let mut held = vec![0.0; classes.len()];
    let mut any = false;
    for h in holders {
        let HolderKind::AccountBook { book, .. } = &h.kind else {
            continue;
        };
        if !book.has_rows_past(n_assets) {
            continue;
        }
        let mut inverse = None;
        for (a, s) in book.assets.iter().zip(&book.shares) {
            let Some(k) = a.get().checked_sub(n_assets) else {
                continue;
            };
            let Some(&f) = classes.get(k) else {
                continue;
            };
            any = true;
            held[k] += s;
            if let HolderKind::LeveragedEtf { multiple, .. } = holders[f.get()].kind
                && multiple < 0.0
            {
                inverse = Some(f);
            }
        }
        if let Some(f) = inverse {
            out.push(hinted(
                Subject::Holder(h.id.clone()),
                "holdings_csv",
                format!("`{}` is an inverse fund: its shares cannot be held", holders[f.get()].id),
                "a margin holder of an inverse fund gains as prices fall, so its forced sales would rise with prices and break the monotone fixed point the engine relies on",
            ));
        }
    }
    if any {
        for (k, &f) in classes.iter().enumerate() {
            let total = held[k]
                + explicit
                    .iter()
                    .flatten()
                    .filter(|(g, _)| *g == f)
                    .map(|(_, s)| s)
                    .sum::<f64>();
            if let Some(so) = outstanding[f.get()]
                && total > so
            {
                out.push(hinted(
                    Subject::Holder(holders[f.get()].id.clone()),
                    "shares_outstanding",
                    format!(
                        "holders hold {} shares of `{}` in all, more than its {} shares outstanding",
                        sig(total),
                        holders[f.get()].id,
                        sig(so)
                    ),
                    "lower the holdings or raise `shares_outstanding`",
                ));
            }
        }
    }
    any
}

/// Shares outstanding per holder, each holder's ETF share holdings, and whether any
/// holder or book row holds ETF shares.
type EtfShareParts = (Vec<Option<f64>>, Vec<Vec<(HolderIx, f64)>>, bool);

/// Each holder's holdings value at pre-shock prices (ETF shares at NAV per share), for
/// the loans derived from it.
fn holder_values(
    holders: &[Holder],
    prices: &[f64],
    (ptr, assets, shares): (&[usize], &[AssetIx], &[f64]),
    outstanding: &[Option<f64>],
    etf_holdings: &[Vec<(HolderIx, f64)>],
) -> Vec<f64> {
    (0..holders.len())
        .map(|h| {
            let v: f64 = (ptr[h]..ptr[h + 1])
                .map(|k| shares[k] * prices.get(assets[k].get()).unwrap_or(&0.0))
                .sum();
            if etf_holdings[h].is_empty() {
                return v;
            }
            v + etf_holdings[h]
                .iter()
                .map(|&(f, s)| s * nav_per_share(holders, outstanding, f))
                .sum::<f64>()
        })
        .collect()
}

/// NAV per share of fund `f` at the reference close (0 when it has none).
fn nav_per_share(holders: &[Holder], outstanding: &[Option<f64>], f: HolderIx) -> f64 {
    match (&holders[f.get()].kind, outstanding[f.get()]) {
        (HolderKind::LeveragedEtf { nav, .. }, Some(so)) => nav / so,
        _ => 0.0,
    }
}

/// Shares outstanding per holder and each holder's ETF share holdings (sorted by fund,
/// repeated holdings added up), with the checks: only leveraged ETFs have shares
/// outstanding; only margin accounts and cohorts hold them; the fund gives its shares
/// outstanding, is a bull fund (an inverse fund's holders would sell as prices rise,
/// breaking the monotone fixed point), and not more shares are held than outstanding.
fn etf_shares(
    holders: &[Holder],
    (given, classes, n_assets): (&[(HolderIx, f64)], &[HolderIx], usize),
    holdings: &mut [(HolderIx, HolderIx, f64)],
    out: &mut Vec<Problem>,
) -> EtfShareParts {
    let mut outstanding = vec![None; holders.len()];
    for &(f, so) in given {
        if matches!(holders[f.get()].kind, HolderKind::LeveragedEtf { .. }) {
            outstanding[f.get()] = Some(so);
        } else {
            out.push(problem(
                Subject::Holder(holders[f.get()].id.clone()),
                "shares_outstanding",
                "only a leveraged ETF has shares outstanding".into(),
            ));
        }
    }
    holdings.sort_by_key(|&(h, f, _)| (h, f));
    let mut per = vec![Vec::<(HolderIx, f64)>::new(); holders.len()];
    let mut held = vec![0.0; holders.len()];
    for &(h, f, s) in holdings.iter() {
        let (holder, fund) = (&holders[h.get()], &holders[f.get()]);
        let subject = Subject::Holding {
            holder: holder.id.clone(),
            asset: fund.id.clone(),
        };
        let HolderKind::LeveragedEtf { multiple, .. } = fund.kind else {
            out.push(problem(
                subject,
                "asset",
                format!(
                    "`{}` is not a leveraged ETF: only an ETF's shares may be held",
                    fund.id
                ),
            ));
            continue;
        };
        if !matches!(
            holder.kind,
            HolderKind::MarginAccount { .. } | HolderKind::MarginCohort { .. }
        ) {
            out.push(hinted(
                subject,
                "asset",
                format!("a {} cannot hold ETF shares", holder.kind.tag().name()),
                "only margin accounts, margin cohorts and account books hold leveraged ETF shares",
            ));
            continue;
        }
        if outstanding[f.get()].is_none() {
            out.push(hinted(
                subject,
                "asset",
                format!("leveraged ETF `{}` has no `shares_outstanding`", fund.id),
                "give the fund's `shares_outstanding`: its shares are priced at NAV per share",
            ));
            continue;
        }
        if multiple < 0.0 {
            out.push(hinted(
                subject,
                "asset",
                format!("`{}` is an inverse fund (multiple {multiple}): its shares cannot be held", fund.id),
                "a margin holder of an inverse fund gains as prices fall, so its forced sales would rise with prices and break the monotone fixed point the engine relies on",
            ));
            continue;
        }
        held[f.get()] += s;
        match per[h.get()].last_mut() {
            Some((last, x)) if *last == f => *x += s,
            _ => per[h.get()].push((f, s)),
        }
    }
    for (i, so) in outstanding.iter().enumerate() {
        if let Some(so) = so
            && held[i] > *so
        {
            out.push(hinted(
                Subject::Holder(holders[i].id.clone()),
                "shares_outstanding",
                format!(
                    "holders hold {} shares of `{}` in all, more than its {} shares outstanding",
                    sig(held[i]),
                    holders[i].id,
                    sig(*so)
                ),
                "lower the holdings or raise `shares_outstanding`",
            ));
        }
    }
    let held = per.iter().any(|v| !v.is_empty())
        | book_etf_shares(holders, classes, &outstanding, &per, n_assets, out);
    (outstanding, per, held)
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
    lines: &'a [Vec<AssetIx>],
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
            // One edge per asset a dealer hedges or a trend follower trades.
            let mut traded = self.lines[h].clone();
            traded.sort_unstable();
            traded.dedup();
            for a in traded {
                g.add_edge(node, an[a.get()], Edge::Trades);
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

/// Kinds whose positions are not holdings: the message and hint when holdings are given.
fn synthetic_holdings(kind: &HolderKind) -> Option<(&'static str, &'static str)> {
    match kind {
        HolderKind::LeveragedEtf { .. } => Some((
            "a leveraged ETF's exposure is given by `nav`, `multiple` and `basket`, not holdings",
            "remove `holdings` and describe the fund's basket instead",
        )),
        HolderKind::OptionsDealer { .. } => Some((
            "an options dealer's position is its delta hedge, set by its `options` and `gamma` lines, not holdings",
            "remove `holdings`: the hedge follows from the option book",
        )),
        HolderKind::TrendFollower { .. } => Some((
            "a trend follower's positions follow from its signals (`markets`, `lookbacks`), not holdings",
            "remove `holdings` and give each market's `max_usd` and `past_returns`",
        )),
        _ => None,
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

/// How many accounts of `book` start with equity ≤ 0 at `prices`, and the first of them;
/// on every core (the count and the first row do not depend on how rows are split).
fn book_insolvent(book: &crate::AccountBook, prices: &[f64]) -> (usize, Option<usize>) {
    use rayon::prelude::*;
    (0..book.len())
        .into_par_iter()
        .with_min_len(crate::model::BOOK_CHUNK / 8)
        .filter(|&r| {
            let v: f64 = book.row(r).map(|(a, s)| s * prices[a.get()]).sum();
            v + book.cash[r] - book.loan[r] <= 0.0
        })
        .fold(
            || (0usize, None::<usize>),
            |(n, first), r| (n + 1, first.or(Some(r))),
        )
        .reduce(
            || (0, None),
            |(n, a), (m, b)| (n + m, a.into_iter().chain(b).min()),
        )
}

fn check_solvency(net: &Network, out: &mut Vec<Problem>) {
    // Book rows may hold ETF shares, at NAV per share.
    let prices = net.extended_prices();
    for (i, h) in net.holders.iter().enumerate() {
        let hx = HolderIx(i as u32);
        if h.starts_insolvent {
            continue;
        }
        if let HolderKind::AccountBook { book, .. } = &h.kind {
            let (bad, first) = book_insolvent(book, &prices);
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
