//! Arguments are checked against each tool's `inputSchema` before anything
//! reaches the upstream server.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::tools::{ToolDefinition, ToolError};

/// Compiled input-schema validators, by tool name.
pub struct Validators {
    by_tool: BTreeMap<String, Option<jsonschema::Validator>>,
}

impl Validators {
    /// Compiles every tool's schema; a schema that does not compile is
    /// logged and not enforced (the server still validates).
    pub fn new(tools: &[ToolDefinition]) -> Self {
        let by_tool = tools
            .iter()
            .map(|tool| {
                let validator = jsonschema::validator_for(&tool.input_schema)
                    .inspect_err(|e| tracing::warn!(tool = %tool.name, error = %e, "input schema does not compile; not validating"))
                    .ok();
                (tool.name.clone(), validator)
            })
            .collect();
        Validators { by_tool }
    }

    /// Checks `arguments` for `tool`, naming the first failing path.
    pub fn check(&self, tool: &str, arguments: &Value) -> Result<(), ToolError> {
        let Some(Some(validator)) = self.by_tool.get(tool) else {
            return Ok(());
        };
        match validator.iter_errors(arguments).next() {
            None => Ok(()),
            Some(error) => {
                let path = error.instance_path().to_string();
                let at = if path.is_empty() { "the arguments".to_string() } else { format!("at {path}") };
                Err(ToolError::InvalidArguments(format!("{tool}: {at}: {error}")))
            }
        }
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
    fn a_broken_schema_is_not_enforced() {
        let tool = ToolDefinition::new("odd").input_schema(serde_json::json!({"type": 5}));
        let validators = Validators::new(&[tool]);
        assert!(validators.check("odd", &serde_json::json!({"x": 1})).is_ok());
    }
}
