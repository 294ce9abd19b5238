//! `delever list`: the shipped scenarios.

use std::fmt::Write as _;

use delever_report::{Format, Table};
use delever_scenario::Scenario;

use crate::args::OutputArgs;
use crate::output::emit;
use crate::{Failure, embedded, exit};

pub fn list(out: &OutputArgs) -> Result<i32, Failure> {
    let mut rows = Vec::new();
    for (name, text) in embedded::EMBEDDED {
        let origin = format!("scenarios/{name}.yaml");
        // A shipped scenario that does not load is a bug; show it rather than hide it.
        let (summary, as_of) = match Scenario::from_yaml(text, &origin, None) {
            Ok(s) => (
                s.description.lines().next().unwrap_or("").trim().to_owned(),
                s.as_of,
            ),
            Err(_) => (
                "(needs its data files: run it from the scenarios/ directory)".to_owned(),
                String::new(),
            ),
        };
        rows.push((*name, as_of, summary));
    }
    let text = match Format::from(out.format) {
        Format::Table => {
            let mut t = Table::new(["scenario", "as of", "description"])
                .left(1)
                .left(2);
            for (n, d, s) in &rows {
                t.row([n.to_string(), d.clone(), s.clone()]);
            }
            t.render()
        }
        Format::Json => {
            let v: Vec<_> = rows
                .iter()
                .map(|(n, d, s)| serde_json::json!({"name": n, "as_of": d, "description": s}))
                .collect();
            serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"
        }
        Format::Csv => {
            let mut s = String::from("name,as_of,description\n");
            for (n, d, desc) in &rows {
                let _ = writeln!(s, "{n},{d},\"{}\"", desc.replace('"', "\"\""));
            }
            s
        }
    };
    emit(&text, out.output.as_deref())?;
    Ok(exit::OK)
}
