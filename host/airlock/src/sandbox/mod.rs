//! One execution's sandbox: the store's data, its limits, its WASI context
//! and the host side of the guest's imports.

pub(crate) mod output;
mod services;
mod skill;

pub(crate) use services::{Services, SkillLinker};
pub(crate) use skill::call_run;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tracing::Instrument;
use wasmtime::component::{HasSelf, Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, Trap, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::boundary::Boundary;
use crate::codegen::DeclarationStyle;
use crate::discovery::tree::{Node, TreeError};
use crate::discovery::{self, Detail};
use crate::error::Error;
use crate::execution::{ExecutionError, ExecutionResult, Stats};
use crate::limits::{Limit, Limits};
use crate::module_server::CompileModule;
use crate::skills::SkillLanguage;
use crate::tool::ToolError;
use crate::wit::AgentPre;
use crate::wit::airlock::runtime::{modules, skills, tools, tree, types};
use crate::wit::javascript::JavascriptPre;
use output::{CappedOutput, OutputLimitExceeded};

/// Where the session's workspace appears inside the guest.
pub(crate) const WORKSPACE_GUEST_PATH: &str = "/workspace";

/// The error a host-enforced limit traps with.
#[derive(Debug, thiserror::Error)]
#[error("the {0} limit was hit")]
pub(crate) struct LimitTrap(pub Limit);

/// Caps linear memory and records its high-water mark.
struct MemoryLimiter {
    cap: usize,
    peak: usize,
    hit: bool,
}

/// Tables only hold function references; QuickJS never grows them, so a
/// generous fixed cap is enough to stop a hostile guest.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.cap {
            self.hit = true;
            return Err(wasmtime::Error::new(LimitTrap(Limit::Memory)));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// What an instance may spend: an execution's limits when it starts, or
/// what its caller has left when a component skill runs.
#[derive(Debug, Clone)]
pub(crate) struct Budget {
    pub fuel: u64,
    pub deadline: Instant,
    pub tool_calls: u32,
    pub memory_bytes: u64,
}

impl Budget {
    /// The whole of `limits`, starting at `started`.
    fn of(limits: &Limits, started: Instant) -> Self {
        Budget {
            fuel: limits.fuel,
            deadline: started + limits.timeout,
            tool_calls: limits.tool_calls,
            memory_bytes: limits.memory_bytes,
        }
    }
}

/// Where an instance's output goes and which folder it sees: shared by an
/// execution and the component skills it runs.
#[derive(Clone)]
pub(crate) struct Surroundings {
    pub stdout: CappedOutput,
    pub stderr: CappedOutput,
    pub workspace: Option<PathBuf>,
}

impl Surroundings {
    /// No output kept and no folder: for instances that only compute.
    fn silent() -> Self {
        Surroundings { stdout: CappedOutput::new("stdout", 0), stderr: CappedOutput::new("stderr", 0), workspace: None }
    }
}

/// Everything one execution's store holds.
pub(crate) struct StoreState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    boundary: Boundary,
    /// Skills, search and modules: what host calls reach besides tools.
    services: Services,
    tool_calls: u32,
    budget: Budget,
    surroundings: Surroundings,
    /// A limit enforced by the host, recorded before it traps.
    limit_hit: Option<Limit>,
    /// The declarations `tools.search` shows the guest's language.
    style: DeclarationStyle,
}

impl WasiView for StoreState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl StoreState {
    /// The store data for an instance spending `budget`, its WASI reaching
    /// the captured output and the workspace and nothing else.
    fn new(budget: Budget, surroundings: Surroundings, boundary: Boundary, services: Services) -> Result<Self, Error> {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(surroundings.stdout.clone()).stderr(surroundings.stderr.clone());
        if let Some(workspace) = &surroundings.workspace {
            wasi.preopened_dir(workspace, WORKSPACE_GUEST_PATH, FsPerms::ReadWrite)
                .map_err(|e| Error::Workspace(format!("cannot open {}: {e}", workspace.display())))?;
        }
        Ok(StoreState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryLimiter {
                cap: usize::try_from(budget.memory_bytes).unwrap_or(usize::MAX),
                peak: 0,
                hit: false,
            },
            boundary,
            services,
            tool_calls: 0,
            budget,
            surroundings,
            limit_hit: None,
            style: DeclarationStyle::TypeScript,
        })
    }

    /// The session's capability boundary.
    pub(crate) fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// Counts `n` more tool calls, trapping once the cap would be passed.
    pub(crate) fn count_tool_calls(&mut self, n: usize) -> wasmtime::Result<()> {
        let total = u64::from(self.tool_calls) + n as u64;
        if total > u64::from(self.budget.tool_calls) {
            self.limit_hit = Some(Limit::ToolCalls);
            return Err(wasmtime::Error::new(LimitTrap(Limit::ToolCalls)));
        }
        self.tool_calls = total as u32;
        Ok(())
    }
}

/// Builds the linker every guest instance is created with: WASI plus the
/// `airlock:runtime` imports. `components.run` needs the calling store
/// (its fuel), so it is defined here rather than through a `Host` trait.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    use crate::wit::airlock::runtime as wit;
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wit::types::add_to_linker::<_, HasSelf<StoreState>>(&mut linker, |state| state)?;
    wit::tools::add_to_linker::<_, HasSelf<StoreState>>(&mut linker, |state| state)?;
    wit::modules::add_to_linker::<_, HasSelf<StoreState>>(&mut linker, |state| state)?;
    wit::tree::add_to_linker::<_, HasSelf<StoreState>>(&mut linker, |state| state)?;
    wit::skills::add_to_linker::<_, HasSelf<StoreState>>(&mut linker, |state| state)?;
    linker
        .instance("airlock:runtime/components@0.1.0")?
        .func_wrap_async("run", |store, (name, input): (String, String)| {
            Box::new(async move { Ok((skill::run(store, name, input).await?,)) })
        })?;
    Ok(linker)
}

/// A store for pre-initialisation: no limits that could cut it short, no
/// tools, no filesystem.
pub(crate) fn preinit_store(engine: &Engine) -> Result<Store<StoreState>, Error> {
    let budget = Budget { fuel: u64::MAX, deadline: Instant::now(), tool_calls: 0, memory_bytes: u64::MAX };
    let state = StoreState::new(budget, Surroundings::silent(), Boundary::default(), Services::default())?;
    let mut store = Store::new(engine, state);
    store.set_fuel(u64::MAX).map_err(Error::internal)?;
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
    Ok(store)
}

/// A store spending `budget`: memory limiter, fuel and the deadline, which
/// traps with the `timeout` limit once passed.
fn limited_store(engine: &Engine, state: StoreState) -> Result<Store<StoreState>, Error> {
    let (fuel, deadline) = (state.budget.fuel, state.budget.deadline);
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    store.set_fuel(fuel).map_err(Error::internal)?;
    let mut last_yield = Instant::now();
    store.epoch_deadline_callback(move |mut ctx| {
        let now = Instant::now();
        if now >= deadline {
            ctx.data_mut().limit_hit = Some(Limit::Timeout);
            return Err(wasmtime::Error::new(LimitTrap(Limit::Timeout)));
        }
        // Yield now and then so that the deadline timer and other tasks
        // run; not at every tick, which would add a scheduler round trip
        // to every tool call that spanned one.
        if now.duration_since(last_yield) >= YIELD_INTERVAL {
            last_yield = now;
            return Ok(UpdateDeadline::Yield(1));
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store.set_epoch_deadline(1);
    Ok(store)
}

/// What one execution produced, before the language front-end shapes it.
pub(crate) struct RawOutcome {
    pub stdout: String,
    pub stderr: String,
    pub value: Option<String>,
    pub error: Option<ExecutionError>,
    pub stats: Stats,
}

impl RawOutcome {
    /// The result as the embedding API returns it (the default export
    /// parsed as JSON; `null` when absent or not JSON).
    pub(crate) fn into_result(self) -> ExecutionResult {
        let value = self.value.and_then(|json| serde_json::from_str(&json).ok()).unwrap_or(serde_json::Value::Null);
        ExecutionResult { stdout: self.stdout, stderr: self.stderr, value, error: self.error, stats: self.stats }
    }
}

/// One execution's store with its captured output, before and after the
/// guest runs.
pub(crate) struct Sandbox {
    pub store: Store<StoreState>,
    stdout: CappedOutput,
    stderr: CappedOutput,
    started: Instant,
    limits: Limits,
}

/// How a guest call ended: timed out, trapped, threw, or returned JSON.
pub(crate) type Finished = Result<wasmtime::Result<Result<String, ExecutionError>>, tokio::time::error::Elapsed>;

impl Sandbox {
    /// A fresh store with WASI (captured stdout/stderr, the workspace, nothing
    /// else), the memory limiter, fuel and the deadline.
    pub(crate) fn new(
        engine: &Engine,
        boundary: Boundary,
        services: Services,
        workspace: &Path,
        limits: &Limits,
    ) -> Result<Self, Error> {
        let started = Instant::now();
        let stdout = CappedOutput::new("stdout", limits.stdout_bytes);
        let stderr = CappedOutput::new("stderr", limits.stderr_bytes);
        let surroundings =
            Surroundings { stdout: stdout.clone(), stderr: stderr.clone(), workspace: Some(workspace.to_path_buf()) };
        let state = StoreState::new(Budget::of(limits, started), surroundings, boundary, services)?;
        let store = limited_store(engine, state)?;
        Ok(Sandbox { store, stdout, stderr, started, limits: limits.clone() })
    }

    /// Runs `code` in a fresh instance of `pre` under the sandbox's limits;
    /// `tools.search` shows it declarations in `style`.
    pub(crate) async fn execute(
        mut self,
        pre: &AgentPre<StoreState>,
        code: &str,
        style: DeclarationStyle,
    ) -> (RawOutcome, Store<StoreState>) {
        self.store.data_mut().style = style;
        let timeout = self.limits.timeout;
        let store = &mut self.store;
        let run = async {
            let agent = pre.instantiate_async(&mut *store).await?;
            let returned = agent.call_run(&mut *store, code).await?;
            Ok(returned.map_err(|thrown| ExecutionError::Exception {
                name: thrown.name,
                message: thrown.message,
                stack: thrown.stack,
            }))
        };
        let finished = tokio::time::timeout(timeout, run).await;
        self.finish(finished)
    }

    /// Shapes how the guest call ended into an outcome with stats, and
    /// hands back the store for [`release`].
    pub(crate) fn finish(self, finished: Finished) -> (RawOutcome, Store<StoreState>) {
        let limits = &self.limits;
        let state = self.store.data();
        let (value, error) = match finished {
            Err(_elapsed) => (None, Some(limit_error(Limit::Timeout, limits))),
            Ok(Ok(Ok(json))) => (Some(json), None),
            Ok(Ok(Err(thrown))) => (None, Some(thrown)),
            Ok(Err(trap)) => (None, Some(classify_trap(&trap, state, limits))),
        };
        let fuel_left = self.store.get_fuel().unwrap_or(0);
        let stats = Stats {
            fuel_used: limits.fuel.saturating_sub(fuel_left),
            wall_time: self.started.elapsed(),
            peak_memory: state.memory.peak as u64,
            tool_calls: state.tool_calls,
        };
        let outcome = RawOutcome { stdout: self.stdout.text(), stderr: self.stderr.text(), value, error, stats };
        (outcome, self.store)
    }
}

/// Drops a finished instance's store, and then `held` (an execution's
/// slot, or `()`), on a blocking thread: resetting a pooled instance's
/// memory takes longer than a small execution itself (a couple of hundred
/// microseconds for the Python guest), and the caller already has its
/// result. An execution's slot is held until the pool slot is free again,
/// so waiting executions never find the pool full.
pub(crate) fn release<T: Send + 'static>(store: Store<StoreState>, held: T) {
    let release = move || {
        drop(store);
        drop(held);
    };
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => drop(handle.spawn_blocking(release)),
        Err(_) => release(),
    }
}

/// Compiles the module `source` (known as `path`) to QuickJS bytecode in a
/// fresh instance of the JS guest that runs nothing else, under a budget
/// that ends a hostile source's compile.
pub(crate) async fn compile_module(
    engine: &Engine,
    pre: &JavascriptPre<StoreState>,
    path: &str,
    source: &str,
) -> Result<Vec<u8>, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let budget = Budget { fuel: 2_000_000_000, deadline, tool_calls: 0, memory_bytes: 256 << 20 };
    let state = StoreState::new(budget, Surroundings::silent(), Boundary::default(), Services::default())
        .map_err(|e| e.to_string())?;
    let mut store = limited_store(engine, state).map_err(|e| e.to_string())?;
    let agent = pre.instantiate_async(&mut store).await.map_err(|e| format!("{e:#}"))?;
    let compiled = agent.call_compile(&mut store, path, source).await.map_err(|e| format!("{e:#}"))?;
    release(store, ());
    compiled
}

/// Compiles JS modules to bytecode with [`compile_module`], for the
/// module server.
#[derive(Clone)]
pub(crate) struct JsCompiler {
    engine: Engine,
    js_guest: JavascriptPre<StoreState>,
}

impl JsCompiler {
    /// Compiles in instances of `js_guest` on `engine`.
    pub(crate) fn new(engine: &Engine, js_guest: &JavascriptPre<StoreState>) -> Self {
        JsCompiler { engine: engine.clone(), js_guest: js_guest.clone() }
    }
}

impl CompileModule for JsCompiler {
    fn compile<'a>(&'a self, path: &'a str, source: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>> {
        Box::pin(compile_module(&self.engine, &self.js_guest, path, source))
    }
}

/// Names the limit behind a trap, or reports the trap itself.
fn classify_trap(trap: &wasmtime::Error, state: &StoreState, limits: &Limits) -> ExecutionError {
    match limit_of(trap, state) {
        Some(limit) => limit_error(limit, limits),
        None => ExecutionError::Trap { message: trap_message(trap) },
    }
}

/// The limit a trap means, if it was one.
fn limit_of(trap: &wasmtime::Error, state: &StoreState) -> Option<Limit> {
    let output = &state.surroundings;
    if trap.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        Some(Limit::Fuel)
    } else if let Some(LimitTrap(limit)) = trap.downcast_ref::<LimitTrap>() {
        Some(*limit)
    } else if trap.downcast_ref::<OutputLimitExceeded>().is_some()
        || output.stdout.truncated()
        || output.stderr.truncated()
    {
        Some(Limit::Output)
    } else if state.memory.hit {
        Some(Limit::Memory)
    } else {
        state.limit_hit
    }
}

fn trap_message(trap: &wasmtime::Error) -> String {
    match trap.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => "stack overflow: the code recursed too deeply".to_string(),
        Some(Trap::MemoryOutOfBounds) => {
            "out-of-bounds memory access in the guest (deep recursion exhausts its stack this way)".to_string()
        }
        Some(other) => other.to_string(),
        None => format!("{trap:#}"),
    }
}

fn limit_error(limit: Limit, limits: &Limits) -> ExecutionError {
    let message = match limit {
        Limit::Fuel => format!("the execution ran out of fuel ({} units)", limits.fuel),
        Limit::Timeout => format!("the execution ran past its deadline of {:?}", limits.timeout),
        Limit::Memory => format!("the guest tried to grow its memory past {} bytes", limits.memory_bytes),
        Limit::Output => format!(
            "output went past its cap (stdout {} bytes, stderr {} bytes)",
            limits.stdout_bytes, limits.stderr_bytes
        ),
        Limit::ToolCalls => format!("the code made more than {} tool calls", limits.tool_calls),
    };
    ExecutionError::Limit { limit, message }
}

fn tool_error_to_wit(error: ToolError) -> types::ToolError {
    match error {
        ToolError::NotFound(m) => types::ToolError::NotFound(m),
        ToolError::Denied(m) => types::ToolError::Denied(m),
        ToolError::InvalidArguments(m) => types::ToolError::InvalidArguments(m),
        ToolError::Failed(m) => types::ToolError::Failed(m),
        ToolError::Unavailable(m) => types::ToolError::Unavailable(m),
    }
}

fn to_wit(outcome: Result<serde_json::Value, ToolError>) -> Result<String, types::ToolError> {
    outcome.map(|value| value.to_string()).map_err(tool_error_to_wit)
}

impl types::Host for StoreState {}

impl tools::Host for StoreState {
    async fn call(
        &mut self,
        server: String,
        tool: String,
        arguments: String,
    ) -> wasmtime::Result<Result<String, types::ToolError>> {
        self.count_tool_calls(1)?;
        let span = tracing::debug_span!("tool_call", %server, %tool);
        let outcome = self.boundary.call_json(&server, &tool, &arguments).instrument(span).await;
        Ok(to_wit(outcome))
    }

    async fn call_batch(
        &mut self,
        calls: Vec<types::ToolCall>,
    ) -> wasmtime::Result<Vec<Result<String, types::ToolError>>> {
        self.count_tool_calls(calls.len())?;
        let pending = calls.iter().map(|call| {
            let span = tracing::debug_span!("tool_call", server = %call.server, tool = %call.tool);
            self.boundary.call_json(&call.server, &call.tool, &call.arguments).instrument(span)
        });
        let outcomes = futures::future::join_all(pending).await;
        Ok(outcomes.into_iter().map(to_wit).collect())
    }

    async fn tool_names(&mut self, server: String) -> wasmtime::Result<Result<Vec<String>, types::ToolError>> {
        let listing = self.boundary.tools().listing(&server).await;
        Ok(listing
            .map(|listing| listing.definitions.iter().map(|tool| tool.name.clone()).collect())
            .map_err(tool_error_to_wit))
    }

    async fn search(
        &mut self,
        query: String,
        detail: tools::Detail,
        limit: u32,
    ) -> wasmtime::Result<Vec<tools::ToolMatch>> {
        let detail = match detail {
            tools::Detail::Name => Detail::Name,
            tools::Detail::Description => Detail::Description,
            tools::Detail::Full => Detail::Full,
        };
        let (tools, shared_skills) = (self.boundary.tools(), &self.services.shared_skills);
        let found =
            self.services.catalog.search(tools, shared_skills, &query, detail, limit as usize, self.style).await;
        Ok(found
            .matches
            .into_iter()
            .map(|m| tools::ToolMatch {
                server: m.server,
                tool: m.tool,
                score: m.score,
                description: m.description,
                declaration: m.declaration,
            })
            .collect())
    }
}

impl skills::Host for StoreState {
    async fn save(
        &mut self,
        name: String,
        description: String,
        code: String,
        language: String,
        replace: bool,
        session_only: bool,
    ) -> wasmtime::Result<Result<Vec<String>, String>> {
        let language = match language.parse::<crate::language::Language>() {
            Ok(language) => SkillLanguage::from(language),
            Err(message) => return Ok(Err(message)),
        };
        let request = crate::skills::SaveRequest {
            name,
            description,
            code,
            language,
            documentation: None,
            version: None,
            replace,
            session: session_only,
        };
        let saved = crate::skills::save_source(self.boundary.tools(), &self.services.skills, request).await;
        Ok(saved.map(|skill| skill.manifest.tools.into_keys().collect()).map_err(|e| e.to_string()))
    }
}

impl tree::Host for StoreState {
    async fn lookup(&mut self, path: String) -> wasmtime::Result<Result<tree::Node, tree::TreeError>> {
        Ok(match discovery::tree::lookup(self.boundary.tools(), &self.services.skills, &path).await {
            Ok(Node::Folder(entries)) => Ok(tree::Node::Folder(entries)),
            Ok(Node::File(text)) => Ok(tree::Node::File(text)),
            Err(TreeError::NotFound(message)) => Err(tree::TreeError::NotFound(message)),
            Err(TreeError::Unavailable(message)) => Err(tree::TreeError::Unavailable(message)),
        })
    }
}

impl modules::Host for StoreState {
    async fn load(&mut self, path: String) -> wasmtime::Result<Result<modules::ModuleSource, String>> {
        let served = self.services.modules.module(self.boundary.tools(), &self.services.skills, &path).await;
        Ok(served.map(|m| modules::ModuleSource {
            path: m.path,
            source: m.source,
            bytecode: m.bytecode.map(|b| b.to_vec()),
        }))
    }
}

/// How long an idle epoch tick lasts; also the granularity of deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How often a running guest yields to the async executor.
const YIELD_INTERVAL: Duration = Duration::from_millis(5);
