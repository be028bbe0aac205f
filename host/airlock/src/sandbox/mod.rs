//! One execution's sandbox: the store's data, its limits, its WASI context
//! and the host side of the guest's imports.

mod compiler;
mod host;
pub(crate) mod output;
mod services;
mod skill;
mod traps;
mod workspace;

pub(crate) use compiler::JsCompiler;
pub(crate) use services::{Services, SkillLinker};
pub(crate) use skill::call_run;
pub(crate) use traps::{LimitTrap, halt_trap};
use traps::{classify_trap, limit_error, limit_of, trap_message};

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{Engine, ResourceLimiter, Store, UpdateDeadline};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::boundary::Boundary;
use crate::codegen::DeclarationStyle;
use crate::error::Error;
use crate::execution::{ExecutionError, ExecutionResult, Stats};
use crate::limits::{Limit, Limits};
use crate::wit::AgentPre;
use output::CappedOutput;
use workspace::{HeldFiles, WorkspaceQuota};

/// Where the session's workspace appears inside the guest.
pub(crate) const WORKSPACE_GUEST_PATH: &str = "/workspace";

/// Caps linear memory, all of a store's memories together (a component
/// may have several), and records its high-water mark.
struct MemoryLimiter {
    cap: usize,
    /// Bytes of linear memory the store's instances hold now.
    used: usize,
    /// What the last approved growth added, taken back if it then fails
    /// (a memory's own maximum, the pool's size).
    last_growth: usize,
    peak: usize,
    hit: bool,
}

/// Tables only hold function references; QuickJS never grows them, so a
/// generous fixed cap is enough to stop a hostile guest.
const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let used = self.used.saturating_sub(current).saturating_add(desired);
        if used > self.cap {
            self.hit = true;
            return Err(wasmtime::Error::new(LimitTrap(Limit::Memory)));
        }
        self.last_growth = used.saturating_sub(self.used);
        self.used = used;
        self.peak = self.peak.max(used);
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.used -= std::mem::take(&mut self.last_growth).min(self.used);
        Ok(())
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// `at + by`, or a century on when that is past what the clock counts (an
/// operator may set any timeout).
pub(crate) fn later(at: Instant, by: Duration) -> Instant {
    at.checked_add(by).unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 3600))
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
            deadline: later(started, limits.timeout),
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
    /// The workspace folder and what it may hold.
    pub quota: Option<Arc<WorkspaceQuota>>,
}

impl Surroundings {
    /// No output kept and no folder: for instances that only compute.
    fn silent() -> Self {
        Surroundings { stdout: CappedOutput::new("stdout", 0), stderr: CappedOutput::new("stderr", 0), quota: None }
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
    /// The workspace files this store's guest holds open.
    held: HeldFiles,
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
        // Clocks and randomness through the execution's tape: a replay
        // reads the same time and draws the same bytes.
        let recorder = boundary.recorder();
        let (secure, insecure, insecure_seed) = recorder.random();
        wasi.wall_clock(recorder.wall_clock())
            .monotonic_clock(recorder.monotonic_clock())
            .secure_random(secure)
            .insecure_random(insecure)
            .insecure_random_seed(insecure_seed);
        if let Some(quota) = &surroundings.quota {
            let workspace = quota.root();
            wasi.preopened_dir(workspace, WORKSPACE_GUEST_PATH, FsPerms::ReadWrite)
                .map_err(|e| Error::workspace(format!("cannot open {}", workspace.display()), e))?;
        }
        Ok(StoreState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            memory: MemoryLimiter {
                cap: usize::try_from(budget.memory_bytes).unwrap_or(usize::MAX),
                used: 0,
                last_growth: 0,
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
            held: HeldFiles::default(),
        })
    }

    /// The session's capability boundary.
    pub(crate) fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// Counts `n` more tool calls, trapping once the cap would be passed.
    pub(crate) fn count_tool_calls(&mut self, n: usize) -> wasmtime::Result<()> {
        self.tools_view().count(n)
    }

    fn tools_view(&mut self) -> host::ToolsView<'_> {
        host::ToolsView {
            boundary: &self.boundary,
            catalog: &self.services.catalog,
            shared_skills: &self.services.shared_skills,
            style: self.style,
            calls_made: &mut self.tool_calls,
            calls_cap: self.budget.tool_calls,
            limit_hit: &mut self.limit_hit,
        }
    }

    fn modules_view(&mut self) -> host::ModulesView<'_> {
        host::ModulesView {
            server: &self.services.modules,
            tools: self.boundary.tools(),
            skills: &self.services.skills,
        }
    }

    fn tree_view(&mut self) -> host::TreeView<'_> {
        host::TreeView { tools: self.boundary.tools(), skills: &self.services.skills }
    }

    fn skills_view(&mut self) -> host::SkillsView<'_> {
        host::SkillsView { tools: self.boundary.tools(), skills: &self.services.skills }
    }
}

/// Builds the linker every guest instance is created with: WASI plus the
/// `airlock:runtime` imports (`host/`, one file per interface).
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = wasi_linker(engine)?;
    host::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// Builds the linker component skills are created with: WASI and what the
/// `skill` world imports, no more (their typed server imports are added to
/// it per component).
pub(crate) fn skill_linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = wasi_linker(engine)?;
    host::add_skill_imports(&mut linker)?;
    Ok(linker)
}

/// A linker with WASI, its filesystem under the workspace caps: every
/// linker a guest runs in starts here, so none reaches the workspace
/// without them.
fn wasi_linker(engine: &Engine) -> wasmtime::Result<Linker<StoreState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    workspace::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// A store for pre-initialisation: no limits that could cut it short, no
/// tools, no filesystem.
pub(crate) fn preinit_store(engine: &Engine) -> Result<Store<StoreState>, Error> {
    let budget = Budget { fuel: u64::MAX, deadline: Instant::now(), tool_calls: 0, memory_bytes: u64::MAX };
    let state = StoreState::new(budget, Surroundings::silent(), Boundary::default(), Services::default())?;
    let mut store = Store::new(engine, state);
    store.set_fuel(u64::MAX).map_err(|e| Error::internal("cannot set fuel", e))?;
    store.epoch_deadline_callback(|_| Ok(UpdateDeadline::Continue(1)));
    Ok(store)
}

/// A store spending `budget`: memory limiter, fuel and the deadline, which
/// traps with the `timeout` limit once passed.
fn limited_store(engine: &Engine, state: StoreState) -> Result<Store<StoreState>, Error> {
    let (fuel, deadline) = (state.budget.fuel, state.budget.deadline);
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.memory);
    store.set_fuel(fuel).map_err(|e| Error::internal("cannot set fuel", e))?;
    let mut last_yield = Instant::now();
    store.epoch_deadline_callback(move |mut ctx| {
        let now = Instant::now();
        // Time spent waiting for a human's approval is not execution time.
        if now >= later(deadline, ctx.data().boundary.waited()) {
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
    /// Bytes printed in all, replayed ones included.
    pub printed: (usize, usize),
    pub value: Option<String>,
    pub error: Option<ExecutionError>,
    pub stats: Stats,
}

impl RawOutcome {
    /// The result as the embedding API returns it (the default export
    /// parsed as JSON; `null` when absent). A value the host cannot read
    /// (nested past serde's 128 levels, say) is an error, not a silent
    /// `null`.
    pub(crate) fn into_result(self) -> ExecutionResult {
        let (value, error) = match self.value.as_deref().map(serde_json::from_str) {
            None => (serde_json::Value::Null, self.error),
            Some(Ok(value)) => (value, self.error),
            Some(Err(unread)) => {
                let message = format!("the returned value is not JSON this host reads: {unread}");
                let unreadable = ExecutionError::Exception { name: "TypeError".into(), message, stack: None };
                (serde_json::Value::Null, self.error.or(Some(unreadable)))
            }
        };
        ExecutionResult { stdout: self.stdout, stderr: self.stderr, value, error, stats: self.stats, paused: None }
    }
}

/// Where a resumed execution was when it paused.
#[derive(Debug, Clone, Default)]
pub(crate) struct Resumed {
    /// Execution time before the pause.
    pub elapsed: Duration,
    /// Bytes printed before the pause.
    pub stdout_bytes: usize,
    pub stderr_bytes: usize,
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
pub(crate) type Finished = Result<wasmtime::Result<Result<String, ExecutionError>>, TimedOut>;

/// The execution ran past its deadline.
#[derive(Debug)]
pub(crate) struct TimedOut;

/// An execution's wall-clock deadline: `timeout` after it started, moved
/// by the time it spent waiting for approvals (read from its boundary each
/// time the deadline comes).
pub(crate) struct Deadline {
    started: Instant,
    timeout: Duration,
    boundary: Boundary,
}

impl Deadline {
    fn at(&self) -> Instant {
        later(later(self.started, self.timeout), self.boundary.waited())
    }

    /// Runs `run` until it finishes or the deadline passes.
    pub(crate) async fn run<T>(&self, run: impl Future<Output = T>) -> Result<T, TimedOut> {
        let mut run = std::pin::pin!(run);
        loop {
            match tokio::time::timeout_at(tokio::time::Instant::from_std(self.at()), &mut run).await {
                Ok(output) => return Ok(output),
                // An approval answered meanwhile moved the deadline.
                Err(_) if Instant::now() < self.at() => continue,
                Err(_) => return Err(TimedOut),
            }
        }
    }
}

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
        Sandbox::resuming(engine, boundary, services, workspace, limits, &Resumed::default())
    }

    /// [`Sandbox::new`] for an execution that ran `resumed.elapsed` before
    /// it paused: its deadline is that much nearer, and what it printed
    /// then is not printed again.
    pub(crate) fn resuming(
        engine: &Engine,
        boundary: Boundary,
        services: Services,
        workspace: &Path,
        limits: &Limits,
        resumed: &Resumed,
    ) -> Result<Self, Error> {
        let now = Instant::now();
        let started = now.checked_sub(resumed.elapsed).unwrap_or(now);
        let stdout = CappedOutput::new("stdout", limits.stdout_bytes);
        let stderr = CappedOutput::new("stderr", limits.stderr_bytes);
        stdout.skip(resumed.stdout_bytes);
        stderr.skip(resumed.stderr_bytes);
        let quota = WorkspaceQuota::join(workspace, limits.workspace_bytes);
        let surroundings =
            Surroundings { stdout: stdout.clone(), stderr: stderr.clone(), quota: Some(Arc::new(quota)) };
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
        let deadline = self.deadline();
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
        let finished = deadline.run(run).await;
        self.finish(finished)
    }

    /// The execution's deadline, to run its guest call under.
    pub(crate) fn deadline(&self) -> Deadline {
        Deadline { started: self.started, timeout: self.limits.timeout, boundary: self.store.data().boundary.clone() }
    }

    /// Shapes how the guest call ended into an outcome with stats, and
    /// hands back the store for [`release`].
    pub(crate) fn finish(self, finished: Finished) -> (RawOutcome, Store<StoreState>) {
        let limits = &self.limits;
        let state = self.store.data();
        // Its store is released later, off this task: the execution leaves
        // the workspace's count now, so the next one measures afresh.
        if let Some(quota) = &state.surroundings.quota {
            quota.leave();
        }
        let (value, error) = match finished {
            Err(_elapsed) => (None, Some(limit_error(Limit::Timeout, limits))),
            // What the code returns reaches the model as its output does:
            // under the same cap.
            Ok(Ok(Ok(json))) if json.len() as u64 > limits.stdout_bytes => {
                let message = format!(
                    "the returned value is {} bytes of JSON, over the {}-byte output cap",
                    json.len(),
                    limits.stdout_bytes
                );
                (None, Some(ExecutionError::Limit { limit: Limit::Output, message }))
            }
            Ok(Ok(Ok(json))) => (Some(json), None),
            Ok(Ok(Err(thrown))) => (None, Some(capped_exception(thrown, limits.stderr_bytes))),
            // Paused or diverged: the session makes of it what it is.
            Ok(Err(trap)) if trap.downcast_ref::<traps::Halted>().is_some() => (None, None),
            Ok(Err(trap)) => (None, Some(classify_trap(&trap, state, limits))),
        };
        let fuel_left = self.store.get_fuel().unwrap_or(0);
        let stats = Stats {
            fuel_used: limits.fuel.saturating_sub(fuel_left),
            wall_time: self.started.elapsed(),
            peak_memory: state.memory.peak as u64,
            tool_calls: state.tool_calls,
        };
        let outcome = RawOutcome {
            stdout: self.stdout.text(),
            stderr: self.stderr.text(),
            printed: (self.stdout.written(), self.stderr.written()),
            value,
            error,
            stats,
        };
        (outcome, self.store)
    }
}

/// `thrown` with its name, message and stack cut to `cap` bytes each, as
/// stderr is: what code throws reaches the model too.
fn capped_exception(thrown: ExecutionError, cap: u64) -> ExecutionError {
    let ExecutionError::Exception { name, message, stack } = thrown else { return thrown };
    let cap = usize::try_from(cap).unwrap_or(usize::MAX);
    let cut = |text: String| -> String {
        if text.len() <= cap {
            return text;
        }
        format!("{}[airlock: cut at {cap} of {} bytes]", &text[..text.floor_char_boundary(cap)], text.len())
    };
    ExecutionError::Exception { name: cut(name), message: cut(message), stack: stack.map(cut) }
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

/// How long an idle epoch tick lasts; also the granularity of deadlines.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How often a running guest yields to the async executor.
const YIELD_INTERVAL: Duration = Duration::from_millis(5);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_cap_covers_every_memory_and_a_failed_growth_is_taken_back() {
        let mut limiter = MemoryLimiter { cap: 100, used: 0, last_growth: 0, peak: 0, hit: false };
        assert!(limiter.memory_growing(0, 60, None).unwrap(), "one memory");
        assert!(limiter.memory_growing(0, 60, None).is_err(), "a second memory past the cap together");
        assert!(limiter.hit);
        assert!(limiter.memory_growing(0, 30, None).unwrap());
        assert_eq!(limiter.used, 90);
        // Approved, then refused by the memory itself: not counted.
        assert!(limiter.memory_growing(30, 40, None).unwrap());
        limiter.memory_grow_failed(wasmtime::Error::msg("past its maximum")).unwrap();
        assert_eq!(limiter.used, 90);
        assert!(limiter.memory_growing(60, 70, None).unwrap(), "room for the 10 bytes still");
        assert_eq!((limiter.used, limiter.peak), (100, 100));
    }
}
