//! integration tests
mod errors;
mod scenario_props;
