//! Keeping a session's state in the store, so that another process or
//! instance serving the same client session resolves the tokens it minted
//! and imports the skills it saved for the session (`airlock serve` keeps
//! each MCP session's state under its session id when the instances share
//! a store).

use std::sync::{MutexGuard, PoisonError};

use sha2::{Digest as _, Sha256};

use super::Session;
use crate::durable::journal::{open_value, open_vault, seal_value, seal_vault};
use crate::durable::{ExecutionStore, ResumeError};
use crate::error::Error;
use crate::skills::files::{SkillFiles, read_skills, write_skills};

/// The store part that holds a session's sealed vault.
const VAULT: &str = "vault";

/// The store part that holds the skills saved for the session, sealed.
const SKILLS: &str = "skills";

/// How often a session in use marks its stored state used (a store may
/// purge state nobody touched for a while).
const TOUCH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// Where a session's state is kept, how many vault entries and which
/// skills the store holds, and when this process last marked it used.
#[derive(Debug, Default)]
pub(super) struct KeptState {
    key: String,
    stored: usize,
    touched: Option<std::time::Instant>,
    /// The digest of the session's skills as last stored or taken from
    /// the store: the folder differing from it has changed here since.
    skills: [u8; 32],
    /// The names in that set: the only skills a newer set may remove here
    /// (one saved here since is not stored yet).
    skill_names: Vec<String>,
    /// [`crate::skills::SkillStore::session_changes`] when the set was
    /// last stored: until it moves, nothing here needs storing.
    changes_stored: u64,
}

/// What a session's vault is sealed for: bytes stored for one key never
/// open as another's.
fn context(key: &str) -> String {
    format!("session-vault:{key}")
}

/// What a session's skills are sealed for.
fn skills_context(key: &str) -> String {
    format!("session-skills:{key}")
}

impl Session {
    /// Keeps this session's PII vault in the runtime's store under `key`
    /// from now on: before each execution it takes over the vault stored
    /// there when that one is further along (another process or instance
    /// served the same client session meanwhile), and after each execution
    /// that minted tokens it stores the vault again, encrypted with the
    /// journal key. Instances that share a store and a journal key thus
    /// share the session's tokens. The skills saved for the session
    /// (`session: true`) are kept there the same way (see
    /// [`Session::load_shared_skills`]).
    pub fn keep_vault_in_store(&self, key: impl Into<String>) {
        let mut kept = self.kept_state();
        let key = key.into();
        if kept.as_ref().is_none_or(|kept| kept.key != key) {
            let skills = digest(&[]);
            *kept =
                Some(KeptState { key, stored: 0, touched: None, skills, skill_names: Vec::new(), changes_stored: 0 });
        }
    }

    /// Where the session's state is kept, if it is.
    fn kept_state(&self) -> MutexGuard<'_, Option<KeptState>> {
        self.kept.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn kept_key(&self) -> Option<String> {
        self.kept_state().as_ref().map(|kept| kept.key.clone())
    }

    /// Before an execution: takes over the stored vault and skills, in one
    /// read of the store. A vault that cannot be taken fails the execution
    /// (its tokens would not resolve); skills that cannot are logged.
    pub(super) async fn load_kept_state(&self) -> Result<(), Error> {
        let Some(key) = self.kept_key() else { return Ok(()) };
        let store = self.runtime.execution_store().await?;
        self.touch_kept_state(store.as_ref(), &key).await?;
        let _syncing = self.skills_sync.lock().await;
        let parts = store.get_session_parts(&key, &[VAULT, SKILLS]).await.map_err(ResumeError::from)?;
        let mut parts = parts.into_iter();
        let (vault, skills) = (parts.next().flatten(), parts.next().flatten());
        self.take_vault(&key, vault).await?;
        if let Err(error) = self.take_skills(&key, skills).await {
            tracing::warn!(%error, "cannot take the session's skills from the store");
        }
        Ok(())
    }

    /// Marks the session's stored state used, at most once a minute.
    async fn touch_kept_state(&self, store: &dyn ExecutionStore, key: &str) -> Result<(), Error> {
        if self.due_for_touch() {
            store.touch_session_state(key, crate::durable::unix_now()).await.map_err(ResumeError::from)?;
        }
        Ok(())
    }

    /// Takes over the vault `stored` under `key` if it holds more tokens.
    async fn take_vault(&self, key: &str, stored: Option<Vec<u8>>) -> Result<(), Error> {
        let Some(bytes) = stored else { return Ok(()) };
        let journal_key = self.runtime.journal_key().await?;
        let entries = open_vault(journal_key, &context(key), &bytes).ok_or_else(|| ResumeError::Tampered {
            id: key.to_string(),
            detail: "the session's stored vault does not decrypt (edited, or sealed with another key)".into(),
        })?;
        if entries.len() > self.boundary.vault_len() {
            self.boundary.adopt_vault(&entries);
        }
        if let Some(kept) = self.kept_state().as_mut() {
            kept.stored = entries.len();
        }
        Ok(())
    }

    /// When the session is kept in the store (see
    /// [`Session::keep_vault_in_store`]): brings the session's skill folder
    /// up to what the store holds, when that changed since this session
    /// last stored or took it (another instance saved or removed a skill
    /// for the session); skills saved here and not stored yet stay.
    /// Executions do it before they start; call it before reading
    /// [`Session::skills`] outside an execution.
    pub async fn load_shared_skills(&self) -> Result<(), Error> {
        let Some(key) = self.kept_key() else { return Ok(()) };
        let _syncing = self.skills_sync.lock().await;
        let store = self.runtime.execution_store().await?;
        let stored = store.get_session_state(&key, SKILLS).await.map_err(ResumeError::from)?;
        self.take_skills(&key, stored).await
    }

    /// Makes the skill folder hold the set `stored` under `key`, when it
    /// changed since last stored or taken; the caller holds the session's
    /// `skills_sync` lock.
    async fn take_skills(&self, key: &str, stored: Option<Vec<u8>>) -> Result<(), Error> {
        let Some(bytes) = stored else { return Ok(()) };
        let journal_key = self.runtime.journal_key().await?;
        let skills: Vec<SkillFiles> =
            open_value(journal_key, &skills_context(key), &bytes).ok_or_else(|| ResumeError::Tampered {
                id: key.to_string(),
                detail: "the session's stored skills do not decrypt (edited, or sealed with another key)".into(),
            })?;
        let taken = digest(&skills);
        let Some((seen, known)) = self.kept_skills() else { return Ok(()) };
        if seen == taken {
            return Ok(());
        }
        let folder = self.session_skills.path().to_path_buf();
        let names: Vec<String> = skills.iter().map(|skill| skill.name.clone()).collect();
        let writing = folder.clone();
        tokio::task::spawn_blocking(move || write_skills(&writing, &skills, &known))
            .await
            .map_err(|e| Error::workspace("cannot write the session's skills", std::io::Error::other(e)))?
            .map_err(|e| Error::workspace(format!("cannot write the session's skills in {}", folder.display()), e))?;
        self.set_kept_skills(taken, names);
        Ok(())
    }

    /// When the session is kept in the store: stores the session's skills
    /// if they changed here, for the other instances serving it.
    /// Executions do it when they end; call it after saving or removing a
    /// skill through [`Session::skills`].
    pub async fn store_shared_skills(&self) -> Result<(), Error> {
        let Some(key) = self.kept_key() else { return Ok(()) };
        let _syncing = self.skills_sync.lock().await;
        // Nothing saved or removed here since the last store: no read.
        let changes = self.skills().session_changes();
        if self.kept_state().as_ref().is_none_or(|kept| kept.changes_stored == changes) {
            return Ok(());
        }
        let folder = self.session_skills.path().to_path_buf();
        let skills = tokio::task::spawn_blocking(move || read_skills(&folder))
            .await
            .map_err(|e| Error::workspace("cannot read the session's skills", std::io::Error::other(e)))?;
        let now = digest(&skills);
        if self.kept_skills().is_some_and(|(seen, _)| seen != now) {
            let sealed = seal_value(self.runtime.journal_key().await?, &skills_context(&key), &skills)
                .map_err(|e| ResumeError::Store(format!("cannot seal the session's skills: {e}")))?;
            let store = self.runtime.execution_store().await?;
            store.put_session_state(&key, SKILLS, sealed).await.map_err(ResumeError::from)?;
            self.set_kept_skills(now, skills.into_iter().map(|skill| skill.name).collect());
        }
        if let Some(kept) = self.kept_state().as_mut() {
            kept.changes_stored = changes;
        }
        Ok(())
    }

    /// The digest and the names of the skill set last stored or taken.
    fn kept_skills(&self) -> Option<([u8; 32], Vec<String>)> {
        let kept = self.kept_state();
        kept.as_ref().map(|kept| (kept.skills, kept.skill_names.clone()))
    }

    fn set_kept_skills(&self, skills: [u8; 32], names: Vec<String>) {
        if let Some(kept) = self.kept_state().as_mut() {
            kept.skills = skills;
            kept.skill_names = names;
        }
    }

    /// Whether to mark the stored state used now (at most once a minute).
    fn due_for_touch(&self) -> bool {
        let mut kept = self.kept_state();
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
        let stored = self.kept_state().as_ref().map_or(0, |kept| kept.stored);
        let Some(entries) = self.boundary.vault_entries().filter(|entries| entries.len() > stored) else {
            return Ok(());
        };
        let sealed = seal_vault(self.runtime.journal_key().await?, &context(&key), &entries)?;
        let store = self.runtime.execution_store().await?;
        store.put_session_state(&key, VAULT, sealed).await.map_err(ResumeError::from)?;
        if let Some(kept) = self.kept_state().as_mut() {
            kept.stored = entries.len();
        }
        Ok(())
    }
}

/// What the store's copy of `skills` is compared by.
fn digest(skills: &[SkillFiles]) -> [u8; 32] {
    Sha256::digest(serde_json::to_vec(skills).unwrap_or_default()).into()
}
