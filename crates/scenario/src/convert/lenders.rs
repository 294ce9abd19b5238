//! Lenders: capital, tightening and how they close out defaulted borrowers.

use delever_graph::{Lender, Liquidation};

use super::cx::{Cx, num};
use crate::index::{join_index, join_key};
use crate::limits;
use crate::spec::LenderSpec;

pub(crate) fn lender(cx: &mut Cx<'_>, l: &LenderSpec, i: usize) -> Lender {
    let base = join_index("lenders", i);
    cx.check_source(join_key(&base, "source"), l.source.as_ref());
    cx.limit(join_key(&base, "capital"), l.capital.0, &limits::USD);
    cx.limit_key(
        &base,
        "other_liabilities",
        l.other_liabilities,
        &limits::USD,
    );
    if let Some(t) = &l.tighten {
        cx.limit(
            join_key(&join_key(&base, "tighten"), "trigger"),
            t.trigger.0,
            &limits::TRIGGER,
        );
    }
    let liquidation = l.liquidation.as_ref().map_or_else(Liquidation::default, |q| {
        let at = join_key(&base, "liquidation");
        Liquidation {
            delay_days: q.delay_days.map_or(0, |d| {
                cx.days(
                    join_key(&at, "delay_days"),
                    d,
                    limits::MAX_DAYS as u32,
                    "trading days before the lender starts selling a defaulted borrower's collateral",
                )
            }),
            participation: num(q.participation)
                .map(|p| cx.participation(join_key(&at, "participation"), p)),
            close_out: q.close_out.unwrap_or(false),
        }
    });
    Lender {
        id: l.id.clone(),
        capital: l.capital.0,
        tighten_trigger: l.tighten.as_ref().map(|t| t.trigger.0),
        tighten_by: l.tighten.as_ref().map_or(0.0, |t| t.by.0),
        other_liabilities: num(l.other_liabilities).unwrap_or(0.0),
        liquidation,
    }
}
