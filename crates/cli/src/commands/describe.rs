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
    let summary = scenario.network.summary();
    let report = SummaryReport::new(&scenario.name, &summary);
    let text = match Format::from(out.format) {
        Format::Table => report.to_table(),
        Format::Json => report.to_json(),
        Format::Csv => report.to_csv(),
    };
    outputs.put(slot, text);
    outputs.commit()?;
    Ok(exit::OK)
}
