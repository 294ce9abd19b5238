//! Builder invariants: every rule of the model, checked one at a time.

use crate::*;

fn asset(id: &str, price: f64) -> Asset {
    Asset {
        id: id.into(),
        price,
        shares_outstanding: 1e9,
        adv_usd: 1e9,
        daily_vol: 0.02,
        beta: 1.0,
        duration: 0.0,
        tags: vec![],
        impact: ImpactLaw::SquareRoot { y: 0.7 },
        decay: ImpactDecay::default(),
    }
}

fn terms(loan: f64, m: f64, r: f64) -> MarginTerms {
    MarginTerms {
        loan,
        maintenance: m,
        reset: r,
    }
}

/// A small valid network: one asset, one lender, one account at 50% LTV.
fn base() -> NetworkBuilder {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "NVDA", 100.0);
    b.lends("broker", "acct", terms(5_000.0, 0.3, 0.3));
    b
}

fn problems(b: NetworkBuilder) -> Vec<Problem> {
    match b.build() {
        Ok(_) => vec![],
        Err(e) => e.problems,
    }
}

/// Assert exactly one problem whose field and message contain the given parts.
fn check(b: NetworkBuilder, field: &str, msg: &str) {
    let ps = problems(b);
    assert!(
        ps.iter()
            .any(|p| p.field == field && p.message.contains(msg)),
        "expected a problem at `{field}` containing `{msg}`, got {ps:#?}"
    );
}

#[test]
fn valid_network_builds_with_graph_and_indices() {
    let net = base().build().expect("valid");
    assert_eq!(net.graph().node_count(), 3);
    assert_eq!(net.graph().edge_count(), 2);
    let h = net.find_holder("acct").expect("holder");
    assert_eq!(
        net.holdings(h).collect::<Vec<_>>(),
        vec![(AssetIx(0), 100.0)]
    );
    let m = net.margin(h).expect("margin");
    assert_eq!(m.terms.loan, 5_000.0);
    assert_eq!(net.equity(h, &net.prices()), 5_000.0);
    assert_eq!(net.borrowers(LenderIx(0)).collect::<Vec<_>>(), vec![h]);
}

#[test]
fn repeated_holdings_add_up_and_sort_by_asset() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("B", 1.0));
    b.add_asset(asset("A", 1.0));
    b.add_holder(Holder::new(
        "f",
        HolderKind::Fund {
            redemption_beta: 0.0,
        },
    ));
    b.holds("f", "A", 1.0);
    b.holds("f", "B", 2.0);
    b.holds("f", "A", 3.0);
    let net = b.build().expect("valid");
    let h = HolderIx(0);
    assert_eq!(
        net.holdings(h).collect::<Vec<_>>(),
        vec![(AssetIx(0), 2.0), (AssetIx(1), 4.0)]
    );
}

/// A holding by indices is the holding by ids; a bad number or an index never added is
/// reported as by ids.
#[test]
fn holdings_by_index_are_holdings_by_id() {
    let build = |by_ix: bool, shares: f64, at: u32| {
        let mut b = NetworkBuilder::new();
        b.add_asset(asset("B", 1.0));
        b.add_asset(asset("A", 1.0));
        let f = b.add_holder(Holder::new(
            "f",
            HolderKind::Fund {
                redemption_beta: 0.0,
            },
        ));
        if by_ix {
            b.holds_ix(f, AssetIx(at), shares);
        } else {
            b.holds("f", ["B", "A", "C"][at as usize], shares);
        }
        b.build()
    };
    let (ix, id) = (
        build(true, 2.0, 1).expect("valid"),
        build(false, 2.0, 1).expect("valid"),
    );
    assert_eq!(
        ix.holdings(HolderIx(0)).collect::<Vec<_>>(),
        id.holdings(HolderIx(0)).collect::<Vec<_>>()
    );
    assert_eq!(
        ix.holdings(HolderIx(0)).collect::<Vec<_>>(),
        vec![(AssetIx(1), 2.0)]
    );
    for (shares, at, field) in [
        (-1.0, 1, "shares"),
        (f64::NAN, 0, "shares"),
        (1.0, 2, "asset"),
    ] {
        let (Err(ix), Err(id)) = (build(true, shares, at), build(false, shares, at)) else {
            panic!("a bad holding ({shares}, {at}) was accepted");
        };
        assert_eq!(ix.problems.len(), 1, "{ix:#?}");
        assert_eq!(ix.problems[0].field, field);
        assert_eq!(id.problems[0].field, field);
        if field == "shares" {
            assert_eq!(ix.problems[0].message, id.problems[0].message);
            assert_eq!(ix.problems[0].subject, id.problems[0].subject);
        }
    }
}

#[test]
fn all_problems_are_reported_at_once() {
    let mut b = base();
    b.add_asset(asset("BAD", f64::NAN));
    b.add_lender(Lender::new("broke", -1.0));
    let ps = problems(b);
    assert!(ps.len() >= 2, "{ps:#?}");
}

#[test]
fn non_finite_and_negative_numbers_are_refused() {
    let mut b = base();
    b.add_asset(asset("X", f64::INFINITY));
    check(b, "price", "finite number > 0");
    let mut b = base();
    b.holds("acct", "NVDA", -1.0);
    check(b, "shares", "≥ 0");
    let mut b = base();
    let mut h = Holder::new(
        "f",
        HolderKind::Fund {
            redemption_beta: 1.0,
        },
    );
    h.cash = -5.0;
    b.add_holder(h);
    check(b, "cash", "≥ 0");
}

#[test]
fn margin_bounds() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "NVDA", 100.0);
    b.lends("broker", "acct", terms(5_000.0, 1.2, 1.2));
    check(b, "margin.maintenance", "(0, 1]");

    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "NVDA", 100.0);
    b.lends("broker", "acct", terms(5_000.0, 0.4, 0.3));
    check(b, "margin.reset", "[maintenance, 1]");
}

#[test]
fn lender_must_exist_be_a_lender_and_not_lend_to_itself() {
    let mut b = base();
    b.add_holder(Holder::new(
        "a2",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.lends("nobody", "a2", terms(1.0, 0.3, 0.3));
    check(b, "lender", "unknown lender `nobody`");

    let mut b = base();
    b.lends("NVDA", "acct", terms(1.0, 0.3, 0.3));
    check(b, "lender", "is an asset");

    let mut b = base();
    b.lends("broker", "broker", terms(1.0, 0.3, 0.3));
    check(b, "lender", "cannot lend to itself");
}

#[test]
fn a_margin_account_without_a_lender_is_refused() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "NVDA", 1.0);
    check(b, "margin", "needs a margin link");
}

#[test]
fn duplicate_ids_are_refused_across_kinds() {
    let mut b = base();
    b.add_lender(Lender::new("NVDA", 1.0));
    check(b, "id", "duplicate id `NVDA`: already used by an asset");
}

#[test]
fn basket_weights_must_sum_to_one_and_name_assets() {
    let mut b = base();
    b.add_holder(Holder::new(
        "soxl",
        HolderKind::LeveragedEtf {
            multiple: 3.0,
            nav: 1e9,
            basket: vec![("NVDA".into(), 0.6)],
        },
    ));
    check(b, "basket", "sum to 1, got 0.6");

    let mut b = base();
    b.add_holder(Holder::new(
        "soxl",
        HolderKind::LeveragedEtf {
            multiple: 3.0,
            nav: 1e9,
            basket: vec![("NVDA".into(), 0.5), ("AMD".into(), 0.5)],
        },
    ));
    check(b, "basket.AMD", "unknown asset `AMD`");
}

#[test]
fn cohort_loan_is_derived_from_buckets() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e9));
    b.add_holder(Holder::new(
        "retail",
        HolderKind::MarginCohort {
            accounts: 1000,
            buckets: vec![
                LtvBucket {
                    ltv: 0.2,
                    share: 0.5,
                },
                LtvBucket {
                    ltv: 0.5,
                    share: 0.5,
                },
            ],
            cure_rate: 0.0,
        },
    ));
    b.holds("retail", "NVDA", 1000.0);
    b.lends("broker", "retail", terms(0.0, 0.3, 0.3));
    let net = b.build().expect("valid");
    // V = 100_000; loan = 0.2·0.5·V + 0.5·0.5·V = 35_000.
    let m = net.margin(HolderIx(0)).expect("margin");
    assert!((m.terms.loan - 35_000.0).abs() < 1e-9);
    let s = net.summary();
    assert_eq!(s.kinds[0].accounts, 1000);
    assert!((s.holders[0].equity_usd - 65_000.0).abs() < 1e-9);
}

#[test]
fn cohort_buckets_must_sum_to_one_and_a_given_loan_is_refused() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e9));
    b.add_holder(Holder::new(
        "retail",
        HolderKind::MarginCohort {
            accounts: 10,
            buckets: vec![LtvBucket {
                ltv: 0.2,
                share: 0.7,
            }],
            cure_rate: 0.0,
        },
    ));
    b.holds("retail", "NVDA", 1000.0);
    b.lends("broker", "retail", terms(10.0, 0.3, 0.3));
    let ps = problems(b);
    assert!(ps.iter().any(|p| p.field == "ltv_buckets"), "{ps:#?}");
    assert!(ps.iter().any(|p| p.field == "margin.loan"), "{ps:#?}");
}

#[test]
fn starting_equity_must_be_positive_unless_declared() {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e6));
    b.add_holder(Holder::new(
        "acct",
        HolderKind::MarginAccount { cure_rate: 0.0 },
    ));
    b.holds("acct", "NVDA", 10.0);
    b.lends("broker", "acct", terms(2_000.0, 0.3, 0.3));
    check(b, "", "starting equity must be positive");

    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    b.add_lender(Lender::new("broker", 1e6));
    let mut h = Holder::new("acct", HolderKind::MarginAccount { cure_rate: 0.0 });
    h.starts_insolvent = true;
    b.add_holder(h);
    b.holds("acct", "NVDA", 10.0);
    b.lends("broker", "acct", terms(2_000.0, 0.3, 0.3));
    assert!(b.build().is_ok());
}

#[test]
fn account_book_loans_and_bad_rows() {
    let book = AccountBook {
        cash: vec![0.0, 0.0],
        loan: vec![50.0, 500.0],
        row_ptr: vec![0, 1, 2],
        assets: vec![AssetIx(0), AssetIx(0)],
        shares: vec![1.0, 1.0],
    };
    // Row 1 owes 500 against 100 of stock.
    check(
        book_builder(book, &[("NVDA", 100.0)], 1e6),
        "accounts[1]",
        "start with equity ≤ 0",
    );
}

/// A network of `assets` and one book borrowing from one lender of `capital`.
fn book_builder(book: AccountBook, assets: &[(&str, f64)], capital: f64) -> NetworkBuilder {
    let mut b = NetworkBuilder::new();
    for &(id, price) in assets {
        b.add_asset(asset(id, price));
    }
    b.add_lender(Lender::new("broker", capital));
    b.add_holder(Holder::new(
        "book",
        HolderKind::AccountBook {
            book: book.into(),
            cure_rate: 0.0,
        },
    ));
    b.lends("broker", "book", terms(0.0, 0.3, 0.3));
    b
}

#[test]
fn summary_places_etf_exposure_by_basket() {
    let mut b = base();
    b.add_asset(asset("AMD", 50.0));
    b.add_holder(Holder::new(
        "soxl",
        HolderKind::LeveragedEtf {
            multiple: 3.0,
            nav: 1_000.0,
            basket: vec![("NVDA".into(), 0.75), ("AMD".into(), 0.25)],
        },
    ));
    let net = b.build().expect("valid");
    let s = net.summary();
    let etf = &s.holders[1];
    assert_eq!(etf.gross_exposure_usd, 3_000.0);
    assert_eq!(etf.leverage, 3.0);
    let slot = KindTag::ALL
        .iter()
        .position(|&k| k == KindTag::LeveragedEtf)
        .expect("slot");
    assert_eq!(s.assets[0].exposure_by_kind[slot], 2_250.0);
    assert_eq!(s.assets[1].exposure_by_kind[slot], 750.0);
    // Account: 10_000 of NVDA against 5_000 equity; ETF 3_000 on 1_000 NAV.
    assert_eq!(s.leveraged_exposure_usd, 13_000.0);
}

#[test]
fn computed_figures_in_messages_have_no_float_noise() {
    use crate::checks::sig;
    assert_eq!(sig(0.3 + 0.6), "0.9");
    assert_eq!(sig(-100_000.0), "-100000");
    assert_eq!(sig(1.0e-13), "1.00000e-13");
    assert_eq!(sig(0.123_456_789), "0.123457");
}

/// A leverage-ratio bank: 100 NVDA at 100 (10,000) and 10,000 of illiquid assets against
/// liabilities of 19,000 (equity 1,000, a 5% leverage ratio).
fn ratio_bank(rule: BalanceSheetRule, ratio: Option<f64>) -> NetworkBuilder {
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("NVDA", 100.0));
    let mut h = Holder::new("bank", HolderKind::Bank { rule });
    h.other_assets = 10_000.0;
    h.other_liabilities = 19_000.0;
    h.default_below_ratio = ratio;
    b.add_holder(h);
    b.holds("bank", "NVDA", 100.0);
    b
}

#[test]
fn insolvency_ratio_must_be_a_fraction_below_the_acting_ratio() {
    let threshold = BalanceSheetRule::Threshold {
        max: 25.0,
        target: 20.0,
    };
    assert!(ratio_bank(threshold, Some(0.03)).build().is_ok());
    assert!(
        ratio_bank(BalanceSheetRule::FailLiquidate, Some(0.03))
            .build()
            .is_ok()
    );
    check(
        ratio_bank(threshold, Some(0.0)),
        "default_below_ratio",
        "(0, 1)",
    );
    check(
        ratio_bank(threshold, Some(f64::NAN)),
        "default_below_ratio",
        "(0, 1)",
    );
    // Acting below 4% (1/25) and insolvent below 4.5% would skip the buffer.
    check(
        ratio_bank(threshold, Some(0.045)),
        "default_below_ratio",
        "below the ratio at which the rule starts selling (0.04 from `rule.max`)",
    );
    check(
        ratio_bank(
            BalanceSheetRule::CapitalRatio { min_ratio: 0.04 },
            Some(0.04),
        ),
        "default_below_ratio",
        "`rule.min_ratio`",
    );
    // Starting at 5% with an insolvency ratio of 6%: the bank starts insolvent.
    check(
        ratio_bank(BalanceSheetRule::Passive, Some(0.06)),
        "default_below_ratio",
        "starts insolvent: equity/assets is 0.05",
    );
    let mut b = ratio_bank(BalanceSheetRule::Passive, Some(0.06));
    b.add_holder(Holder::new(
        "y",
        HolderKind::Fund {
            redemption_beta: 0.0,
        },
    ));
    check(b, "default_below_ratio", "starts insolvent");
    // Margin accounts default at zero equity; the ratio is refused on them.
    let mut b = base();
    let mut h = Holder::new("acct2", HolderKind::MarginAccount { cure_rate: 0.0 });
    h.default_below_ratio = Some(0.03);
    b.add_holder(h);
    b.holds("acct2", "NVDA", 10.0);
    b.lends("broker", "acct2", terms(100.0, 0.3, 0.3));
    check(b, "default_below_ratio", "banks and leveraged funds only");
}

fn call(asset: &str, strike: f64, shares: f64) -> OptionLine {
    OptionLine {
        asset: asset.into(),
        right: OptionRight::Call,
        strike,
        expiry_days: 10.0,
        implied_vol: 0.5,
        shares,
    }
}

fn dealer(options: Vec<OptionLine>, gamma: Vec<GammaLine>) -> NetworkBuilder {
    let mut b = base();
    b.add_asset(asset("AMD", 50.0));
    let mut h = Holder::new("dealers", HolderKind::OptionsDealer { options, gamma });
    h.cash = 1e6;
    b.add_holder(h);
    b
}

#[test]
fn a_dealers_lines_resolve_in_order_with_one_trades_edge_per_asset() {
    let gamma = vec![GammaLine {
        asset: "NVDA".into(),
        usd_per_pct: -1e5,
    }];
    let net = dealer(vec![call("AMD", 55.0, -1e4), call("AMD", 60.0, 1e4)], gamma)
        .build()
        .expect("valid");
    let h = net.find_holder("dealers").expect("dealer");
    assert_eq!(net.lines(h), [AssetIx(1), AssetIx(1), AssetIx(0)]);
    let trades = net
        .graph()
        .edge_weights()
        .filter(|e| matches!(e, Edge::Trades))
        .count();
    assert_eq!(trades, 2);
}

#[test]
fn a_dealers_checks() {
    check(
        dealer(vec![], vec![]),
        "",
        "needs `options` or `gamma` lines",
    );
    check(
        dealer(vec![call("AMDX", 55.0, 1.0)], vec![]),
        "options[0].asset",
        "unknown asset `AMDX`",
    );
    check(
        dealer(vec![call("broker", 55.0, 1.0)], vec![]),
        "options[0].asset",
        "`broker` is not an asset",
    );
    check(
        dealer(vec![call("AMD", 0.0, 1.0)], vec![]),
        "options[0].strike",
        "got 0",
    );
    let mut far = call("AMD", 55.0, 1.0);
    far.expiry_days = 10_001.0;
    far.implied_vol = 5.5;
    let b = dealer(vec![call("AMD", 55.0, 1.0), far], vec![]);
    let ps = problems(b);
    assert!(
        ps.iter().any(|p| p.field == "options[1].expiry_days"),
        "{ps:#?}"
    );
    assert!(
        ps.iter().any(|p| p.field == "options[1].implied_vol"),
        "{ps:#?}"
    );
    let gamma = vec![GammaLine {
        asset: "AMD".into(),
        usd_per_pct: f64::NAN,
    }];
    check(dealer(vec![], gamma), "gamma[0].usd_per_pct", "finite");
    let mut b = dealer(vec![call("AMD", 55.0, 1.0)], vec![]);
    b.holds("dealers", "AMD", 10.0);
    check(b, "holdings", "its delta hedge");
}

fn vol_target(rule: VolTargetRule) -> NetworkBuilder {
    let mut b = base();
    b.add_holder(Holder::new("vt", HolderKind::VolTarget { rule }));
    b.holds("vt", "NVDA", 100.0);
    b
}

const RULE: VolTargetRule = VolTargetRule {
    target_vol: 0.1,
    realised_vol: 0.12,
    half_life_days: 20.0,
    max_leverage: 2.0,
    band: 0.0,
    lag_days: 1,
};

#[test]
fn a_vol_target_funds_checks() {
    assert!(vol_target(RULE).build().is_ok());
    for (rule, field, msg) in [
        (
            VolTargetRule {
                target_vol: 0.0,
                ..RULE
            },
            "target_vol",
            "must be in (0, 5], got 0",
        ),
        (
            VolTargetRule {
                realised_vol: -0.1,
                ..RULE
            },
            "realised_vol",
            "got -0.1",
        ),
        (
            VolTargetRule {
                half_life_days: 0.0,
                ..RULE
            },
            "half_life_days",
            "got 0",
        ),
        (
            VolTargetRule {
                max_leverage: 11.0,
                ..RULE
            },
            "max_leverage",
            "must be in (0, 10], got 11",
        ),
        (
            VolTargetRule { band: 1.0, ..RULE },
            "band",
            "must be in [0, 1), got 1",
        ),
        (
            VolTargetRule {
                lag_days: MAX_LOOKBACK_DAYS + 1,
                ..RULE
            },
            "lag_days",
            "must be at most 2520 trading days",
        ),
    ] {
        check(vol_target(rule), field, msg);
    }
}

fn trend(lookbacks: &[u32], markets: &[(&str, Vec<f64>)]) -> NetworkBuilder {
    let mut b = base();
    b.add_asset(asset("AMD", 50.0));
    let kind = HolderKind::TrendFollower {
        lookbacks: lookbacks
            .iter()
            .map(|&days| Lookback { days, weight: 1.0 })
            .collect(),
        markets: markets
            .iter()
            .map(|(a, r)| TrendMarket {
                asset: (*a).into(),
                max_usd: 1e6,
                past_returns: r.clone(),
            })
            .collect(),
        lag_days: 0,
    };
    let mut h = Holder::new("cta", kind);
    h.cash = 1e6;
    b.add_holder(h);
    b
}

#[test]
fn a_trend_followers_checks() {
    let net = trend(
        &[21, 252],
        &[("AMD", vec![0.1, 0.2]), ("NVDA", vec![0.0, -0.1])],
    )
    .build()
    .expect("valid");
    let h = net.find_holder("cta").expect("cta");
    assert_eq!(net.lines(h), [AssetIx(1), AssetIx(0)]);
    check(
        trend(&[0], &[("AMD", vec![0.1])]),
        "lookbacks[0].days",
        "got 0",
    );
    check(
        trend(&[21, MAX_LOOKBACK_DAYS + 1], &[("AMD", vec![0.1, 0.2])]),
        "lookbacks[1].days",
        "must be in [1, 2520] trading days, got 2521",
    );
    assert!(
        trend(&[MAX_LOOKBACK_DAYS], &[("AMD", vec![0.1])])
            .build()
            .is_ok()
    );
    check(
        trend(&[21, 63], &[("AMD", vec![0.1])]),
        "markets[0].past_returns",
        "has 1 returns for 2 lookbacks",
    );
    check(
        trend(&[21], &[("AMD", vec![-1.0])]),
        "markets[0].past_returns[0]",
        "> −1",
    );
    check(
        trend(&[21], &[("AMD", vec![0.1]), ("AMD", vec![0.2])]),
        "markets",
        "an asset appears twice",
    );
    check(trend(&[], &[]), "lookbacks", "at least one lookback");
    check(trend(&[21], &[]), "markets", "at least one market");
    let mut b = trend(&[21], &[("AMD", vec![0.1])]);
    b.holds("cta", "AMD", 10.0);
    check(b, "holdings", "follow from its signals");
}

/// A trend follower's futures count in `describe` at their notional: up over a year and
/// a month, down over three months (weights 1, 1, 2), its signal is 0 — flat — on one
/// market and +1 on the other; a dealer shows no exposure (its hedge is the engine's),
/// and no leverage prints as −0.
#[test]
fn summary_counts_a_trend_follower_s_futures() {
    use crate::{Lookback, TrendMarket};
    let mut b = NetworkBuilder::new();
    b.add_asset(asset("X", 100.0));
    b.add_asset(asset("Y", 50.0));
    let mut cta = Holder::new(
        "cta",
        HolderKind::TrendFollower {
            lookbacks: vec![
                Lookback {
                    days: 21,
                    weight: 1.0,
                },
                Lookback {
                    days: 63,
                    weight: 2.0,
                },
                Lookback {
                    days: 252,
                    weight: 1.0,
                },
            ],
            markets: vec![
                TrendMarket {
                    asset: "X".into(),
                    max_usd: 1e9,
                    past_returns: vec![0.05, -0.02, 0.10],
                },
                TrendMarket {
                    asset: "Y".into(),
                    max_usd: 4e8,
                    past_returns: vec![0.01, 0.02, 0.30],
                },
            ],
            lag_days: 0,
        },
    );
    cta.cash = 2e8;
    b.add_holder(cta);
    let net = b.build().expect("valid");
    let s = net.summary();
    assert_eq!(s.holders[0].gross_exposure_usd, 4e8);
    assert_eq!(s.holders[0].leverage, 2.0);
    assert_eq!(s.assets[0].leveraged_exposure_usd, 0.0);
    assert_eq!(s.assets[1].leveraged_exposure_usd, 4e8);
}

/// A book of `n` accounts, one or two rows each, from a fixed LCG: cash, loans and
/// shares positive, assets 0 or 1.
fn big_book(n: usize) -> AccountBook {
    let mut x: u64 = 42;
    let mut next = move || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 33) as usize
    };
    let mut book = AccountBook {
        row_ptr: vec![0],
        ..AccountBook::default()
    };
    for _ in 0..n {
        book.cash.push((next() % 100) as f64);
        book.loan.push((next() % 50) as f64);
        for _ in 0..=next() % 2 {
            book.assets.push(AssetIx((next() % 2) as u32));
            book.shares.push(1.0 + (next() % 10) as f64);
        }
        book.row_ptr.push(book.shares.len() as u64);
    }
    book
}

fn book_network(book: AccountBook) -> Result<Network, BuildError> {
    book_builder(book, &[("NVDA", 100.0), ("AMD", 50.0)], 1e12).build()
}

// The book checks run on every core in chunks of rows; what they find (counts, first
// rows, which rows are named) must be what a walk row by row finds, wherever the bad
// rows fall relative to the chunks.
#[test]
fn book_checks_split_across_cores_find_what_a_serial_walk_finds() {
    let n = 300_000;
    assert!(book_network(big_book(n)).is_ok());
    // Underwater accounts in several chunks: the count and the first row.
    let mut book = big_book(n);
    let under = [70_001, 131_072, 299_999];
    for &r in &under {
        book.loan[r] = 1e9;
    }
    let Err(e) = book_network(book) else {
        panic!("underwater rows accepted")
    };
    let msg = e.to_string();
    assert!(
        msg.contains("3 account(s) start with equity ≤ 0 (first: row 70001)"),
        "{msg}"
    );
    // Bad amounts and assets: the first five rows in order, and the rest counted.
    let mut book = big_book(n);
    book.cash[250_000] = f64::NAN;
    book.loan[65_536] = -1.0;
    let last = book.shares.len() - 1;
    book.shares[last] = f64::INFINITY;
    book.assets[3] = AssetIx(7);
    let Err(e) = book_network(book) else {
        panic!("bad rows accepted")
    };
    let msg = e.to_string();
    let at = |s: &str| {
        msg.find(s)
            .unwrap_or_else(|| panic!("{s} missing from {msg}"))
    };
    assert!(
        at("accounts[65536].loan") < at("accounts[250000].cash"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("accounts[{}].shares", n - 1)),
        "{msg}"
    );
    assert!(msg.contains("asset index 7 out of range"), "{msg}");
    // Row pointers that go back, far from the start.
    let mut book = big_book(n);
    book.row_ptr[200_000] = book.row_ptr[199_999] - 1;
    assert!(book_network(book).is_err());
    // Rows past the assets found in any chunk, and only there.
    let book = big_book(n);
    assert!(!book.has_rows_past(2));
    assert!(book.has_rows_past(1));
    let mut book = big_book(n);
    let last = book.assets.len() - 1;
    book.assets[last] = AssetIx(2);
    assert!(book.has_rows_past(2));
}
