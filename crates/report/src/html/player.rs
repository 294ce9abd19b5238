//! [`Player`]: what the round-by-round player needs from a replay of the run, kept small.
//!
//! A replay ([`delever_engine::explain::Replay::rounds`]) hands over every holder's state in
//! every round; the player keeps only the holders and assets the network drawing shows
//! (the largest by exposure), so a report on a network of many thousand holders stays small.

use delever_engine::explain::{LenderState, RoundState};
use delever_engine::{Ledger, Status};
use delever_graph::{AssetIx, HolderIx, KindTag, Network};

/// Most holders drawn in the network (the largest by gross exposure).
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
    /// Drawn holders, grouped by kind (report order), largest exposure first in a group.
    pub(crate) holders: Vec<HolderIx>,
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
        let mut holders: Vec<HolderIx> = largest(&holder_exposure, MAX_HOLDERS)
            .into_iter()
            .map(|i| HolderIx(i as u32))
            .collect();
        let rank = |k: KindTag| KindTag::ALL.iter().position(|&t| t == k).unwrap_or(0);
        holders.sort_by(|a, b| {
            rank(net.holder(*a).kind.tag())
                .cmp(&rank(net.holder(*b).kind.tag()))
                .then(holder_exposure[b.get()].total_cmp(&holder_exposure[a.get()]))
                .then(a.cmp(b))
        });
        let assets = largest(&asset_exposure, MAX_ASSETS)
            .into_iter()
            .map(|i| AssetIx(i as u32))
            .collect();
        let mut lenders = largest(&lender_loans, MAX_LENDERS);
        lenders.sort_unstable();
        Player {
            holders,
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
                .holders
                .iter()
                .map(|h| pick(h).map_or(Status::Unaffected, |s| s.status))
                .collect(),
            sales: self
                .holders
                .iter()
                .map(|h| pick(h).map_or(0.0, |s| s.sale_usd))
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
