//! Applying [`Shock`]s: shocked prices, exogenous sales, margin tightening, redemptions.

use delever_graph::{HolderKind, Network};

use crate::EngineError;
use crate::spec::{EngineConfig, Mode, Settlement, Shock};

/// Smallest price, as a fraction of the pre-shock price. A total return of −100% (or an
/// impact law that reaches zero) stops here, so every price stays positive and every
/// `dollars / price` stays finite.
pub const PRICE_FLOOR: f64 = 1e-9;

/// The shocks, resolved to per-asset, per-lender and per-holder columns.
#[derive(Debug, Clone)]
pub(crate) struct Shocked {
    /// Shocked price per asset: `p0·max(1 + ret, PRICE_FLOOR)`.
    pub price: Vec<f64>,
    /// Exogenous sales per asset, in shares (USD at the pre-shock price / that price).
    pub exo_shares: Vec<f64>,
    /// Margin tightening per lender from shocks (added to maintenance and reset).
    pub tighten: Vec<f64>,
    /// Redemption fraction per holder (summed, capped at 1).
    pub redemption: Vec<f64>,
    /// Timeline days after the first: what earlier days left in the price map.
    pub carry: Option<Carry>,
    /// GLT's exact accounting: the pre-shock prices, and returns add
    /// (`p = p0·(1 + F) + p0·(g(q) − 1)`) instead of multiplying.
    pub additive: Option<Vec<f64>>,
}

/// What earlier days of a timeline leave in an asset's price map: with `E` the day's
/// fundamental price (`price`), today's prices are
/// `p = E·g(q_prev + q) + E·recovered`, where `q` is today's dollar sales at pre-shock
/// prices, `q_prev` the sales of earlier days and `recovered` the part of their impact
/// that has decayed (`(1 − θ)·(1 − g(q_prev))` less the transient impact still standing).
#[derive(Debug, Clone)]
pub(crate) struct Carry {
    /// Dollar sales (at pre-shock prices) of earlier days, per asset.
    pub q_prev: Vec<f64>,
    /// Decayed impact, as a fraction of the fundamental price, per asset.
    pub recovered: Vec<f64>,
}

impl Shocked {
    /// The price of asset `k` when today's net dollar sales at pre-shock prices are `q`
    /// (before the floor).
    #[inline]
    pub(crate) fn price_at(&self, law: crate::impact::Law, k: usize, q: f64) -> f64 {
        if let Some(p0) = &self.additive {
            return self.price[k] + p0[k] * (law.factor(q) - 1.0);
        }
        match &self.carry {
            None => self.price[k] * law.factor(q),
            Some(c) => self.price[k] * law.factor(c.q_prev[k] + q) + self.price[k] * c.recovered[k],
        }
    }
}

fn finite(shock: usize, field: &'static str, value: f64) -> Result<f64, EngineError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(EngineError::NotFinite {
            shock,
            field,
            value,
        })
    }
}

fn ret_ok(shock: usize, ret: f64) -> Result<f64, EngineError> {
    let ret = finite(shock, "ret", ret)?;
    if ret < -1.0 {
        return Err(EngineError::ReturnBelowMinusOne { shock, ret });
    }
    Ok(ret)
}

/// Most days a timeline runs: about ten years of trading days. A longer horizon is not a
/// deleveraging cascade, and the per-day report grows with it.
pub const MAX_DAYS: u32 = 2_520;

/// Check the engine settings.
pub(crate) fn check_config(cfg: &EngineConfig) -> Result<(), EngineError> {
    if cfg.max_rounds == 0 {
        return Err(EngineError::InvalidConfig {
            field: "max_rounds",
            message: "must be at least 1".into(),
        });
    }
    if !(cfg.tolerance.is_finite() && cfg.tolerance >= 0.0) {
        return Err(EngineError::InvalidConfig {
            field: "tolerance",
            message: format!("must be a finite number ≥ 0, got {}", cfg.tolerance),
        });
    }
    if cfg.mode == Mode::Timeline && !(1..=MAX_DAYS).contains(&cfg.days) {
        return Err(EngineError::InvalidConfig {
            field: "days",
            message: format!("must be in [1, {MAX_DAYS}], got {}", cfg.days),
        });
    }
    if !(cfg.damping.is_finite() && cfg.damping > 0.0 && cfg.damping <= 1.0) {
        return Err(EngineError::InvalidConfig {
            field: "damping",
            message: format!("must be in (0, 1], got {}", cfg.damping),
        });
    }
    if cfg.glt_exact && (cfg.mode != Mode::Equilibrium || cfg.max_rounds != 1) {
        return Err(EngineError::InvalidConfig {
            field: "glt",
            message: "exact GLT accounting is one round of the equilibrium mode: it needs `mode: equilibrium` and `max_rounds: 1`".into(),
        });
    }
    // Only the rounds settle sales apart from the decisions; a fixed point has no "next
    // decision" to hold proceeds until.
    if cfg.settlement != Settlement::AtSettlement && cfg.mode != Mode::Sequential {
        return Err(EngineError::InvalidConfig {
            field: "settlement",
            message: format!(
                "`{}` needs the sequential mode, got mode `{}`",
                cfg.settlement.name(),
                cfg.mode.name()
            ),
        });
    }
    Ok(())
}

/// Check the days shocks are scheduled on: every day within `days` (1 for the one-instant
/// modes), no `OnDay` inside another.
pub(crate) fn check_days(shocks: &[Shock], days: u32, mode: Mode) -> Result<(), EngineError> {
    for (s, shock) in shocks.iter().enumerate() {
        let (day, inner) = shock.dated();
        if matches!(inner, Shock::OnDay { .. }) {
            return Err(EngineError::NestedDay { shock: s });
        }
        if day >= days {
            return Err(EngineError::DayOutsideHorizon {
                shock: s,
                day,
                days,
                mode: mode.name(),
            });
        }
    }
    Ok(())
}

/// Resolve the shocks against the network (the one-instant modes: every shock on day 0).
pub(crate) fn apply(net: &Network, shocks: &[Shock]) -> Result<Shocked, EngineError> {
    let r = resolve(net, shocks, 0)?;
    let price = net
        .assets()
        .iter()
        .zip(&r.ret)
        .map(|(a, r)| a.price * (1.0 + r).max(PRICE_FLOOR))
        .collect();
    Ok(r.with_prices(net, price))
}

/// The shocks of one day, resolved to columns.
#[derive(Debug, Clone)]
pub(crate) struct DayShocks {
    /// Return per asset (summed, not yet floored).
    pub ret: Vec<f64>,
    /// Exogenous sales per asset, USD at the pre-shock price.
    pub exo_usd: Vec<f64>,
    /// Margin tightening per lender.
    pub tighten: Vec<f64>,
    /// Redemption fraction per holder (summed, capped at 1).
    pub redemption: Vec<f64>,
}

impl DayShocks {
    /// The day's [`Shocked`] columns with prices `price`.
    pub(crate) fn with_prices(self, net: &Network, price: Vec<f64>) -> Shocked {
        let exo_shares = net
            .assets()
            .iter()
            .zip(&self.exo_usd)
            .map(|(a, u)| u / a.price)
            .collect();
        Shocked {
            price,
            exo_shares,
            tighten: self.tighten,
            redemption: self.redemption,
            carry: None,
            additive: None,
        }
    }
}

/// Resolve the shocks scheduled on `day` against the network.
// One arm per shock kind, each with its own checks: clearer whole than split.
#[allow(clippy::too_many_lines)]
pub(crate) fn resolve(net: &Network, shocks: &[Shock], day: u32) -> Result<DayShocks, EngineError> {
    let assets = net.assets();
    let n = assets.len();
    let mut ret = vec![0.0; n];
    let mut exo_usd = vec![0.0; n];
    let mut tighten = vec![0.0; net.lenders().len()];
    let mut redemption = vec![0.0; net.holders().len()];
    let asset_ix = |shock: usize, ix: u32| -> Result<usize, EngineError> {
        let i = ix as usize;
        if i < n {
            Ok(i)
        } else {
            Err(EngineError::AssetOutOfRange {
                shock,
                index: ix,
                count: n,
            })
        }
    };
    // Selecting by tag must match something: a typo in a tag would otherwise be a silent
    // no-op shock.
    let tagged = |shock: usize, tag: &str| -> Result<Vec<usize>, EngineError> {
        let hits: Vec<usize> = (0..n)
            .filter(|&i| assets[i].tags.iter().any(|t| t == tag))
            .collect();
        if hits.is_empty() {
            Err(EngineError::UnknownTag {
                shock,
                tag: tag.to_owned(),
            })
        } else {
            Ok(hits)
        }
    };
    let selected = |shock: usize, tag: Option<&String>| -> Result<Vec<usize>, EngineError> {
        match tag {
            Some(t) => tagged(shock, t),
            None => Ok((0..n).collect()),
        }
    };
    for (s, shock) in shocks.iter().enumerate() {
        let (on, shock) = shock.dated();
        if on != day {
            continue;
        }
        match shock {
            Shock::OnDay { .. } => return Err(EngineError::NestedDay { shock: s }),
            Shock::AssetReturn { asset, ret: r } => {
                let i = asset_ix(s, asset.0)?;
                ret[i] += ret_ok(s, *r)?;
            }
            Shock::TagReturn { tag, ret: r } => {
                let r = ret_ok(s, *r)?;
                for i in tagged(s, tag)? {
                    ret[i] += r;
                }
            }
            Shock::Market { ret: r, tag } => {
                let r = ret_ok(s, *r)?;
                for i in selected(s, tag.as_ref())? {
                    ret[i] += assets[i].beta * r;
                }
            }
            Shock::DiscountRate { delta, tag } => {
                let d = finite(s, "delta", *delta)?;
                for i in selected(s, tag.as_ref())? {
                    ret[i] -= assets[i].duration * d;
                }
            }
            Shock::ExogenousSale { asset, usd } => {
                let i = asset_ix(s, asset.0)?;
                let usd = finite(s, "usd", *usd)?;
                if usd < 0.0 {
                    return Err(EngineError::Negative {
                        shock: s,
                        field: "usd",
                        value: usd,
                    });
                }
                exo_usd[i] += usd;
            }
            Shock::MarginTightening { lender, by } => {
                let by = finite(s, "by", *by)?;
                if by < 0.0 {
                    return Err(EngineError::Negative {
                        shock: s,
                        field: "by",
                        value: by,
                    });
                }
                match lender {
                    Some(l) => {
                        let count = tighten.len();
                        let slot =
                            tighten
                                .get_mut(l.get())
                                .ok_or(EngineError::LenderOutOfRange {
                                    shock: s,
                                    index: l.0,
                                    count,
                                })?;
                        *slot += by;
                    }
                    None => tighten.iter_mut().for_each(|t| *t += by),
                }
            }
            Shock::Redemption { holder, fraction } => {
                let count = redemption.len();
                let h = net
                    .holders()
                    .get(holder.get())
                    .ok_or(EngineError::HolderOutOfRange {
                        shock: s,
                        index: holder.0,
                        count,
                    })?;
                if !matches!(
                    h.kind,
                    HolderKind::Fund { .. } | HolderKind::LeveragedEtf { .. }
                ) {
                    return Err(EngineError::NotRedeemable {
                        shock: s,
                        holder: h.id.clone(),
                        kind: h.kind.tag().name(),
                    });
                }
                if !(fraction.is_finite() && (0.0..=1.0).contains(fraction)) {
                    return Err(EngineError::RedemptionOutOfRange {
                        shock: s,
                        fraction: *fraction,
                    });
                }
                let r = &mut redemption[holder.get()];
                *r = (*r + fraction).min(1.0);
            }
        }
    }
    Ok(DayShocks {
        ret,
        exo_usd,
        tighten,
        redemption,
    })
}
