//! Golden snapshots: every shipped scenario's full JSON report, so any change in any figure
//! shows up as a reviewed diff (insta). After an intended model change, regenerate with
//! `INSTA_UPDATE=always cargo test --test integration golden` and review the diff in git.

use std::path::Path;

use delever_report::{RunMeta, RunReport, SystemicReport};
use delever_scenario::Scenario;

/// The JSON report of a scenario file, exactly as `delever run FILE --format json` writes it.
pub fn report_json(path: &Path) -> String {
    let s = Scenario::load(path).unwrap_or_else(|e| panic!("{e}"));
    let (out, ledger) = delever_engine::run_detailed(
        &s.network,
        &s.shocks,
        &s.engine,
        &mut delever_engine::Silent,
    )
    .unwrap_or_else(|e| panic!("{}: {e}", s.name));
    let meta = RunMeta {
        name: s.name.clone(),
        description: s.description.clone(),
        as_of: s.as_of.clone(),
    };
    // Every shipped scenario has at most 100 holders: `run` computes its contributions.
    let systemic = SystemicReport::compute(
        &s.network,
        &s.shocks,
        &s.engine,
        (&out, &ledger),
        Ok(&|| {}),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", s.name));
    RunReport::new(&meta, &s.network, &out)
        .with_systemic(systemic)
        .to_json()
}

#[test]
fn shipped_scenario_reports() {
    insta::glob!("../scenarios", "*.yaml", |path| {
        insta::with_settings!({
            snapshot_path => "snapshots",
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(report_json(path));
        });
    });
}

#[test]
fn the_cli_writes_the_same_report() {
    let path = crate::util::root().join("scenarios/semis-sentiment-reversal.yaml");
    let cli = crate::util::delever([
        "run".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    assert_eq!(cli.stdout, report_json(&path));
}
