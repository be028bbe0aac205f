//! Tool arguments checked against the tool's `inputSchema` before anything
//! reaches the tool: upstream servers' tools, and `airlock serve`'s own.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::tool::{ToolDefinition, ToolError};

/// Compiled input-schema validators, by tool name.
pub struct Validators {
    by_tool: BTreeMap<String, Option<Checker>>,
}

/// One tool's compiled schema and the names of its top-level arguments.
struct Checker {
    validator: jsonschema::Validator,
    /// The `properties` the schema names, in order (empty: not declared).
    arguments: Vec<String>,
    required: Vec<String>,
}

impl Validators {
    /// Compiles every tool's schema; a schema that does not compile is
    /// logged and not enforced (the server still validates).
    pub fn new(tools: &[ToolDefinition]) -> Self {
        let by_tool = tools
            .iter()
            .map(|tool| {
                let checker = jsonschema::validator_for(&tool.input_schema)
                    .inspect_err(|e| tracing::warn!(tool = %tool.name, error = %e, "input schema does not compile; not validating"))
                    .ok()
                    .map(|validator| Checker::new(validator, &tool.input_schema));
                (tool.name.clone(), checker)
            })
            .collect();
        Validators { by_tool }
    }

    /// Whether `tool` is one of the tools.
    pub fn contains(&self, tool: &str) -> bool {
        self.by_tool.contains_key(tool)
    }

    /// The tools' names, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.by_tool.keys().map(String::as_str).collect()
    }

    /// Checks `arguments` for `tool`, naming the first failing path; an
    /// argument the schema does not name is reported as such, with the
    /// argument probably meant.
    pub fn check(&self, tool: &str, arguments: &Value) -> Result<(), ToolError> {
        let Some(Some(checker)) = self.by_tool.get(tool) else {
            return Ok(());
        };
        let Some(error) = checker.validator.iter_errors(arguments).next() else {
            return Ok(());
        };
        if let Some(message) = checker.unknown_arguments(tool, arguments) {
            return Err(ToolError::InvalidArguments(message));
        }
        let path = error.instance_path().to_string();
        let at = if path.is_empty() { "the arguments".to_string() } else { format!("at {path}") };
        Err(ToolError::InvalidArguments(format!("{tool}: {at}: {error}")))
    }
}

impl Checker {
    fn new(validator: jsonschema::Validator, schema: &Value) -> Self {
        let names = |value: Option<&Value>| -> Vec<String> {
            match value {
                Some(Value::Object(map)) => map.keys().cloned().collect(),
                Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
                _ => Vec::new(),
            }
        };
        Checker { validator, arguments: names(schema.get("properties")), required: names(schema.get("required")) }
    }

    /// When invalid arguments hold names the schema does not declare:
    /// which, what was probably meant, and what the tool takes.
    fn unknown_arguments(&self, tool: &str, arguments: &Value) -> Option<String> {
        let given = arguments.as_object()?;
        if self.arguments.is_empty() {
            return None;
        }
        let unknown: Vec<&str> =
            given.keys().map(String::as_str).filter(|key| !self.arguments.iter().any(|a| a == key)).collect();
        let first = *unknown.first()?;
        let missing: Vec<&str> =
            self.required.iter().map(String::as_str).filter(|name| !given.contains_key(*name)).collect();
        // One unknown name and one missing required one: surely the same.
        let suggestion = match (unknown.len(), missing.as_slice()) {
            (1, [only]) => format!(" (did you mean `{only}`?)"),
            _ => crate::suggest::did_you_mean(first, self.arguments.iter().map(String::as_str)),
        };
        let takes: Vec<String> = self
            .arguments
            .iter()
            .map(|name| if self.required.contains(name) { format!("{name} (required)") } else { name.clone() })
            .collect();
        let more = if unknown.len() > 1 { format!(" (and {} more)", unknown.len() - 1) } else { String::new() };
        Some(format!("{tool}: unknown argument `{first}`{suggestion}{more}; {tool} takes {}", takes.join(", ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failing_path_is_named() {
        let tool = ToolDefinition::new("list").input_schema(serde_json::json!({
            "type": "object",
            "properties": {"limit": {"type": "integer"}, "filter": {"type": "object", "properties": {"status": {"enum": ["a", "b"]}}}},
            "required": ["limit"]
        }));
        let validators = Validators::new(&[tool]);
        assert!(validators.check("list", &serde_json::json!({"limit": 3})).is_ok());
        let error = validators.check("list", &serde_json::json!({"limit": "3"})).unwrap_err();
        assert!(matches!(&error, ToolError::InvalidArguments(m) if m.contains("/limit")), "{error}");
        let error = validators.check("list", &serde_json::json!({"limit": 1, "filter": {"status": "c"}})).unwrap_err();
        assert!(matches!(&error, ToolError::InvalidArguments(m) if m.contains("/filter/status")), "{error}");
        let error = validators.check("list", &serde_json::json!({})).unwrap_err();
        assert!(matches!(&error, ToolError::InvalidArguments(m) if m.contains("limit")), "{error}");
    }

    #[test]
    fn unknown_arguments_are_named_with_what_was_meant() {
        let tool = ToolDefinition::new("get_record").input_schema(serde_json::json!({
            "type": "object",
            "properties": {"id": {"type": "integer"}, "verbose": {"type": "boolean"}},
            "required": ["id"]
        }));
        let validators = Validators::new(&[tool]);
        let error = validators.check("get_record", &serde_json::json!({"record_id": 7})).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("unknown argument `record_id` (did you mean `id`?)"), "{message}");
        assert!(message.contains("takes id (required), verbose"), "{message}");
        // Extra names are allowed by this schema, so only a failing call reports them.
        assert!(validators.check("get_record", &serde_json::json!({"id": 1, "extra": 1})).is_ok());

        let strict = ToolDefinition::new("execute_code").input_schema(serde_json::json!({
            "type": "object",
            "properties": {"code": {"type": "string"}, "language": {"type": "string"}},
            "required": ["code"],
            "additionalProperties": false
        }));
        let validators = Validators::new(&[strict]);
        let error = validators.check("execute_code", &serde_json::json!({"code": "1", "lang": "python"})).unwrap_err();
        assert!(error.to_string().contains("unknown argument `lang` (did you mean `language`?)"), "{error}");
    }

    #[test]
    fn a_broken_schema_is_not_enforced() {
        let tool = ToolDefinition::new("odd").input_schema(serde_json::json!({"type": 5}));
        let validators = Validators::new(&[tool]);
        assert!(validators.check("odd", &serde_json::json!({"x": 1})).is_ok());
    }
}
