//! The wasmtime engine, the pre-initialised interpreter guests and their
//! on-disk cache.
//!
//! An interpreter guest (JavaScript: QuickJS; Python: Monty) is
//! pre-initialised once (wizer: the interpreter started), compiled, and
//! cached under a key derived from the guest's sha256, the wasmtime version
//! and the engine's settings, so a stale artifact is never loaded. Every
//! execution then instantiates the cached component through an
//! `InstancePre` with copy-on-write memory.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig};
use wasmtime_wizer::Wizer;

use crate::Error;
use crate::sandbox::{self, EPOCH_TICK, StoreState};
use crate::wit::AgentPre;

/// An interpreter guest of the `agent` world, as built by `build.rs`.
pub(crate) struct GuestImage {
    /// What logs and the artifact cache call it (`js-guest`).
    pub kind: &'static str,
    /// The language, for messages.
    pub language: &'static str,
    wasm: &'static [u8],
    sha256: &'static str,
}

/// The JavaScript guest (QuickJS).
pub(crate) const JS_GUEST: GuestImage = GuestImage {
    kind: "js-guest",
    language: "JavaScript",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/airlock_guest_js.wasm")),
    sha256: env!("AIRLOCK_JS_GUEST_SHA256"),
};

/// The Python guest (Monty).
pub(crate) const PYTHON_GUEST: GuestImage = GuestImage {
    kind: "python-guest",
    language: "Python",
    wasm: include_bytes!(concat!(env!("OUT_DIR"), "/airlock_guest_python.wasm")),
    sha256: env!("AIRLOCK_PYTHON_GUEST_SHA256"),
};

/// Sizing of the engine, fixed when the [`crate::Runtime`] is built.
#[derive(Debug, Clone)]
pub(crate) struct EngineSettings {
    /// Instances that may be alive at once (pool slots).
    pub max_instances: u32,
}

/// The pool reserves the whole 32-bit address space per memory: the cap an
/// execution sets is enforced by the store's limiter, below it.
const MAX_WASM32_MEMORY: usize = 4 << 30;

/// Builds the engine: pooling allocator, copy-on-write images, fuel,
/// epoch interruption, async host calls.
pub(crate) fn new_engine(settings: &EngineSettings) -> Result<Engine, Error> {
    let mut pool = PoolingAllocationConfig::new();
    // Room for two instances per execution: its guest and one component
    // skill it runs (skills run one at a time and cannot nest).
    let instances = settings.max_instances * 2;
    pool.total_component_instances(instances)
        .total_core_instances(instances * 4)
        .total_memories(instances * 2)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .max_memory_size(MAX_WASM32_MEMORY)
        // Keep the pages of a trivial execution resident between uses, so
        // reusing a slot costs no page faults (the Python guest touches
        // 2.6 MiB; at 2 MiB its cold execution took 242 instead of 139 µs).
        .linear_memory_keep_resident(4 << 20)
        .table_keep_resident(64 << 10);
    let mut config = Config::new();
    config
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .consume_fuel(true)
        .epoch_interruption(true)
        // QuickJS has no recursion check on WASI. Runaway recursion ends
        // when wasmtime's native stack limit (512 KiB) traps, which comes
        // before the guest's 1 MiB shadow stack runs out; if a huge frame
        // exhausts the shadow stack first, the guest's stack-first layout
        // turns that into an out-of-bounds trap, never into corruption.
        //
        // Traps end executions with typed errors; wasm backtraces would
        // only slow them down and bloat messages.
        .wasm_backtrace_max_frames(None)
        .cranelift_opt_level(OptLevel::Speed);
    Engine::new(&config).map_err(|e| Error::Guest(format!("cannot create the wasmtime engine: {e:#}")))
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
            .map_err(|e| Error::internal(format!("cannot start the epoch thread: {e}")))?;
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The default cache folder: `$AIRLOCK_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/airlock`, else `~/.cache/airlock`.
pub(crate) fn default_cache_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    var("AIRLOCK_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("airlock")))
        .or_else(|| var("HOME").map(|d| d.join(".cache").join("airlock")))
}

/// Loads the pre-initialised, precompiled `guest`, building and caching it
/// first when the cache has no artifact for this engine.
pub(crate) async fn load_guest(
    engine: &Engine,
    cache_dir: Option<&Path>,
    guest: &GuestImage,
) -> Result<AgentPre<StoreState>, Error> {
    let language = guest.language;
    let artifact = cache_dir.map(|dir| Artifact::new(engine, dir, guest.kind, guest.sha256));
    let component = match artifact.as_ref().and_then(|a| a.load(engine)) {
        Some(component) => component,
        None => {
            let component = build_guest(engine, guest).await?;
            if let Some(artifact) = &artifact {
                artifact.store(&component)?;
            }
            component
        }
    };
    let linker = sandbox::linker(engine).map_err(|e| Error::Guest(format!("cannot link: {e:#}")))?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| Error::Guest(format!("the {language} guest does not link: {e:#}")))?;
    AgentPre::new(pre).map_err(|e| Error::Guest(format!("the {language} guest lacks the agent exports: {e:#}")))
}

/// Pre-initialises the embedded guest and compiles the snapshot.
async fn build_guest(engine: &Engine, guest: &GuestImage) -> Result<Component, Error> {
    let started = std::time::Instant::now();
    let snapshot = preinitialise(engine, guest.wasm).await?;
    // Compiling a large guest takes seconds: off the async threads.
    let compiling = engine.clone();
    let compiled =
        tokio::task::spawn_blocking(move || Component::new(&compiling, &snapshot).map(|c| (c, snapshot.len())))
            .await
            .map_err(|e| Error::internal(format!("the compile task failed: {e}")))?;
    let (component, bytes) =
        compiled.map_err(|e| Error::Guest(format!("cannot compile the pre-initialised guest: {e:#}")))?;
    tracing::info!(guest = guest.kind, elapsed = ?started.elapsed(), bytes, "pre-initialised and compiled a guest");
    Ok(component)
}

/// Runs the guest's `wizer-initialize` and snapshots the started engine.
pub(crate) async fn preinitialise(engine: &Engine, guest: &[u8]) -> Result<Vec<u8>, Error> {
    let fail = |e: wasmtime::Error| Error::Guest(format!("pre-initialisation failed: {e:#}"));
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
        let cache_error = |message: String| Error::Cache { path: self.dir.clone(), message };
        create_private_dir(&self.dir).map_err(|e| cache_error(format!("cannot create: {e}")))?;
        let bytes = component.serialize().map_err(|e| cache_error(format!("cannot serialise: {e:#}")))?;
        let mut temp =
            tempfile::NamedTempFile::new_in(&self.dir).map_err(|e| cache_error(format!("cannot write: {e}")))?;
        std::io::Write::write_all(&mut temp, &bytes).map_err(|e| cache_error(format!("cannot write: {e}")))?;
        temp.persist(&self.path).map_err(|e| cache_error(format!("cannot store the artifact: {e}")))?;
        Ok(())
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}
