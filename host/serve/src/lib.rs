//! # airlock-serve
//!
//! Airlock as an MCP server, as a library: the code-mode tools a model gets
//! instead of every upstream tool (`execute_code`, `search_tools`,
//! `list_servers`, `describe_tools`, the skill tools) and the generated
//! declarations as resources ([`CodeModeServer`]), served over stdio
//! ([`serve_stdio`]) or Streamable HTTP ([`HttpServer`]). The `airlock
//! serve` command is a thin front end over it; an application that embeds
//! the `airlock` library can serve its runtime the same way.

mod answers;
mod asking;
mod caps;
mod front;
mod server;
mod sessions;
mod shared;
pub mod tokens;
mod transport;

pub use caps::{ExecutionCaps, ExecutionLimits, SERVER_BUSY};
pub use server::{CodeModeServer, tool_result};
pub use transport::{HttpOptions, HttpServer, ServeError, check_origin, serve_stdio, stop_signal};
