//! The modules the guest's import resolver is served: a server's generated
//! module (`./servers/crm`), one tool's (`./servers/crm/listCustomers`) and
//! saved skills (`./skills/<name>`), TypeScript skills transpiled once and
//! JavaScript skills compiled to QuickJS bytecode once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::future::BoxFuture;

use crate::codegen;
use crate::digest::sha256_hex;
use crate::registry::ToolRegistry;
use crate::skills::{Skill, SkillLanguage, SkillManifest, SkillStore};

/// A module served to the guest's import resolver.
pub(crate) struct ServedModule {
    /// The canonical path (`/servers/crm/index.js`).
    pub path: String,
    /// JavaScript source.
    pub source: String,
    /// The source compiled to QuickJS bytecode, when cached.
    pub bytecode: Option<Arc<[u8]>>,
}

/// Compiles a JavaScript module to QuickJS bytecode. Compiling takes a JS
/// guest instance, which the sandbox (above this module) provides.
pub(crate) trait CompileModule: Send + Sync {
    /// The module `source` (known as `path`) as bytecode, or why not.
    fn compile<'a>(&'a self, path: &'a str, source: &'a str) -> BoxFuture<'a, Result<Vec<u8>, String>>;
}

/// Serves modules, keeping what it transpiled and compiled.
#[derive(Default)]
pub(crate) struct ModuleServer {
    /// Without one, skills are served as source.
    compiler: Option<Arc<dyn CompileModule>>,
    /// TypeScript skills' JavaScript by code digest.
    transpiled: Mutex<Bounded<Arc<str>>>,
    /// Bytecode by sha256 of the module's path and source.
    bytecode: Mutex<Bounded<Arc<[u8]>>>,
}

/// The most bytes each of the module server's caches keeps: sessions save
/// skills of their own, and a process that serves for months must not keep
/// every one it ever compiled.
const CACHED_BYTES: usize = 64 << 20;

/// A cache of at most [`CACHED_BYTES`] of values; when full, arbitrary
/// entries go (a miss only compiles again).
struct Bounded<V> {
    entries: HashMap<String, V>,
    bytes: usize,
}

impl<V> Default for Bounded<V> {
    fn default() -> Self {
        Bounded { entries: HashMap::new(), bytes: 0 }
    }
}

impl<V> Bounded<V>
where
    V: Clone + std::ops::Deref,
    V::Target: AsRef<[u8]>,
{
    fn get(&self, key: &str) -> Option<V> {
        self.entries.get(key).cloned()
    }

    fn insert(&mut self, key: String, value: V) {
        let weight = |value: &V| (**value).as_ref().len();
        let size = weight(&value);
        while self.bytes + size > CACHED_BYTES {
            let Some(evicted) = self.entries.keys().next().cloned() else { break };
            if let Some(gone) = self.entries.remove(&evicted) {
                self.bytes -= weight(&gone);
            }
        }
        if let Some(replaced) = self.entries.insert(key, value) {
            self.bytes -= weight(&replaced);
        }
        self.bytes += size;
    }
}

impl ModuleServer {
    /// A server that compiles JavaScript skills with `compiler`.
    pub(crate) fn new(compiler: Arc<dyn CompileModule>) -> Self {
        ModuleServer { compiler: Some(compiler), ..Default::default() }
    }

    /// The module at a virtual path under `/servers/`: the server's module
    /// (`/servers/crm`, `/servers/crm/index.ts`) or one tool's
    /// (`/servers/crm/listCustomers.ts`, by exact or camelCase name); or
    /// under `/skills/`, a skill of `skills`.
    pub(crate) async fn module(
        &self,
        tools: &ToolRegistry,
        skills: &SkillStore,
        path: &str,
    ) -> Result<ServedModule, String> {
        let path = from_skill_root(path);
        if let Some(rest) = path.strip_prefix("/skills/") {
            let (name, file) = rest.split_once('/').unwrap_or((rest, ""));
            // The extension says which language asks: `index.py` is Python's.
            if file.ends_with(".py") {
                return python_skill_module(tools, skills, name).await;
            }
            return self.skill_module(tools, skills, name).await;
        }
        let rest = path.strip_prefix("/servers/").ok_or_else(|| format!("nothing is served at {path}"))?;
        let (server, file) = rest.split_once('/').unwrap_or((rest, ""));
        let stem = file.strip_suffix(".ts").or_else(|| file.strip_suffix(".js")).unwrap_or(file);
        if stem.is_empty() || stem == "index" {
            let path = format!("/servers/{server}/index.js");
            // Upstream servers keep their generated module with their tools.
            if let Some(pool) = tools.upstream_of(server) {
                let tools = pool.tools(server).await.map_err(|e| e.to_string())?;
                return Ok(ServedModule { path, source: tools.js_module.to_string(), bytecode: None });
            }
            let tools = tools.tools(server).await.map_err(|e| e.to_string())?;
            return Ok(ServedModule { path, source: codegen::js_module(server, &tools), bytecode: None });
        }
        let tools = tools.tools(server).await.map_err(|e| e.to_string())?;
        // By the exact MCP name, else by the name the module exports it as.
        let exported = codegen::js_names(&tools);
        let name = exported
            .iter()
            .find(|(mcp, js)| mcp == stem || js == stem)
            .map(|(mcp, _)| mcp.as_str())
            .ok_or_else(|| format!("server '{server}' has no tool '{stem}'"))?;
        let tool =
            tools.iter().find(|t| t.name == name).ok_or_else(|| format!("server '{server}' has no tool '{stem}'"))?;
        let source = codegen::js_tool_module(server, tool);
        Ok(ServedModule { path: format!("/servers/{server}/{}.js", tool.name), source, bytecode: None })
    }

    /// A skill as a module of the calling execution (for a component
    /// skill, the function that runs it), with its bytecode once compiled;
    /// a stale one warns on the execution's stderr when imported.
    async fn skill_module(
        &self,
        tools: &ToolRegistry,
        skills: &SkillStore,
        name: &str,
    ) -> Result<ServedModule, String> {
        let skill = skills.load(name).map_err(|e| e.to_string())?;
        let mut source = match skill.manifest.language {
            SkillLanguage::JavaScript => String::from_utf8_lossy(&skill.code).into_owned(),
            SkillLanguage::TypeScript => self.javascript(&skill)?.to_string(),
            SkillLanguage::Component => component_skill_module(&skill.manifest),
            SkillLanguage::Python => {
                return Err(format!("skill '{name}' is written in Python: only Python code can import it"));
            }
        };
        for stale in crate::skills::stale_tools(&skill.manifest, tools).await {
            let warning = format!("skill '{name}' may be stale: {stale}");
            // At the end, so the skill's own line numbers stay as written.
            source.push_str(&format!("\nconsole.warn({});\n", serde_json::Value::String(warning)));
        }
        let path = format!("/skills/{name}/index.js");
        let bytecode = self.bytecode(&path, &source).await;
        Ok(ServedModule { path, source, bytecode })
    }

    /// The module `source` (served as `path`) compiled to QuickJS bytecode,
    /// once per path and source; `None` (serve the source) when it cannot
    /// be compiled here.
    async fn bytecode(&self, path: &str, source: &str) -> Option<Arc<[u8]>> {
        let compiler = self.compiler.as_ref()?;
        let key = sha256_hex([path.as_bytes(), b"\0", source.as_bytes()].concat());
        if let Some(bytecode) = lock(&self.bytecode).get(&key) {
            return Some(bytecode);
        }
        match compiler.compile(path, source).await {
            Ok(bytecode) => {
                let bytecode: Arc<[u8]> = bytecode.into();
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
    fn javascript(&self, skill: &Skill) -> Result<Arc<str>, String> {
        let digest = &skill.manifest.code_sha256;
        if let Some(javascript) = lock(&self.transpiled).get(digest) {
            return Ok(javascript);
        }
        let source = String::from_utf8_lossy(&skill.code);
        let path = format!("skills/{}/index.ts", skill.manifest.name);
        let javascript: Arc<str> = crate::transpile::transpile(&source, &path).map_err(|e| e.message)?.code.into();
        lock(&self.transpiled).insert(digest.clone(), javascript.clone());
        Ok(javascript)
    }
}

/// A skill as a Python module (`from skills.<name> import ...`): a
/// Python skill's code, or for a component skill a `run(input)` that
/// runs it; a stale one warns on the execution's stderr when imported.
async fn python_skill_module(tools: &ToolRegistry, skills: &SkillStore, name: &str) -> Result<ServedModule, String> {
    let skill = skills.load(name).map_err(|e| e.to_string())?;
    let quote = |text: &str| serde_json::Value::String(text.to_string()).to_string();
    let mut source = match skill.manifest.language {
        SkillLanguage::Python => String::from_utf8_lossy(&skill.code).into_owned(),
        SkillLanguage::Component => format!(
            "# Component skill {name}, generated by Airlock: {about}\n\
             from airlock import run_skill as _run_skill\n\n\
             def run(input=None):\n    return _run_skill({name}, input)\n",
            name = quote(name),
            about = skill.manifest.description.replace(['\n', '\r'], " "),
        ),
        language => {
            return Err(format!(
                "skill '{name}' is written in {}: only JavaScript code can import it",
                if language == SkillLanguage::TypeScript { "TypeScript" } else { "JavaScript" }
            ));
        }
    };
    for stale in crate::skills::stale_tools(&skill.manifest, tools).await {
        let warning = quote(&format!("skill '{name}' may be stale: {stale}"));
        // At the end, so the skill's own line numbers stay as written.
        source.push_str(&format!("\nimport sys as _sys\nprint({warning}, file=_sys.stderr)\n"));
    }
    Ok(ServedModule { path: format!("/skills/{name}/index.py"), source, bytecode: None })
}

/// The module a component skill is imported as: `run(input)` (also the
/// default export) runs `skill.wasm` in an instance of its own.
fn component_skill_module(manifest: &SkillManifest) -> String {
    let quote = |text: &str| serde_json::Value::String(text.to_string()).to_string();
    let comment = manifest.description.replace("*/", "* /");
    format!(
        "// Component skill {name}, generated by Airlock.\n\
         import {{ runSkill }} from \"airlock\";\n\n\
         /** {comment} */\n\
         export function run(input) {{ return runSkill({name}, input); }}\n\
         export default run;\n",
        name = quote(&manifest.name),
    )
}

/// A skill is written like agent code, from the tree's root: its
/// `./servers/crm` (which resolves to `/skills/<name>/servers/crm`) means
/// `/servers/crm`, and likewise for `./skills/`.
fn from_skill_root(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/skills/") else { return path };
    match rest.split_once('/') {
        Some((_, inner)) if inner.starts_with("servers/") || inner.starts_with("skills/") => {
            &path[path.len() - inner.len() - 1..]
        }
        _ => path,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::skills::NewSkill;
    use crate::{Language, Runtime};

    #[test]
    fn a_skill_imports_from_the_tree_root() {
        assert_eq!(from_skill_root("/skills/a/servers/crm"), "/servers/crm");
        assert_eq!(from_skill_root("/skills/a/skills/b"), "/skills/b");
        assert_eq!(from_skill_root("/skills/a"), "/skills/a");
        assert_eq!(from_skill_root("/skills/a/other"), "/skills/a/other");
        assert_eq!(from_skill_root("/servers/crm"), "/servers/crm");
    }

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
        let (tools, services) = (runtime.tool_registry(), runtime.services());
        let serve = |path| services.modules.module(&tools, &services.skills, path);

        let first = serve("/skills/adder").await.unwrap();
        let bytecode = first.bytecode.expect("compiled by the host");
        let again = serve("/skills/adder").await.unwrap().bytecode.unwrap();
        assert!(Arc::ptr_eq(&bytecode, &again), "compiled once");
        assert!(serve("/skills/broken").await.unwrap().bytecode.is_none(), "served as source");

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

    #[test]
    fn the_caches_keep_a_bounded_number_of_bytes() {
        let mut cache: Bounded<Arc<[u8]>> = Bounded::default();
        let mebibyte: Arc<[u8]> = vec![7u8; 1 << 20].into();
        for n in 0..200 {
            cache.insert(format!("module {n}"), mebibyte.clone());
            assert!(cache.bytes <= CACHED_BYTES);
        }
        assert_eq!(cache.bytes, cache.entries.len() << 20, "counted as kept");
        assert_eq!(cache.get("module 199").as_deref(), Some(&mebibyte[..]), "the newest is kept");
        cache.insert("module 199".into(), vec![1u8].into());
        assert_eq!(cache.bytes, ((cache.entries.len() - 1) << 20) + 1, "a replaced value is uncounted");
    }
}
