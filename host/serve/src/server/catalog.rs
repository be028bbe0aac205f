//! The code-mode tools `airlock serve` offers, as MCP `tools/list` shows
//! them: names, schemas, and the `execute_code` description that teaches
//! a model the agent API.

use rmcp::model::{JsonObject, Tool};
use serde_json::{Value, json};

use airlock::ToolDefinition;
use airlock::discovery::DEFAULT_LIMIT;
use airlock::validation::Validators;
use airlock::{Language, Limits};

/// The code-mode tools' input schemas, compiled once (they do not depend
/// on the servers, the limits or the default language).
pub(super) fn validators() -> &'static Validators {
    static VALIDATORS: std::sync::OnceLock<Validators> = std::sync::OnceLock::new();
    VALIDATORS.get_or_init(|| {
        let definitions: Vec<ToolDefinition> = tools("", "", &Limits::default(), Language::JavaScript)
            .into_iter()
            .map(|tool| {
                ToolDefinition::new(tool.name.to_string()).input_schema(Value::Object((*tool.input_schema).clone()))
            })
            .collect();
        Validators::new(&definitions)
    })
}

/// The language names the tool schemas accept (airlock's language table).
fn language_names() -> Vec<&'static str> {
    airlock::LANGUAGES.iter().map(|spec| spec.name).collect()
}

/// The tools, with `execute_code`'s description built around `servers`
/// (one line per server), `limits` and the default `language`.
pub(super) fn tools(servers: &str, skills: &str, limits: &Limits, language: Language) -> Vec<Tool> {
    let name = json!({"type": "string", "description": "The skill's name."});
    let default = language.name();
    let declarations = if language == Language::Python { "Python signature" } else { "TypeScript declaration" };
    let declared_for = json!({"type": "string", "enum": language_names(),
        "description": format!("Whose declarations to show (python: Python signatures). Default: {default}.")});
    vec![
        Tool::new(
            "execute_code",
            execute_code_description(servers, skills, limits, language),
            execute_code_schema(language),
        ),
        Tool::new(
            "search_tools",
            format!(
                "Find the tools a task needs across every server (BM25 over names, descriptions and \
                 parameters). In results, tool(x_id) needs an id that the tool marked `→ x_id` lists \
                 (search \"list xs\" if none is shown). detail: \"name\" (server: tools, the default), \
                 \"description\" (adds a one-line summary) or \"full\" (adds the {declarations} to code \
                 against)."
            ),
            schema(json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "The task or the words to look for."},
                    "detail": {"type": "string", "enum": ["name", "description", "full"],
                               "description": "Default: name."},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 100,
                              "description": format!("Default: {DEFAULT_LIMIT}.")},
                    "language": declared_for
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
            "Declarations of a server's tools (all, or the named ones), with argument and result types \
             and descriptions: TypeScript for the functions `./servers/<server>` exports, or Python \
             signatures for `from servers import <server>`.",
            schema(json!({
                "type": "object",
                "properties": {
                    "server": {"type": "string"},
                    "tools": {"type": "array", "items": {"type": "string"},
                              "description": "Tool names; default: every tool."},
                    "language": declared_for
                },
                "required": ["server"],
                "additionalProperties": false
            })),
        ),
        Tool::new(
            "save_skill",
            "Save code that worked as a skill, to import later from ./skills/<name> (in this and later \
             sessions): an ES module whose exports are the skill's functions, or a Python module \
             (`from skills.<name> import fn`). The tools it imports are \
             recorded with their schemas, so the skill is reported stale if they change.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$",
                             "description": "Lowercase letters, digits and single hyphens."},
                    "description": {"type": "string", "description": "One line on what it does."},
                    "code": {"type": "string", "description": "The module."},
                    "language": {"type": "string", "enum": language_names(),
                                 "description": "The code's language. Default: the session's."},
                    "documentation": {"type": "string", "description": "How to call it (SKILL.md)."},
                    "replace": {"type": "boolean", "description": "Replace a skill of the same name."},
                    "session": {"type": "boolean", "description": "Save it for this session only (default: for later sessions too)."}
                },
                "required": ["name", "description", "code"],
                "additionalProperties": false
            })),
        ),
        Tool::new(
            "resume_execution",
            "Continue an execution that execute_code returned paused: one of its tool calls needs a human's \
             approval. Ask the user about the call it shows (server, tool, arguments), then pass their \
             decision; the code goes on from where it stopped (calls made before the pause are not made \
             again), and a declined call is a `denied` ToolError the code can catch.",
            schema(json!({
                "type": "object",
                "properties": {
                    "execution_id": {"type": "string", "description": "The id execute_code returned with paused."},
                    "call": {"type": "integer", "minimum": 1,
                             "description": "The call number returned with paused: the question this answers."},
                    "approve": {"type": "boolean", "description": "The human's decision."},
                    "reason": {"type": "string", "description": "Why it was declined, shown to the code."},
                    "allow_for_session": {"type": "boolean",
                                          "description": "Also allow later calls of this tool in this session."}
                },
                "required": ["execution_id", "call", "approve"],
                "additionalProperties": false
            })),
        ),
        Tool::new(
            "list_skills",
            "List the saved skills (name, language, description), marking any whose tools changed as stale.",
            schema(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        ),
        Tool::new(
            "get_skill",
            "A skill's SKILL.md and code.",
            schema(json!({"type": "object", "properties": {"name": name}, "required": ["name"],
                          "additionalProperties": false})),
        ),
        Tool::new(
            "delete_skill",
            "Delete a saved skill.",
            schema(json!({"type": "object", "properties": {"name": name}, "required": ["name"],
                          "additionalProperties": false})),
        ),
    ]
}

fn execute_code_description(servers: &str, skills: &str, limits: &Limits, language: Language) -> String {
    let javascript = "JavaScript/TypeScript: an ES module with top-level await. `import * as crm from \
         \"./servers/crm\"` gives one async function per tool (lowerCamelCase of its name) taking the \
         arguments object and resolving to the parsed result. Find tools with search_tools (or \
         `searchTools(query, detail, limit)` from \"airlock\"); ./servers/<server>/<tool>.ts hold their \
         TypeScript declarations (read them with fs, or describe_tools). console.log/info → stdout, \
         console.warn/error → stderr. A failing tool throws ToolError with .kind (not-found, denied, \
         invalid-arguments, failed, unavailable) and .message. Files under ./workspace/ (import fs from \
         \"fs\") persist between calls of this session. Saved skills: `import { fn } from \
         \"./skills/<name>\"` (a component skill exports `run(input)`); save new ones with save_skill.";
    let python = "Python (language \"python\": CPython 3.14 with its standard library): `from servers \
         import crm` (or `import servers.crm as crm`), then `crm.list_customers(limit=10)`: one function per \
         tool under its MCP name, keyword arguments, returning the parsed result (dicts and lists). print → \
         stdout. A failing tool raises ToolError (from airlock) with .kind, .server, .tool and .message. Calls \
         awaited inside `await asyncio.gather(...)` (top-level await works) run concurrently. `from airlock \
         import search_tools`; describe_tools and search_tools with language \"python\" show Python \
         signatures. Files under ./workspace/ (open()) persist between calls of this session. Saved Python \
         skills: `from skills.<name> import fn`.";
    let (first, second) = if language == Language::Python { (python, javascript) } else { (javascript, python) };
    format!(
        "Run code in a sandbox against the MCP servers below; only what the code prints comes back, so \
         filter and join data in the code and print just the answer. Default language: {}.\n\
         - {first}\n\
         - {second}\n\
         - Personal data arrives as tokens such as [EMAIL_1]: pass them to tools as they are, the \
         tool receives the real value.\n\
         - Nothing persists between calls but ./workspace/ files; no network.\n\
         - Limits per call: {:?} wall time, {} MiB memory, {} KiB stdout, {} tool calls, {} MiB of \
         workspace files.\n\
         Servers:\n{servers}{skills}",
        language.name(),
        limits.timeout,
        limits.memory_bytes >> 20,
        limits.stdout_bytes >> 10,
        limits.tool_calls,
        limits.workspace_bytes >> 20,
    )
}

fn execute_code_schema(language: Language) -> JsonObject {
    schema(json!({
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "The program: an ES module, or a Python script."},
            "language": {"type": "string", "enum": language_names(),
                         "description": format!("Default: {}.", language.name())},
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
