//! The code-mode tools `airlock serve` offers, as MCP `tools/list` shows
//! them: names, schemas, and the `execute_code` description that teaches
//! a model the agent API.

use rmcp::model::{JsonObject, Tool};
use serde_json::{Value, json};

use crate::Limits;

/// The tools, with `execute_code`'s description built around `servers`
/// (one line per server) and `limits`.
pub(super) fn tools(servers: &str, limits: &Limits) -> Vec<Tool> {
    vec![
        Tool::new("execute_code", execute_code_description(servers, limits), execute_code_schema()),
        Tool::new(
            "search_tools",
            "Find the tools a task needs across every server (BM25 over names, descriptions and \
             parameters). detail: \"name\" (server.tool), \"description\" (adds a one-line summary, the \
             default) or \"full\" (adds the TypeScript declaration to code against).",
            schema(json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "The task or the words to look for."},
                    "detail": {"type": "string", "enum": ["name", "description", "full"],
                               "description": "Default: description."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100, "description": "Default: 10."}
                },
                "required": ["query"],
                "additionalProperties": false
            })),
        ),
        Tool::new(
            "list_servers",
            "List the MCP servers the code can import from ./servers/<name>, with their tool names.",
            schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        ),
        Tool::new(
            "describe_tools",
            "TypeScript declarations of a server's tools (all, or the named ones): the functions \
             `./servers/<server>` exports, with argument and result types and descriptions.",
            schema(json!({
                "type": "object",
                "properties": {
                    "server": {"type": "string"},
                    "tools": {"type": "array", "items": {"type": "string"},
                              "description": "Tool names; default: every tool."}
                },
                "required": ["server"],
                "additionalProperties": false
            })),
        ),
    ]
}

fn execute_code_description(servers: &str, limits: &Limits) -> String {
    format!(
        "Run JavaScript or TypeScript in a sandbox against the MCP servers below; only what the code \
         prints comes back, so filter and join data in the code and print just the answer.\n\
         - ES module with top-level await. `import * as crm from \"./servers/crm\"` gives one async \
         function per tool (lowerCamelCase of its name) taking the arguments object and resolving to \
         the parsed result. Find tools with search_tools (or `searchTools(query, detail, limit)` from \
         \"airlock\"); ./servers/<server>/<tool>.ts hold their TypeScript declarations (read them with \
         fs, or describe_tools).\n\
         - console.log/info → stdout, console.warn/error → stderr. A failing tool throws ToolError \
         with .kind (not-found, denied, invalid-arguments, failed, unavailable) and .message.\n\
         - Personal data arrives as tokens such as [EMAIL_1]: pass them to tools as they are, the \
         tool receives the real value.\n\
         - Files under ./workspace/ (import fs from \"fs\") persist between calls of this session; \
         nothing else does. No network.\n\
         - Limits per call: {:?} wall time, {} MiB memory, {} KiB stdout, {} tool calls.\n\
         Servers:\n{servers}",
        limits.timeout,
        limits.memory_bytes >> 20,
        limits.stdout_bytes >> 10,
        limits.tool_calls,
    )
}

fn execute_code_schema() -> JsonObject {
    schema(json!({
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "The program: an ES module."},
            "language": {"type": "string", "enum": ["javascript", "typescript"],
                         "description": "Default: javascript."},
            "timeout_ms": {"type": "integer", "minimum": 1,
                           "description": "A shorter deadline than the server's limit."}
        },
        "required": ["code"],
        "additionalProperties": false
    }))
}

fn schema(value: Value) -> JsonObject {
    match value {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}
