//! GLT's exact accounting (`EngineConfig::glt_exact`) against Greenwood, Landier & Thesmar
//! (2015), written out here independently of `glt::closed_form`: every bank's sales, every
//! asset's fire-sale return, each bank's systemicness and indirect vulnerability and the
//! aggregate vulnerability agree to 1e-12 relative on random systems, and `Σ S_n = AV`.

#![allow(clippy::needless_range_loop)] // indices follow the paper's subscripts

mod common;

use common::{close, hit, run_ledger};
use delever_engine::glt::GltInput;
use delever_engine::synth::{Rng, glt_network, glt_system};
use delever_engine::systemic::vulnerability;
use delever_engine::{EngineConfig, Shock, Status};

/// GLT's one round, from the paper's definitions, in plain loops:
/// `r_n = Σ_k m_nk F_k`, trades `T_n = b_n a_n r_n`, net trades `φ_k = Σ_n m_nk T_n`,
/// moves `ℓ_k φ_k`, system holdings `H_k = Σ_i a_i m_ik`, `AV = Σ_k H_k ℓ_k φ_k / E`,
/// `S_n = T_n Σ_k m_nk ℓ_k H_k / E`, `IV_n = a_n Σ_k m_nk ℓ_k φ_k / e_n`.
struct Paper {
    trades: Vec<f64>,
    moves: Vec<f64>,
    av: f64,
    s: Vec<f64>,
    iv: Vec<f64>,
}

fn paper(x: &GltInput) -> Paper {
    let (n, k) = x.weights.dim();
    let m = |i: usize, j: usize| x.weights[[i, j]];
    let trades: Vec<f64> = (0..n)
        .map(|i| {
            let b = (x.assets[i] - x.equity[i]) / x.equity[i];
            let r: f64 = (0..k).map(|j| m(i, j) * x.shock[j]).sum();
            b * x.assets[i] * r
        })
        .collect();
    let phi: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| m(i, j) * trades[i]).sum())
        .collect();
    let moves: Vec<f64> = (0..k).map(|j| x.impact[j] * phi[j]).collect();
    let held: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| x.assets[i] * m(i, j)).sum())
        .collect();
    let e: f64 = x.equity.iter().sum();
    let av = (0..k).map(|j| held[j] * moves[j]).sum::<f64>() / e;
    let s = (0..n)
        .map(|i| trades[i] * (0..k).map(|j| m(i, j) * x.impact[j] * held[j]).sum::<f64>() / e)
        .collect();
    let iv = (0..n)
        .map(|i| x.assets[i] * (0..k).map(|j| m(i, j) * moves[j]).sum::<f64>() / x.equity[i])
        .collect();
    Paper {
        trades,
        moves,
        av,
        s,
        iv,
    }
}

fn exact() -> EngineConfig {
    EngineConfig {
        max_rounds: 1,
        least_fixed_point: false,
        glt_exact: true,
        ..EngineConfig::default()
    }
}

fn shocks(x: &GltInput) -> Vec<Shock> {
    x.shock
        .iter()
        .enumerate()
        .map(|(k, f)| hit(k as u32, *f))
        .collect()
}

/// `a` equals `b` to `rel` of the larger of `|b|` and `scale` (the size of the vector it
/// belongs to, so an entry near zero is held to the vector's precision).
fn near(a: f64, b: f64, scale: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(scale)
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// 120 random GLT systems, 2–200 banks × 2–30 assets (leverage 5–30), every asset shocked
/// by −1% to −50%, prices between 5 and 500: the engine's one round in exact accounting is the paper's.
#[test]
fn exact_mode_is_the_closed_form_to_1e12() {
    let mut rng = Rng::new(2015);
    for case in 0..120u64 {
        let n = 2 + (rng.uniform() * 199.0) as usize;
        let k = 2 + (rng.uniform() * 29.0) as usize;
        let mut x = glt_system(n, k, 100 + case, 1.0);
        for f in &mut x.shock {
            *f = -(0.01 + 0.49 * rng.uniform());
        }
        // Impact of 0.5% per 100% of an asset's holdings sold: at leverage 30 and a 50%
        // shock banks sell up to 15× their holdings, and GLT's additive prices must stay
        // above zero (the engine floors a price at 1e-9·p0; GLT's algebra has no floor).
        x.impact.mapv_inplace(|l| 0.05 * l);
        let prices: Vec<f64> = (0..k).map(|_| 5.0 + 495.0 * rng.uniform()).collect();
        let net = glt_network(&x, &prices).expect("valid");
        let cfg = exact();
        let (o, ledger) = run_ledger(&net, &shocks(&x), &cfg);
        let want = paper(&x);
        let v = vulnerability(&net, &shocks(&x), &cfg, &o, &ledger).expect("banks");
        let tol = 1e-12;
        // Every bank's sale of every asset, in dollars at pre-shock prices: −T_n·m_nk.
        let scale_t = max_abs(&want.trades);
        for (i, h) in ledger.holders.iter().enumerate() {
            for pos in &h.positions {
                let j = pos.asset.get();
                let usd = pos.sold_shares * prices[j];
                let paper_usd = -want.trades[i] * x.weights[[i, j]];
                assert!(
                    near(usd, paper_usd, scale_t * 1e-3, tol),
                    "case {case} bank {i} asset {j}: {usd} vs {paper_usd}"
                );
            }
        }
        let scale_m = max_abs(&want.moves);
        for j in 0..k {
            assert!(
                near(v.fire_sale_returns[j], want.moves[j], scale_m, tol),
                "case {case} asset {j}: {} vs {}",
                v.fire_sale_returns[j],
                want.moves[j]
            );
            // The engine's prices are GLT's additive ones, `p0·(1 + F + ℓφ)`.
            let p = o.assets[j].price_after / prices[j];
            assert!(
                close(p, 1.0 + x.shock[j] + want.moves[j], 1e-13),
                "case {case}"
            );
        }
        // Signs: delever reports losses as positive, GLT with the shock's sign.
        assert!(
            close(v.aggregate, -want.av, tol),
            "case {case}: {} vs {}",
            v.aggregate,
            want.av
        );
        let (scale_s, scale_iv) = (max_abs(&want.s), max_abs(&want.iv));
        for i in 0..n {
            let h = &v.holders[i];
            assert!(
                near(h.systemicness, -want.s[i], scale_s, tol),
                "case {case} S_{i}"
            );
            let iv = h.indirect.expect("a bank");
            assert!(near(iv, -want.iv[i], scale_iv, tol), "case {case} IV_{i}");
        }
        let sum: f64 = v.holders.iter().map(|h| h.systemicness).sum();
        assert!(
            close(sum, v.aggregate, tol),
            "case {case}: Σ S = {sum}, AV = {}",
            v.aggregate
        );
        assert_eq!(v.exogenous, 0.0);
        // The same ΣS_n = AV identity holds for the paper's own numbers.
        assert!(close(want.s.iter().sum(), want.av, 1e-12));
    }
}

/// A bank the shock makes insolvent: GLT's linear algebra has no default, so the bank
/// trades `b·a·r` whatever its equity. At leverage 30 (`b = 29`), a 50% fall of its only
/// risky asset (half its assets) gives `r = −25%`, equity `e + a·r = a/30 − a/4 < 0`, and a
/// sale of `29·a·0.25 = 7.25·a` — more than it holds. Exact accounting does that (and flags
/// the bank insolvent); the engine's own accounting liquidates it.
#[test]
fn an_insolvent_bank_keeps_trading_as_glt_says() {
    let x = GltInput {
        assets: ndarray::array![30.0e9, 20.0e9],
        equity: ndarray::array![1.0e9, 4.0e9],
        weights: ndarray::array![[0.5, 0.5], [0.2, 0.8]],
        impact: ndarray::array![1e-13, 1e-13],
        shock: ndarray::array![-0.5, 0.0],
    };
    let net = glt_network(&x, &[100.0, 100.0]).expect("valid");
    let cfg = exact();
    let (o, ledger) = run_ledger(&net, &shocks(&x), &cfg);
    let sold: f64 = ledger.holders[0]
        .positions
        .iter()
        .map(|p| p.sold_shares * 100.0)
        .sum();
    // The sale of risky assets: T·(m_1 + m_2) with T = 29·30e9·0.25 and the weights
    // summing to 1 (no cash here).
    assert!(close(sold, 29.0 * 30.0e9 * 0.25, 1e-12), "{sold}");
    assert_eq!(o.holders[0].status, Status::Sold);
    let v = vulnerability(&net, &shocks(&x), &cfg, &o, &ledger).expect("banks");
    assert!(v.holders[0].insolvent && !v.holders[1].insolvent);
    let cascade = EngineConfig {
        glt_exact: false,
        ..cfg
    };
    let (c, _) = run_ledger(&net, &shocks(&x), &cascade);
    assert_eq!(c.holders[0].status, Status::Defaulted);
}

/// Exact accounting is refused outside GLT's setting: more than one round, another mode,
/// or a network that is not a GLT system.
#[test]
fn exact_mode_is_refused_outside_glt() {
    let x = glt_system(3, 2, 1, 0.1);
    let net = glt_network(&x, &[10.0, 20.0]).expect("valid");
    let two = EngineConfig {
        max_rounds: 2,
        ..exact()
    };
    let err = delever_engine::run(&net, &shocks(&x), &two).expect_err("refused");
    assert!(err.to_string().contains("max_rounds: 1"), "{err}");
    let margin = delever_engine::synth::textbook_margin(0.25).expect("valid");
    let err = delever_engine::run(&margin, &[hit(0, -0.1)], &exact()).expect_err("refused");
    assert!(err.to_string().contains("GLT system"), "{err}");
}
