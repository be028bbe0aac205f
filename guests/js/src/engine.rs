//! The QuickJS engine: started once (at pre-initialisation), then used for
//! the one execution each instance serves.

use std::cell::{OnceCell, RefCell};
use std::collections::BTreeMap;

use rquickjs::loader::{ImportAttributes, Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::promise::PromiseState;
use rquickjs::{
    CatchResultExt, CaughtError, Context, Ctx, Function, Module, Object, Persistent, Promise, Runtime, Value,
    WriteOptions,
};

use crate::airlock::runtime::modules;
use crate::airlock::runtime::types::GuestError;
use crate::{native, paths, tool_queue};

const PRELUDE: &str = include_str!("prelude.js");
const AIRLOCK_MODULE: &str = include_str!("airlock.js");
const FS_MODULE: &str = include_str!("fs.js");

/// Executions are short and start from a fresh heap: collecting cycles
/// before the heap reaches this size only costs time.
const GC_THRESHOLD: usize = 64 << 20;

pub struct Engine {
    runtime: Runtime,
    context: Context,
}

thread_local! {
    static ENGINE: OnceCell<Engine> = const { OnceCell::new() };
    // Modules fetched from the host while resolving, taken by the loader.
    static FETCHED: RefCell<BTreeMap<String, Fetched>> = const { RefCell::new(BTreeMap::new()) };
}

/// A module as the host served it.
enum Fetched {
    Source(String),
    /// Compiled by the host's own `compile` call from the same source.
    Bytecode(Vec<u8>),
}

/// Runs `f` with the engine, starting it first if pre-initialisation did not.
pub fn with_engine<R>(f: impl FnOnce(&Engine) -> R) -> R {
    ENGINE.with(|cell| f(cell.get_or_init(|| Engine::start().unwrap_or_else(|e| panic!("{e}")))))
}

impl Engine {
    fn start() -> Result<Self, String> {
        let runtime = Runtime::new().map_err(|e| format!("cannot start QuickJS: {e}"))?;
        // QuickJS disables its own stack check on WASI; the host's native
        // stack limit ends runaway recursion instead.
        runtime.set_gc_threshold(GC_THRESHOLD);
        runtime.set_loader(SandboxResolver, SandboxLoader);
        let context = Context::full(&runtime).map_err(|e| format!("cannot create a context: {e}"))?;
        context.with(|ctx| -> Result<(), String> {
            let native = native::install(&ctx).map_err(|e| e.to_string())?;
            ctx.globals().set("__airlock_native", native).map_err(|e| e.to_string())?;
            ctx.eval::<(), _>(PRELUDE).catch(&ctx).map_err(|e| format!("prelude failed: {e}"))?;
            // Compile the built-in modules now so that importing them is free.
            for (name, source) in [(paths::BUILTIN_AIRLOCK, AIRLOCK_MODULE), (paths::BUILTIN_FS, FS_MODULE)] {
                Module::declare(ctx.clone(), name, source)
                    .and_then(Module::eval)
                    .catch(&ctx)
                    .map_err(|e| format!("built-in module {name} failed: {e}"))?;
            }
            Ok(())
        })?;
        // Settle the module evaluation above before the snapshot is taken.
        while runtime.execute_pending_job().map_err(|_| "prelude job failed".to_string())? {}
        Ok(Engine { runtime, context })
    }

    /// Compiles `source` as the module `path` to bytecode, without
    /// resolving its imports or running it.
    pub fn compile(&self, path: &str, source: &str) -> Result<Vec<u8>, String> {
        self.context.with(|ctx| {
            let module = Module::declare(ctx.clone(), path, source).catch(&ctx).map_err(|e| e.to_string())?;
            module.write(WriteOptions::default()).map_err(|e| e.to_string())
        })
    }

    /// Runs the agent's code as a module, including every job and tool call
    /// it leaves pending, and returns its default export as JSON.
    pub fn run(&self, code: &str) -> Result<String, GuestError> {
        native::reseed_random();
        let (promise, namespace) = self.context.with(|ctx| {
            let declared = Module::declare(ctx.clone(), paths::MAIN_MODULE, code).catch(&ctx);
            let (module, promise) = declared.and_then(|m| m.eval().catch(&ctx)).map_err(guest_error)?;
            let namespace = module.namespace().catch(&ctx).map_err(guest_error)?;
            Ok((Persistent::save(&ctx, promise), Persistent::save(&ctx, namespace)))
        })?;
        loop {
            self.drain_jobs()?;
            let settled = self.context.with(|ctx| {
                let promise = promise.clone().restore(&ctx).catch(&ctx).map_err(guest_error)?;
                match promise.state() {
                    PromiseState::Pending => Ok(None),
                    PromiseState::Resolved => Ok(Some(default_export(&ctx, namespace.clone()))),
                    PromiseState::Rejected => Err(rejection(&ctx, &promise)),
                }
            })?;
            if let Some(value) = settled {
                return Ok(value);
            }
            let calls = tool_queue::take();
            if calls.is_empty() {
                return Err(GuestError {
                    name: "Error".into(),
                    message: "the code awaits a promise that will never settle: no job, timer or tool call is left to resolve it".into(),
                    stack: None,
                });
            }
            let outcomes = tool_queue::send(calls);
            self.context.with(|ctx| {
                outcomes
                    .into_iter()
                    .try_for_each(|(settle, outcome)| tool_queue::settle(&ctx, settle, outcome).catch(&ctx))
                    .map_err(guest_error)
            })?;
        }
    }

    fn drain_jobs(&self) -> Result<(), GuestError> {
        loop {
            match self.runtime.execute_pending_job() {
                Ok(true) => continue,
                Ok(false) => return Ok(()),
                Err(job) => {
                    let error =
                        job.0.with(|ctx| guest_error(CaughtError::from_error(&ctx, rquickjs::Error::Exception)));
                    return Err(error);
                }
            }
        }
    }
}

fn default_export(ctx: &Ctx<'_>, namespace: Persistent<Object<'static>>) -> String {
    let value: Option<Value> =
        namespace.restore(ctx).ok().and_then(|ns| ns.get::<_, Value>("default").ok()).filter(|v| !v.is_undefined());
    value
        .and_then(|v| ctx.json_stringify(v).ok().flatten())
        .and_then(|s| s.to_string().ok())
        .unwrap_or_else(|| "null".to_string())
}

fn rejection<'js>(ctx: &Ctx<'js>, promise: &Promise<'js>) -> GuestError {
    // rquickjs hands a rejection back as a pending exception on `ctx`.
    match promise.result::<Value>() {
        Some(Err(error)) => guest_error(CaughtError::from_error(ctx, error)),
        _ => guest_error(CaughtError::Value(Value::new_undefined(ctx.clone()))),
    }
}

/// Describes a thrown value for the host: name, message and stack.
fn guest_error(caught: CaughtError<'_>) -> GuestError {
    match caught {
        CaughtError::Exception(exception) => {
            let name = exception.get::<_, Option<String>>("name").ok().flatten().unwrap_or_else(|| "Error".into());
            let mut message = exception.message().unwrap_or_default();
            if name == "ToolError" {
                // Uncaught, it should say which call failed and how.
                let field = |key: &str| exception.get::<_, Option<String>>(key).ok().flatten().unwrap_or_default();
                message = format!("{}.{} failed ({}): {message}", field("server"), field("tool"), field("kind"));
            }
            GuestError { name, message, stack: exception.stack().filter(|s| !s.trim().is_empty()) }
        }
        CaughtError::Value(value) => GuestError { name: String::new(), message: value_text(&value), stack: None },
        CaughtError::Error(error) => {
            GuestError { name: "InternalError".into(), message: error.to_string(), stack: None }
        }
    }
}

/// A thrown non-error value, rendered the way `console.log` would.
fn value_text(value: &Value<'_>) -> String {
    let ctx = value.ctx();
    let inspect = ctx
        .globals()
        .get::<_, Object>("__airlock")
        .and_then(|a| a.get::<_, Function>("inspect"))
        .and_then(|f| f.call::<_, String>((value.clone(),)));
    inspect.unwrap_or_else(|_| "a non-error value was thrown".into())
}

struct SandboxResolver;

impl Resolver for SandboxResolver {
    fn resolve<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        let path = paths::resolve(base, name).map_err(|message| throw(ctx, message))?;
        if paths::builtin(&path).is_some() {
            return Ok(path);
        }
        match modules::load(&path) {
            Ok(found) => {
                let fetched = match found.bytecode {
                    Some(bytecode) => Fetched::Bytecode(bytecode),
                    None => Fetched::Source(found.source),
                };
                FETCHED.with(|f| f.borrow_mut().insert(found.path.clone(), fetched));
                Ok(found.path)
            }
            Err(why) => Err(throw(ctx, format!("cannot import '{name}': {why}"))),
        }
    }
}

struct SandboxLoader;

impl Loader for SandboxLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _: Option<ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let fetched = FETCHED.with(|f| f.borrow_mut().remove(name));
        match fetched {
            Some(Fetched::Source(source)) => Module::declare(ctx.clone(), name, source),
            Some(Fetched::Bytecode(bytecode)) => {
                // QuickJS reads bytecode in place (ROM data), so the bytes
                // must live as long as the module: this instance, which
                // serves one execution.
                let bytes: &'static [u8] = Box::leak(bytecode.into_boxed_slice());
                // SAFETY: the host compiled these bytes with this same
                // guest's `compile`, from the source it serves for `name`,
                // in an instance that ran nothing else; the code being run
                // never supplies bytecode.
                unsafe { Module::load(ctx.clone(), bytes) }
            }
            None => Err(throw(ctx, format!("module {name} was not resolved by the sandbox"))),
        }
    }
}

/// Raises a JS `Error` with `message` and returns the matching Rust error.
fn throw(ctx: &Ctx<'_>, message: String) -> rquickjs::Error {
    match rquickjs::Exception::from_message(ctx.clone(), &message) {
        Ok(exception) => ctx.throw(exception.into_value()),
        Err(error) => error,
    }
}
