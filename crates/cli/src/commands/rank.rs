//! `delever rank`: who makes the cascade bad, every holder ranked.

use std::fmt::Write as _;

use delever_report::{Format, SystemicReport, rank_table};
use serde_json::json;

use super::{load, simulate_detailed, systemic};
use crate::args::{Cli, OutputArgs};
use crate::output::Outputs;
use crate::{Failure, exit};

pub fn rank(
    cli: &Cli,
    arg: Option<&str>,
    variant: Option<&str>,
    out: &OutputArgs,
) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", out.output.as_deref())?;
    let scenario = super::run::pick_variant(load(arg)?, variant)?;
    let config = scenario.engine.clone();
    let (outcome, ledger) = simulate_detailed(cli, &scenario, &config)?;
    let s = systemic(&scenario, &config, &outcome, &ledger, true, cli.quiet)?;
    let cascade = outcome.totals.total_loss_usd - outcome.totals.initial_loss_usd;
    let text = match Format::from(out.format) {
        Format::Table => table(&scenario.name, cascade, &s),
        Format::Json => {
            let mut m = delever_report::json_versions();
            for (k, v) in [
                ("scenario", json!(scenario.name)),
                ("mode", json!(outcome.mode.name())),
                ("termination", json!(outcome.termination.name())),
                ("cascade_loss_usd", json!(cascade)),
                ("ranking", json!(s.ranking())),
                ("systemic", json!(s)),
            ] {
                m.insert(k.into(), v);
            }
            let v = serde_json::Value::Object(m);
            let mut t = serde_json::to_string_pretty(&v).unwrap_or_default();
            t.push('\n');
            t
        }
        Format::Csv => csv(&s),
        Format::Markdown => super::markdown(&format!("delever rank {}", scenario.name), || {
            table(&scenario.name, cascade, &s)
        }),
    };
    outputs.put(slot, text);
    outputs.commit()?;
    let code = outcome.exit_code();
    if code == exit::NOT_CONVERGED {
        super::run::warn_not_converged(&scenario.name, &outcome);
    }
    Ok(code)
}

fn table(name: &str, cascade: f64, s: &SystemicReport) -> String {
    let mut out = format!(
        "scenario  {name}\ncascade loss (total − initial)  {}\n\n",
        delever_report::usd(cascade)
    );
    out.push_str(&rank_table(
        &s.ranking(),
        "Holders by marginal contribution (the cascade loss their forced selling adds)",
    ));
    // The aggregate lines of the run table, without its top-10 table.
    let rest = s.to_table(0);
    if !rest.is_empty() {
        out.push('\n');
        out.push_str(&rest);
    }
    out
}

fn csv(s: &SystemicReport) -> String {
    let mut out = String::from(
        "rank,holder,kind,contribution_usd,share_of_cascade,systemicness,indirect_vulnerability,debtrank\n",
    );
    let cell = |x: Option<f64>| x.map_or_else(String::new, delever_report::csv_num);
    for (k, r) in s.ranking().iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            k + 1,
            delever_report::csv_field(&r.id),
            r.kind,
            cell(r.contribution_usd),
            cell(r.share_of_cascade),
            cell(r.systemicness),
            cell(r.indirect_vulnerability),
            cell(r.debtrank),
        );
    }
    out
}
