//! Applying [`Shock`]s: shocked prices, exogenous sales, margin tightening, redemptions.

use delever_graph::{HolderKind, Network};

use crate::EngineError;
use crate::spec::{EngineConfig, Shock};

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
    if !(cfg.damping.is_finite() && cfg.damping > 0.0 && cfg.damping <= 1.0) {
        return Err(EngineError::InvalidConfig {
            field: "damping",
            message: format!("must be in (0, 1], got {}", cfg.damping),
        });
    }
    Ok(())
}

/// Resolve the shocks against the network.
// One arm per shock kind, each with its own checks: clearer whole than split.
#[allow(clippy::too_many_lines)]
pub(crate) fn apply(net: &Network, shocks: &[Shock]) -> Result<Shocked, EngineError> {
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
        match shock {
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
    let price = assets
        .iter()
        .zip(&ret)
        .map(|(a, r)| a.price * (1.0 + r).max(PRICE_FLOOR))
        .collect();
    let exo_shares = assets
        .iter()
        .zip(&exo_usd)
        .map(|(a, u)| u / a.price)
        .collect();
    Ok(Shocked {
        price,
        exo_shares,
        tighten,
        redemption,
    })
}
