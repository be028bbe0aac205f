//! Component skills called from agent code: `import { run } from
//! "./skills/<name>"` runs the component in an instance of its own, under
//! what is left of the calling execution's budget, its tool calls crossing
//! the caller's boundary.

use std::collections::BTreeMap;
use std::path::Path;

use crate::support::{assert_ok, builder, config_with, run_in};
use airlock::skills::{NewSkill, SkillLanguage, SkillManifest, SkillStore};
use airlock::{ExecutionError, ExecutionResult, Language, Limit, Limits, Runtime, ToolDefinition};
use serde_json::{Value, json};

/// Saves `wasm` as the component skill `name` in `folder`.
fn install(folder: &Path, name: &str, wasm: &[u8]) {
    let manifest = SkillManifest {
        name: name.into(),
        description: "A test component.".into(),
        language: SkillLanguage::Component,
        version: "1.0.0".into(),
        code_sha256: String::new(),
        tools: BTreeMap::new(),
    };
    let skill = NewSkill { manifest, documentation: "", code: wasm };
    SkillStore::new(vec![folder.to_path_buf()]).save(skill, true).expect("saved");
}

async fn runtime(folder: &Path, servers: &[&str]) -> Runtime {
    builder()
        .config(&config_with(servers, Value::Null))
        .skill_folders(vec![folder.to_path_buf()])
        .build()
        .await
        .expect("runtime")
}

async fn run(runtime: &Runtime, code: &str, limits: &Limits) -> ExecutionResult {
    run_in(&runtime.session().unwrap(), code, Language::JavaScript, limits).await
}

fn limit_of(result: &ExecutionResult) -> Option<Limit> {
    match &result.error {
        Some(ExecutionError::Limit { limit, .. }) => Some(*limit),
        _ => None,
    }
}

#[tokio::test]
async fn a_component_skill_runs_and_what_it_spends_is_charged_to_the_caller() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "limits", &airlock_fixtures::limits_skill());
    let runtime = runtime(dir.path(), &["records"]).await;
    let code = |count: u64| {
        format!(
            r#"import {{ run }} from "./skills/limits";
               import spin from "./skills/limits";
               import {{ runSkill }} from "airlock";
               console.log(JSON.stringify(await run({{ count: {count}, calls: 3 }})));
               console.log(spin === run, JSON.stringify(await runSkill("limits", {{ count: 3 }})));"#
        )
    };
    let small = run(&runtime, &code(10), &Limits::default()).await;
    assert_ok(&small);
    assert_eq!(small.stdout, "{\"calls\":3,\"sum\":45}\ntrue {\"calls\":0,\"sum\":3}\n");
    assert_eq!(small.stats.tool_calls, 3, "the skill's tool calls count for the caller");

    let big = run(&runtime, &code(2_000_000), &Limits::default()).await;
    assert_ok(&big);
    assert!(big.stdout.starts_with("{\"calls\":3,\"sum\":1999999000000}"), "{}", big.stdout);
    assert!(
        big.stats.fuel_used >= small.stats.fuel_used + 2_000_000,
        "the skill's fuel is charged to the caller: {} vs {}",
        big.stats.fuel_used,
        small.stats.fuel_used
    );
}

#[tokio::test]
async fn every_limit_a_component_skill_exhausts_ends_the_calling_execution() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "limits", &airlock_fixtures::limits_skill());
    let runtime = runtime(dir.path(), &["records"]).await;
    // The caller catches what it can; a limit is not something it can catch.
    let call = |input: &str| {
        format!(
            r#"import {{ run }} from "./skills/limits";
               try {{ await run({input}); console.log("returned"); }} catch (e) {{ console.log("caught", e.message); }}"#
        )
    };
    let cases = [
        ("{ forever: true }", Limits { fuel: 200_000_000, ..Limits::default() }, Limit::Fuel),
        (
            "{ forever: true }",
            Limits { timeout: std::time::Duration::from_millis(300), ..Limits::default() },
            Limit::Timeout,
        ),
        ("{ calls: 5 }", Limits { tool_calls: 2, ..Limits::default() }, Limit::ToolCalls),
        ("{ print: 1000 }", Limits { stdout_bytes: 2_000, ..Limits::default() }, Limit::Output),
    ];
    for (input, limits, expected) in cases {
        let result = run(&runtime, &call(input), &limits).await;
        assert_eq!(limit_of(&result), Some(expected), "{input}: {:?}\n{}", result.error, result.stdout);
        assert!(!result.stdout.contains("caught") && !result.stdout.contains("returned"), "{}", result.stdout);
    }
    // The runtime keeps serving.
    let after = run(&runtime, &call("{ count: 4 }"), &Limits::default()).await;
    assert_ok(&after);
    assert_eq!(after.stdout, "returned\n");
}

#[tokio::test]
async fn skills_that_cannot_run_fail_with_a_catchable_error() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "limits", &airlock_fixtures::limits_skill());
    install(dir.path(), "not-a-component", b"plain bytes");
    install(dir.path(), "tampered", &airlock_fixtures::limits_skill());
    let wasm = dir.path().join("tampered/skill.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let runtime = runtime(dir.path(), &[]).await;
    let code = r#"import { runSkill } from "airlock";
        for (const [name, input] of [["nope", 1], ["not-a-component", 1], ["tampered", 1], ["limits", { calls: 1 }]]) {
            try { await runSkill(name, input); console.log(name, "ran"); } catch (e) { console.log(name, "|", e.message); }
        }"#;
    let result = run(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], "nope | no skill 'nope'");
    assert!(
        lines[1].starts_with("not-a-component | skill 'not-a-component': skill.wasm is not a WebAssembly component"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("tampered | skill 'tampered' is refused: its code does not match SKILL.md"),
        "{}",
        lines[2]
    );
    assert!(lines[3].starts_with("limits | skill 'limits' failed: not-found: no server 'records'"), "{}", lines[3]);
}

/// A `records` server whose `get_record` takes an `id` of `id_type`, and `add`.
fn records_with_id(id_type: &str) -> airlock::RuntimeBuilder {
    let get_record = ToolDefinition::new("get_record")
        .input_schema(json!({"type": "object", "properties": {"id": {"type": id_type}}, "required": ["id"]}));
    let add = ToolDefinition::new("add")
        .input_schema(json!({"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]}))
        .output_schema(json!({"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}));
    builder()
        .tool("records", get_record, |_: Value| async { Ok(json!(null)) })
        .tool("records", add, |_: Value| async { Ok(json!(null)) })
}

#[tokio::test]
async fn a_component_skill_with_typed_imports_runs_and_fails_to_load_after_a_schema_change() {
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "record-sum", &airlock_fixtures::typed_records());
    let code = r#"import { run } from "./skills/record-sum";
        try { console.log(JSON.stringify(await run(7))); } catch (e) { console.log(e.message); }"#;

    // Against the real records server: typed records in, typed records out.
    let real = runtime(dir.path(), &["records"]).await;
    let result = run(&real, code, &Limits::default()).await;
    assert_ok(&result);
    let value: Value = serde_json::from_str(result.stdout.trim()).expect(&result.stdout);
    assert_eq!((value["id"].as_i64(), value["sum"].as_i64()), (Some(7), Some(42)));

    // `get_record` now takes a string id: the skill does not load, and says
    // which tool and field changed.
    let changed = records_with_id("string").skill_folders(vec![dir.path().to_path_buf()]).build().await.unwrap();
    let result = run(&changed, code, &Limits::default()).await;
    assert_ok(&result);
    let message = result.stdout.trim();
    assert!(message.starts_with("skill 'record-sum': records.get_record argument.id"), "{message}");
    assert!(message.contains("s64") && message.contains("string"), "{message}");
    assert_eq!(result.stats.tool_calls, 0, "nothing ran");
}

#[tokio::test]
async fn a_component_skill_cannot_import_what_the_skill_world_does_not_offer() {
    // A component importing `airlock:runtime/components` ran itself, nine
    // deep, each instance holding the whole memory cap and a pool slot.
    let dir = tempfile::tempdir().unwrap();
    install(dir.path(), "nesting", &airlock_fixtures::nesting_skill());
    install(dir.path(), "limits", &airlock_fixtures::limits_skill());
    let runtime = runtime(dir.path(), &[]).await;
    let code = r#"import { runSkill } from "airlock";
        try { console.log(await runSkill("nesting", "limits")); } catch (e) { console.log(e.message); }"#;
    let result = run(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(result.stdout.starts_with("skill 'nesting': "), "{}", result.stdout);
    assert!(result.stdout.contains("airlock:runtime/components"), "{}", result.stdout);
    // The runtime goes on serving.
    let counted = run(
        &runtime,
        r#"import { runSkill } from "airlock"; console.log(JSON.stringify(await runSkill("limits", { count: 3 })));"#,
        &Limits::default(),
    )
    .await;
    assert_eq!(counted.stdout, "{\"calls\":0,\"sum\":3}\n");
}
