//! Assets and their price impact: the impact law, how it decays over days, the ranges.

use delever_graph::{Asset, ImpactDecay, ImpactLaw, TransientImpact};

use super::cx::{Cx, num, owns};
use crate::index::{join_index, join_key};
use crate::limits;
use crate::spec::{AssetSpec, ImpactSpec, LawName};

/// α of the exponential law when a scenario gives none: selling 10% of the shares
/// outstanding cuts the price by 10% (Caccioli et al.).
const DEFAULT_ALPHA: f64 = 1.053_605_156_578_263;

pub(crate) const LAW_KEYS: &[(&str, &[LawName])] = &[
    ("per_usd", &[LawName::Linear]),
    ("alpha", &[LawName::Exponential]),
    ("y", &[LawName::SquareRoot]),
    ("c", &[LawName::ContSchaanning]),
    ("tau_days", &[LawName::ContSchaanning]),
    ("floor", &[LawName::ContSchaanning]),
];

pub(crate) fn impact(cx: &mut Cx<'_>, imp: &ImpactSpec, base: &str) -> ImpactLaw {
    cx.misplaced(
        base,
        imp.law,
        "impact law",
        LAW_KEYS,
        &[
            ("per_usd", imp.per_usd.is_some()),
            ("alpha", imp.alpha.is_some()),
            ("y", imp.y.is_some()),
            ("c", imp.c.is_some()),
            ("tau_days", imp.tau_days.is_some()),
            ("floor", imp.floor.is_some()),
        ],
        LawName::name,
    );
    for (key, v, lim) in [
        ("per_usd", imp.per_usd, &limits::PER_USD),
        ("alpha", imp.alpha, &limits::ALPHA),
        ("y", imp.y, &limits::Y),
        ("c", imp.c, &limits::C),
        ("tau_days", imp.tau_days, &limits::TAU_DAYS),
    ] {
        if owns(LAW_KEYS, key, &imp.law) {
            cx.limit_key(base, key, v, lim);
        }
    }
    match imp.law {
        LawName::Linear => {
            let per_usd = num(imp.per_usd).unwrap_or_else(|| {
                cx.missing(
                    join_key(base, "per_usd"),
                    "the linear law",
                    "price impact per dollar sold, e.g. `per_usd: 1e-13` (GLT's calibration)",
                );
                0.0
            });
            ImpactLaw::Linear { per_usd }
        }
        LawName::Exponential => ImpactLaw::Exponential {
            alpha: num(imp.alpha).unwrap_or(DEFAULT_ALPHA),
        },
        LawName::SquareRoot => ImpactLaw::SquareRoot {
            y: num(imp.y).unwrap_or(0.7),
        },
        LawName::ContSchaanning => ImpactLaw::ContSchaanning {
            c: num(imp.c).unwrap_or(0.4),
            tau_days: num(imp.tau_days).unwrap_or(20.0),
            floor: num(imp.floor).unwrap_or(0.5),
        },
    }
}

/// How an impact block's impact decays over days (all permanent when it says nothing).
pub(crate) fn decay(cx: &mut Cx<'_>, imp: &ImpactSpec, base: &str) -> ImpactDecay {
    let Some(d) = &imp.decay else {
        return ImpactDecay::default();
    };
    let at = join_key(base, "decay");
    let permanent = d.permanent.0;
    let mut ok = true;
    if !(0.0..=1.0).contains(&permanent) {
        cx.err(
            join_key(&at, "permanent"),
            format!("must be in [0, 1], got {permanent}"),
            Some("the share of impact that never reverts: the metaorder studies find about 1/2 of the day-end impact".into()),
        );
        ok = false;
    }
    let half_life = |cx: &mut Cx<'_>, path: String, h: f64| -> bool {
        if h > 0.0 && h <= limits::MAX_DAYS {
            true
        } else {
            cx.err(
                path,
                format!("must be in (0, {}] trading days, got {h}", limits::MAX_DAYS),
                Some("a half-life in trading days: 0.5 reverts mostly overnight, 10 over two weeks; for impact that never reverts raise `permanent` instead".into()),
            );
            false
        }
    };
    let transient = match (num(d.half_life_days), &d.transient) {
        (Some(_), Some(_)) => {
            cx.err_key(
                join_key(&at, "transient"),
                "give `half_life_days` (one transient part) or `transient` (several), not both",
                None,
            );
            return ImpactDecay::default();
        }
        (Some(h), None) => {
            ok &= half_life(cx, join_key(&at, "half_life_days"), h);
            if permanent < 1.0 {
                vec![TransientImpact {
                    share: 1.0 - permanent,
                    half_life_days: h,
                }]
            } else {
                Vec::new()
            }
        }
        (None, Some(parts)) => {
            let base_t = join_key(&at, "transient");
            let mut out = Vec::with_capacity(parts.len());
            for (j, t) in parts.iter().enumerate() {
                let pj = join_index(&base_t, j);
                if !(t.share.0 > 0.0 && t.share.0 <= 1.0) {
                    cx.err(
                        join_key(&pj, "share"),
                        format!("must be in (0, 1], got {}", t.share.0),
                        None,
                    );
                    ok = false;
                }
                ok &= half_life(cx, join_key(&pj, "half_life_days"), t.half_life_days.0);
                out.push(TransientImpact {
                    share: t.share.0,
                    half_life_days: t.half_life_days.0,
                });
            }
            let total = permanent + out.iter().map(|t| t.share).sum::<f64>();
            if ok && (total - 1.0).abs() > delever_graph::WEIGHT_TOLERANCE {
                cx.err(
                    base_t,
                    format!("`permanent` and the transient shares must sum to 1, got {total}"),
                    Some("e.g. `{ permanent: 0.4, transient: [{ share: 0.3, half_life_days: 1 }, { share: 0.3, half_life_days: 10 }] }`".into()),
                );
                ok = false;
            }
            out
        }
        (None, None) => {
            if permanent < 1.0 {
                cx.missing(
                    join_key(&at, "half_life_days"),
                    "impact that is partly transient",
                    "how fast the rest reverts, e.g. `half_life_days: 2`, or a `transient:` list",
                );
                ok = false;
            }
            Vec::new()
        }
    };
    if ok {
        ImpactDecay {
            permanent,
            transient,
        }
    } else {
        // Reported here with its path; the builder must not report it again.
        ImpactDecay::default()
    }
}

pub(crate) fn asset(
    cx: &mut Cx<'_>,
    a: &AssetSpec,
    i: usize,
    default_law: ImpactLaw,
    default_decay: &ImpactDecay,
) -> Asset {
    let base = join_index("assets", i);
    cx.check_source(join_key(&base, "source"), a.source.as_ref());
    // The builder reports values ≤ 0 (its own messages); the ranges add the rest.
    for (key, v, lim) in [
        ("price", a.price.0, &limits::PRICE),
        (
            "shares_outstanding",
            a.shares_outstanding.0,
            &limits::SHARES_OUTSTANDING,
        ),
    ] {
        if v > 0.0 {
            cx.limit(join_key(&base, key), v, lim);
        }
    }
    cx.limit_key(&base, "adv_usd", a.adv_usd, &limits::USD);
    cx.limit_key(&base, "daily_vol", a.daily_vol, &limits::DAILY_VOL);
    cx.limit_key(&base, "beta", a.beta, &limits::BETA);
    cx.limit_key(&base, "duration", a.duration, &limits::DURATION);
    let (law, decay) = match &a.impact {
        Some(imp) => {
            let at = join_key(&base, "impact");
            (impact(cx, imp, &at), decay(cx, imp, &at))
        }
        None => (default_law, default_decay.clone()),
    };
    asset_with(a, law, decay)
}

/// The asset a spec describes, with impact law `law` decaying as `decay`.
pub(crate) fn asset_with(a: &AssetSpec, law: ImpactLaw, decay: ImpactDecay) -> Asset {
    Asset {
        id: a.id.clone(),
        price: a.price.0,
        shares_outstanding: a.shares_outstanding.0,
        adv_usd: num(a.adv_usd).unwrap_or(0.0),
        daily_vol: num(a.daily_vol).unwrap_or(0.0),
        beta: num(a.beta).unwrap_or(1.0),
        duration: num(a.duration).unwrap_or(0.0),
        tags: a.tags.clone(),
        impact: law,
        decay,
    }
}
