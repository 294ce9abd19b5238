//! The sequential mode's two settlement timings (`engine.settlement`): proceeds repaying
//! debt at settlement (the default) and INET Oxford's `at_next_decision`, where a bank
//! holds its proceeds as cash, counted in its total assets, until its next decision.
//! Hand-worked two-bank cases where the timings differ, zero and growing shocks, thread
//! counts, and the located refusals of the scenario format.

// The hand-worked numbers in the comments use the papers' notation.
#![allow(clippy::doc_markdown)]

use delever_engine::{Outcome, Settlement, Status, Termination};
use delever_scenario::Scenario;

use crate::util::{delever, root, scratch};

/// Bank S: 100 X, liabilities 90 (E = 10, A/E = 10), threshold rule acting above 12 and
/// back to 8, keeping its cash (`never`, and it has none), insolvent below `d`. Bank P:
/// 100 X, liabilities 50, passive. X at 1 with linear impact 1e-4 per dollar sold, shocked
/// by `ret`.
fn two_banks(d: Option<f64>, settlement: &str, ret: f64) -> String {
    let default_below = d.map_or(String::new(), |d| format!(", default_below_ratio: {d}"));
    format!(
        r"name: inet-two-banks
description: a hand-worked case
as_of: 2026-05-29
assets:
  - {{ id: X, price: 1.0, shares_outstanding: 1.0e4, impact: {{ law: linear, per_usd: 1.0e-4 }} }}
holders:
  - {{ id: S, kind: bank, other_liabilities: 90.0, cash_use: never, holdings: [{{ asset: X, shares: 100.0 }}], rule: {{ type: threshold, max: 12, target: 8 }}{default_below} }}
  - {{ id: P, kind: bank, other_liabilities: 50.0, holdings: [{{ asset: X, shares: 100.0 }}], rule: {{ type: passive }} }}
shocks:
  - {{ type: asset, asset: X, return: {ret} }}
engine: {{ mode: sequential, settlement: {settlement} }}
"
    )
}

fn run(text: &str) -> (Scenario, Outcome) {
    let s = Scenario::from_yaml(text, "<test>", None).unwrap_or_else(|e| panic!("{e}"));
    let o = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
    (s, o)
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs()).max(1e-300)
}

/// Round 1 is the same in both timings. At p_s = 0.95, S has A = 95, E = 5 (E/A = 5.26%,
/// above d = 5%), A/E = 19 > 12: it cuts R = A − 8E = 55 and sells 55/0.95 = 57.894737 X.
/// Cleared: p_1 = 0.95·(1 − 1e-4·57.894737) = 0.9445; settled at the midpoint 0.94725:
/// proceeds 57.894737 × 0.94725 = 54.840789.
///
/// At settlement: the proceeds repay debt (liabilities 35.159211). Round 2 at 0.9445: S
/// holds 42.105263 X worth 39.768421, E = 4.609211, E/A = 11.6% (solvent), A/E = 8.63 < 12:
/// nothing. Converged after 2 rounds at 0.9445, no default.
///
/// At the next decision: the proceeds are held as cash, liabilities stay 90. Round 2 at
/// 0.9445: A = 39.768421 + 54.840789 = 94.609211, E = 4.609211 (the same equity), but
/// E/A = 4.87% < 5%: S is insolvent and sells its 42.105263 X. p_2 = 0.95·(1 − 1e-4·100)
/// = 0.9405, midpoint 0.9425, proceeds 39.684211; S pays all it has, 94.525, towards its
/// 90 of debt and keeps 4.525. Round 3 is quiet: 3 rounds, one default, P's equity
/// 100 × 0.9405 − 50 = 44.05 instead of 44.45.
#[test]
fn holding_the_proceeds_fails_a_bank_that_repaying_saves() {
    let (_, now) = run(&two_banks(Some(0.05), "at_settlement", -0.05));
    assert_eq!(now.termination, Termination::Converged);
    assert_eq!(now.rounds, 2);
    assert_eq!(now.totals.defaults, 0);
    assert!(close(now.assets[0].price_after, 0.9445, 1e-12));
    assert!(close(
        now.holders[0].equity_after,
        4.609_210_526_315_8,
        1e-11
    ));
    assert_eq!(now.holders[0].status, Status::Sold);
    assert!(close(now.holders[1].equity_after, 44.45, 1e-12));

    let (s, inet) = run(&two_banks(Some(0.05), "at_next_decision", -0.05));
    assert_eq!(s.engine.settlement, Settlement::AtNextDecision);
    assert_eq!(inet.termination, Termination::Converged);
    assert_eq!(inet.rounds, 3);
    assert_eq!(inet.totals.defaults, 1);
    assert_eq!(inet.holders[0].status, Status::Defaulted);
    assert!(close(inet.assets[0].price_after, 0.9405, 1e-12));
    assert!(close(inet.assets[0].forced_sales_shares, 100.0, 1e-12));
    let sold1 = 55.0 / 0.95;
    assert!(close(
        inet.holders[0].sales_usd,
        sold1 * 0.94725 + (100.0 - sold1) * 0.9425,
        1e-12
    ));
    assert!(close(inet.holders[0].equity_after, 4.525, 1e-10));
    assert!(close(inet.holders[1].equity_after, 44.05, 1e-12));
}

/// Without an insolvency ratio the same bank does not fail, but at the next decision it
/// is still over its buffer: round 2 at 0.9445 sees A = 94.609211, E = 4.609211,
/// A/E = 20.5 > 12, a cut R = A − 8E = 57.735526. The held proceeds pay 54.840789 of it
/// and S sells the rest, 2.894737 (3.064835 X at 0.9445), where settling at once left it
/// at A/E = 8.63 and done. Planned sales: 55 + 2.894737 against 55.
#[test]
fn a_bank_over_its_buffer_repays_from_held_proceeds_then_sells_the_rest() {
    let (_, now) = run(&two_banks(None, "at_settlement", -0.05));
    let (_, inet) = run(&two_banks(None, "at_next_decision", -0.05));
    assert_eq!(now.totals.defaults, 0);
    assert_eq!(inet.totals.defaults, 0);
    let sold1 = 55.0 / 0.95;
    assert!(close(now.assets[0].forced_sales_shares, sold1, 1e-12));
    let p1 = 0.9445;
    let held = sold1 * 0.94725;
    let a2 = (100.0 - sold1) * p1 + held;
    let e2 = a2 - 90.0;
    let rest = (a2 - 8.0 * e2) - held;
    assert!(close(rest, 2.894_736_842_105, 1e-9), "{rest}");
    assert!(close(
        inet.assets[0].forced_sales_shares,
        sold1 + rest / p1,
        1e-12
    ));
    assert!(inet.assets[0].price_after < now.assets[0].price_after);
}

/// A zero shock sells nothing in either timing (both banks start inside their buffers).
#[test]
fn zero_shock_sells_nothing_in_both_timings() {
    for timing in ["at_settlement", "at_next_decision"] {
        let (_, o) = run(&two_banks(Some(0.05), timing, 0.0));
        assert_eq!(o.totals.forced_sales_usd, 0.0, "{timing}");
        assert_eq!(o.assets[0].price_after, 1.0, "{timing}");
        assert_eq!(o.totals.defaults, 0, "{timing}");
        assert_eq!(o.rounds, 1, "{timing}");
    }
}

/// The two banks with X shocked by 0 to 60% (in 2.5% steps): in both timings a bigger shock
/// never sells less and never fails fewer banks, and the next decision never fails fewer
/// than settlement.
#[test]
fn bigger_shocks_never_sell_less_in_either_timing() {
    let mut last = [(f64::NEG_INFINITY, 0u64); 2];
    for step in 0..=24 {
        let ret = -0.025 * f64::from(step);
        let mut defaults = [0u64; 2];
        for (k, timing) in ["at_settlement", "at_next_decision"]
            .into_iter()
            .enumerate()
        {
            let (_, o) = run(&two_banks(Some(0.05), timing, ret));
            let sold = o.assets[0].forced_sales_shares;
            assert!(
                sold >= last[k].0,
                "{timing} at {ret}: {sold} < {}",
                last[k].0
            );
            assert!(o.totals.defaults >= last[k].1, "{timing} at {ret}");
            last[k] = (sold, o.totals.defaults);
            defaults[k] = o.totals.defaults;
        }
        assert!(defaults[1] >= defaults[0], "{ret}: {defaults:?}");
    }
}

/// Not a law of the rounds in general: on the EBA 2018 banks (1% impact), settling at once,
/// a 30% shock to government bonds sells fewer bonds in all than a 27.5% one (2.1335e12
/// against 2.1357e12): who fails in which round, and so at what prices the others decide,
/// depends on the path (docs/model.md section 8).
#[test]
fn on_the_eba_banks_a_bigger_shock_can_sell_less_in_rounds() {
    let base = Scenario::load(&root().join("scenarios/eba-2018-leverage.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let sold = |ret: f64| {
        let shocks = [delever_engine::Shock::AssetReturn {
            asset: delever_graph::AssetIx(0),
            ret,
        }];
        let o = delever_engine::run(&base.network, &shocks, &base.engine).expect("runs");
        o.assets.iter().map(|a| a.forced_sales_shares).sum::<f64>()
    };
    let (a, b) = (sold(-0.275), sold(-0.30));
    assert!(close(a, 2.135_718_192_531e12, 1e-9), "{a}");
    assert!(close(b, 2.133_527_977_938e12, 1e-9), "{b}");
    assert!(b < a);
}

/// Both timings give the same bytes at 1 and 4 threads (the EBA banks, 30% shock).
#[test]
fn inet_timing_is_identical_at_one_and_four_threads() {
    let s = Scenario::load(&root().join("scenarios/eba-2018-leverage.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let all = s.expand().unwrap_or_else(|e| panic!("{e}"));
    for name in ["gov-30pct-impact1-inet", "gov-10pct-impact5-inet"] {
        let v = all
            .iter()
            .find(|v| v.name.ends_with(&format!("@{name}")))
            .expect("the variant");
        let run_in = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool");
            pool.install(|| {
                let o = delever_engine::run(&v.network, &v.shocks, &v.engine).expect("runs");
                format!("{o:?}")
            })
        };
        assert_eq!(run_in(1), run_in(4), "{name}");
    }
}

/// A bad value and the key outside the sequential mode are refused with the file, line,
/// column and field path, exit code 2 and nothing written.
#[test]
fn settlement_is_refused_located_when_bad_or_outside_the_rounds() {
    let dir = scratch("inet-timing-errors");
    let good = two_banks(None, "at_next_decision", -0.05);
    let cases = [
        (
            "bad-value",
            good.replace("settlement: at_next_decision", "settlement: next_round"),
            "engine.settlement",
        ),
        (
            "equilibrium",
            good.replace("mode: sequential", "mode: equilibrium"),
            "needs `mode: sequential`",
        ),
        (
            "timeline",
            good.replace("mode: sequential", "mode: timeline, days: 2"),
            "but the mode is `timeline`",
        ),
    ];
    for (name, text, want) in cases {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text).expect("write");
        let out = dir.join(format!("{name}.json"));
        let r = delever([
            "run".as_ref(),
            path.as_os_str(),
            "--format".as_ref(),
            "json".as_ref(),
            "--output".as_ref(),
            out.as_os_str(),
        ]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains(":11:"),
            "{name}: located at line 11: {}",
            r.stderr
        );
        assert!(!out.exists(), "{name}: nothing written");
    }
    // A variant that switches an INET-timed base to the equilibrium is refused at it.
    let text = format!("{good}variants:\n  - {{ name: eq, engine: {{ mode: equilibrium }} }}\n");
    let e = Scenario::from_yaml(&text, "<test>", None).expect_err("refused");
    let msg = e.to_string();
    assert!(msg.contains("variants[0].engine"), "{msg}");
    assert!(msg.contains("needs `mode: sequential`"), "{msg}");
}

// ------------------------------------------------- a wiped-out leveraged ETF holds nothing

/// Assets A and B at 100 with linear impact `per_usd`; a 3× fund with NAV 1e8 on the basket
/// A `wa`, B `1 − wa`; A shocked by `ret`; engine in `mode`.
fn uneven_etf(per_usd: f64, wa: f64, ret: f64, mode: &str) -> String {
    format!(
        r"name: etf-uneven
description: a hand-worked case
as_of: 2026-05-29
assets:
  - {{ id: A, price: 100.0, shares_outstanding: 1.0e8, impact: {{ law: linear, per_usd: {per_usd} }} }}
  - {{ id: B, price: 100.0, shares_outstanding: 1.0e8, impact: {{ law: linear, per_usd: {per_usd} }} }}
holders:
  - {{ id: etf, kind: leveraged_etf, multiple: 3, nav: 1.0e8, basket: {{ A: {wa}, B: {wb} }} }}
shocks:
  - {{ type: asset, asset: A, return: {ret} }}
engine: {{ mode: {mode} }}
",
        wb = 1.0 - wa
    )
}

/// A 3× fund, NAV 1e8, half in A and half in B (synthetic positions 3e8·0.5/100 = 1.5e6
/// shares of each). A falls 80%, B not at all: r = 0.5 × (−0.8) = −0.4 < −1/3, so NAV is
/// 1e8·(1 − 1.2) < 0 and the fund is wiped out. It sells all 1.5e6 of each. (The formula's
/// dollar trade at the bound, (L − 1)·N0 = 2e8 spread by weight, would sell 1e8/20 = 5e6
/// A — capped at 1.5e6 — but only 1e8/100 = 1e6 B, keeping a third of its B exposure.)
#[test]
fn wiped_out_bull_etf_on_an_uneven_basket_holds_nothing() {
    let (_, o) = run(&uneven_etf(1e-18, 0.5, -0.8, "equilibrium"));
    assert_eq!(o.holders[0].status, Status::Defaulted);
    assert!(close(o.assets[0].forced_sales_shares, 1.5e6, 1e-12));
    assert!(close(o.assets[1].forced_sales_shares, 1.5e6, 1e-12));
    // The sequential mode agrees: it sells the whole exposure in its first round.
    let (_, s) = run(&uneven_etf(1e-18, 0.5, -0.8, "sequential"));
    assert_eq!(s.holders[0].status, Status::Defaulted);
    assert!(close(s.assets[1].forced_sales_shares, 1.5e6, 1e-12));
    // Just short of the wipe-out (A −66%: r = −0.33) it sells (L² − L)·|r|·N0 = 1.98e8 by
    // weight: 9.9e7/34 = 2,911,765 A, capped at 1.5e6, and 9.9e7/100 = 990,000 B.
    let (_, n) = run(&uneven_etf(1e-18, 0.5, -0.66, "equilibrium"));
    assert_eq!(n.holders[0].status, Status::Sold);
    assert!(close(n.assets[0].forced_sales_shares, 1.5e6, 1e-12));
    assert!(close(n.assets[1].forced_sales_shares, 990_000.0, 1e-9));
}

/// Section 8's claim for a bull fund on an uneven basket around its wipe-out (linear
/// impact 1e-10 per dollar). Wherever the fixed point wipes the fund out, the rounds wipe it
/// out too, in round 1, and both sell the whole position: the same prices (before the fix
/// the fixed point kept a third of the B exposure at w_A = 0.5, A −75%, and ended at
/// B = 99.0 against the rounds' 98.5). Where it is not wiped out, the rounds never end
/// below the greatest fixed point, except (the exception documented in section 8) once
/// the fund's whole A position is sold while its NAV is still positive: every later round
/// re-targets its whole exposure `L × NAV` onto B, which the fixed point's single
/// rebalance by weight does not. At w_A = 0.5, A −55%, the rounds end at B = 98.989
/// against 99.146.
#[test]
fn sequential_and_the_greatest_fixed_point_for_a_bull_etf_on_an_uneven_basket() {
    let mut exceptions = 0;
    for wa in [0.3, 0.5, 0.8, 0.95] {
        for step in 1..=19 {
            let ret = -0.05 * f64::from(step) + 0.001;
            let (_, e) = run(&uneven_etf(1e-10, wa, ret, "equilibrium"));
            let (_, s) = run(&uneven_etf(1e-10, wa, ret, "sequential"));
            let below =
                (0..2).any(|k| s.assets[k].price_after < e.assets[k].price_after * (1.0 - 1e-9));
            if e.holders[0].status == Status::Defaulted {
                assert_eq!(s.holders[0].status, Status::Defaulted, "w_A {wa}, A {ret}");
                for k in 0..2 {
                    assert!(
                        close(s.assets[k].price_after, e.assets[k].price_after, 1e-12),
                        "w_A {wa}, A {ret}: asset {k}"
                    );
                }
                continue;
            }
            let a_sold_out = close(e.assets[0].forced_sales_shares, 3.0e8 * wa / 100.0, 1e-12);
            assert!(
                !below || a_sold_out,
                "w_A {wa}, A {ret}: below without the exception"
            );
            exceptions += usize::from(below);
        }
    }
    assert!(
        exceptions > 0,
        "the documented exception shows on this grid"
    );
    let (_, e) = run(&uneven_etf(1e-10, 0.5, -0.549, "equilibrium"));
    let (_, s) = run(&uneven_etf(1e-10, 0.5, -0.549, "sequential"));
    assert_eq!(s.holders[0].status, Status::Sold);
    assert!(close(e.assets[1].price_after, 99.146_3, 1e-5));
    assert!(close(s.assets[1].price_after, 98.989_1, 1e-5));
}

/// An inverse fund never buys back more than its short. A −3× fund, NAV 1e8, half in A and
/// half in B (short 1.5e6 of each); A rises 60%, so r = 0.3 < 1/3: not wiped out. It buys
/// (L² − L)·r·N0 = 3.6e8, by weight 1.8e8 each: 1.8e8/160 = 1.125e6 A, but 1.8e8/100 =
/// 1.8e6 B would turn it long B; it covers the 1.5e6 short and stops (before the cap the
/// fund bought 1.8e6). The wiped-out fund's trade, covering everything, stays the largest.
#[test]
fn an_inverse_etf_never_buys_back_more_than_its_short() {
    let text = uneven_etf(1e-18, 0.5, 0.6, "equilibrium").replace("multiple: 3", "multiple: -3");
    let (_, o) = run(&text);
    assert_eq!(o.holders[0].status, Status::Bought);
    assert!(close(o.assets[0].forced_sales_shares, -1.125e6, 1e-9));
    assert!(close(o.assets[1].forced_sales_shares, -1.5e6, 1e-9));
}

/// A margin loan is repaid at settlement in both timings (a broker nets a sale against the
/// debit balance): a leveraged fund financed only by its prime broker (100 X on a loan of
/// 80, leverage target 5.5, X −5%: A/E = 95/15 = 6.33, it sells 12.5 and more as X falls)
/// runs exactly the same rounds either way.
#[test]
fn a_margin_loan_is_repaid_at_settlement_in_both_timings() {
    let text = |timing: &str| {
        format!(
            r"name: inet-margin
description: a hand-worked case
as_of: 2026-05-29
assets:
  - {{ id: X, price: 1.0, shares_outstanding: 1.0e4, impact: {{ law: linear, per_usd: 1.0e-3 }} }}
lenders:
  - {{ id: pb, capital: 1.0e3 }}
holders:
  - {{ id: F, kind: leveraged_fund, holdings: [{{ asset: X, shares: 100.0 }}], margin: {{ lender: pb, loan: 80.0, maintenance: 0.1, reset: 0.1 }}, rule: {{ type: leverage_target, target: 5.5 }} }}
shocks:
  - {{ type: asset, asset: X, return: -0.05 }}
engine: {{ mode: sequential, settlement: {timing} }}
"
        )
    };
    let (_, now) = run(&text("at_settlement"));
    let (_, inet) = run(&text("at_next_decision"));
    assert!(now.totals.forced_sales_usd > 12.0, "{:?}", now.totals);
    assert!(now.rounds > 2);
    assert_eq!(format!("{now:?}"), format!("{inet:?}"));
}
