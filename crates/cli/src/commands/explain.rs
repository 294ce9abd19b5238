//! `delever explain`: why one holder sold, round by round, with the numbers in its rule;
//! on a timeline, the holder's days.

use std::fmt::Write as _;
use std::path::Path;

use delever_engine::Mode;
use delever_engine::explain::Replay;
use delever_graph::Network;
use delever_report::{ExplainReport, HolderDaysReport};

use super::{load, meta, simulate};
use crate::args::{Cli, ExplainFormat};
use crate::output::Outputs;
use crate::{Failure, exit};

pub fn explain(
    cli: &Cli,
    arg: Option<&str>,
    holder: &str,
    format: ExplainFormat,
    output: Option<&Path>,
) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", output)?;
    let scenario = load(arg)?;
    let net = &scenario.network;
    let Some(h) = net.find_holder(holder) else {
        return Err(Failure::input(unknown_holder(net, &scenario.name, holder)));
    };
    if scenario.engine.mode == Mode::Sequential {
        return Err(Failure::input(format!(
            "error: {} runs in sequential mode, whose rounds carry balance sheets from one to the \
             next; explain follows equilibrium runs\n  hint: `delever run {} --trace` shows the \
             rounds; with `engine: {{ mode: equilibrium }}` explain shows why `{holder}` sells",
            scenario.name,
            arg.unwrap_or(&scenario.name)
        )));
    }
    let outcome = simulate(cli, &scenario, &scenario.engine)?;
    let heading = format!("delever explain {} --holder {holder}", scenario.name);
    if outcome.mode == Mode::Timeline {
        // A timeline carries balance sheets from day to day: its days are the run's own
        // figures, not a replay.
        let report = HolderDaysReport::new(&meta(&scenario), net, &outcome, h);
        let text = match format {
            ExplainFormat::Table => report.to_table(),
            ExplainFormat::Json => report.to_json(),
            ExplainFormat::Markdown => super::markdown(&heading, || report.to_table()),
        };
        outputs.put(slot, text);
        outputs.commit()?;
        return Ok(not_converged(&scenario.name, &outcome));
    }
    let explanation = Replay::new(net, &scenario.shocks)
        .and_then(|mut r| r.explain(&outcome, h))
        .map_err(|e| Failure::input(format!("error: explaining `{holder}`: {e}")))?;
    let report = ExplainReport::new(&meta(&scenario), net, &outcome, &explanation);
    let text = match format {
        ExplainFormat::Table => report.to_table(),
        ExplainFormat::Json => report.to_json(),
        ExplainFormat::Markdown => super::markdown(&heading, || report.to_table()),
    };
    outputs.put(slot, text);
    outputs.commit()?;
    Ok(not_converged(&scenario.name, &outcome))
}

/// The exit code of `outcome`, saying on stderr when it did not converge.
fn not_converged(name: &str, outcome: &delever_engine::Outcome) -> i32 {
    let code = outcome.exit_code();
    if code == exit::NOT_CONVERGED {
        eprintln!(
            "warning: {name} did not converge within {} rounds (residual {:.2e}); the rounds above are the ones it ran",
            outcome.rounds, outcome.residual
        );
    }
    code
}

/// The message for a holder id the scenario does not have: what it is instead, or the
/// closest holder ids.
fn unknown_holder(net: &Network, scenario: &str, id: &str) -> String {
    let mut msg = format!("error: `{id}` is not a holder in {scenario}");
    if net.find_lender(id).is_some() {
        let _ = write!(
            msg,
            "\n  hint: `{id}` is a lender; explain takes a holder (one of its borrowers)"
        );
        return msg;
    }
    if net.find_asset(id).is_some() {
        let _ = write!(
            msg,
            "\n  hint: `{id}` is an asset; explain takes a holder (one that holds it)"
        );
        return msg;
    }
    let lower = id.to_lowercase();
    let mut scored: Vec<(f64, &str)> = net
        .holders()
        .iter()
        .map(|h| {
            let s = strsim::jaro_winkler(&h.id.to_lowercase(), &lower);
            (s, h.id.as_str())
        })
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    if let Some((_, best)) = scored.first() {
        let _ = write!(msg, "\n  hint: did you mean `{best}`?");
        if scored.len() > 1 {
            let others: Vec<String> = scored
                .iter()
                .skip(1)
                .take(3)
                .map(|(_, s)| format!("`{s}`"))
                .collect();
            let _ = write!(msg, " (or {})", others.join(", "));
        }
    } else {
        let ids: Vec<String> = net
            .holders()
            .iter()
            .take(8)
            .map(|h| format!("`{}`", h.id))
            .collect();
        let more = net.holders().len().saturating_sub(8);
        let _ = write!(
            msg,
            "\n  hint: its holders are {}{}",
            ids.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
    }
    msg
}
