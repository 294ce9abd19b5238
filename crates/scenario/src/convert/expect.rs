//! `expect:` blocks: bounds on the report's totals, assets, holders and days.

use std::collections::BTreeMap;

use delever_engine::{EngineConfig, Mode, Status, Termination};

use super::Place;
use super::cx::{Cx, IdKind, Want, num};
use crate::expect::{
    AssetExpectations, Bound, DEFAULT_REL_TOL, DayExpectations, Expectation, Expectations,
    HolderExpectations,
};
use crate::index::{join_index, join_key};
use crate::spec::{BoundSpec, DayExpectSpec, ExpectSpec, StatusName, Statuses, TerminationName};

fn bound(cx: &mut Cx<'_>, b: &BoundSpec, path: &str) -> Option<Bound> {
    let range = b.min.is_some() || b.max.is_some();
    let approx = b.approx.is_some();
    let equals = b.equals.is_some();
    let forms = usize::from(range) + usize::from(approx) + usize::from(equals);
    let form_hint =
        "write `{ min: 1.5, max: 3.0 }`, `{ approx: 1.2e11, rel_tol: 0.01 }` or `{ equals: 0 }`";
    if forms != 1 {
        let msg = if forms == 0 {
            "an empty bound".to_owned()
        } else {
            "a bound mixes forms".to_owned()
        };
        cx.err(
            path,
            format!("{msg}: expected one of `min`/`max`, `approx` or `equals`"),
            Some(form_hint.into()),
        );
        return None;
    }
    if !approx && (b.rel_tol.is_some() || b.abs_tol.is_some()) {
        let key = if b.rel_tol.is_some() {
            "rel_tol"
        } else {
            "abs_tol"
        };
        cx.err_key(
            join_key(path, key),
            format!("`{key}` goes with `approx` only"),
            Some(form_hint.into()),
        );
        return None;
    }
    if range {
        if let (Some(lo), Some(hi)) = (b.min, b.max)
            && lo.0 > hi.0
        {
            cx.err(
                join_key(path, "min"),
                format!("min ({}) is above max ({})", lo.0, hi.0),
                Some("swap them".into()),
            );
            return None;
        }
        return Some(Bound::Range {
            min: num(b.min),
            max: num(b.max),
        });
    }
    if let Some(v) = num(b.equals) {
        return Some(Bound::Equals(v));
    }
    let value = num(b.approx)?;
    let mut ok = true;
    for (key, t) in [("rel_tol", b.rel_tol), ("abs_tol", b.abs_tol)] {
        if let Some(t) = num(t)
            && t < 0.0
        {
            cx.err(
                join_key(path, key),
                format!("expected a tolerance ≥ 0, got {t}"),
                None,
            );
            ok = false;
        }
    }
    let (rel, abs) = match (num(b.rel_tol), num(b.abs_tol)) {
        (None, None) => (DEFAULT_REL_TOL, 0.0),
        (r, a) => (r.unwrap_or(0.0), a.unwrap_or(0.0)),
    };
    ok.then_some(Bound::Approx {
        value,
        rel_tol: rel,
        abs_tol: abs,
    })
}

fn checks(
    cx: &mut Cx<'_>,
    base: &str,
    list: &[(&'static str, Option<&BoundSpec>)],
) -> Vec<Expectation> {
    let mut out = Vec::new();
    for &(key, b) in list {
        if let Some(b) = b
            && let Some(bound) = bound(cx, b, &join_key(base, key))
        {
            out.push(Expectation { key, bound });
        }
    }
    out
}

/// The bounds of one report row: `(key, bound)` in the format's order.
type Keys<'a> = Vec<(&'static str, Option<&'a BoundSpec>)>;

/// Per-asset bounds under `at` (`expect.assets`, `expect.days[1].assets`).
fn asset_rows<T>(
    cx: &mut Cx<'_>,
    map: Option<&BTreeMap<String, T>>,
    at: &str,
    keys: impl Fn(&T) -> Keys<'_>,
) -> Vec<AssetExpectations> {
    let mut out = Vec::new();
    for (id, a) in map.into_iter().flatten() {
        let base = join_key(at, id);
        let Some(ix) =
            expect_ref(cx, &base, id, Want::Asset).and(cx.assets.get(id.as_str()).copied())
        else {
            continue;
        };
        let checks = checks(cx, &base, &keys(a));
        out.push(AssetExpectations {
            id: id.clone(),
            asset: ix,
            checks,
        });
    }
    out
}

/// Per-holder statuses and bounds under `at` (`expect.holders`, `expect.days[1].holders`).
fn holder_rows<T>(
    cx: &mut Cx<'_>,
    map: Option<&BTreeMap<String, T>>,
    at: &str,
    statuses: impl Fn(&T) -> Option<&Statuses>,
    keys: impl Fn(&T) -> Keys<'_>,
) -> Vec<HolderExpectations> {
    let mut out = Vec::new();
    for (id, h) in map.into_iter().flatten() {
        let base = join_key(at, id);
        let Some(ix) = expect_ref(cx, &base, id, Want::Holder).and(cx.holder(id.as_str())) else {
            continue;
        };
        let given = statuses(h);
        let status: Vec<Status> = given
            .map(|s| s.0.iter().map(|&s| status(s)).collect())
            .unwrap_or_default();
        if given.is_some_and(|s| s.0.is_empty()) {
            cx.err(
                join_key(&base, "status"),
                "an empty list of statuses accepts nothing",
                Some("list at least one status, e.g. `status: [sold, margin_call]`".into()),
            );
        }
        let checks = checks(cx, &base, &keys(h));
        out.push(HolderExpectations {
            id: id.clone(),
            holder: ix,
            status,
            checks,
        });
    }
    out
}

pub(crate) fn expectations(
    cx: &mut Cx<'_>,
    e: &ExpectSpec,
    at: &str,
    cfg: &EngineConfig,
) -> Expectations {
    let termination = e.termination.map(|t| match t {
        TerminationName::Converged => Termination::Converged,
        TerminationName::MaxRounds => Termination::MaxRounds,
    });
    let totals = e.totals.as_ref().map_or_else(Vec::new, |t| {
        checks(
            cx,
            &join_key(at, "totals"),
            &[
                ("initial_loss_usd", t.initial_loss_usd.as_ref()),
                ("total_loss_usd", t.total_loss_usd.as_ref()),
                ("amplification", t.amplification.as_ref()),
                ("forced_sales_usd", t.forced_sales_usd.as_ref()),
                ("exogenous_sales_usd", t.exogenous_sales_usd.as_ref()),
                ("defaults", t.defaults.as_ref()),
                ("margin_calls", t.margin_calls.as_ref()),
                ("lender_losses_usd", t.lender_losses_usd.as_ref()),
                ("cash_cures_usd", t.cash_cures_usd.as_ref()),
            ],
        )
    });
    let assets = asset_rows(cx, e.assets.as_ref(), &join_key(at, "assets"), |a| {
        vec![
            ("price_shocked", a.price_shocked.as_ref()),
            ("price_after", a.price_after.as_ref()),
            ("drawdown", a.drawdown.as_ref()),
            ("forced_sales_shares", a.forced_sales_shares.as_ref()),
            ("forced_sales_usd", a.forced_sales_usd.as_ref()),
        ]
    });
    let holders = holder_rows(
        cx,
        e.holders.as_ref(),
        &join_key(at, "holders"),
        |h| h.status.as_ref(),
        |h| {
            vec![
                ("equity_before", h.equity_before.as_ref()),
                ("equity_after", h.equity_after.as_ref()),
                ("sales_usd", h.sales_usd.as_ref()),
                ("lender_loss_usd", h.lender_loss_usd.as_ref()),
            ]
        },
    );
    let days = e
        .days
        .iter()
        .flatten()
        .enumerate()
        .filter_map(|(i, d)| day_expectations(cx, d, &join_index(&join_key(at, "days"), i), cfg))
        .collect();
    Expectations {
        termination,
        totals,
        assets,
        holders,
        days,
    }
}

/// One `expect.days[]` entry: a day of the run, with bounds on its totals, assets and
/// holders.
fn day_expectations(
    cx: &mut Cx<'_>,
    d: &DayExpectSpec,
    at: &str,
    cfg: &EngineConfig,
) -> Option<DayExpectations> {
    let day_at = join_key(at, "day");
    let day = cx.days(
        day_at.clone(),
        d.day,
        delever_engine::MAX_DAYS - 1,
        "the day of the run, from 0",
    );
    if cfg.mode != Mode::Timeline {
        cx.err(
            day_at,
            format!("expectations on days need the timeline mode; this run is {}", cfg.mode.name()),
            Some("set `engine: { mode: timeline, days: N }`, or bound the end of the run in `totals`/`assets`/`holders`".into()),
        );
        return None;
    }
    if day >= cfg.days {
        cx.err(
            day_at,
            format!("day {day} is past the run's last day ({})", cfg.days - 1),
            Some(format!("the run has {} day(s), from 0", cfg.days)),
        );
        return None;
    }
    let totals = d.totals.as_ref().map_or_else(Vec::new, |t| {
        checks(
            cx,
            &join_key(at, "totals"),
            &[
                ("sales_usd", t.sales_usd.as_ref()),
                ("exogenous_sales_usd", t.exogenous_sales_usd.as_ref()),
                ("price_index", t.price_index.as_ref()),
                ("new_calls", t.new_calls.as_ref()),
                ("open_calls", t.open_calls.as_ref()),
                ("liquidations", t.liquidations.as_ref()),
                ("new_defaults", t.new_defaults.as_ref()),
                ("lender_losses_usd", t.lender_losses_usd.as_ref()),
            ],
        )
    });
    let assets = asset_rows(cx, d.assets.as_ref(), &join_key(at, "assets"), |a| {
        vec![
            ("open", a.open.as_ref()),
            ("close", a.close.as_ref()),
            ("fundamental", a.fundamental.as_ref()),
            ("return", a.ret.as_ref()),
            ("drawdown", a.drawdown.as_ref()),
            ("permanent_impact", a.permanent_impact.as_ref()),
            ("transient_impact", a.transient_impact.as_ref()),
            ("sales_shares", a.sales_shares.as_ref()),
            ("sales_usd", a.sales_usd.as_ref()),
        ]
    });
    let holders = holder_rows(
        cx,
        d.holders.as_ref(),
        &join_key(at, "holders"),
        |h| h.status.as_ref(),
        |h| {
            vec![
                ("sales_usd", h.sales_usd.as_ref()),
                ("equity", h.equity.as_ref()),
                ("lender_loss_usd", h.lender_loss_usd.as_ref()),
                ("open_calls", h.open_calls.as_ref()),
            ]
        },
    );
    Some(DayExpectations {
        day,
        totals,
        assets,
        holders,
    })
}

/// An id used as a key of `expect.assets`/`expect.holders`: reported at the key.
fn expect_ref(cx: &mut Cx<'_>, path: &str, id: &str, want: Want) -> Option<IdKind> {
    let before = cx.problems.len();
    let r = cx.resolve(path.to_owned(), id, want);
    for p in cx.problems.iter_mut().skip(before) {
        p.place = Place::Key;
    }
    r
}

fn status(s: StatusName) -> Status {
    match s {
        StatusName::Unaffected => Status::Unaffected,
        StatusName::Sold => Status::Sold,
        StatusName::Bought => Status::Bought,
        StatusName::MarginCall => Status::MarginCall,
        StatusName::Liquidated => Status::Liquidated,
        StatusName::Defaulted => Status::Defaulted,
    }
}
