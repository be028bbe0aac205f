//! What a tool is, and how a call to one fails: the base types every
//! other part of Airlock speaks ([`ToolDefinition`], [`ToolError`],
//! [`ToolHandler`], [`Listing`]), with the digests of tool definitions
//! that caches and skill manifests record.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::digest::{sha256_hex, write_canonical};

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

impl ToolError {
    /// The kind as agent code sees it (`ToolError.kind`): `not-found`,
    /// `denied`, `invalid-arguments`, `failed` or `unavailable`.
    pub fn kind(&self) -> &'static str {
        match self {
            ToolError::NotFound(_) => "not-found",
            ToolError::Denied(_) => "denied",
            ToolError::InvalidArguments(_) => "invalid-arguments",
            ToolError::Failed(_) => "failed",
            ToolError::Unavailable(_) => "unavailable",
        }
    }

    /// The error of kind `kind` (as [`kind`](ToolError::kind) names it)
    /// with `message`; an unknown kind is `failed`.
    pub fn from_kind(kind: &str, message: String) -> ToolError {
        match kind {
            "not-found" => ToolError::NotFound(message),
            "denied" => ToolError::Denied(message),
            "invalid-arguments" => ToolError::InvalidArguments(message),
            "unavailable" => ToolError::Unavailable(message),
            _ => ToolError::Failed(message),
        }
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        match self {
            ToolError::NotFound(m)
            | ToolError::Denied(m)
            | ToolError::InvalidArguments(m)
            | ToolError::Failed(m)
            | ToolError::Unavailable(m) => m,
        }
    }
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
    /// What the server says about the tool's behaviour, when it says it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<ToolAnnotations>,
}

/// MCP's behaviour hints of a tool. They come from the server and are
/// hints, not guarantees; approval rules read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolAnnotations {
    /// The tool does not change its environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_only_hint: Option<bool>,
    /// The tool may destroy or overwrite (MCP's default when it is not
    /// read-only: true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destructive_hint: Option<bool>,
    /// Calling the tool again with the same arguments changes nothing more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_hint: Option<bool>,
}

impl ToolAnnotations {
    /// Whether the server marked the tool read-only.
    pub fn read_only(&self) -> bool {
        self.read_only_hint == Some(true)
    }

    /// Whether the tool may destroy, as MCP reads the hints: a tool that is
    /// not read-only is destructive unless it says otherwise.
    pub fn destructive(&self) -> bool {
        !self.read_only() && self.destructive_hint != Some(false)
    }
}

impl ToolDefinition {
    /// A tool that takes any object.
    pub fn new(name: impl Into<String>) -> Self {
        ToolDefinition {
            name: name.into(),
            description: None,
            input_schema: serde_json::json!({"type": "object"}),
            output_schema: None,
            annotations: None,
        }
    }

    /// Sets the behaviour hints.
    pub fn annotations(mut self, annotations: ToolAnnotations) -> Self {
        self.annotations = Some(annotations);
        self
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

    /// Sets the schema of the structured result.
    pub fn output_schema(mut self, schema: Value) -> Self {
        self.output_schema = Some(schema);
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

/// A server's tool definitions as listed at one moment, sorted by name,
/// with the digest of the list: whatever is built from a listing (modules,
/// the search index) is rebuilt only when the digest changes.
#[derive(Clone, Debug)]
pub struct Listing {
    /// The definitions, sorted by name.
    pub definitions: Arc<Vec<ToolDefinition>>,
    /// Hex SHA-256 of the canonical list.
    pub digest: Arc<str>,
    /// Each tool's schema digest, computed on first use.
    tool_digests: Arc<std::sync::OnceLock<BTreeMap<String, String>>>,
}

impl Listing {
    /// A listing of `definitions` (sorted here), as a server would list
    /// them: for a search index over tools that no registry serves.
    pub fn new(mut definitions: Vec<ToolDefinition>) -> Self {
        definitions.sort_by(|a, b| a.name.cmp(&b.name));
        let digest = tool_list_digest(&definitions).into();
        Listing { definitions: Arc::new(definitions), digest, tool_digests: Arc::default() }
    }

    /// The definition of `tool`, if the listing has it.
    pub fn definition(&self, tool: &str) -> Option<&ToolDefinition> {
        let at = self.definitions.binary_search_by(|d| d.name.as_str().cmp(tool)).ok()?;
        self.definitions.get(at)
    }

    /// The SHA-256 of `tool`'s input and output schemas (what a skill
    /// records), if the listing has that tool.
    pub fn tool_digest(&self, tool: &str) -> Option<&str> {
        let digests = self
            .tool_digests
            .get_or_init(|| self.definitions.iter().map(|d| (d.name.clone(), tool_schema_digest(d))).collect());
        digests.get(tool).map(String::as_str)
    }
}

/// Hex SHA-256 of the canonical JSON of the tool list sorted by name: a
/// cache key for everything generated from that list.
pub(crate) fn tool_list_digest(tools: &[ToolDefinition]) -> String {
    let mut canonical = String::new();
    let mut sorted: Vec<&ToolDefinition> = tools.iter().collect();
    // Stable: equal names keep their input order.
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let list: Vec<Value> = sorted.into_iter().map(tool_json).collect();
    write_canonical(&Value::Array(list), &mut canonical);
    sha256_hex(canonical.as_bytes())
}

/// Hex SHA-256 of the canonical JSON of one tool's input and output
/// schemas without their annotations (`description`, `title`, `examples`,
/// `$comment`): what code written against the tool depends on. A reworded
/// description, or one that quotes the server's local time zone, does not
/// change it.
pub(crate) fn tool_schema_digest(tool: &ToolDefinition) -> String {
    let schemas = json!({
        "inputSchema": without_annotations(&tool.input_schema),
        "outputSchema": tool.output_schema.as_ref().map(without_annotations),
    });
    let mut canonical = String::new();
    write_canonical(&schemas, &mut canonical);
    sha256_hex(canonical.as_bytes())
}

/// [`tool_schema_digest`] as skills saved before annotations were left
/// out recorded it (descriptions included).
pub(crate) fn legacy_tool_schema_digest(tool: &ToolDefinition) -> String {
    let mut canonical = String::new();
    write_canonical(&json!({"inputSchema": tool.input_schema, "outputSchema": tool.output_schema}), &mut canonical);
    sha256_hex(canonical.as_bytes())
}

/// A JSON Schema without the keywords that only annotate it. Keys of
/// `properties` (and the like) are names, not keywords: a property called
/// `description` stays; and values that are data (`enum`, `const`,
/// `default`, `required`, `dependentRequired`) stay as they are, whatever
/// keys they hold.
fn without_annotations(schema: &Value) -> Value {
    const ANNOTATIONS: [&str; 4] = ["description", "title", "examples", "$comment"];
    const NAMED_SCHEMAS: [&str; 5] = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
    const DATA: [&str; 5] = ["enum", "const", "default", "required", "dependentRequired"];
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !ANNOTATIONS.contains(&key.as_str()))
                .map(|(key, value)| {
                    let value = match value {
                        _ if DATA.contains(&key.as_str()) => value.clone(),
                        Value::Object(named) if NAMED_SCHEMAS.contains(&key.as_str()) => Value::Object(
                            named.iter().map(|(name, schema)| (name.clone(), without_annotations(schema))).collect(),
                        ),
                        // Draft 7: a name's list of required names, or a schema.
                        Value::Object(named) if key == "dependencies" => Value::Object(
                            named
                                .iter()
                                .map(|(name, item)| match item {
                                    Value::Array(_) => (name.clone(), item.clone()),
                                    schema => (name.clone(), without_annotations(schema)),
                                })
                                .collect(),
                        ),
                        other => without_annotations(other),
                    };
                    (key.clone(), value)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(without_annotations).collect()),
        other => other.clone(),
    }
}

/// The MCP `tools/list` shape of one tool.
fn tool_json(tool: &ToolDefinition) -> Value {
    json!({
        "name": tool.name,
        "description": tool.description,
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_digests_ignore_annotations_but_not_names() {
        let tool = |schema: Value| ToolDefinition::new("t").input_schema(schema);
        let base =
            tool(json!({"type": "object", "properties": {"tz": {"type": "string", "description": "Local: UTC"}}}));
        let reworded = tool(
            json!({"type": "object", "title": "T", "properties": {"tz": {"type": "string", "description": "Local: Europe/Berlin"}}}),
        );
        assert_eq!(tool_schema_digest(&base), tool_schema_digest(&reworded));
        assert_ne!(legacy_tool_schema_digest(&base), legacy_tool_schema_digest(&reworded));
        // A property named `description` is part of the contract.
        let renamed = tool(json!({"type": "object", "properties": {"description": {"type": "string"}}}));
        let other = tool(json!({"type": "object", "properties": {"summary": {"type": "string"}}}));
        assert_ne!(tool_schema_digest(&renamed), tool_schema_digest(&other));
        let retyped = tool(json!({"type": "object", "properties": {"tz": {"type": "integer"}}}));
        assert_ne!(tool_schema_digest(&base), tool_schema_digest(&retyped));
        // Data named like an annotation is data.
        for (before, after) in [
            (json!({"dependentRequired": {"title": ["description"]}}), json!({"dependentRequired": {"title": []}})),
            (json!({"dependencies": {"title": ["description"]}}), json!({"dependencies": {"title": []}})),
            (json!({"enum": [{"title": "a"}]}), json!({"enum": [{"title": "b"}]})),
            (json!({"default": {"description": 1}}), json!({"default": {"description": 2}})),
            (json!({"required": ["title"]}), json!({"required": ["description"]})),
        ] {
            assert_ne!(tool_schema_digest(&tool(before.clone())), tool_schema_digest(&tool(after)), "{before}");
        }
        // A draft-7 dependency that is a schema is still read as one.
        let annotated = tool(json!({"dependencies": {"a": {"description": "x", "required": ["b"]}}}));
        let plain = tool(json!({"dependencies": {"a": {"required": ["b"]}}}));
        assert_eq!(tool_schema_digest(&annotated), tool_schema_digest(&plain));
    }

    #[test]
    fn digest_ignores_tool_order_and_tracks_content() {
        let a = ToolDefinition::new("a").description("A");
        let b = ToolDefinition::new("b");
        let digest = tool_list_digest(&[a.clone(), b.clone()]);
        assert_eq!(digest.len(), 64);
        assert!(digest.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(digest, tool_list_digest(&[b.clone(), a.clone()]));
        let changed = b.input_schema(json!({"type": "object", "properties": {"x": {}}}));
        assert_ne!(digest, tool_list_digest(&[a, changed]));
        assert_ne!(digest, tool_list_digest(&[]));
    }
}
