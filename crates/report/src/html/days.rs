//! The HTML report of a timeline run, its figures: the player's steps — every round of
//! every day, grouped by day — with each step's prices, summary and holders' states, and
//! the days table. The charts over days and the player's data are in `day_charts.rs`.
//!
//! A timeline's days carry balance sheets over, so its rounds are not replayed: the
//! network shows each holder's status on the day on show (from the run's days), and the
//! rounds within a day move the prices (from the trace).

use std::fmt::Write as _;

use delever_engine::{DayOutcome, Outcome, Termination};
use delever_graph::{AssetIx, HolderIx};
use serde_json::Value;

use super::svg::{esc, f1, money, signed_pct};
use super::{Ctx, kind_label, network, status_code};

/// Assets whose closes the days table shows.
const TABLE_ASSETS: usize = 3;

/// One step of the day player after step 0 (just after the first day's news).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// The day.
    pub day: usize,
    /// The round's index in the trace (`None`: the day's rounds are not in the trace,
    /// which keeps the first 10,000 of a run; the step shows the day's close).
    pub trace: Option<usize>,
}

/// The player's steps: every round of every day in order; a day whose rounds the trace
/// does not hold gets one step at its close.
pub(crate) fn steps(o: &Outcome) -> Vec<Step> {
    let mut out = Vec::with_capacity(o.trace.len() + o.days.len());
    for (d, _) in o.days.iter().enumerate() {
        let before = out.len();
        for (i, t) in o.trace.iter().enumerate() {
            if t.day as usize == d {
                out.push(Step {
                    day: d,
                    trace: Some(i),
                });
            }
        }
        if out.len() == before {
            out.push(Step {
                day: d,
                trace: None,
            });
        }
    }
    out
}

/// The step (1-based, as the player counts) that ends each day.
pub(super) fn day_ends(steps: &[Step], days: usize) -> Vec<usize> {
    (0..days)
        .map(|d| steps.iter().rposition(|s| s.day == d).map_or(0, |i| i + 1))
        .collect()
}

/// Gross starting shares per asset (the price index's weights).
pub(super) fn gross(ctx: &Ctx<'_>) -> Vec<f64> {
    let mut g = vec![0.0; ctx.outcome.assets.len()];
    for h in &ctx.ledger.holders {
        for p in &h.positions {
            if let Some(x) = g.get_mut(p.asset.get()) {
                *x += p.initial_shares.abs();
            }
        }
    }
    g
}

/// The price index of prices `p` (value of the starting positions over pre-shock).
pub(super) fn index_of(ctx: &Ctx<'_>, g: &[f64], p: &[f64]) -> f64 {
    let v0: f64 = g
        .iter()
        .zip(&ctx.outcome.assets)
        .map(|(g, a)| g * a.price_before)
        .sum();
    if v0 > 0.0 {
        g.iter().zip(p).map(|(g, p)| g * p).sum::<f64>() / v0
    } else {
        1.0
    }
}

/// Prices at a step (0: the first day's open).
pub(super) fn step_prices(o: &Outcome, steps: &[Step], k: usize) -> Vec<f64> {
    if k == 0 {
        return o.days[0].assets.iter().map(|a| a.open).collect();
    }
    let s = steps[k - 1];
    match s.trace {
        Some(i) => o.trace[i].prices.clone(),
        None => o.days[s.day].assets.iter().map(|a| a.close).collect(),
    }
}

/// Relative change since before the shock.
pub(super) fn rel(p: f64, p0: f64) -> f64 {
    p / p0 - 1.0
}

/// Each day's forced sales by holder kind (rows: days, columns: `ctx.kinds`).
pub(super) fn day_sales(ctx: &Ctx<'_>) -> Vec<Vec<f64>> {
    ctx.outcome
        .days
        .iter()
        .map(|d| {
            ctx.kinds
                .iter()
                .map(|k| {
                    d.sales_by_kind
                        .iter()
                        .find(|(t, _)| t == k)
                        .map_or(0.0, |(_, v)| *v)
                })
                .collect()
        })
        .collect()
}

/// Each kind's sales over all days, with its share of them all, for the legend.
pub(crate) fn total_sales(ctx: &Ctx<'_>) -> Vec<String> {
    let rows = day_sales(ctx);
    let per_kind: Vec<f64> = (0..ctx.kinds.len())
        .map(|j| rows.iter().map(|r| r[j]).sum())
        .collect();
    let total: f64 = per_kind.iter().sum();
    per_kind
        .iter()
        .map(|v| format!("{} ({})", money(*v), crate::text::share(*v, total)))
        .collect()
}

/// The day's largest transient impact still standing at the close (any asset).
fn transient(d: &DayOutcome) -> f64 {
    d.assets
        .iter()
        .map(|a| a.transient_impact)
        .fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m })
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Assets whose closes the days table shows: the largest forced sales first.
fn table_assets(o: &Outcome) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..o.assets.len()).collect();
    idx.sort_by(|&a, &b| {
        o.assets[b]
            .forced_sales_usd
            .total_cmp(&o.assets[a].forced_sales_usd)
            .then(a.cmp(&b))
    });
    idx.truncate(TABLE_ASSETS);
    idx
}

/// The days table: one row a day (the player marks the day on show).
pub(crate) fn days_table(out: &mut String, ctx: &Ctx<'_>) {
    let o = ctx.outcome;
    let shown = table_assets(o);
    out.push_str(
        "<div class=\"wide\"><table class=\"num\" id=\"days-table\"><caption>Day by day: sales at each close; \
         lender losses standing at the close; transient: the largest impact still to decay (any asset)</caption>\
         <thead><tr><th scope=\"col\">day</th><th scope=\"col\">rounds</th><th scope=\"col\">price index</th>",
    );
    for &k in &shown {
        let _ = write!(
            out,
            "<th scope=\"col\">{} close</th>",
            esc(&ctx.net.asset(AssetIx(k as u32)).id)
        );
    }
    out.push_str(
        "<th scope=\"col\">sales</th><th scope=\"col\">new calls</th><th scope=\"col\">open calls</th>\
         <th scope=\"col\">liquidations</th><th scope=\"col\">defaults</th><th scope=\"col\">lender losses</th>\
         <th scope=\"col\">transient</th><th scope=\"col\">sales by kind</th></tr></thead><tbody>",
    );
    for d in &o.days {
        let by_kind = ctx
            .kinds
            .iter()
            .filter_map(|k| {
                d.sales_by_kind
                    .iter()
                    .find(|(t, v)| t == k && *v != 0.0)
                    .map(|(_, v)| format!("{} {}", kind_label(*k), money(*v)))
            })
            .collect::<Vec<_>>()
            .join(", ");
        let _ = write!(
            out,
            "<tr data-day=\"{}\"><th scope=\"row\">{}{}</th><td>{}</td><td>{:.4}</td>",
            d.day,
            d.day,
            if d.termination == Termination::MaxRounds {
                " <span class=\"badge warn\">round limit</span>"
            } else {
                ""
            },
            d.rounds,
            d.price_index
        );
        for &k in &shown {
            let a = &d.assets[k];
            let _ = write!(
                out,
                "<td>{} ({})</td>",
                crate::text::price(a.close),
                esc(&signed_pct(rel(a.close, o.assets[k].price_before)))
            );
        }
        let lender_losses: f64 = d.lender_losses_usd.iter().sum();
        let _ = write!(
            out,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            esc(&money(d.sales_usd)),
            d.new_calls,
            d.open_calls,
            d.liquidations,
            d.new_defaults,
            esc(&money(lender_losses)),
            esc(&signed_pct(transient(d))),
            esc(&by_kind)
        );
    }
    out.push_str("</tbody></table></div>\n");
}

/// What the player says at step `k`.
pub(super) fn summary(ctx: &Ctx<'_>, steps: &[Step], ends: &[usize], k: usize) -> String {
    let o = ctx.outcome;
    if k == 0 {
        return format!(
            "Day 0 opens after the news, before any forced sale: holders have lost {} on their \
             starting positions at the fundamental prices all the news leads to. Each day's \
             rounds then solve its sales and prices together; balance sheets carry to the next \
             day.",
            money(o.totals.initial_loss_usd)
        );
    }
    let s = steps[k - 1];
    let d = &o.days[s.day];
    let mut out = match s.trace {
        Some(i) => {
            let t = &o.trace[i];
            let mut line = format!(
                "Day {}, round {} of {}: the day's forced sales so far {}; price index {:.4} ({} since before the shock).",
                s.day,
                t.round,
                d.rounds,
                money(t.sales_usd),
                t.price_index,
                signed_pct(t.price_index - 1.0)
            );
            let sellers = t
                .largest_sellers
                .iter()
                .take(3)
                .map(|(h, v)| format!("{} {}", ctx.net.holder(*h).id, money(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            if !sellers.is_empty() {
                let _ = write!(line, " Largest sellers today: {sellers}.");
            }
            line
        }
        None => format!(
            "Day {} (its rounds are beyond the trace's limit; this is its close).",
            s.day
        ),
    };
    if ends.get(s.day) == Some(&k) {
        let lender: f64 = d.lender_losses_usd.iter().sum();
        let _ = write!(
            out,
            " Day {} closes: sales {}, {} new call{}, {} open, {} liquidation{}, {} default{}; lenders' losses {}; transient impact still standing {}.",
            s.day,
            money(d.sales_usd),
            d.new_calls,
            plural(d.new_calls),
            d.open_calls,
            d.liquidations,
            plural(d.liquidations),
            d.new_defaults,
            plural(d.new_defaults),
            money(lender),
            signed_pct(transient(d))
        );
        if d.termination == Termination::MaxRounds {
            out.push_str(" Its round limit was reached before prices settled.");
        }
    }
    out
}

/// Status codes of the drawn holders and lenders at step `k`: nothing at step 0, then
/// each holder's status on the day on show (what its rule did that day, at the close) and
/// each lender's losses at that close against its capital.
pub(super) fn states(ctx: &Ctx<'_>, steps: &[Step], k: usize) -> (Vec<usize>, Vec<u8>) {
    let o = ctx.outcome;
    let pl = ctx.player;
    if k == 0 {
        return (vec![0; pl.holders.len()], vec![0; pl.lenders.len()]);
    }
    let day = &o.days[steps[k - 1].day];
    let last = k == steps.len();
    let holders = pl
        .members
        .iter()
        .map(|g| {
            status_code(super::player::worst(g.iter().filter_map(|h: &HolderIx| {
                day.holders.get(h.get()).map(|x| x.status)
            })))
        })
        .collect();
    let lenders = pl
        .lenders
        .iter()
        .map(|&l| {
            let lo = o.lenders.get(l);
            let losses = day.lender_losses_usd.get(l).copied().unwrap_or(0.0);
            let defaulted = lo.is_some_and(|x| losses > x.capital);
            // The run keeps whether a lender tightened at the last close only.
            let tightened = last && lo.is_some_and(|x| x.tightened);
            network::lender_code(tightened, defaulted)
        })
        .collect();
    (holders, lenders)
}

/// A coordinate as the data block holds it (one decimal, as in the SVG).
pub(super) fn coord(x: f64) -> Value {
    Value::from(f1(x).parse::<f64>().unwrap_or(0.0))
}

/// The final label of the player (shown without script).
pub(crate) fn last_label(o: &Outcome, steps: &[Step]) -> String {
    match steps.last() {
        Some(&Step {
            day,
            trace: Some(i),
        }) => format!(
            "Day {day}, round {} of {}",
            o.trace[i].round, o.days[day].rounds
        ),
        Some(&Step { day, trace: None }) => format!("Day {day} close"),
        None => "Day 0 open, after the news".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use delever_engine::{EngineConfig, Mode, Shock, run};
    use delever_graph::AssetIx;

    use super::steps;

    #[test]
    fn a_day_beyond_the_trace_gets_one_step_at_its_close() {
        let net = delever_engine::synth::textbook_margin(0.25).expect("valid network");
        let shocks = [
            Shock::AssetReturn {
                asset: AssetIx(0),
                ret: -0.40,
            },
            Shock::OnDay {
                day: 2,
                shock: Box::new(Shock::AssetReturn {
                    asset: AssetIx(0),
                    ret: -0.05,
                }),
            },
        ];
        let cfg = EngineConfig {
            mode: Mode::Timeline,
            days: 3,
            ..EngineConfig::default()
        };
        let mut o = run(&net, &shocks, &cfg).expect("runs");
        let full = steps(&o);
        assert_eq!(full.len(), o.trace.len());
        assert!(full.iter().all(|s| s.trace.is_some()));
        // As if the trace's bound had dropped day 1's rounds.
        o.trace.retain(|t| t.day != 1);
        let cut = steps(&o);
        let day1: Vec<_> = cut.iter().filter(|s| s.day == 1).collect();
        assert_eq!(day1.len(), 1);
        assert!(day1[0].trace.is_none());
        // Days stay in order, each with at least one step.
        let days: Vec<usize> = cut.iter().map(|s| s.day).collect();
        assert!(days.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(days.first(), Some(&0));
        assert_eq!(days.last(), Some(&2));
    }
}
