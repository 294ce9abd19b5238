//! The Caccioli window of contagion over a grid: the probability of contagion at every
//! (leverage, mean diversification) point, as CSV and as the SVG of [`crate::figure`].
//! One code path for `delever generate caccioli-window` and the example that draws
//! `docs/img/caccioli-window.svg`.

use std::fmt::Write as _;

use crate::caccioli::{self, Contagion, Params};
use crate::error::GenerateError;
use crate::figure::{Curve, window_svg};

/// The leverages of the documented figure.
pub const LEVERAGES: [f64; 5] = [4.0, 8.0, 12.0, 20.0, 33.0];
/// The mean diversifications of the documented figure.
pub const MUS: [f64; 15] = [
    1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0, 30.0, 40.0,
];

/// One point of the grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Leverage `λ`.
    pub leverage: f64,
    /// Mean diversification `μ_b`.
    pub mu: f64,
    /// What the trials gave.
    pub contagion: Contagion,
}

/// The window over a grid of leverages and mean diversifications.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The system every point shares (its `mu` and `leverage` are replaced per point).
    pub base: Params,
    /// Trials per point.
    pub trials: usize,
    /// Points, leverage-major, in the order given.
    pub points: Vec<Point>,
}

/// Compute the window: for each leverage, for each `μ_b`, `trials` seeded trials of
/// [`caccioli::contagion_probability`]. Every point uses `base.seed`, so the figure is the
/// same at any thread count; `tick` is called after each point (for a progress bar).
///
/// # Errors
/// [`GenerateError::InvalidParameter`] for an empty grid, no trials, or parameters the
/// generator refuses (named by the flag that set them).
pub fn compute(
    base: &Params,
    leverages: &[f64],
    mus: &[f64],
    trials: usize,
    tick: &dyn Fn(),
) -> Result<Window, GenerateError> {
    let invalid = |param: &'static str, message: &str, hint: &str| {
        Err(GenerateError::InvalidParameter {
            param,
            message: message.to_string(),
            hint: hint.to_string(),
        })
    };
    if leverages.is_empty() {
        return invalid(
            "leverage",
            "give at least one leverage",
            "e.g. --leverage 8,20",
        );
    }
    if mus.is_empty() {
        return invalid(
            "mu",
            "give at least one mean diversification",
            "e.g. --mu 1,2,4,8",
        );
    }
    if trials == 0 {
        return invalid("trials", "must be at least 1", "e.g. --trials 50");
    }
    let mut points = Vec::with_capacity(leverages.len() * mus.len());
    for &leverage in leverages {
        for &mu in mus {
            let p = Params {
                mu,
                leverage,
                ..*base
            };
            let contagion = caccioli::contagion_probability(&p, trials)?;
            points.push(Point {
                leverage,
                mu,
                contagion,
            });
            tick();
        }
    }
    Ok(Window {
        base: *base,
        trials,
        points,
    })
}

impl Window {
    /// `leverage,mu,trials,contagions,probability,extent`, one row a point.
    pub fn to_csv(&self) -> String {
        let mut csv = String::from("leverage,mu,trials,contagions,probability,extent\n");
        for p in &self.points {
            let c = &p.contagion;
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{}",
                p.leverage, p.mu, c.trials, c.contagions, c.probability, c.extent
            );
        }
        csv
    }

    /// The figure: one curve per leverage, probability against `μ_b` on a log axis.
    pub fn to_svg(&self) -> String {
        let mut curves: Vec<Curve> = Vec::new();
        for p in &self.points {
            let label = format!("λ = {}", p.leverage);
            match curves.last_mut() {
                Some(c) if c.label == label => c.points.push((p.mu, p.contagion.probability)),
                _ => curves.push(Curve {
                    label,
                    points: vec![(p.mu, p.contagion.probability)],
                }),
            }
        }
        for c in &mut curves {
            c.points.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        let leverages: Vec<f64> = {
            let mut l: Vec<f64> = Vec::new();
            for p in &self.points {
                if !l.contains(&p.leverage) {
                    l.push(p.leverage);
                }
            }
            l
        };
        let b = &self.base;
        let desc = format!(
            "Probability that the failure of one random bank makes more than 5% of banks fail, \
             against mean diversification mu_b (log scale), for leverage {leverages:?}. \
             N = {} banks, M = {} assets, alpha = {}, {} seeded trials per point (seed {}). \
             Contagion happens only inside a window of diversification that widens as \
             leverage rises; at low enough leverage it never happens.",
            b.banks, b.assets, b.alpha, self.trials, b.seed
        );
        window_svg(
            &curves,
            "Caccioli et al. (2014): the window of contagion",
            &desc,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params {
            banks: 60,
            assets: 60,
            seed: 3,
            ..Params::default()
        }
    }

    #[test]
    fn the_grid_is_leverage_major_and_the_csv_has_a_row_per_point() {
        let ticks = std::sync::atomic::AtomicUsize::new(0);
        let w = compute(&small(), &[4.0, 20.0], &[1.0, 3.0, 30.0], 10, &|| {
            ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .expect("a valid grid");
        assert_eq!(ticks.into_inner(), 6);
        let order: Vec<(f64, f64)> = w.points.iter().map(|p| (p.leverage, p.mu)).collect();
        assert_eq!(
            order,
            [
                (4.0, 1.0),
                (4.0, 3.0),
                (4.0, 30.0),
                (20.0, 1.0),
                (20.0, 3.0),
                (20.0, 30.0)
            ]
        );
        let csv = w.to_csv();
        assert_eq!(csv.lines().count(), 7);
        assert!(csv.starts_with("leverage,mu,trials,contagions,probability,extent\n4,1,10,"));
        // Each point is the library's own estimate.
        let p = Params {
            mu: 3.0,
            leverage: 20.0,
            ..small()
        };
        assert_eq!(
            w.points[4].contagion,
            caccioli::contagion_probability(&p, 10).expect("valid parameters")
        );
        let svg = w.to_svg();
        assert!(svg.contains("λ = 4") && svg.contains("λ = 20"));
        assert!(svg.contains("N = 60 banks"));
    }

    #[test]
    fn an_empty_grid_or_no_trials_is_refused_by_flag() {
        for (l, m, t, flag) in [
            (&[][..], &[1.0][..], 5, "leverage"),
            (&[4.0][..], &[][..], 5, "mu"),
            (&[4.0][..], &[1.0][..], 0, "trials"),
        ] {
            match compute(&small(), l, m, t, &|| {}) {
                Err(GenerateError::InvalidParameter { param, .. }) => assert_eq!(param, flag),
                other => panic!("expected a refusal of --{flag}, got {other:?}"),
            }
        }
        // A leverage the generator refuses is named too.
        assert!(matches!(
            compute(&small(), &[0.5], &[1.0], 5, &|| {}),
            Err(GenerateError::InvalidParameter { .. })
        ));
    }
}
