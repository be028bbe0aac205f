//! Compiled skills, kept between calls: TypeScript skills transpiled once
//! per code digest, and component skills compiled and linked.
//!
//! A component skill is compiled once per code digest (from memory, else
//! from the on-disk artifact cache, else by Cranelift) and linked once per
//! state of the servers it imports: the link step checks its typed imports
//! against the servers' current schemas, so a server whose tools changed
//! gets a fresh check, and a mismatch names the tool and the field.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use wasmtime::Engine;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, InstancePre};

use super::{Skill, SkillLanguage};
use sha2::Digest;

use crate::engine::Artifact;
use crate::registry::ToolRegistry;
use crate::sandbox::{self, StoreState};
use crate::wit::javascript::JavascriptPre;

/// The export every component skill has: `run(input: json) -> result<json, string>`.
const RUN: &str = "run";

/// Transpiled TypeScript and compiled components by code digest, and the
/// latest linking of each component, with the listing digests of the
/// servers it was linked against.
#[derive(Default)]
pub(crate) struct CompiledSkills {
    cache_dir: Option<PathBuf>,
    js_compiler: Option<JsCompiler>,
    transpiled: Mutex<HashMap<String, std::sync::Arc<str>>>,
    /// Bytecode by sha256 of the module's path and source.
    bytecode: Mutex<HashMap<String, std::sync::Arc<[u8]>>>,
    compiled: Mutex<HashMap<String, Component>>,
    linked: Mutex<HashMap<String, (String, InstancePre<StoreState>)>>,
}

impl std::fmt::Debug for CompiledSkills {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSkills").field("cache_dir", &self.cache_dir).finish_non_exhaustive()
    }
}

/// What compiles JS modules to bytecode: the engine and the JS guest.
#[derive(Clone)]
pub(crate) struct JsCompiler {
    engine: Engine,
    js_guest: JavascriptPre<StoreState>,
}

impl JsCompiler {
    pub(crate) fn new(engine: &Engine, js_guest: &JavascriptPre<StoreState>) -> Self {
        JsCompiler { engine: engine.clone(), js_guest: js_guest.clone() }
    }
}

impl CompiledSkills {
    /// Compiles JS with `js_compiler` and keeps compiled components in
    /// `cache_dir` too, when there are such.
    pub(crate) fn new(cache_dir: Option<PathBuf>, js_compiler: Option<JsCompiler>) -> Self {
        CompiledSkills { cache_dir, js_compiler, ..Default::default() }
    }

    /// The module `source` (served as `path`) compiled to QuickJS bytecode,
    /// once per path and source; `None` (serve the source) when it cannot
    /// be compiled here.
    pub(crate) async fn bytecode(&self, path: &str, source: &str) -> Option<std::sync::Arc<[u8]>> {
        let compiler = self.js_compiler.as_ref()?;
        let key = crate::digest::hex(&sha2::Sha256::digest([path.as_bytes(), b"\0", source.as_bytes()].concat()));
        if let Some(bytecode) = lock(&self.bytecode).get(&key) {
            return Some(bytecode.clone());
        }
        match sandbox::compile_module(&compiler.engine, &compiler.js_guest, path, source).await {
            Ok(bytecode) => {
                let bytecode: std::sync::Arc<[u8]> = bytecode.into();
                lock(&self.bytecode).insert(key, bytecode.clone());
                Some(bytecode)
            }
            Err(why) => {
                // A syntax error shows up when the source is imported.
                tracing::debug!(%path, "not compiled to bytecode: {why}");
                None
            }
        }
    }

    /// A TypeScript skill's JavaScript, transpiled once per code digest.
    pub(crate) fn javascript(&self, skill: &Skill) -> Result<std::sync::Arc<str>, String> {
        let digest = &skill.manifest.code_sha256;
        if let Some(javascript) = lock(&self.transpiled).get(digest) {
            return Ok(javascript.clone());
        }
        let source = String::from_utf8_lossy(&skill.code);
        let path = format!("skills/{}/index.ts", skill.manifest.name);
        let javascript: std::sync::Arc<str> =
            crate::transpile::transpile(&source, &path).map_err(|e| e.message)?.code.into();
        lock(&self.transpiled).insert(digest.clone(), javascript.clone());
        Ok(javascript)
    }

    /// The artifact cache folder, if there is one.
    pub(crate) fn cache_dir(&self) -> Option<&std::path::Path> {
        self.cache_dir.as_deref()
    }

    /// The component `code` (of skill `name`, with sha256 `digest`)
    /// compiled for `engine`: from memory, the artifact cache, or compiled
    /// now (and then cached).
    pub(crate) fn compile(&self, engine: &Engine, name: &str, digest: &str, code: &[u8]) -> Result<Component, String> {
        if let Some(component) = lock(&self.compiled).get(digest) {
            return Ok(component.clone());
        }
        let artifact = self.cache_dir.as_deref().map(|dir| Artifact::new(engine, dir, "skill", digest));
        let component = match artifact.as_ref().and_then(|a| a.load(engine)) {
            Some(component) => component,
            None => {
                check_header(code)?;
                let component = Component::from_binary(engine, code)
                    .map_err(|e| format!("skill.wasm is not a valid component: {e:#}"))?;
                if let Some(artifact) = &artifact
                    && let Err(e) = artifact.store(&component)
                {
                    tracing::warn!(skill = %name, "not cached: {e}");
                }
                component
            }
        };
        check_exports(engine, &component)?;
        lock(&self.compiled).insert(digest.to_string(), component.clone());
        Ok(component)
    }

    /// The skill compiled and linked against the servers' current tools.
    pub(crate) async fn prepare(
        &self,
        engine: &Engine,
        skill: &Skill,
        tools: &std::sync::Arc<ToolRegistry>,
    ) -> Result<InstancePre<StoreState>, String> {
        debug_assert_eq!(skill.manifest.language, SkillLanguage::Component);
        let component = self.compile(engine, &skill.manifest.name, &skill.manifest.code_sha256, &skill.code)?;
        let digest = &skill.manifest.code_sha256;
        let mut servers = String::new();
        for server in crate::typed::imported_servers(engine, &component) {
            let listing = tools.listing(&server).await.map_err(|e| format!("{server}: {e}"))?;
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

/// Tells a component from a core module or other bytes before compiling,
/// for a clearer message than the parser's.
fn check_header(bytes: &[u8]) -> Result<(), String> {
    const MAGIC: &[u8] = b"\0asm";
    const COMPONENT_LAYER: [u8; 4] = [0x0d, 0x00, 0x01, 0x00];
    match bytes.get(..8) {
        Some(header) if header.starts_with(MAGIC) && header[4..] == COMPONENT_LAYER => Ok(()),
        Some(header) if header.starts_with(MAGIC) => {
            Err("skill.wasm is a core WebAssembly module, not a component: build it for wasm32-wasip2".into())
        }
        _ => Err("skill.wasm is not a WebAssembly component".into()),
    }
}

/// Checks that the component exports `run` as the `skill` world has it.
fn check_exports(engine: &Engine, component: &Component) -> Result<(), String> {
    use wasmtime::component::types::Type;
    let ty = component.component_type();
    let Some(ComponentItem::ComponentFunc(func)) =
        ty.exports(engine).find(|(name, _)| *name == RUN).map(|(_, export)| export.ty)
    else {
        return Err("the component does not export `run` (build it against the `skill` world)".into());
    };
    let params: Vec<Type> = func.params().map(|(_, ty)| ty).collect();
    let results: Vec<Type> = func.results().collect();
    let fits = matches!(params.as_slice(), [Type::String])
        && matches!(results.as_slice(), [Type::Result(r)] if matches!((r.ok(), r.err()), (Some(Type::String), Some(Type::String))));
    if fits {
        Ok(())
    } else {
        Err("its `run` export must be `run: func(input: string) -> result<string, string>`".into())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use crate::skills::{NewSkill, SkillLanguage, SkillManifest, SkillStore};
    use crate::{Language, Runtime};

    fn save(folder: &std::path::Path, name: &str, code: &str) {
        let manifest = SkillManifest {
            name: name.into(),
            description: "A test skill.".into(),
            language: SkillLanguage::JavaScript,
            version: "1.0.0".into(),
            code_sha256: String::new(),
            tools: BTreeMap::new(),
        };
        let skill = NewSkill { manifest, documentation: "", code: code.as_bytes() };
        SkillStore::new(vec![folder.to_path_buf()]).save(skill, false).unwrap();
    }

    #[tokio::test]
    async fn skills_are_served_as_bytecode_the_host_compiled_once() {
        let dir = tempfile::tempdir().unwrap();
        save(
            dir.path(),
            "adder",
            "export function add(a, b) {\n  if (a < 0) throw new RangeError('negative');\n  return a + b;\n}\n",
        );
        save(dir.path(), "broken", "export function (");
        let runtime = Runtime::builder().cache_dir(None).skill_folders(vec![dir.path().into()]).build().await.unwrap();
        let tools = runtime.tool_registry();

        let first = tools.module("/skills/adder", tools.skills()).await.unwrap();
        let bytecode = first.bytecode.expect("compiled by the host");
        let again = tools.module("/skills/adder", tools.skills()).await.unwrap().bytecode.unwrap();
        assert!(std::sync::Arc::ptr_eq(&bytecode, &again), "compiled once");
        assert!(tools.module("/skills/broken", tools.skills()).await.unwrap().bytecode.is_none(), "served as source");

        // Code importing it runs from the bytecode, with the skill's own lines.
        let session = runtime.session().unwrap();
        let code = "import { add } from './skills/adder';\nconsole.log(add(2, 3));\ntry { add(-1, 1) } catch (e) { console.log(e.name, e.stack) }";
        let result = session.execute(code, Language::JavaScript).await.unwrap();
        assert!(result.is_success(), "{:?}", result.error);
        let mut lines = result.stdout.lines();
        assert_eq!(lines.next(), Some("5"));
        let error = lines.next().unwrap();
        assert!(error.starts_with("RangeError") && error.contains("/skills/adder/index.js:2"), "{error}");

        // A skill that does not parse still fails as the source would.
        let broken = session.execute("import './skills/broken';", Language::JavaScript).await.unwrap();
        assert_eq!(broken.error.map(|e| e.to_string().contains("SyntaxError")), Some(true));
    }
}
