//! Typed tool imports for components: the host implements a server's
//! generated WIT interface (`airlock-servers:<server>/tools`) dynamically,
//! converting between component values and JSON with the same mapping the
//! WIT was generated with. A component whose types no longer match the
//! server's schemas fails at link time, naming the tool and the field.

use std::sync::Arc;

use serde_json::{Map, Value};
use wasmtime::Engine;
use wasmtime::component::types::{ComponentFunc, ComponentItem, Type};
use wasmtime::component::{Component, InstancePre, Linker, Val};

use crate::boundary::Boundary;
use crate::codegen::{WitFunction, WitType, wit_functions};
use crate::error::LinkError;
use crate::registry::ToolRegistry;
use crate::sandbox::StoreState;
use crate::tool::ToolError;

/// The package prefix of generated server interfaces.
const SERVER_PACKAGE: &str = "airlock-servers:";

/// The server a component import names (`airlock-servers:crm/tools@0.1.0`
/// → `crm`), if it is a server interface.
fn server_of(import: &str) -> Option<&str> {
    let rest = import.strip_prefix(SERVER_PACKAGE)?;
    let (server, interface) = rest.split_once('/')?;
    (interface == "tools" || interface.starts_with("tools@")).then_some(server)
}

/// The servers whose typed interfaces `component` imports, in import order.
pub(crate) fn imported_servers(engine: &Engine, component: &Component) -> Vec<String> {
    let ty = component.component_type();
    ty.imports(engine).filter_map(|(import, _)| server_of(import).map(str::to_string)).collect()
}

/// The tools (`server.tool`) `component` calls through typed imports, as
/// far as the servers' current tools name them.
pub(crate) async fn typed_tools(engine: &Engine, component: &Component, tools: &ToolRegistry) -> Vec<String> {
    let ty = component.component_type();
    let mut called = Vec::new();
    for (import, item) in ty.imports(engine) {
        let (Some(server), ComponentItem::ComponentInstance(instance)) = (server_of(import), item.ty) else { continue };
        let Ok(definitions) = tools.tools(server).await else { continue };
        let functions = wit_functions(&definitions);
        for (name, _) in instance.exports(engine) {
            if let Some(function) = functions.iter().find(|f| f.wit_name == name) {
                called.push(format!("{server}.{}", function.tool));
            }
        }
    }
    called
}

/// Links a component of the `skill` world: WASI, the `airlock:runtime`
/// imports that world offers (types, tools) and its typed server imports,
/// checked against the servers' current schemas.
pub(crate) async fn link(
    engine: &Engine,
    component: &Component,
    tools: &Arc<ToolRegistry>,
) -> Result<InstancePre<StoreState>, LinkError> {
    let mut linker = crate::sandbox::skill_linker(engine).map_err(LinkError::wasmtime("the host interfaces"))?;
    link_server_imports(engine, component, &mut linker, tools).await?;
    linker.instantiate_pre(component).map_err(LinkError::wasmtime("the component's imports"))
}

/// Defines every server interface `component` imports in `linker`, after
/// checking its types against the servers' current schemas.
async fn link_server_imports(
    engine: &Engine,
    component: &Component,
    linker: &mut Linker<StoreState>,
    tools: &Arc<ToolRegistry>,
) -> Result<(), LinkError> {
    let ty = component.component_type();
    for (import, item) in ty.imports(engine) {
        let Some(server) = server_of(import) else { continue };
        let ComponentItem::ComponentInstance(instance) = item.ty else {
            return Err(LinkError::NotAnInterface { import: import.to_string() });
        };
        let definitions =
            tools.tools(server).await.map_err(|source| LinkError::Server { server: server.to_string(), source })?;
        let functions = wit_functions(&definitions);
        let server_name = server.to_string();
        let mut scope = linker.instance(import).map_err(LinkError::wasmtime(import))?;
        for (name, export) in instance.exports(engine) {
            let ComponentItem::ComponentFunc(func) = export.ty else { continue };
            let function = functions
                .iter()
                .find(|f| f.wit_name == name)
                .ok_or_else(|| LinkError::ToolGone { server: server.to_string(), function: name.to_string() })?;
            check_function(server, function, &func)?;
            let (function, server) = (Arc::new(function.clone()), server_name.clone());
            scope
                .func_new_async(name, move |mut store, func, params, results| {
                    let (function, server) = (function.clone(), server.clone());
                    Box::new(async move {
                        store.data_mut().count_tool_calls(1)?;
                        // Through the session's boundary, like calls from JS.
                        let boundary = store.data().boundary().clone();
                        let outcome = call(&boundary, &server, &function, params).await;
                        if boundary.halted() {
                            return Err(crate::sandbox::halt_trap(&boundary));
                        }
                        results[0] = result_val(outcome, &func, &function);
                        Ok(())
                    })
                })
                .map_err(LinkError::wasmtime(format!("{server_name}.{name}")))?;
        }
    }
    Ok(())
}

/// Checks the component's view of a tool against the server's schema.
fn check_function(server: &str, function: &WitFunction, func: &ComponentFunc) -> Result<(), LinkError> {
    let at = format!("{server}.{}", function.tool);
    let params: Vec<(&str, Type)> = func.params().collect();
    match (&function.params, params.as_slice()) {
        (None, []) => {}
        (Some(ours), [(_, theirs)]) => check_type(theirs, ours, &format!("{at} argument"))?,
        (None, _) => return Err(LinkError::mismatch(&at, "the tool now takes no arguments")),
        (Some(_), _) => return Err(LinkError::mismatch(&at, "the tool now takes one arguments record")),
    }
    let results: Vec<Type> = func.results().collect();
    let ok = match results.as_slice() {
        [Type::Result(result)] => result.ok(),
        _ => return Err(LinkError::mismatch(&at, "expected to return result<_, tool-error>")),
    };
    match ok {
        Some(theirs) => check_type(&theirs, &function.result, &format!("{at} result")),
        None => Err(LinkError::mismatch(&at, "expected to return a value")),
    }
}

/// Whether a component type and the server's mapped type agree.
fn check_type(theirs: &Type, ours: &WitType, at: &str) -> Result<(), LinkError> {
    match (theirs, ours) {
        (Type::S64, WitType::S64)
        | (Type::Float64, WitType::F64)
        | (Type::Bool, WitType::Bool)
        | (Type::String, WitType::String | WitType::Json) => Ok(()),
        (Type::Option(option), WitType::Option(inner)) => check_type(&option.ty(), inner, at),
        (Type::List(list), WitType::List(inner)) => check_type(&list.ty(), inner, &format!("{at}[]")),
        (Type::Record(record), WitType::Record { fields, .. }) => {
            for field in record.fields() {
                let ours = fields.iter().find(|(wit, _, _)| wit == field.name).ok_or_else(|| {
                    LinkError::mismatch(at, format!("field `{}` is no longer in the server's schema", field.name))
                })?;
                check_type(&field.ty, &ours.2, &format!("{at}.{}", field.name))?;
            }
            match fields
                .iter()
                .find(|(wit, _, ty)| !matches!(ty, WitType::Option(_)) && !record.fields().any(|f| f.name == wit))
            {
                Some((wit, _, _)) => {
                    Err(LinkError::mismatch(at, format!("the server's schema now requires field `{wit}`")))
                }
                None => Ok(()),
            }
        }
        (Type::Enum(theirs), WitType::Enum { cases, .. }) => {
            let mut their_cases: Vec<&str> = theirs.names().collect();
            let mut our_cases: Vec<&str> = cases.iter().map(|(wit, _)| wit.as_str()).collect();
            their_cases.sort_unstable();
            our_cases.sort_unstable();
            if their_cases == our_cases {
                Ok(())
            } else {
                Err(LinkError::mismatch(
                    at,
                    format!("the allowed values changed to {our_cases:?} (the component knows {their_cases:?})"),
                ))
            }
        }
        (theirs, ours) => Err(LinkError::mismatch(
            at,
            format!("the component expects {}, the server's schema now gives {}", describe(theirs), ours.describe()),
        )),
    }
}

fn describe(ty: &Type) -> String {
    match ty {
        Type::S64 => "s64".into(),
        Type::Float64 => "f64".into(),
        Type::Bool => "bool".into(),
        Type::String => "string".into(),
        Type::Option(_) => "an option".into(),
        Type::List(_) => "a list".into(),
        Type::Record(_) => "a record".into(),
        Type::Enum(_) => "an enum".into(),
        other => format!("{other:?}"),
    }
}

/// Runs the tool with the component's arguments converted to JSON.
async fn call(boundary: &Boundary, server: &str, function: &WitFunction, params: &[Val]) -> Result<Value, ToolError> {
    let arguments = match (&function.params, params.first()) {
        (Some(ty), Some(val)) => to_json(val, ty),
        _ => Value::Object(Map::new()),
    };
    let index = boundary.claim();
    let text = boundary.call_json(index, server, &function.tool, &arguments.to_string()).await?;
    serde_json::from_str(&text)
        .map_err(|e| ToolError::Failed(format!("{}: the result is not JSON: {e}", function.tool)))
}

/// The component's `result<T, tool-error>` for an outcome.
fn result_val(outcome: Result<Value, ToolError>, func: &ComponentFunc, function: &WitFunction) -> Val {
    let ok_type = func.results().next().and_then(|t| match t {
        Type::Result(result) => result.ok(),
        _ => None,
    });
    let converted = outcome.and_then(|value| match &ok_type {
        Some(ty) => from_json(&value, ty, &function.result)
            .map_err(|e| ToolError::Failed(format!("{}: the result does not match its schema: {e}", function.tool))),
        None => Ok(Val::Bool(false)),
    });
    match converted {
        Ok(val) => Val::Result(Ok(Some(Box::new(val)))),
        Err(error) => {
            let (case, message) = (error.kind().to_string(), error.message().to_string());
            Val::Result(Err(Some(Box::new(Val::Variant(case, Some(Box::new(Val::String(message))))))))
        }
    }
}

/// A component value → JSON, by the server's mapping.
fn to_json(val: &Val, ty: &WitType) -> Value {
    match (val, ty) {
        (Val::String(text), WitType::Json) => serde_json::from_str(text).unwrap_or(Value::String(text.clone())),
        (Val::String(text), _) => Value::String(text.clone()),
        (Val::S64(n), _) => Value::from(*n),
        (Val::Float64(x), _) => serde_json::Number::from_f64(*x).map_or(Value::Null, Value::Number),
        (Val::Bool(b), _) => Value::Bool(*b),
        (Val::Option(None), _) => Value::Null,
        (Val::Option(Some(inner)), WitType::Option(ty)) => to_json(inner, ty),
        (Val::List(items), WitType::List(ty)) => Value::Array(items.iter().map(|v| to_json(v, ty)).collect()),
        (Val::Enum(case), WitType::Enum { cases, .. }) => {
            let value = cases.iter().find(|(wit, _)| wit == case).map_or(case.as_str(), |(_, json)| json.as_str());
            Value::String(value.to_string())
        }
        (Val::Record(values), WitType::Record { fields, .. }) => {
            let mut object = Map::new();
            for (name, value) in values {
                let Some((_, json_name, field_ty)) = fields.iter().find(|(wit, _, _)| wit == name) else { continue };
                // An absent optional field is left out, not sent as null.
                if !matches!(value, Val::Option(None)) {
                    object.insert(json_name.clone(), to_json(value, field_ty));
                }
            }
            Value::Object(object)
        }
        _ => Value::Null,
    }
}

/// JSON → a component value of type `ty`, by the server's mapping.
fn from_json(value: &Value, ty: &Type, ours: &WitType) -> Result<Val, String> {
    let mismatch = || format!("expected {}, got {value}", describe(ty));
    Ok(match (ty, ours) {
        (Type::String, WitType::Json) => Val::String(value.to_string()),
        (Type::String, _) => Val::String(value.as_str().ok_or_else(mismatch)?.to_string()),
        (Type::S64, _) => Val::S64(value.as_i64().ok_or_else(mismatch)?),
        (Type::Float64, _) => Val::Float64(value.as_f64().ok_or_else(mismatch)?),
        (Type::Bool, _) => Val::Bool(value.as_bool().ok_or_else(mismatch)?),
        (Type::Option(option), WitType::Option(inner)) => match value {
            Value::Null => Val::Option(None),
            other => Val::Option(Some(Box::new(from_json(other, &option.ty(), inner)?))),
        },
        (Type::List(list), WitType::List(inner)) => {
            let items = value.as_array().ok_or_else(mismatch)?;
            Val::List(items.iter().map(|item| from_json(item, &list.ty(), inner)).collect::<Result<_, _>>()?)
        }
        (Type::Enum(_), WitType::Enum { cases, .. }) => {
            let text = value.as_str().ok_or_else(mismatch)?;
            let case = cases.iter().find(|(_, json)| json == text).ok_or_else(|| format!("unknown value {value}"))?;
            Val::Enum(case.0.clone())
        }
        (Type::Record(record), WitType::Record { fields, .. }) => {
            let object = value.as_object().ok_or_else(mismatch)?;
            let mut values = Vec::new();
            for field in record.fields() {
                let (_, json_name, field_ty) = fields
                    .iter()
                    .find(|(wit, _, _)| wit == field.name)
                    .ok_or_else(|| format!("no field {}", field.name))?;
                let field_value = object.get(json_name).unwrap_or(&Value::Null);
                let val = from_json(field_value, &field.ty, field_ty).map_err(|e| format!("{}: {e}", field.name))?;
                values.push((field.name.to_string(), val));
            }
            Val::Record(values)
        }
        _ => return Err(mismatch()),
    })
}

#[cfg(test)]
mod tests {
    use super::server_of;

    #[test]
    fn server_interfaces_are_recognised_by_name() {
        assert_eq!(server_of("airlock-servers:crm/tools@0.1.0"), Some("crm"));
        assert_eq!(server_of("airlock-servers:crm/tools"), Some("crm"));
        assert_eq!(server_of("wasi:cli/stdout@0.2.6"), None);
        assert_eq!(server_of("airlock-servers:crm/other"), None);
    }
}
