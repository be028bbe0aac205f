//! MCP tool results → the JSON value agent code receives.

use rmcp::model::CallToolResult;
use serde_json::Value;

use crate::tool::ToolError;

/// `structuredContent` when present (a single-property `{result: x}`
/// wrapper around a primitive is unwrapped), else the text content parsed
/// as JSON when it parses, else the text; `isError` becomes
/// [`ToolError::Failed`] with the text.
pub fn to_value(result: CallToolResult) -> Result<Value, ToolError> {
    if result.is_error == Some(true) {
        let message = text_of(&result).unwrap_or_else(|| "the tool reported an error without a message".to_string());
        return Err(ToolError::Failed(message));
    }
    // The text is joined only when it is used: a server that sends
    // structured content usually sends the same data as text too.
    if let Some(structured) = result.structured_content {
        return Ok(unwrap_result(structured));
    }
    match text_of(&result) {
        Some(text) => Ok(serde_json::from_str(&text).unwrap_or(Value::String(text))),
        // Images, audio, resources: hand over the content blocks as they are.
        None => Ok(serde_json::to_value(&result.content).unwrap_or(Value::Null)),
    }
}

/// The text blocks of a result joined by newlines, if there are any.
fn text_of(result: &CallToolResult) -> Option<String> {
    let texts: Vec<&str> = result.content.iter().filter_map(|block| block.as_text().map(|t| t.text.as_str())).collect();
    (!texts.is_empty()).then(|| texts.join("\n"))
}

/// `{"result": 5}` → `5`, as the Python SDK wraps primitive returns.
fn unwrap_result(value: Value) -> Value {
    match value {
        Value::Object(mut map)
            if map.len() == 1 && map.get("result").is_some_and(|v| !v.is_object() && !v.is_array()) =>
        {
            map.remove("result").unwrap_or(Value::Null)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(json: Value) -> CallToolResult {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn structured_content_wins_and_primitive_wrappers_unwrap() {
        let r =
            result(serde_json::json!({"content": [{"type": "text", "text": "5"}], "structuredContent": {"result": 5}}));
        assert_eq!(to_value(r), Ok(serde_json::json!(5)));
        let r = result(serde_json::json!({"content": [], "structuredContent": {"result": [1], }}));
        assert_eq!(to_value(r), Ok(serde_json::json!({"result": [1]})));
        let r = result(serde_json::json!({"content": [], "structuredContent": {"rows": [], "total": 0}}));
        assert_eq!(to_value(r), Ok(serde_json::json!({"rows": [], "total": 0})));
    }

    #[test]
    fn text_is_parsed_as_json_when_it_parses() {
        let r = result(serde_json::json!({"content": [{"type": "text", "text": "{\"a\": 1}"}]}));
        assert_eq!(to_value(r), Ok(serde_json::json!({"a": 1})));
        let r = result(serde_json::json!({"content": [{"type": "text", "text": "Echo: hi"}]}));
        assert_eq!(to_value(r), Ok(serde_json::json!("Echo: hi")));
    }

    #[test]
    fn is_error_fails_with_the_text() {
        let r = result(serde_json::json!({"content": [{"type": "text", "text": "no such id"}], "isError": true}));
        assert_eq!(to_value(r), Err(ToolError::Failed("no such id".into())));
    }
}
