//! delever's integration tests: one test binary gathering every module (ripgrep's layout),
//! so the workspace links it once.

mod batch;
mod books_columnar;
mod check;
mod check_conventions;
mod cli;
mod cli_conventions;
mod convexity_calibration;
mod convexity_format;
mod docs_links;
mod eba;
mod errors;
mod etf_shares;
mod exercises;
mod fuzz;
mod generate;
mod golden;
mod hardening_batch;
mod hardening_inputs;
mod hardening_outputs;
mod inet_timing;
mod loading;
mod report_cli;
mod report_figures;
mod report_figures2;
mod report_html;
mod report_tables;
mod scenario_props;
mod schema;
mod schema_corpus;
mod serve;
mod shipped;
mod systemic;
mod timeline;
mod timeline_reports;
mod util;
