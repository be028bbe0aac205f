//! Tools the guest can call, and how the host answers `tools.call`: the
//! registry routes each call to an in-process server or to the upstream
//! pool, and does nothing else.
//!
//! In-process tools are registered on the [`crate::RuntimeBuilder`]; the
//! upstream MCP servers of a config file plug in behind the same
//! [`ToolRegistry`]. What is built from the tools (the search index, the
//! served modules, skills) lives above it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

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

    /// The upstream servers, when a config brought some.
    pub fn upstream(&self) -> Option<&Arc<UpstreamPool>> {
        self.upstream.as_ref()
    }

    /// The upstream pool that answers for `server`: `None` when no upstream
    /// server has that name, or an in-process server (which wins) does.
    pub(crate) fn upstream_of(&self, server: &str) -> Option<&Arc<UpstreamPool>> {
        self.upstream.as_ref().filter(|pool| pool.contains(server) && !self.servers.contains_key(server))
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

    fn no_server(&self, server: &str) -> ToolError {
        let known = self.servers();
        ToolError::NotFound(format!(
            "no server '{server}' (configured: {})",
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        ))
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

    #[tokio::test]
    async fn arguments_must_be_a_json_object() {
        let registry = registry();
        for bad in [serde_json::json!([1]), serde_json::json!("text"), serde_json::json!(3)] {
            let error = registry.call("local", "echo", bad.clone()).await.unwrap_err();
            assert!(matches!(error, ToolError::InvalidArguments(_)), "{bad}: {error}");
        }
    }
}
