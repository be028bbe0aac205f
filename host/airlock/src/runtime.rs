//! [`Runtime`]: the engine and the pre-initialised guest, built once and
//! shared by every session.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use wasmtime::Engine;

use crate::approval::{ApprovalSettings, Approver};
use crate::audit::AuditLog;
use crate::boundary::PiiEngine;
use crate::component_skills::{self, CompiledSkills};
use crate::config::{Config, ConfigError};
use crate::discovery::{Detail, SearchResults};
use crate::durable::{ExecutionStore, JournalKey, ResumeError, SqliteStore};
use crate::engine::{self, EngineSettings, EpochTicker};
use crate::error::Error;
use crate::language::{Interpreter, Language};
use crate::limits::Limits;
use crate::metrics::Metrics;
use crate::module_server::ModuleServer;
use crate::pii::PiiSettings;
use crate::progress::{Progress, ProgressFn};
use crate::registry::ToolRegistry;
use crate::sandbox::{JsCompiler, Services, StoreState};
use crate::skills::{BuildRequest, Built, SkillError, SkillStore};
use crate::tool::{ToolDefinition, ToolHandler};
use crate::upstream::UpstreamPool;
use crate::wit::AgentPre;
use crate::wit::javascript::JavascriptPre;

/// The Airlock runtime: one wasmtime engine, the pre-initialised and
/// precompiled JS guest, the tools executions can call and default limits.
///
/// Build it once; it is cheap to clone and to share across threads and
/// tasks. Executions run in [`Session`](crate::Session)s.
///
/// ```no_run
/// # async fn demo() -> Result<(), airlock::Error> {
/// let runtime = airlock::Runtime::builder().build().await?;
/// let session = runtime.session()?;
/// let result = session.execute("console.log(1 + 1)", airlock::Language::JavaScript).await?;
/// assert_eq!(result.stdout, "2\n");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    js: AgentPre<StoreState>,
    /// The Python guest (CPython), loaded on the first Python execution:
    /// runtimes that never run Python never pay for compiling it.
    python: tokio::sync::OnceCell<AgentPre<StoreState>>,
    cache_dir: Option<PathBuf>,
    progress: Option<ProgressFn>,
    tools: Arc<ToolRegistry>,
    /// The shared skills, the search index and the served modules.
    services: Services,
    /// Component skills compiled and linked (also in `services`, as the
    /// sandbox sees them).
    components: Arc<CompiledSkills>,
    pii: Option<Arc<PiiEngine>>,
    audit: Option<Arc<AuditLog>>,
    metrics: Arc<Metrics>,
    limits: Limits,
    approvals: Arc<ApprovalSettings>,
    approver: Option<Arc<dyn Approver>>,
    paused: PausedSettings,
    slots: Arc<Semaphore>,
    max_instances: u32,
    _ticker: EpochTicker,
}

/// Configures a [`Runtime`].
pub struct RuntimeBuilder {
    progress: Option<ProgressFn>,
    limits: Limits,
    pii: PiiSettings,
    audit: Option<Arc<AuditLog>>,
    tools: ToolRegistry,
    cache_dir: Option<PathBuf>,
    skill_folders: Vec<PathBuf>,
    max_instances: u32,
    approvals: ApprovalSettings,
    approver: Option<Arc<dyn Approver>>,
    paused: PausedSettings,
}

/// Where paused executions are kept, sealed with what key, for how long.
struct PausedSettings {
    data_dir: Option<PathBuf>,
    store: tokio::sync::OnceCell<Arc<dyn ExecutionStore>>,
    key: tokio::sync::OnceCell<JournalKey>,
}

impl Default for PausedSettings {
    fn default() -> Self {
        PausedSettings {
            data_dir: crate::dirs::default_data_dir(),
            store: tokio::sync::OnceCell::new(),
            key: tokio::sync::OnceCell::new(),
        }
    }
}

impl Default for RuntimeBuilder {
    fn default() -> Self {
        RuntimeBuilder {
            progress: None,
            limits: Limits::default(),
            pii: PiiSettings::default(),
            audit: None,
            tools: ToolRegistry::default(),
            cache_dir: crate::dirs::default_cache_dir(),
            skill_folders: crate::skills::default_folders(),
            max_instances: 256,
            approvals: ApprovalSettings::default(),
            approver: None,
            paused: PausedSettings::default(),
        }
    }
}

impl RuntimeBuilder {
    /// Calls `report` when a guest has to be compiled for this machine
    /// (the library itself never prints): a command-line front end can
    /// tell its user why the first start takes seconds.
    pub fn on_progress(mut self, report: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(report));
        self
    }

    /// Default limits for executions that do not bring their own.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// PII handling: what is detected and where values may flow, or
    /// [`PiiSettings::disabled`]. Default: on, every kind detected, every
    /// server may receive every kind.
    pub fn pii(mut self, settings: PiiSettings) -> Self {
        self.pii = settings;
        self
    }

    /// Records every execution and tool call in `log` (kinds and tokens of
    /// personal data, never values).
    pub fn audit(mut self, log: Arc<AuditLog>) -> Self {
        self.audit = Some(log);
        self
    }

    /// Takes the servers and settings of a configuration file: its
    /// `mcpServers` become callable (started lazily, on first use), its
    /// `airlock.limits` the default limits and `airlock.pii` the PII
    /// settings.
    pub fn config(mut self, config: &Config) -> Self {
        self.limits = config.airlock.limits.clone();
        self.pii = config.airlock.pii.clone();
        self.approvals = config.airlock.approvals.clone();
        self.tools.set_upstream(Arc::new(UpstreamPool::new(config)));
        self
    }

    /// Which tool calls need a human's approval. Default: none.
    pub fn approvals(mut self, settings: ApprovalSettings) -> Self {
        self.approvals = settings;
        self
    }

    /// Who approves gated calls for every session that does not set its
    /// own ([`Session::set_approver`](crate::Session::set_approver)). With
    /// none, gated calls are declined.
    pub fn approver(mut self, approver: impl Approver + 'static) -> Self {
        self.approver = Some(Arc::new(approver));
        self
    }

    /// Registers an in-process tool under `server`, callable from guest
    /// code as `callTool(server, definition.name, args)`.
    pub fn tool(mut self, server: impl Into<String>, definition: ToolDefinition, handler: impl ToolHandler) -> Self {
        self.tools.insert(server, definition, Arc::new(handler));
        self
    }

    /// Where precompiled guests are cached; `None` compiles in memory at
    /// every start. Default: `$AIRLOCK_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`.
    pub fn cache_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.cache_dir = dir;
        self
    }

    /// The folders skills are imported from (`./skills/<name>`), in search
    /// order; skills are saved into the first. Default: the user's folder
    /// ([`crate::skills::user_folder`]), then the bundled skills.
    pub fn skill_folders(mut self, folders: Vec<PathBuf>) -> Self {
        self.skill_folders = folders;
        self
    }

    /// How many executions may run at once; more wait for a slot.
    /// Default: 256.
    pub fn max_concurrent_executions(mut self, count: u32) -> Self {
        self.max_instances = count.max(1);
        self
    }

    /// The data folder: paused executions (`executions.sqlite`) and the key
    /// that seals them (`journal.key`). Default: `$AIRLOCK_DATA_DIR`, else
    /// `$XDG_DATA_HOME/airlock`, else `~/.local/share/airlock`. Nothing is
    /// written there until an execution pauses.
    pub fn data_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.paused.data_dir = dir;
        self
    }

    /// Keeps paused executions in `store` instead of the data folder's
    /// SQLite file.
    pub fn execution_store(mut self, store: Arc<dyn ExecutionStore>) -> Self {
        self.paused.store = tokio::sync::OnceCell::new_with(Some(store));
        self
    }

    /// Seals journals with `key` instead of the data folder's key file
    /// (instances that resume each other's executions share one).
    pub fn journal_key(mut self, key: JournalKey) -> Self {
        self.paused.key = tokio::sync::OnceCell::new_with(Some(key));
        self
    }

    /// How long a paused execution waits for its decision before it
    /// expires ([`ApprovalSettings::paused_expiry`]; set it after
    /// [`RuntimeBuilder::config`] or [`RuntimeBuilder::approvals`], which
    /// set all the approval settings). Default: 24 hours.
    pub fn paused_expiry(mut self, expiry: Duration) -> Self {
        self.approvals.paused_expiry = expiry;
        self
    }

    /// Builds the runtime. The first build on a machine pre-initialises
    /// and compiles the guest (about a second) and caches the result;
    /// later builds load it from the cache in milliseconds.
    pub async fn build(self) -> Result<Runtime, Error> {
        self.check_approvals()?;
        let settings = EngineSettings { max_instances: self.max_instances };
        let engine = engine::new_engine(&settings)?;
        let js =
            engine::load_guest(&engine, self.cache_dir.as_deref(), &engine::JS_GUEST, self.progress.as_ref()).await?;
        let lacks = |e: wasmtime::Error| Error::guest("the JavaScript guest lacks its exports", e);
        let js_compiler = JavascriptPre::new(js.clone()).map_err(lacks)?;
        let js = AgentPre::new(js).map_err(lacks)?;
        let ticker = EpochTicker::start(&engine)?;
        let pii = PiiEngine::new(&self.pii)?;
        if let Some(pool) = self.tools.upstream() {
            pool.redact_stderr_with(pii.as_deref().map(PiiEngine::detector));
        }
        let modules = ModuleServer::new(Arc::new(JsCompiler::new(&engine, &js_compiler)));
        let components = Arc::new(CompiledSkills::new(self.cache_dir.clone()));
        let services = Services::new(SkillStore::new(self.skill_folders), modules, components.clone());
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                js,
                python: tokio::sync::OnceCell::new(),
                cache_dir: self.cache_dir,
                progress: self.progress,
                tools: Arc::new(self.tools),
                services,
                components,
                pii,
                audit: self.audit,
                metrics: Arc::default(),
                limits: self.limits,
                approvals: Arc::new(self.approvals),
                approver: self.approver,
                paused: self.paused,
                slots: Arc::new(Semaphore::new(self.max_instances as usize)),
                max_instances: self.max_instances,
                _ticker: ticker,
            }),
        })
    }
}

impl RuntimeBuilder {
    /// Approval rules must be well formed, and a rule that names a server
    /// must name one that exists: a typo would leave calls ungated.
    fn check_approvals(&self) -> Result<(), Error> {
        let error = |field: String, message: String| Error::Config(ConfigError { file: None, field, message });
        self.approvals.validate().map_err(|(field, message)| error(field, message))?;
        let servers = self.tools.servers();
        for (index, rule) in self.approvals.require.iter().enumerate() {
            if let Some(server) = rule.named_server()
                && !servers.contains(&server)
            {
                return Err(error(
                    format!("airlock.approvals.require[{index}].tools"),
                    format!(
                        "no server '{server}'{} (use \"*\" for every server)",
                        crate::suggest::did_you_mean(server, servers.iter().copied())
                    ),
                ));
            }
        }
        Ok(())
    }
}

impl Runtime {
    /// Starts configuring a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// The limits executions get by default.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The tools executions can call.
    pub fn tools(&self) -> &ToolRegistry {
        &self.inner.tools
    }

    /// The skill folders executions import from (a session searches its
    /// own folder first: [`Session::skills`](crate::Session::skills)).
    pub fn skills(&self) -> &SkillStore {
        // The runtime's own services see the shared folders only.
        &self.inner.services.skills
    }

    /// The `limit` tools of every server that best match `query` (BM25
    /// over names, descriptions and parameters), best first. Servers that
    /// are not running are started; the index is rebuilt only when a
    /// server's tool list changed.
    pub async fn search_tools(&self, query: &str, detail: Detail, limit: usize) -> SearchResults {
        self.search_tools_for(Language::JavaScript, query, detail, limit).await
    }

    /// [`Runtime::search_tools`] for code in `language`: detail `full`
    /// shows Python signatures for Python, TypeScript declarations
    /// otherwise.
    pub async fn search_tools_for(
        &self,
        language: Language,
        query: &str,
        detail: Detail,
        limit: usize,
    ) -> SearchResults {
        let (tools, services) = (&self.inner.tools, &self.inner.services);
        services.catalog.search(tools, &services.shared_skills, query, detail, limit, language.declarations()).await
    }

    /// Lets the executions already running (or waiting for a slot) finish,
    /// each within its own deadline, and refuses new ones with
    /// [`Error::ShuttingDown`]. Call it before [`Runtime::shutdown`] for a
    /// graceful stop.
    pub async fn drain(&self) {
        let slots = &self.inner.slots;
        // Holding every slot means nothing runs; the semaphore is fair, so
        // executions queued before this call still get their turn first.
        if let Ok(all) = slots.acquire_many(self.inner.max_instances).await {
            slots.close();
            drop(all);
        }
    }

    /// Stops the upstream servers this runtime started and waits for them
    /// to exit. Executions still running lose their servers.
    pub async fn shutdown(&self) {
        if let Some(pool) = self.inner.tools.upstream() {
            pool.shutdown().await;
        }
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub(crate) fn js_guest(&self) -> &AgentPre<StoreState> {
        &self.inner.js
    }

    /// The guest that runs `interpreter`'s languages.
    pub(crate) async fn guest(&self, interpreter: Interpreter) -> Result<&AgentPre<StoreState>, Error> {
        match interpreter {
            Interpreter::QuickJs => Ok(self.js_guest()),
            Interpreter::CPython => self.python_guest().await,
        }
    }

    /// The Python guest, pre-initialised and compiled on first use (a few
    /// seconds once per machine; then loaded from the cache).
    pub(crate) async fn python_guest(&self) -> Result<&AgentPre<StoreState>, Error> {
        let inner = &self.inner;
        inner
            .python
            .get_or_try_init(|| async {
                let cache = inner.cache_dir.as_deref();
                let pre =
                    engine::load_guest(&inner.engine, cache, &engine::PYTHON_GUEST, inner.progress.as_ref()).await?;
                AgentPre::new(pre).map_err(|e| Error::guest("the Python guest lacks the agent exports", e))
            })
            .await
    }

    /// Loads the Python guest now rather than on the first Python
    /// execution, so that execution does not wait for it.
    pub async fn preload_python(&self) -> Result<(), Error> {
        self.python_guest().await.map(|_| ())
    }

    pub(crate) fn tool_registry(&self) -> Arc<ToolRegistry> {
        self.inner.tools.clone()
    }

    /// What executions reach besides tools, over the shared skill folders.
    pub(crate) fn services(&self) -> &Services {
        &self.inner.services
    }

    /// Component skills compiled and linked so far.
    pub(crate) fn compiled_skills(&self) -> &CompiledSkills {
        &self.inner.components
    }

    /// Builds the Rust skill in `request.source`, checks its typed imports
    /// against this runtime's servers (a mismatch names the tool and the
    /// field), precompiles it and saves it, with its source, into the first
    /// skill folder, replacing an earlier build.
    pub async fn build_skill(&self, request: &BuildRequest) -> Result<Built, SkillError> {
        let inner = &self.inner;
        component_skills::build(&inner.engine, &inner.tools, &inner.components, self.skills(), request).await
    }

    /// Counters and histograms of executions, tool calls, PII tokens and
    /// sessions; [`Metrics::encode`] gives the Prometheus text format.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn metrics_handle(&self) -> Arc<Metrics> {
        self.inner.metrics.clone()
    }

    pub(crate) fn audit(&self) -> Option<&Arc<AuditLog>> {
        self.inner.audit.as_ref()
    }

    /// The approval rules this runtime gates calls by.
    pub fn approval_settings(&self) -> &ApprovalSettings {
        &self.inner.approvals
    }

    pub(crate) fn approvals(&self) -> (&Arc<ApprovalSettings>, Option<&Arc<dyn Approver>>) {
        (&self.inner.approvals, self.inner.approver.as_ref())
    }

    /// Whether this runtime has somewhere to keep state: a store given, or
    /// a data folder for the SQLite one.
    pub fn has_store(&self) -> bool {
        let paused = &self.inner.paused;
        paused.store.initialized() || paused.data_dir.is_some()
    }

    /// The store of paused executions and session state (opened on first
    /// use: the data folder's SQLite file unless one was given).
    pub async fn store(&self) -> Result<&Arc<dyn ExecutionStore>, Error> {
        Ok(self.execution_store().await?)
    }

    /// The store of paused executions, opened on first use.
    pub(crate) async fn execution_store(&self) -> Result<&Arc<dyn ExecutionStore>, ResumeError> {
        let paused = &self.inner.paused;
        paused
            .store
            .get_or_try_init(|| async {
                let dir = paused.data_dir.as_ref().ok_or_else(no_data_dir)?;
                let path = dir.join("executions.sqlite");
                let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                    .await
                    .map_err(|e| ResumeError::Store(e.to_string()))?
                    .map_err(ResumeError::from)?;
                Ok(Arc::new(store) as Arc<dyn ExecutionStore>)
            })
            .await
    }

    /// The key that seals journals, loaded (or made) on first use.
    pub(crate) async fn journal_key(&self) -> Result<&JournalKey, ResumeError> {
        let paused = &self.inner.paused;
        paused
            .key
            .get_or_try_init(|| async {
                if let Some(secret) = std::env::var(JOURNAL_KEY_VAR).ok().filter(|s| !s.is_empty()) {
                    return JournalKey::from_hex(&secret)
                        .map_err(|message| ResumeError::Store(format!("${JOURNAL_KEY_VAR}: {message}")));
                }
                let path = paused.data_dir.as_ref().ok_or_else(no_data_dir)?.join("journal.key");
                JournalKey::load_or_create(&path).map_err(|e| ResumeError::Store(format!("{}: {e}", path.display())))
            })
            .await
    }

    /// How long a paused execution is kept.
    pub(crate) fn paused_expiry(&self) -> Duration {
        self.inner.approvals.paused_expiry
    }

    /// How long a resume's lease on a stored execution lasts unless
    /// renewed.
    pub(crate) fn resume_lease(&self) -> Duration {
        self.inner.approvals.resume_lease
    }

    pub(crate) fn pii(&self) -> Option<&Arc<PiiEngine>> {
        self.inner.pii.as_ref()
    }

    /// Waits for a free execution slot; counted as in flight until the
    /// returned guard drops.
    pub(crate) async fn slot(&self) -> Result<ExecutionSlot, Error> {
        let permit = self.inner.slots.clone().acquire_owned().await.map_err(|_| Error::ShuttingDown)?;
        self.inner.metrics.execution_started();
        Ok(ExecutionSlot { _permit: permit, metrics: self.inner.metrics.clone() })
    }
}

/// One running execution's claim on the runtime (held until its instance
/// is released).
pub(crate) struct ExecutionSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Drop for ExecutionSlot {
    fn drop(&mut self) {
        self.metrics.execution_finished();
    }
}

/// The variable that holds the journal key's secret (hex, 32 bytes or
/// more), for instances that share paused executions; else the data
/// folder's `journal.key` file.
pub const JOURNAL_KEY_VAR: &str = "AIRLOCK_JOURNAL_KEY";

fn no_data_dir() -> ResumeError {
    ResumeError::Store(
        "there is no data folder to keep paused executions in (set one with RuntimeBuilder::data_dir)".into(),
    )
}
