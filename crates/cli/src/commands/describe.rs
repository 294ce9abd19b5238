//! `delever describe`: where the leveraged exposure sits.

use delever_report::{Format, SummaryReport};

use super::load;
use crate::args::OutputArgs;
use crate::output::Outputs;
use crate::{Failure, exit};

pub fn describe(arg: Option<&str>, out: &OutputArgs) -> Result<i32, Failure> {
    let mut outputs = Outputs::new();
    let slot = outputs.plan("-o", out.output.as_deref())?;
    let scenario = load(arg)?;
    // An options dealer's exposure is its delta hedge, which the engine computes.
    let dealers = delever_engine::dealer_hedges(&scenario.network);
    let hedges: Vec<_> = dealers
        .iter()
        .map(|d| (d.holder, d.asset, d.hedge_usd))
        .collect();
    let summary = scenario.network.summary_with(&hedges);
    let report = SummaryReport::new(&scenario.name, &summary).with_dealers(&dealers);
    let text = match Format::from(out.format) {
        Format::Table => report.to_table(),
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
        Format::Markdown => super::markdown(&format!("delever describe {}", scenario.name), || {
            report.to_table()
        }),
    };
    outputs.put(slot, text);
    outputs.commit()?;
    Ok(exit::OK)
}
