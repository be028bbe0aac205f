//! The WIT interface of a server: one function per tool, with records and
//! enums derived from the JSON Schemas. [`wit_functions`] is the mapping as
//! data (the host implements these functions dynamically from it);
//! [`wit_interface`] renders that same data as a WIT document.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value};

use super::naming::{Namer, escape_wit, unique_names, wit_label};
use super::schema::{MAX_DEPTH, MAX_NODES, properties, required, resolve_ref, takes_no_args, unwrap_result};
use super::{comment_lines, sorted};
use crate::tool::ToolDefinition;

/// Names every generated interface declares itself.
const BUILTIN_TYPES: &[&str] = &["json", "tool-error"];

/// A WIT type mapped from a JSON Schema. Names are WIT labels without the
/// `%` keyword escape, as the component model sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WitType {
    /// `s64`, from `integer`.
    S64,
    /// `f64`, from `number`.
    F64,
    /// `bool`, from `boolean`.
    Bool,
    /// `string`, from `string`.
    String,
    /// `json` (JSON text), for anything without a closer mapping.
    Json,
    /// `option<T>`, for a property that is not required.
    Option(Box<WitType>),
    /// `list<T>`, from an array with `items`.
    List(Box<WitType>),
    /// A record, from an object with properties.
    Record {
        /// The record's type name.
        name: String,
        /// `(WIT field name, JSON property name, type)`, in property order.
        fields: Vec<(String, String, WitType)>,
    },
    /// An enum, from a string `enum`.
    Enum {
        /// The enum's type name.
        name: String,
        /// `(WIT case name, JSON string value)`, in schema order.
        cases: Vec<(String, String)>,
    },
}

/// One tool as a WIT function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitFunction {
    /// The MCP tool name.
    pub tool: String,
    /// The function's WIT name, without the `%` keyword escape.
    pub wit_name: String,
    /// The type of the single `args` parameter; `None` when the tool takes
    /// no arguments.
    pub params: Option<WitType>,
    /// The `ok` type of the function's `result<_, tool-error>`.
    pub result: WitType,
}

/// Maps the schemas of one interface, handing out its type names.
struct Mapper<'a> {
    /// The schema `$ref`s resolve against.
    root: &'a Value,
    /// `$ref`s being expanded, to cut recursion.
    refs: Vec<String>,
    /// Schema nodes left to visit.
    budget: usize,
    /// Every type and function name in the interface.
    names: &'a mut Namer,
}

impl Mapper<'_> {
    /// The type of `schema`; `hint` names any record or enum it creates.
    fn map(&mut self, schema: &Value, hint: &str, depth: usize) -> WitType {
        if depth > MAX_DEPTH || self.budget == 0 {
            return WitType::Json;
        }
        self.budget -= 1;
        let Some(obj) = schema.as_object() else {
            return WitType::Json;
        };
        if let Some(reference) = obj.get("$ref") {
            return self.reference(reference, hint, depth);
        }
        if let Some(only) = single_alternative(obj) {
            return self.map(only, hint, depth + 1);
        }
        if ["anyOf", "oneOf", "allOf", "const"].iter().any(|k| obj.contains_key(*k)) {
            return WitType::Json;
        }
        if let Some(values) = string_enum(obj) {
            return self.enumeration(values, hint);
        }
        match type_name(obj) {
            Some("object") => self.record(obj, hint, depth),
            Some("integer") => WitType::S64,
            Some("number") => WitType::F64,
            Some("boolean") => WitType::Bool,
            Some("string") => WitType::String,
            Some("array") => self.list(obj, hint, depth),
            _ => WitType::Json,
        }
    }

    /// A `$ref`, expanded in place unless it is already being expanded.
    fn reference(&mut self, reference: &Value, hint: &str, depth: usize) -> WitType {
        let key = reference.to_string();
        match resolve_ref(self.root, reference) {
            Some(target) if !self.refs.contains(&key) => {
                self.refs.push(key);
                let ty = self.map(target, hint, depth + 1);
                self.refs.pop();
                ty
            }
            _ => WitType::Json,
        }
    }

    /// An enum when every value is a string with its own WIT case, else
    /// plain `string`.
    fn enumeration(&mut self, values: Vec<&str>, hint: &str) -> WitType {
        let cases: Vec<(String, String)> = values.iter().map(|value| (wit_label(value), value.to_string())).collect();
        let distinct: BTreeSet<&str> = cases.iter().map(|(case, _)| case.as_str()).collect();
        if distinct.len() != cases.len() {
            return WitType::String;
        }
        let name = self.names.claim(hint);
        WitType::Enum { name, cases }
    }

    /// A record for an object with properties; `json` for a free-form one.
    fn record(&mut self, obj: &Map<String, Value>, hint: &str, depth: usize) -> WitType {
        let Some(props) = properties(obj) else {
            return WitType::Json;
        };
        let name = self.names.claim(hint);
        let required = required(obj);
        let mut labels = Namer::default();
        let mut fields = Vec::new();
        for (property, schema) in props {
            let label = labels.claim(&wit_label(property));
            let mut ty = self.map(schema, &format!("{name}-{label}"), depth + 1);
            if !required.contains(property.as_str()) {
                ty = WitType::Option(Box::new(ty));
            }
            fields.push((label, property.clone(), ty));
        }
        WitType::Record { name, fields }
    }

    /// `list<T>` for an array whose `items` is one schema.
    fn list(&mut self, obj: &Map<String, Value>, hint: &str, depth: usize) -> WitType {
        match obj.get("items") {
            Some(items @ Value::Object(_)) => {
                let item = self.map(items, &format!("{hint}-item"), depth + 1);
                WitType::List(Box::new(item))
            }
            _ => WitType::Json,
        }
    }
}

/// The one member of a single-member `anyOf`/`oneOf`/`allOf` (a common way
/// to attach a description to a `$ref`).
fn single_alternative(obj: &Map<String, Value>) -> Option<&Value> {
    let mut lists = ["anyOf", "oneOf", "allOf"].iter().filter_map(|k| obj.get(*k));
    match (lists.next(), lists.next()) {
        (Some(Value::Array(members)), None) if members.len() == 1 => members.first(),
        _ => None,
    }
}

/// The values of a non-empty `enum` made only of strings, for a schema of
/// type string (or no type).
fn string_enum(obj: &Map<String, Value>) -> Option<Vec<&str>> {
    if !matches!(type_name(obj), None | Some("string")) {
        return None;
    }
    let values = obj.get("enum")?.as_array()?;
    let strings: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
    (!strings.is_empty() && strings.len() == values.len()).then_some(strings)
}

/// The single type a schema names (`"x"` or `["x"]`), or `object`/`array`
/// inferred from `properties`/`items`; `None` for none or several.
fn type_name(obj: &Map<String, Value>) -> Option<&str> {
    match obj.get("type") {
        Some(Value::String(name)) => Some(name),
        Some(Value::Array(names)) if names.len() == 1 => names.first().and_then(Value::as_str),
        Some(_) => None,
        None if obj.contains_key("properties") => Some("object"),
        None if obj.contains_key("items") => Some("array"),
        None => None,
    }
}

/// Whether a result type is worth typing; anything else stays `json`.
fn typed_result(ty: &WitType) -> bool {
    matches!(
        ty,
        WitType::Record { .. } | WitType::Enum { .. } | WitType::S64 | WitType::F64 | WitType::Bool | WitType::String
    )
}

/// Maps one schema of a tool with a fresh budget.
fn map_schema(names: &mut Namer, root: &Value, schema: &Value, hint: &str) -> WitType {
    let mut mapper = Mapper { root, refs: Vec::new(), budget: MAX_NODES, names };
    mapper.map(schema, hint, 0)
}

/// The tools (sorted by name) as WIT functions, with every function and
/// type name distinct within the interface.
pub fn wit_functions(tools: &[ToolDefinition]) -> Vec<WitFunction> {
    let tools = sorted(tools);
    // The built-in types go first so they keep their names: a tool called
    // `json` becomes `json2`.
    let names: Vec<String> =
        BUILTIN_TYPES.iter().map(|name| name.to_string()).chain(tools.iter().map(|t| t.name.clone())).collect();
    let labels = unique_names(&names, wit_label);
    let mut namer = Namer::default();
    for label in &labels {
        namer.reserve(label);
    }
    let wit_names = labels.into_iter().skip(BUILTIN_TYPES.len());
    tools.into_iter().zip(wit_names).map(|(tool, wit_name)| function(&mut namer, tool, wit_name)).collect()
}

/// One tool's function; its types are named `<function>-args…` and
/// `<function>-result…`.
fn function(namer: &mut Namer, tool: &ToolDefinition, wit_name: String) -> WitFunction {
    let input = &tool.input_schema;
    let params = (!takes_no_args(input)).then(|| map_schema(namer, input, input, &format!("{wit_name}-args")));
    let result = match &tool.output_schema {
        Some(schema) => {
            let hint = format!("{wit_name}-result");
            map_schema(namer, schema, unwrap_result(schema), &hint)
        }
        None => WitType::Json,
    };
    WitFunction {
        tool: tool.name.clone(),
        wit_name,
        params,
        result: if typed_result(&result) { result } else { WitType::Json },
    }
}

/// How a type is referred to in WIT text.
fn type_ref(ty: &WitType) -> String {
    match ty {
        WitType::S64 => "s64".to_string(),
        WitType::F64 => "f64".to_string(),
        WitType::Bool => "bool".to_string(),
        WitType::String => "string".to_string(),
        WitType::Json => "json".to_string(),
        WitType::Option(inner) => format!("option<{}>", type_ref(inner)),
        WitType::List(inner) => format!("list<{}>", type_ref(inner)),
        WitType::Record { name, .. } | WitType::Enum { name, .. } => escape_wit(name),
    }
}

/// Appends the definitions of the records and enums `ty` uses (itself
/// first), skipping names already defined.
fn define_types(ty: &WitType, defined: &mut BTreeSet<String>, out: &mut String) {
    match ty {
        WitType::Option(inner) | WitType::List(inner) => define_types(inner, defined, out),
        WitType::Record { name, fields } => {
            if defined.insert(name.clone()) {
                let _ = writeln!(out, "\n  record {} {{", escape_wit(name));
                for (label, _, field) in fields {
                    let _ = writeln!(out, "    {}: {},", escape_wit(label), type_ref(field));
                }
                out.push_str("  }\n");
            }
            for (_, _, field) in fields {
                define_types(field, defined, out);
            }
        }
        WitType::Enum { name, cases } => {
            if !defined.insert(name.clone()) {
                return;
            }
            let _ = writeln!(out, "\n  enum {} {{", escape_wit(name));
            for (label, _) in cases {
                let _ = writeln!(out, "    {},", escape_wit(label));
            }
            out.push_str("  }\n");
        }
        _ => {}
    }
}

/// `/// ...` lines at `indent`.
fn doc_lines(text: &str, indent: &str) -> String {
    let mut out = String::new();
    for line in comment_lines(text) {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}///");
        } else {
            let _ = writeln!(out, "{indent}/// {line}");
        }
    }
    out
}

/// The function declaration of one tool.
fn declare_function(function: &WitFunction, description: Option<&str>, out: &mut String) {
    out.push('\n');
    if let Some(description) = description {
        out.push_str(&doc_lines(description, "  "));
    }
    let params = match &function.params {
        Some(ty) => format!("args: {}", type_ref(ty)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "  {}: func({params}) -> result<{}, tool-error>;",
        escape_wit(&function.wit_name),
        type_ref(&function.result)
    );
}

/// The fixed head of every interface: `json` and `tool-error`.
const PRELUDE: &str = "  /// JSON text.
  type json = string;

  /// Why a tool call failed.
  variant tool-error {
    not-found(string),
    denied(string),
    invalid-arguments(string),
    failed(string),
    unavailable(string),
  }
";

/// A WIT document with package `airlock-servers:<server>@0.1.0` and one
/// interface `tools` holding a function per tool.
pub fn wit_interface(server: &str, tools: &[ToolDefinition]) -> String {
    let functions = wit_functions(tools);
    let mut out = format!("package airlock-servers:{}@0.1.0;\n\n", escape_wit(&wit_label(server)));
    out.push_str(&doc_lines(&format!("Tools of MCP server `{server}`."), ""));
    out.push_str("interface tools {\n");
    out.push_str(PRELUDE);
    let mut defined = BTreeSet::new();
    for function in &functions {
        for ty in function.params.iter().chain([&function.result]) {
            define_types(ty, &mut defined, &mut out);
        }
    }
    // `wit_functions` keeps the sorted order, so the tools line up.
    for (function, tool) in functions.iter().zip(sorted(tools)) {
        declare_function(function, tool.description.as_deref(), &mut out);
    }
    out + "}\n"
}

impl WitType {
    /// The type as WIT writes it, for messages (`option<s64>`, `record get-args`).
    pub fn describe(&self) -> String {
        match self {
            WitType::S64 => "s64".into(),
            WitType::F64 => "f64".into(),
            WitType::Bool => "bool".into(),
            WitType::String => "string".into(),
            WitType::Json => "json".into(),
            WitType::Option(inner) => format!("option<{}>", inner.describe()),
            WitType::List(inner) => format!("list<{}>", inner.describe()),
            WitType::Record { name, .. } => format!("record {name}"),
            WitType::Enum { name, .. } => format!("enum {name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str, input: Value) -> ToolDefinition {
        ToolDefinition::new(name).input_schema(input)
    }

    fn params(input: Value) -> Option<WitType> {
        wit_functions(&[tool("t", input)]).remove(0).params
    }

    fn record(name: &str, fields: Vec<(&str, &str, WitType)>) -> WitType {
        WitType::Record {
            name: name.to_string(),
            fields: fields.into_iter().map(|(l, p, t)| (l.to_string(), p.to_string(), t)).collect(),
        }
    }

    fn opt(ty: WitType) -> WitType {
        WitType::Option(Box::new(ty))
    }

    #[test]
    fn example_interface() {
        let list = tool(
            "list_customers",
            json!({
                "type": "object",
                "properties": {
                    "limit": {"type": "integer", "description": "Max rows."},
                    "status": {"type": "string", "enum": ["pending", "paid"]}
                },
                "required": ["status"]
            }),
        )
        .description("Lists customers, newest first.");
        let expected = "package airlock-servers:crm@0.1.0;

/// Tools of MCP server `crm`.
interface tools {
  /// JSON text.
  type json = string;

  /// Why a tool call failed.
  variant tool-error {
    not-found(string),
    denied(string),
    invalid-arguments(string),
    failed(string),
    unavailable(string),
  }

  record list-customers-args {
    limit: option<s64>,
    status: list-customers-args-status,
  }

  enum list-customers-args-status {
    pending,
    paid,
  }

  /// Lists customers, newest first.
  list-customers: func(args: list-customers-args) -> result<json, tool-error>;

  ping: func() -> result<json, tool-error>;
}
";
        assert_eq!(wit_interface("crm", &[tool("ping", json!({"type": "object"})), list]), expected);
    }

    #[test]
    fn primitives_lists_and_options() {
        let input = json!({
            "properties": {
                "n": {"type": "integer"},
                "x": {"type": "number"},
                "b": {"type": ["boolean"]},
                "s": {"type": "string"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "rows": {"type": "array", "items": {"properties": {"id": {"type": "integer"}}, "required": ["id"]}}
            },
            "required": ["n", "x", "b", "s", "tags", "rows"]
        });
        let rows = record("t-args-rows-item", vec![("id", "id", WitType::S64)]);
        let expected = record(
            "t-args",
            vec![
                ("b", "b", WitType::Bool),
                ("n", "n", WitType::S64),
                ("rows", "rows", WitType::List(Box::new(rows))),
                ("s", "s", WitType::String),
                ("tags", "tags", WitType::List(Box::new(WitType::String))),
                ("x", "x", WitType::F64),
            ],
        );
        assert_eq!(params(input), Some(expected));
    }

    #[test]
    fn everything_else_is_json() {
        for schema in [
            json!({}),
            json!({"type": "null"}),
            json!({"type": ["string", "null"]}),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"type": "object", "additionalProperties": true}),
            json!({"type": "array"}),
            json!({"const": "x"}),
            json!({"type": 5}),
            json!({"properties": []}),
            json!({"$ref": "#/nowhere"}),
        ] {
            let input = json!({"properties": {"p": schema}, "required": ["p"]});
            let expected = record("t-args", vec![("p", "p", WitType::Json)]);
            assert_eq!(params(input), Some(expected), "{schema}");
        }
    }

    #[test]
    fn enums_fall_back_to_string() {
        let cases = |schema: Value| params(json!({"properties": {"e": schema}, "required": ["e"]}));
        let clash = cases(json!({"enum": ["a-b", "a_b"]}));
        assert_eq!(clash, Some(record("t-args", vec![("e", "e", WitType::String)])));
        let numbers = cases(json!({"type": "integer", "enum": [1, 2]}));
        assert_eq!(numbers, Some(record("t-args", vec![("e", "e", WitType::S64)])));
        let keywords = cases(json!({"enum": ["list", "In Progress", "2x"]}));
        let cases = vec![
            ("list".to_string(), "list".to_string()),
            ("in-progress".to_string(), "In Progress".to_string()),
            ("x2x".to_string(), "2x".to_string()),
        ];
        let e = WitType::Enum { name: "t-args-e".to_string(), cases };
        assert_eq!(keywords, Some(record("t-args", vec![("e", "e", e)])));
    }

    #[test]
    fn refs_resolve_and_recursion_stops() {
        let input = json!({
            "properties": {"node": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"properties": {"next": {"$ref": "#/$defs/Node"}}}}
        });
        let node = record("t-args-node", vec![("next", "next", opt(WitType::Json))]);
        let expected = record("t-args", vec![("node", "node", opt(node))]);
        assert_eq!(params(input), Some(expected));
    }

    #[test]
    fn params_and_results() {
        let mut count = tool("count", json!({"type": "object", "properties": {}}));
        count.output_schema = Some(json!({"properties": {"result": {"type": "integer"}}}));
        let mut stats = tool("stats", json!({"type": "object", "additionalProperties": {"type": "string"}}));
        stats.output_schema = Some(json!({"type": "object", "properties": {"total": {"type": "number"}}}));
        let mut free = tool("free", json!({"anyOf": []}));
        free.output_schema = Some(json!({"type": "object"}));
        let functions = wit_functions(&[stats, free, count]);
        let names: Vec<&str> = functions.iter().map(|f| f.wit_name.as_str()).collect();
        assert_eq!(names, ["count", "free", "stats"]);
        assert_eq!(functions[0].params, None);
        assert_eq!(functions[0].result, WitType::S64);
        assert_eq!(functions[1].params, Some(WitType::Json));
        assert_eq!(functions[1].result, WitType::Json);
        assert_eq!(functions[2].params, Some(WitType::Json));
        let total = record("stats-result", vec![("total", "total", opt(WitType::F64))]);
        assert_eq!(functions[2].result, total);
    }

    #[test]
    fn names_are_escaped_and_distinct() {
        let input = json!({
            "properties": {"type": {"type": "string"}, "Type": {"type": "string"}, "list": {"type": "integer"}}
        });
        let tools =
            [tool("type", input), tool("json", json!({})), tool("type_args", json!({})), tool("tool-error", json!({}))];
        let text = wit_interface("world", &tools);
        assert!(text.starts_with("package airlock-servers:%world@0.1.0;"));
        let record = "  record type-args2 {
    %type: option<string>,
    %list: option<s64>,
    type2: option<string>,
  }";
        assert!(text.contains(record), "{text}");
        assert!(text.contains("  %type: func(args: type-args2) -> result<json, tool-error>;"));
        assert!(text.contains("  json2: func() -> result<json, tool-error>;"));
        assert!(text.contains("  tool-error2: func() -> result<json, tool-error>;"));
        assert!(text.contains("  type-args: func() -> result<json, tool-error>;"));
    }

    #[test]
    fn deterministic_and_total() {
        let tools = [
            tool("b", json!({"properties": {"x": {"enum": ["a", "b"]}, "y": {"items": {"properties": {"z": {}}}}}})),
            tool("a", json!({"type": 5, "properties": [], "required": {}})),
            tool("c", json!("not a schema")),
        ];
        assert_eq!(wit_interface("s", &tools), wit_interface("s", &tools));
        assert_eq!(wit_functions(&tools), wit_functions(&tools));
        let hostile = tool("d", json!({})).description("line\u{202e}one\r\nline\u{7}two");
        let text = wit_interface("s", &[hostile]);
        assert!(text.contains("  /// line one\n  /// line two\n"), "{text}");
    }
}
