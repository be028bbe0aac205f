//! Durable executions: an execution paused for a human's decision is
//! stored as a journal of what the host answered it, and resumed by
//! replaying the code against that journal (DESIGN.md, "Durable
//! executions and approvals").
//!
//! - [`journal`]: what a journal holds, and sealing it (HMAC over the
//!   journal, the session's vault encrypted) with the runtime's key;
//! - `tape` (internal): the per-execution recorder that writes a journal while the
//!   code runs and answers from one while it is replayed;
//! - [`store`]: where sealed journals wait ([`ExecutionStore`]; SQLite in
//!   the data folder by default);
//! - `lease` (internal): a resume's hold on a stored execution, renewed
//!   while it replays and turned into its removal when the waiting call
//!   goes live.

pub mod journal;
pub(crate) mod lease;
pub mod store;
pub(crate) mod tape;

pub use journal::{JournalKey, Paused, ResumeError};

/// Seconds since the Unix epoch: the clock of pauses, expiries and session
/// state.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
pub use store::{ExecutionStore, ExecutionSummary, SqliteStore, StoreError, StoredExecution, session_parts_in_order};
