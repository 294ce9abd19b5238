//! Who makes a cascade bad: systemic-risk metrics of a run.
//!
//! - **Vulnerability** (Greenwood, Landier & Thesmar 2015) of the leverage-targeting
//!   holders `G` (banks and leveraged funds with `rule: leverage_target`): the fire-sale
//!   loss on their starting holdings, `L_k = Σ_{n∈G} h_nk·(p_s,k − p_k)` per asset
//!   (`p_s` the shocked price, `p` the final one), as a share of their starting equity `E`:
//!   aggregate vulnerability `AV = Σ_k L_k / E`; indirect vulnerability
//!   `IV_n = Σ_k h_nk·(p_s,k − p_k) / e_n`; systemicness `S_n = Σ_k (x_nk / Q_k)·L_k / E`, the
//!   share of `G`'s fire-sale loss caused by holder `n`'s net sales `x_nk` out of all net
//!   sales `Q_k` (exogenous sales included, attributed to `exogenous`). Signs: positive is a
//!   loss. In GLT's linear model `L_k` is linear in `Q_k`, so this attribution is GLT's own
//!   `S_n = (a_n b_n r_n)·Σ_k m_nk ℓ_k (Σ_i a_i m_ik) / E` (with the opposite sign), and
//!   `Σ S_n + exogenous = AV` holds exactly; under
//!   [`EngineConfig::glt_exact`] the fire-sale returns are GLT's `ℓ·φ` to the last digit.
//! - **Marginal contributions**: the cascade loss (total − initial) of the run, against the
//!   same run with one holder's forced selling switched off ([`crate::run_muted`]).
//!   Computed in parallel; each counterfactual is a deterministic run, so the figures are
//!   identical at any thread count.
//! - **DebtRank** (Battiston et al. 2012, in the linear form of Bardoscia, Battiston,
//!   Caccioli & Caldarelli 2015) on the claims between nodes: interbank claims and margin
//!   loans (lender on borrower), each node's relative equity loss `h_i ∈ [0, 1]` spreading
//!   as `h_i(t+1) = min(1, h_i(t) + Σ_j Λ_ij·(h_j(t) − h_j(t−1)))`, `Λ_ij = A_ij / E_i` (`A_ij`:
//!   what `j` owes `i`).

use delever_graph::{BalanceSheetRule, HolderIx, HolderKind, Network, NodeRef};
use rayon::prelude::*;

use crate::{EngineConfig, EngineError, Ledger, Outcome, Shock, Termination};

/// The leverage-targeting holders' vulnerability to the fire sale.
#[derive(Debug, Clone, PartialEq)]
pub struct Vulnerability {
    /// Starting equity of the leverage-targeting holders, USD.
    pub equity_usd: f64,
    /// Aggregate vulnerability `AV`: their fire-sale loss over their starting equity.
    pub aggregate: f64,
    /// Per asset, the fire-sale return `(p − p_s)/p0` (GLT's `ℓ·φ`; negative in a fall).
    pub fire_sale_returns: Vec<f64>,
    /// Per holder, in holder order.
    pub holders: Vec<HolderVulnerability>,
    /// The share of `AV` caused by exogenous sales.
    pub exogenous: f64,
    /// What no net seller explains (assets whose price moved with no net sales: a
    /// timeline's decayed impact), `AV − Σ S_n − exogenous`.
    pub unattributed: f64,
}

/// One holder's systemicness and, for leverage-targeting holders, vulnerability.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HolderVulnerability {
    /// The holder.
    pub holder: HolderIx,
    /// Systemicness `S_n`: the share of the leverage-targeting holders' equity its net
    /// sales cost them through the fire sale.
    pub systemicness: f64,
    /// Indirect vulnerability `IV_n` (leverage-targeting holders only).
    pub indirect: Option<f64>,
    /// Direct vulnerability: the shock's own loss on its starting holdings over its
    /// equity (leverage-targeting holders only).
    pub direct: Option<f64>,
    /// The shock alone leaves it with no equity (GLT's linear algebra keeps such a bank
    /// trading; the engine's own accounting liquidates it).
    pub insolvent: bool,
}

/// Whether holder `h` targets its leverage (GLT's bank).
fn targets_leverage(h: &delever_graph::Holder) -> bool {
    matches!(
        h.kind,
        HolderKind::Bank {
            rule: BalanceSheetRule::LeverageTarget { .. }
        } | HolderKind::LeveragedFund {
            rule: BalanceSheetRule::LeverageTarget { .. }
        }
    )
}

/// Exogenous sales per asset in shares (USD at the pre-shock price over that price).
fn exogenous_shares(net: &Network, shocks: &[Shock]) -> Vec<f64> {
    let mut x = vec![0.0; net.assets().len()];
    for s in shocks {
        if let (_, Shock::ExogenousSale { asset, usd }) = s.dated()
            && let Some(a) = net.assets().get(asset.get())
        {
            x[asset.get()] += usd / a.price;
        }
    }
    x
}

/// The vulnerability metrics of a run (`None` without leverage-targeting holders).
/// `cfg` says whether the run used GLT's exact accounting (fire-sale returns are then
/// `−ℓ·q` from the linear law, without the rounding of a price difference).
pub fn vulnerability(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    outcome: &Outcome,
    ledger: &Ledger,
) -> Option<Vulnerability> {
    let g: Vec<bool> = net.holders().iter().map(targets_leverage).collect();
    if !g.iter().any(|&x| x) {
        return None;
    }
    let n = net.assets().len();
    let exo = exogenous_shares(net, shocks);
    let q: Vec<f64> = (0..n)
        .map(|k| outcome.assets[k].forced_sales_shares + exo[k])
        .collect();
    // Fire-sale loss per share held, USD.
    let per_share: Vec<f64> = (0..n)
        .map(|k| {
            let a = &outcome.assets[k];
            match net.assets()[k].impact {
                delever_graph::ImpactLaw::Linear { per_usd } if cfg.glt_exact => {
                    a.price_before * per_usd * q[k] * a.price_before
                }
                _ => a.price_shocked - a.price_after,
            }
        })
        .collect();
    let held = |i: usize| {
        ledger.holders[i]
            .positions
            .iter()
            .map(|pos| (pos.asset, pos.initial_shares, pos.sold_shares))
    };
    let equity: f64 = (0..g.len())
        .filter(|&i| g[i])
        .map(|i| outcome.holders[i].equity_before)
        .sum();
    let mut loss = vec![0.0; n];
    for i in (0..g.len()).filter(|&i| g[i]) {
        for (a, h, _) in held(i) {
            loss[a.get()] += h * per_share[a.get()];
        }
    }
    let share = |k: usize, x: f64| {
        if q[k] == 0.0 || equity == 0.0 {
            0.0
        } else {
            x / q[k] * loss[k] / equity
        }
    };
    let holders: Vec<HolderVulnerability> = (0..g.len())
        .map(|i| {
            let s: f64 = held(i).map(|(a, _, x)| share(a.get(), x)).sum();
            let o = &outcome.holders[i];
            let e = o.equity_before;
            let on_equity = |usd: f64| (e > 0.0).then_some(usd / e);
            let (indirect, direct) = if g[i] {
                let fire: f64 = held(i).map(|(a, h, _)| h * per_share[a.get()]).sum();
                let shock: f64 = held(i)
                    .map(|(a, h, _)| {
                        let x = &outcome.assets[a.get()];
                        h * (x.price_before - x.price_shocked)
                    })
                    .sum();
                (on_equity(fire), on_equity(shock))
            } else {
                (None, None)
            };
            HolderVulnerability {
                holder: HolderIx(i as u32),
                systemicness: s,
                indirect,
                direct,
                insolvent: g[i] && o.equity_shocked <= 0.0,
            }
        })
        .collect();
    let aggregate = if equity > 0.0 {
        loss.iter().sum::<f64>() / equity
    } else {
        0.0
    };
    let exogenous: f64 = (0..n).map(|k| share(k, exo[k])).sum();
    let explained: f64 = holders.iter().map(|h| h.systemicness).sum::<f64>() + exogenous;
    Some(Vulnerability {
        equity_usd: equity,
        aggregate,
        fire_sale_returns: (0..n)
            .map(|k| -per_share[k] / outcome.assets[k].price_before)
            .collect(),
        holders,
        exogenous,
        unattributed: aggregate - explained,
    })
}

/// One holder's marginal contribution to the cascade.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contribution {
    /// The holder.
    pub holder: HolderIx,
    /// Cascade loss (total − initial) of the run with its forced selling switched off.
    pub cascade_loss_without_usd: f64,
    /// The run's cascade loss less that: what its selling adds (negative: its selling
    /// damps the cascade, as a long-gamma dealer's buying does).
    pub contribution_usd: f64,
    /// How the counterfactual run ended.
    pub termination: Termination,
}

/// Every holder's marginal contribution to the run `full` (its outcome with `cfg`), in
/// holder order; holders that sold nothing in `full` contribute exactly 0 without a
/// rerun. Parallel over holders; identical at any thread count.
pub fn contributions(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    full: &Outcome,
) -> Result<Vec<Contribution>, EngineError> {
    contributions_with(net, shocks, cfg, full, &|| {})
}

/// [`contributions`], calling `done` after each holder (from worker threads: a progress
/// display).
pub fn contributions_with(
    net: &Network,
    shocks: &[Shock],
    cfg: &EngineConfig,
    full: &Outcome,
    done: &(dyn Fn() + Sync),
) -> Result<Vec<Contribution>, EngineError> {
    let cascade = |o: &Outcome| o.totals.total_loss_usd - o.totals.initial_loss_usd;
    let base = cascade(full);
    let nh = net.holders().len();
    (0..nh)
        .into_par_iter()
        .map(|i| {
            let h = &full.holders[i];
            if h.sales_usd == 0.0 && full.days.iter().all(|d| d.holders[i].sales_usd == 0.0) {
                return Ok(Contribution {
                    holder: HolderIx(i as u32),
                    cascade_loss_without_usd: base,
                    contribution_usd: 0.0,
                    termination: full.termination,
                });
            }
            let mut muted = vec![false; nh];
            muted[i] = true;
            let o = crate::run_muted(net, shocks, cfg, &muted)?;
            done();
            let without = cascade(&o);
            Ok(Contribution {
                holder: HolderIx(i as u32),
                cascade_loss_without_usd: without,
                contribution_usd: base - without,
                termination: o.termination,
            })
        })
        .collect()
}

/// DebtRank on the claims between nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct DebtRank {
    /// Which layers exist: `interbank` (claims), `margin` (margin loans).
    pub layers: Vec<&'static str>,
    /// The run's shock: the equity-weighted relative loss that spreads through the claims,
    /// beyond the shock's own (`Σ v_i·(h_i(T) − h_i(1))`).
    pub shock: f64,
    /// Per node (holders, then lenders): its DebtRank, the equity-weighted loss its
    /// default alone spreads to the others (`Σ_{j≠i} v_j·h_j(T)`).
    pub nodes: Vec<NodeRank>,
}

/// One node's DebtRank.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeRank {
    /// A holder or a lender.
    pub node: NodeRef,
    /// Its DebtRank, in [0, 1].
    pub debtrank: f64,
}

/// The most propagation steps; relative losses only grow and are capped at 1, so the
/// iteration stops well before on any network (each step must raise some `h` by 1e-15).
const MAX_STEPS: usize = 10_000;

/// Per node `i`, its claims as `(j, Λ_ij)`, `Λ_ij = A_ij / E_i` (a sparse matrix by row).
type Impacts = Vec<Vec<(usize, f64)>>;

/// The claims as a sparse matrix, and the layers they come from.
fn impact_matrix(net: &Network, equity: &[f64]) -> (Impacts, Vec<&'static str>) {
    let nh = net.holders().len();
    let node = |r: NodeRef| match r {
        NodeRef::Holder(h) => Some(h.get()),
        NodeRef::Lender(l) => Some(nh + l.get()),
        NodeRef::Asset(_) => None,
    };
    let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); equity.len()];
    let mut layers = Vec::new();
    let mut add = |creditor: usize, debtor: usize, amount: f64| {
        if equity[creditor] > 0.0 && amount > 0.0 && creditor != debtor {
            rows[creditor].push((debtor, amount / equity[creditor]));
        }
    };
    for c in net.claims() {
        if let (Some(d), Some(cr)) = (node(c.debtor), node(c.creditor)) {
            add(cr, d, c.amount);
        }
    }
    if !net.claims().is_empty() {
        layers.push("interbank");
    }
    let mut margin = false;
    for i in 0..nh {
        if let Some(m) = net.margin(HolderIx(i as u32)) {
            margin = true;
            add(nh + m.lender.get(), i, m.terms.loan);
        }
    }
    if margin {
        layers.push("margin");
    }
    (rows, layers)
}

/// Spread the initial relative losses `h1` to the end state `h(T)`.
fn spread(rows: &[Vec<(usize, f64)>], h1: &[f64]) -> Vec<f64> {
    let mut prev = vec![0.0; h1.len()];
    let mut h = h1.to_vec();
    for _ in 0..MAX_STEPS {
        let next: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let push: f64 = row.iter().map(|&(j, l)| l * (h[j] - prev[j])).sum();
                (h[i] + push).min(1.0)
            })
            .collect();
        let moved = next.iter().zip(&h).any(|(a, b)| a - b > 1e-15);
        prev = std::mem::replace(&mut h, next);
        if !moved {
            break;
        }
    }
    h
}

/// DebtRank of the run's shock and of each node's default (`None` without claims or
/// margin loans).
pub fn debtrank(net: &Network, outcome: &Outcome) -> Option<DebtRank> {
    let nh = net.holders().len();
    let mut equity: Vec<f64> = outcome.holders.iter().map(|h| h.equity_before).collect();
    equity.extend(net.lenders().iter().map(|l| l.capital));
    let (rows, layers) = impact_matrix(net, &equity);
    if layers.is_empty() {
        return None;
    }
    let total: f64 = equity.iter().filter(|e| **e > 0.0).sum();
    let v: Vec<f64> = equity
        .iter()
        .map(|&e| {
            if e > 0.0 && total > 0.0 {
                e / total
            } else {
                0.0
            }
        })
        .collect();
    let mut h1 = vec![0.0; equity.len()];
    for (i, h) in outcome.holders.iter().enumerate() {
        let e0 = h.equity_before;
        h1[i] = if e0 > 0.0 {
            ((e0 - h.equity_shocked) / e0).clamp(0.0, 1.0)
        } else {
            1.0
        };
    }
    let end = spread(&rows, &h1);
    let shock: f64 = (0..equity.len()).map(|i| v[i] * (end[i] - h1[i])).sum();
    let nodes = (0..equity.len())
        .into_par_iter()
        .map(|i| {
            let mut h = vec![0.0; equity.len()];
            h[i] = 1.0;
            let end = spread(&rows, &h);
            let r: f64 = (0..equity.len())
                .filter(|&j| j != i)
                .map(|j| v[j] * end[j])
                .sum();
            NodeRank {
                node: if i < nh {
                    NodeRef::Holder(HolderIx(i as u32))
                } else {
                    NodeRef::Lender(delever_graph::LenderIx((i - nh) as u32))
                },
                debtrank: r,
            }
        })
        .collect();
    Some(DebtRank {
        layers,
        shock,
        nodes,
    })
}
