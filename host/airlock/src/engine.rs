//! The wasmtime engine, the pre-initialised interpreter guests and their
//! on-disk cache.
//!
//! An interpreter guest arrives pre-initialised (CPython: componentize-py
//! snapshots it at build time) or is pre-initialised once here (QuickJS:
//! wizer runs `wizer-initialize`); it is then compiled and cached under a
//! key derived from the guest's sha256, the wasmtime version and the
//! engine's settings, so a stale artifact is never loaded. Every execution
//! instantiates the cached component through an `InstancePre` with
//! copy-on-write memory.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, InstancePre};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};
use wasmtime_wizer::Wizer;

use crate::digest::hex;
use crate::error::Error;
use crate::progress::{Progress, ProgressFn};
use crate::sandbox::{self, EPOCH_TICK, StoreState};

/// An interpreter guest of the `agent` world, as built by `build.rs`.
pub(crate) struct GuestImage {
    /// What logs and the artifact cache call it (`js-guest`).
    pub kind: &'static str,
    /// The language, for messages.
    pub language: &'static str,
    /// Whether the host runs its `wizer-initialize` before compiling it
    /// (a guest snapshotted at build time needs no second start).
    preinitialise: bool,
    wasm: &'static [u8],
    sha256: &'static str,
}

impl GuestImage {
    /// The build a journal names: a replay on another build could take
    /// another path.
    pub(crate) fn identity(&self) -> String {
        format!("{}@{} sha256:{}", self.kind, env!("CARGO_PKG_VERSION"), self.sha256)
    }
}

/// The JavaScript guest (QuickJS), pre-initialised here. A `static`, not a
/// `const`: each use of a `const` may embed its own copy of the bytes.
pub(crate) static JS_GUEST: GuestImage = GuestImage {
    kind: "js-guest",
    language: "JavaScript",
    preinitialise: true,
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/airlock_guest_js.wasm")),
    sha256: env!("AIRLOCK_JS_GUEST_SHA256"),
};

/// The Python guest (CPython), snapshotted by componentize-py at build time.
pub(crate) static PYTHON_GUEST: GuestImage = GuestImage {
    kind: "python-guest",
    language: "Python",
    preinitialise: false,
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/airlock_guest_python.wasm")),
    sha256: env!("AIRLOCK_PYTHON_GUEST_SHA256"),
};

/// How deep a guest's wasm stack may grow. CPython's C code (json, repr,
/// comparisons of deeply nested values) recurses on it; with this much,
/// Python's own guard raises a catchable RecursionError first. QuickJS's
/// runaway recursion now ends in its 1 MiB shadow stack instead, as an
/// out-of-bounds trap (its stack-first layout makes that safe).
const MAX_WASM_STACK: usize = 32 << 20;

/// Sizing of the engine, fixed when the [`crate::Runtime`] is built.
#[derive(Debug, Clone)]
pub(crate) struct EngineSettings {
    /// Instances that may be alive at once (pool slots).
    pub max_instances: u32,
}

/// How much of a pool slot's memory stays resident between executions, so
/// reusing a slot costs no page faults: CPython's image is 17 MiB (a cold
/// `print(1+1)` took 1.9 ms with 4 MiB kept, 1.1 ms with 20 MiB and
/// PAGEMAP_SCAN, on this project's 2-core benchmark machine).
const KEEP_RESIDENT: usize = 20 << 20;

/// The pool reserves the whole 32-bit address space per memory: the cap an
/// execution sets is enforced by the store's limiter, below it.
const MAX_WASM32_MEMORY: usize = 4 << 30;

/// What one component may instantiate: the CPython guest's 14 core
/// modules, one memory and two tables, with room to spare. A component
/// skill (any the operator installed) gets no more.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 4;

/// Builds the engine: pooling allocator, copy-on-write images, fuel,
/// epoch interruption, async host calls.
pub(crate) fn new_engine(settings: &EngineSettings) -> Result<Engine, Error> {
    let mut pool = PoolingAllocationConfig::new();
    // Room for two component instances per execution, each as large as a
    // component may be: its guest and one component skill it runs (skills
    // run one at a time and cannot nest). So executions that all run the
    // largest skill at once still fit, and none drains the others' share.
    let executions = settings.max_instances;
    pool.max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .total_component_instances(executions * 2)
        .total_core_instances(executions * 2 * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(executions * 2 * MEMORIES_PER_COMPONENT)
        .total_tables(executions * 2 * TABLES_PER_COMPONENT)
        .total_stacks(executions * 2)
        .max_memory_size(MAX_WASM32_MEMORY)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        // Where the kernel has PAGEMAP_SCAN (6.7+), only the pages an
        // execution dirtied are reset, so keeping a large image resident
        // costs nothing for the pages left alone.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .table_keep_resident(64 << 10);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        // Traps end executions with typed errors; wasm backtraces would
        // only slow them down and bloat messages.
        .wasm_backtrace_max_frames(None)
        .max_wasm_stack(MAX_WASM_STACK)
        // A fiber stack holds the wasm stack and the host calls below it.
        .async_stack_size(MAX_WASM_STACK + (1 << 20))
        .cranelift_opt_level(OptLevel::Speed);
    Engine::new(&config).map_err(|e| Error::guest("cannot create the wasmtime engine", e))
}

/// Stops the epoch ticker thread when the runtime goes away.
pub(crate) struct EpochTicker {
    stop: Arc<AtomicBool>,
}

impl EpochTicker {
    /// Advances `engine`'s epoch every [`EPOCH_TICK`] on a thread of its own.
    pub(crate) fn start(engine: &Engine) -> Result<Self, Error> {
        let stop = Arc::new(AtomicBool::new(false));
        let (engine, flag) = (engine.clone(), stop.clone());
        std::thread::Builder::new()
            .name("airlock-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .map_err(|e| Error::internal("cannot start the epoch thread", e))?;
        Ok(EpochTicker { stop })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Feeds `Hash` output into sha256, to fold the engine's settings into the
/// cache key.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The cache key of an artifact of `kind` (`js-guest`, `skill`) compiled
/// from code with `code_sha256` on `engine`.
fn artifact_key(engine: &Engine, kind: &str, code_sha256: &str) -> String {
    let mut hasher = Sha256Hasher(Sha256::new());
    hasher.write(b"airlock-");
    hasher.write(kind.as_bytes());
    hasher.write(b"\0");
    hasher.write(code_sha256.as_bytes());
    hasher.write(env!("CARGO_PKG_VERSION").as_bytes());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hex(&hasher.0.finalize())
}

/// Loads the pre-initialised, precompiled `guest`, building and caching it
/// first when the cache has no artifact for this engine.
pub(crate) async fn load_guest(
    engine: &Engine,
    cache_dir: Option<&Path>,
    guest: &GuestImage,
    progress: Option<&ProgressFn>,
) -> Result<InstancePre<StoreState>, Error> {
    let language = guest.language;
    let artifact = cache_dir.map(|dir| Artifact::new(engine, dir, guest.kind, guest.sha256));
    let component = match artifact.as_ref().and_then(|a| a.load(engine)) {
        Some(component) => component,
        None => {
            let report = |progress_report: Progress| {
                if let Some(report) = progress {
                    report(&progress_report);
                }
            };
            report(Progress::Compiling { language, cache: cache_dir.map(Path::to_path_buf) });
            let started = std::time::Instant::now();
            let component = build_guest(engine, guest).await?;
            report(Progress::Compiled { language, elapsed: started.elapsed() });
            if let Some(artifact) = &artifact {
                artifact.store(&component)?;
            }
            component
        }
    };
    let linker = sandbox::linker(engine).map_err(|e| Error::guest("cannot link the host interfaces", e))?;
    linker.instantiate_pre(&component).map_err(|e| Error::guest(format!("the {language} guest does not link"), e))
}

/// Pre-initialises the embedded guest if it needs it, and compiles it.
async fn build_guest(engine: &Engine, guest: &GuestImage) -> Result<Component, Error> {
    let started = std::time::Instant::now();
    let snapshot = match guest.preinitialise {
        true => preinitialise(engine, guest.wasm).await?,
        false => guest.wasm.to_vec(),
    };
    // Compiling a large guest takes seconds: off the async threads.
    let compiling = engine.clone();
    let compiled =
        tokio::task::spawn_blocking(move || Component::new(&compiling, &snapshot).map(|c| (c, snapshot.len())))
            .await
            .map_err(|e| Error::internal("the compile task failed", e))?;
    let (component, bytes) = compiled.map_err(|e| Error::guest("cannot compile the pre-initialised guest", e))?;
    tracing::info!(guest = guest.kind, elapsed = ?started.elapsed(), bytes, "pre-initialised and compiled a guest");
    Ok(component)
}

/// Runs the guest's `wizer-initialize` and snapshots the started engine.
pub(crate) async fn preinitialise(engine: &Engine, guest: &[u8]) -> Result<Vec<u8>, Error> {
    let fail = |e: wasmtime::Error| Error::guest("pre-initialisation failed", e);
    let mut store = sandbox::preinit_store(engine)?;
    let linker = sandbox::linker(engine).map_err(fail)?;
    // The component's own export of `wizer-initialize` lifts the core
    // export, so the core module must keep it.
    let (snapshot, _) = Wizer::new()
        .keep_init_func(true)
        .run_component(&mut store, guest, async |store, component| linker.instantiate_async(store, component).await)
        .await
        .map_err(fail)?;
    Ok(snapshot)
}

/// A compiled component in the on-disk cache, named by what it was
/// compiled from and for.
pub(crate) struct Artifact {
    dir: PathBuf,
    path: PathBuf,
}

impl Artifact {
    /// The artifact of `kind` for code with `code_sha256` on `engine`, in `dir`.
    pub(crate) fn new(engine: &Engine, dir: &Path, kind: &str, code_sha256: &str) -> Self {
        let key = artifact_key(engine, kind, code_sha256);
        Artifact { dir: dir.to_path_buf(), path: dir.join(format!("{kind}-{key}.cwasm")) }
    }

    /// The cached component, if there is a usable one.
    pub(crate) fn load(&self, engine: &Engine) -> Option<Component> {
        if !self.path.exists() {
            return None;
        }
        // SAFETY: the file is an artifact this code wrote with
        // `Component::serialize` into the user's own cache folder (created
        // 0700), atomically renamed into place, and named by a key that
        // covers the code's sha256, the wasmtime version and the engine
        // settings; wasmtime checks its header and compatibility before use.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &self.path) };
        match loaded {
            Ok(component) => Some(component),
            Err(e) => {
                // Incompatible or damaged: rebuild rather than fail.
                tracing::warn!(path = %self.path.display(), error = %e, "ignoring an unusable cached artifact");
                None
            }
        }
    }

    /// Stores `component`, atomically.
    pub(crate) fn store(&self, component: &Component) -> Result<(), Error> {
        let fail =
            |context: &'static str, source: crate::Cause| Error::Cache { path: self.dir.clone(), context, source };
        create_private_dir(&self.dir).map_err(|e| fail("cannot create", e.into()))?;
        let bytes = component.serialize().map_err(|e| fail("cannot serialise", e.into()))?;
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| fail("cannot write", e.into()))?;
        std::io::Write::write_all(&mut temp, &bytes).map_err(|e| fail("cannot write", e.into()))?;
        temp.persist(&self.path).map_err(|e| fail("cannot store the artifact", e.into()))?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}
