//! The `airlock` binary's integration tests, one binary: the command line,
//! `serve` driven by real MCP clients (the official Python SDK and the
//! conformance suite), skills, PII and the README's own commands.

mod common;

mod cli;
mod conformance;
mod executions;
mod http_front;
mod pii;
mod readme;
mod scale;
mod serve;
mod skills;
