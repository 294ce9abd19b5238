//! `margin_account`: one retail margin account on a broker's margin.

use delever_graph::HolderKind;

use super::{Kind, Make, cure_rate};
use crate::convert::Cx;
use crate::spec::{HolderSpec, KindName};

const THIS: &[KindName] = &[KindName::MarginAccount];

pub(super) const KIND: Kind = Kind {
    kinds: THIS,
    keys: &[
        ("cure_rate", THIS),
        ("cure_days", THIS),
        ("participation", THIS),
        ("holdings", THIS),
        ("margin", THIS),
    ],
    required: &[(
        "margin",
        "add `margin: { lender: <id>, loan: <USD>, maintenance: 0.30 }`",
    )],
    derived_loan: None,
    redeemable: false,
    convert,
    problem: None,
};

fn convert(cx: &mut Cx<'_>, h: &HolderSpec, _: &mut Make<'_>) -> HolderKind {
    HolderKind::MarginAccount {
        cure_rate: cure_rate(cx, h),
    }
}
