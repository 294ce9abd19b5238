//! Options dealers' delta hedging: the share flow of a dealer who keeps its option book
//! delta-neutral as prices move.
//!
//! A dealer holding option lines `i` (signed contracts `q_i`: positive when the dealer is
//! long, times the contract multiplier `M`, 100 shares for US equity options) hedges with
//! `h(S) = −Σ_i q_i·M·Δ_i(S)` shares, `Δ_i` the Black–Scholes delta of line `i` at spot
//! `S`. When the spot moves from `S_0` (where the hedge was set) to `S`, the dealer sells
//!
//! ```text
//! s(S) = h(S_0) − h(S) = Σ_i q_i·M·(Δ_i(S) − Δ_i(S_0))  ≈  Γ_book·(S − S_0)
//! ```
//!
//! shares, `Γ_book = Σ q_i·M·Γ_i` the book's gamma in shares per dollar. A dealer **short
//! gamma** (`Γ_book < 0`: it sold the options customers bought) sells into a fall and buys
//! into a rise, amplifying moves; a dealer **long gamma** buys into a fall, damping them —
//! and making the price map non-monotone (docs/model.md, section 10). The exact form (the
//! difference of deltas) is used for an option book; a book described only by its dollar
//! gamma per 1% move at spot (`GEX₁% = 0.01·M·S_0²·Σ q_i Γ_i`, the convention of
//! the `SqueezeMetrics` white paper, 2017) uses the linear form `s(S) = GEX₁%·(S − S_0)/(0.01·S_0²)`.

use delever_graph::{AssetIx, GammaLine, OptionRight};

use super::Decision;
use crate::compile::{Compiled, Rule, Unit};

/// One option line of a dealer's book on one asset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct OptionLine {
    /// A call (else a put).
    pub call: bool,
    /// Strike, USD.
    pub strike: f64,
    /// Years to expiry at the start of the run (> 0).
    pub expiry_years: f64,
    /// Implied volatility, annual (> 0).
    pub vol: f64,
    /// Shares the line stands for, signed: contracts × multiplier, positive when the dealer
    /// is long the options, negative when it is short them.
    pub shares: f64,
}

/// The standard normal distribution function, to double precision: Marsaglia's series
/// (Marsaglia 2004, "Evaluating the normal distribution", *J. Statistical Software*
/// 11(4)), `Φ(x) = ½ + φ(x)·(x + x³/3 + x⁵/(3·5) + …)`, exact to about 1e-15 for
/// |x| ≤ 8 and 0 or 1 beyond.
pub(crate) fn norm_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < -8.0 {
        return 0.0;
    }
    if x > 8.0 {
        return 1.0;
    }
    let q = x * x;
    let (mut sum, mut term, mut i) = (x, x, 1.0);
    loop {
        i += 2.0;
        term *= q / i;
        let next = sum + term;
        if next == sum {
            break;
        }
        sum = next;
    }
    // ln √(2π) = 0.918938533204672741780329736406.
    (0.5 + sum * (-0.5 * q - 0.918_938_533_204_672_8).exp()).clamp(0.0, 1.0)
}

/// Black–Scholes `d1` (no rates, no dividends: a day's hedge, not a price).
fn d1(spot: f64, strike: f64, years: f64, vol: f64) -> f64 {
    ((spot / strike).ln() + 0.5 * vol * vol * years) / (vol * years.sqrt())
}

/// A line's delta at `spot` with `years` to expiry: `N(d1)` for a call, `N(d1) − 1` for a
/// put; at or past expiry, the payoff's slope (1 or 0 for a call in or out of the money).
pub(crate) fn delta(line: &OptionLine, spot: f64, years: f64) -> f64 {
    let call = if years <= 0.0 {
        if spot > line.strike { 1.0 } else { 0.0 }
    } else {
        norm_cdf(d1(spot, line.strike, years, line.vol))
    };
    if line.call { call } else { call - 1.0 }
}

/// A line's gamma at `spot` (per share, per dollar of spot): `φ(d1)/(S·σ·√T)`.
pub(crate) fn gamma(line: &OptionLine, spot: f64, years: f64) -> f64 {
    if years <= 0.0 || spot <= 0.0 {
        return 0.0;
    }
    let d = d1(spot, line.strike, years, line.vol);
    let density = (-0.5 * d * d).exp() / (2.0 * std::f64::consts::PI).sqrt();
    density / (spot * line.vol * years.sqrt())
}

/// A line's Black–Scholes value per share at `spot` (no rates, no dividends); at or past
/// expiry, its payoff.
pub(crate) fn price(line: &OptionLine, spot: f64, years: f64) -> f64 {
    let call = if years <= 0.0 || spot <= 0.0 {
        (spot - line.strike).max(0.0)
    } else {
        let d1 = d1(spot, line.strike, years, line.vol);
        let d2 = d1 - line.vol * years.sqrt();
        spot * norm_cdf(d1) - line.strike * norm_cdf(d2)
    };
    // Put–call parity with no carry: P = C − S + K.
    if line.call {
        call
    } else {
        call - spot + line.strike
    }
}

/// The dealer's hedge, in shares, at `spot` with `elapsed` years gone since the start:
/// `−Σ q_i·Δ_i`.
#[cfg(test)]
pub(crate) fn hedge(lines: &[OptionLine], spot: f64, elapsed: f64) -> f64 {
    -lines
        .iter()
        .map(|l| l.shares * delta(l, spot, l.expiry_years - elapsed))
        .sum::<f64>()
}

/// The book's gamma in shares per dollar of spot, signed (negative: short gamma).
pub(crate) fn book_gamma(lines: &[OptionLine], spot: f64, elapsed: f64) -> f64 {
    lines
        .iter()
        .map(|l| l.shares * gamma(l, spot, l.expiry_years - elapsed))
        .sum()
}

/// Shares a dealer sells when spot goes from `from` to `to` (negative: it buys), its book
/// aged `elapsed` years: `h(from) − h(to)`.
#[cfg(test)]
pub(crate) fn hedge_sales(lines: &[OptionLine], from: f64, to: f64, elapsed: f64) -> f64 {
    hedge(lines, from, elapsed) - hedge(lines, to, elapsed)
}

/// The linear form for a book given by its dollar gamma per 1% move at `spot0`
/// (`gex_per_pct`, signed as the dealer's gamma): shares sold going from `from` to `to`.
#[cfg(test)]
pub(crate) fn gex_sales(gex_per_pct: f64, spot0: f64, from: f64, to: f64) -> f64 {
    gex_per_pct / (0.01 * spot0 * spot0) * (to - from)
}

/// Trading days in a year, for expiries given in days.
pub(crate) const YEAR: f64 = 252.0;

/// A dealer, compiled: its rule, positions (distinct assets, sorted), starting hedge and
/// what the hedge cost at the reference prices.
pub(crate) struct DealerC {
    pub rule: Rule<'static>,
    pub assets: Vec<u32>,
    pub hedge: Vec<f64>,
    pub financing: f64,
    pub long_gamma: bool,
}

/// Compile a dealer's lines (`lines[i]` is the asset of line `i`: options, then gamma).
pub(crate) fn compile(
    lines: &[AssetIx],
    options: &[delever_graph::OptionLine],
    gamma: &[GammaLine],
    p0: &[f64],
) -> DealerC {
    let mut assets: Vec<u32> = lines.iter().map(|a| a.0).collect();
    assets.sort_unstable();
    assets.dedup();
    let pos = |a: AssetIx| assets.binary_search(&a.0).map_or(0, |k| k as u32);
    let opts: Vec<(u32, OptionLine)> = options
        .iter()
        .zip(lines)
        .map(|(o, &a)| {
            (
                pos(a),
                OptionLine {
                    call: o.right == OptionRight::Call,
                    strike: o.strike,
                    expiry_years: o.expiry_days / YEAR,
                    vol: o.implied_vol,
                    shares: o.shares,
                },
            )
        })
        .collect();
    let lin: Vec<(u32, f64)> = gamma
        .iter()
        .zip(&lines[options.len().min(lines.len())..])
        .map(|(g, &a)| {
            let s0 = p0[a.get()];
            (pos(a), g.usd_per_pct / (0.01 * s0 * s0))
        })
        .collect();
    let mut hedge = vec![0.0; assets.len()];
    for (k, l) in &opts {
        hedge[*k as usize] -= l.shares * delta(l, p0[assets[*k as usize] as usize], l.expiry_years);
    }
    let financing = hedge
        .iter()
        .zip(&assets)
        .map(|(h, &a)| h * p0[a as usize])
        .sum();
    let long_gamma =
        (0..assets.len()).any(|k| long_somewhere(k as u32, &opts, &lin, p0[assets[k] as usize]));
    DealerC {
        rule: Rule::Dealer {
            options: opts,
            gamma: lin,
        },
        assets,
        hedge,
        financing,
        long_gamma,
    }
}

/// One dealer's book on one asset at the reference prices, as `describe` shows it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DealerHedge {
    /// The dealer.
    pub holder: delever_graph::HolderIx,
    /// The underlying.
    pub asset: AssetIx,
    /// Its delta hedge at the reference price, shares (`−Σ q·Δ(S0)`; the linear form
    /// holds none at the reference price).
    pub hedge_shares: f64,
    /// The hedge at the reference price, USD.
    pub hedge_usd: f64,
    /// Its dollar gamma per 1% move at the reference price, signed as the dealer's
    /// (negative: short gamma, sells into a fall): `0.01·S0²·Σ q·Γ(S0)` plus the linear
    /// lines' `usd_per_pct`.
    pub gamma_usd_per_pct: f64,
}

/// Every options dealer's hedge and gamma per underlying at the reference prices, in
/// holder then asset order.
pub fn dealer_hedges(net: &delever_graph::Network) -> Vec<DealerHedge> {
    let p0 = net.prices();
    let mut out = Vec::new();
    for (i, h) in net.holders().iter().enumerate() {
        let delever_graph::HolderKind::OptionsDealer {
            options,
            gamma: lines,
        } = &h.kind
        else {
            continue;
        };
        let hx = delever_graph::HolderIx(i as u32);
        let c = compile(net.lines(hx), options, lines, &p0);
        let Rule::Dealer {
            options,
            gamma: lin,
        } = &c.rule
        else {
            continue;
        };
        for (k, (&a, &shares)) in c.assets.iter().zip(&c.hedge).enumerate() {
            let s0 = p0[a as usize];
            let opt: f64 = options
                .iter()
                .filter(|(j, _)| *j as usize == k)
                .map(|(_, l)| l.shares * gamma(l, s0, l.expiry_years))
                .sum();
            let lin: f64 = lin
                .iter()
                .filter(|(j, _)| *j as usize == k)
                .map(|(_, g)| g)
                .sum();
            out.push(DealerHedge {
                holder: hx,
                asset: AssetIx(a),
                hedge_shares: shares,
                hedge_usd: shares * s0,
                gamma_usd_per_pct: 0.01 * s0 * s0 * (opt + lin),
            });
        }
    }
    out
}

/// Whether the book on position `k` has positive net gamma anywhere from the price floor
/// to twice the reference price (where a fall makes the dealer buy): 400 log-spaced
/// points, so a long strike between two points is not missed for any realistic
/// expiry and vol (gamma's width around a strike is about `K·σ·√T`).
fn long_somewhere(k: u32, opts: &[(u32, OptionLine)], lin: &[(u32, f64)], s0: f64) -> bool {
    let linear: f64 = lin.iter().filter(|(j, _)| *j == k).map(|(_, g)| g).sum();
    if linear > 0.0 && opts.iter().all(|(j, _)| *j != k) {
        return true;
    }
    let lo = (s0 * crate::shocks::PRICE_FLOOR).ln();
    let hi = (2.0 * s0).ln();
    (0..=400).any(|i| {
        let spot = (lo + (hi - lo) * f64::from(i) / 400.0).exp();
        let g: f64 = opts
            .iter()
            .filter(|(j, _)| *j == k)
            .map(|(_, l)| l.shares * gamma(l, spot, l.expiry_years))
            .sum::<f64>()
            + linear;
        g > 0.0
    })
}

/// The hedge a dealer wants on position `k` at `spot`: `−Σ q·Δ(S) − Γ_lin·(S − S₀)`.
fn target(k: u32, options: &[(u32, OptionLine)], gamma: &[(u32, f64)], spot: f64, s0: f64) -> f64 {
    let opts: f64 = options
        .iter()
        .filter(|(j, _)| *j == k)
        .map(|(_, l)| l.shares * delta(l, spot, l.expiry_years))
        .sum();
    let lin: f64 = gamma
        .iter()
        .filter(|(j, _)| *j == k)
        .map(|(_, g)| g * (spot - s0))
        .sum();
    -opts - lin
}

/// Re-hedge at `p`: sells `held − target(p)` shares per position (negative: buys).
/// The book is rolled (its expiries stay as given), so a dealer at its starting prices
/// does not trade.
pub(crate) fn rehedge(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    options: &[(u32, OptionLine)],
    gamma: &[(u32, f64)],
    out: &mut [f64],
) -> Decision {
    let mut sale = 0.0;
    for (k, &a) in u.assets.iter().enumerate() {
        let spot = p[a as usize];
        let want = target(k as u32, options, gamma, spot, c.p0[a as usize]);
        let x = u.shares[k] - want;
        out[k] += x;
        sale += x * spot;
    }
    Decision::trade(sale)
}

/// The option book's value change from the starting prices to `p`, USD: Black–Scholes
/// lines revalued, linear lines `½·Γ·(S − S₀)²`.
pub(crate) fn book_pnl(
    u: &Unit<'_>,
    c: &Compiled<'_>,
    p: &[f64],
    options: &[(u32, OptionLine)],
    gamma: &[(u32, f64)],
) -> f64 {
    let opts: f64 = options
        .iter()
        .map(|(k, l)| {
            let a = u.assets[*k as usize] as usize;
            l.shares * (price(l, p[a], l.expiry_years) - price(l, c.p0[a], l.expiry_years))
        })
        .sum();
    let lin: f64 = gamma
        .iter()
        .map(|(k, g)| {
            let a = u.assets[*k as usize] as usize;
            let d = p[a] - c.p0[a];
            0.5 * g * d * d
        })
        .sum();
    opts + lin
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
    }

    /// Hull's textbook example (Options, Futures and Other Derivatives, example 15.6):
    /// S = 42, K = 40, r = 10%, σ = 20%, T = 0.5 gives c = 4.76. With no rate the same
    /// call is worth less: d1 = (ln(42/40) + 0.01)/0.141421 = 0.415709, d2 = 0.274288,
    /// c = 42·Φ(d1) − 40·Φ(d2) = 42·0.661189 − 40·0.608068 = 3.4472; the put follows by
    /// parity, p = c − S + K = 1.4472.
    #[test]
    fn black_scholes_price_hand_worked() {
        let call = OptionLine {
            call: true,
            strike: 40.0,
            expiry_years: 0.5,
            vol: 0.2,
            shares: 1.0,
        };
        let c = price(&call, 42.0, 0.5);
        assert!((c - 3.447_19).abs() < 1e-5, "{c}");
        let put = OptionLine {
            call: false,
            ..call
        };
        assert!((price(&put, 42.0, 0.5) - (c - 2.0)).abs() < 1e-12);
        assert_eq!(price(&call, 45.0, 0.0), 5.0);
        assert_eq!(price(&put, 45.0, 0.0), 0.0);
    }

    #[test]
    fn normal_distribution_matches_published_values() {
        // Abramowitz & Stegun, table 26.1.
        for (x, want) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746_068_542_9),
            (-1.0, 0.158_655_253_931_457_05),
            (1.96, 0.975_002_104_851_780),
            (-3.0, 0.001_349_898_031_630_094_6),
        ] {
            assert!(
                (norm_cdf(x) - want).abs() < 1e-15,
                "Φ({x}) = {}",
                norm_cdf(x)
            );
        }
        assert_eq!(norm_cdf(-9.0), 0.0);
        assert_eq!(norm_cdf(9.0), 1.0);
    }

    /// An at-the-money call, S = K = 100, σ = 20%, T = 1: d1 = σ√T/2 = 0.1,
    /// Δ = Φ(0.1) = 0.539827837277029, Γ = φ(0.1)/(100·0.2) = 0.3969525/20 = 0.0198476.
    #[test]
    fn black_scholes_delta_and_gamma_hand_worked() {
        let call = OptionLine {
            call: true,
            strike: 100.0,
            expiry_years: 1.0,
            vol: 0.2,
            shares: 1.0,
        };
        assert!(close(
            delta(&call, 100.0, 1.0),
            0.539_827_837_277_029,
            1e-14
        ));
        assert!(close(gamma(&call, 100.0, 1.0), 0.019_847_627_374_46, 1e-11));
        let put = OptionLine {
            call: false,
            ..call
        };
        assert!(close(
            delta(&put, 100.0, 1.0),
            0.539_827_837_277_029 - 1.0,
            1e-14
        ));
        // At expiry the delta is the payoff's slope.
        assert_eq!(delta(&call, 101.0, 0.0), 1.0);
        assert_eq!(delta(&call, 99.0, 0.0), 0.0);
    }

    /// A dealer short 10,000 at-the-money one-month calls (1M shares): short gamma, it sells
    /// into a 1% fall about Γ·ΔS shares — exactly the difference of deltas — and buys into a
    /// rise. The linear (GEX) form agrees to first order.
    #[test]
    fn short_gamma_sells_into_a_fall() {
        let book = [OptionLine {
            call: true,
            strike: 180.0,
            expiry_years: 21.0 / 252.0,
            vol: 0.5,
            shares: -1.0e6,
        }];
        let down = hedge_sales(&book, 180.0, 178.2, 0.0);
        let up = hedge_sales(&book, 180.0, 181.8, 0.0);
        assert!(down > 0.0 && up < 0.0, "{down} {up}");
        let g = book_gamma(&book, 180.0, 0.0);
        assert!(g < 0.0);
        assert!(close(down, g * -1.8, 0.02), "{down} vs {}", g * -1.8);
        // GEX per 1% at spot, and the linear form's sale for the same 1% fall.
        let gex = 0.01 * 180.0 * 180.0 * g;
        assert!(close(gex_sales(gex, 180.0, 180.0, 178.2), g * -1.8, 1e-12));
        // Long gamma: the mirror image.
        let long = [OptionLine {
            shares: 1.0e6,
            ..book[0]
        }];
        assert!(close(hedge_sales(&long, 180.0, 178.2, 0.0), -down, 1e-12));
    }
}
