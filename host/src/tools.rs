//! Tools the guest can call, and how the host answers `tools.call`.
//!
//! In-process tools are registered on the [`crate::RuntimeBuilder`]; the
//! upstream MCP servers of a config file plug in behind the same
//! [`ToolRegistry`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A future that a tool returns; boxed so tools can be stored side by side.
pub type ToolFuture = Pin<Box<dyn Future<Output = Result<Value, ToolError>> + Send + 'static>>;

/// Why a tool call failed, as the guest sees it (`ToolError.kind` in JS).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "kebab-case")]
pub enum ToolError {
    /// No such server or tool, or not visible to this execution.
    #[error("not found: {0}")]
    NotFound(String),
    /// Policy refused the call or a token's flow.
    #[error("denied: {0}")]
    Denied(String),
    /// The arguments do not match the tool's input schema.
    #[error("invalid arguments: {0}")]
    InvalidArguments(String),
    /// The tool ran and reported an error.
    #[error("failed: {0}")]
    Failed(String),
    /// The server is down, crashed or timed out.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// What a tool is: its name, description and JSON Schemas, as MCP's
/// `tools/list` describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolDefinition {
    /// The tool's name within its server.
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema of the arguments object.
    pub input_schema: Value,
    /// JSON Schema of the structured result, when the tool declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<Value>,
}

impl ToolDefinition {
    /// A tool that takes any object.
    pub fn new(name: impl Into<String>) -> Self {
        ToolDefinition {
            name: name.into(),
            description: None,
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
        }
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Sets the input schema.
    pub fn input_schema(mut self, schema: Value) -> Self {
        self.input_schema = schema;
        self
    }
}

/// A tool implemented in the embedding application.
pub trait ToolHandler: Send + Sync + 'static {
    /// Runs the tool on `arguments` (always a JSON object).
    fn call(&self, arguments: Value) -> ToolFuture;
}

impl<F, Fut> ToolHandler for F
where
    F: Fn(Value) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Value, ToolError>> + Send + 'static,
{
    fn call(&self, arguments: Value) -> ToolFuture {
        Box::pin(self(arguments))
    }
}

struct RegisteredTool {
    definition: ToolDefinition,
    handler: Arc<dyn ToolHandler>,
}

/// Every tool an execution can reach, by server and tool name.
#[derive(Default)]
pub struct ToolRegistry {
    servers: BTreeMap<String, BTreeMap<String, RegisteredTool>>,
}

impl ToolRegistry {
    /// Adds (or replaces) an in-process tool under `server`.
    pub fn insert(
        &mut self,
        server: impl Into<String>,
        definition: ToolDefinition,
        handler: Arc<dyn ToolHandler>,
    ) {
        let tools = self.servers.entry(server.into()).or_default();
        tools.insert(
            definition.name.clone(),
            RegisteredTool {
                definition,
                handler,
            },
        );
    }

    /// Server names, sorted.
    pub fn servers(&self) -> impl Iterator<Item = &str> {
        self.servers.keys().map(String::as_str)
    }

    /// The definitions of `server`'s tools, sorted by name.
    pub fn tools(&self, server: &str) -> Option<impl Iterator<Item = &ToolDefinition>> {
        self.servers
            .get(server)
            .map(|tools| tools.values().map(|t| &t.definition))
    }

    /// Calls `server`'s `tool` with JSON `arguments` as the guest sent them.
    pub(crate) fn call(&self, server: &str, tool: &str, arguments: &str) -> ToolFuture {
        let Some(tools) = self.servers.get(server) else {
            let known: Vec<&str> = self.servers().collect();
            return ready_error(ToolError::NotFound(format!(
                "no server '{server}' (configured: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )));
        };
        let Some(entry) = tools.get(tool) else {
            return ready_error(ToolError::NotFound(format!(
                "server '{server}' has no tool '{tool}'"
            )));
        };
        let arguments = match serde_json::from_str::<Value>(arguments) {
            Ok(value @ Value::Object(_)) => value,
            Ok(_) => {
                return ready_error(ToolError::InvalidArguments(
                    "arguments must be a JSON object".into(),
                ));
            }
            Err(e) => {
                return ready_error(ToolError::InvalidArguments(format!(
                    "arguments are not valid JSON: {e}"
                )));
            }
        };
        entry.handler.call(arguments)
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
        let result = registry().call("local", "echo", r#"{"a":[1,2]}"#).await;
        assert_eq!(result, Ok(serde_json::json!({"a": [1, 2]})));
    }

    #[tokio::test]
    async fn unknown_servers_and_tools_are_not_found() {
        let registry = registry();
        let no_server = registry.call("nope", "echo", "{}").await.unwrap_err();
        assert!(
            matches!(&no_server, ToolError::NotFound(m) if m.contains("configured: local")),
            "{no_server}"
        );
        let no_tool = registry.call("local", "nope", "{}").await.unwrap_err();
        assert!(matches!(no_tool, ToolError::NotFound(_)));
    }

    #[tokio::test]
    async fn arguments_must_be_a_json_object() {
        let registry = registry();
        for bad in ["[1]", "not json", "3"] {
            let error = registry.call("local", "echo", bad).await.unwrap_err();
            assert!(
                matches!(error, ToolError::InvalidArguments(_)),
                "{bad}: {error}"
            );
        }
    }
}
