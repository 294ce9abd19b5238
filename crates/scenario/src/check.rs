//! Evaluating a scenario's `expect:` block against a run's [`Outcome`] (`delever check`).

use delever_engine::{AssetOutcome, DayOutcome, HolderDay, HolderOutcome, Outcome, Status, Totals};

use crate::expect::{Bound, Expectations};

/// One expectation, evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    /// What was checked, as a path into the JSON report: `termination`,
    /// `totals.amplification`, `assets.NVDA.drawdown`, `holders.soxl.status`.
    pub what: String,
    /// The accepted values, in words (`in [1.5, 3]`, `≈ 1.2e11 (rel_tol 0.01)`, `sold`).
    pub expected: String,
    /// What the run found.
    pub actual: String,
    /// Whether it passed.
    pub passed: bool,
    /// The bound of a numeric expectation (`None` for statuses and the termination).
    pub bound: Option<Bound>,
    /// The number the run found (`None` for statuses, the termination, or a figure
    /// missing from the report).
    pub actual_value: Option<f64>,
}

impl CheckResult {
    /// The number `actual_value` is compared with: an `approx` or `equals` value; for a
    /// range, the edge the value lies beyond (`None` inside the range or for a one-sided
    /// range it satisfies).
    pub fn expected_value(&self) -> Option<f64> {
        match self.bound? {
            Bound::Approx { value, .. } | Bound::Equals(value) => Some(value),
            Bound::Range { min, max } => {
                let x = self.actual_value?;
                match (min, max) {
                    (Some(lo), _) if x < lo => Some(lo),
                    (_, Some(hi)) if x > hi => Some(hi),
                    _ => None,
                }
            }
        }
    }

    /// `actual − expected`, when both are numbers (0 inside a range).
    pub fn delta(&self) -> Option<f64> {
        let x = self.actual_value?;
        match (self.expected_value(), self.bound?) {
            (Some(e), _) => Some(x - e),
            (None, Bound::Range { .. }) if self.passed => Some(0.0),
            _ => None,
        }
    }

    /// `delta / |expected|`, when the expected number is not 0.
    pub fn rel_delta(&self) -> Option<f64> {
        let e = self.expected_value()?;
        (e != 0.0)
            .then(|| self.delta().map(|d| d / e.abs()))
            .flatten()
    }
}

fn total(t: &Totals, key: &str) -> Option<f64> {
    Some(match key {
        "initial_loss_usd" => t.initial_loss_usd,
        "total_loss_usd" => t.total_loss_usd,
        "amplification" => t.amplification,
        "forced_sales_usd" => t.forced_sales_usd,
        "exogenous_sales_usd" => t.exogenous_sales_usd,
        "defaults" => t.defaults as f64,
        "margin_calls" => t.margin_calls as f64,
        "lender_losses_usd" => t.lender_losses_usd,
        "cash_cures_usd" => t.cash_cures_usd,
        _ => return None,
    })
}

fn asset_field(a: &AssetOutcome, key: &str) -> Option<f64> {
    Some(match key {
        "price_shocked" => a.price_shocked,
        "price_after" => a.price_after,
        "drawdown" => a.drawdown,
        "forced_sales_shares" => a.forced_sales_shares,
        "forced_sales_usd" => a.forced_sales_usd,
        _ => return None,
    })
}

fn day_total(d: &DayOutcome, key: &str) -> Option<f64> {
    Some(match key {
        "sales_usd" => d.sales_usd,
        "exogenous_sales_usd" => d.exogenous_sales_usd,
        "price_index" => d.price_index,
        "new_calls" => d.new_calls as f64,
        "open_calls" => d.open_calls as f64,
        "liquidations" => d.liquidations as f64,
        "new_defaults" => d.new_defaults as f64,
        "lender_losses_usd" => d.lender_losses_usd.iter().sum(),
        _ => return None,
    })
}

/// One asset's figure on day `day` (`return` against the previous close, `drawdown`
/// against the pre-shock price).
fn day_asset(o: &Outcome, day: usize, k: usize, key: &str) -> Option<f64> {
    let a = o.days.get(day)?.assets.get(k)?;
    let p0 = o.assets.get(k)?.price_before;
    Some(match key {
        "open" => a.open,
        "close" => a.close,
        "fundamental" => a.fundamental,
        "return" => {
            let prev = match day.checked_sub(1) {
                Some(d) => o.days.get(d)?.assets.get(k)?.close,
                None => p0,
            };
            a.close / prev - 1.0
        }
        "drawdown" => a.close / p0 - 1.0,
        "permanent_impact" => a.permanent_impact,
        "transient_impact" => a.transient_impact,
        "sales_shares" => a.sales_shares,
        "sales_usd" => a.sales_usd,
        _ => return None,
    })
}

fn day_holder(h: &HolderDay, key: &str) -> Option<f64> {
    Some(match key {
        "sales_usd" => h.sales_usd,
        "equity" => h.equity,
        "lender_loss_usd" => h.lender_loss_usd,
        "open_calls" => h.open_calls as f64,
        _ => return None,
    })
}

fn holder_field(h: &HolderOutcome, key: &str) -> Option<f64> {
    Some(match key {
        "equity_before" => h.equity_before,
        "equity_shocked" => h.equity_shocked,
        "equity_after" => h.equity_after,
        "sales_usd" => h.sales_usd,
        "lender_loss_usd" => h.lender_loss_usd,
        "margin_calls" => h.margin_calls as f64,
        "defaults" => h.defaults as f64,
        _ => return None,
    })
}

/// A number the way a reader compares it with a bound: integers plainly, the rest with
/// enough digits to see a last-digit drift.
fn show(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.10e}")
    }
}

/// A status check: `actual` must be one of `accepted`.
fn statuses(what: String, accepted: &[Status], actual: Option<Status>) -> CheckResult {
    CheckResult {
        what,
        expected: accepted
            .iter()
            .map(|s| s.name())
            .collect::<Vec<_>>()
            .join(" | "),
        actual: actual.map_or("(missing)", |s| s.name()).into(),
        passed: actual.is_some_and(|s| accepted.contains(&s)),
        bound: None,
        actual_value: None,
    }
}

fn bounded(what: String, bound: &Bound, value: Option<f64>) -> CheckResult {
    match value {
        Some(x) => CheckResult {
            what,
            expected: bound.to_string(),
            actual: show(x),
            passed: bound.contains(x),
            bound: Some(*bound),
            actual_value: Some(x),
        },
        // The scenario crate validates keys when it loads the block, so this is only
        // reachable if the two lists drift apart; fail loudly rather than pass silently.
        None => CheckResult {
            what,
            expected: bound.to_string(),
            actual: "(no such figure in the report)".into(),
            passed: false,
            bound: Some(*bound),
            actual_value: None,
        },
    }
}

impl Expectations {
    /// Check every expectation against `outcome`, in the block's order: termination,
    /// totals, assets, holders.
    pub fn evaluate(&self, outcome: &Outcome) -> Vec<CheckResult> {
        let mut out = Vec::new();
        if let Some(t) = self.termination {
            out.push(CheckResult {
                what: "termination".into(),
                expected: t.name().into(),
                actual: outcome.termination.name().into(),
                passed: t == outcome.termination,
                bound: None,
                actual_value: None,
            });
        }
        for e in &self.totals {
            out.push(bounded(
                format!("totals.{}", e.key),
                &e.bound,
                total(&outcome.totals, e.key),
            ));
        }
        for a in &self.assets {
            let row = outcome.assets.get(a.asset.get());
            for e in &a.checks {
                out.push(bounded(
                    format!("assets.{}.{}", a.id, e.key),
                    &e.bound,
                    row.and_then(|r| asset_field(r, e.key)),
                ));
            }
        }
        for h in &self.holders {
            let row = outcome.holders.get(h.holder.get());
            if !h.status.is_empty() {
                out.push(statuses(
                    format!("holders.{}.status", h.id),
                    &h.status,
                    row.map(|r| r.status),
                ));
            }
            for e in &h.checks {
                out.push(bounded(
                    format!("holders.{}.{}", h.id, e.key),
                    &e.bound,
                    row.and_then(|r| holder_field(r, e.key)),
                ));
            }
        }
        for d in &self.days {
            let day = d.day as usize;
            let row = outcome.days.get(day);
            let at = format!("days.{}", d.day);
            for e in &d.totals {
                out.push(bounded(
                    format!("{at}.{}", e.key),
                    &e.bound,
                    row.and_then(|r| day_total(r, e.key)),
                ));
            }
            for a in &d.assets {
                for e in &a.checks {
                    out.push(bounded(
                        format!("{at}.assets.{}.{}", a.id, e.key),
                        &e.bound,
                        day_asset(outcome, day, a.asset.get(), e.key),
                    ));
                }
            }
            for h in &d.holders {
                let hrow = row.and_then(|r| r.holders.get(h.holder.get()));
                if !h.status.is_empty() {
                    out.push(statuses(
                        format!("{at}.holders.{}.status", h.id),
                        &h.status,
                        hrow.map(|r| r.status),
                    ));
                }
                for e in &h.checks {
                    out.push(bounded(
                        format!("{at}.holders.{}.{}", h.id, e.key),
                        &e.bound,
                        hrow.and_then(|r| day_holder(r, e.key)),
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use crate::Scenario;

    const YAML: &str = r"
name: check-demo
description: One margin account at 50% LTV, hit by 40%.
as_of: 2026-01-01
sources: [{ id: s, title: hand-worked }]
assets:
  - { id: X, price: 100, shares_outstanding: 1.0e9, adv_usd: 1.0e9, daily_vol: 0.02, impact: { law: linear, per_usd: 0 } }
lenders:
  - { id: broker, capital: 1.0e6 }
holders:
  - id: acct
    kind: margin_account
    holdings: [{ asset: X, shares: 100 }]
    margin: { lender: broker, loan: 5000, maintenance: 0.25 }
shocks:
  - { type: asset, asset: X, return: -0.40 }
expect:
  termination: converged
  totals:
    initial_loss_usd: { equals: 4000 }
    margin_calls: { min: 1 }
    amplification: { max: 0.5 }
  assets:
    X: { drawdown: { approx: -0.4, rel_tol: 1.0e-9 } }
  holders:
    acct: { status: [margin_call, defaulted], sales_usd: { min: 1 } }
";

    #[test]
    fn passing_and_failing_expectations_are_told_apart() {
        let s = Scenario::from_yaml(YAML, "check-demo.yaml", None).expect("valid");
        let out = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
        let results = s.expect.as_ref().expect("expect block").evaluate(&out);
        let by = |w: &str| {
            results
                .iter()
                .find(|r| r.what == w)
                .unwrap_or_else(|| panic!("no result for {w}: {results:#?}"))
        };
        assert!(by("termination").passed);
        assert!(by("totals.initial_loss_usd").passed, "{results:#?}");
        assert!(by("totals.margin_calls").passed);
        // No impact: the loss is the shock's alone, amplification 1 > 0.5.
        let amp = by("totals.amplification");
        assert!(!amp.passed);
        assert_eq!(amp.expected, "≤ 0.5");
        assert_eq!(amp.actual, "1");
        assert_eq!(amp.actual_value, Some(1.0));
        assert_eq!(amp.expected_value(), Some(0.5));
        assert_eq!(amp.delta(), Some(0.5));
        assert_eq!(amp.rel_delta(), Some(1.0));
        let calls = by("totals.margin_calls");
        assert_eq!((calls.expected_value(), calls.delta()), (None, Some(0.0)));
        let init = by("totals.initial_loss_usd");
        assert_eq!(
            (init.expected_value(), init.delta()),
            (Some(4000.0), Some(0.0))
        );
        assert_eq!(by("termination").delta(), None);
        assert!(by("assets.X.drawdown").passed);
        // V = 6000, D = 5000: E = 1000 < 0.25 × 6000 → called, sells.
        assert!(by("holders.acct.status").passed);
        assert!(by("holders.acct.sales_usd").passed);
        assert_eq!(results.len(), 7);
    }
}
