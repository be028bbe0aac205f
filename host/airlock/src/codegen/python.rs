//! Python declarations of a server's tools: what a model reads to learn
//! the API of `from servers import <server>` in Python code. Each tool is a
//! function with keyword-only arguments typed from its input schema;
//! nested objects become `TypedDict` classes declared above it.

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::schema::{MAX_DEPTH, MAX_NODES, is_plain_object, properties, required, resolve_ref, unwrap_result};
use super::{comment_lines, sorted};
use crate::tool::ToolDefinition;

/// Python's reserved words: a tool or argument named like one cannot be
/// written as an attribute or keyword.
const PY_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield",
];

/// Whether `name` can be written as a Python attribute or keyword
/// argument (ASCII identifiers only, no reserved word).
pub fn is_py_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let start_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    start_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !PY_KEYWORDS.contains(&name)
}

/// The attribute a tool is called by in Python: its MCP name when that is
/// an identifier, else every other character replaced by `_` (a leading
/// digit gets a `_` in front, a reserved word a `_` after). The Python
/// guest applies the same rule.
pub fn py_name(tool: &str) -> String {
    if is_py_identifier(tool) {
        return tool.to_string();
    }
    let mut name: String = tool.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    if PY_KEYWORDS.contains(&name.as_str()) {
        name.push('_');
    }
    name
}

/// Four spaces per level.
fn pad(indent: usize) -> String {
    "    ".repeat(indent)
}

/// A Python string literal (JSON's escapes are Python's too).
fn py_string(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

/// `list_customers` → `ListCustomers`.
fn class_prefix(name: &str) -> String {
    name.split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or(String::new(), |first| first.to_ascii_uppercase().to_string() + chars.as_str())
        })
        .collect()
}

/// A docstring body at `indent`: the text's lines, with `"""` defused.
fn docstring(text: &str, indent: &str) -> String {
    let lines: Vec<String> = comment_lines(text).into_iter().map(|line| line.replace("\"\"\"", "\"\"\\\"")).collect();
    let mut out = String::new();
    for line in lines {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
    out
}

/// Converts the schemas of one tool; nested objects become classes.
struct Converter<'a> {
    root: &'a Value,
    /// `$ref`s being expanded, to cut recursion.
    refs: Vec<String>,
    /// Schema nodes left to visit.
    budget: usize,
    /// `TypedDict` classes declared so far, in dependency order.
    classes: Vec<String>,
    /// Class names in use.
    taken: BTreeSet<String>,
}

impl<'a> Converter<'a> {
    fn new(root: &'a Value) -> Self {
        Converter { root, refs: Vec::new(), budget: MAX_NODES, classes: Vec::new(), taken: BTreeSet::new() }
    }

    /// The type of values `schema` allows; `Any` when unsure. `hint` names
    /// a class this type may need.
    fn ty(&mut self, schema: &Value, hint: &str, depth: usize) -> String {
        if depth > MAX_DEPTH || self.budget == 0 {
            return "Any".into();
        }
        self.budget -= 1;
        let Some(obj) = schema.as_object() else { return "Any".into() };
        if let Some(reference) = obj.get("$ref") {
            return self.reference(reference, hint, depth);
        }
        if let Some(value) = obj.get("const") {
            return literal(std::slice::from_ref(value));
        }
        if let Some(values) = obj.get("enum") {
            return literal(values.as_array().map(Vec::as_slice).unwrap_or_default());
        }
        if let Some(members) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
            let members: Vec<String> = as_list(members).iter().map(|m| self.ty(m, hint, depth + 1)).collect();
            return union(members);
        }
        if obj.contains_key("allOf") {
            return "Any".into();
        }
        match obj.get("type") {
            Some(Value::String(name)) => self.named(name, obj, hint, depth),
            Some(Value::Array(names)) => {
                let members = names
                    .iter()
                    .map(|name| name.as_str().map_or_else(|| "Any".into(), |name| self.named(name, obj, hint, depth)))
                    .collect();
                union(members)
            }
            Some(_) => "Any".into(),
            None if obj.contains_key("properties") => self.object(obj, hint, depth),
            None if obj.contains_key("items") => self.array(obj, hint, depth),
            None => "Any".into(),
        }
    }

    fn reference(&mut self, reference: &Value, hint: &str, depth: usize) -> String {
        let key = reference.to_string();
        match resolve_ref(self.root, reference) {
            Some(target) if !self.refs.contains(&key) => {
                self.refs.push(key);
                let ty = self.ty(target, hint, depth + 1);
                self.refs.pop();
                ty
            }
            _ => "Any".into(),
        }
    }

    fn named(&mut self, name: &str, obj: &Map<String, Value>, hint: &str, depth: usize) -> String {
        match name {
            "string" => "str".into(),
            "integer" => "int".into(),
            "number" => "float".into(),
            "boolean" => "bool".into(),
            "null" => "None".into(),
            "object" => self.object(obj, hint, depth),
            "array" => self.array(obj, hint, depth),
            _ => "Any".into(),
        }
    }

    fn array(&mut self, obj: &Map<String, Value>, hint: &str, depth: usize) -> String {
        match obj.get("items").filter(|items| items.is_object()) {
            Some(items) => format!("list[{}]", self.ty(items, &format!("{hint}Item"), depth + 1)),
            None => "list[Any]".into(),
        }
    }

    /// A class for an object with properties; `dict[str, T]` for a free-form
    /// one.
    fn object(&mut self, obj: &Map<String, Value>, hint: &str, depth: usize) -> String {
        if properties(obj).is_none() {
            let value = match obj.get("additionalProperties") {
                Some(schema @ Value::Object(_)) => self.ty(schema, hint, depth + 1),
                _ => "Any".into(),
            };
            return format!("dict[str, {value}]");
        }
        let name = self.claim(hint);
        let class = self.class(&name, obj, depth);
        self.classes.push(class);
        name
    }

    /// A class name from `hint` no other class has.
    fn claim(&mut self, hint: &str) -> String {
        let mut name = hint.to_string();
        let mut n = 2;
        while !self.taken.insert(name.clone()) {
            name = format!("{hint}{n}");
            n += 1;
        }
        name
    }

    /// `class <name>(TypedDict): ...`, optional keys as `NotRequired`. Keys
    /// that are not identifiers need the functional form, which cannot
    /// carry comments; they are rare, so the class keeps a comment instead.
    fn class(&mut self, name: &str, obj: &Map<String, Value>, depth: usize) -> String {
        let required = required(obj);
        let mut fields = String::new();
        let mut odd = Vec::new();
        for (key, schema) in properties(obj).into_iter().flatten() {
            let ty = self.ty(schema, &format!("{name}{}", class_prefix(key)), depth + 1);
            let ty = if required.contains(key.as_str()) { ty } else { format!("NotRequired[{ty}]") };
            if !is_py_identifier(key) {
                odd.push(format!("{}: {ty}", py_string(key)));
                continue;
            }
            let _ = write!(fields, "    {key}: {ty}");
            match schema.get("description").and_then(Value::as_str).map(one_line) {
                Some(description) if !description.is_empty() => {
                    let _ = writeln!(fields, "  # {description}");
                }
                _ => fields.push('\n'),
            }
        }
        for key in odd {
            let _ = writeln!(fields, "    # also the key {key}");
        }
        if fields.is_empty() {
            fields.push_str("    pass\n");
        }
        format!("class {name}(TypedDict):\n{fields}")
    }
}

/// The first line of a description, for a trailing comment.
fn one_line(text: &str) -> String {
    comment_lines(text).into_iter().next().unwrap_or_default()
}

fn as_list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// `Literal[...]` of primitive values (`None` for null); `Any` when one is
/// not primitive.
fn literal(values: &[Value]) -> String {
    let mut members = Vec::new();
    let mut none = false;
    for value in values {
        match value {
            Value::String(text) => members.push(py_string(text)),
            Value::Number(number) => members.push(number.to_string()),
            Value::Bool(flag) => members.push(if *flag { "True" } else { "False" }.to_string()),
            Value::Null => none = true,
            _ => return "Any".into(),
        }
    }
    let mut ty = if members.is_empty() { String::new() } else { format!("Literal[{}]", members.join(", ")) };
    if none {
        ty = if ty.is_empty() { "None".into() } else { format!("{ty} | None") };
    }
    if ty.is_empty() { "Any".into() } else { ty }
}

/// `A | B`, repeats dropped; `Any` absorbs the rest.
fn union(members: Vec<String>) -> String {
    let mut out: Vec<String> = Vec::new();
    for member in members {
        if member == "Any" {
            return member;
        }
        if !out.contains(&member) {
            out.push(member);
        }
    }
    if out.is_empty() { "Any".into() } else { out.join(" | ") }
}

/// One tool: its classes, then `def <name>(*, ...) -> <result>:` with the
/// description as its docstring.
fn declare_tool(tool: &ToolDefinition, name: &str) -> String {
    let prefix = class_prefix(name);
    let mut converter = Converter::new(&tool.input_schema);
    let mut parameters = Vec::new();
    let mut odd = Vec::new();
    let mut described = Vec::new();
    if let Some(obj) = tool.input_schema.as_object().filter(|obj| is_plain_object(obj)) {
        let required = required(obj);
        // Required arguments first: easier to read, and valid either way.
        let mut props: Vec<(&String, &Value)> = properties(obj).into_iter().flatten().collect();
        props.sort_by_key(|(key, _)| !required.contains(key.as_str()));
        for (key, schema) in props {
            let ty = converter.ty(schema, &format!("{prefix}{}", class_prefix(key)), 1);
            if !is_py_identifier(key) {
                odd.push(key.clone());
                continue;
            }
            if required.contains(key.as_str()) {
                parameters.push(format!("{key}: {ty}"));
            } else {
                parameters.push(format!("{key}: {ty} | None = None"));
            }
            if let Some(description) = schema.get("description").and_then(Value::as_str).map(one_line) {
                described.push(format!("{key}: {description}"));
            }
        }
    }
    let mut classes = std::mem::take(&mut converter.classes);
    let result = match &tool.output_schema {
        Some(schema) => {
            let mut out = Converter::new(schema);
            out.taken = converter.taken.clone();
            let ty = out.ty(unwrap_result(schema), &format!("{prefix}Result"), 0);
            classes.append(&mut out.classes);
            ty
        }
        None => "Any".into(),
    };
    let mut text = String::from("\n");
    for class in classes {
        text.push_str(&class);
        text.push('\n');
    }
    let arguments = if parameters.is_empty() { String::new() } else { format!("*, {}", parameters.join(", ")) };
    let _ = writeln!(text, "def {name}({arguments}) -> {result}:");
    let mut doc = tool.description.clone().unwrap_or_default();
    if !described.is_empty() {
        doc.push_str("\n\n");
        doc.push_str(&described.join("\n"));
    }
    if !odd.is_empty() {
        let keys: Vec<String> = odd.iter().map(|key| py_string(key)).collect();
        let _ = write!(doc, "\n\nArguments that are not identifiers ({}): pass one dict instead.", keys.join(", "));
    }
    let body = docstring(&doc, "    ");
    if body.is_empty() {
        text.push_str("    ...\n");
    } else {
        let _ = writeln!(text, "    \"\"\"{}    \"\"\"", body.trim_start());
    }
    text
}

/// The header naming the server and how to import it (as `import`).
fn header(server: &str, import: &str) -> String {
    format!(
        "# Tools of MCP server {}: `from servers import {import}`, then call them with keyword arguments.\n\
         from typing import Any, Literal, NotRequired, TypedDict\n",
        py_string(server),
    )
}

/// What Python code imports `server` as, among every configured server
/// (`servers`, in the order the guest lists them): see [`py_attributes`].
pub fn py_server_import(server: &str, servers: &[&str]) -> String {
    match servers.iter().position(|name| *name == server) {
        Some(at) => py_attributes(servers.iter().copied()).swap_remove(at),
        None => py_name(server),
    }
}

/// What Python code calls each of `names` by (a server's tools in its
/// listing, or the servers), in their order: a name that is an identifier
/// keeps it, and the others get [`py_name`], numbered from 2 when another
/// has it (`list-items` beside `list_items` is `list_items2`). The Python
/// guest names them by the same rule, over the same order.
pub fn py_attributes<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = names.into_iter().collect();
    let mut taken: HashSet<String> =
        names.iter().filter(|name| is_py_identifier(name)).map(|name| name.to_string()).collect();
    names
        .iter()
        .map(|name| {
            if is_py_identifier(name) {
                return name.to_string();
            }
            let base = py_name(name);
            let mut candidate = base.clone();
            let mut n = 2;
            while taken.contains(&candidate) {
                candidate = format!("{base}{n}");
                n += 1;
            }
            taken.insert(candidate.clone());
            candidate
        })
        .collect()
}

/// [`py_attributes`] of a server's tools.
fn tool_attributes(tools: &[ToolDefinition]) -> Vec<String> {
    py_attributes(tools.iter().map(|tool| tool.name.as_str()))
}

/// Declarations of every tool of `server`, sorted by tool name, each under
/// its attribute ([`py_attributes`]); the server is imported by
/// [`py_name`] (see [`py_declarations_of`] when other servers may clash).
pub fn py_declarations(server: &str, tools: &[ToolDefinition]) -> String {
    py_declarations_of(server, &py_name(server), tools, &|_| true)
}

/// [`py_declarations`] of the tools `keep` names only, each under the
/// attribute it has among all of `tools`, with the server imported as
/// `import` ([`py_server_import`]).
pub fn py_declarations_of(server: &str, import: &str, tools: &[ToolDefinition], keep: &dyn Fn(&str) -> bool) -> String {
    let mut out = header(server, import);
    let attributes = tool_attributes(tools);
    let mut named: Vec<(&ToolDefinition, &String)> =
        tools.iter().zip(&attributes).filter(|(tool, _)| keep(&tool.name)).collect();
    named.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    for (tool, attribute) in named {
        out.push_str(&declare_tool(tool, attribute));
    }
    out
}

/// The declaration of one tool, called by `attribute` (see
/// [`py_attributes`]) of the server imported as `import`.
pub fn py_tool_declaration(server: &str, import: &str, tool: &ToolDefinition, attribute: &str) -> String {
    header(server, import) + &declare_tool(tool, attribute)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn realistic_schema() {
        let input = json!({
            "type": "object",
            "properties": {
                "limit": {"type": "integer", "description": "Max rows."},
                "status": {"enum": ["pending", "paid"]},
                "address": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "zip code": {"type": ["string", "null"]}},
                    "required": ["city"]
                },
                "tags": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["status"]
        });
        let mut tool = ToolDefinition::new("list_customers").description("Lists customers.").input_schema(input);
        tool.output_schema = Some(json!({
            "type": "object",
            "properties": {"total": {"type": "integer"}},
            "required": ["total"]
        }));
        let expected = r#"# Tools of MCP server "crm": `from servers import crm`, then call them with keyword arguments.
from typing import Any, Literal, NotRequired, TypedDict

class ListCustomersAddress(TypedDict):
    city: str
    # also the key "zip code": NotRequired[str | None]

class ListCustomersResult(TypedDict):
    total: int

def list_customers(*, status: Literal["pending", "paid"], address: ListCustomersAddress | None = None, limit: int | None = None, tags: list[str] | None = None) -> ListCustomersResult:
    """Lists customers.

    limit: Max rows.
    """
"#;
        assert_eq!(py_declarations("crm", &[tool]), expected);
    }

    #[test]
    fn tools_whose_python_names_collide_are_numbered_and_an_identifier_keeps_its_own() {
        let tools: Vec<ToolDefinition> = ["list-items", "list_items", "list.items", "list_items2", "café"]
            .into_iter()
            .map(ToolDefinition::new)
            .collect();
        assert_eq!(tool_attributes(&tools), ["list_items3", "list_items", "list_items4", "list_items2", "caf_"]);
        let declared = py_declarations("s", &tools);
        for attribute in ["list_items3", "list_items", "list_items4", "list_items2", "caf_"] {
            assert!(declared.contains(&format!("def {attribute}(")), "{attribute} in {declared}");
        }
    }

    #[test]
    fn servers_whose_python_names_clash_are_imported_by_their_numbered_names() {
        let servers = ["my-crm", "my_crm", "time"];
        assert_eq!(py_server_import("my-crm", &servers), "my_crm2");
        assert_eq!(py_server_import("my_crm", &servers), "my_crm");
        assert_eq!(py_server_import("unknown-one", &servers), "unknown_one");
        let declared = py_declarations_of("my-crm", "my_crm2", &[ToolDefinition::new("t")], &|_| true);
        assert!(declared.contains("`from servers import my_crm2`"), "{declared}");
    }

    #[test]
    fn names_become_identifiers() {
        assert_eq!(py_name("list_customers"), "list_customers");
        assert_eq!(py_name("get-user.v2"), "get_user_v2");
        assert_eq!(py_name("2fa"), "_2fa");
        assert_eq!(py_name("import"), "import_");
        assert_eq!(py_name("listCustomers"), "listCustomers");
    }

    #[test]
    fn primitive_results_are_unwrapped_and_unknowns_are_any() {
        let mut tool = ToolDefinition::new("add");
        tool.output_schema = Some(json!({"type": "object", "properties": {"result": {"type": "number"}}}));
        let text = py_tool_declaration("calc", "calc", &tool, "add");
        assert!(text.contains("def add() -> float:"), "{text}");
        let odd = ToolDefinition::new("odd").input_schema(json!({"properties": {"x": {"allOf": []}, "class": {}}}));
        let text = py_tool_declaration("s", "s", &odd, "odd");
        assert!(text.contains("def odd(*, x: Any | None = None) -> Any:"), "{text}");
        assert!(text.contains("(\"class\"): pass one dict instead"), "{text}");
    }

    #[test]
    fn malformed_and_recursive_schemas_do_not_panic() {
        let recursive = json!({
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}
        });
        for schema in [json!({"type": 5}), json!(null), json!({"properties": []}), json!({"enum": "x"}), recursive] {
            let mut tool = ToolDefinition::new("t").input_schema(schema.clone());
            tool.output_schema = Some(schema);
            assert!(py_tool_declaration("s", "s", &tool, "t").contains("def t("));
        }
    }
}
