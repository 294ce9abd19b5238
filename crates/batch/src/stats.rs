//! Distribution summaries: quantiles, value at risk, expected shortfall.
//!
//! Definitions (stated because risk teams compare them with their own):
//! - the p-quantile is Hyndman & Fan's type 7 (R's and NumPy's default): with the `n`
//!   values sorted, `h = (n − 1)·p` and `q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`;
//! - VaR at level α is the α-quantile of the loss (losses positive);
//! - ES at level α is the mean of the worst `k = ⌈(1 − α)·n⌉` losses (at least one): the
//!   tail average a sample of `n` draws can support, without interpolation.
//!
//! Sums run in index order, never in parallel, so a summary is bit-identical however the
//! draws were computed.

use delever_report::batch::Distribution;

/// Quantile levels every summary reports.
pub const QUANTILES: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];
/// Levels of value at risk and expected shortfall.
pub const TAIL_LEVELS: [f64; 3] = [0.95, 0.99, 0.999];

/// The type-7 `p`-quantile of `sorted` (ascending, non-empty, no NaN).
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 1 {
        return sorted[0];
    }
    let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Mean of the worst `⌈(1 − α)·n⌉` values of `sorted` (ascending, non-empty).
pub fn expected_shortfall(sorted: &[f64], alpha: f64) -> f64 {
    let n = sorted.len();
    // The product can land a hair above an integer ((1 − 0.99)·100 = 1.0000000000000009):
    // round it to 1e-9 before taking the ceiling.
    let tail = ((1.0 - alpha) * n as f64 * 1e9).round() / 1e9;
    let k = (tail.ceil() as usize).clamp(1, n);
    let worst = &sorted[n - k..];
    worst.iter().sum::<f64>() / k as f64
}

/// Summarise `values` (in draw order) as the distribution of `metric`. Non-finite values
/// are left out (the engine never produces them; this keeps a summary from turning to
/// NaN if one did). `None` when no finite value is left.
pub fn summarize(metric: &str, values: &[f64]) -> Option<Distribution> {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let std = if sorted.len() > 1 {
        (sorted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    sorted.sort_by(f64::total_cmp);
    Some(Distribution {
        metric: metric.to_owned(),
        mean,
        std,
        min: sorted[0],
        max: sorted[sorted.len() - 1],
        quantiles: QUANTILES
            .iter()
            .map(|&p| (p, quantile(&sorted, p)))
            .collect(),
        var: TAIL_LEVELS
            .iter()
            .map(|&a| (a, quantile(&sorted, a)))
            .collect(),
        es: TAIL_LEVELS
            .iter()
            .map(|&a| (a, expected_shortfall(&sorted, a)))
            .collect(),
    })
}

#[cfg(test)]
// A test that unwraps fails with the line that broke, which is all a message would say.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn type7_quantiles_by_hand() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&x, 0.5), 3.0);
        // h = 4·0.9 = 3.6 → 4 + 0.6·(5 − 4)
        assert!((quantile(&x, 0.9) - 4.6).abs() < 1e-12);
        assert_eq!(quantile(&x, 0.0), 1.0);
        assert_eq!(quantile(&x, 1.0), 5.0);
        // NumPy: np.quantile([10, 20, 40], 0.25) = 15
        assert_eq!(quantile(&[10.0, 20.0, 40.0], 0.25), 15.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn expected_shortfall_by_hand() {
        let x: Vec<f64> = (1..=100).map(f64::from).collect();
        // worst 5 of 1..=100: (96+97+98+99+100)/5 = 98
        assert_eq!(expected_shortfall(&x, 0.95), 98.0);
        // worst 1: 100 (⌈0.01·100⌉ = 1 despite 1 − 0.99 rounding)
        assert_eq!(expected_shortfall(&x, 0.99), 100.0);
        // fewer draws than the tail needs: the worst one
        assert_eq!(expected_shortfall(&x, 0.999), 100.0);
        // ⌈0.05·10⌉ = 1
        assert_eq!(expected_shortfall(&x[..10], 0.95), 10.0);
    }

    #[test]
    fn summary_by_hand() {
        let d = summarize("loss", &[4.0, 1.0, 3.0, 2.0]).unwrap();
        assert_eq!(d.mean, 2.5);
        // sample variance: (2.25+0.25+0.25+2.25)/3 = 5/3
        assert!((d.std - (5.0_f64 / 3.0).sqrt()).abs() < 1e-15);
        assert_eq!((d.min, d.max), (1.0, 4.0));
        assert_eq!(d.quantiles[3], (0.5, 2.5));
        assert!(summarize("x", &[f64::NAN]).is_none());
        assert_eq!(summarize("x", &[f64::NAN, 2.0]).unwrap().mean, 2.0);
    }

    #[test]
    fn es_is_at_least_var() {
        let x: Vec<f64> = (0..1000).map(|i| f64::from(i).powf(1.7)).collect();
        let d = summarize("x", &x).unwrap();
        for ((a, v), (b, e)) in d.var.iter().zip(&d.es) {
            assert_eq!(a, b);
            assert!(e >= v, "ES {e} < VaR {v} at {a}");
        }
    }
}
