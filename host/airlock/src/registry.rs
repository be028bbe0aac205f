//! Tools the guest can call, and how the host answers `tools.call`.
//!
//! In-process tools are registered on the [`crate::RuntimeBuilder`]; the
//! upstream MCP servers of a config file plug in behind the same
//! [`ToolRegistry`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use crate::codegen;
use crate::codegen::DeclarationStyle;
use crate::discovery::{Detail, SearchResults, ToolCatalog};
use crate::skills::{CompiledSkills, SkillLanguage, SkillStore};
use crate::tool::{Listing, ToolDefinition, ToolError, ToolFuture, ToolHandler};
use crate::upstream::UpstreamPool;

struct RegisteredTool {
    definition: ToolDefinition,
    handler: Arc<dyn ToolHandler>,
}

/// An in-process server: its handlers and their listing.
struct LocalServer {
    tools: BTreeMap<String, RegisteredTool>,
    listing: Listing,
}

/// Every tool an execution can reach, by server and tool name: in-process
/// tools and the upstream MCP servers of the config.
#[derive(Default)]
pub struct ToolRegistry {
    servers: BTreeMap<String, LocalServer>,
    upstream: Option<Arc<UpstreamPool>>,
    catalog: ToolCatalog,
    skills: SkillStore,
    compiled_skills: CompiledSkills,
}

/// A module served to the guest's import resolver.
pub(crate) struct ServedModule {
    /// The canonical path (`/servers/crm/index.js`).
    pub path: String,
    /// JavaScript source.
    pub source: String,
    /// The source compiled to QuickJS bytecode, when cached.
    pub bytecode: Option<Arc<[u8]>>,
}

impl ToolRegistry {
    /// Adds (or replaces) an in-process tool under `server`.
    pub fn insert(&mut self, server: impl Into<String>, definition: ToolDefinition, handler: Arc<dyn ToolHandler>) {
        let local = self
            .servers
            .entry(server.into())
            .or_insert_with(|| LocalServer { tools: BTreeMap::new(), listing: Listing::new(Vec::new()) });
        local.tools.insert(definition.name.clone(), RegisteredTool { definition, handler });
        local.listing = Listing::new(local.tools.values().map(|t| t.definition.clone()).collect());
    }

    /// Puts the upstream servers of a config behind this registry.
    pub(crate) fn set_upstream(&mut self, pool: Arc<UpstreamPool>) {
        self.upstream = Some(pool);
    }

    /// Where saved skills are read from (and saved to, in the first folder).
    pub(crate) fn set_skills(&mut self, store: SkillStore) {
        self.skills = store;
    }

    /// The skill folders executions import from.
    pub fn skills(&self) -> &SkillStore {
        &self.skills
    }

    /// Compiles JS skills to bytecode with `js_guest`, and keeps compiled
    /// component skills in the artifact cache `cache_dir` too.
    pub(crate) fn set_compilers(&mut self, cache_dir: Option<std::path::PathBuf>, js_guest: crate::skills::JsCompiler) {
        self.compiled_skills = CompiledSkills::new(cache_dir, Some(js_guest));
    }

    /// Skills transpiled, compiled and linked so far.
    pub(crate) fn compiled_skills(&self) -> &CompiledSkills {
        &self.compiled_skills
    }

    /// The upstream servers, when a config brought some.
    pub fn upstream(&self) -> Option<&Arc<UpstreamPool>> {
        self.upstream.as_ref()
    }

    /// Server names (in-process, then upstream), sorted, without duplicates.
    pub fn servers(&self) -> Vec<&str> {
        let upstream = self.upstream.iter().flat_map(|pool| pool.names());
        let mut names: Vec<&str> = self.servers.keys().map(String::as_str).chain(upstream).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// The definitions of `server`'s tools, sorted by name; starts an
    /// upstream server if it is not running.
    pub async fn tools(&self, server: &str) -> Result<Vec<ToolDefinition>, ToolError> {
        Ok(self.listing(server).await?.definitions.to_vec())
    }

    /// The current listing of `server`'s tools, shared rather than copied;
    /// starts an upstream server if it is not running.
    pub async fn listing(&self, server: &str) -> Result<Listing, ToolError> {
        if let Some(local) = self.servers.get(server) {
            return Ok(local.listing.clone());
        }
        match &self.upstream {
            Some(pool) if pool.contains(server) => Ok(pool.tools(server).await?.listing.clone()),
            _ => Err(self.no_server(server)),
        }
    }

    /// The `limit` tools that best match `query` over every server (see
    /// [`crate::Runtime::search_tools`]); detail `full` shows declarations
    /// in `style`.
    pub async fn search(&self, query: &str, detail: Detail, limit: usize, style: DeclarationStyle) -> SearchResults {
        self.catalog.search(self, query, detail, limit, style).await
    }

    /// Calls `server`'s `tool` with `arguments` (a JSON object).
    pub(crate) fn call(&self, server: &str, tool: &str, arguments: Value) -> ToolFuture {
        if !arguments.is_object() {
            return ready_error(ToolError::InvalidArguments("arguments must be a JSON object".into()));
        }
        if let Some(local) = self.servers.get(server) {
            return match local.tools.get(tool) {
                Some(entry) => entry.handler.call(arguments),
                None => ready_error(ToolError::NotFound(format!("server '{server}' has no tool '{tool}'"))),
            };
        }
        match &self.upstream {
            Some(pool) if pool.contains(server) => {
                let (pool, server, tool) = (pool.clone(), server.to_string(), tool.to_string());
                Box::pin(async move { pool.call(&server, &tool, arguments).await })
            }
            _ => ready_error(self.no_server(server)),
        }
    }

    /// The module at a virtual path under `/servers/`: the server's module
    /// (`/servers/crm`, `/servers/crm/index.ts`) or one tool's
    /// (`/servers/crm/listCustomers.ts`, by exact or camelCase name).
    pub(crate) async fn module(&self, path: &str, skills: &SkillStore) -> Result<ServedModule, String> {
        let path = from_skill_root(path);
        if let Some(rest) = path.strip_prefix("/skills/") {
            let (name, file) = rest.split_once('/').unwrap_or((rest, ""));
            // The extension says which language asks: `index.py` is Python's.
            if file.ends_with(".py") {
                return self.python_skill_module(name, skills).await;
            }
            return self.skill_module(name, skills).await;
        }
        let rest = path.strip_prefix("/servers/").ok_or_else(|| format!("nothing is served at {path}"))?;
        let (server, file) = rest.split_once('/').unwrap_or((rest, ""));
        let stem = file.strip_suffix(".ts").or_else(|| file.strip_suffix(".js")).unwrap_or(file);
        if stem.is_empty() || stem == "index" {
            let path = format!("/servers/{server}/index.js");
            // Upstream servers keep their generated module with their tools.
            if let Some(pool) =
                self.upstream.as_ref().filter(|p| p.contains(server) && !self.servers.contains_key(server))
            {
                let tools = pool.tools(server).await.map_err(|e| e.to_string())?;
                return Ok(ServedModule { path, source: tools.js_module.to_string(), bytecode: None });
            }
            let tools = self.tools(server).await.map_err(|e| e.to_string())?;
            return Ok(ServedModule { path, source: codegen::js_module(server, &tools), bytecode: None });
        }
        let tools = self.tools(server).await.map_err(|e| e.to_string())?;
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
    async fn skill_module(&self, name: &str, skills: &SkillStore) -> Result<ServedModule, String> {
        let skill = skills.load(name).map_err(|e| e.to_string())?;
        let mut source = match skill.manifest.language {
            SkillLanguage::JavaScript => String::from_utf8_lossy(&skill.code).into_owned(),
            SkillLanguage::TypeScript => self.compiled_skills.javascript(&skill)?.to_string(),
            SkillLanguage::Component => component_skill_module(&skill.manifest),
            SkillLanguage::Python => {
                return Err(format!("skill '{name}' is written in Python: only Python code can import it"));
            }
        };
        for stale in crate::skills::stale_tools(&skill.manifest, self).await {
            let warning = format!("skill '{name}' may be stale: {stale}");
            // At the end, so the skill's own line numbers stay as written.
            source.push_str(&format!("\nconsole.warn({});\n", serde_json::Value::String(warning)));
        }
        let path = format!("/skills/{name}/index.js");
        let bytecode = self.compiled_skills.bytecode(&path, &source).await;
        Ok(ServedModule { path, source, bytecode })
    }

    /// A skill as a Python module (`from skills.<name> import ...`): a
    /// Python skill's code, or for a component skill a `run(input)` that
    /// runs it; a stale one warns on the execution's stderr when imported.
    async fn python_skill_module(&self, name: &str, skills: &SkillStore) -> Result<ServedModule, String> {
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
        for stale in crate::skills::stale_tools(&skill.manifest, self).await {
            let warning = quote(&format!("skill '{name}' may be stale: {stale}"));
            // At the end, so the skill's own line numbers stay as written.
            source.push_str(&format!("\nimport sys as _sys\nprint({warning}, file=_sys.stderr)\n"));
        }
        Ok(ServedModule { path: format!("/skills/{name}/index.py"), source, bytecode: None })
    }

    fn no_server(&self, server: &str) -> ToolError {
        let known = self.servers();
        ToolError::NotFound(format!(
            "no server '{server}' (configured: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
    }
}

/// The module a component skill is imported as: `run(input)` (also the
/// default export) runs `skill.wasm` in an instance of its own.
fn component_skill_module(manifest: &crate::skills::SkillManifest) -> String {
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

fn ready_error(error: ToolError) -> ToolFuture {
    Box::pin(std::future::ready(Err(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry() -> ToolRegistry {
        let mut registry = ToolRegistry::default();
        let echo = |args: Value| async move { Ok(args) };
        registry.insert("local", ToolDefinition::new("echo"), Arc::new(echo));
        registry
    }

    #[tokio::test]
    async fn calls_reach_the_handler_with_parsed_arguments() {
        let result = registry().call("local", "echo", serde_json::json!({"a": [1, 2]})).await;
        assert_eq!(result, Ok(serde_json::json!({"a": [1, 2]})));
    }

    #[tokio::test]
    async fn unknown_servers_and_tools_are_not_found() {
        let registry = registry();
        let no_server = registry.call("nope", "echo", serde_json::json!({})).await.unwrap_err();
        assert!(matches!(&no_server, ToolError::NotFound(m) if m.contains("configured: local")), "{no_server}");
        let no_tool = registry.call("local", "nope", serde_json::json!({})).await.unwrap_err();
        assert!(matches!(no_tool, ToolError::NotFound(_)));
    }

    #[test]
    fn a_skill_imports_from_the_tree_root() {
        assert_eq!(from_skill_root("/skills/a/servers/crm"), "/servers/crm");
        assert_eq!(from_skill_root("/skills/a/skills/b"), "/skills/b");
        assert_eq!(from_skill_root("/skills/a"), "/skills/a");
        assert_eq!(from_skill_root("/skills/a/other"), "/skills/a/other");
        assert_eq!(from_skill_root("/servers/crm"), "/servers/crm");
    }

    #[tokio::test]
    async fn arguments_must_be_a_json_object() {
        let registry = registry();
        for bad in [serde_json::json!([1]), serde_json::json!("text"), serde_json::json!(3)] {
            let error = registry.call("local", "echo", bad.clone()).await.unwrap_err();
            assert!(matches!(error, ToolError::InvalidArguments(_)), "{bad}: {error}");
        }
    }
}
