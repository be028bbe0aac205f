//! The library's integration tests, one binary (linking wasmtime once):
//! Airlock driven end to end through its embedding API, with real guests,
//! real upstream MCP servers and the test-only fixture components.

mod support;

mod architecture;

mod approvals;

mod component_skills;
mod components;
mod discovery;
mod durable;
mod isolation;
mod language;
mod limits;
mod pii;
mod python;
mod skills;
mod tools;
mod upstream;
