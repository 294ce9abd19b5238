//! `fund`: an unlevered fund whose investors redeem after losses.

use delever_graph::HolderKind;

use super::{Kind, Make};
use crate::convert::{Cx, num};
use crate::limits;
use crate::spec::{HolderSpec, KindName};

const THIS: &[KindName] = &[KindName::Fund];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("redemption_beta", THIS),
        ("redemption_lag_days", THIS),
        ("cure_days", THIS),
        ("participation", THIS),
        ("holdings", THIS),
        ("margin", THIS),
    ],
    required: &[],
    derived_loan: None,
    redeemable: true,
    convert,
    problem: None,
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, make: &mut Make<'_>) -> HolderKind {
    cx.limit_key(
        make.base,
        "redemption_beta",
        h.redemption_beta,
        &limits::REDEMPTION_BETA,
    );
    HolderKind::Fund {
        redemption_beta: num(h.redemption_beta).unwrap_or(0.0),
    }
}
