//! [`Session`]: where executions run, with the state they share on purpose
//! (the workspace folder).

mod kept;
mod resume;

pub use resume::{PausedExecution, ResumeOptions};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing::Instrument;

use crate::approval::Approver;
use crate::boundary::{Audit, Boundary};
use crate::durable::ResumeError;
use crate::error::Error;
use crate::execution::{ExecutionError, ExecutionResult, Stats};
use crate::language::Language;
use crate::limits::Limits;
use crate::runtime::Runtime;
use crate::sandbox::{self, Resumed, Services};
use crate::skills::SkillStore;
use crate::transpile::{LineMap, transpile};

enum Workspace {
    Temporary(tempfile::TempDir),
    Pinned(PathBuf),
}

impl Workspace {
    fn path(&self) -> &Path {
        match self {
            Workspace::Temporary(dir) => dir.path(),
            Workspace::Pinned(dir) => dir,
        }
    }
}

/// A sequence of executions that share a workspace folder and a PII vault
/// (a token minted in one execution resolves in the next, never in another
/// session). Each execution runs in a fresh guest instance: nothing else
/// carries over from one to the next.
pub struct Session {
    runtime: Runtime,
    workspace: Workspace,
    boundary: Boundary,
    /// The runtime's services, with the session's own skill folder first.
    services: Services,
    /// Skills saved for this session only: a host folder the guest cannot
    /// reach (in the workspace, code could link it elsewhere and have the
    /// host write, delete or load what it points to). Removed with the
    /// session.
    session_skills: tempfile::TempDir,
    id: String,
    counters: Counters,
    /// Where the vault and skills are kept in the store, if they are.
    kept: std::sync::Mutex<Option<kept::KeptState>>,
    /// Held while the session's skills are taken from or stored in the
    /// store: executions running at once do it one at a time.
    skills_sync: tokio::sync::Mutex<()>,
}

/// What a session has run so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SessionStats {
    /// Executions that ran (whatever their outcome).
    pub executions: u64,
    /// Executions that ended in an error or hit a limit.
    pub failed: u64,
    /// Tool calls its executions made.
    pub tool_calls: u64,
}

#[derive(Default)]
struct Counters {
    executions: AtomicU64,
    failed: AtomicU64,
    tool_calls: AtomicU64,
}

impl Counters {
    fn count(&self, result: &ExecutionResult) {
        self.executions.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(u64::from(result.error.is_some()), Ordering::Relaxed);
        self.tool_calls.fetch_add(u64::from(result.stats.tool_calls), Ordering::Relaxed);
    }
}

// Sessions are opened from the runtime, but defined here: the runtime sits
// below the session and names nothing of it.
impl Runtime {
    /// A new session with a fresh temporary workspace, removed when the
    /// session is dropped.
    pub fn session(&self) -> Result<Session, Error> {
        Session::temporary(self.clone())
    }

    /// A new session whose workspace is the folder `dir` (created if
    /// missing, kept afterwards).
    pub fn session_in(&self, dir: impl Into<PathBuf>) -> Result<Session, Error> {
        Session::pinned(self.clone(), dir.into())
    }
}

impl Session {
    fn temporary(runtime: Runtime) -> Result<Session, Error> {
        let dir = tempfile::Builder::new()
            .prefix("airlock-workspace-")
            .tempdir()
            .map_err(|e| Error::workspace("cannot create a temporary workspace", e))?;
        Session::new(runtime, Workspace::Temporary(dir))
    }

    fn pinned(runtime: Runtime, dir: PathBuf) -> Result<Session, Error> {
        std::fs::create_dir_all(&dir).map_err(|e| Error::workspace(format!("cannot create {}", dir.display()), e))?;
        Session::new(runtime, Workspace::Pinned(dir))
    }

    fn new(runtime: Runtime, workspace: Workspace) -> Result<Session, Error> {
        let id = session_id();
        let audit = runtime.audit().map(|log| Audit { log: log.clone(), session: id.clone(), client: Arc::default() });
        let session_skills = tempfile::Builder::new()
            .prefix("airlock-session-skills-")
            .tempdir()
            .map_err(|e| Error::workspace("cannot create the session's skill folder", e))?;
        let services = runtime.services().for_session(session_skills.path().to_path_buf());
        let (approvals, approver) = runtime.approvals();
        let boundary = Boundary::new(runtime.tool_registry(), runtime.pii(), audit, runtime.metrics_handle())
            .with_approvals(approvals.clone(), approver.cloned());
        runtime.metrics().session_opened();
        Ok(Session {
            runtime,
            workspace,
            boundary,
            services,
            session_skills,
            id,
            counters: Counters::default(),
            kept: Default::default(),
            skills_sync: Default::default(),
        })
    }

    /// Who approves this session's gated tool calls from now on, in place
    /// of the runtime's approver (`airlock serve` asks each session's own
    /// client).
    pub fn set_approver(&self, approver: Arc<dyn Approver>) {
        self.boundary.set_approver(approver);
    }

    /// Names who drives this session (a client's name and version) in
    /// its audit records from now on, approval requests and decisions
    /// among them.
    pub fn set_client(&self, client: impl Into<String>) {
        self.boundary.set_client(client.into());
    }

    /// The arguments of a paused call as the human approving it is shown
    /// them: tokens, or with `airlock.approvals.show_values` the real
    /// values from this session's vault. Never hand the result to a model.
    pub fn shown_to_human(&self, arguments: &serde_json::Value) -> serde_json::Value {
        if self.runtime.approval_settings().show_values { self.boundary.reveal(arguments) } else { arguments.clone() }
    }

    /// This session's random id (as the audit log names it).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// How many executions and tool calls this session has run.
    pub fn stats(&self) -> SessionStats {
        let c = &self.counters;
        SessionStats {
            executions: c.executions.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
            tool_calls: c.tool_calls.load(Ordering::Relaxed),
        }
    }

    /// The host folder the code sees as `./workspace/`.
    pub fn workspace(&self) -> &Path {
        self.workspace.path()
    }

    /// The skills this session's code can import: its own (saved with
    /// `session: true`, in a host folder removed with the session), then
    /// the shared folders.
    pub fn skills(&self) -> &SkillStore {
        &self.services.skills
    }

    /// Runs `code` under the runtime's default limits.
    pub async fn execute(&self, code: &str, language: Language) -> Result<ExecutionResult, Error> {
        let limits = self.runtime.limits().clone();
        self.execute_with_limits(code, language, &limits).await
    }

    /// Runs `code` under `limits`.
    pub async fn execute_with_limits(
        &self,
        code: &str,
        language: Language,
        limits: &Limits,
    ) -> Result<ExecutionResult, Error> {
        self.execute_inner(code, language, limits, None).await
    }

    /// Runs `code` under `limits`, asking `approver` about its gated calls
    /// instead of the session's approver: each execution of a session can
    /// have its own (a server asks the client of the request that runs it).
    pub async fn execute_with_approver(
        &self,
        code: &str,
        language: Language,
        limits: &Limits,
        approver: Arc<dyn Approver>,
    ) -> Result<ExecutionResult, Error> {
        self.execute_inner(code, language, limits, Some(approver)).await
    }

    async fn execute_inner(
        &self,
        code: &str,
        language: Language,
        limits: &Limits,
        approver: Option<Arc<dyn Approver>>,
    ) -> Result<ExecutionResult, Error> {
        let mut boundary = self.boundary.for_execution();
        if let Some(approver) = approver {
            boundary = boundary.with_own_approver(approver);
        }
        let run = Run { code, language, limits, boundary, resumed: Resumed::default(), id: None };
        self.run(run).await
    }

    /// Runs `run.code` in a fresh sandbox; when a gated call pauses it,
    /// stores its journal.
    async fn run(&self, run: Run<'_>) -> Result<ExecutionResult, Error> {
        let Run { code, language, limits, boundary, resumed, id } = run;
        let span = tracing::info_span!("execution", ?language, bytes = code.len());
        async {
            let spec = language.spec();
            let (source, line_map) = if spec.transpiled {
                match transpile(code, spec.main_file) {
                    Ok(out) => (out.code, Some(out.lines)),
                    Err(error) => return Ok(compile_error(error.message)),
                }
            } else {
                (code.to_string(), None)
            };
            let guest = self.runtime.guest(spec.interpreter).await?;
            // The kept state: a resume (`id`) took it with the journal's vault.
            if id.is_none() {
                self.load_kept_state().await?;
            }
            let slot = self.runtime.slot().await?;
            let services = self.services.clone();
            let sandbox = sandbox::Sandbox::resuming(
                self.runtime.engine(),
                boundary.clone(),
                services,
                self.workspace(),
                limits,
                &resumed,
            )?;
            let (guest, style) = (guest.clone(), language.declarations());
            let execution = async move { sandbox.execute(&guest, &source, style).await };
            let ((raw, store), slot) = on_a_worker(execution, slot, self.may_wait_on_servers()).await?;
            sandbox::release(store, slot);
            let printed = raw.printed;
            let mut result = raw.into_result();
            let recorder = boundary.recorder();
            // A replay that ended early says how it ended (a limit, say, on
            // a slower host), beside where.
            let unfinished = || {
                recorder.unfinished().map(|detail| match &result.error {
                    Some(error) => format!("{detail}; it ended with: {error}"),
                    None => detail,
                })
            };
            if let Some(detail) = recorder.lost() {
                return Err(Error::Resume(ResumeError::Lost { id: id.unwrap_or_default(), detail }));
            }
            if let Some(detail) = recorder.diverged().or_else(unfinished) {
                let id = id.unwrap_or_default();
                return Err(Error::Resume(ResumeError::Diverged { id, detail }));
            }
            result.error = result.error.map(|e| map_to_source(e, line_map.as_ref()));
            if let Some(error) = result.error.take() {
                result.error = Some(self.explain(error).await);
            }
            if boundary.recorder().paused() {
                let journal = self.journal(code, language, limits, &boundary, &result, printed, id).await?;
                result.paused = Some(self.store_paused(&journal, &boundary).await?);
            }
            let result = boundary.output(result);
            self.store_kept_vault().await?;
            if let Err(error) = self.store_shared_skills().await {
                tracing::warn!(%error, "cannot store the session's skills; other instances miss this change");
            }
            boundary.record_execution(code.as_bytes(), language.name(), &result);
            self.counters.count(&result);
            tracing::debug!(error = ?result.error.as_ref().map(ToString::to_string), stats = ?result.stats, "execution finished");
            Ok(result)
        }
        .instrument(span)
        .await
    }
}

/// Runs an execution's guest call where its tool answers arrive.
///
/// A future driven by `block_on` (a `main`, a test, an embedder's own
/// thread) is outside the runtime's workers: each answer of an upstream
/// server, read by a worker, must cross threads to wake it, and it resumes
/// with cold caches. As a task, the execution is woken on the worker that
/// read the answer: on a real stdio server (`airlock-bench upstream`), what
/// Airlock adds per call fell from 95–133 µs to 32–40 µs. The hop itself
/// costs 20–40 µs per execution, so it is made only for executions that
/// `may_wait` on a server, and never from code already running as a task.
///
/// Dropping the returned future ends the execution, as it would inline.
/// `held` (the execution's slot) comes back with the output, and is dropped
/// only after the execution, also when the task is aborted: a free slot
/// must never meet a pool still holding the instance.
async fn on_a_worker<T: Send + 'static, H: Send + 'static>(
    execution: impl std::future::Future<Output = T> + Send + 'static,
    held: H,
    may_wait: bool,
) -> Result<(T, H), Error> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let execution = async move {
        // Declared before the execution's future, so dropped after it.
        let held = held;
        (execution.await, held)
    };
    let outside_workers = tokio::task::try_id().is_none()
        && Handle::try_current().is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
    if !(may_wait && outside_workers) {
        return Ok(execution.await);
    }
    /// Aborts the task when the caller stops waiting for it.
    struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
    impl<T> Drop for AbortOnDrop<T> {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let mut task = AbortOnDrop(tokio::spawn(execution.in_current_span()));
    match (&mut task.0).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(e) => Err(Error::internal("the execution's task was cancelled", e)),
    }
}

/// One execution to run: the code, and where it starts from.
struct Run<'a> {
    code: &'a str,
    language: Language,
    limits: &'a Limits,
    boundary: Boundary,
    resumed: Resumed,
    /// The id it paused under before (a resumed execution keeps its id).
    id: Option<String>,
}

impl Session {
    /// Whether an execution may call an upstream server (and so wait on
    /// its answers); in-process tools answer on the caller's thread.
    fn may_wait_on_servers(&self) -> bool {
        self.runtime.tools().upstream().is_some_and(|pool| pool.names().next().is_some())
    }

    /// Adds what the guest cannot know to an error: for an import of a
    /// name a server module does not export, the export probably meant.
    async fn explain(&self, error: ExecutionError) -> ExecutionError {
        let ExecutionError::Exception { name, message, stack } = error else { return error };
        let Some((export, server)) = missing_export(&message) else {
            return ExecutionError::Exception { name, message, stack };
        };
        let mut message = message.clone();
        if let Ok(tools) = self.runtime.tools().tools(server).await {
            let names = crate::codegen::js_names(&tools);
            let exports = names.iter().map(|(_, js)| js.as_str());
            match crate::suggest::closest(export, exports) {
                Some(best) => message.push_str(&format!(" (did you mean `{best}`?)")),
                None => message.push_str(&format!("; search_tools or `ls ./servers/{server}` lists its tools")),
            }
        }
        ExecutionError::Exception { name, message, stack }
    }
}

/// The export and the server of QuickJS's "Could not find export 'x' in
/// module '/servers/<server>/index.js'".
fn missing_export(message: &str) -> Option<(&str, &str)> {
    let rest = message.strip_prefix("Could not find export '")?;
    let (export, rest) = rest.split_once("' in module '/servers/")?;
    let (server, _) = rest.split_once('/')?;
    Some((export, server))
}

impl Drop for Session {
    fn drop(&mut self) {
        self.runtime.metrics().session_closed();
    }
}

impl Session {
    /// Runs a precompiled component of the `skill` world (`run(input:
    /// json) -> result<json, string>`) under the runtime's default limits.
    /// Its typed imports of server interfaces (`airlock-servers:<server>/
    /// tools`) are linked to the servers now; a type that no longer matches
    /// a server's schema fails here, before anything runs, naming the tool
    /// and the field.
    pub async fn run_component(&self, wasm: &[u8], input: &serde_json::Value) -> Result<ExecutionResult, Error> {
        let engine = self.runtime.engine();
        // Compiling takes seconds: on a blocking thread, not the worker
        // that serves other tasks.
        let (compiling, bytes) = (engine.clone(), wasm.to_vec());
        let component = tokio::task::spawn_blocking(move || wasmtime::component::Component::new(&compiling, bytes))
            .await
            .map_err(|e| Error::guest("the compile of the component did not finish", wasmtime::Error::new(e)))?
            .map_err(|e| Error::guest("not a valid component", e))?;
        let pre = crate::typed::link(engine, &component, &self.runtime.tool_registry()).await?;
        self.run_linked(&pre, wasm, input).await
    }

    /// Runs the saved component skill `name` with `input`, as an execution
    /// of its own under the runtime's default limits. Compiled and linked
    /// skills are kept, so a repeated call only instantiates and runs.
    pub async fn run_skill(&self, name: &str, input: &serde_json::Value) -> Result<ExecutionResult, Error> {
        let tools = self.runtime.tool_registry();
        let skill = self.services.skills.load(name)?;
        if skill.manifest.language != crate::skills::SkillLanguage::Component {
            return Err(Error::Link(crate::LinkError::NotASkillComponent(format!(
                "skill '{name}' is not a component: import it from agent code"
            ))));
        }
        let compiled = self.runtime.compiled_skills();
        let pre = compiled.prepare(self.runtime.engine(), &skill, &tools).await?;
        self.run_linked(&pre, &skill.code, input).await
    }

    /// Instantiates `pre` (a `skill` world component) and runs it on `input`.
    async fn run_linked(
        &self,
        pre: &wasmtime::component::InstancePre<sandbox::StoreState>,
        code: &[u8],
        input: &serde_json::Value,
    ) -> Result<ExecutionResult, Error> {
        let limits = self.runtime.limits().clone();
        let slot = self.runtime.slot().await?;
        let (boundary, services) = (self.boundary.for_execution(), self.services.clone());
        let mut sandbox = sandbox::Sandbox::new(self.runtime.engine(), boundary, services, self.workspace(), &limits)?;
        let (pre, input) = (pre.clone(), input.to_string());
        let execution = async move {
            let deadline = sandbox.deadline();
            let store = &mut sandbox.store;
            let run = async {
                let returned = sandbox::call_run(&pre, store, input).await?;
                Ok(returned.map_err(|message| ExecutionError::Exception { name: "Error".into(), message, stack: None }))
            };
            let finished = deadline.run(run).await;
            sandbox.finish(finished)
        };
        let ((raw, store), slot) = on_a_worker(execution, slot, self.may_wait_on_servers()).await?;
        sandbox::release(store, slot);
        let result = self.boundary.output(raw.into_result());
        self.boundary.record_execution(code, "component", &result);
        self.counters.count(&result);
        Ok(result)
    }
}

fn compile_error(message: String) -> ExecutionResult {
    ExecutionResult {
        stdout: String::new(),
        stderr: String::new(),
        value: serde_json::Value::Null,
        error: Some(ExecutionError::Exception { name: "SyntaxError".into(), message, stack: None }),
        stats: Stats::default(),
        paused: None,
    }
}

/// The guest runs the JavaScript made from a TypeScript source as
/// `main.js`; positions in its errors are mapped back to `main.ts`.
fn map_to_source(error: ExecutionError, line_map: Option<&LineMap>) -> ExecutionError {
    let Some(map) = line_map else { return error };
    let (js, ts) = (Language::JavaScript.file_name(), Language::TypeScript.file_name());
    match error {
        ExecutionError::Exception { name, message, stack } => ExecutionError::Exception {
            name,
            message: map.rewrite(&message, js, ts),
            stack: stack.map(|s| map.rewrite(&s, js, ts)),
        },
        error => error,
    }
}

/// 16 random hex digits (std's per-process random hash keys, a counter and
/// the clock).
fn session_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos());
    hasher.write_u128(now.unwrap_or(0));
    format!("{:016x}", hasher.finish())
}

#[cfg(test)]
mod tests {
    use super::on_a_worker;

    fn workers() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
    }

    /// Where the execution ran: the id of the task it ran in, if any.
    async fn placed(may_wait: bool) -> Option<tokio::task::Id> {
        on_a_worker(async { tokio::task::try_id() }, (), may_wait).await.unwrap().0
    }

    #[test]
    fn from_block_on_an_execution_that_may_wait_becomes_a_task() {
        let workers = workers();
        assert!(workers.block_on(placed(true)).is_some());
        assert_eq!(workers.block_on(placed(false)), None, "an execution that never waits stays inline");
    }

    #[test]
    fn a_task_runs_its_execution_inline() {
        let workers = workers();
        let (outer, inner) = workers
            .block_on(async { tokio::spawn(async { (tokio::task::try_id(), placed(true).await) }).await.unwrap() });
        assert!(outer.is_some());
        assert_eq!(inner, outer);
    }

    #[test]
    fn a_current_thread_runtime_runs_it_inline() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        assert_eq!(runtime.block_on(placed(true)), None);
    }

    /// Records its name in `order` when dropped.
    struct Dropped(&'static str, std::sync::mpsc::Sender<&'static str>);

    impl Drop for Dropped {
        fn drop(&mut self) {
            let _ = self.1.send(self.0);
        }
    }

    #[test]
    fn dropping_the_future_aborts_the_task_and_frees_the_slot_after_the_instance() {
        let workers = workers();
        let (order, dropped) = std::sync::mpsc::channel();
        let (instance, slot) = (Dropped("instance", order.clone()), Dropped("slot", order));
        workers.block_on(async {
            let execution = async move {
                let _instance = instance;
                std::future::pending::<()>().await
            };
            let pending = on_a_worker(execution, slot, true);
            assert!(tokio::time::timeout(std::time::Duration::from_millis(50), pending).await.is_err());
        });
        let wait = std::time::Duration::from_secs(10);
        assert_eq!(dropped.recv_timeout(wait), Ok("instance"), "the aborted task dropped its execution");
        assert_eq!(dropped.recv_timeout(wait), Ok("slot"), "then the slot");
    }

    #[test]
    fn a_panic_in_the_task_reaches_the_caller() {
        let workers = workers();
        let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            workers.block_on(on_a_worker(async { panic!("in the guest call") }, (), true))
        }));
        let payload = caught.expect_err("the panic is resumed");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"in the guest call"));
    }
}
