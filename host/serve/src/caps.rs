//! Bounds on the executions in flight (running, or waiting for a free
//! instance), per session and across the server: past them `execute_code`
//! is refused at once with a "server busy" JSON-RPC error that says when to
//! retry, instead of queueing without end.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use rmcp::ErrorData as McpError;
use rmcp::model::ErrorCode;
use serde_json::json;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The JSON-RPC error code of a request refused because the server is at
/// one of its limits (sessions, executions in flight); its `data` holds
/// `reason`, `limit` and `retryAfterSeconds`. In the range JSON-RPC leaves
/// to implementations, clear of the codes MCP and its SDKs use (-32000,
/// -32001, -32002, -32020 to -32022, -32042).
pub const SERVER_BUSY: i32 = -32010;

/// The executions in flight allowed per session and per server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecutionLimits {
    /// Executions one session may have in flight at once.
    pub per_session: usize,
    /// Executions all sessions together may have in flight at once.
    pub per_server: usize,
}

impl ExecutionLimits {
    /// The default per session.
    pub const DEFAULT_PER_SESSION: usize = 16;
    /// The default per server (the size of the runtime's instance pool).
    pub const DEFAULT_PER_SERVER: usize = 256;
}

impl Default for ExecutionLimits {
    fn default() -> Self {
        ExecutionLimits { per_session: Self::DEFAULT_PER_SESSION, per_server: Self::DEFAULT_PER_SERVER }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct LimitLabel {
    limit: &'static str,
}

/// [`ExecutionLimits`] in force: the server-wide count is shared by every
/// clone; each [`crate::CodeModeServer`] keeps its session's own.
#[derive(Clone)]
pub struct ExecutionCaps {
    limits: ExecutionLimits,
    server: Arc<Semaphore>,
    /// Refusals by the limit that refused (`session`, `server`).
    pub(crate) refused: Family<LimitLabel, Counter>,
}

impl std::fmt::Debug for ExecutionCaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionCaps").field("limits", &self.limits).finish_non_exhaustive()
    }
}

impl Default for ExecutionCaps {
    fn default() -> Self {
        ExecutionCaps::new(ExecutionLimits::default())
    }
}

/// How long a refused client should wait before it retries an execution:
/// one is likely to have finished by then.
const EXECUTION_RETRY_SECONDS: u64 = 1;

impl ExecutionCaps {
    /// Caps at `limits` (a limit of 0 is taken as 1).
    pub fn new(limits: ExecutionLimits) -> Self {
        let limits = ExecutionLimits { per_session: limits.per_session.max(1), per_server: limits.per_server.max(1) };
        ExecutionCaps { limits, server: Arc::new(Semaphore::new(limits.per_server)), refused: Family::default() }
    }

    /// The limits.
    pub fn limits(&self) -> ExecutionLimits {
        self.limits
    }

    /// A fresh count for one session.
    pub(crate) fn session_slots(&self) -> Arc<Semaphore> {
        Arc::new(Semaphore::new(self.limits.per_session))
    }

    /// Claims a place for one execution of the session whose count is
    /// `session`, or the "server busy" error that refuses it.
    pub(crate) fn admit(&self, session: &Arc<Semaphore>) -> Result<Admitted, McpError> {
        let Ok(own) = session.clone().try_acquire_owned() else {
            return Err(self.refuse(
                "session",
                self.limits.per_session,
                format!(
                    "server busy: this session already has {} executions in flight, its limit; retry when one has finished",
                    self.limits.per_session
                ),
            ));
        };
        let Ok(shared) = self.server.clone().try_acquire_owned() else {
            return Err(self.refuse(
                "server",
                self.limits.per_server,
                format!(
                    "server busy: {} executions are in flight across all sessions, the server's limit; retry in a moment",
                    self.limits.per_server
                ),
            ));
        };
        Ok(Admitted { _session: own, _server: shared })
    }

    fn refuse(&self, limit: &'static str, count: usize, message: String) -> McpError {
        self.refused.get_or_create(&LimitLabel { limit }).inc();
        tracing::warn!(limit, count, "refused an execution: too many in flight");
        let reason = match limit {
            "session" => "max_executions_per_session",
            _ => "max_executions",
        };
        busy_error(message, reason, count, EXECUTION_RETRY_SECONDS)
    }
}

/// An execution's place under both limits, given back when it drops.
pub(crate) struct Admitted {
    _session: OwnedSemaphorePermit,
    _server: OwnedSemaphorePermit,
}

/// The "server busy" error: `reason` names the limit, `retry_after` says
/// when trying again makes sense.
pub(crate) fn busy_error(message: String, reason: &str, limit: usize, retry_after: u64) -> McpError {
    McpError::new(
        ErrorCode(SERVER_BUSY),
        message,
        Some(json!({"reason": reason, "limit": limit, "retryAfterSeconds": retry_after})),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_and_the_server_limits_refuse_with_a_retry_hint() {
        let caps = ExecutionCaps::new(ExecutionLimits { per_session: 1, per_server: 2 });
        let (one, two, three) = (caps.session_slots(), caps.session_slots(), caps.session_slots());
        let first = caps.admit(&one).unwrap();
        let refused = caps.admit(&one).err().unwrap();
        assert_eq!(refused.code.0, SERVER_BUSY);
        let data = refused.data.unwrap();
        assert_eq!(data["reason"], "max_executions_per_session");
        assert_eq!(data["retryAfterSeconds"], 1);
        let _second = caps.admit(&two).unwrap();
        let refused = caps.admit(&three).err().unwrap();
        assert_eq!(refused.data.unwrap()["reason"], "max_executions");
        drop(first);
        assert!(caps.admit(&three).is_ok(), "a finished execution gives its place back");
        assert_eq!(caps.refused.get_or_create(&LimitLabel { limit: "session" }).get(), 1);
        assert_eq!(caps.refused.get_or_create(&LimitLabel { limit: "server" }).get(), 1);
    }
}
