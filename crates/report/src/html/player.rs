//! [`Player`]: what the round-by-round player needs from a replay of the run, kept small.
//!
//! A replay ([`delever_engine::explain::Replay::rounds`]) hands over every holder's state in
//! every round; the player keeps only the holders and assets the network drawing shows
//! (the largest by exposure), so a report on a network of many thousand holders stays small.
//! Past [`MAX_HOLDERS`] holders the drawing aggregates: one node per holder kind and
//! lender (the holders of a kind that borrow from one lender, or from none), whose status
//! in a round is its members' most severe, so that 1,000 holders read as a dozen nodes.

use delever_engine::explain::{LenderState, RoundState};
use delever_engine::{Ledger, Status};
use delever_graph::{AssetIx, HolderIx, KindTag, Network};

/// Most holders drawn one by one in the network; with more, holders are drawn as one node
/// per kind and lender (and, should there be more such groups, the largest of them).
pub(crate) const MAX_HOLDERS: usize = 60;
/// Most assets drawn in the network (the largest by exposure held).
pub(crate) const MAX_ASSETS: usize = 30;
/// Most lenders drawn in the network (the largest by loans).
pub(crate) const MAX_LENDERS: usize = 20;

/// One round as the player shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PlayerRound {
    /// Status of each drawn holder, in [`Player::holders`] order.
    pub holders: Vec<Status>,
    /// Sale decided by each drawn holder, USD.
    pub sales: Vec<f64>,
    /// Every lender's state, in lender order.
    pub lenders: Vec<LenderState>,
}

/// The per-round states the HTML report's player steps through. Build it with
/// [`Player::new`], feed it every round of a replay with [`Player::round`], and hand it to
/// [`crate::html::render`].
#[derive(Debug, Clone, PartialEq)]
pub struct Player {
    /// Drawn holder nodes, grouped by kind (report order), largest exposure first in a
    /// group: each node's largest holder (the node itself when not aggregated).
    pub(crate) holders: Vec<HolderIx>,
    /// The holders each drawn node stands for, largest first (one each when not
    /// aggregated).
    pub(crate) members: Vec<Vec<HolderIx>>,
    /// Each drawn node's lender (`None`: no margin loan), when aggregated.
    pub(crate) group_lender: Vec<Option<usize>>,
    /// Whether holders are drawn as one node per kind and lender.
    pub(crate) aggregated: bool,
    /// Gross exposure at pre-shock prices per holder (all holders), USD.
    pub(crate) holder_exposure: Vec<f64>,
    /// Drawn assets, largest exposure held first.
    pub(crate) assets: Vec<AssetIx>,
    /// Exposure held per asset (all assets), USD at pre-shock prices.
    pub(crate) asset_exposure: Vec<f64>,
    /// Drawn lenders, in lender order.
    pub(crate) lenders: Vec<usize>,
    /// Loans outstanding per lender (all lenders), USD.
    pub(crate) lender_loans: Vec<f64>,
    /// Rounds fed so far.
    pub(crate) rounds: Vec<PlayerRound>,
}

/// How severe a status is, for a node standing for several holders.
fn severity(s: Status) -> u8 {
    match s {
        Status::Unaffected => 0,
        Status::Bought => 1,
        Status::Sold => 2,
        Status::MarginCall => 3,
        Status::Liquidated => 4,
        Status::Defaulted => 5,
    }
}

/// The most severe of some statuses (unaffected when there are none).
pub(crate) fn worst(statuses: impl Iterator<Item = Status>) -> Status {
    statuses
        .max_by_key(|s| severity(*s))
        .unwrap_or(Status::Unaffected)
}

/// Indices of the `max` largest values, largest first (ties by index).
fn largest(values: &[f64], max: usize) -> Vec<usize> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    order.truncate(max);
    order
}

impl Player {
    /// Choose what the network drawing shows, from the network and the run's ledger.
    pub fn new(net: &Network, ledger: &Ledger) -> Self {
        let p0 = net.prices();
        let mut holder_exposure = vec![0.0; net.holders().len()];
        let mut asset_exposure = vec![0.0; net.assets().len()];
        for hl in &ledger.holders {
            for pos in &hl.positions {
                let usd =
                    pos.initial_shares.abs() * p0.get(pos.asset.get()).copied().unwrap_or(0.0);
                if let Some(h) = holder_exposure.get_mut(hl.holder.get()) {
                    *h += usd;
                }
                if let Some(a) = asset_exposure.get_mut(pos.asset.get()) {
                    *a += usd;
                }
            }
        }
        let mut lender_loans = vec![0.0; net.lenders().len()];
        for i in 0..net.holders().len() {
            if let Some(m) = net.margin(HolderIx(i as u32))
                && let Some(l) = lender_loans.get_mut(m.lender.get())
            {
                *l += m.terms.loan;
            }
        }
        let rank = |k: KindTag| KindTag::ALL.iter().position(|&t| t == k).unwrap_or(0);
        let aggregated = net.holders().len() > MAX_HOLDERS;
        let mut members: Vec<Vec<HolderIx>> = if aggregated {
            // One node per (kind, lender), members largest first.
            let mut groups: std::collections::BTreeMap<(usize, Option<usize>), Vec<HolderIx>> =
                std::collections::BTreeMap::new();
            for i in 0..net.holders().len() {
                let h = HolderIx(i as u32);
                let lender = net.margin(h).map(|m| m.lender.get());
                groups
                    .entry((rank(net.holder(h).kind.tag()), lender))
                    .or_default()
                    .push(h);
            }
            let mut groups: Vec<Vec<HolderIx>> = groups.into_values().collect();
            for g in &mut groups {
                g.sort_by(|a, b| {
                    holder_exposure[b.get()]
                        .total_cmp(&holder_exposure[a.get()])
                        .then(a.cmp(b))
                });
            }
            let sums: Vec<f64> = groups
                .iter()
                .map(|g| g.iter().map(|h| holder_exposure[h.get()]).sum())
                .collect();
            let keep = largest(&sums, MAX_HOLDERS);
            keep.into_iter()
                .map(|i| std::mem::take(&mut groups[i]))
                .collect()
        } else {
            largest(&holder_exposure, MAX_HOLDERS)
                .into_iter()
                .map(|i| vec![HolderIx(i as u32)])
                .collect()
        };
        let total = |g: &[HolderIx]| -> f64 { g.iter().map(|h| holder_exposure[h.get()]).sum() };
        members.sort_by(|a, b| {
            rank(net.holder(a[0]).kind.tag())
                .cmp(&rank(net.holder(b[0]).kind.tag()))
                .then(total(b).total_cmp(&total(a)))
                .then(a[0].cmp(&b[0]))
        });
        let holders: Vec<HolderIx> = members.iter().map(|g| g[0]).collect();
        let group_lender = holders
            .iter()
            .map(|h| net.margin(*h).map(|m| m.lender.get()))
            .collect();
        let assets = largest(&asset_exposure, MAX_ASSETS)
            .into_iter()
            .map(|i| AssetIx(i as u32))
            .collect();
        let mut lenders = largest(&lender_loans, MAX_LENDERS);
        lenders.sort_unstable();
        Player {
            holders,
            members,
            group_lender,
            aggregated,
            holder_exposure,
            assets,
            asset_exposure,
            lenders,
            lender_loans,
            rounds: Vec::new(),
        }
    }

    /// Take one round of the replay (call in round order).
    pub fn round(&mut self, r: &RoundState) {
        let pick = |h: &HolderIx| r.holders.get(h.get());
        self.rounds.push(PlayerRound {
            holders: self
                .members
                .iter()
                .map(|g| {
                    worst(
                        g.iter()
                            .map(|h| pick(h).map_or(Status::Unaffected, |s| s.status)),
                    )
                })
                .collect(),
            sales: self
                .members
                .iter()
                .map(|g| g.iter().map(|h| pick(h).map_or(0.0, |s| s.sale_usd)).sum())
                .collect(),
            lenders: r.lenders.clone(),
        });
    }

    /// Rounds taken so far.
    pub fn len(&self) -> usize {
        self.rounds.len()
    }

    /// Whether no round has been taken.
    pub fn is_empty(&self) -> bool {
        self.rounds.is_empty()
    }
}
