//! The read-only part of the guest's file tree, generated from the
//! servers' tool lists:
//!
//! ```text
//! /servers/                      one folder per server
//! /servers/<server>/index.ts     the declarations of every tool
//! /servers/<server>/<tool>.ts    one tool's declaration (its function name)
//! /skills/<name>/SKILL.md        a saved skill's manifest and documentation
//! /skills/<name>/index.js        its code (index.ts for TypeScript)
//! ```
//!
//! The guest's `fs` reads it through `airlock:runtime/tree`; `airlock
//! serve` offers the same files as `airlock://servers/...` resources.
//! (`/workspace/` is the session's real folder, reached through WASI.)

use crate::codegen::{js_names, ts_declarations, ts_tool_declaration};
use crate::registry::ToolRegistry;
use crate::skills::{SkillLanguage, SkillStore};
use crate::tool::ToolError;

/// A folder's entry names, sorted, or a file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// A folder and the names in it.
    Folder(Vec<String>),
    /// A file and its text.
    File(String),
}

/// Why nothing can be read at a path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    /// There is nothing at the path.
    #[error("{0}")]
    NotFound(String),
    /// The server behind the path could not list its tools.
    #[error("{0}")]
    Unavailable(String),
}

/// The declarations file of a whole server.
const INDEX: &str = "index.ts";

/// What is at `path` (absolute, normalised: `/servers/crm/index.ts`).
pub async fn lookup(registry: &ToolRegistry, skills: &SkillStore, path: &str) -> Result<Node, TreeError> {
    let parts: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
    let missing = || TreeError::NotFound(format!("no such file or folder: {path}"));
    match parts.as_slice() {
        ["servers"] => Ok(Node::Folder(registry.servers().into_iter().map(str::to_string).collect())),
        ["skills"] => Ok(Node::Folder(
            // A component skill's unbuilt source is nothing code can import.
            skills
                .list()
                .into_iter()
                .filter(|listed| !matches!(listed.skill, Err(crate::skills::SkillError::NotBuilt { .. })))
                .map(|listed| listed.name)
                .collect(),
        )),
        ["skills", name, rest @ ..] => skill_node(skills, name, rest).ok_or_else(missing),
        ["servers", server, rest @ ..] => server_node(registry, server, rest).await?.ok_or_else(missing),
        _ => Err(missing()),
    }
}

/// A server's folder or one of its declaration files; `None` when there
/// is none.
async fn server_node(registry: &ToolRegistry, server: &str, rest: &[&str]) -> Result<Option<Node>, TreeError> {
    if !registry.servers().contains(&server) {
        return Ok(None);
    }
    let listing = registry.listing(server).await.map_err(|error| unavailable(server, error))?;
    let tools = &listing.definitions;
    let names = js_names(tools);
    Ok(match rest {
        [] => {
            let mut entries: Vec<String> = names.iter().map(|(_, js)| format!("{js}.ts")).collect();
            entries.push(INDEX.to_string());
            entries.sort();
            Some(Node::Folder(entries))
        }
        [file] if *file == INDEX => Some(Node::File(ts_declarations(server, tools))),
        [file] => {
            let Some(stem) = file.strip_suffix(".ts") else { return Ok(None) };
            let Some((mcp, _)) = names.iter().find(|(mcp, js)| js == stem || mcp == stem) else { return Ok(None) };
            tools.iter().find(|tool| &tool.name == mcp).map(|tool| Node::File(ts_tool_declaration(server, tool)))
        }
        _ => None,
    })
}

/// A skill's folder or one of its text files; `None` when there is none
/// (or it cannot be read: a tampered skill is not shown).
fn skill_node(skills: &SkillStore, name: &str, rest: &[&str]) -> Option<Node> {
    let skill = skills.load(name).ok()?;
    let code_file = skill.manifest.language.code_file();
    let text_code = skill.manifest.language != SkillLanguage::Component;
    match rest {
        [] => {
            let mut entries = vec![MANIFEST.to_string()];
            if text_code {
                entries.push(code_file.to_string());
            }
            entries.sort();
            Some(Node::Folder(entries))
        }
        [file] if *file == MANIFEST => Some(Node::File(skill.manifest.render(&skill.documentation))),
        [file] if *file == code_file && text_code => {
            Some(Node::File(String::from_utf8_lossy(&skill.code).into_owned()))
        }
        _ => None,
    }
}

/// A skill's manifest file.
const MANIFEST: &str = "SKILL.md";

/// Every file of the tree with its path, server by server (servers that
/// cannot list their tools are left out).
pub async fn files(registry: &ToolRegistry) -> Vec<String> {
    let mut out = Vec::new();
    for server in registry.servers() {
        if let Ok(Some(Node::Folder(entries))) = server_node(registry, server, &[]).await {
            out.extend(entries.into_iter().map(|entry| format!("/servers/{server}/{entry}")));
        }
    }
    out
}

fn unavailable(server: &str, error: ToolError) -> TreeError {
    TreeError::Unavailable(format!("server '{server}' cannot list its tools: {}", error.message()))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::tool::ToolDefinition;

    fn registry() -> ToolRegistry {
        let mut registry = ToolRegistry::default();
        let echo = |args: serde_json::Value| async move { Ok(args) };
        registry.insert("crm", ToolDefinition::new("list_customers").description("List them."), Arc::new(echo));
        registry.insert("crm", ToolDefinition::new("get_customer"), Arc::new(echo));
        registry
    }

    #[tokio::test]
    async fn servers_are_folders_of_declaration_files() {
        let (registry, skills) = (registry(), SkillStore::default());
        assert_eq!(lookup(&registry, &skills, "/servers").await, Ok(Node::Folder(vec!["crm".into()])));
        let folder = lookup(&registry, &skills, "/servers/crm/").await.unwrap();
        let expected = ["getCustomer.ts", "index.ts", "listCustomers.ts"].map(String::from).to_vec();
        assert_eq!(folder, Node::Folder(expected));
        let Node::File(index) = lookup(&registry, &skills, "/servers/crm/index.ts").await.unwrap() else { panic!() };
        assert!(index.contains("listCustomers") && index.contains("getCustomer"), "{index}");
        let Node::File(one) = lookup(&registry, &skills, "/servers/crm/listCustomers.ts").await.unwrap() else {
            panic!()
        };
        assert!(one.contains("listCustomers") && !one.contains("getCustomer"), "{one}");
        assert_eq!(lookup(&registry, &skills, "/servers/crm/list_customers.ts").await.unwrap(), Node::File(one));
        assert_eq!(files(&registry).await.len(), 3);
    }

    #[tokio::test]
    async fn anything_else_is_not_found() {
        let (registry, skills) = (registry(), SkillStore::default());
        for path in ["/", "/etc/passwd", "/servers/nope", "/servers/crm/nope.ts", "/servers/crm/index.ts/x", "/skillz"]
        {
            assert!(matches!(lookup(&registry, &skills, path).await, Err(TreeError::NotFound(_))), "{path}");
        }
    }
}
