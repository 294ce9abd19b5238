//! Who makes a cascade bad: the run report's `systemic` block, its table in `run`, and
//! the ranking of `delever rank` (docs/model.md, "Systemic metrics").

use std::fmt::Write as _;

use delever_engine::Outcome;
use delever_engine::systemic::{Contribution, DebtRank, Vulnerability};
use delever_graph::{Network, NodeRef};
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::text::{Table, csv_field, num, usd};

/// The `systemic` block of a run report.
#[derive(Debug, Clone, Serialize)]
pub struct SystemicReport {
    /// GLT vulnerability of the leverage-targeting holders (`null` without any).
    pub vulnerability: Option<VulnerabilityReport>,
    /// Marginal contributions, in holder order (`null` when not computed: see
    /// `contributions_note`).
    pub contributions: Option<Vec<ContributionReport>>,
    /// Why contributions are absent, when they are.
    pub contributions_note: Option<String>,
    /// DebtRank on the claims between nodes (`null` without claims or margin loans).
    pub debtrank: Option<DebtRankReport>,
}

/// Aggregate and per-holder GLT vulnerability (positive: a loss).
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityReport {
    /// Starting equity of the leverage-targeting holders, USD.
    pub equity_usd: f64,
    /// Aggregate vulnerability `AV`: their fire-sale loss over their equity.
    pub aggregate_vulnerability: f64,
    /// The share of `AV` caused by exogenous sales.
    pub exogenous_share: f64,
    /// The share no net seller explains.
    pub unattributed_share: f64,
    /// Per asset: the fire-sale return `(p − p_shocked)/p0`.
    pub fire_sale_returns: Map<String, Value>,
    /// Holders with a systemicness or a vulnerability, in holder order.
    pub holders: Vec<HolderVulnerabilityReport>,
}

/// One holder's systemicness and vulnerability.
#[derive(Debug, Clone, Serialize)]
pub struct HolderVulnerabilityReport {
    /// Holder id.
    pub id: String,
    /// Holder kind.
    pub kind: &'static str,
    /// `S_n`: the share of the leverage-targeting holders' equity its net sales cost them.
    pub systemicness: f64,
    /// `IV_n` (leverage-targeting holders; `null` for others).
    pub indirect_vulnerability: Option<f64>,
    /// The shock's own loss over its equity (leverage-targeting holders).
    pub direct_vulnerability: Option<f64>,
    /// The shock alone leaves it with no equity.
    pub insolvent: bool,
}

/// One holder's marginal contribution.
#[derive(Debug, Clone, Serialize)]
pub struct ContributionReport {
    /// Holder id.
    pub id: String,
    /// Holder kind.
    pub kind: &'static str,
    /// The cascade loss its forced selling adds, USD (negative: it damps the cascade).
    pub contribution_usd: f64,
    /// That over the run's cascade loss (`null` when the cascade loss is zero).
    pub share_of_cascade: Option<f64>,
    /// The cascade loss with its forced selling switched off, USD.
    pub cascade_loss_without_usd: f64,
    /// How the counterfactual run ended.
    pub termination: &'static str,
}

/// DebtRank of the run's shock and of each node.
#[derive(Debug, Clone, Serialize)]
pub struct DebtRankReport {
    /// Layers the claims come from (`interbank`, `margin`).
    pub layers: Vec<&'static str>,
    /// The equity-weighted relative loss the run's shock spreads through the claims,
    /// beyond its own.
    pub shock: f64,
    /// Per node, holders then lenders.
    pub nodes: Vec<NodeRankReport>,
}

/// One node's DebtRank.
#[derive(Debug, Clone, Serialize)]
pub struct NodeRankReport {
    /// Node id.
    pub id: String,
    /// `holder` or `lender`.
    pub node: &'static str,
    /// The equity-weighted loss its default alone spreads to the others, in [0, 1].
    pub debtrank: f64,
}

impl SystemicReport {
    /// Build the block from the engine's metrics for `net`'s run `o`. `contributions` is
    /// `Err(why)` when they were not computed.
    pub fn new(
        net: &Network,
        o: &Outcome,
        vulnerability: Option<&Vulnerability>,
        contributions: Result<&[Contribution], String>,
        debtrank: Option<&DebtRank>,
    ) -> Self {
        let kind = |i: usize| net.holders()[i].kind.tag().name();
        let id = |i: usize| net.holders()[i].id.clone();
        let cascade = o.totals.total_loss_usd - o.totals.initial_loss_usd;
        let vulnerability = vulnerability.map(|v| VulnerabilityReport {
            equity_usd: v.equity_usd,
            aggregate_vulnerability: v.aggregate,
            exogenous_share: v.exogenous,
            unattributed_share: v.unattributed,
            fire_sale_returns: net
                .assets()
                .iter()
                .zip(&v.fire_sale_returns)
                .map(|(a, r)| (a.id.clone(), json!(r)))
                .collect(),
            holders: v
                .holders
                .iter()
                .filter(|h| h.systemicness != 0.0 || h.indirect.is_some())
                .map(|h| HolderVulnerabilityReport {
                    id: id(h.holder.get()),
                    kind: kind(h.holder.get()),
                    systemicness: h.systemicness,
                    indirect_vulnerability: h.indirect,
                    direct_vulnerability: h.direct,
                    insolvent: h.insolvent,
                })
                .collect(),
        });
        let (contributions, contributions_note) = match contributions {
            Ok(cs) => (
                Some(
                    cs.iter()
                        .map(|c| ContributionReport {
                            id: id(c.holder.get()),
                            kind: kind(c.holder.get()),
                            contribution_usd: c.contribution_usd,
                            share_of_cascade: (cascade != 0.0)
                                .then(|| c.contribution_usd / cascade),
                            cascade_loss_without_usd: c.cascade_loss_without_usd,
                            termination: c.termination.name(),
                        })
                        .collect(),
                ),
                None,
            ),
            Err(why) => (None, Some(why)),
        };
        let debtrank = debtrank.map(|d| DebtRankReport {
            layers: d.layers.clone(),
            shock: d.shock,
            nodes: d
                .nodes
                .iter()
                .map(|n| match n.node {
                    NodeRef::Lender(l) => NodeRankReport {
                        id: net.lender(l).id.clone(),
                        node: "lender",
                        debtrank: n.debtrank,
                    },
                    NodeRef::Holder(h) => NodeRankReport {
                        id: id(h.get()),
                        node: "holder",
                        debtrank: n.debtrank,
                    },
                    NodeRef::Asset(a) => NodeRankReport {
                        id: net.asset(a).id.clone(),
                        node: "asset",
                        debtrank: n.debtrank,
                    },
                })
                .collect(),
        });
        SystemicReport {
            vulnerability,
            contributions,
            contributions_note,
            debtrank,
        }
    }

    /// Compute the block for a run of `net` under `shocks` and `cfg` (its `outcome` and
    /// `ledger`): GLT vulnerability and DebtRank always, marginal contributions when
    /// `contributions` is `Ok` (one more run per holder that sold, calling the function
    /// after each; else the error says why not).
    pub fn compute(
        net: &Network,
        shocks: &[delever_engine::Shock],
        cfg: &delever_engine::EngineConfig,
        (outcome, ledger): (&Outcome, &delever_engine::Ledger),
        contributions: Result<&(dyn Fn() + Sync), String>,
    ) -> Result<Self, delever_engine::EngineError> {
        use delever_engine::systemic as sys;
        let v = sys::vulnerability(net, shocks, cfg, outcome, ledger);
        let d = sys::debtrank(net, outcome);
        let c = match contributions {
            Ok(done) => Ok(sys::contributions_with(net, shocks, cfg, outcome, done)?),
            Err(why) => Err(why),
        };
        Ok(Self::new(
            net,
            outcome,
            v.as_ref(),
            c.as_deref().map_err(Clone::clone),
            d.as_ref(),
        ))
    }

    /// The ranking: every holder with a contribution, a systemicness or a DebtRank, by
    /// contribution (largest first; ties by holder order).
    pub fn ranking(&self) -> Vec<RankRow> {
        let mut rows: Vec<RankRow> = Vec::new();
        let find = |rows: &mut Vec<RankRow>, id: &str, kind: &'static str| -> usize {
            if let Some(k) = rows.iter().position(|r| r.id == id) {
                return k;
            }
            rows.push(RankRow {
                id: id.to_owned(),
                kind,
                ..RankRow::default()
            });
            rows.len() - 1
        };
        for c in self.contributions.iter().flatten() {
            let k = find(&mut rows, &c.id, c.kind);
            rows[k].contribution_usd = Some(c.contribution_usd);
            rows[k].share_of_cascade = c.share_of_cascade;
        }
        if let Some(v) = &self.vulnerability {
            for h in &v.holders {
                let k = find(&mut rows, &h.id, h.kind);
                rows[k].systemicness = Some(h.systemicness);
                rows[k].indirect_vulnerability = h.indirect_vulnerability;
            }
        }
        if let Some(d) = &self.debtrank {
            for n in d.nodes.iter().filter(|n| n.node == "holder") {
                if let Some(k) = rows.iter().position(|r| r.id == n.id) {
                    rows[k].debtrank = Some(n.debtrank);
                }
            }
        }
        // Largest contribution first, then systemicness, then DebtRank; ties in holder
        // order (the sort is stable).
        let key = |r: &RankRow| {
            (
                r.contribution_usd.unwrap_or(0.0),
                r.systemicness.unwrap_or(0.0),
                r.debtrank.unwrap_or(0.0),
            )
        };
        rows.sort_by(|a, b| {
            let (x, y) = (key(a), key(b));
            y.0.total_cmp(&x.0)
                .then(y.1.total_cmp(&x.1))
                .then(y.2.total_cmp(&x.2))
        });
        rows
    }

    /// The `run` table: the top `top` holders of the ranking (none with 0), and the
    /// aggregate figures.
    pub fn to_table(&self, top: usize) -> String {
        let mut out = String::new();
        // Holders that neither sold into the cascade nor spread a loss are left out.
        let ranking: Vec<RankRow> = self
            .ranking()
            .into_iter()
            .filter(|r| {
                r.contribution_usd.is_some_and(|c| c != 0.0)
                    || r.systemicness.is_some_and(|s| s != 0.0)
                    || r.debtrank.is_some_and(|d| d > 0.0)
            })
            .collect();
        if !ranking.is_empty() && top > 0 {
            let shown = ranking.len().min(top);
            let title = if shown < ranking.len() {
                format!(
                    "Who makes it bad (top {shown} of {}; `delever rank` lists all): contribution = the cascade loss (total − initial) a holder's forced selling adds, against the run with it switched off",
                    ranking.len()
                )
            } else {
                "Who makes it bad: contribution = the cascade loss (total − initial) a holder's forced selling adds, against the run with it switched off".to_owned()
            };
            out.push_str(&rank_table(&ranking[..shown], &title));
        }
        if let Some(note) = &self.contributions_note {
            let _ = writeln!(out, "contributions: {note}");
        }
        if let Some(v) = &self.vulnerability {
            let _ = writeln!(
                out,
                "aggregate vulnerability (GLT): the fire sale costs the leverage-targeting holders {:.2}% of their equity ({}); systemicness S sums to it{}",
                100.0 * v.aggregate_vulnerability,
                usd(v.equity_usd),
                if v.exogenous_share == 0.0 && v.unattributed_share.abs() < 1e-9 {
                    String::new()
                } else {
                    format!(
                        " with exogenous sales ({:.2}%) and what no seller explains ({:.2}%)",
                        100.0 * v.exogenous_share,
                        100.0 * v.unattributed_share
                    )
                }
            );
            let insolvent: Vec<&str> = v
                .holders
                .iter()
                .filter(|h| h.insolvent)
                .map(|h| h.id.as_str())
                .collect();
            if !insolvent.is_empty() {
                let _ = writeln!(
                    out,
                    "insolvent after the shock alone: {}",
                    insolvent.join(", ")
                );
            }
        }
        if let Some(d) = &self.debtrank {
            let mut nodes: Vec<&NodeRankReport> = d.nodes.iter().collect();
            nodes.sort_by(|a, b| b.debtrank.total_cmp(&a.debtrank));
            let top: Vec<String> = nodes
                .iter()
                .take(3)
                .filter(|n| n.debtrank > 0.0)
                .map(|n| format!("{} {:.3}", n.id, n.debtrank))
                .collect();
            let _ = writeln!(
                out,
                "DebtRank ({}): the shock spreads a further {:.2}% of equity through the claims; largest if it defaulted: {}",
                d.layers.join(", "),
                100.0 * d.shock,
                if top.is_empty() {
                    "none spreads a loss".to_owned()
                } else {
                    top.join(", ")
                }
            );
        }
        out
    }

    /// Tidy CSV rows (`scope,id,metric,value`) for the run's CSV.
    pub fn csv_rows(&self, out: &mut String) {
        let mut put = |scope: &str, id: &str, metric: &str, value: String| {
            let _ = writeln!(out, "{scope},{},{metric},{value}", csv_field(id));
        };
        if let Some(v) = &self.vulnerability {
            put(
                "systemic",
                "",
                "aggregate_vulnerability",
                num(v.aggregate_vulnerability),
            );
            for h in &v.holders {
                put("systemic", &h.id, "systemicness", num(h.systemicness));
                if let Some(iv) = h.indirect_vulnerability {
                    put("systemic", &h.id, "indirect_vulnerability", num(iv));
                }
            }
        }
        for c in self.contributions.iter().flatten() {
            put(
                "systemic",
                &c.id,
                "contribution_usd",
                num(c.contribution_usd),
            );
        }
        if let Some(d) = &self.debtrank {
            put("systemic", "", "debtrank_shock", num(d.shock));
            for n in &d.nodes {
                put("systemic", &n.id, "debtrank", num(n.debtrank));
            }
        }
    }
}

/// One row of the ranking.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RankRow {
    /// Holder id.
    pub id: String,
    /// Holder kind.
    pub kind: &'static str,
    /// Marginal contribution, USD.
    pub contribution_usd: Option<f64>,
    /// That over the run's cascade loss.
    pub share_of_cascade: Option<f64>,
    /// GLT systemicness `S_n`.
    pub systemicness: Option<f64>,
    /// GLT indirect vulnerability `IV_n`.
    pub indirect_vulnerability: Option<f64>,
    /// DebtRank if it alone defaulted.
    pub debtrank: Option<f64>,
}

fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), |v| format!("{:.2}%", 100.0 * v))
}

/// The ranking as a table.
pub fn rank_table(rows: &[RankRow], title: &str) -> String {
    let mut t = Table::new([
        "rank",
        "holder",
        "kind",
        "contribution",
        "share of cascade",
        "systemicness S",
        "indirect vuln. IV",
        "DebtRank",
    ])
    .titled(title);
    for (k, r) in rows.iter().enumerate() {
        t.row([
            (k + 1).to_string(),
            r.id.clone(),
            r.kind.to_owned(),
            r.contribution_usd.map_or_else(|| "-".to_owned(), usd),
            pct(r.share_of_cascade),
            pct(r.systemicness),
            pct(r.indirect_vulnerability),
            r.debtrank
                .map_or_else(|| "-".to_owned(), |d| format!("{d:.4}")),
        ]);
    }
    t.render()
}
