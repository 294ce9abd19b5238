//! Leveraged ETF shares held by margin accounts and cohorts: priced at NAV per share, with
//! FINRA's multiple-times-maintenance rule (Rule 4210 as read in Regulatory Notice 09-53),
//! and holders' forced sales redeemed by the fund. Hand-worked numbers, conservation of
//! shares, determinism, and the located errors of bad input.

use delever_engine::{EngineConfig, Outcome, Status};
use delever_scenario::Scenario;

use crate::util::{delever, scratch};

const FIXTURE: &str = "tests/fixtures/etf_shares/retail-soxl.yaml";

/// A scenario with one asset `X` at $100 with next to no impact, a leveraged ETF `etf`
/// (NAV $1bn, 1e8 shares: $10 a share) of `multiple` on it, and the holders given (YAML
/// list items), X shocked by `ret`.
fn scenario(multiple: f64, holders: &str, ret: f64) -> String {
    format!(
        r"name: etf-shares-case
description: a hand-worked case
as_of: 2026-05-29
assets:
  - {{ id: X, price: 100.0, shares_outstanding: 1.0e10, adv_usd: 1.0e10, daily_vol: 0.02, impact: {{ law: linear, per_usd: 1.0e-18 }} }}
lenders:
  - {{ id: broker, capital: 1.0e12 }}
holders:
  - {{ id: etf, kind: leveraged_etf, multiple: {multiple}, nav: 1.0e9, shares_outstanding: 1.0e8, basket: {{ X: 1.0 }} }}
{holders}
shocks:
  - {{ type: asset, asset: X, return: {ret} }}
"
    )
}

fn run(text: &str) -> (Scenario, Outcome) {
    let s = Scenario::from_yaml(text, "<test>", None).expect("valid scenario");
    let o = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
    (s, o)
}

fn holder<'o>(s: &Scenario, o: &'o Outcome, id: &str) -> &'o delever_engine::HolderOutcome {
    let h = s.network.find_holder(id).expect("holder exists");
    &o.holders[h.get()]
}

/// One margin account with `loan` against 1e5 shares of the fund ($1m at $10).
fn account(loan: f64) -> String {
    format!(
        "  - {{ id: acct, kind: margin_account, holdings: [ {{ asset: etf, shares: 1.0e5 }} ], margin: {{ lender: broker, loan: {loan}, maintenance: 0.25 }} }}"
    )
}

/// 20% loan-to-value on a 3× fund at 25% base maintenance: 75% on the position, so the
/// call comes when V ≤ D/(1 − 0.75) = 4·D = 80% of V0, a 20% fall in NAV per share, a
/// 6.67% fall of the underlying (3 × 6.67% = 20%).
#[test]
fn three_times_fund_is_called_after_a_twenty_percent_fall() {
    for (ret, called) in [(-0.066, false), (-0.0675, true)] {
        let (s, o) = run(&scenario(3.0, &account(2.0e5), ret));
        let a = holder(&s, &o, "acct");
        assert_eq!(
            a.status == Status::MarginCall,
            called,
            "return {ret}: {a:?}"
        );
        let e = &o.etf_shares[0];
        // NAV per share: 10·(1 + 3·r) at the (barely moved) final price.
        let r = o.assets[0].price_after / 100.0 - 1.0;
        assert!((e.nav_per_share_after - 10.0 * (1.0 + 3.0 * r)).abs() < 1e-9);
        if called {
            // Sale y = V − E/0.75 at V = 1e5·NAVps, E = V − 2e5.
            let v = 1.0e5 * e.nav_per_share_after;
            let y = v - (v - 2.0e5) / 0.75;
            assert!((a.sales_usd - y).abs() < 1e-6 * y, "{} vs {y}", a.sales_usd);
            assert!((e.redeemed_by_holders - y / e.nav_per_share_after).abs() < 1e-6);
        } else {
            assert_eq!(a.sales_usd, 0.0);
            assert_eq!(e.redeemed_by_holders, 0.0);
        }
    }
}

/// A 2× fund at 25% base maintenance: 50% on the position. At 40% loan-to-value the call
/// comes when V ≤ D/(1 − 0.5) = 2·D = 80% of V0: a 20% fall in NAV per share, 10% of the
/// underlying.
#[test]
fn two_times_fund_is_held_at_fifty_percent() {
    for (ret, called) in [(-0.099, false), (-0.101, true)] {
        let (s, o) = run(&scenario(2.0, &account(4.0e5), ret));
        let a = holder(&s, &o, "acct");
        assert_eq!(
            a.status == Status::MarginCall,
            called,
            "return {ret}: {a:?}"
        );
    }
}

/// A holder's forced sale is the fund's redemption: an account that defaults sells all its
/// 1e6 shares, f = 1e6/1e8 = 1% of the fund, and the fund sells L·f·NAV0 = 3 × 1% × $1bn =
/// $30m on top of its rebalance (L² − L)·|r|·NAV0.
#[test]
fn a_holders_forced_sale_is_the_funds_redemption() {
    let acct = "  - { id: acct, kind: margin_account, holdings: [ { asset: etf, shares: 1.0e6 } ], margin: { lender: broker, loan: 7.2e6, maintenance: 0.25 } }";
    let (s, o) = run(&scenario(3.0, acct, -0.1));
    let a = holder(&s, &o, "acct");
    assert_eq!(a.status, Status::Defaulted);
    let e = &o.etf_shares[0];
    assert!((e.redeemed_by_holders - 1.0e6).abs() < 1e-6);
    assert!((e.outstanding_after - 9.9e7).abs() < 1e-3);
    let r = o.assets[0].price_after / 100.0 - 1.0;
    let f = 0.01;
    let by_hand = 3.0 * (f - 2.0 * r) * 1.0e9;
    let fund = holder(&s, &o, "etf");
    assert!(
        (fund.sales_usd - by_hand).abs() < 1e-6 * by_hand,
        "{} vs {by_hand}",
        fund.sales_usd
    );
    // Without the holder the fund sells only its rebalance.
    let (s0, o0) = run(&scenario(3.0, "", -0.1));
    let alone = holder(&s0, &o0, "etf").sales_usd;
    assert!((fund.sales_usd - alone - 3.0e7).abs() < 1e-3 * 3.0e7);
}

/// Shares are conserved: what the holders sold is what the fund redeemed, and the fund's
/// shares outstanding fall by exactly that.
#[test]
fn shares_sold_by_holders_are_shares_redeemed() {
    let holders = "  - { id: a, kind: margin_account, holdings: [ { asset: etf, shares: 2.0e6 } ], margin: { lender: broker, loan: 1.2e7, maintenance: 0.25 } }
  - { id: b, kind: margin_cohort, accounts: 1000, holdings: [ { asset: etf, shares: 5.0e6 } ], ltv_buckets: [ { ltv: 0.1, share: 0.5 }, { ltv: 0.45, share: 0.5 } ], margin: { lender: broker, maintenance: 0.25 } }";
    let (s, o) = run(&scenario(3.0, holders, -0.08));
    let e = &o.etf_shares[0];
    let sold: f64 = ["a", "b"]
        .iter()
        .map(|id| holder(&s, &o, id).sales_usd / e.nav_per_share_after)
        .sum();
    assert!(sold > 0.0);
    assert!((sold - e.redeemed_by_holders).abs() < 1e-6 * sold);
    assert_eq!(
        e.outstanding_after,
        e.outstanding_before - e.redeemed_by_holders
    );
    assert!(e.redeemed_by_holders <= 7.0e6);
}

/// No shock, no sale: nothing is called, nothing redeemed.
#[test]
fn zero_shock_sells_nothing() {
    let (s, o) = run(&scenario(3.0, &account(2.0e5), 0.0));
    assert_eq!(o.totals.forced_sales_usd, 0.0);
    assert_eq!(holder(&s, &o, "acct").status, Status::Unaffected);
    assert_eq!(o.etf_shares[0].redeemed_by_holders, 0.0);
    assert_eq!(o.etf_shares[0].nav_per_share_after, 10.0);
}

/// The shipped-style fixture: its report gains `etf_shares`, the same at 1 and 4 threads;
/// `explain` shows the ETF position with its NAV per share and maintenance.
#[test]
fn fixture_reports_and_is_the_same_at_any_thread_count() {
    let one = delever(["--threads", "1", "run", FIXTURE, "--format", "json"]);
    let four = delever(["--threads", "4", "run", FIXTURE, "--format", "json"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(one.stdout, four.stdout);
    let v: serde_json::Value = serde_json::from_str(&one.stdout).expect("json");
    let e = &v["etf_shares"][0];
    assert_eq!(e["id"], "soxl");
    assert_eq!(e["shares_outstanding_before"], 4.0e8);
    let redeemed = e["shares_redeemed_by_holders"].as_f64().expect("number");
    assert!(redeemed > 0.0);
    let after = e["shares_outstanding_after"].as_f64().expect("number");
    assert_eq!(after, 4.0e8 - redeemed);
    let x = delever(["explain", FIXTURE, "--holder", "trader"]);
    assert_eq!(x.code, 0, "{}", x.stderr);
    assert!(x.stdout.contains("ETF shares of soxl"), "{}", x.stdout);
    assert!(x.stdout.contains("maintenance 75.0%"), "{}", x.stdout);
    let j = delever(["explain", FIXTURE, "--holder", "trader", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&j.stdout).expect("json");
    let pos = &v["rounds"][0]["etf_positions"][0];
    assert_eq!(pos["fund"], "soxl");
    assert_eq!(pos["maintenance"], 0.75);
}

/// The fixture is valid and runs in the default config.
#[test]
fn fixture_validates() {
    let s = Scenario::load(&crate::util::root().join(FIXTURE)).expect("valid");
    assert!(s.network.has_etf_holdings());
    let _ = EngineConfig::default();
}

/// A scenario for the bad-input cases: one asset `X`, a lender, the holders given.
fn bad_body(holders: &str, tail: &str) -> String {
    format!(
        "name: NAME\ndescription: bad\nas_of: 2026-05-29\nassets:\n  - {{ id: X, price: 100.0, shares_outstanding: 1.0e10, adv_usd: 1.0e10, daily_vol: 0.02, impact: {{ law: linear, per_usd: 1.0e-12 }} }}\nlenders:\n  - {{ id: broker, capital: 1.0e12 }}\nholders:\n{holders}\nshocks:\n  - {{ type: asset, asset: X, return: -0.1 }}\n{tail}"
    )
}

/// A 3× fund `etf` on `X` with `extra` keys.
fn bad_etf(extra: &str) -> String {
    format!(
        "  - {{ id: etf, kind: leveraged_etf, multiple: 3, nav: 1.0e9, basket: {{ X: 1.0 }}{extra} }}"
    )
}

/// A margin account holding `shares` of `etf`.
fn bad_acct(shares: &str) -> String {
    format!(
        "  - {{ id: acct, kind: margin_account, holdings: [ {{ asset: etf, shares: {shares} }} ], margin: {{ lender: broker, loan: 1.0, maintenance: 0.25 }} }}"
    )
}

const SO: &str = ", shares_outstanding: 1.0e8";

/// `delever validate` on each case (written to a scratch directory): exit code 2, nothing
/// on stdout, the file and line given, and every part in the message.
fn check_bad(dir: &str, cases: Vec<(&str, String, &str, &[&str])>) {
    let dir = scratch(dir);
    for (name, text, line, parts) in cases {
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, text.replace("NAME", name)).expect("write");
        let r = delever(["validate".as_ref(), path.as_os_str()]);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{name}");
        let at = format!("{name}.yaml{line}");
        assert!(r.stderr.contains(&at), "{name}: want {at} in {}", r.stderr);
        for p in parts {
            assert!(r.stderr.contains(p), "{name}: want {p:?} in {}", r.stderr);
        }
    }
}

/// Bad input about the fund: no `shares_outstanding`, an inverse fund, more shares held
/// than outstanding, a bad count. Each a located error with a hint, exit code 2.
#[test]
fn bad_fund_input_is_located() {
    check_bad(
        "etf_shares_bad_fund",
        vec![
            (
                "no_shares_outstanding",
                bad_body(&format!("{}\n{}", bad_etf(""), bad_acct("10")), ""),
                ":10:",
                &[
                    "holders[1].holdings[0].asset",
                    "has no `shares_outstanding`",
                    "hint:",
                ],
            ),
            (
                "inverse",
                bad_body(
                    &format!(
                        "{}\n{}",
                        bad_etf(SO).replace("multiple: 3", "multiple: -3"),
                        bad_acct("10")
                    ),
                    "",
                ),
                ":10:",
                &[
                    "holders[1].holdings[0].asset",
                    "inverse fund",
                    "monotone fixed point",
                ],
            ),
            (
                "too_many",
                bad_body(&format!("{}\n{}", bad_etf(SO), bad_acct("2.0e8")), ""),
                ":9:",
                &["holders[0].shares_outstanding", "more than its", "hint:"],
            ),
            (
                "bad_shares_outstanding",
                bad_body(&bad_etf(", shares_outstanding: 0"), ""),
                ":9:",
                &["holders[0].shares_outstanding", "hint:"],
            ),
        ],
    );
}

/// Bad input about the holder: an ETF holding another ETF's shares, a fund holding them,
/// ETF shares in the timeline mode. Each a located error with a hint, exit code 2.
#[test]
fn bad_holder_input_is_located() {
    check_bad(
        "etf_shares_bad_holder",
        vec![
            (
                "etf_holds_etf",
                bad_body(
                    &format!(
                        "{}\n  - {{ id: etf2, kind: leveraged_etf, multiple: 2, nav: 1.0e9, basket: {{ X: 1.0 }}, holdings: [ {{ asset: etf, shares: 10 }} ] }}",
                        bad_etf(SO)
                    ),
                    "",
                ),
                ":10:",
                &["holders[1].holdings", "hint:"],
            ),
            (
                "fund_holds_etf",
                bad_body(
                    &format!(
                        "{}\n  - {{ id: f, kind: fund, holdings: [ {{ asset: etf, shares: 10 }} ] }}",
                        bad_etf(SO)
                    ),
                    "",
                ),
                ":10:",
                &[
                    "holders[1].holdings[0].asset",
                    "a fund cannot hold shares",
                    "hint:",
                ],
            ),
        ],
    );
}

/// An account book's rows hold ETF shares too, named by the fund's id in the `asset`
/// column: the row at 20% loan-to-value on the 3× fund is called after a 20% fall in NAV
/// per share, as the single account is, and sells the same; the other row (stock and a
/// little of the fund, 25% LTV) is not. Shares sold are redeemed.
#[test]
fn book_rows_hold_etf_shares() {
    let dir = scratch("etf_shares_book");
    std::fs::write(
        dir.join("accounts.csv"),
        "account,cash,loan\na,0,2.0e5\nb,0,2.5e4\n",
    )
    .expect("write");
    std::fs::write(
        dir.join("holdings.csv"),
        "account,asset,shares\na,etf,1.0e5\nb,X,900\nb,etf,1000\n",
    )
    .expect("write");
    let book = "  - { id: book, kind: account_book, accounts_csv: accounts.csv, holdings_csv: holdings.csv, margin: { lender: broker, maintenance: 0.25 } }";
    for (ret, called) in [(-0.066, false), (-0.0675, true)] {
        let s = Scenario::from_yaml(&scenario(3.0, book, ret), "<test>", Some(&dir))
            .expect("valid scenario");
        assert!(s.network.has_etf_holdings());
        let o = delever_engine::run(&s.network, &s.shocks, &s.engine).expect("runs");
        let b = holder(&s, &o, "book");
        assert_eq!(b.margin_calls, u64::from(called), "return {ret}: {b:?}");
        let e = &o.etf_shares[0];
        if called {
            let v = 1.0e5 * e.nav_per_share_after;
            let y = v - (v - 2.0e5) / 0.75;
            assert!((b.sales_usd - y).abs() < 1e-6 * y, "{} vs {y}", b.sales_usd);
            assert!((e.redeemed_by_holders - y / e.nav_per_share_after).abs() < 1e-6);
        } else {
            assert_eq!(e.redeemed_by_holders, 0.0);
        }
        // The same as one margin account with that row's holdings and loan.
        let (s1, o1) = run(&scenario(3.0, &account(2.0e5), ret));
        let a = holder(&s1, &o1, "acct");
        assert!((a.sales_usd - b.sales_usd).abs() <= 1e-9 * a.sales_usd.max(1.0));
    }
}

/// A book row naming an inverse fund's shares is refused at the book's `holdings_csv`.
#[test]
fn a_book_holding_an_inverse_fund_is_refused() {
    let dir = scratch("etf_shares_book_inverse");
    std::fs::write(dir.join("accounts.csv"), "account,cash,loan\na,0,10\n").expect("write");
    std::fs::write(
        dir.join("holdings.csv"),
        "account,asset,shares\na,etf,100\n",
    )
    .expect("write");
    let book = "  - { id: book, kind: account_book, accounts_csv: accounts.csv, holdings_csv: holdings.csv, margin: { lender: broker, maintenance: 0.25 } }";
    let text = scenario(-3.0, book, -0.1);
    let err = Scenario::from_yaml(&text, "<test>", Some(&dir)).expect_err("refused");
    let msg = err.to_string();
    assert!(msg.contains("holders[1].holdings_csv"), "{msg}");
    assert!(msg.contains("inverse fund"), "{msg}");
    assert!(msg.contains("monotone fixed point"), "{msg}");
}

/// Every other command runs on a scenario with ETF shares: the HTML report (its player
/// replays every round), `describe`, the DOT export and the CSV report.
#[test]
fn other_commands_run_with_etf_shares() {
    let dir = scratch("etf_shares_commands");
    let html = dir.join("report.html");
    let r = delever([
        "run".as_ref(),
        FIXTURE.as_ref(),
        "--html".as_ref(),
        html.as_os_str(),
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        std::fs::read_to_string(&html)
            .expect("html")
            .contains("soxl")
    );
    for args in [
        vec!["describe", FIXTURE],
        vec!["export", "dot", FIXTURE],
        vec!["run", FIXTURE, "--format", "csv"],
        vec!["run", FIXTURE, "--trace"],
    ] {
        let r = delever(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert!(!r.stdout.is_empty(), "{args:?}");
    }
}

/// A fund's `shares_outstanding` alone changes nothing: without holders of its shares
/// the outcome is the same, bit for bit, as without the key, and no `etf_shares` entry.
#[test]
fn shares_outstanding_alone_changes_nothing() {
    let with = scenario(3.0, "", -0.1);
    let without = with.replace(", shares_outstanding: 1.0e8", "");
    assert_ne!(with, without);
    let (_, a) = run(&with);
    let (_, b) = run(&without);
    assert!(a.etf_shares.is_empty());
    assert_eq!(a, b);
}

/// The hand-worked account of `three_times_fund_is_called_after_a_twenty_percent_fall`
/// over days: X falls 7%, so NAV per share is 10·(1 − 3·0.07) = $7.90; the account
/// (1e5 shares, $200k loan) has V = $790k, E = $590k < 75%·V = $592.5k and is called on
/// day 0. Its deadline is 2 days (the margin account default): it sells on day 2, back to
/// 75%: V' = E/0.75 = $786,666.67, a sale of $3,333.33 (421.94 shares at $7.90). The fund
/// redeems those shares and sheds 3 × $3,333.33 = $10,000 of exposure that day; the
/// redeemed shares are paid at the close's NAV per share, which the redemption leaves
/// unchanged.
#[test]
fn a_timeline_call_waits_its_deadline_then_the_fund_redeems() {
    let text = format!(
        "{}engine: {{ mode: timeline, days: 4 }}\n",
        scenario(3.0, &account(2.0e5), -0.07)
    );
    let (s, o) = run(&text);
    let acct = s.network.find_holder("acct").expect("exists").get();
    let etf = s.network.find_holder("etf").expect("exists").get();
    let day = |d: usize, h: usize| &o.days[d].holders[h];
    assert!(day(0, acct).new_calls == 1 && day(0, acct).sales_usd == 0.0);
    assert_eq!(day(1, acct).sales_usd, 0.0);
    let sale = day(2, acct).sales_usd;
    assert!((sale - 3_333.333_333).abs() < 1e-3, "{sale}");
    assert_eq!(day(3, acct).sales_usd, 0.0);
    let e = &o.etf_shares[0];
    assert!((e.redeemed_by_holders - 3_333.333_333 / 7.9).abs() < 1e-4);
    assert_eq!(
        e.outstanding_after,
        e.outstanding_before - e.redeemed_by_holders
    );
    assert!((e.nav_per_share_after - 7.9).abs() < 1e-6);
    // The fund's day-2 trade is the redemption's 3× (prices barely move after day 0).
    let fund = day(2, etf).sales_usd;
    assert!((fund - 10_000.0).abs() < 1.0, "{fund}");
    // NAV after the redemption is NAV per share times the shares left.
    let nav = o.days[3].holders[etf].equity;
    assert!(
        (nav - 7.9 * e.outstanding_after).abs() < 1e-6 * nav,
        "{nav} vs {}",
        7.9 * e.outstanding_after
    );
}

/// A one-day timeline without deadlines is the equilibrium bit for bit with ETF shares
/// too (holders priced at NAV per share, their sales redeemed, `etf_shares` reported).
#[test]
fn one_day_timeline_with_etf_shares_is_the_equilibrium() {
    let holders = format!(
        "{}\n  - {{ id: b, kind: margin_cohort, accounts: 1000, holdings: [ {{ asset: etf, shares: 5.0e6 }}, {{ asset: X, usd: 1.0e7 }} ], ltv_buckets: [ {{ ltv: 0.1, share: 0.5 }}, {{ ltv: 0.45, share: 0.5 }} ], margin: {{ lender: broker, maintenance: 0.25 }} }}",
        account(2.0e5)
    );
    let base = scenario(3.0, &holders, -0.08)
        .replace("\nassets:", "\ndefaults: { cure_days: 0 }\nassets:");
    let (_, eq) = run(&base);
    let (_, tl) = run(&format!("{base}engine: {{ mode: timeline, days: 1 }}\n"));
    assert!(eq.etf_shares[0].redeemed_by_holders > 0.0);
    if let Err(diff) = crate::timeline::same_but_days(&eq, &tl) {
        panic!("{diff}");
    }
}

/// The fixture over five days: the holders' calls fall due on day 2 and their shares are
/// redeemed then; shares are conserved and the run is the same at any thread count.
#[test]
fn fixture_over_days_conserves_shares_at_any_thread_count() {
    let v = fixture_in_mode("etf-timeline", "{ mode: timeline, days: 5 }");
    let days = v["days"].as_array().expect("days");
    let sold = |d: usize, id: &str| {
        days[d]["holders"]
            .as_array()
            .expect("holders")
            .iter()
            .find(|h| h["id"] == id)
            .and_then(|h| h["sales_usd"].as_f64())
            .expect("holder's sales")
    };
    assert_eq!(sold(0, "retail"), 0.0);
    assert!(sold(2, "retail") > 0.0);
    assert!(sold(2, "trader") > 0.0);
}

/// A redemption shock on a fund whose shares are held retires that fraction of its
/// shares too (investors outside the model redeem them), in both modes.
#[test]
fn a_redemption_shock_retires_shares() {
    let text = scenario(3.0, &account(1.0e5), 0.0).replace(
        "shocks:\n",
        "shocks:\n  - { type: redemption, holder: etf, fraction: 0.1 }\n",
    );
    for mode in [
        "",
        "engine: { mode: timeline, days: 2 }\n",
        "engine: { mode: sequential }\n",
    ] {
        let (_, o) = run(&format!("{text}{mode}"));
        let e = &o.etf_shares[0];
        assert_eq!(e.redeemed_by_holders, 0.0, "{mode}");
        assert!((e.outstanding_after - 9.0e7).abs() < 1e-6, "{mode}: {e:?}");
    }
}

/// The sequential mode's rounds: the account of
/// `a_timeline_call_waits_its_deadline_then_the_fund_redeems` is called in round 1 at the
/// shocked NAV per share ($7.90) and sells $3,333.33 of the fund's shares back to 75%;
/// the fund redeems them at that NAV per share, so its shares outstanding fall by
/// 421.94 and NAV per share is unchanged by the redemption. Shares are conserved and the
/// run is the same at any thread count; `--compare-modes` runs.
#[test]
fn sequential_rounds_redeem_at_nav_per_share() {
    let text = format!(
        "{}engine: {{ mode: sequential }}\n",
        scenario(3.0, &account(2.0e5), -0.07)
    );
    let (s, o) = run(&text);
    let a = holder(&s, &o, "acct");
    assert_eq!(a.status, Status::MarginCall);
    assert!(
        (a.sales_usd - 3_333.333_333).abs() < 1e-3,
        "{}",
        a.sales_usd
    );
    let e = &o.etf_shares[0];
    assert!((e.redeemed_by_holders - 3_333.333_333 / 7.9).abs() < 1e-4);
    assert_eq!(
        e.outstanding_after,
        e.outstanding_before - e.redeemed_by_holders
    );
    assert!((e.nav_per_share_after - 7.9).abs() < 1e-6, "{e:?}");
    // The market's losses leave the ETF shares out: as without the holder, up to the
    // redemption's own (tiny) impact.
    let (_, alone) = run(&format!(
        "{}engine: {{ mode: sequential }}\n",
        scenario(3.0, "", -0.07)
    ));
    let gap = o.totals.total_loss_usd - alone.totals.total_loss_usd;
    assert!(gap.abs() < 1.0, "{gap}");

    fixture_in_mode("etf-sequential", "{ mode: sequential }");
    let cmp = delever(["run", FIXTURE, "--compare-modes"]);
    assert_eq!(cmp.code, 0, "{}", cmp.stderr);
    assert!(cmp.stdout.contains("sequential"), "{}", cmp.stdout);
}

/// The fixture (with its books) copied into a fresh directory named for `case` with
/// `engine: <engine>`, run at 1 and 4 threads: the reports are identical, and the shares
/// the holders sold are exactly the fall in the fund's shares outstanding. The report.
fn fixture_in_mode(case: &str, engine: &str) -> serde_json::Value {
    let dir = scratch(case);
    let src = crate::util::root().join("tests/fixtures/etf_shares");
    std::fs::create_dir_all(dir.join("books")).expect("mkdir");
    for f in ["books/accounts.csv", "books/holdings.csv"] {
        std::fs::copy(src.join(f), dir.join(f)).expect("copy");
    }
    let text = std::fs::read_to_string(src.join("retail-soxl.yaml")).expect("read");
    let file = dir.join("retail-soxl.yaml");
    std::fs::write(
        &file,
        text.replace("\nshocks:", &format!("\nengine: {engine}\nshocks:")),
    )
    .expect("write");
    let path = file.to_str().expect("utf-8");
    let one = delever(["--threads", "1", "run", path, "--format", "json"]);
    let four = delever(["--threads", "4", "run", path, "--format", "json"]);
    assert_eq!(one.code, 0, "{}", one.stderr);
    assert_eq!(one.stdout, four.stdout);
    let v: serde_json::Value = serde_json::from_str(&one.stdout).expect("json");
    let e = &v["etf_shares"][0];
    let redeemed = e["shares_redeemed_by_holders"].as_f64().expect("number");
    assert!(redeemed > 0.0);
    assert_eq!(
        e["shares_outstanding_after"].as_f64().expect("number"),
        4.0e8 - redeemed
    );
    v
}
