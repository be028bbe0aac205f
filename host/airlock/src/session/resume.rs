//! Pausing an execution at a gated call, and resuming it by replay: the
//! session side of [`crate::durable`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Run, Session};
use crate::approval::{Approver, Decision};
use crate::boundary::Boundary;
use crate::digest::{hex, sha256_hex, unhex};
use crate::durable::journal::{self, FORMAT, Journal};
use crate::durable::lease::ResumeLease;
use crate::durable::tape::Recorder;
use crate::durable::{ExecutionStore, ExecutionSummary, Paused, ResumeError, StoredExecution, unix_now};
use crate::engine::{JS_GUEST, PYTHON_GUEST};
use crate::error::Error;
use crate::execution::ExecutionResult;
use crate::language::{Interpreter, Language};
use crate::limits::Limits;
use crate::pii::VaultEntry;
use crate::runtime::Runtime;
use crate::sandbox::Resumed;
use crate::skills::files::{SkillFiles, read_skills, write_skills};
use crate::tool::tool_schema_digest;

/// How [`Session::resume_with`] resumes.
#[derive(Clone, Default)]
pub struct ResumeOptions {
    /// Who is asked about later gated calls (default: the session's
    /// approver).
    pub approver: Option<Arc<dyn Approver>>,
    /// Also return what the code printed before the pause (default: only
    /// what it prints from the pause on, for a caller that was shown the
    /// earlier part with the paused result).
    pub earlier_output: bool,
    /// The call (its place in call order) the answer is for, as an answer
    /// handle names it ([`Runtime::open_answer_handle`]): when the
    /// execution now waits on another call, the resume is refused with
    /// [`ResumeError::Answered`].
    pub expected_call: Option<u32>,
}

impl std::fmt::Debug for ResumeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResumeOptions")
            .field("approver", &self.approver.as_ref().map(|_| ".."))
            .field("earlier_output", &self.earlier_output)
            .field("expected_call", &self.expected_call)
            .finish()
    }
}

/// A paused execution as [`Runtime::paused_execution`] shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PausedExecution {
    /// What listing shows.
    pub summary: ExecutionSummary,
    /// The call it waits on.
    pub paused: Paused,
    /// The code it runs.
    pub code: String,
    /// Tool calls answered before the pause (replayed on resume, not made
    /// again).
    pub calls_answered: usize,
}

/// The guest build `language` runs on, as a journal names it.
fn guest_identity(language: Language) -> String {
    match language.spec().interpreter {
        Interpreter::QuickJs => JS_GUEST.identity(),
        Interpreter::CPython => PYTHON_GUEST.identity(),
    }
}

/// 128 random bits, hex: an id nobody can guess.
fn execution_id() -> String {
    hex(&rand::random::<[u8; 16]>())
}

impl Session {
    /// The journal of the execution that just paused at a gated call.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn journal(
        &self,
        code: &str,
        language: Language,
        limits: &Limits,
        boundary: &Boundary,
        result: &ExecutionResult,
        printed: (usize, usize),
        id: Option<String>,
    ) -> Result<Journal, Error> {
        let recorder = boundary.recorder();
        let Some(recorded) = recorder.recorded() else {
            return Err(Error::internal("pausing", std::io::Error::other("no call is waiting")));
        };
        let mut schemas = BTreeMap::new();
        let called = recorded.calls.iter().flatten().map(|c| (&c.server, &c.tool));
        for (server, tool) in called.chain([(&recorded.pending.server, &recorded.pending.tool)]) {
            let qualified = format!("{server}.{tool}");
            if schemas.contains_key(&qualified) {
                continue;
            }
            let listing = self.runtime.tool_registry().listing(server).await;
            if let Some(definition) = listing.ok().as_ref().and_then(|l| l.definition(tool)) {
                schemas.insert(qualified, tool_schema_digest(definition));
            }
        }
        let elapsed = result.stats.wall_time.saturating_sub(boundary.waited());
        let paused_at = unix_now();
        let folder = self.session_skills.path().to_path_buf();
        let session_skills = tokio::task::spawn_blocking(move || read_skills(&folder)).await.unwrap_or_default();
        Ok(Journal {
            format: FORMAT,
            execution_id: id.unwrap_or_else(execution_id),
            session: self.id.clone(),
            language: language.name().to_string(),
            code: code.to_string(),
            code_sha256: sha256_hex(code),
            guest: guest_identity(language),
            seed: hex(&recorder.seed()),
            limits: limits.clone(),
            elapsed_us: elapsed.as_micros() as u64,
            stdout_bytes: printed.0 as u64,
            stderr_bytes: printed.1 as u64,
            calls: recorded.calls,
            wall_clock_ns: recorded.wall,
            monotonic_clock_ns: recorded.monotonic,
            schemas,
            pending: recorded.pending,
            paused_at,
            expires_at: paused_at + self.runtime.paused_expiry().as_secs(),
            session_skills,
        })
    }

    /// Seals `journal` with the session's vault and stores it.
    pub(super) async fn store_paused(&self, journal: &Journal, boundary: &Boundary) -> Result<Paused, Error> {
        let key = self.runtime.journal_key().await?;
        let store = self.runtime.execution_store().await?;
        let sealed = journal::seal(key, journal, boundary.vault_entries().as_deref())?;
        let summary = summary_of(journal);
        store.put(StoredExecution { summary, sealed }).await.map_err(ResumeError::from)?;
        tracing::info!(id = %journal.execution_id, server = %journal.pending.server, tool = %journal.pending.tool, "execution paused");
        Ok(Paused::of(journal))
    }

    /// Continues the paused execution `execution_id` with the human's
    /// `decision` on the call it waits on: its code runs again, answered
    /// from its journal (the calls made before the pause are not made
    /// again, and what it printed then is not printed again), and goes live
    /// at that call. Later gated calls ask the session's approver (and may
    /// pause it again, under the same id).
    ///
    /// Refused, and kept, when its journal fails its integrity check, when
    /// the guest build or a called tool's schema changed since the pause,
    /// or when the replayed code does not make the recorded calls.
    pub async fn resume(&self, execution_id: &str, decision: Decision) -> Result<ExecutionResult, Error> {
        self.resume_with(execution_id, decision, ResumeOptions::default()).await
    }

    /// [`Session::resume`] with `options`.
    pub async fn resume_with(
        &self,
        id: &str,
        decision: Decision,
        options: ResumeOptions,
    ) -> Result<ExecutionResult, Error> {
        if decision == Decision::Pause {
            return Err(ResumeError::NotADecision.into());
        }
        let store = self.runtime.execution_store().await?;
        let stored = self.runtime.stored(id).await?;
        let (journal, vault) = self.runtime.open_stored(id, &stored).await?;
        if options.expected_call.is_some_and(|call| call != journal.pending.index) {
            return Err(ResumeError::Answered(id.to_string()).into());
        }
        let language = self.check_replayable(&journal).await?;
        self.take_journal_vault(id, vault.as_deref()).await?;
        self.take_journal_skills(&journal.session_skills).await?;
        let seed = unhex(&journal.seed)
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or_else(|| ResumeError::Tampered { id: id.to_string(), detail: "the seed is not 32 bytes".into() })?;
        // Leased as opened: of two resumes at once only one replays, one
        // that opened a version since replaced (paused again at another
        // call) takes nothing, and a process that dies mid-replay leaves a
        // lease that runs out.
        let ttl = self.runtime.resume_lease();
        let mut attempts = 0;
        let lease = loop {
            if let Some(lease) = ResumeLease::acquire(store.clone(), &stored, ttl).await.map_err(ResumeError::from)? {
                break lease;
            }
            // Refused, unless the resume that held it has let go since:
            // then once more.
            not_leased(store.as_ref(), id, &stored).await?;
            attempts += 1;
            if attempts == 2 {
                return Err(ResumeError::InProgress { id: id.to_string(), until: unix_now() + ttl.as_secs() }.into());
            }
        };

        let mut boundary = self.boundary.for_execution();
        if let Some(approver) = options.approver {
            boundary = boundary.with_own_approver(approver);
        }
        let recorder = Recorder::replaying(&journal, seed, Some(decision));
        // Until the code reaches the waiting call nothing went live: a
        // failure or a caller that stops waiting gives the execution back.
        let claim = Claim { lease: lease.clone(), recorder: recorder.clone(), settled: false };
        boundary = boundary.replaying(recorder, lease);
        tracing::info!(%id, calls = journal.calls.len(), "resuming a paused execution");
        let (stdout_bytes, stderr_bytes) = match options.earlier_output {
            true => (0, 0),
            false => (journal.stdout_bytes as usize, journal.stderr_bytes as usize),
        };
        let resumed = Resumed { elapsed: Duration::from_micros(journal.elapsed_us), stdout_bytes, stderr_bytes };
        let run =
            Run { code: &journal.code, language, limits: &journal.limits, boundary, resumed, id: Some(id.to_string()) };
        let outcome = self.run(run).await;
        claim.settle().await;
        outcome
    }

    /// Adds the skills the session had when the execution paused that this
    /// session lacks (a resume by another session), so that the replay
    /// imports them again; a skill this session has is left as it is.
    async fn take_journal_skills(&self, skills: &[SkillFiles]) -> Result<(), Error> {
        if skills.is_empty() {
            return Ok(());
        }
        let folder = self.session_skills.path().to_path_buf();
        let skills = skills.to_vec();
        let writing = folder.clone();
        tokio::task::spawn_blocking(move || {
            let here: Vec<String> = read_skills(&writing).into_iter().map(|skill| skill.name).collect();
            let missing: Vec<SkillFiles> = skills.into_iter().filter(|skill| !here.contains(&skill.name)).collect();
            write_skills(&writing, &missing, &[])
        })
        .await
        .map_err(|e| Error::workspace("cannot add the paused execution's skills", std::io::Error::other(e)))?
        .map_err(|e| Error::workspace(format!("cannot add the paused execution's skills in {}", folder.display()), e))
    }

    /// Makes the session's vault hold `sealed` (the vault the execution
    /// paused with), so that the resumed code's tokens resolve and the
    /// tokens it mints join the session's. Vaults of one client session
    /// only grow, so one of the two extends the other; otherwise the
    /// execution belongs to another session's tokens.
    async fn take_journal_vault(&self, id: &str, sealed: Option<&[VaultEntry]>) -> Result<(), Error> {
        // Brought up to date first (the replay does not do it again):
        // another instance may have served this client session since the
        // pause.
        self.load_kept_state().await?;
        let Some(sealed) = sealed else { return Ok(()) };
        let current = self.boundary.vault_entries().unwrap_or_default();
        if current.starts_with(sealed) {
            Ok(())
        } else if sealed.starts_with(&current) {
            self.boundary.adopt_vault(sealed);
            Ok(())
        } else {
            Err(ResumeError::OtherSession(id.to_string()).into())
        }
    }

    /// The language of `journal`, once its code, guest build and the
    /// schemas of the tools it called are as they were at the pause.
    async fn check_replayable(&self, journal: &Journal) -> Result<Language, ResumeError> {
        let changed = |what: String| ResumeError::Changed { id: journal.execution_id.clone(), what };
        if sha256_hex(&journal.code) != journal.code_sha256 {
            return Err(changed("the code does not match its recorded digest".into()));
        }
        let language: Language =
            journal.language.parse().map_err(|_| changed(format!("unknown language '{}'", journal.language)))?;
        let guest = guest_identity(language);
        if guest != journal.guest {
            return Err(changed(format!("the guest build changed since the pause ({} → {guest})", journal.guest)));
        }
        let tools = self.runtime.tool_registry();
        for (qualified, digest) in &journal.schemas {
            let (server, tool) = qualified.split_once('.').unwrap_or((qualified, ""));
            let listing = tools.listing(server).await.ok();
            let now = listing.as_ref().and_then(|l| l.definition(tool)).map(tool_schema_digest);
            match now {
                Some(now) if &now == digest => {}
                Some(_) => return Err(changed(format!("the schema of {qualified} changed since the pause"))),
                None => return Err(changed(format!("{qualified} is no longer offered"))),
            }
        }
        Ok(language)
    }
}

/// Why a lease on `stored` was not taken: the execution is gone, paused
/// again since (another version), or held by another resume; `Ok` when it
/// is free now (the other resume let go in between).
async fn not_leased(store: &dyn ExecutionStore, id: &str, stored: &StoredExecution) -> Result<(), ResumeError> {
    let now = store.get(id).await?;
    match now {
        None => Err(ResumeError::NotFound(id.to_string())),
        Some(now) if now.sealed != stored.sealed => Err(ResumeError::Answered(id.to_string())),
        Some(now) => match now.summary.leased_until.filter(|until| *until > unix_now()) {
            Some(until) => Err(ResumeError::InProgress { id: id.to_string(), until }),
            None => Ok(()),
        },
    }
}

/// A paused execution leased to be resumed.
struct Claim {
    lease: Arc<ResumeLease>,
    recorder: Recorder,
    settled: bool,
}

impl Claim {
    /// Gives the execution back unless its code reached the waiting call
    /// and took it (the decision is then spent, and the call may have been
    /// made). A release the store fails is only logged: the lease runs out
    /// on its own.
    async fn settle(mut self) {
        self.settled = true;
        self.recorder.abandon();
        if let Err(error) = self.lease.release().await {
            tracing::warn!(%error, "could not release a resume's lease; it runs out");
        }
    }
}

impl Drop for Claim {
    /// A resume dropped before it settled (its caller stopped waiting)
    /// gives the execution back from a task, as [`Claim::settle`] would.
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Given up under the tape's lock: a replay still running on a worker
        // (its task is aborted at its next yield) cannot reach the waiting
        // call after this. One that reached it already either finds the
        // lease released and does not go live, or took the execution; if
        // it went away while the store removed it, the execution is given
        // back (see `ResumeLease::ensure_taken`).
        self.recorder.abandon();
        self.lease.release_in_background();
    }
}

fn summary_of(journal: &Journal) -> ExecutionSummary {
    ExecutionSummary {
        id: journal.execution_id.clone(),
        session: journal.session.clone(),
        language: journal.language.clone(),
        server: journal.pending.server.clone(),
        tool: journal.pending.tool.clone(),
        paused_at: journal.paused_at,
        expires_at: journal.expires_at,
        leased_until: None,
    }
}

impl Runtime {
    /// The stored execution `id`, if it has not expired (an expired one is
    /// removed).
    async fn stored(&self, id: &str) -> Result<StoredExecution, ResumeError> {
        let store = self.execution_store().await?;
        let stored = store.get(id).await.map_err(ResumeError::from)?;
        let stored = stored.ok_or_else(|| ResumeError::NotFound(id.to_string()))?;
        let now = unix_now();
        if stored.summary.expires_at <= now {
            // Not from under a resume that holds it: it may finish.
            if stored.summary.leased_until.is_none_or(|until| until <= now) {
                store.remove(id).await.map_err(ResumeError::from)?;
            }
            return Err(ResumeError::Expired(id.to_string()));
        }
        Ok(stored)
    }

    /// The journal and vault sealed in `stored`, unless the journal's own
    /// expiry (sealed, unlike the row's) has passed: then it is removed.
    async fn open_stored(
        &self,
        id: &str,
        stored: &StoredExecution,
    ) -> Result<(Journal, Option<Vec<VaultEntry>>), Error> {
        let opened = journal::open(self.journal_key().await?, id, &stored.sealed)?;
        if opened.0.expires_at <= unix_now() {
            self.execution_store().await?.remove(id).await.map_err(ResumeError::from)?;
            return Err(ResumeError::Expired(id.to_string()).into());
        }
        Ok(opened)
    }

    /// The executions paused and not expired, oldest first; a lease that
    /// ran out (its resume died) shows as none.
    pub async fn paused_executions(&self) -> Result<Vec<ExecutionSummary>, Error> {
        let store = self.execution_store().await?;
        let now = unix_now();
        let mut listed = store.list(now).await.map_err(ResumeError::from)?;
        for summary in &mut listed {
            summary.leased_until = summary.leased_until.filter(|until| *until > now);
        }
        Ok(listed)
    }

    /// The paused execution `id`: the call it waits on and its code.
    pub async fn paused_execution(&self, id: &str) -> Result<PausedExecution, Error> {
        let stored = self.stored(id).await?;
        let (journal, _) = self.open_stored(id, &stored).await?;
        Ok(PausedExecution {
            summary: stored.summary,
            paused: Paused::of(&journal),
            calls_answered: journal.calls.iter().flatten().count(),
            code: journal.code,
        })
    }

    /// A handle to the paused execution `id`, as it waits now, to give a
    /// client that hands it back with the human's answer (an MCP
    /// `requestState`): tamper-evident, sealed with the journal key, so any
    /// instance sharing the key and the store can open it. It names the
    /// call the execution waits on: when the execution pauses again, at
    /// another call, the handle of the first question no longer opens.
    pub async fn execution_handle(&self, id: &str) -> Result<String, Error> {
        let stored = self.stored(id).await?;
        let (journal, _) = self.open_stored(id, &stored).await?;
        Ok(self.journal_key().await?.handle(&format!("{id}/{}", journal.pending.index)))
    }

    /// [`Runtime::execution_handle`] of the execution that just paused as
    /// `paused` says, without reading it back from the store.
    pub async fn answer_handle(&self, paused: &Paused) -> Result<String, Error> {
        let call = paused.call.saturating_sub(1);
        Ok(self.journal_key().await?.handle(&format!("{}/{call}", paused.execution_id)))
    }

    /// The execution id in a handle [`Runtime::execution_handle`] made,
    /// once the execution still waits on the call the handle names (an
    /// answer retried or replayed after the execution moved on to another
    /// question is refused, not taken as an answer to that one).
    pub async fn open_execution_handle(&self, handle: &str) -> Result<String, Error> {
        let (id, call) = self.open_answer_handle(handle).await?;
        let stored = self.stored(&id).await?;
        let (journal, _) = self.open_stored(&id, &stored).await?;
        if journal.pending.index != call {
            return Err(ResumeError::Answered(id).into());
        }
        Ok(id)
    }

    /// The execution id and the call a handle [`Runtime::execution_handle`]
    /// made names, once its MAC holds; the store is not read. Pass the call
    /// as [`ResumeOptions::expected_call`]: the resume refuses it, with
    /// [`ResumeError::Answered`], when the version it claims waits on
    /// another call.
    pub async fn open_answer_handle(&self, handle: &str) -> Result<(String, u32), Error> {
        let key = self.journal_key().await?;
        let tampered = |detail: &str| ResumeError::Tampered { id: handle.to_string(), detail: detail.into() };
        let opened = key
            .open_handle(handle)
            .ok_or_else(|| tampered("the handle's MAC does not match (edited, forged, or made with another key)"))?;
        let (id, call) = opened.rsplit_once('/').ok_or_else(|| tampered("the handle names no call"))?;
        let call = call.parse().map_err(|_| tampered("the handle's call is not a number"))?;
        Ok((id.to_string(), call))
    }

    /// Cancels the paused execution `id`; `false` if there was none.
    pub async fn cancel_execution(&self, id: &str) -> Result<bool, Error> {
        let store = self.execution_store().await?;
        Ok(store.remove(id).await.map_err(ResumeError::from)?)
    }
}
