//! Sessions shared by instances: each MCP session's handshake is kept in
//! the runtime's store, so that an instance that never saw the session
//! restores it (rmcp replays the `initialize` it stored) when a request of
//! it arrives; and its PII vault is kept there too (`Session::
//! keep_vault_in_store`). Instances behind a load balancer then need no
//! stickiness.

use airlock::Runtime;
use rmcp::transport::streamable_http_server::session::store::{SessionState, SessionStore, SessionStoreError};

/// The store part that holds a session's MCP handshake.
const HANDSHAKE: &str = "mcp";

/// The store key of MCP session `id`.
pub(crate) fn key(id: &str) -> String {
    format!("mcp:{id}")
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
