//! # Airlock
//!
//! Runs the code that LLM agents write against MCP tools inside WebAssembly
//! components, under hard limits on fuel, memory, time, output and tool
//! calls. Only what the code prints goes back to the model.
//!
//! ```no_run
//! use airlock::{Language, Runtime, ToolDefinition};
//!
//! # async fn demo() -> Result<(), airlock::Error> {
//! let runtime = Runtime::builder()
//!     .tool("crm", ToolDefinition::new("count"), |_args: serde_json::Value| async {
//!         Ok(serde_json::json!({"count": 42}))
//!     })
//!     .build()
//!     .await?;
//! let session = runtime.session()?;
//! let code = r#"
//!     import { callTool } from "airlock";
//!     const { count } = await callTool("crm", "count", {});
//!     console.log(`${count} customers`);
//! "#;
//! let result = session.execute(code, Language::JavaScript).await?;
//! assert_eq!(result.stdout, "42 customers\n");
//! # Ok(()) }
//! ```
//!
//! A [`Runtime`] is built once and shared; a [`Session`] holds what
//! executions share on purpose (the workspace folder); every execution
//! gets a fresh instance of the pre-initialised guest and returns an
//! [`ExecutionResult`]. A limit ends only the execution that hit it, with
//! [`ExecutionError::Limit`] naming the [`Limit`].

#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

// Layers, bottom up (a module names only modules below it; the
// `architecture` test checks it): base types and leaves (`tool`, `digest`,
// `progress`, `limits`, `execution`, `suggest`, `metrics`, `wit`,
// `transpile`, `dirs`, `codegen`, `language`, `approval`); `validation`, `audit`,
// `config`, then `upstream`; `durable` (journals, the tape, the store of
// paused executions); `registry`, which only routes calls; on it
// `skills` (the source side) and `error`, then the services `discovery`
// and `module_server`, and the `boundary` every call passes; the
// `sandbox`, whose stores hold them; `engine`, `typed` and
// `component_skills` on the sandbox; `runtime`, then `session`, on top.
// Where a lower module must call up, it defines a trait the higher one
// implements (`module_server::CompileModule`, `sandbox::SkillLinker`).

pub mod approval;
pub mod audit;
mod boundary;
pub mod codegen;
mod component_skills;
pub mod config;
mod digest;
mod dirs;
pub mod discovery;
pub mod durable;
/// The PII engine (the `airlock-pii` crate): detectors, vault, tokens.
pub use airlock_pii as pii;
mod engine;
mod error;
mod execution;
mod language;
mod limits;
mod metrics;
mod module_server;
mod progress;
mod registry;
mod runtime;
mod sandbox;
mod session;
pub mod skills;
pub mod suggest;
mod tool;
mod transpile;
mod typed;
mod upstream;
pub mod validation;
mod wit;

pub use approval::{ApprovalRequest, ApprovalRule, ApprovalSettings, Approver, Decision};
pub use audit::AuditLog;
pub use codegen::{py_declarations, ts_declarations, wit_interface};
pub use config::{Config, ConfigError};
pub use durable::{
    ExecutionStore, ExecutionSummary, JournalKey, Paused, ResumeError, SqliteStore, StoreError, StoredExecution,
    session_parts_in_order,
};
pub use error::{Cause, Error, LinkError, Report};
pub use execution::{ExecutionError, ExecutionResult, Stats};
pub use language::{Interpreter, LANGUAGES, Language, LanguageSpec};
pub use limits::{Limit, Limits, ParseSizeError, parse_size};
pub use metrics::Metrics;
pub use progress::Progress;
pub use registry::ToolRegistry;
pub use runtime::{JOURNAL_KEY_VAR, Runtime, RuntimeBuilder};
pub use session::{PausedExecution, ResumeOptions, Session, SessionStats};
pub use tool::{Listing, ToolAnnotations, ToolDefinition, ToolError, ToolFuture, ToolHandler};
pub use transpile::{LineMap, Transpiled, TypeScriptError, transpile};
pub use upstream::{ServerStatus, UpstreamPool};
