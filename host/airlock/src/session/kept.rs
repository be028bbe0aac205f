//! Keeping a session's PII vault in the store, so that another process or
//! instance serving the same client session resolves the tokens it minted
//! (`airlock serve` keeps each MCP session's vault under its session id
//! when the instances share a store).

use std::sync::PoisonError;

use super::Session;
use crate::durable::ResumeError;
use crate::durable::journal::{open_vault, seal_vault};
use crate::error::Error;

/// The store part that holds a session's sealed vault.
const VAULT: &str = "vault";

/// How often a session in use marks its stored state used (a store may
/// purge state nobody touched for a while).
const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a session's vault is kept, how many entries the store holds, and
/// when this process last marked it used.
#[derive(Debug, Default)]
pub(super) struct KeptVault {
    key: String,
    stored: usize,
    touched: Option<std::time::Instant>,
}

/// What a session's vault is sealed for: bytes stored for one key never
/// open as another's.
fn context(key: &str) -> String {
    format!("session-vault:{key}")
}

impl Session {
    /// Keeps this session's PII vault in the runtime's store under `key`
    /// from now on: before each execution it takes over the vault stored
    /// there when that one is further along (another process or instance
    /// served the same client session meanwhile), and after each execution
    /// that minted tokens it stores the vault again, encrypted with the
    /// journal key. Instances that share a store and a journal key thus
    /// share the session's tokens.
    pub fn keep_vault_in_store(&self, key: impl Into<String>) {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let key = key.into();
        if kept.as_ref().is_none_or(|kept| kept.key != key) {
            *kept = Some(KeptVault { key, stored: 0, touched: None });
        }
    }

    fn kept_key(&self) -> Option<String> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|kept| kept.key.clone())
    }

    /// Before an execution: takes over the stored vault if it holds more
    /// tokens than this one (vaults of one session only grow).
    pub(super) async fn load_kept_vault(&self) -> Result<(), Error> {
        let Some(key) = self.kept_key() else { return Ok(()) };
        let store = self.runtime.execution_store().await?;
        if self.due_for_touch() {
            store.touch_session_state(&key, crate::durable::unix_now()).await.map_err(ResumeError::from)?;
        }
        let stored = store.get_session_state(&key, VAULT).await.map_err(ResumeError::from)?;
        let Some(bytes) = stored else { return Ok(()) };
        let journal_key = self.runtime.journal_key().await?;
        let entries = open_vault(journal_key, &context(&key), &bytes).ok_or_else(|| ResumeError::Tampered {
            id: key.clone(),
            detail: "the session's stored vault does not decrypt (edited, or sealed with another key)".into(),
        })?;
        if entries.len() > self.boundary.vault_len() {
            self.boundary.adopt_vault(&entries);
        }
        if let Some(kept) = self.kept.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            kept.stored = entries.len();
        }
        Ok(())
    }

    /// Whether to mark the stored state used now (at most once a minute).
    fn due_for_touch(&self) -> bool {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(kept) = kept.as_mut() else { return false };
        if kept.touched.is_some_and(|at| at.elapsed() < TOUCH_EVERY) {
            return false;
        }
        kept.touched = Some(std::time::Instant::now());
        true
    }

    /// After an execution: stores the vault if it grew.
    pub(super) async fn store_kept_vault(&self) -> Result<(), Error> {
        let Some(key) = self.kept_key() else { return Ok(()) };
        let stored = self.kept.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map_or(0, |kept| kept.stored);
        let Some(entries) = self.boundary.vault_entries().filter(|entries| entries.len() > stored) else {
            return Ok(());
        };
        let sealed = seal_vault(self.runtime.journal_key().await?, &context(&key), &entries)?;
        let store = self.runtime.execution_store().await?;
        store.put_session_state(&key, VAULT, sealed).await.map_err(ResumeError::from)?;
        if let Some(kept) = self.kept.lock().unwrap_or_else(PoisonError::into_inner).as_mut() {
            kept.stored = entries.len();
        }
        Ok(())
    }
}
