//! `vol_target`: a volatility-targeting (or risk-parity) fund holding assets, whose
//! exposure is target vol / realised vol, capped, traded outside a band after a lag.
//!
//! It takes no `margin`: the engine's rule sizes the fund on its NAV (net of its loan)
//! but applies no margin call to it, so a margin link would be a lender's maintenance
//! silently ignored. Borrowing it has goes in `other_liabilities`.

use delever_graph::{HolderKind, VolTargetRule};

use super::{Kind, Make};
use crate::convert::{Cx, num};
use crate::index::join_key;
use crate::limits;
use crate::spec::{HolderSpec, KindName};

const THIS: &[KindName] = &[KindName::VolTarget];

/// Half-life of the EWMA when none is given, trading days (Harvey et al. 2018 use 20).
pub(crate) const HALF_LIFE_DAYS: f64 = 20.0;
/// Exposure cap when none is given: a 2× cap, usual for vol-control strategies.
pub(crate) const MAX_LEVERAGE: f64 = 2.0;
/// Trading days between a close and the trade on it when none is given: such funds
/// rebalance on the next day's close.
pub(crate) const LAG_DAYS: u32 = 1;

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("target_vol", THIS),
        ("realised_vol", THIS),
        ("half_life_days", THIS),
        ("max_leverage", THIS),
        ("band", THIS),
        ("lag_days", THIS),
        ("participation", THIS),
        ("holdings", THIS),
    ],
    required: &[
        (
            "target_vol",
            "the annual volatility the fund targets, as a fraction, e.g. `target_vol: 0.10` (10%)",
        ),
        (
            "realised_vol",
            "the fund's realised-volatility estimate at the reference close, annual, e.g. `realised_vol: 0.15`",
        ),
    ],
    derived_loan: None,
    redeemable: false,
    convert,
    problem: None,
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    let lag_days = h.rare().lag_days.map_or(LAG_DAYS, |d| {
        cx.days(
            join_key(make.base, "lag_days"),
            d,
            limits::MAX_DAYS as u32,
            "trading days between a close and the fund's trade on it: 1 (the next day) by default, 0 the same day",
        )
    });
    // A missing target or estimate is reported as missing; 1 keeps the rule checkable.
    HolderKind::VolTarget {
        rule: VolTargetRule {
            target_vol: num(h.rare().target_vol).unwrap_or(1.0),
            realised_vol: num(h.rare().realised_vol).unwrap_or(1.0),
            half_life_days: num(h.rare().half_life_days).unwrap_or(HALF_LIFE_DAYS),
            max_leverage: num(h.rare().max_leverage).unwrap_or(MAX_LEVERAGE),
            band: num(h.rare().band).unwrap_or(0.0),
            lag_days,
        },
    }
}
