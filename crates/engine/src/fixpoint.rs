//! The loop: `p ← Φ(p) = p_s ⊙ g(Q(p))`, `Q_k = (S_k(p) + X_k)·p0_k`, until no price moves
//! by more than the tolerance, or the round limit.
//!
//! Every rule's sales are non-increasing in `p` and every `g` is non-increasing in `Q`, so
//! `Φ` is monotone (order-preserving). From the shocked prices `p_s` (the top of the
//! lattice `[floor, p_s]` when nobody buys) the iterates decrease to the greatest fixed
//! point; from the floor prices (everybody at their worst: the all-liquidated state) they
//! increase to the least one (Tarski; Kleene iteration). Damping `p ← (1−d)p + dΦ(p)` is
//! used only when some rule can buy.

use crate::compile::Compiled;
use crate::observer::Observer;
use crate::outcome::{RoundTrace, Termination, push_bounded};
use crate::round::{Eval, Workspace, evaluate};
use crate::shocks::{PRICE_FLOOR, Shocked};
use crate::spec::EngineConfig;

/// Where an iteration ended.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub prices: Vec<f64>,
    /// The prices `last` was evaluated at (the iterate before `prices`).
    pub decided_at: Vec<f64>,
    /// The evaluation that produced `prices` (decisions at the previous iterate).
    pub last: Eval,
    /// The evaluation in round 1 (at the starting prices).
    pub first: Eval,
    pub rounds: u32,
    pub residual: f64,
    pub termination: Termination,
    pub trace: Vec<RoundTrace>,
    /// Per asset: each round's additional net sales valued at the price that round's
    /// selling produced (`next`), summed over the rounds, USD. The rounds' increments add
    /// up to `last.total`, so this is `last.total` valued along the way down rather than
    /// at the end.
    pub sold_at_round_prices: Vec<f64>,
}

/// Which iteration is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// From the shocked prices down (ratcheted tightening).
    Greatest,
    /// From the floor up (tightening recomputed each round).
    Least,
}

pub(crate) struct Iterator<'x, 'a> {
    pub c: &'x Compiled<'a>,
    pub s: &'x Shocked,
    pub equity0: &'x [f64],
    pub cfg: &'x EngineConfig,
    /// Gross starting shares per asset, for the trace's price index.
    pub gross: &'x [f64],
    /// Lenders that tightened before the run (a timeline's earlier days); empty: none.
    pub tight0: &'x [bool],
    /// The timeline day the iteration solves (0 in the one-instant modes), for the trace.
    pub day: u32,
    /// Accounts already in call, and already defaulted, before the first round (a
    /// timeline's calls and defaults carried from earlier days): the trace's "new" counts
    /// start from them.
    pub counted: (u64, u64),
}

impl Iterator<'_, '_> {
    /// The price floor per asset.
    pub fn floor(&self) -> Vec<f64> {
        self.c.p0.iter().map(|p| p * PRICE_FLOOR).collect()
    }

    /// The next iterate — `Φ(p)`, damped when some rule can buy — and the residual of the
    /// *undamped* map, `max_k |Φ(p)_k − p_k| / p_k`.
    ///
    /// Why undamped: a damped step moves prices by `d·(Φ(p) − p)`, so with a tiny `d` the
    /// step is tiny wherever the iterate is, and a test on the step would call the shocked
    /// prices a fixed point after one round. Only `Φ(p) = p` is a fixed point.
    fn step(&self, total: &[f64], p: &[f64]) -> (Vec<f64>, f64) {
        let d = if self.c.can_buy {
            self.cfg.damping
        } else {
            1.0
        };
        let mut residual = 0.0f64;
        let next = (0..self.c.n_assets)
            .map(|k| {
                let floor = self.c.p0[k] * PRICE_FLOOR;
                let q = (total[k] + self.s.exo_shares[k]) * self.c.p0[k];
                let target = self.s.price_at(self.c.laws[k], k, q).max(floor);
                let target = if target.is_finite() { target } else { floor };
                residual = residual.max((target - p[k]).abs() / p[k]);
                let next = if d < 1.0 {
                    (1.0 - d) * p[k] + d * target
                } else {
                    target
                };
                if next.is_finite() {
                    next.max(floor)
                } else {
                    floor
                }
            })
            .collect();
        (next, residual)
    }

    pub fn run(
        &self,
        start: Vec<f64>,
        dir: Direction,
        ws: &mut Workspace,
        observer: &mut dyn Observer,
    ) -> Run {
        let c = self.c;
        let mut p = start;
        let mut decided_at = p.clone();
        let mut tight = if self.tight0.len() == c.lenders.len() {
            self.tight0.to_vec()
        } else {
            vec![false; c.lenders.len()]
        };
        let (mut calls, mut defaults) = self.counted;
        let mut trace = Vec::new();
        let mut first: Option<Eval> = None;
        let mut last: Option<Eval> = None;
        let mut residual = 0.0;
        let mut termination = Termination::MaxRounds;
        let mut rounds = 0;
        let value0: f64 = self.gross.iter().zip(&c.p0).map(|(g, p)| g * p).sum();
        let mut sold_before = vec![0.0; c.n_assets];
        let mut sold_at_round_prices = vec![0.0; c.n_assets];
        for k in 1..=self.cfg.max_rounds {
            let span = tracing::debug_span!("round", round = k, least = dir == Direction::Least);
            let _enter = span.enter();
            let ev = evaluate(
                c,
                self.s,
                self.equity0,
                &p,
                &tight,
                dir == Direction::Greatest,
                ws,
            );
            let (next, undamped) = self.step(&ev.total, &p);
            for ((acc, before), (&now, &at)) in sold_at_round_prices
                .iter_mut()
                .zip(sold_before.iter_mut())
                .zip(ev.total.iter().zip(&next))
            {
                *acc += (now - *before) * at;
                *before = now;
            }
            residual = undamped;
            rounds = k;
            let now_calls = ev.calls();
            let now_defaults = ev.holder_defaults() + lender_defaults(c, &ev);
            let (sellers, sales_by_kind) = round_sellers(c, &ev.sold, &next);
            let t = RoundTrace {
                day: self.day,
                round: k,
                sales_usd: ev.total.iter().zip(&next).map(|(s, p)| s * p).sum(),
                price_index: if value0 > 0.0 {
                    self.gross
                        .iter()
                        .zip(&next)
                        .map(|(g, p)| g * p)
                        .sum::<f64>()
                        / value0
                } else {
                    1.0
                },
                new_calls: now_calls.saturating_sub(calls),
                new_defaults: now_defaults.saturating_sub(defaults),
                residual,
                prices: next.clone(),
                largest_sellers: sellers,
                sales_by_kind,
                fraction_sold: fraction_sold(c, self.gross, &ev.total),
            };
            tracing::debug!(round = k, residual, sales_usd = t.sales_usd, "round done");
            match dir {
                Direction::Greatest => observer.round(&t),
                Direction::Least => observer.least_round(&t),
            }
            push_bounded(&mut trace, t);
            calls = now_calls;
            defaults = now_defaults;
            tight.clone_from(&ev.tightened);
            decided_at = std::mem::replace(&mut p, next);
            if first.is_none() {
                first = Some(ev.clone());
            }
            last = Some(ev);
            if residual <= self.cfg.tolerance {
                termination = Termination::Converged;
                break;
            }
        }
        // max_rounds ≥ 1 is checked before any run, so both are set; the fallback only
        // keeps this total.
        let last = last.unwrap_or_else(|| evaluate(c, self.s, self.equity0, &p, &tight, true, ws));
        let first = first.unwrap_or_else(|| last.clone());
        Run {
            prices: p,
            decided_at,
            last,
            first,
            rounds,
            residual,
            termination,
            trace,
            sold_at_round_prices,
        }
    }
}

/// The five largest sellers (cumulative sales at `next`, largest first, ties by index) and
/// the sales summed by holder kind.
pub(crate) type Sellers = (
    Vec<(delever_graph::HolderIx, f64)>,
    Vec<(delever_graph::KindTag, f64)>,
);

pub(crate) fn round_sellers(c: &Compiled<'_>, sold: &[Vec<f64>], next: &[f64]) -> Sellers {
    let unit_usd: Vec<f64> = sold
        .iter()
        .enumerate()
        .map(|(i, row)| {
            c.units[i]
                .assets
                .iter()
                .zip(row)
                // Market sales only: ETF shares sold are redeemed, and the fund's own
                // sales for the redemption count instead.
                .filter(|(a, _)| !c.is_etf_share(**a))
                .map(|(&a, x)| x * next[a as usize])
                .sum()
        })
        .collect();
    let mut sellers: Vec<(delever_graph::HolderIx, f64)> = unit_usd
        .iter()
        .enumerate()
        .map(|(i, &usd)| (delever_graph::HolderIx(i as u32), usd))
        .filter(|(_, usd)| *usd > 0.0)
        .collect();
    sellers.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    sellers.truncate(5);
    (sellers, by_kind(c, &unit_usd))
}

/// Per-unit amounts summed by holder kind, for the kinds present, in `KindTag::ALL` order.
pub(crate) fn by_kind(c: &Compiled<'_>, unit_usd: &[f64]) -> Vec<(delever_graph::KindTag, f64)> {
    let mut sums = [0.0; delever_graph::KindTag::ALL.len()];
    let mut present = [false; delever_graph::KindTag::ALL.len()];
    for (kind, usd) in c.kinds.iter().zip(unit_usd) {
        if let Some(k) = delever_graph::KindTag::ALL.iter().position(|t| t == kind) {
            sums[k] += usd;
            present[k] = true;
        }
    }
    delever_graph::KindTag::ALL
        .iter()
        .zip(sums.iter().zip(present))
        .filter(|(_, (_, p))| *p)
        .map(|(&k, (&s, _))| (k, s))
        .collect()
}

/// Net shares sold (`total`, per asset) valued at pre-shock prices, over the value of all
/// starting positions (`gross`, per asset) at those prices; 0 when nothing is held.
pub(crate) fn fraction_sold(c: &Compiled<'_>, gross: &[f64], total: &[f64]) -> f64 {
    let held: f64 = gross.iter().zip(&c.p0).map(|(g, p)| g * p).sum();
    if held > 0.0 {
        total.iter().zip(&c.p0).map(|(s, p)| s * p).sum::<f64>() / held
    } else {
        0.0
    }
}

/// Lenders whose losses exceed their capital at an evaluation.
pub(crate) fn lender_defaults(c: &Compiled<'_>, ev: &Eval) -> u64 {
    let nh = c.units.len();
    c.lenders
        .iter()
        .enumerate()
        .filter(|(l, x)| {
            ev.cleared.borrower_losses[*l] + ev.cleared.interbank_losses[nh + l] > x.capital
        })
        .count() as u64
}
