//! Bindings generated from MCP tool definitions (JSON Schema): the JS
//! modules served at `./servers/<server>`, the TypeScript declarations a
//! model reads, and the WIT interface of each server.
//!
//! Everything here is deterministic (same tools → byte-identical text) and
//! total: tool definitions come from untrusted upstream servers, so a
//! schema this code does not understand degrades to `unknown` (TS) or
//! `json` (WIT) instead of failing.

// Parts of this API (the WIT mapping, the naming helpers) are for callers
// still being written.
#![allow(dead_code, unused_imports)]

mod javascript;
mod naming;
mod python;
mod schema;
mod typescript;
mod wit;

use std::fmt::Write as _;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::tools::ToolDefinition;

pub use javascript::{js_module, js_names, js_tool_module};
pub use naming::{is_js_identifier, lower_camel_case, unique_names, wit_identifier};
pub use python::{is_py_identifier, py_declarations, py_name, py_tool_declaration};
pub use typescript::{ts_declarations, ts_tool_declaration};
pub use wit::{WitFunction, WitType, wit_functions, wit_interface};

/// The tools sorted by name; equal names keep their input order.
fn sorted(tools: &[ToolDefinition]) -> Vec<&ToolDefinition> {
    let mut tools: Vec<&ToolDefinition> = tools.iter().collect();
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}

/// The lines of a description, fit for a doc comment: control,
/// bidirectional-override and deprecated codepoints become spaces (the WIT
/// lexer rejects them, and they can make text read differently from how it
/// parses); blank lines at either end go.
fn comment_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(clean_line).skip_while(|line| line.trim().is_empty()).collect();
    while lines.last().is_some_and(|line| line.trim().is_empty()) {
        lines.pop();
    }
    if let Some(first) = lines.first_mut() {
        *first = first.trim_start().to_string();
    }
    lines
}

/// One line with unfit codepoints replaced and trailing blanks removed.
fn clean_line(line: &str) -> String {
    let clean: String = line.chars().map(|c| if unfit_for_comment(c) { ' ' } else { c }).collect();
    clean.trim_end().to_string()
}

/// Codepoints the WIT lexer rejects anywhere in a document.
fn unfit_for_comment(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        || matches!(
            c,
            '\u{149}' | '\u{673}' | '\u{f77}' | '\u{f79}' | '\u{17a3}' | '\u{17a4}' | '\u{17b4}' | '\u{17b5}'
        )
}

/// Hex SHA-256 of the canonical JSON of the tool list sorted by name: a
/// cache key for everything generated from that list.
pub fn tool_list_digest(tools: &[ToolDefinition]) -> String {
    let mut canonical = String::new();
    let list: Vec<Value> = sorted(tools).into_iter().map(tool_json).collect();
    write_canonical(&Value::Array(list), &mut canonical);
    hex(&Sha256::digest(canonical.as_bytes()))
}

/// Hex SHA-256 of the canonical JSON of one tool's input and output
/// schemas without their annotations (`description`, `title`, `examples`,
/// `$comment`): what code written against the tool depends on. A reworded
/// description, or one that quotes the server's local time zone, does not
/// change it.
pub fn tool_schema_digest(tool: &ToolDefinition) -> String {
    let schemas = json!({
        "inputSchema": without_annotations(&tool.input_schema),
        "outputSchema": tool.output_schema.as_ref().map(without_annotations),
    });
    let mut canonical = String::new();
    write_canonical(&schemas, &mut canonical);
    hex(&Sha256::digest(canonical.as_bytes()))
}

/// [`tool_schema_digest`] as skills saved before annotations were left
/// out recorded it (descriptions included).
pub fn legacy_tool_schema_digest(tool: &ToolDefinition) -> String {
    let mut canonical = String::new();
    write_canonical(&json!({"inputSchema": tool.input_schema, "outputSchema": tool.output_schema}), &mut canonical);
    hex(&Sha256::digest(canonical.as_bytes()))
}

/// A JSON Schema without the keywords that only annotate it. Keys of
/// `properties` (and the like) are names, not keywords: a property called
/// `description` stays.
fn without_annotations(schema: &Value) -> Value {
    const ANNOTATIONS: [&str; 4] = ["description", "title", "examples", "$comment"];
    const NAMED_SCHEMAS: [&str; 5] = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
    match schema {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(key, _)| !ANNOTATIONS.contains(&key.as_str()))
                .map(|(key, value)| {
                    let value = match value {
                        Value::Object(named) if NAMED_SCHEMAS.contains(&key.as_str()) => Value::Object(
                            named.iter().map(|(name, schema)| (name.clone(), without_annotations(schema))).collect(),
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

/// Lowercase hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
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

/// JSON with object keys sorted at every level, whatever order the map
/// keeps, so equal values always give equal text.
fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn schema_digests_ignore_annotations_but_not_names() {
        use super::*;
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
    }

    use super::*;

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

    #[test]
    fn comment_lines_are_clean() {
        let text = "\n  first\u{202e}line\u{7}\r\n\n  second  \n\u{1b}\n";
        assert_eq!(comment_lines(text), ["first line", "", "  second"]);
        assert!(comment_lines("\u{7}\n \t").is_empty());
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let mut out = String::new();
        write_canonical(&json!({"b": [1, {"d": null, "c": "x"}], "a": true}), &mut out);
        assert_eq!(out, r#"{"a":true,"b":[1,{"c":"x","d":null}]}"#);
    }
}
