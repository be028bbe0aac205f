//! What an execution returns.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::limits::Limit;

/// The result of running one piece of agent code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecutionResult {
    /// What the code printed to stdout (capped; see [`crate::Limits`]).
    pub stdout: String,
    /// What the code printed to stderr (capped).
    pub stderr: String,
    /// The module's default export as JSON, `null` when it has none or the
    /// execution failed.
    pub value: serde_json::Value,
    /// Why the execution did not finish normally; `None` on success.
    pub error: Option<ExecutionError>,
    /// What the execution used.
    pub stats: Stats,
    /// Set when the execution stopped at a gated tool call to wait for a
    /// human's decision ([`crate::Decision::Pause`]): what it waits on,
    /// and the id to [resume](crate::Session::resume) it by. `stdout`
    /// and `stderr` then hold what it printed so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<crate::durable::Paused>,
}

impl ExecutionResult {
    /// Whether the code ran to completion.
    pub fn is_success(&self) -> bool {
        self.error.is_none() && self.paused.is_none()
    }

    /// The limit the execution hit, if any.
    pub fn limit(&self) -> Option<Limit> {
        match &self.error {
            Some(ExecutionError::Limit { limit, .. }) => Some(*limit),
            _ => None,
        }
    }
}

/// Why an execution ended early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ExecutionError {
    /// A limit ended the execution.
    #[error("{limit} limit: {message}")]
    Limit {
        /// Which limit.
        limit: Limit,
        /// What happened, for people and models.
        message: String,
    },
    /// The code threw (or left a promise rejected), or did not compile.
    #[error("{}{message}", if name.is_empty() { String::new() } else { format!("{name}: ") })]
    Exception {
        /// The exception's class name, such as `TypeError` or `ToolError`.
        name: String,
        /// The exception's message.
        message: String,
        /// The stack trace, pointing at the agent's lines.
        stack: Option<String>,
    },
    /// The guest crashed in a way no limit explains.
    #[error("guest trap: {message}")]
    Trap {
        /// The trap as wasmtime reports it.
        message: String,
    },
}

/// What an execution used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Stats {
    /// Fuel consumed (about one unit per wasm instruction).
    pub fuel_used: u64,
    /// Wall-clock time from instantiation to the end, tool calls included.
    #[serde(with = "duration_micros")]
    pub wall_time: Duration,
    /// The largest linear memory the guest reached, in bytes.
    pub peak_memory: u64,
    /// Tool calls made.
    pub tool_calls: u32,
}

/// Durations appear in JSON as whole microseconds (`wall_time_us` would be
/// clearer, but the field name is the API).
mod duration_micros {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(u64::try_from(value.as_micros()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_micros)
    }
}
