//! Small, forgiving readers for JSON Schema: every helper accepts any
//! `Value` and answers `None`/empty for shapes it does not understand,
//! because schemas come from untrusted upstream servers.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// How deep a conversion may nest before giving up on a schema.
pub const MAX_DEPTH: usize = 24;

/// How many schema nodes one tool's conversion may visit; bounds the work
/// and output a hostile schema (e.g. `$ref` fan-out) can cause.
pub const MAX_NODES: usize = 4096;

/// Keywords that combine sub-schemas.
const COMBINATORS: &[&str] = &["$ref", "anyOf", "oneOf", "allOf"];

/// Type names whose values the runtime unwraps from `{result: x}`.
const PRIMITIVES: &[&str] = &["string", "number", "integer", "boolean", "null"];

/// The non-empty `properties` map of an object schema.
pub fn properties(schema: &Map<String, Value>) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object).filter(|props| !props.is_empty())
}

/// The names listed in `required`, ignoring anything that is not a string.
pub fn required(schema: &Map<String, Value>) -> BTreeSet<&str> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// Whether the schema is a plain object type: `type` absent or `"object"`
/// and no combinator that would take precedence.
pub fn is_plain_object(schema: &Map<String, Value>) -> bool {
    let type_ok = match schema.get("type") {
        None => true,
        Some(t) => t.as_str() == Some("object"),
    };
    type_ok
        && !COMBINATORS.iter().any(|k| schema.contains_key(*k))
        && !schema.contains_key("enum")
        && !schema.contains_key("const")
}

/// Whether a tool with this input schema takes no arguments at all: an
/// object with no properties that does not invite extra ones.
pub fn takes_no_args(schema: &Value) -> bool {
    let Some(obj) = schema.as_object() else {
        return false;
    };
    let closed = match obj.get("additionalProperties") {
        None => true,
        Some(extra) => extra == &Value::Bool(false),
    };
    is_plain_object(obj) && properties(obj).is_none() && closed
}

/// Resolves a local `$ref` (`#/$defs/X`, `#/definitions/X`, `#`) against
/// the root schema.
pub fn resolve_ref<'a>(root: &'a Value, reference: &Value) -> Option<&'a Value> {
    let pointer = reference.as_str()?.strip_prefix('#')?;
    root.pointer(pointer)
}

/// The schema the guest actually sees as a result: `{result: <primitive>}`
/// is unwrapped to the primitive, as the runtime unwraps the value.
pub fn unwrap_result(schema: &Value) -> &Value {
    let inner = schema
        .as_object()
        .filter(|obj| is_plain_object(obj))
        .and_then(properties)
        .filter(|props| props.len() == 1)
        .and_then(|props| props.get("result"));
    match inner {
        Some(inner) if is_primitive(inner) => inner,
        _ => schema,
    }
}

/// Whether every value the schema allows is a JSON primitive.
fn is_primitive(schema: &Value) -> bool {
    let Some(obj) = schema.as_object() else {
        return false;
    };
    let primitive_name = |t: &Value| t.as_str().is_some_and(|t| PRIMITIVES.contains(&t));
    let primitive_value = |v: &Value| !v.is_array() && !v.is_object();
    match (obj.get("type"), obj.get("enum"), obj.get("const")) {
        (Some(Value::Array(types)), _, _) => !types.is_empty() && types.iter().all(primitive_name),
        (Some(t), _, _) => primitive_name(t),
        (None, Some(Value::Array(values)), _) => values.iter().all(primitive_value),
        (None, None, Some(value)) => primitive_value(value),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn result_wrapper_around_primitive_is_unwrapped() {
        let wrapped = json!({"type": "object", "properties": {"result": {"type": "number"}}});
        assert_eq!(unwrap_result(&wrapped), &json!({"type": "number"}));
        let object = json!({"type": "object", "properties": {"result": {"type": "object"}}});
        assert_eq!(unwrap_result(&object), &object);
        let two = json!({"properties": {"result": {"type": "string"}, "more": {}}});
        assert_eq!(unwrap_result(&two), &two);
    }

    #[test]
    fn no_args_only_for_closed_empty_objects() {
        assert!(takes_no_args(&json!({"type": "object"})));
        assert!(takes_no_args(&json!({"type": "object", "properties": {}})));
        assert!(!takes_no_args(&json!({"additionalProperties": {"type": "string"}})));
        assert!(!takes_no_args(&json!({"properties": {"a": {}}})));
        assert!(!takes_no_args(&json!({"anyOf": []})));
        assert!(!takes_no_args(&json!("garbage")));
    }

    #[test]
    fn malformed_pieces_read_as_absent() {
        let schema = json!({"properties": [], "required": "a", "type": 5});
        let obj = schema.as_object().unwrap();
        assert!(properties(obj).is_none());
        assert!(required(obj).is_empty());
        assert!(!is_plain_object(obj));
        assert_eq!(resolve_ref(&schema, &json!(7)), None);
        assert_eq!(resolve_ref(&schema, &json!("#/type")), Some(&json!(5)));
    }
}
