//! Shocks: each type's keys, ranges and references, and the days they happen on.

use std::collections::BTreeSet;

use delever_engine::{EngineConfig, MAX_DAYS, Mode, Shock};

use super::cx::{Cx, Want, num};
use crate::index::{join_index, join_key};
use crate::kinds;
use crate::limits;
use crate::spec::{ShockName, ShockSpec};
use crate::suggest;

pub(crate) const SHOCK_KEYS: &[(&str, &[ShockName])] = &[
    ("asset", &[ShockName::Asset, ShockName::ExogenousSale]),
    (
        "tag",
        &[ShockName::Tag, ShockName::Market, ShockName::DiscountRate],
    ),
    (
        "return",
        &[ShockName::Asset, ShockName::Tag, ShockName::Market],
    ),
    ("delta", &[ShockName::DiscountRate]),
    ("usd", &[ShockName::ExogenousSale]),
    ("lender", &[ShockName::MarginTightening]),
    ("by", &[ShockName::MarginTightening]),
    ("holder", &[ShockName::Redemption]),
    ("fraction", &[ShockName::Redemption]),
];

pub(crate) fn shocks(cx: &mut Cx<'_>, list: &[ShockSpec], path: &str) -> Vec<Shock> {
    let spec = cx.spec;
    let tags: BTreeSet<&str> = spec
        .assets
        .iter()
        .flat_map(|a| a.tags.iter().map(String::as_str))
        .collect();
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let base = join_index(path, i);
        let day = s.day.map_or(0, |d| {
            cx.days(
                join_key(&base, "day"),
                d,
                delever_engine::MAX_DAYS - 1,
                "the trading day the shock happens on, from 0 (the first day of the run)",
            )
        });
        if let Some(shock) = shock(cx, s, &base, &tags) {
            out.push(if day == 0 {
                shock
            } else {
                Shock::OnDay {
                    day,
                    shock: Box::new(shock),
                }
            });
        }
    }
    out
}

/// Every shock's day within the run: `days` of a timeline, day 0 otherwise.
pub(crate) fn shock_days(
    cx: &mut Cx<'_>,
    list: &[ShockSpec],
    path: &str,
    cfg: &EngineConfig,
    engine_at: &str,
) {
    for (i, s) in list.iter().enumerate() {
        let Some(d) = s.day else {
            continue;
        };
        // Out of 0..MAX_DAYS is reported where the day is read (and `d.0 + 1` below
        // could overflow: `1e300` saturates to i128::MAX).
        if d.0 < 0 || d.0 >= i128::from(MAX_DAYS) {
            continue;
        }
        let at = join_key(&join_index(path, i), "day");
        if cfg.mode != Mode::Timeline && d.0 > 0 {
            cx.err(
                at,
                format!(
                    "day {} needs the timeline mode; the {} mode is one instant (day 0)",
                    d.0,
                    cfg.mode.name()
                ),
                Some(format!(
                    "set `{engine_at}: {{ mode: timeline, days: {} }}` (or more days), or drop `day`",
                    d.0 + 1
                )),
            );
        } else if cfg.mode == Mode::Timeline && d.0 >= i128::from(cfg.days) {
            cx.err(
                at,
                format!(
                    "day {} is past the run's last day: `{engine_at}.days` is {}, so days run from 0 to {}",
                    d.0,
                    cfg.days,
                    cfg.days - 1
                ),
                Some(format!("raise `{engine_at}.days` to {} or more", d.0 + 1)),
            );
        }
    }
}

#[allow(clippy::too_many_lines)] // one arm per shock type
fn shock(cx: &mut Cx<'_>, s: &ShockSpec, base: &str, tags: &BTreeSet<&str>) -> Option<Shock> {
    cx.check_source(join_key(base, "source"), s.source.as_ref());
    cx.misplaced(
        base,
        s.kind,
        "shock type",
        SHOCK_KEYS,
        &[
            ("asset", s.asset.is_some()),
            ("tag", s.tag.is_some()),
            ("return", s.ret.is_some()),
            ("delta", s.delta.is_some()),
            ("usd", s.usd.is_some()),
            ("lender", s.lender.is_some()),
            ("by", s.by.is_some()),
            ("holder", s.holder.is_some()),
            ("fraction", s.fraction.is_some()),
        ],
        ShockName::name,
    );
    let what = format!("a `{}` shock", s.kind.name());
    let need = |cx: &mut Cx<'_>, key: &str, present: bool, hint: &str| {
        if !present {
            cx.missing(join_key(base, key), &what, hint);
        }
        present
    };
    let ret_hint = "a return as a fraction: `return: -0.10` is a 10% fall";
    let ret = |cx: &mut Cx<'_>| -> Option<f64> {
        let r = num(s.ret)?;
        if r < -1.0 {
            cx.err(
                join_key(base, "return"),
                format!("a return cannot be below -1 (a 100% fall), got {r}"),
                Some("returns are fractions: -0.10 is a 10% fall, not -10".into()),
            );
            return None;
        }
        cx.limit(join_key(base, "return"), r, &limits::RETURN)
            .then_some(r)
    };
    let tag = |cx: &mut Cx<'_>, t: &Option<String>| -> Result<Option<String>, ()> {
        match t {
            None => Ok(None),
            Some(t) if tags.contains(t.as_str()) => Ok(Some(t.clone())),
            Some(t) => {
                let hint = suggest::hint_for(t, tags.iter().copied(), "tags");
                cx.err(
                    join_key(base, "tag"),
                    format!("no asset has the tag `{t}`"),
                    Some(hint),
                );
                Err(())
            }
        }
    };
    let fraction_in = |cx: &mut Cx<'_>, key: &str, v: f64, what: &str| -> Option<f64> {
        if (0.0..=1.0).contains(&v) {
            Some(v)
        } else {
            cx.err(
                join_key(base, key),
                format!("expected {what} in [0, 1], got {v}"),
                Some("fractions: 0.05 is five percentage points, 0.10 is 10%".into()),
            );
            None
        }
    };
    match s.kind {
        ShockName::Asset => {
            let has_asset = need(
                cx,
                "asset",
                s.asset.is_some(),
                "the asset's id, e.g. `asset: NVDA`",
            );
            let has_ret = need(cx, "return", s.ret.is_some(), ret_hint);
            if !(has_asset && has_ret) {
                return None;
            }
            let id = s.asset.as_deref().unwrap_or_default();
            let a = cx
                .resolve(join_key(base, "asset"), id, Want::Asset)
                .and(cx.assets.get(id).copied());
            let r = ret(cx)?;
            Some(Shock::AssetReturn { asset: a?, ret: r })
        }
        ShockName::Tag => {
            let has_tag = need(
                cx,
                "tag",
                s.tag.is_some(),
                "an asset tag, e.g. `tag: semis`",
            );
            let has_ret = need(cx, "return", s.ret.is_some(), ret_hint);
            if !(has_tag && has_ret) {
                return None;
            }
            let t = tag(cx, &s.tag).ok().flatten();
            let r = ret(cx)?;
            Some(Shock::TagReturn { tag: t?, ret: r })
        }
        ShockName::Market => {
            if !need(cx, "return", s.ret.is_some(), ret_hint) {
                return None;
            }
            let t = tag(cx, &s.tag);
            let r = ret(cx)?;
            Some(Shock::Market {
                ret: r,
                tag: t.ok()?,
            })
        }
        ShockName::DiscountRate => {
            if !need(
                cx,
                "delta",
                s.delta.is_some(),
                "the change in the discount rate, e.g. `delta: 0.01` (+100 bp)",
            ) {
                return None;
            }
            let t = tag(cx, &s.tag).ok()?;
            let delta = num(s.delta)?;
            if !cx.limit(join_key(base, "delta"), delta, &limits::DELTA) {
                return None;
            }
            Some(Shock::DiscountRate { delta, tag: t })
        }
        ShockName::ExogenousSale => {
            let has_asset = need(
                cx,
                "asset",
                s.asset.is_some(),
                "the asset's id, e.g. `asset: NVDA`",
            );
            let has_usd = need(
                cx,
                "usd",
                s.usd.is_some(),
                "USD sold at the pre-shock price, e.g. `usd: 5.0e9`",
            );
            if !(has_asset && has_usd) {
                return None;
            }
            let id = s.asset.as_deref().unwrap_or_default();
            let a = cx
                .resolve(join_key(base, "asset"), id, Want::Asset)
                .and(cx.assets.get(id).copied());
            let usd = num(s.usd)?;
            if usd < 0.0 {
                cx.err(
                    join_key(base, "usd"),
                    format!("expected a number ≥ 0, got {usd}"),
                    Some("an exogenous sale is an amount sold; it cannot be negative".into()),
                );
                return None;
            }
            if !cx.limit(join_key(base, "usd"), usd, &limits::USD) {
                return None;
            }
            Some(Shock::ExogenousSale { asset: a?, usd })
        }
        ShockName::MarginTightening => {
            if !need(
                cx,
                "by",
                s.by.is_some(),
                "the rise in maintenance margin, e.g. `by: 0.05`",
            ) {
                return None;
            }
            let lender = match &s.lender {
                None => None,
                Some(id) => {
                    cx.resolve(join_key(base, "lender"), id, Want::Lender)?;
                    Some(*cx.lenders.get(id.as_str())?)
                }
            };
            let by = fraction_in(cx, "by", num(s.by)?, "a rise in margin")?;
            Some(Shock::MarginTightening { lender, by })
        }
        ShockName::Redemption => {
            let has_holder = need(cx, "holder", s.holder.is_some(), "the fund's id");
            let has_fraction = need(
                cx,
                "fraction",
                s.fraction.is_some(),
                "the fraction of NAV withdrawn, e.g. `fraction: 0.10`",
            );
            if !(has_holder && has_fraction) {
                return None;
            }
            let id = s.holder.as_deref().unwrap_or_default();
            let h = cx
                .resolve(join_key(base, "holder"), id, Want::Holder)
                .and(cx.holder(id));
            let kind = cx.spec.holders.iter().find(|x| x.id == id).map(|x| x.kind);
            if let Some(k) = kind
                && !kinds::of(k).redeemable
            {
                cx.err(
                    join_key(base, "holder"),
                    format!("`{id}` is a {k}; redemptions apply to a fund or a leveraged_etf"),
                    None,
                );
                return None;
            }
            let fraction = fraction_in(cx, "fraction", num(s.fraction)?, "a fraction of NAV")?;
            Some(Shock::Redemption {
                holder: h?,
                fraction,
            })
        }
    }
}
