//! The calibration of the convexity kinds in the shipped scenarios (issue 13): the default
//! scenario's dealers, vol-target funds and CTAs sell what their rules, worked by hand,
//! say they sell; the yen-carry replay's systematic flows lie in the bands of the
//! published desk estimates; and without the new holders the default scenario gives the
//! figures it gave before they were added, bit for bit.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::golden::report_json;
use crate::util::{delever, root, scratch};

const DEFAULT: &str = "scenarios/semis-sentiment-reversal.yaml";
const YEN: &str = "scenarios/yen-carry-2024-08-05.yaml";

fn report(path: &Path) -> Value {
    serde_json::from_str(&report_json(path)).expect("the report is JSON")
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Each holder's sales, by id.
fn holder_sales(holders: &Value) -> BTreeMap<String, f64> {
    holders
        .as_array()
        .expect("holders")
        .iter()
        .map(|h| {
            (
                h["id"].as_str().expect("id").to_owned(),
                num(&h["sales_usd"]),
            )
        })
        .collect()
}

/// Each kind's sales, summed over its holders.
fn kind_sales(holders: &Value) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for h in holders.as_array().expect("holders") {
        *out.entry(h["kind"].as_str().expect("kind").to_owned())
            .or_insert(0.0) += num(&h["sales_usd"]);
    }
    out
}

/// Each asset's (reference, final) price.
fn prices(r: &Value) -> BTreeMap<String, (f64, f64)> {
    r["assets"]
        .as_array()
        .expect("assets")
        .iter()
        .map(|a| {
            (
                a["id"].as_str().expect("id").to_owned(),
                (num(&a["price_before"]), num(&a["price_after"])),
            )
        })
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * a.abs().max(b.abs())
}

/// The scenario's semiconductor names, with the CTAs' `max_usd` and the ETF dealers'
/// `usd_per_pct` in each (as in the scenario file).
const NAMES: [(&str, f64, f64); 9] = [
    ("NVDA", 6.74e9, -2.4e7),
    ("AVGO", 2.48e9, -2.2e7),
    ("TSM", 2.06e9, -1.6e7),
    ("AMD", 0.48e9, -1.8e7),
    ("MU", 0.83e9, -1.8e7),
    ("SNDK", 0.10e9, -8.0e6),
    ("ASML", 0.52e9, -1.2e7),
    ("MRVL", 0.14e9, -8.0e6),
    ("SOX-REST", 1.65e9, -7.4e7),
];

/// A vol-target fund's sales in the one-day run, worked from docs/model.md 4.8 at the
/// run's final prices: the EWMA with `max(252·r², σ̂₀²)`, exposure `σ*/σ̂` (the caps do
/// not bind here), NAV from holdings, cash and liabilities; it keeps
/// `(w/w₀)·(NAV/NAV₀)` of every position and sells the rest, valued at final prices.
fn vol_target_sales(
    px: &BTreeMap<String, (f64, f64)>,
    holdings: &[(&str, f64)],
    sigma0: f64,
    cash_less_liabilities: f64,
) -> f64 {
    let lambda = 2f64.powf(-1.0 / 20.0);
    let v0: f64 = holdings.iter().map(|(_, usd)| usd).sum();
    let v1: f64 = holdings
        .iter()
        .map(|(a, usd)| usd * px[*a].1 / px[*a].0)
        .sum();
    let r = v1 / v0 - 1.0;
    let var = lambda * sigma0 * sigma0 + (1.0 - lambda) * (252.0 * r * r).max(sigma0 * sigma0);
    let kept = (sigma0 / var.sqrt()) * (v1 + cash_less_liabilities) / (v0 + cash_less_liabilities);
    holdings
        .iter()
        .map(|(a, usd)| usd / px[*a].0 * (1.0 - kept) * px[*a].1)
        .sum()
}

/// The default scenario: every new channel sells, by the amounts its rule gives.
#[test]
fn the_default_run_sells_through_every_new_channel_as_worked_by_hand() {
    let r = report(&root().join(DEFAULT));
    assert_eq!(r["termination"], "converged");
    assert!(
        r.get("non_monotone").is_none(),
        "the one-day run has no rule that buys into the fall: {}",
        r["non_monotone"]
    );
    let by_kind = kind_sales(&r["holders"]);
    for k in ["options_dealer", "vol_target", "trend_follower"] {
        assert!(by_kind[k] > 0.0, "{k} should sell: {by_kind:?}");
    }
    let sales = holder_sales(&r["holders"]);
    let px = prices(&r);

    // CTAs: up 8% in May, every name falls more than 0.08/1.08 = 7.4%, less than the 33%
    // that would flip the three-month sign, so each signal goes from 1 to 1/3: they sell
    // two thirds of max_usd/p0 shares of each name, valued at the final price. Exact up
    // to rounding (1e-9).
    let mut cta = 0.0;
    for (a, max_usd, _) in NAMES {
        let (p0, p1) = px[a];
        assert!(p1 / p0 < 1.0 / 1.08 && p1 / p0 > 1.0 / 1.5, "{a} {p0} {p1}");
        cta += 2.0 / 3.0 * max_usd / p0 * p1;
    }
    assert!(
        close(sales["ctas"], cta, 1e-9),
        "{} vs {cta}",
        sales["ctas"]
    );

    // ETF dealers, first-order form: GEX·(S0 − S)/(0.01·S0²) shares, at the final price.
    let mut etf = 0.0;
    for (a, _, gex) in NAMES {
        let (p0, p1) = px[a];
        etf += gex * (p1 - p0) / (0.01 * p0 * p0) * p1;
    }
    assert!(
        close(sales["semis-etf-dealers"], etf, 1e-9),
        "{} vs {etf}",
        sales["semis-etf-dealers"]
    );

    // NVDA dealers (Black-Scholes ladder): 52.5M shares for the -12.6% shock alone (the
    // calibration's hand figure, three digits); NVDA ends lower, so more, but less than
    // the first-order form's GEX·|r|/1% = 1.06e9 × 13.9 / $200 at the same fall (gamma
    // falls away from the strikes).
    let (p0, p1) = px["NVDA"];
    let shares = sales["nvda-dealers"] / p1;
    let linear = 1.06e9 * (1.0 - p1 / p0) * 100.0 / p0;
    assert!(
        shares > 52.0e6 && shares < linear,
        "{shares} shares (linear {linear})"
    );

    // Vol-target funds: the EWMA worked at the final prices.
    let semis = [
        ("NVDA", 5.84e9),
        ("AVGO", 2.15e9),
        ("TSM", 1.79e9),
        ("AMD", 0.42e9),
        ("MU", 0.72e9),
        ("SNDK", 0.09e9),
        ("ASML", 0.45e9),
        ("MRVL", 0.12e9),
        ("SOX-REST", 1.43e9),
        ("EQ-REST", 1.17e11),
    ];
    let vc = vol_target_sales(&px, &semis, 0.14, 5.2e10);
    assert!(
        close(sales["vol-control-funds"], vc, 1e-9),
        "{} vs {vc}",
        sales["vol-control-funds"]
    );
    let rp_book = [
        ("NVDA", 3.15e9),
        ("AVGO", 1.16e9),
        ("TSM", 0.96e9),
        ("AMD", 0.22e9),
        ("MU", 0.39e9),
        ("SNDK", 0.05e9),
        ("ASML", 0.24e9),
        ("MRVL", 0.06e9),
        ("SOX-REST", 0.77e9),
        ("EQ-REST", 6.3e10),
        ("BONDS", 1.8e11),
    ];
    let rp = vol_target_sales(&px, &rp_book, 0.06, -5.0e10);
    assert!(
        close(sales["risk-parity-funds"], rp, 1e-9),
        "{} vs {rp}",
        sales["risk-parity-funds"]
    );
}

/// The table gives each channel's share of the forced sales, the new kinds included.
#[test]
fn the_default_table_shows_each_channels_share_of_forced_sales() {
    let run = delever(["run", DEFAULT]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("share of sales"), "{}", run.stdout);
    let r = report(&root().join(DEFAULT));
    let by_kind = kind_sales(&r["holders"]);
    let total: f64 = by_kind.values().sum();
    for k in ["options_dealer", "vol_target", "trend_follower"] {
        let row = run
            .stdout
            .lines()
            .find(|l| l.starts_with(k))
            .unwrap_or_else(|| panic!("no {k} row in\n{}", run.stdout));
        let want = format!("{:.1}%", by_kind[k] / total * 100.0);
        assert!(row.contains(&want), "{row} lacks {want}");
    }
}

/// The yen-carry replay's systematic flows against the desks' published estimates.
#[test]
fn the_yen_carry_flows_lie_in_the_published_bands() {
    let r = report(&root().join(YEN));
    assert_eq!(r["termination"], "converged");
    let days = r["days"].as_array().expect("days");
    assert_eq!(days.len(), 4);
    let per_day: Vec<BTreeMap<String, f64>> =
        days.iter().map(|d| holder_sales(&d["holders"])).collect();
    let vt: Vec<f64> = per_day.iter().map(|d| d["systematic-vol-target"]).collect();
    let cta: Vec<f64> = per_day.iter().map(|d| d["jp-ctas"]).collect();

    // The day's sales by kind carry the new kinds too.
    for (d, s) in days.iter().zip(&vt) {
        assert_eq!(num(&d["sales_by_kind"]["vol_target"]), *s);
        assert!(d["sales_by_kind"].get("trend_follower").is_some());
    }

    // Vol-target funds: nothing on 2 Aug (one-day lag); on 5 Aug at least a third of the
    // Goldman desk's "$30B over the next week" and at most Morgan Stanley's $110B for a
    // 3% day; over the days that $30B within a factor 3.
    assert_eq!(vt[0], 0.0);
    assert!((1.0e10..=1.1e11).contains(&vt[1]), "5 Aug: {}", vt[1]);
    let vt_total: f64 = vt.iter().sum();
    assert!((1.0e10..=9.0e10).contains(&vt_total), "{vt_total}");

    // CTAs: from the published closes the 1- and 3-month returns were negative at 1 Aug
    // (-4.86%, -0.39%), so they start a third short and sell only when the 12-month sign
    // (+16.59%) flips: a close below 100·1.1659^(-(252-d)/252), 14.2% under 1 Aug. The
    // model's closes stay above it, so they sell nothing; the band is Japan's 5-20% of
    // the desk's $32B for the last week, which ends about 2 Aug.
    for (d, day) in days.iter().enumerate() {
        let jp = day["assets"]
            .as_array()
            .expect("assets")
            .iter()
            .find(|a| a["id"] == "JP-LARGE")
            .expect("JP-LARGE");
        #[allow(clippy::cast_precision_loss)] // a day number
        let level = 100.0 * 1.1659f64.powf(-(252.0 - d as f64) / 252.0);
        assert!(
            num(&jp["close"]) > level,
            "day {d}: {} <= {level}",
            jp["close"]
        );
        assert_eq!(cta[d], 0.0, "day {d}");
    }
    let cta_total: f64 = cta.iter().sum();
    assert!((0.0..=6.4e9).contains(&cta_total), "{cta_total}");
}

/// Drops from a YAML mapping's list `key` the entries for which `drop` holds.
fn retain(doc: &mut serde_yaml::Value, key: &str, drop: impl Fn(&serde_yaml::Value) -> bool) {
    let list = doc
        .get_mut(key)
        .and_then(serde_yaml::Value::as_sequence_mut)
        .unwrap_or_else(|| panic!("no list `{key}`"));
    list.retain(|v| !drop(v));
}

/// Without the dealers, vol-target funds and CTAs (and the proxies and shock only they
/// use), the default scenario gives exactly the figures it gave before they were added
/// (recorded from its golden snapshot before the change).
#[test]
fn without_the_new_kinds_the_default_run_is_unchanged() {
    let text = std::fs::read_to_string(root().join(DEFAULT)).expect("read");
    let mut doc: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
    let new_kinds = ["options_dealer", "vol_target", "trend_follower"];
    retain(&mut doc, "holders", |h| {
        new_kinds.iter().any(|k| h["kind"].as_str() == Some(k))
    });
    let proxy =
        |v: &serde_yaml::Value, field: &str| matches!(v[field].as_str(), Some("EQ-REST" | "BONDS"));
    retain(&mut doc, "assets", |a| proxy(a, "id"));
    retain(&mut doc, "shocks", |s| proxy(s, "asset"));
    let map = doc.as_mapping_mut().expect("a mapping");
    // The expectations and variants name the removed holders and proxies.
    map.remove("expect");
    map.remove("variants");
    let dir = scratch("convexity_calibration-stripped");
    let path = dir.join("semis-sentiment-reversal.yaml");
    std::fs::write(&path, serde_yaml::to_string(&doc).expect("YAML")).expect("write");

    let r = report(&path);
    let t = &r["totals"];
    assert_eq!(num(&t["initial_loss_usd"]), 14_550_863_999.999_998);
    assert_eq!(num(&t["total_loss_usd"]), 15_837_924_470.292_147);
    assert_eq!(num(&t["amplification"]), 1.088_452_511_843_430_7);
    assert_eq!(num(&t["forced_sales_usd"]), 28_176_475_966.589_806);
    assert_eq!(t["margin_calls"], 1);
    assert_eq!(t["defaults"], 0);
    let px = prices(&r);
    assert_eq!(px["NVDA"].1, 173.288_249_292_875_3);
    assert_eq!(px["SOX-REST"].1, 88.771_543_409_372_11);
    let sales = holder_sales(&r["holders"]);
    assert_eq!(sales["SOXL"], 10_810_037_730.963_19);
    assert_eq!(sales["semis-mutual-funds"], 6_636_592_835.853_803);
    assert_eq!(sales["hf-multistrat-semis"], 4_727_001_718.049_152);
}
