//! A Rust component built with wit-bindgen against the WIT generated for
//! the records server calls it with typed records; a schema change that
//! breaks its types fails at link time, naming the tool and the field.

use crate::support::{builder, runtime_with};
use airlock::{Error, LinkError, ToolDefinition};
use serde_json::{Value, json};

#[tokio::test]
async fn a_component_calls_a_real_server_with_typed_records() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let session = runtime.session().unwrap();
    let result = session.run_component(&airlock_fixtures::typed_records(), &json!(7)).await.expect("links and runs");
    assert!(result.is_success(), "{:?}", result.error);
    assert_eq!(result.value["id"], 7);
    assert_eq!(result.value["sum"], 42);
    assert!(["pending", "paid", "overdue"].contains(&result.value["status"].as_str().unwrap()));
    assert!(result.value["name"].as_str().is_some_and(|n| !n.is_empty()));
    assert_eq!(result.value["missing"], "failed");
    assert_eq!(result.stats.tool_calls, 3);
    runtime.shutdown().await;
}

/// A `records` server offering `get_record` (its `id` of `id_type`) and,
/// if `with_add`, `add`.
fn changed_records(id_type: &str, with_add: bool) -> airlock::RuntimeBuilder {
    let record_schema = json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "email": {"type": "string"},
            "status": {"type": "string", "enum": ["pending", "paid", "overdue"]}, "amount": {"type": "number"},
            "region": {"type": "string"}, "created": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}
        },
        "required": ["id", "name", "email", "status", "amount", "region", "created", "tags"]
    });
    let get_record = ToolDefinition {
        name: "get_record".into(),
        description: None,
        input_schema: json!({"type": "object", "properties": {"id": {"type": id_type}}, "required": ["id"]}),
        output_schema: Some(record_schema),
        annotations: None,
    };
    let add = ToolDefinition {
        name: "add".into(),
        description: None,
        input_schema: json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}),
        output_schema: Some(
            json!({"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}),
        ),
        annotations: None,
    };
    let unused = |_: Value| async { Ok(json!(null)) };
    let builder = builder().tool("records", get_record, unused);
    if with_add { builder.tool("records", add, unused) } else { builder }
}

#[tokio::test]
async fn a_schema_change_fails_at_link_time_naming_tool_and_field() {
    let runtime = changed_records("string", true).build().await.unwrap();
    let session = runtime.session().unwrap();
    let error = session.run_component(&airlock_fixtures::typed_records(), &json!(7)).await.expect_err("must not link");
    let Error::Link(LinkError::Mismatch { at, problem }) = &error else {
        panic!("expected a type mismatch, got {}", error.report())
    };
    assert!(at.contains("records.get_record") && at.contains("id"), "{at}");
    assert!(problem.contains("s64") && problem.contains("string"), "{problem}");
    // The cause is the error's source, and a report shows it.
    assert_eq!(std::error::Error::source(&error).map(ToString::to_string), Some(format!("{at}: {problem}")));
    assert!(error.report().to_string().starts_with("cannot link the component: records.get_record"));
}

#[tokio::test]
async fn a_tool_that_disappeared_fails_at_link_time() {
    // Same schemas, but the server no longer offers `add`.
    let runtime = changed_records("integer", false).build().await.unwrap();
    let session = runtime.session().unwrap();
    let error = session.run_component(&airlock_fixtures::typed_records(), &json!(7)).await.expect_err("must not link");
    assert!(
        matches!(&error, Error::Link(LinkError::ToolGone { server, function }) if server == "records" && function == "add")
    );
    assert!(error.report().to_string().contains("records.add: the server no longer offers this tool"), "{error}");
}
