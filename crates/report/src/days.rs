//! A timeline run's days (JSON `days[]`), and their table and CSV renderings.
//!
//! Every figure is the engine's [`delever_engine::DayOutcome`] with ids in place of
//! indices; nothing is recomputed here but sums for the table.

use delever_engine::{DayOutcome, Outcome, Termination};
use delever_graph::{AssetIx, HolderIx, LenderIx, Network};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::text::{Table, num, pct, usd};

/// Net forced sales by holder kind (JSON object `kind → USD`), in the kinds' report order
/// ([`delever_graph::KindTag::ALL`]), for the kinds the network has.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KindSales(pub Vec<(&'static str, f64)>);

impl Serialize for KindSales {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // A map written in this order: serde_json keeps it (no sorting on the way out).
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

/// One lender on one day (JSON `days[].lenders[]`).
#[derive(Debug, Clone, Serialize)]
pub struct DayLenderReport {
    /// Lender id.
    pub id: String,
    /// Its losses standing at the day's close (borrower shortfalls and interbank), USD.
    pub losses_usd: f64,
}

/// One asset on one day (JSON `days[].assets[]`).
#[derive(Debug, Clone, Serialize)]
pub struct DayAssetReport {
    /// Asset id.
    pub id: String,
    /// Price at the open (yesterday's close moved by today's news and overnight decay).
    pub open: f64,
    /// Price at the close.
    pub close: f64,
    /// Fundamental price: pre-shock moved by every scheduled return so far, no impact.
    pub fundamental: f64,
    /// Impact standing at the close that never decays (fraction of the fundamental).
    pub permanent_impact: f64,
    /// Impact standing at the close that will decay (fraction of the fundamental).
    pub transient_impact: f64,
    /// Net shares sold by forced sellers today.
    pub sales_shares: f64,
    /// Net forced sales today at the close, USD.
    pub sales_usd: f64,
}

/// One holder on one day (JSON `days[].holders[]`).
#[derive(Debug, Clone, Serialize)]
pub struct DayHolderReport {
    /// Holder id.
    pub id: String,
    /// What its rule did today.
    pub status: &'static str,
    /// Net sales today at the close, USD.
    pub sales_usd: f64,
    /// Holdings value at the close after the day's sales (ETFs: the exposure), USD.
    pub value_usd: f64,
    /// Cash after the day, USD.
    pub cash_usd: f64,
    /// Margin loan and other liabilities after the day, USD.
    pub debt_usd: f64,
    /// Equity after the day (ETFs: NAV), USD.
    pub equity_usd: f64,
    /// Accounts in margin call today.
    pub calls: u64,
    /// Accounts whose call opened today.
    pub new_calls: u64,
    /// Accounts with a call open at the close, waiting for its deadline.
    pub open_calls: u64,
    /// Accounts that defaulted today.
    pub new_defaults: u64,
    /// Single holders: the day its open call falls due (`null`: none open).
    pub due_day: Option<u32>,
    /// Single holders in default: whether its lender is selling (`null`: not in default).
    pub closing_out: Option<bool>,
    /// Fresh cash deposited today, USD.
    pub cure_usd: f64,
    /// Redemptions paid today, USD.
    pub paid_out_usd: f64,
    /// Loss it passes to its lender or creditors at the close, USD.
    pub lender_loss_usd: f64,
}

/// One day of a timeline (JSON `days[]`).
#[derive(Debug, Clone, Serialize)]
pub struct DayReport {
    /// The day, from 0.
    pub day: u32,
    /// How the day's fixed point stopped.
    pub termination: &'static str,
    /// Rounds of the day's fixed point.
    pub rounds: u32,
    /// The day's last residual.
    pub residual: f64,
    /// Value of all starting positions at the close over their pre-shock value.
    pub price_index: f64,
    /// Net forced sales today at the close, USD.
    pub sales_usd: f64,
    /// The same by holder kind.
    pub sales_by_kind: KindSales,
    /// Exogenous sales today at the close, USD.
    pub exogenous_sales_usd: f64,
    /// Accounts whose margin call opened today.
    pub new_calls: u64,
    /// Accounts with a call open at the close.
    pub open_calls: u64,
    /// Holders their lender is closing out today.
    pub liquidations: u64,
    /// Accounts, holders and lenders that defaulted today.
    pub new_defaults: u64,
    /// Lenders' losses standing at the close (not the day's increment), USD.
    pub lender_losses_usd: f64,
    /// The same per lender.
    pub lenders: Vec<DayLenderReport>,
    /// Whether the day's least fixed point differs from its greatest.
    pub multiple_equilibria: bool,
    /// Per asset.
    pub assets: Vec<DayAssetReport>,
    /// Per holder.
    pub holders: Vec<DayHolderReport>,
}

impl DayReport {
    /// The report of day `d` of a run on `net`.
    pub(crate) fn new(net: &Network, d: &DayOutcome) -> Self {
        DayReport {
            day: d.day,
            termination: d.termination.name(),
            rounds: d.rounds,
            residual: d.residual,
            price_index: d.price_index,
            sales_usd: d.sales_usd,
            sales_by_kind: KindSales(
                d.sales_by_kind
                    .iter()
                    .map(|(k, v)| (k.name(), *v))
                    .collect(),
            ),
            exogenous_sales_usd: d.exogenous_sales_usd,
            new_calls: d.new_calls,
            open_calls: d.open_calls,
            liquidations: d.liquidations,
            new_defaults: d.new_defaults,
            lender_losses_usd: d.lender_losses_usd.iter().sum(),
            lenders: d
                .lender_losses_usd
                .iter()
                .enumerate()
                .map(|(l, v)| DayLenderReport {
                    id: net.lender(LenderIx(l as u32)).id.clone(),
                    losses_usd: *v,
                })
                .collect(),
            multiple_equilibria: d.multiple_equilibria,
            assets: d
                .assets
                .iter()
                .enumerate()
                .map(|(k, a)| DayAssetReport {
                    id: net.asset(AssetIx(k as u32)).id.clone(),
                    open: a.open,
                    close: a.close,
                    fundamental: a.fundamental,
                    permanent_impact: a.permanent_impact,
                    transient_impact: a.transient_impact,
                    sales_shares: a.sales_shares,
                    sales_usd: a.sales_usd,
                })
                .collect(),
            holders: d
                .holders
                .iter()
                .enumerate()
                .map(|(i, h)| DayHolderReport {
                    id: net.holder(HolderIx(i as u32)).id.clone(),
                    status: h.status.name(),
                    sales_usd: h.sales_usd,
                    value_usd: h.value,
                    cash_usd: h.cash,
                    debt_usd: h.debt,
                    equity_usd: h.equity,
                    calls: h.calls,
                    new_calls: h.new_calls,
                    open_calls: h.open_calls,
                    new_defaults: h.new_defaults,
                    due_day: h.due_day,
                    closing_out: h.closing_out,
                    cure_usd: h.cure_usd,
                    paid_out_usd: h.paid_out_usd,
                    lender_loss_usd: h.lender_loss_usd,
                })
                .collect(),
        }
    }
}

/// Every day of `o` (empty in the one-instant modes).
pub(crate) fn days(net: &Network, o: &Outcome) -> Vec<DayReport> {
    o.days.iter().map(|d| DayReport::new(net, d)).collect()
}

/// Assets whose closes the day table shows: the largest forced sellers' assets over the
/// run (at most this many), so a table of a broad market stays readable; the price index
/// covers the rest.
const DAY_TABLE_ASSETS: usize = 3;

/// The per-day table (`delever run` on a timeline): the price index and the main assets'
/// closes, the day's sales (by kind), calls, liquidations, defaults, lender losses and the
/// transient impact still standing.
pub(crate) fn day_table(days: &[DayReport], main_assets: &[&str]) -> String {
    let shown: Vec<&str> = main_assets.iter().take(DAY_TABLE_ASSETS).copied().collect();
    let mut head: Vec<String> = vec!["day".into(), "index".into()];
    head.extend(shown.iter().map(|a| format!("{a} close")));
    head.extend(
        [
            "sales",
            "new calls",
            "open calls",
            "liquidations",
            "defaults",
            "lender losses",
            "transient",
            "sales by kind",
        ]
        .map(String::from),
    );
    let width = head.len();
    let mut t = Table::new(head)
        .titled(
            "Day by day (sales at each close; lender losses standing at the close; transient: \
             the largest impact still to decay, any asset)",
        )
        .left(width - 1);
    for d in days {
        let mut row = vec![
            if d.termination == Termination::MaxRounds.name() {
                format!("{} (max_rounds)", d.day)
            } else {
                d.day.to_string()
            },
            format!("{:.4}", d.price_index),
        ];
        for id in &shown {
            row.push(
                d.assets
                    .iter()
                    .find(|a| a.id == *id)
                    .map_or_else(String::new, |a| crate::text::price(a.close)),
            );
        }
        let transient = d
            .assets
            .iter()
            .map(|a| a.transient_impact)
            .fold(0.0, |m: f64, x| if x.abs() > m.abs() { x } else { m });
        let by_kind = d
            .sales_by_kind
            .0
            .iter()
            .filter(|(_, v)| *v != 0.0)
            .map(|(k, v)| format!("{} {}", k.replace('_', " "), usd(*v)))
            .collect::<Vec<_>>()
            .join(", ");
        row.extend([
            usd(d.sales_usd),
            d.new_calls.to_string(),
            d.open_calls.to_string(),
            d.liquidations.to_string(),
            d.new_defaults.to_string(),
            usd(d.lender_losses_usd),
            pct(transient),
            by_kind,
        ]);
        t.row(row);
    }
    t.render()
}

/// The days as tidy CSV rows (`scope,id,metric,value`): scope `day` (id: the day),
/// `day_kind`, `day_lender`, `day_asset` and `day_holder` (id: `DAY/ID`, split at the first
/// `/`). A fact that does not apply (no open call, not in default) has no row.
pub(crate) fn day_csv(days: &[DayReport], put: &mut dyn FnMut(&str, &str, &str, String)) {
    for d in days {
        let id = d.day.to_string();
        put("day", &id, "termination", d.termination.into());
        put("day", &id, "rounds", d.rounds.to_string());
        put("day", &id, "residual", num(d.residual));
        put("day", &id, "price_index", num(d.price_index));
        put("day", &id, "sales_usd", num(d.sales_usd));
        put(
            "day",
            &id,
            "exogenous_sales_usd",
            num(d.exogenous_sales_usd),
        );
        put("day", &id, "new_calls", d.new_calls.to_string());
        put("day", &id, "open_calls", d.open_calls.to_string());
        put("day", &id, "liquidations", d.liquidations.to_string());
        put("day", &id, "new_defaults", d.new_defaults.to_string());
        put("day", &id, "lender_losses_usd", num(d.lender_losses_usd));
        put(
            "day",
            &id,
            "multiple_equilibria",
            d.multiple_equilibria.to_string(),
        );
        for (k, v) in &d.sales_by_kind.0 {
            put("day_kind", &format!("{id}/{k}"), "sales_usd", num(*v));
        }
        for l in &d.lenders {
            put(
                "day_lender",
                &format!("{id}/{}", l.id),
                "losses_usd",
                num(l.losses_usd),
            );
        }
        for a in &d.assets {
            let aid = format!("{id}/{}", a.id);
            for (k, v) in [
                ("open", a.open),
                ("close", a.close),
                ("fundamental", a.fundamental),
                ("permanent_impact", a.permanent_impact),
                ("transient_impact", a.transient_impact),
                ("sales_shares", a.sales_shares),
                ("sales_usd", a.sales_usd),
            ] {
                put("day_asset", &aid, k, num(v));
            }
        }
        for h in &d.holders {
            let hid = format!("{id}/{}", h.id);
            put("day_holder", &hid, "status", h.status.into());
            for (k, v) in [
                ("sales_usd", h.sales_usd),
                ("value_usd", h.value_usd),
                ("cash_usd", h.cash_usd),
                ("debt_usd", h.debt_usd),
                ("equity_usd", h.equity_usd),
            ] {
                put("day_holder", &hid, k, num(v));
            }
            for (k, v) in [
                ("calls", h.calls),
                ("new_calls", h.new_calls),
                ("open_calls", h.open_calls),
                ("new_defaults", h.new_defaults),
            ] {
                put("day_holder", &hid, k, v.to_string());
            }
            if let Some(due) = h.due_day {
                put("day_holder", &hid, "due_day", due.to_string());
            }
            if let Some(c) = h.closing_out {
                put("day_holder", &hid, "closing_out", c.to_string());
            }
            for (k, v) in [
                ("cure_usd", h.cure_usd),
                ("paid_out_usd", h.paid_out_usd),
                ("lender_loss_usd", h.lender_loss_usd),
            ] {
                put("day_holder", &hid, k, num(v));
            }
        }
    }
}
