//! TypeScript declarations of a server's tools: the text a model reads to
//! learn the API of `./servers/<server>`.

use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::javascript::{JsExport, doc_comment, js_exports, js_string};
use super::naming::is_identifier_name;
use super::schema::{MAX_DEPTH, MAX_NODES, is_plain_object, properties, required, resolve_ref, unwrap_result};
use crate::tool::ToolDefinition;

/// Operator precedence of a type expression, to know when it needs
/// parentheses inside another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prec {
    Union,
    Intersection,
    Atom,
}

/// A TypeScript type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ts {
    text: String,
    prec: Prec,
}

impl Ts {
    fn atom(text: impl Into<String>) -> Ts {
        Ts { text: text.into(), prec: Prec::Atom }
    }

    fn unknown() -> Ts {
        Ts::atom("unknown")
    }

    /// The text, parenthesised when it binds looser than `outer`.
    fn at(&self, outer: Prec) -> String {
        if (self.prec as u8) < (outer as u8) { format!("({})", self.text) } else { self.text.clone() }
    }
}

/// Joins members with `|` or `&`, dropping repeats; one member stands alone.
fn combine(members: Vec<Ts>, prec: Prec) -> Ts {
    let (separator, empty) = match prec {
        Prec::Intersection => (" & ", "unknown"),
        _ => (" | ", "never"),
    };
    let mut texts: Vec<String> = Vec::new();
    for member in &members {
        let text = member.at(prec);
        if !texts.contains(&text) {
            texts.push(text);
        }
    }
    match texts.len() {
        0 => Ts::atom(empty),
        1 => members.into_iter().next().unwrap_or_else(Ts::unknown),
        _ => Ts { text: texts.join(separator), prec },
    }
}

/// Two spaces per level.
fn pad(indent: usize) -> String {
    "  ".repeat(indent)
}

/// Converts the schemas of one tool, resolving `$ref`s against `root`.
struct Converter<'a> {
    root: &'a Value,
    /// `$ref`s being expanded, to cut recursion.
    refs: Vec<String>,
    /// Schema nodes left to visit.
    budget: usize,
}

impl<'a> Converter<'a> {
    fn new(root: &'a Value) -> Self {
        Converter { root, refs: Vec::new(), budget: MAX_NODES }
    }

    /// The type of values `schema` allows; `unknown` when unsure.
    fn ty(&mut self, schema: &Value, depth: usize, indent: usize) -> Ts {
        if depth > MAX_DEPTH || self.budget == 0 {
            return Ts::unknown();
        }
        self.budget -= 1;
        let Some(obj) = schema.as_object() else {
            return Ts::unknown();
        };
        if let Some(reference) = obj.get("$ref") {
            return self.reference(reference, depth, indent);
        }
        if let Some(value) = obj.get("const") {
            return literal(value);
        }
        if let Some(values) = obj.get("enum") {
            let members = as_list(values).iter().map(literal).collect();
            return combine(members, Prec::Union);
        }
        if let Some(members) = obj.get("anyOf").or_else(|| obj.get("oneOf")) {
            return self.all(members, Prec::Union, depth, indent);
        }
        if let Some(members) = obj.get("allOf") {
            return self.all(members, Prec::Intersection, depth, indent);
        }
        match obj.get("type") {
            Some(Value::String(name)) => self.named(name, obj, depth, indent),
            Some(Value::Array(names)) => {
                let members = names
                    .iter()
                    .map(|name| match name.as_str() {
                        Some(name) => self.named(name, obj, depth, indent),
                        None => Ts::unknown(),
                    })
                    .collect();
                combine(members, Prec::Union)
            }
            Some(_) => Ts::unknown(),
            None => self.inferred(obj, depth, indent),
        }
    }

    /// A `$ref`, expanded in place unless it is already being expanded.
    fn reference(&mut self, reference: &Value, depth: usize, indent: usize) -> Ts {
        let key = reference.to_string();
        let target = resolve_ref(self.root, reference);
        match target {
            Some(target) if !self.refs.contains(&key) => {
                self.refs.push(key);
                let ts = self.ty(target, depth + 1, indent);
                self.refs.pop();
                ts
            }
            _ => Ts::unknown(),
        }
    }

    /// `anyOf`/`oneOf` (union) or `allOf` (intersection) members.
    fn all(&mut self, members: &Value, prec: Prec, depth: usize, indent: usize) -> Ts {
        let members = as_list(members).iter().map(|member| self.ty(member, depth + 1, indent)).collect();
        combine(members, prec)
    }

    /// A schema with `type: <name>`.
    fn named(&mut self, name: &str, obj: &Map<String, Value>, depth: usize, indent: usize) -> Ts {
        match name {
            "string" => Ts::atom("string"),
            "number" | "integer" => Ts::atom("number"),
            "boolean" => Ts::atom("boolean"),
            "null" => Ts::atom("null"),
            "object" => self.object(obj, depth, indent),
            "array" => self.array(obj, depth, indent),
            _ => Ts::unknown(),
        }
    }

    /// A schema without `type`, judged by the keywords it uses.
    fn inferred(&mut self, obj: &Map<String, Value>, depth: usize, indent: usize) -> Ts {
        if obj.contains_key("properties") || obj.contains_key("additionalProperties") {
            self.object(obj, depth, indent)
        } else if obj.contains_key("items") || obj.contains_key("prefixItems") {
            self.array(obj, depth, indent)
        } else {
            Ts::unknown()
        }
    }

    /// `T[]`, or a tuple for `prefixItems` (or draft-04 array `items`).
    fn array(&mut self, obj: &Map<String, Value>, depth: usize, indent: usize) -> Ts {
        let items = obj.get("items");
        let tuple = obj.get("prefixItems").or(items).and_then(Value::as_array);
        if let Some(prefix) = tuple {
            let mut members: Vec<String> = prefix.iter().map(|item| self.ty(item, depth + 1, indent).text).collect();
            if let Some(rest) = items.filter(|items| items.is_object()) {
                let rest = self.ty(rest, depth + 1, indent);
                members.push(format!("...{}[]", rest.at(Prec::Atom)));
            }
            return Ts::atom(format!("[{}]", members.join(", ")));
        }
        let element = match items {
            Some(items) => self.ty(items, depth + 1, indent),
            None => Ts::unknown(),
        };
        Ts::atom(format!("{}[]", element.at(Prec::Atom)))
    }

    /// An object type: `{ ... }` with one member per property, or an index
    /// signature for a free-form object.
    fn object(&mut self, obj: &Map<String, Value>, depth: usize, indent: usize) -> Ts {
        if properties(obj).is_some() {
            return Ts::atom(self.body(obj, depth, indent));
        }
        match self.extra(obj, depth, indent) {
            Some(value) => Ts::atom(format!("{{ [key: string]: {} }}", value.text)),
            None => Ts::atom("Record<string, never>"),
        }
    }

    /// The type of properties not listed in `properties`, if any allowed:
    /// a free-form object allows anything unless it says otherwise.
    fn extra(&mut self, obj: &Map<String, Value>, depth: usize, indent: usize) -> Option<Ts> {
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => None,
            Some(schema @ Value::Object(_)) => Some(self.ty(schema, depth + 1, indent)),
            Some(_) => Some(Ts::unknown()),
            None if properties(obj).is_none() => Some(Ts::unknown()),
            None => None,
        }
    }

    /// The `{ ... }` block of an object with properties, members one per
    /// line at `indent + 1`.
    fn body(&mut self, obj: &Map<String, Value>, depth: usize, indent: usize) -> String {
        let inner = pad(indent + 1);
        let required = required(obj);
        let mut out = String::from("{\n");
        for (name, schema) in properties(obj).into_iter().flatten() {
            if let Some(description) = schema.get("description").and_then(Value::as_str) {
                out.push_str(&doc_comment(description, &inner));
            }
            let optional = if required.contains(name.as_str()) { "" } else { "?" };
            let ty = self.ty(schema, depth + 1, indent + 1);
            let _ = writeln!(out, "{inner}{}{optional}: {};", property_name(name), ty.text);
        }
        if let Some(extra) = self.extra(obj, depth, indent + 1) {
            // TypeScript wants every property's type to fit the index
            // signature's (TS2411): the other keys' type is told in words.
            match extra.text.as_str() {
                text if text == "unknown" || text.contains('\n') => {
                    let _ = writeln!(out, "{inner}[key: string]: unknown;");
                }
                other => {
                    let _ = writeln!(out, "{inner}[key: string]: unknown; // other keys: {other}");
                }
            }
        }
        out + &pad(indent) + "}"
    }
}

/// The members of a JSON array, or none.
fn as_list(value: &Value) -> &[Value] {
    value.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// A literal type for a primitive JSON value.
fn literal(value: &Value) -> Ts {
    match value {
        Value::String(text) => Ts::atom(js_string(text)),
        Value::Number(_) | Value::Bool(_) | Value::Null => Ts::atom(value.to_string()),
        _ => Ts::unknown(),
    }
}

/// A property name as written in a type: bare when it is an identifier
/// name, quoted otherwise.
fn property_name(name: &str) -> String {
    if is_identifier_name(name) { name.to_string() } else { js_string(name) }
}

/// `listCustomers` → `ListCustomers`.
fn type_prefix(export: &str) -> String {
    let mut chars = export.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// `export interface <name> {...}` for an object with properties, else
/// `export type <name> = ...;`. `$ref`s resolve against `root`.
fn declare_type(name: &str, root: &Value, schema: &Value) -> String {
    let mut converter = Converter::new(root);
    match schema.as_object() {
        Some(obj) if is_plain_object(obj) && properties(obj).is_some() => {
            format!("export interface {name} {}\n", converter.body(obj, 0, 0))
        }
        _ => format!("export type {name} = {};\n", converter.ty(schema, 0, 0).text),
    }
}

/// Whether the arguments object has required properties.
fn args_required(schema: &Value) -> bool {
    schema.as_object().is_some_and(|obj| !required(obj).is_empty())
}

/// The function, its aliases and its argument and result types.
fn declare_tool(export: &JsExport<'_>) -> String {
    let tool = export.tool;
    let name = &export.name;
    let prefix = type_prefix(name);
    let (args, result) = (format!("{prefix}Args"), format!("{prefix}Result"));
    let optional = if args_required(&tool.input_schema) { "" } else { "?" };
    let mut out = String::from("\n");
    if let Some(description) = &tool.description {
        out.push_str(&doc_comment(description, ""));
    }
    let _ = writeln!(out, "export function {name}(args{optional}: {args}): Promise<{result}>;");
    if let Some(alias) = &export.alias {
        let _ = writeln!(out, "export {{ {name} as {alias} }};");
    }
    out.push_str(&declare_type(&args, &tool.input_schema, &tool.input_schema));
    match &tool.output_schema {
        Some(schema) => out.push_str(&declare_type(&result, schema, unwrap_result(schema))),
        None => {
            let _ = writeln!(out, "export type {result} = unknown;");
        }
    }
    out
}

/// The header comment naming the server.
fn header(server: &str) -> String {
    format!("// Tools of MCP server {}.\n", js_string(server))
}

/// Declarations of every tool of `server`, sorted by tool name, as the
/// module `./servers/<server>` exports them.
pub fn ts_declarations(server: &str, tools: &[ToolDefinition]) -> String {
    ts_declarations_of(server, tools, &|_| true)
}

/// [`ts_declarations`] of the tools `keep` names only, each under the name
/// it has among all of `tools`.
pub fn ts_declarations_of(server: &str, tools: &[ToolDefinition], keep: &dyn Fn(&str) -> bool) -> String {
    let mut out = header(server);
    for export in js_exports(tools).iter().filter(|export| keep(&export.tool.name)) {
        out.push_str(&declare_tool(export));
    }
    out
}

/// Declarations of one tool, as the module `./servers/<server>/<tool>`
/// exports it (also as its default export).
pub fn ts_tool_declaration(server: &str, tool: &ToolDefinition) -> String {
    let mut out = header(server);
    for export in js_exports(std::slice::from_ref(tool)) {
        out.push_str(&declare_tool(&export));
        let _ = writeln!(out, "export default {};", export.name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, input: Value) -> ToolDefinition {
        ToolDefinition::new(name).input_schema(input)
    }

    fn ty(schema: Value) -> String {
        Converter::new(&schema).ty(&schema, 0, 0).text
    }

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
                "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                "id": {"anyOf": [{"type": "string"}, {"type": "number"}]},
                "default": {"type": "boolean"}
            },
            "required": ["status"],
            "$defs": {
                "Item": {
                    "type": "object",
                    "properties": {"sku": {"type": "string", "description": "Stock unit.\nUnique."}},
                    "required": ["sku"],
                    "additionalProperties": false
                }
            }
        });
        let tools = [tool("list_customers", input).description("Lists customers, newest first.")];
        let expected = r#"// Tools of MCP server "crm".

/** Lists customers, newest first. */
export function listCustomers(args: ListCustomersArgs): Promise<ListCustomersResult>;
export { listCustomers as list_customers };
export interface ListCustomersArgs {
  address?: {
    city: string;
    "zip code"?: string | null;
  };
  default?: boolean;
  id?: string | number;
  items?: {
    /**
     * Stock unit.
     * Unique.
     */
    sku: string;
  }[];
  /** Max rows. */
  limit?: number;
  status: "pending" | "paid";
  tags?: { [key: string]: string };
}
export type ListCustomersResult = unknown;
"#;
        assert_eq!(ts_declarations("crm", &tools), expected);
    }

    #[test]
    fn optional_args_and_result_from_output_schema() {
        let mut count = tool("count", json!({"type": "object"}));
        count.output_schema = Some(json!({"type": "object", "properties": {"result": {"type": "number"}}}));
        let mut stats = tool("stats", json!({"properties": {"q": {"type": "string"}}}));
        stats.output_schema = Some(json!({
            "type": "object",
            "properties": {"total": {"type": "integer"}},
            "required": ["total"]
        }));
        let text = ts_declarations("s", &[stats, count]);
        let expected = r#"// Tools of MCP server "s".

export function count(args?: CountArgs): Promise<CountResult>;
export type CountArgs = { [key: string]: unknown };
export type CountResult = number;

export function stats(args?: StatsArgs): Promise<StatsResult>;
export interface StatsArgs {
  q?: string;
}
export interface StatsResult {
  total: number;
}
"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn schema_kinds() {
        assert_eq!(ty(json!({"const": "x\"y"})), r#""x\"y""#);
        assert_eq!(ty(json!({"enum": [1, true, null, [1]]})), "1 | true | null | unknown");
        assert_eq!(
            ty(json!({"allOf": [{"type": "string"}, {"anyOf": [{"type": "null"}, {"type": "number"}]}]})),
            "string & (null | number)"
        );
        assert_eq!(ty(json!({"type": "array", "items": {"type": ["string", "number"]}})), "(string | number)[]");
        assert_eq!(
            ty(json!({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]})),
            "[string, number]"
        );
        assert_eq!(ty(json!({"type": "array"})), "unknown[]");
        assert_eq!(ty(json!({"type": "object", "additionalProperties": false})), "Record<string, never>");
        // Declared properties and typed others: an index signature every
        // property fits (TS2411), the others' type in a comment.
        let mixed = ty(
            json!({"type": "object", "properties": {"n": {"type": "number"}}, "additionalProperties": {"type": "string"}}),
        );
        assert!(mixed.contains("[key: string]: unknown; // other keys: string"), "{mixed}");
        assert_eq!(ty(json!({"type": "object"})), "{ [key: string]: unknown }");
        assert_eq!(ty(json!({"format": "uri"})), "unknown");
        assert_eq!(ty(json!({"enum": []})), "never");
        assert_eq!(ty(json!({"$ref": "#/definitions/missing"})), "unknown");
    }

    #[test]
    fn recursive_refs_end_in_unknown() {
        let schema = json!({
            "$ref": "#/$defs/Node",
            "$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}}
        });
        assert_eq!(ty(schema), "{\n  next?: unknown;\n}");
        assert_eq!(ty(json!({"$ref": "#"})), "unknown");
    }

    #[test]
    fn malformed_schemas_do_not_panic() {
        let bad = [
            json!({"type": 5}),
            json!({"properties": []}),
            json!({"type": "object", "properties": {"a": 5}, "required": [1, null]}),
            json!({"anyOf": "x", "allOf": {}}),
            json!({"type": "array", "items": 3, "prefixItems": "no"}),
            json!(null),
            json!([]),
            json!({"enum": "nope"}),
        ];
        for schema in bad {
            let mut t = tool("t", schema.clone());
            t.output_schema = Some(schema);
            let text = ts_declarations("s", &[t]);
            assert!(text.contains("export function t("), "{text}");
        }
    }

    #[test]
    fn fan_out_is_bounded() {
        // Each level refers to the next twice: 2^30 nodes if expanded fully.
        let mut defs = serde_json::Map::new();
        for i in 0..30 {
            let next = json!({"$ref": format!("#/$defs/d{}", i + 1)});
            defs.insert(format!("d{i}"), json!({"properties": {"a": next, "b": next}}));
        }
        let schema = json!({"$ref": "#/$defs/d0", "$defs": defs});
        assert!(ty(schema).len() < 1_000_000);
    }

    #[test]
    fn tool_declaration_and_determinism() {
        let tools = [
            tool("b-tool", json!({"properties": {"x": {"type": "string"}}, "required": ["x"]})),
            tool("a_tool", json!({})),
        ];
        assert_eq!(ts_declarations("s", &tools), ts_declarations("s", &tools));
        let one = ts_tool_declaration("s", &tools[0]);
        assert!(one.contains("export function bTool(args: BToolArgs): Promise<BToolResult>;"));
        assert!(one.ends_with("export default bTool;\n"));
        let all = ts_declarations("s", &tools);
        assert!(all.find("aTool").unwrap() < all.find("bTool").unwrap());
    }
}
