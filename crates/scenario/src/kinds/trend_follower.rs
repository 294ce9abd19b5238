//! `trend_follower`: a CTA whose position in each market follows the sign of the market's
//! returns over its lookbacks, up to a cap. Its positions are synthetic (futures): it has
//! no holdings of its own and no margin.

use delever_graph::{HolderKind, Lookback, MAX_LOOKBACK_DAYS, Problem, TrendMarket};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{Kind, Make, no_capital, unknown_asset};
use crate::convert::{Cx, Pending, num};
use crate::index::{join_index, join_key};
use crate::limits;
use crate::spec::{Days, HolderSpec, KindName, Num, Whole};

/// One lookback of the signal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LookbackSpec {
    /// Length in trading days, from 1 to 2520.
    pub days: Whole,
    /// Weight in the signal, > 0 (default 1).
    pub weight: Option<Num>,
}

/// One market the trend follower trades.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MarketSpec {
    /// The asset's id.
    pub asset: String,
    /// Position at full signal, USD at the reference price, > 0.
    pub max_usd: Num,
    /// The asset's return over each lookback up to the reference close, in the order of
    /// `lookbacks`; each > −1.
    pub past_returns: Vec<Num>,
}

const THIS: &[KindName] = &[KindName::TrendFollower];

/// The hint of a lookback out of range.
const LOOKBACK_HINT: &str = "a lookback is 1 to 2520 trading days: longer than ten years is past any horizon delever takes; 21, 63 and 252 are one, three and twelve months";

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[("lookbacks", THIS), ("markets", THIS), ("lag_days", THIS)],
    required: &[
        (
            "lookbacks",
            "e.g. `lookbacks: [ { days: 21 }, { days: 63 }, { days: 252 } ]` (one, three and twelve months)",
        ),
        (
            "markets",
            "e.g. `markets: [ { asset: NVDA, max_usd: 2.0e9, past_returns: [0.05, 0.12, 0.60] } ]`, one return per lookback",
        ),
    ],
    derived_loan: None,
    redeemable: false,
    convert,
    problem: Some(problem),
};

fn problem(cx: &Cx<'_>, p: &Problem, base: &str) -> Option<Pending> {
    unknown_asset(cx, p, base).or_else(|| no_capital(cx, p, base, "a trend follower"))
}

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let lookbacks = h
        .rare()
        .lookbacks
        .iter()
        .flatten()
        .enumerate()
        .map(|(j, l)| {
            let p = join_index(&join_key(make.base, "lookbacks"), j);
            let days = cx.whole(
                join_key(&p, "days"),
                l.days,
                u64::from(MAX_LOOKBACK_DAYS),
                "trading days",
                LOOKBACK_HINT,
            );
            Lookback {
                days: u32::try_from(days).unwrap_or(MAX_LOOKBACK_DAYS),
                weight: num(l.weight).unwrap_or(1.0),
            }
        })
        .collect();
    let markets = h
        .rare()
        .markets
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, m)| {
            let p = join_index(&join_key(make.base, "markets"), i);
            cx.limit(join_key(&p, "max_usd"), m.max_usd.0, &limits::USD);
            for (j, r) in m.past_returns.iter().enumerate() {
                cx.limit(
                    join_index(&join_key(&p, "past_returns"), j),
                    r.0,
                    &limits::RETURN,
                );
            }
            TrendMarket {
                asset: m.asset.clone(),
                max_usd: m.max_usd.0,
                past_returns: m.past_returns.iter().map(|r| r.0).collect(),
            }
        })
        .collect();
    let lag_days = h.rare().lag_days.map_or(0, |d: Days| {
        cx.days(
            join_key(make.base, "lag_days"),
            d,
            limits::MAX_DAYS as u32,
            "trading days between a close and the trade on its signal: 0 (the same close) by default",
        )
    });
    HolderKind::TrendFollower {
        lookbacks,
        markets,
        lag_days,
    }
}
