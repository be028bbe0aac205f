//! JavaScript modules compiled to QuickJS bytecode ahead of their first
//! import, in an instance of the JS guest that runs nothing else.

use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use wasmtime::Engine;

use super::{Budget, Services, StoreState, Surroundings, limited_store, release};
use crate::boundary::Boundary;
use crate::module_server::CompileModule;
use crate::wit::javascript::JavascriptPre;

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
