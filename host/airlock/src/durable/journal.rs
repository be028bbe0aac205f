//! What a paused execution's journal holds, and how it is sealed.
//!
//! A journal records what the guest saw: the code, the guest build, the
//! seed of its randomness, and every answer the host gave it in order
//! (tool results as the JSON text handed over, clock readings). Tool
//! results were tokenized before the guest saw them, so a journal holds
//! personal data only as tokens. The session's vault, which maps tokens
//! back to values, travels beside it encrypted (ChaCha20-Poly1305), and an
//! HMAC-SHA256 over both makes any edit of the stored bytes an error.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use chacha20poly1305::aead::{Aead, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, KeyInit, Nonce};
use hmac::{Hmac, Mac as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::digest::{hex, unhex};
use crate::limits::Limits;
use crate::pii::VaultEntry;
use crate::skills::files::SkillFiles;
use crate::tool::ToolError;

/// The journal format this build writes and reads.
pub(crate) const FORMAT: u32 = 1;

/// Everything a paused execution needs to be replayed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Journal {
    pub format: u32,
    pub execution_id: String,
    /// The session that ran it (its vault is the one sealed beside it).
    pub session: String,
    /// The language's name (`javascript`, `python`, ...).
    pub language: String,
    pub code: String,
    pub code_sha256: String,
    /// The guest build that ran it: a replay on another build could take
    /// another path.
    pub guest: String,
    /// Hex of the 32 bytes that seed the guest's randomness.
    pub seed: String,
    pub limits: Limits,
    /// Execution time spent before the pause (waits excluded).
    pub elapsed_us: u64,
    /// Bytes printed before the pause: not printed again on replay.
    pub stdout_bytes: u64,
    pub stderr_bytes: u64,
    /// Each tool call by its place in call order; `None` for a call that
    /// had no answer when the execution paused (the pending one).
    pub calls: Vec<Option<RecordedCall>>,
    /// Readings of the wall and monotonic clocks, in nanoseconds.
    pub wall_clock_ns: Vec<u64>,
    pub monotonic_clock_ns: Vec<u64>,
    /// `server.tool` → schema digest of every tool called: a replay against
    /// a changed schema is refused.
    pub schemas: BTreeMap<String, String>,
    /// The call waiting for a decision.
    pub pending: PendingCall,
    /// Unix seconds.
    pub paused_at: u64,
    pub expires_at: u64,
    /// The skills saved for the session when it paused (`session: true`),
    /// which the code may import again on replay: a resume by another
    /// session (after a restart, `airlock executions resume`) gets them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub session_skills: Vec<SkillFiles>,
}

/// One answered tool call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct RecordedCall {
    pub server: String,
    pub tool: String,
    /// Hex SHA-256 of the arguments' JSON text as the guest wrote it.
    pub arguments_sha256: String,
    pub answer: Answer,
}

/// What the guest got back from a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub(crate) enum Answer {
    /// The result's JSON text.
    Ok { json: String },
    /// A tool error, by its kind.
    Error { kind: String, message: String },
}

impl Answer {
    pub(crate) fn of(outcome: &Result<String, ToolError>) -> Answer {
        match outcome {
            Ok(json) => Answer::Ok { json: json.clone() },
            Err(error) => Answer::Error { kind: error.kind().to_string(), message: error.message().to_string() },
        }
    }

    pub(crate) fn to_outcome(&self) -> Result<String, ToolError> {
        match self {
            Answer::Ok { json } => Ok(json.clone()),
            Answer::Error { kind, message } => Err(ToolError::from_kind(kind, message.clone())),
        }
    }
}

/// The call a paused execution waits on, as the human is shown it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct PendingCall {
    /// Its place in call order.
    pub index: u32,
    pub server: String,
    pub tool: String,
    pub arguments_sha256: String,
    /// The arguments as the code wrote them (tokens, not values).
    pub arguments: Value,
    /// The approval rule that gated it.
    pub rule: String,
}

/// An execution that stopped at a gated tool call to wait for a human: it
/// is stored, and [`crate::Session::resume`] continues it with the
/// decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paused {
    /// What to resume it by.
    pub execution_id: String,
    /// The waiting call's place in the execution's call order, from 1: the
    /// question this pause asks. A resume that names it
    /// ([`crate::ResumeOptions::expected_call`], less one) is refused once
    /// the question was answered and the execution waits on another call.
    /// (0 in a result serialised before it was added.)
    #[serde(default)]
    pub call: u32,
    /// The server of the call waiting for approval.
    pub server: String,
    /// The tool it calls.
    pub tool: String,
    /// Its arguments as the code wrote them: personal data as tokens.
    pub arguments: Value,
    /// The approval rule that gated it.
    pub rule: String,
    /// When the stored execution expires (Unix seconds).
    pub expires_at: u64,
}

impl Paused {
    pub(crate) fn of(journal: &Journal) -> Paused {
        let pending = &journal.pending;
        Paused {
            execution_id: journal.execution_id.clone(),
            call: pending.index + 1,
            server: pending.server.clone(),
            tool: pending.tool.clone(),
            arguments: pending.arguments.clone(),
            rule: pending.rule.clone(),
            expires_at: journal.expires_at,
        }
    }
}

/// Why a paused execution could not be resumed. Nothing is lost when
/// resuming fails: the stored execution stays as it was until its code
/// reaches the call that waited (replay checks every call before it, and
/// every call of its batch, before anything goes live), held by a lease
/// that runs out when the resuming process dies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ResumeError {
    /// No paused execution has this id (never paused, already resumed, or
    /// cancelled).
    #[error("no paused execution '{0}' (already resumed, cancelled, or never paused)")]
    NotFound(String),
    /// It waited past its expiry and was removed.
    #[error("paused execution '{0}' expired")]
    Expired(String),
    /// The stored bytes fail their integrity check.
    #[error("paused execution '{id}' was tampered with: {detail}")]
    Tampered {
        /// The execution.
        id: String,
        /// Which check failed.
        detail: String,
    },
    /// What the journal depends on changed since the pause (the guest
    /// build, or a tool's schema).
    #[error("paused execution '{id}' cannot be replayed: {what}")]
    Changed {
        /// The execution.
        id: String,
        /// What changed.
        what: String,
    },
    /// The replayed code did not make the calls the journal recorded.
    #[error("paused execution '{id}' diverged on replay: {detail}")]
    Diverged {
        /// The execution.
        id: String,
        /// The first call that differed.
        detail: String,
    },
    /// It was paused in a session whose tokens mean other values than this
    /// session's: resumed here, its output would name this session's
    /// tokens for another's values.
    #[error(
        "paused execution '{0}' was paused in another session, whose PII tokens differ from this session's; resume it \
         from that session or from a new one"
    )]
    OtherSession(String),
    /// The answer is for a question the execution no longer asks: it was
    /// answered, and the execution now waits on another call.
    #[error("paused execution '{0}' now waits on another call: this answer was for a question already answered")]
    Answered(String),
    /// Another resume holds it (it is replaying the code now). When that
    /// resume's process died, its lease runs out at `until` and the
    /// execution can be resumed again.
    #[error(
        "paused execution '{id}' is being resumed by another resume; if that one's process died, it can be resumed \
         once its lease runs out (Unix time {until})"
    )]
    InProgress {
        /// The execution.
        id: String,
        /// When the other resume's lease runs out unless renewed (Unix
        /// seconds).
        until: u64,
    },
    /// The resume lost its hold on the execution before its waiting call
    /// went live (it was cancelled, or taken over once this resume's lease
    /// ran out), so the call was not made.
    #[error("paused execution '{id}' was not resumed: {detail}; the waiting call was not made")]
    Lost {
        /// The execution.
        id: String,
        /// How the hold was lost.
        detail: String,
    },
    /// [`crate::Decision::Pause`] is what an approver answers to defer a
    /// question; it does not resume anything.
    #[error("a paused execution is resumed with approve, allow-for-session or decline, not pause")]
    NotADecision,
    /// The store (of paused executions and session state) failed.
    #[error("the store: {0}")]
    Store(String),
}

impl From<super::store::StoreError> for ResumeError {
    fn from(error: super::store::StoreError) -> Self {
        ResumeError::Store(error.0)
    }
}

/// The secret that seals journals: paused executions written with one key
/// open only with the same key (share it between instances that resume
/// each other's executions).
#[derive(Clone)]
pub struct JournalKey {
    mac: [u8; 32],
    encryption: [u8; 32],
}

impl std::fmt::Debug for JournalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JournalKey(..)")
    }
}

type HmacSha256 = Hmac<Sha256>;

/// HMAC-SHA256 keyed with 32 bytes. HMAC pads a key shorter than its block
/// to the block with zeros; padding here makes the constructor infallible.
fn hmac_with(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as KeyInit>::new(&block.into())
}

impl JournalKey {
    /// The key derived from `secret` (at least 32 random bytes).
    pub fn from_secret(secret: &[u8]) -> JournalKey {
        let root: [u8; 32] = Sha256::digest(secret).into();
        let derive = |label: &[u8]| -> [u8; 32] {
            let mut mac = hmac_with(&root);
            mac.update(label);
            mac.finalize().into_bytes().into()
        };
        JournalKey { mac: derive(b"airlock journal mac"), encryption: derive(b"airlock vault encryption") }
    }

    /// The key whose secret is `text` (hex, at least 32 bytes).
    pub fn from_hex(text: &str) -> Result<JournalKey, String> {
        let secret = unhex(text.trim()).filter(|s| s.len() >= 32);
        secret
            .map(|secret| JournalKey::from_secret(&secret))
            .ok_or_else(|| "not a hex secret of 32 bytes or more".into())
    }

    /// The key whose secret is in the file `path` (hex), made with 32 fresh
    /// random bytes, readable by the owner only, when missing.
    pub fn load_or_create(path: &Path) -> std::io::Result<JournalKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let secret = unhex(text.trim()).filter(|s| s.len() >= 32).ok_or_else(|| {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!("{} does not hold a hex secret of 32 bytes or more", path.display()),
                    )
                })?;
                Ok(JournalKey::from_secret(&secret))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                let secret: [u8; 32] = rand::random();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                match options.open(path) {
                    Ok(mut file) => {
                        file.write_all(hex(&secret).as_bytes())?;
                        file.sync_all()?;
                        Ok(JournalKey::from_secret(&secret))
                    }
                    // Another process made it first: use theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => JournalKey::load_or_create(path),
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A handle to the paused execution `id` that a client may hold and
    /// hand back (an MCP `requestState`): the id and its MAC.
    pub fn handle(&self, id: &str) -> String {
        let mut mac = hmac_with(&self.mac);
        mac.update(b"handle\0");
        mac.update(id.as_bytes());
        format!("{id}.{}", hex(&mac.finalize().into_bytes()))
    }

    /// The execution id in a [`handle`](JournalKey::handle) this key made;
    /// `None` for anything else (edited, forged, or another key's).
    pub fn open_handle(&self, handle: &str) -> Option<String> {
        let (id, tag) = handle.rsplit_once('.')?;
        let tag = unhex(tag)?;
        let mut mac = hmac_with(&self.mac);
        mac.update(b"handle\0");
        mac.update(id.as_bytes());
        mac.verify_slice(&tag).ok()?;
        Some(id.to_string())
    }

    fn mac(&self, journal: &str, vault: Option<&str>) -> HmacSha256 {
        let mut mac = hmac_with(&self.mac);
        mac.update(journal.as_bytes());
        mac.update(&[0]);
        mac.update(vault.unwrap_or_default().as_bytes());
        mac
    }

    fn cipher(&self) -> ChaCha20Poly1305 {
        ChaCha20Poly1305::new(&Key::from(self.encryption))
    }
}

/// The stored form: the journal's JSON text as it was sealed (so the MAC
/// covers exactly those bytes), the vault's ciphertext, the MAC.
#[derive(Serialize, Deserialize)]
struct Sealed {
    journal: String,
    /// Hex of nonce ‖ ciphertext of the vault entries' JSON.
    #[serde(default)]
    vault: Option<String>,
    mac: String,
}

/// `entries` encrypted with `key` (nonce ‖ ciphertext), bound to `context`
/// (an execution id, a session key): bytes sealed for one context do not
/// open for another.
pub(crate) fn seal_vault(key: &JournalKey, context: &str, entries: &[VaultEntry]) -> Result<Vec<u8>, ResumeError> {
    seal_value(key, context, &entries).map_err(|e| ResumeError::Store(format!("cannot seal the vault: {e}")))
}

/// The vault entries [`seal_vault`] sealed for `context`; `None` if the
/// bytes do not decrypt (edited, another key, another context).
pub(crate) fn open_vault(key: &JournalKey, context: &str, sealed: &[u8]) -> Option<Vec<VaultEntry>> {
    open_value(key, context, sealed)
}

/// `value`'s JSON encrypted with `key` (nonce ‖ ciphertext), bound to
/// `context`.
pub(crate) fn seal_value<T: Serialize>(key: &JournalKey, context: &str, value: &T) -> Result<Vec<u8>, String> {
    let plain = serde_json::to_vec(value).map_err(|e| e.to_string())?;
    let nonce: [u8; 12] = rand::random();
    let payload = Payload { msg: &plain, aad: context.as_bytes() };
    let mut sealed = nonce.to_vec();
    sealed.extend(key.cipher().encrypt(&Nonce::from(nonce), payload).map_err(|e| e.to_string())?);
    Ok(sealed)
}

/// The value [`seal_value`] sealed for `context`; `None` if the bytes do
/// not decrypt (edited, another key, another context) or do not read as a
/// `T`.
pub(crate) fn open_value<T: serde::de::DeserializeOwned>(key: &JournalKey, context: &str, sealed: &[u8]) -> Option<T> {
    if sealed.len() <= 12 {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(12);
    let nonce: [u8; 12] = nonce.try_into().ok()?;
    let payload = Payload { msg: ciphertext, aad: context.as_bytes() };
    let plain = key.cipher().decrypt(&Nonce::from(nonce), payload).ok()?;
    serde_json::from_slice(&plain).ok()
}

/// Seals `journal` and the session's vault `entries` with `key`.
pub(crate) fn seal(
    key: &JournalKey,
    journal: &Journal,
    entries: Option<&[VaultEntry]>,
) -> Result<Vec<u8>, ResumeError> {
    let failed = |what: &dyn std::fmt::Display| ResumeError::Store(format!("cannot seal the journal: {what}"));
    let text = serde_json::to_string(journal).map_err(|e| failed(&e))?;
    let vault = match entries {
        None => None,
        Some(entries) => Some(hex(&seal_vault(key, &journal.execution_id, entries)?)),
    };
    let mac = hex(&key.mac(&text, vault.as_deref()).finalize().into_bytes());
    serde_json::to_vec(&Sealed { journal: text, vault, mac }).map_err(|e| failed(&e))
}

/// Opens what [`seal`] made for execution `id`, checking its MAC, the
/// format, and that the journal is the one asked for.
pub(crate) fn open(
    key: &JournalKey,
    id: &str,
    bytes: &[u8],
) -> Result<(Journal, Option<Vec<VaultEntry>>), ResumeError> {
    let tampered = |detail: &str| ResumeError::Tampered { id: id.to_string(), detail: detail.to_string() };
    let sealed: Sealed =
        serde_json::from_slice(bytes).map_err(|_| tampered("the stored record is not a sealed journal"))?;
    let mac = unhex(&sealed.mac).ok_or_else(|| tampered("the MAC is not hex"))?;
    key.mac(&sealed.journal, sealed.vault.as_deref())
        .verify_slice(&mac)
        .map_err(|_| tampered("the MAC does not match (edited, or sealed with another key)"))?;
    let journal: Journal =
        serde_json::from_str(&sealed.journal).map_err(|e| tampered(&format!("the journal does not parse: {e}")))?;
    if journal.format != FORMAT {
        return Err(ResumeError::Changed {
            id: id.to_string(),
            what: format!("journal format {} (this build reads {FORMAT})", journal.format),
        });
    }
    if journal.execution_id != id {
        return Err(tampered("the record holds another execution's journal"));
    }
    let vault = match sealed.vault {
        None => None,
        Some(text) => {
            let bytes = unhex(&text).ok_or_else(|| tampered("the vault is not hex"))?;
            Some(open_vault(key, id, &bytes).ok_or_else(|| tampered("the vault does not decrypt"))?)
        }
    };
    Ok((journal, vault))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::PiiKind;

    fn journal() -> Journal {
        Journal {
            format: FORMAT,
            execution_id: "e1".into(),
            session: "s1".into(),
            language: "javascript".into(),
            code: "1".into(),
            code_sha256: crate::digest::sha256_hex("1"),
            guest: "g".into(),
            seed: hex(&[7; 32]),
            limits: Limits::default(),
            elapsed_us: 5,
            stdout_bytes: 0,
            stderr_bytes: 0,
            calls: vec![Some(RecordedCall {
                server: "crm".into(),
                tool: "get".into(),
                arguments_sha256: "ab".into(),
                answer: Answer::Ok { json: r#"{"email":"[EMAIL_1]"}"#.into() },
            })],
            wall_clock_ns: vec![1],
            monotonic_clock_ns: vec![],
            schemas: BTreeMap::new(),
            pending: PendingCall {
                index: 1,
                server: "mail".into(),
                tool: "send".into(),
                arguments_sha256: "cd".into(),
                arguments: serde_json::json!({"to": "[EMAIL_1]"}),
                rule: "tools mail.*".into(),
            },
            paused_at: 1,
            expires_at: 2,
            session_skills: Vec::new(),
        }
    }

    #[test]
    fn sealed_journals_open_with_their_key_only() {
        let key = JournalKey::from_secret(&[1; 32]);
        let vault = vec![VaultEntry { kind: PiiKind::Email, value: "ivan@example.com".into(), number: false }];
        let sealed = seal(&key, &journal(), Some(&vault)).unwrap();
        let text = String::from_utf8(sealed.clone()).unwrap();
        assert!(!text.contains("ivan@example.com"), "the vault is encrypted at rest");
        assert_eq!(open(&key, "e1", &sealed).unwrap(), (journal(), Some(vault)));

        let other = JournalKey::from_secret(&[2; 32]);
        assert!(matches!(open(&other, "e1", &sealed), Err(ResumeError::Tampered { .. })));
        // One changed answer, or the record filed under another id.
        let edited = text.replace("[EMAIL_1]", "[EMAIL_2]");
        assert!(matches!(open(&key, "e1", edited.as_bytes()), Err(ResumeError::Tampered { .. })));
        assert!(matches!(open(&key, "e2", &sealed), Err(ResumeError::Tampered { .. })));
        assert!(matches!(open(&key, "e1", b"junk"), Err(ResumeError::Tampered { .. })));
    }

    #[test]
    fn handles_open_with_their_key_only() {
        let key = JournalKey::from_secret(&[1; 32]);
        let handle = key.handle("e1");
        assert_eq!(key.open_handle(&handle).as_deref(), Some("e1"));
        assert_eq!(key.open_handle(&handle.replacen("e1", "e2", 1)), None);
        assert_eq!(JournalKey::from_secret(&[2; 32]).open_handle(&handle), None);
        assert_eq!(key.open_handle("e1"), None);
    }

    #[test]
    fn a_key_file_is_made_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/journal.key");
        let made = JournalKey::load_or_create(&path).unwrap();
        let read = JournalKey::load_or_create(&path).unwrap();
        assert_eq!((made.mac, made.encryption), (read.mac, read.encryption));
        std::fs::write(&path, "short").unwrap();
        assert!(JournalKey::load_or_create(&path).is_err());
    }
}
