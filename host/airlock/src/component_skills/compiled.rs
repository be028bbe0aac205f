//! Component skills compiled and linked, kept between calls.
//!
//! A component skill is compiled once per code digest (from memory, else
//! from the on-disk artifact cache, else by Cranelift) and linked once per
//! state of the servers it imports: the link step checks its typed imports
//! against the servers' current schemas, so a server whose tools changed
//! gets a fresh check, and a mismatch names the tool and the field.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;
use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre};

use crate::engine::Artifact;
use crate::error::LinkError;
use crate::registry::ToolRegistry;
use crate::sandbox::{SkillLinker, StoreState};
use crate::skills::{Skill, SkillLanguage};

/// The export every component skill has: `run(input: json) -> result<json, string>`.
const RUN: &str = "run";

/// Compiled components by code digest, and the latest linking of each,
/// with the listing digests of the servers it was linked against.
#[derive(Default)]
pub(crate) struct CompiledSkills {
    cache_dir: Option<PathBuf>,
    compiled: Mutex<HashMap<String, Component>>,
    linked: Mutex<HashMap<String, (String, InstancePre<StoreState>)>>,
}

impl std::fmt::Debug for CompiledSkills {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSkills").field("cache_dir", &self.cache_dir).finish_non_exhaustive()
    }
}

impl CompiledSkills {
    /// Keeps compiled components in the artifact cache `cache_dir` too,
    /// when there is one.
    pub(crate) fn new(cache_dir: Option<PathBuf>) -> Self {
        CompiledSkills { cache_dir, ..Default::default() }
    }

    /// The artifact cache folder, if there is one.
    pub(crate) fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir.as_deref()
    }

    /// The component `code` (of skill `name`, with sha256 `digest`)
    /// compiled for `engine`: from memory, the artifact cache, or compiled
    /// now (and then cached), on a blocking thread: compiling takes seconds
    /// that would stall every task of the worker it ran on.
    pub(crate) async fn compile(
        &self,
        engine: &Engine,
        name: &str,
        digest: &str,
        code: Arc<[u8]>,
    ) -> Result<Component, LinkError> {
        if let Some(component) = lock(&self.compiled).get(digest) {
            return Ok(component.clone());
        }
        let artifact = self.cache_dir.as_deref().map(|dir| Artifact::new(engine, dir, "skill", digest));
        let (engine, name) = (engine.clone(), name.to_string());
        let component = tokio::task::spawn_blocking(move || compile_or_load(&engine, &name, artifact, &code))
            .await
            .map_err(|e| LinkError::wasmtime("compiling skill.wasm")(wasmtime::Error::new(e)))??;
        lock(&self.compiled).insert(digest.to_string(), component.clone());
        Ok(component)
    }

    /// The skill compiled and linked against the servers' current tools.
    pub(crate) async fn prepare(
        &self,
        engine: &Engine,
        skill: &Skill,
        tools: &Arc<ToolRegistry>,
    ) -> Result<InstancePre<StoreState>, LinkError> {
        debug_assert_eq!(skill.manifest.language, SkillLanguage::Component);
        let component =
            self.compile(engine, &skill.manifest.name, &skill.manifest.code_sha256, skill.code.clone()).await?;
        let digest = &skill.manifest.code_sha256;
        let mut servers = String::new();
        for server in crate::typed::imported_servers(engine, &component) {
            let listing =
                tools.listing(&server).await.map_err(|source| LinkError::Server { server: server.clone(), source })?;
            servers.push_str(&format!("{server}={} ", listing.digest));
        }
        if let Some((linked_with, pre)) = lock(&self.linked).get(digest)
            && *linked_with == servers
        {
            return Ok(pre.clone());
        }
        let pre = crate::typed::link(engine, &component, tools).await?;
        lock(&self.linked).insert(digest.clone(), (servers, pre.clone()));
        Ok(pre)
    }
}

impl SkillLinker for CompiledSkills {
    fn link<'a>(
        &'a self,
        engine: &'a Engine,
        skill: &'a Skill,
        tools: &'a Arc<ToolRegistry>,
    ) -> BoxFuture<'a, Result<InstancePre<StoreState>, LinkError>> {
        Box::pin(self.prepare(engine, skill, tools))
    }
}

/// The component from the artifact cache, else compiled from `code` (and
/// cached), once its exports are the `skill` world's.
fn compile_or_load(
    engine: &Engine,
    name: &str,
    artifact: Option<Artifact>,
    code: &[u8],
) -> Result<Component, LinkError> {
    let component = match artifact.as_ref().and_then(|a| a.load(engine)) {
        Some(component) => component,
        None => {
            check_header(code)?;
            let component = Component::from_binary(engine, code)
                .map_err(LinkError::wasmtime("skill.wasm is not a valid component"))?;
            if let Some(artifact) = &artifact
                && let Err(e) = artifact.store(&component)
            {
                tracing::warn!(skill = %name, "not cached: {e}");
            }
            component
        }
    };
    check_exports(engine, &component)?;
    Ok(component)
}

/// Tells a component from a core module or other bytes before compiling,
/// for a clearer message than the parser's.
fn check_header(bytes: &[u8]) -> Result<(), LinkError> {
    const MAGIC: &[u8] = b"\0asm";
    const COMPONENT_LAYER: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
    match bytes.get(..8) {
        Some(header) if header.starts_with(MAGIC) && header[4..] == COMPONENT_LAYER => Ok(()),
        Some(header) if header.starts_with(MAGIC) => Err(LinkError::NotASkillComponent(
            "skill.wasm is a core WebAssembly module, not a component: build it for wasm32-wasip2".into(),
        )),
        _ => Err(LinkError::NotASkillComponent("skill.wasm is not a WebAssembly component".into())),
    }
}

/// Checks that the component exports `run` as the `skill` world has it.
fn check_exports(engine: &Engine, component: &Component) -> Result<(), LinkError> {
    use wasmtime::component::types::Type;
    let ty = component.component_type();
    let Some(ComponentItem::ComponentFunc(func)) =
        ty.exports(engine).find(|(name, _)| *name == RUN).map(|(_, export)| export.ty)
    else {
        return Err(LinkError::NotASkillComponent(
            "the component does not export `run` (build it against the `skill` world)".into(),
        ));
    };
    let params: Vec<Type> = func.params().map(|(_, ty)| ty).collect();
    let results: Vec<Type> = func.results().collect();
    let fits = matches!(params.as_slice(), [Type::String])
        && matches!(results.as_slice(), [Type::Result(r)] if matches!((r.ok(), r.err()), (Some(Type::String), Some(Type::String))));
    if fits {
        Ok(())
    } else {
        Err(LinkError::NotASkillComponent(
            "its `run` export must be `run: func(input: string) -> result<string, string>`".into(),
        ))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
