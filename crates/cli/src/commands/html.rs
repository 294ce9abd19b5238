//! `delever run --html FILE`: the self-contained HTML report, with the round-by-round
//! player fed by a replay of the run (a timeline's day player reads the run's days).

use delever_engine::explain::Replay;
use delever_engine::{Ledger, Mode, Outcome};
use delever_report::html::{HtmlInput, Player, render};
use delever_report::{ScenarioNotes, SourceNote};
use delever_scenario::Scenario;

use super::meta;

/// What the scenario says about its assumptions and sources.
pub fn notes(s: &Scenario) -> ScenarioNotes {
    ScenarioNotes {
        assumptions: s.assumptions.clone(),
        sources: s
            .sources
            .iter()
            .map(|x| SourceNote {
                id: x.id.clone(),
                title: x.title.clone(),
                url: x.url.clone(),
                date: x.date.clone(),
            })
            .collect(),
    }
}

/// Render the HTML report of `outcome` (a run of `scenario`), with its systemic metrics
/// when computed.
pub fn report(
    scenario: &Scenario,
    outcome: &Outcome,
    ledger: &Ledger,
    systemic: Option<&delever_report::SystemicReport>,
) -> String {
    let _span = tracing::info_span!("html").entered();
    let mut player = Player::new(&scenario.network, ledger);
    if outcome.mode == Mode::Sequential {
        // Sequential rounds carry balance sheets over and cannot be replayed from prices;
        // the page says so and the network shows final statuses.
        tracing::info!("sequential run: the HTML player shows final statuses");
    } else if outcome.mode == Mode::Timeline {
        // Days carry balance sheets over too; the page plays the run's own days.
        tracing::info!("timeline run: the HTML player steps through the run's days");
    } else if let Err(e) = Replay::new(&scenario.network, &scenario.shocks)
        .and_then(|mut r| r.rounds(outcome, &mut |round| player.round(round)))
    {
        // The run itself succeeded with the same shocks, so this is not expected; the report
        // is still useful without the per-round states (the player shows final statuses).
        tracing::warn!("replaying the rounds for the HTML player failed: {e}");
    }
    render(&HtmlInput {
        meta: &meta(scenario),
        notes: &notes(scenario),
        net: &scenario.network,
        outcome,
        ledger,
        player: &player,
        systemic,
    })
}
