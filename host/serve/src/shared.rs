//! Sessions shared by instances: each MCP session's handshake is kept in
//! the runtime's store, so that an instance that never saw the session
//! restores it (rmcp replays the `initialize` it stored) when a request of
//! it arrives; and its PII vault is kept there too (`Session::
//! keep_vault_in_store`). Instances behind a load balancer then need no
//! stickiness.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use airlock::Runtime;
use rmcp::transport::streamable_http_server::session::store::{SessionState, SessionStore, SessionStoreError};

/// The store part that holds a session's MCP handshake.
const HANDSHAKE: &str = "mcp";

/// The store key of MCP session `id`.
pub(crate) fn key(id: &str) -> String {
    format!("mcp:{id}")
}

/// Removes, until `stop` resolves, the stored state of sessions no instance
/// used for twice the idle time (at least two minutes longer than it: a
/// session in use marks its state once a minute). Every instance runs it;
/// the deletes are idempotent.
pub(crate) async fn purge_idle(runtime: Runtime, idle: Duration, stop: impl Future<Output = ()>) {
    let keep = (idle * 2).max(idle + Duration::from_secs(120));
    let every = (idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(300));
    let mut stop = std::pin::pin!(stop);
    loop {
        tokio::select! {
            () = &mut stop => return,
            () = tokio::time::sleep(every) => {}
        }
        let Ok(store) = runtime.store().await else { continue };
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        match store.purge_session_state(now.saturating_sub(keep.as_secs())).await {
            Ok(0) => {}
            Ok(rows) => tracing::debug!(rows, "purged the state of idle sessions"),
            Err(error) => tracing::warn!(%error, "cannot purge the state of idle sessions"),
        }
    }
}

/// rmcp's session store over the runtime's store.
pub(crate) struct StoredSessions(pub Runtime);

#[async_trait::async_trait]
impl SessionStore for StoredSessions {
    async fn load(&self, id: &str) -> Result<Option<SessionState>, SessionStoreError> {
        let store = self.0.store().await?;
        match store.get_session_state(&key(id), HANDSHAKE).await? {
            Some(bytes) => Ok(Some(serde_json::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    async fn store(&self, id: &str, state: &SessionState) -> Result<(), SessionStoreError> {
        let store = self.0.store().await?;
        Ok(store.put_session_state(&key(id), HANDSHAKE, serde_json::to_vec(state)?).await?)
    }

    async fn delete(&self, id: &str) -> Result<(), SessionStoreError> {
        let store = self.0.store().await?;
        Ok(store.remove_session_state(&key(id)).await?)
    }
}
