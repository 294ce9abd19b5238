//! The `monte_carlo:` block: the distribution, the assets drawn, the horizon and the
//! correlation (factored for drawing).

use std::collections::BTreeMap;

use delever_graph::AssetIx;

use super::cx::{Cx, Want, num};
use crate::error::clip;
use crate::index::{join_index, join_key};
use crate::limits;
use crate::montecarlo::{self, MonteCarlo, ShockDistribution};
use crate::spec::{CorrelationSpec, DistName, MonteCarloSpec};

/// Check the `monte_carlo:` block and resolve it; `None` when something is wrong (the
/// problems are in `cx`).
#[allow(clippy::too_many_lines)] // one check after another, in the block's key order
pub(crate) fn monte_carlo(cx: &mut Cx<'_>, m: &MonteCarloSpec, base: &str) -> Option<MonteCarlo> {
    let before = cx.problems.len();
    cx.check_source(join_key(base, "source"), m.source.as_ref());
    let dpath = join_key(base, "distribution");
    let distribution = match (m.distribution.kind, num(m.distribution.dof)) {
        (DistName::Normal, None) => ShockDistribution::Normal,
        (DistName::Normal, Some(_)) => {
            cx.err_key(
                join_key(&dpath, "dof"),
                "`dof` does not apply to distribution `normal`; it belongs to student_t",
                Some("remove `dof`, or use `{ type: student_t, dof: 4 }`".into()),
            );
            ShockDistribution::Normal
        }
        (DistName::StudentT, None) => {
            cx.missing(
                join_key(&dpath, "dof"),
                "a student_t distribution",
                "degrees of freedom > 2, e.g. `dof: 4` (the fat tails of daily equity returns)",
            );
            ShockDistribution::Normal
        }
        (DistName::StudentT, Some(dof)) => {
            if dof <= 2.0 {
                cx.err(
                    join_key(&dpath, "dof"),
                    format!("must be > 2, got {dof}"),
                    Some("a Student-t has a finite variance only above 2 degrees of freedom; 3 to 5 suits daily equity returns".into()),
                );
            } else {
                cx.limit(join_key(&dpath, "dof"), dof, &limits::DOF);
            }
            ShockDistribution::StudentT { dof }
        }
    };
    let horizon_days = num(m.horizon_days).unwrap_or(1.0);
    if horizon_days <= 0.0 {
        cx.err(
            join_key(base, "horizon_days"),
            format!("must be a number of days > 0, got {horizon_days}"),
            Some("the horizon of the drawn returns in trading days, e.g. `horizon_days: 5` for a week".into()),
        );
    } else {
        cx.limit(
            join_key(base, "horizon_days"),
            horizon_days,
            &limits::HORIZON_DAYS,
        );
    }

    // (asset, daily vol, daily mean), in block order.
    let mut drawn: Vec<(AssetIx, f64, f64)> = Vec::new();
    let own_vol = |id: &str| {
        cx.spec
            .assets
            .iter()
            .find(|a| a.id == id)
            .and_then(|a| num(a.daily_vol))
    };
    match &m.assets {
        Some(list) => {
            let apath = join_key(base, "assets");
            if list.is_empty() {
                cx.err(
                    apath.clone(),
                    "the list of assets to draw is empty",
                    Some(
                        "list at least one asset, or leave `assets` out to draw every asset".into(),
                    ),
                );
            }
            let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
            for (i, a) in list.iter().enumerate() {
                let p = join_index(&apath, i);
                if let Some(&j) = seen.get(a.asset.as_str()) {
                    cx.err(
                        join_key(&p, "asset"),
                        format!(
                            "duplicate asset `{}`: already drawn at {}",
                            a.asset,
                            join_index(&apath, j)
                        ),
                        Some("list each asset once".into()),
                    );
                    continue;
                }
                seen.insert(&a.asset, i);
                if cx
                    .resolve(join_key(&p, "asset"), &a.asset, Want::Asset)
                    .is_none()
                {
                    continue;
                }
                let Some(&ix) = cx.assets.get(a.asset.as_str()) else {
                    continue;
                };
                let Some(vol) = num(a.daily_vol).or_else(|| own_vol(&a.asset)) else {
                    cx.err(
                            p.clone(),
                            format!(
                                "no daily volatility for `{}`: the entry gives no `daily_vol` and neither does the asset",
                                a.asset
                            ),
                            Some(format!(
                                "add `daily_vol: 0.025` (a fraction per day) to this entry or to asset `{}`",
                                a.asset
                            )),
                        );
                    continue;
                };
                if vol < 0.0 {
                    cx.err(
                        join_key(&p, "daily_vol"),
                        format!("must be ≥ 0, got {vol}"),
                        Some("a daily volatility as a fraction, e.g. `daily_vol: 0.025`".into()),
                    );
                } else {
                    // An inherited vol is checked at the asset.
                    cx.limit_key(&p, "daily_vol", a.daily_vol, &limits::DAILY_VOL);
                }
                cx.limit_key(&p, "daily_mean", a.daily_mean, &limits::DAILY_MEAN);
                drawn.push((ix, vol, num(a.daily_mean).unwrap_or(0.0)));
            }
        }
        None => {
            for (i, a) in cx.spec.assets.iter().enumerate() {
                let Some(&ix) = cx.assets.get(a.id.as_str()) else {
                    continue;
                };
                match num(a.daily_vol) {
                    Some(v) => drawn.push((ix, v, 0.0)),
                    None => cx.err(
                        join_key(&join_index("assets", i), "daily_vol"),
                        format!(
                            "`monte_carlo` draws every asset, but `{}` has no `daily_vol`",
                            a.id
                        ),
                        Some("give the asset a `daily_vol`, or list the assets to draw in `monte_carlo.assets` with theirs".into()),
                    ),
                }
            }
        }
    }

    if cx.problems.len() == before {
        horizon_scale(cx, &drawn, horizon_days, &join_key(base, "horizon_days"));
    }

    let n = drawn.len();
    let cpath = join_key(base, "correlation");
    let correlation = match &m.correlation {
        None => Some(ndarray::Array2::eye(n)),
        Some(CorrelationSpec::Uniform(rho)) => {
            let rho = rho.0;
            let floor = if n >= 2 {
                -1.0 / (n as f64 - 1.0)
            } else {
                -1.0
            };
            if !(-1.0..=1.0).contains(&rho) {
                cx.err(
                    cpath.clone(),
                    format!("a correlation must be in [-1, 1], got {rho}"),
                    Some("e.g. `correlation: 0.7` for assets that move together".into()),
                );
                None
            } else if rho < floor - 1e-12 {
                cx.err(
                    cpath.clone(),
                    format!(
                        "a uniform correlation of {rho} among {n} assets is impossible: it must be at least -1/(n-1) = {floor:.4}, or the matrix is not positive semidefinite"
                    ),
                    Some("n assets cannot all move against each other; use a correlation ≥ -1/(n-1), or a matrix".into()),
                );
                None
            } else {
                Some(ndarray::Array2::from_shape_fn((n, n), |(i, j)| {
                    if i == j { 1.0 } else { rho }
                }))
            }
        }
        Some(CorrelationSpec::Matrix(rows)) => {
            correlation_matrix(cx, rows, n, &join_key(&cpath, "matrix"))
        }
    };
    let cholesky = correlation.as_ref().and_then(|c| match montecarlo::cholesky(c) {
        Ok(l) => Some(l),
        Err(row) => {
            let at = match &m.correlation {
                Some(CorrelationSpec::Matrix(_)) => join_key(&cpath, "matrix"),
                _ => cpath.clone(),
            };
            cx.err(
                at,
                format!("the correlation matrix is not positive semidefinite (it fails at row {row})"),
                Some("a correlation matrix must be positive semidefinite; estimate it from one window of data or use a uniform correlation".into()),
            );
            None
        }
    });
    if cx.problems.len() > before {
        return None;
    }
    let (correlation, cholesky) = (correlation?, cholesky?);
    let sqrt_h = horizon_days.sqrt();
    Some(MonteCarlo {
        distribution,
        horizon_days,
        assets: drawn.iter().map(|d| d.0).collect(),
        mean: drawn.iter().map(|d| d.2 * horizon_days).collect(),
        vol: drawn.iter().map(|d| d.1 * sqrt_h).collect(),
        correlation,
        cholesky,
        scenario_shocks: m.scenario_shocks.unwrap_or(false),
        source: m.source.clone(),
    })
}

/// The draws' log-returns over the horizon must stay sane: a standard deviation
/// (`daily_vol` × √`horizon_days`) and an absolute mean (`|daily_mean|` × `horizon_days`) of
/// at most 10, so that every normal draw moves a price by a finite factor. Each daily
/// figure is within its own limit already, so only a long horizon can pass these; the
/// problem is reported at `horizon_days`.
fn horizon_scale(cx: &mut Cx<'_>, drawn: &[(AssetIx, f64, f64)], horizon_days: f64, at: &str) {
    let max = limits::MAX_HORIZON_LOG_RETURN;
    let name = |ix: AssetIx| {
        cx.assets
            .iter()
            .find(|(_, v)| **v == ix)
            .map_or_else(String::new, |(k, _)| clip(k).into_owned())
    };
    let sqrt_h = horizon_days.sqrt();
    let hint = "at 10, one standard deviation already moves a price by a factor of e^10 ≈ 22,000 over the horizon; shorten the horizon or lower the daily figure";
    if let Some(&(ix, vol, _)) = drawn.iter().find(|d| d.1 * sqrt_h > max) {
        let msg = format!(
            "over {} days, `{}`'s daily_vol of {} gives a horizon volatility (daily_vol × √horizon_days) of {}, more than {max}",
            limits::show(horizon_days),
            name(ix),
            limits::show(vol),
            limits::show(vol * sqrt_h),
        );
        cx.err(at, msg, Some(hint.into()));
    } else if let Some(&(ix, _, mean)) = drawn.iter().find(|d| d.2.abs() * horizon_days > max) {
        let msg = format!(
            "over {} days, `{}`'s daily_mean of {} gives a horizon mean log-return (daily_mean × horizon_days) of {}, beyond ±{max}",
            limits::show(horizon_days),
            name(ix),
            limits::show(mean),
            limits::show(mean * horizon_days),
        );
        cx.err(at, msg, Some(hint.into()));
    }
}

/// Check a written correlation matrix: n×n, entries in [-1, 1], unit diagonal,
/// symmetric. Positive semidefiniteness is checked by the Cholesky factorisation.
fn correlation_matrix(
    cx: &mut Cx<'_>,
    rows: &[Vec<crate::spec::Num>],
    n: usize,
    path: &str,
) -> Option<ndarray::Array2<f64>> {
    let before = cx.problems.len();
    let order = "one row and one column per drawn asset, in the order of `monte_carlo.assets` (every asset in file order when it is left out)";
    if rows.len() != n {
        cx.err(
            path,
            format!("the matrix has {} rows; expected {n}", rows.len()),
            Some(order.into()),
        );
        return None;
    }
    for (i, r) in rows.iter().enumerate() {
        if r.len() != n {
            cx.err(
                join_index(path, i),
                format!(
                    "row {i} has {} entries; expected {n} (the matrix must be square)",
                    r.len()
                ),
                Some(order.into()),
            );
        }
    }
    if cx.problems.len() > before {
        return None;
    }
    let a = ndarray::Array2::from_shape_fn((n, n), |(i, j)| rows[i][j].0);
    for i in 0..n {
        for j in 0..n {
            let p = join_index(&join_index(path, i), j);
            let x = a[[i, j]];
            if i == j && x != 1.0 {
                cx.err(
                    p,
                    format!("the diagonal of a correlation matrix is 1, got {x}"),
                    Some("every asset is perfectly correlated with itself".into()),
                );
            } else if !(-1.0..=1.0).contains(&x) {
                cx.err(
                    p,
                    format!("a correlation must be in [-1, 1], got {x}"),
                    None,
                );
            } else if j < i && (x - a[[j, i]]).abs() > 1e-12 {
                cx.err(
                    p,
                    format!(
                        "the matrix is not symmetric: [{i}][{j}] is {x} but [{j}][{i}] is {}",
                        a[[j, i]]
                    ),
                    Some("the correlation of a with b is that of b with a; write the same number in both places".into()),
                );
            }
        }
    }
    (cx.problems.len() == before).then_some(a)
}
