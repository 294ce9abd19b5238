//! The explanation of the convexity kinds: each position's hedge or signal, a vol-target
//! fund's estimate and exposure.

use delever_graph::AssetIx;

use super::{Sheet, Test};
use crate::compile::{Compiled, Rule, Unit};

/// The tests of the convexity kinds: each position's hedge or signal, a fund's exposure.
pub(super) fn convexity_tests(
    c: &Compiled<'_>,
    u: &Unit<'_>,
    p: &[f64],
    equity0: f64,
    sh: &Sheet,
    tests: &mut Vec<Test>,
) {
    match &u.rule {
        Rule::Dealer { options, gamma } => {
            for (k, &a) in u.assets.iter().enumerate() {
                let spot = p[a as usize];
                let mut one = vec![0.0; u.assets.len()];
                crate::rules::dealer::rehedge(u, c, p, options, gamma, &mut one);
                let lines: Vec<_> = options
                    .iter()
                    .filter(|(j, _)| *j as usize == k)
                    .map(|(_, l)| *l)
                    .collect();
                let lin: f64 = gamma
                    .iter()
                    .filter(|(j, _)| *j as usize == k)
                    .map(|(_, g)| g)
                    .sum();
                tests.push(Test::DealerHedge {
                    asset: AssetIx(a),
                    spot,
                    gamma: crate::rules::dealer::book_gamma(&lines, spot, 0.0) + lin,
                    held: u.shares[k],
                    target: u.shares[k] - one[k],
                });
            }
        }
        Rule::VolTarget(v) => {
            use crate::rules::vol_target as vt;
            let crate::compile::VolTargetC {
                rule,
                lambda,
                var_ref,
                w0,
                h0,
                fixed,
            } = &**v;
            let r = vt::day_return(u, c, p);
            let var = vt::ewma_day(*var_ref, r, *lambda);
            let nav = sh.equity;
            let ratio =
                fixed.unwrap_or_else(|| vt::ratio(rule, *lambda, *var_ref, *w0, r, nav, equity0));
            let (mut held, mut want, mut sale) = (0.0, 0.0, 0.0);
            for ((&a, s), h) in u.assets.iter().zip(&u.shares).zip(h0) {
                held += s * c.p_ref[a as usize];
                want += h * ratio * c.p_ref[a as usize];
                sale += (s - h * ratio) * p[a as usize];
            }
            let inside = held <= 0.0 || ((held - want) / held).abs() <= rule.band;
            tests.push(Test::VolTarget {
                vol_before: var_ref.sqrt(),
                vol: var.sqrt(),
                day_return: r,
                exposure0: *w0,
                exposure: vt::exposure(rule.target_vol, var.sqrt(), rule.max_leverage),
                ratio,
                band: rule.band,
                sale: if inside { 0.0 } else { sale },
            });
        }
        Rule::Trend(t) => {
            let crate::compile::TrendC {
                weights,
                markets,
                fixed,
                ..
            } = &**t;
            for (k, ((&a, held), (full, anchors))) in
                u.assets.iter().zip(&u.shares).zip(markets).enumerate()
            {
                let spot = p[a as usize];
                let signal = fixed.as_ref().map_or_else(
                    || crate::rules::trend::signal_at(weights, anchors, spot),
                    |f| f[k],
                );
                tests.push(Test::TrendSignal {
                    asset: AssetIx(a),
                    spot,
                    signal,
                    held: *held,
                    target: full * signal,
                });
            }
        }
        _ => {}
    }
}
