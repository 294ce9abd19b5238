//! A Monte Carlo study and a sweep on a small scenario, against plain runs of the engine.

// A test that unwraps fails with the line that broke, which is all a message would say.
#![allow(clippy::unwrap_used, missing_docs)]

use delever_batch::grid::{Grid, Vary};
use delever_batch::mc::{Study, SummaryMeta, summary};
use delever_batch::sweep::Sweep;
use delever_scenario::{Scenario, Template};

fn yaml(vol: f64, keep: bool) -> String {
    format!(
        r"
name: tiny
description: One retail account at 50% loan-to-value, called at 30% maintenance.
as_of: 2026-05-29
sources: [{{ id: finra-4210, title: FINRA Rule 4210 }}]
assets:
  - {{ id: NVDA, price: 200, shares_outstanding: 2.43e10, adv_usd: 4.0e10, daily_vol: 0.025 }}
lenders:
  - {{ id: broker, capital: 1.0e9 }}
holders:
  - id: alice
    kind: margin_account
    holdings: [{{ asset: NVDA, shares: 1000 }}]
    margin: {{ lender: broker, loan: 100000, maintenance: 0.30 }}
shocks:
  - {{ type: asset, asset: NVDA, return: -0.35 }}
  - {{ type: margin_tightening, by: 0.05 }}
monte_carlo:
  distribution: {{ type: normal }}
  assets: [{{ asset: NVDA, daily_vol: {vol} }}]
  scenario_shocks: {keep}
"
    )
}

fn load(vol: f64, keep: bool) -> Scenario {
    Scenario::from_yaml(&yaml(vol, keep), "tiny.yaml", None).unwrap()
}

#[test]
fn zero_vol_draws_replace_only_the_price_shocks() {
    // vol 0: every draw is a return of exactly 0, so the study is the scenario without its
    // price shock (the margin tightening is kept).
    let s = load(0.0, false);
    let study = Study::new(&s, None).unwrap();
    let draws = study.run(3, 0..5, &|| {}).unwrap();
    let kept = [s.shocks[1].clone()];
    let plain = delever_engine::run(&s.network, &kept, &s.engine).unwrap();
    for d in &draws {
        assert_eq!(d.figures.total_loss_usd, plain.totals.total_loss_usd);
        assert_eq!(d.figures.margin_calls, plain.totals.margin_calls);
        assert_eq!(d.market_return, 0.0);
    }
    // and with the scenario's shocks kept, each draw is the scenario's own run
    let s = load(0.0, true);
    let study = Study::new(&s, None).unwrap();
    let d = study.run(3, 0..1, &|| {}).unwrap();
    let own = delever_engine::run(&s.network, &s.shocks, &s.engine).unwrap();
    assert_eq!(d[0].figures.total_loss_usd, own.totals.total_loss_usd);
    assert_eq!(d[0].figures.margin_calls, 1);
}

#[test]
fn a_draw_is_the_run_of_its_own_returns() {
    let s = load(0.03, false);
    let study = Study::new(&s, None).unwrap();
    let draws = study.run(9, 0..50, &|| {}).unwrap();
    let kept = [s.shocks[1].clone()];
    for d in &draws {
        // one asset: the market return is the asset's return
        let mut shocks = kept.to_vec();
        shocks.push(delever_engine::Shock::AssetReturn {
            asset: delever_graph::AssetIx(0),
            ret: d.market_return,
        });
        let plain = delever_engine::run(&s.network, &shocks, &s.engine).unwrap();
        assert_eq!(d.figures.total_loss_usd, plain.totals.total_loss_usd);
    }
    // a shard of the draws is the same rows
    assert_eq!(
        study.run(9, 20..30, &|| {}).unwrap(),
        draws[20..30].to_vec()
    );
    let kinds = study.kind_names();
    let sm = summary(
        &SummaryMeta {
            scenario: "tiny",
            seed: 9,
            distribution: study.describe(),
            kinds: &kinds,
            lenders: &study.lender_names(),
        },
        &draws,
    );
    assert_eq!(sm.draws, 50);
    assert_eq!(sm.metrics[0].metric, "total_loss_usd");
}

#[test]
fn a_sweep_variant_is_the_hand_edited_scenario() {
    let t = Template::from_yaml(&yaml(0.025, false), "tiny.yaml", None).unwrap();
    let grid = Grid::new(vec![
        Vary::parse("shocks[0].return=-0.1,-0.5").unwrap(),
        Vary::parse("holders[alice].margin.maintenance=0.25,0.4").unwrap(),
    ])
    .unwrap();
    let sweep = Sweep::new(&t, &grid, None).unwrap();
    let rows = sweep.run(0..grid.len(), &|| {}).unwrap();
    assert_eq!(rows.len(), 4);
    let edited = yaml(0.025, false)
        .replace("return: -0.35", "return: -0.5")
        .replace("maintenance: 0.30", "maintenance: 0.4");
    let s = Scenario::from_yaml(&edited, "tiny.yaml", None).unwrap();
    let plain = delever_engine::run(&s.network, &s.shocks, &s.engine).unwrap();
    assert_eq!(rows[3].figures.total_loss_usd, plain.totals.total_loss_usd);
    assert_eq!(rows[3].figures.margin_calls, plain.totals.margin_calls);
    // a 10% fall calls nobody at 25% maintenance; a 50% fall at 40% does
    assert_eq!(rows[0].figures.margin_calls, 0);
    assert_eq!(rows[3].figures.margin_calls, 1);
}
