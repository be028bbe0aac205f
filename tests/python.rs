//! Python agent code (the Monty guest) through the embedding API: the
//! scenarios the JavaScript tests cover, written in Python, against the real
//! servers and under every limit.

use std::time::Duration;

use airlock::{ExecutionError, Language, Limit, Limits, Runtime};
use airlock_tests::{assert_ok, builder, customers_runtime, local_tools_runtime, run_in, run_py, runtime_with};
use serde_json::{Value, json};

fn lines(result: &airlock::ExecutionResult) -> Vec<&str> {
    result.stdout.lines().collect()
}

#[tokio::test]
async fn filtering_a_large_real_server_result() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from servers import records
page = records.list_records(limit=10000)
rows = page["records"]
pending = [r for r in rows if r["status"] == "pending" and r["amount"] > 1000]
print(page["total"], len(rows), len(pending) > 0, all(r["status"] == "pending" for r in pending))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "10000 10000 True True\n");
    assert_eq!(result.stats.tool_calls, 1);
    runtime.shutdown().await;
}

#[tokio::test]
async fn every_import_form_against_real_servers() {
    let runtime = runtime_with(&["records", "time"], json!(null)).await;
    let code = r#"
from servers import records, time
import servers.records as r
from servers.records import add, echo_text
now = time.get_current_time(timezone="UTC")
print(add(a=2, b=40), echo_text(text="plain text"), now["timezone"], type(now["datetime"]).__name__, r.get_record(id=7)["id"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "42 plain text UTC str 7\n");
    runtime.shutdown().await;
}

#[tokio::test]
async fn tool_errors_are_caught_with_their_kinds() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import tool_error_kind
from servers import records
attempts = [
    lambda: records.fail(message="boom"),
    lambda: records.get_record(id=99999999),
    lambda: records.get_record(id="seven"),
    lambda: records.get_record(),
]
for attempt in attempts:
    try:
        attempt()
        print("no error")
    except ToolError as e:
        print(tool_error_kind(e), "|", e)
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let lines = lines(&result);
    assert!(lines[0].starts_with("failed | ") && lines[0].contains("boom"), "{}", lines[0]);
    assert!(lines[1].starts_with("failed | ") && lines[1].contains("99999999"), "{}", lines[1]);
    assert!(lines[2].starts_with("invalid-arguments | "), "{}", lines[2]);
    assert!(lines[3].starts_with("invalid-arguments | ") && lines[3].contains("id"), "{}", lines[3]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn an_uncaught_tool_error_names_its_kind_and_line() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let result =
        run_py(&runtime, "from servers import records\n\nrecords.fail(message='boom')\n", &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Exception { name, message, stack }) => {
            assert_eq!(name, "ToolError");
            assert!(message.contains("failed") && message.contains("boom"), "{message}");
            assert!(stack.as_deref().unwrap_or("").contains("line 3"), "{stack:?}");
        }
        other => panic!("expected a ToolError, got {other:?}"),
    }
    runtime.shutdown().await;
}

#[tokio::test]
async fn a_crashed_server_is_unavailable_then_restarted() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import tool_error_kind
from servers import records
before = records.pid()
try:
    records.crash()
except ToolError as e:
    print(tool_error_kind(e))
print(before != records.pid(), records.add(a=1, b=1))
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(lines(&result), ["unavailable", "True 2"]);
    runtime.shutdown().await;
}

#[tokio::test]
async fn gathered_calls_are_in_flight_together_on_the_server() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
import asyncio
from servers import records
records.reset_concurrency()

async def main():
    return await asyncio.gather(*[records.sleep(ms=200, id=i) for i in range(20)])

results = asyncio.run(main())
stats = records.concurrency()
print(",".join(str(r["id"]) for r in results), stats["calls"], stats["peak"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    let ids: Vec<String> = (0..20).map(|i| i.to_string()).collect();
    assert_eq!(result.stdout, format!("{} 20 20\n", ids.join(",")));
    runtime.shutdown().await;
}

#[tokio::test]
async fn personal_data_round_trips_as_tokens() {
    let inbox = tempfile::tempdir().unwrap();
    let runtime = customers_runtime(inbox.path()).await;
    let code = r#"
from servers import customers
c = customers.get_customer(id=1)
print(c["email"], c["full_name"])
customers.send_message(to=c["email"], text="hello " + c["full_name"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "[EMAIL_1] [PERSON_1]\n");
    let received: Value =
        serde_json::from_str(std::fs::read_to_string(inbox.path().join("messages.jsonl")).unwrap().trim()).unwrap();
    assert_eq!(received, json!({"to": "ivan.1@example.com", "text": "hello Ivan Petrov"}));
    runtime.shutdown().await;
}

#[tokio::test]
async fn the_final_expression_is_the_value_and_errors_name_their_line() {
    let runtime = builder().build().await.unwrap();
    let session = runtime.session().unwrap();
    let code = "x = {'b': 1, 'a': [1.5, None, True], 'é': 'ü'}\nprint(x)\nx";
    let value = run_in(&session, code, Language::Python, &Limits::default()).await;
    assert_ok(&value);
    assert_eq!(value.stdout, "{'b': 1, 'a': [1.5, None, True], 'é': 'ü'}\n");
    assert_eq!(value.value, json!({"b": 1, "a": [1.5, null, true], "é": "ü"}));

    let thrown =
        run_in(&session, "print('before')\n\nraise ValueError('bad input')\n", Language::Python, &Limits::default())
            .await;
    assert_eq!(thrown.stdout, "before\n");
    match &thrown.error {
        Some(ExecutionError::Exception { name, message, stack }) => {
            assert_eq!((name.as_str(), message.as_str()), ("ValueError", "bad input"));
            assert!(stack.as_deref().unwrap_or("").contains("line 3"), "{stack:?}");
        }
        other => panic!("expected ValueError, got {other:?}"),
    }
    let syntax = run_in(&session, "def f(:\n  pass\n", Language::Python, &Limits::default()).await;
    match &syntax.error {
        Some(ExecutionError::Exception { name, .. }) => assert_eq!(name, "SyntaxError"),
        other => panic!("expected SyntaxError, got {other:?}"),
    }
}

#[tokio::test]
async fn search_tools_shows_python_signatures() {
    let runtime = runtime_with(&["records"], json!(null)).await;
    let code = r#"
from airlock import search_tools
found = search_tools("add two numbers", "full", 1)
print(found[0]["name"])
print(found[0]["declaration"])
"#;
    let result = run_py(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert!(result.stdout.starts_with("records.add\n"), "{}", result.stdout);
    assert!(result.stdout.contains("def add(*, a: int, b: int) -> int:"), "{}", result.stdout);
    runtime.shutdown().await;
}

/// Runs Python `code`, expects `limit`, then checks the runtime still
/// serves JavaScript as well as Python.
async fn expect_limit(runtime: &Runtime, code: &str, limits: Limits, limit: Limit) -> airlock::ExecutionResult {
    let result = airlock_tests::expect_limit(runtime, Language::Python, code, limits, limit).await;
    let session = runtime.session().unwrap();
    let js = run_in(&session, "console.log('js too')", Language::JavaScript, &Limits::default()).await;
    assert_eq!(js.stdout, "js too\n");
    result
}

#[tokio::test]
async fn an_infinite_loop_runs_out_of_fuel() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: 50_000_000, ..Limits::default() };
    let result = expect_limit(&runtime, "while True:\n    pass\n", limits, Limit::Fuel).await;
    assert_eq!(result.stats.fuel_used, 50_000_000);
}

#[tokio::test]
async fn an_infinite_loop_hits_the_deadline() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { fuel: u64::MAX, timeout: Duration::from_millis(200), ..Limits::default() };
    expect_limit(&runtime, "while True:\n    pass\n", limits, Limit::Timeout).await;
}

#[tokio::test]
async fn the_deadline_covers_a_slow_tool_call() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { timeout: Duration::from_millis(200), ..Limits::default() };
    let result = expect_limit(
        &runtime,
        "from servers import local\nlocal.slow()\nprint('unreachable')\n",
        limits,
        Limit::Timeout,
    )
    .await;
    assert_eq!(result.stdout, "");
}

#[tokio::test]
async fn a_memory_bomb_hits_the_memory_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { memory_bytes: 64 << 20, ..Limits::default() };
    let code = "chunks = []\nwhile True:\n    chunks.append('x' * 1000000)\n";
    let result = expect_limit(&runtime, code, limits, Limit::Memory).await;
    assert!(result.stats.peak_memory <= 64 << 20, "{}", result.stats.peak_memory);
}

#[tokio::test]
async fn an_output_flood_is_cut_at_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { stdout_bytes: 10_000, ..Limits::default() };
    let result = expect_limit(&runtime, "while True:\n    print('x' * 100)\n", limits, Limit::Output).await;
    assert!(result.stdout.len() <= 10_000 + 200, "{}", result.stdout.len());
}

#[tokio::test]
async fn too_many_tool_calls_hit_the_cap() {
    let runtime = local_tools_runtime().await;
    let limits = Limits { tool_calls: 5, ..Limits::default() };
    let code = "from servers import local\nfor i in range(10):\n    local.echo(i=i)\n";
    let result = expect_limit(&runtime, code, limits, Limit::ToolCalls).await;
    assert_eq!(result.stats.tool_calls, 5);
}

#[tokio::test]
async fn unbounded_recursion_is_a_recursion_error() {
    let runtime = local_tools_runtime().await;
    let code = "def f(n):\n    return f(n + 1)\n\nf(0)\n";
    let result = run_py(&runtime, code, &Limits::default()).await;
    match &result.error {
        Some(ExecutionError::Exception { name, .. }) => assert_eq!(name, "RecursionError"),
        other => panic!("expected RecursionError, got {other:?}"),
    }
    let next = run_py(&runtime, "print('still serving')", &Limits::default()).await;
    assert_eq!(next.stdout, "still serving\n");
}
