//! Unit tests: how a scenario maps to the model — every key to its field, defaults,
//! variants, engine modes, and the JSON Schema.

#![allow(clippy::too_many_lines)] // the tests check one scenario field by field

use super::*;

#[test]
fn base_maps_to_the_model() {
    let s = load(BASE).expect("valid");
    let net = &s.network;
    assert_eq!(
        (net.assets().len(), net.holders().len(), net.lenders().len()),
        (2, 5, 1)
    );
    assert_eq!(s.sources[0].date.as_deref(), Some("2026-01-20"));
    // Holdings in USD are converted at the asset's price.
    let acct = net.find_holder("acct").expect("acct");
    assert_eq!(
        net.holdings(acct).collect::<Vec<_>>(),
        vec![(AssetIx(0), 1000.0), (AssetIx(1), 500.0)]
    );
    let m = net.margin(acct).expect("margin");
    assert_eq!(
        (m.terms.loan, m.terms.maintenance, m.terms.reset),
        (100_000.0, 0.3, 0.3)
    );
    assert_eq!(
        net.holder(acct).kind,
        HolderKind::MarginAccount { cure_rate: 0.1 }
    );
    // The cohort's loan is derived from its buckets: (0.2·0.5 + 0.4·0.5) × $1M.
    let cohort = net.find_holder("cohort").expect("cohort");
    let loan = net.margin(cohort).expect("margin").terms.loan;
    assert!((loan - 300_000.0).abs() < 1e-6, "{loan}");
    // Default impact law and explicit one.
    assert_eq!(net.assets()[0].impact, ImpactLaw::SquareRoot { y: 0.7 });
    assert_eq!(net.assets()[1].impact, ImpactLaw::Linear { per_usd: 1e-13 });
    assert_eq!(net.assets()[1].beta, 1.0);
    assert_eq!(net.assets()[1].duration, 12.0);
    let hf = net.holder(net.find_holder("hf").expect("hf"));
    assert_eq!(
        hf.kind,
        HolderKind::LeveragedFund {
            rule: BalanceSheetRule::Threshold {
                max: 10.0,
                target: 9.5
            }
        }
    );
    assert_eq!(
        (hf.sale_order, hf.cash_use),
        (SaleOrder::MostLiquidFirst, CashUse::ProRata)
    );
    let etf = net.find_holder("etf").expect("etf");
    assert_eq!(net.basket(etf), &[(AssetIx(0), 0.6), (AssetIx(1), 0.4)]);
    assert_eq!(net.lenders()[0].tighten_trigger, Some(0.25));

    assert_eq!(
        s.shocks,
        vec![
            Shock::AssetReturn {
                asset: AssetIx(0),
                ret: -0.17
            },
            Shock::TagReturn {
                tag: "semis".into(),
                ret: -0.05
            },
            Shock::Market {
                ret: -0.05,
                tag: None
            },
            Shock::DiscountRate {
                delta: 0.01,
                tag: Some("ai".into())
            },
            Shock::ExogenousSale {
                asset: AssetIx(1),
                usd: 1.0e9
            },
            Shock::MarginTightening {
                lender: None,
                by: 0.05
            },
            Shock::MarginTightening {
                lender: Some(LenderIx(0)),
                by: 0.05
            },
            Shock::Redemption {
                holder: HolderIx(4),
                fraction: 0.1
            },
        ]
    );
    assert_eq!(
        s.engine,
        EngineConfig {
            max_rounds: 50,
            damping: 0.5,
            ..EngineConfig::default()
        }
    );
    let e = s.expect.expect("expect");
    assert_eq!(e.termination, Some(Termination::Converged));
    assert_eq!(e.totals.len(), 2);
    assert_eq!(e.totals[0].key, "amplification");
    assert_eq!(e.totals[1].bound, Bound::Equals(0.0));
    assert_eq!(
        e.assets[0].checks[0].bound,
        Bound::Approx {
            value: -0.2,
            rel_tol: 0.1,
            abs_tol: 0.0
        }
    );
    assert_eq!(e.holders[0].id, "acct");
    assert_eq!(e.holders[0].status, vec![Status::Sold, Status::MarginCall]);
    assert_eq!(e.holders[1].holder, etf);
    assert_eq!(s.path, None);
}

#[test]
fn defaults_apply() {
    let s = load(&edit(
        "defaults:\n  cure_rate: 0.1\n",
        "defaults:\n  impact: { law: cont_schaanning, c: 0.5 }\n",
    ))
    .expect("valid");
    assert_eq!(
        s.network.assets()[0].impact,
        ImpactLaw::ContSchaanning {
            c: 0.5,
            tau_days: 20.0,
            floor: 0.5
        }
    );
    let acct = s.network.find_holder("acct").expect("acct");
    assert_eq!(
        s.network.holder(acct).kind,
        HolderKind::MarginAccount { cure_rate: 0.0 }
    );
    let s = load(&edit("engine: { max_rounds: 50, damping: 0.5 }\n", "")).expect("valid");
    assert_eq!(s.engine, EngineConfig::default());
}

#[test]
fn json_schema_describes_the_format() {
    let schema = crate::json_schema();
    let props = &schema["properties"];
    for key in [
        "name",
        "description",
        "as_of",
        "assets",
        "holders",
        "lenders",
        "shocks",
        "engine",
        "expect",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
    assert_eq!(
        schema["additionalProperties"],
        serde_json::Value::Bool(false)
    );
}

#[test]
fn engine_mode_and_insolvency_ratio() {
    let s = load(VARIANTS).expect("valid");
    assert_eq!(s.engine.mode, delever_engine::Mode::Sequential);
    assert_eq!(s.engine.max_rounds, 200);
    let b1 = s.network.holder(HolderIx(0));
    assert_eq!(b1.default_below_ratio, Some(0.03));
    check(
        &VARIANTS.replace("mode: sequential", "mode: sequentail"),
        "engine.mode",
        (18, 17),
        "unknown value `sequentail`",
        "did you mean `sequential`?",
    );
    check(
        &VARIANTS.replace("default_below_ratio: 0.03", "default_below_ratio: 0.05"),
        "holders[0].default_below_ratio",
        (13, 26),
        "below the ratio at which the rule starts selling (0.04",
        "act below 0.04",
    );
    // Only banks and leveraged funds.
    let fund = BASE.replacen(
        "    redemption_beta: 2.5\n",
        "    redemption_beta: 2.5\n    default_below_ratio: 0.03\n",
        1,
    );
    let Err(d) = load(&fund) else {
        panic!("a fund with default_below_ratio must be refused");
    };
    assert!(
        d.iter().any(|d| d.path == "holders[4].default_below_ratio"
            && d.message.contains("belongs to bank, leveraged_fund")),
        "{d:#?}"
    );
}

#[test]
fn variants_expand_into_scenarios() {
    let s = load(VARIANTS).expect("valid");
    assert_eq!(s.variants.len(), 3);
    let all = s.expand().expect("expands");
    let names: Vec<&str> = all.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["vary@eq", "vary@big", "vary@quiet"]);
    // `eq`: the base's shocks and max_rounds, the mode replaced.
    assert_eq!(all[0].engine.mode, delever_engine::Mode::Equilibrium);
    assert_eq!(all[0].engine.max_rounds, 200);
    assert_eq!(all[0].shocks, s.shocks);
    assert!(all[0].expect.is_none());
    assert_eq!(all[0].description, s.description);
    // `big`: its own shocks, impact and expectations; the base network otherwise.
    assert_eq!(
        all[1].shocks,
        vec![Shock::AssetReturn {
            asset: AssetIx(0),
            ret: -0.30
        }]
    );
    assert_eq!(
        all[1].network.asset(AssetIx(0)).impact,
        ImpactLaw::Exponential { alpha: 1.0259 }
    );
    assert_eq!(
        all[1].network.asset(AssetIx(1)).impact,
        ImpactLaw::Exponential { alpha: 0.2 }
    );
    assert_eq!(all[1].description, "A 30% shock with strong impact.");
    assert!(all[1].expect.is_some());
    assert!(all[1].variants.is_empty());
    assert!(all[2].shocks.is_empty());
    assert_eq!(s.find_variant("big").map(|v| v.impact.len()), Some(1));
    // A variant runs like any scenario.
    let out = delever_engine::run(&all[1].network, &all[1].shocks, &all[1].engine).expect("runs");
    let results = all[1].expect.as_ref().expect("expect").evaluate(&out);
    assert!(results.iter().all(|r| r.passed), "{results:#?}");
}
