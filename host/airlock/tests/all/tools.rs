//! In-process tools through `callTool`: results, errors and concurrency.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::support::{assert_ok, builder, run_js};
use airlock::{Limits, ToolDefinition, ToolError};
use serde_json::{Value, json};

#[tokio::test]
async fn results_and_errors_reach_the_code() {
    let runtime = builder()
        .tool("crm", ToolDefinition::new("find"), |args: Value| async move {
            Ok(json!({ "customers": [{ "id": args["id"], "email": "a@b.c" }] }))
        })
        .tool("crm", ToolDefinition::new("broken"), |_: Value| async {
            Err(ToolError::Failed("database is down".into()))
        })
        .build()
        .await
        .unwrap();
    let code = r#"
        import { callTool, ToolError } from "airlock";
        const { customers } = await callTool("crm", "find", { id: 7 });
        console.log(customers[0].id, customers[0].email);
        for (const [server, tool] of [["crm", "broken"], ["crm", "nope"], ["nope", "x"]]) {
            try { await callTool(server, tool, {}) } catch (e) {
                console.log(e instanceof ToolError, e.kind, e.message, e.server, e.tool);
            }
        }
        await callTool("crm", "broken", {});"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    let lines: Vec<&str> = result.stdout.lines().collect();
    assert_eq!(lines[0], "7 a@b.c");
    assert_eq!(lines[1], "true failed database is down crm broken");
    assert!(lines[2].starts_with("true not-found server 'crm' has no tool 'nope'"), "{}", lines[2]);
    assert!(lines[3].starts_with("true not-found no server 'nope'"), "{}", lines[3]);
    // An uncaught tool error fails the execution as a ToolError.
    match &result.error {
        Some(airlock::ExecutionError::Exception { name, message, .. }) => {
            assert_eq!(name, "ToolError");
            // Uncaught, it names the call and the kind.
            assert_eq!(message, "crm.broken failed (failed): database is down");
        }
        other => panic!("expected the uncaught ToolError, got {other:?}"),
    }
}

#[tokio::test]
async fn bad_arguments_never_reach_the_tool() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let runtime = builder()
        .tool("local", ToolDefinition::new("count"), move |_: Value| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok(json!(null)) }
        })
        .build()
        .await
        .unwrap();
    let code = r#"
        import { callTool } from "airlock";
        for (const args of [[1], "x", null, 5]) {
            try { await callTool("local", "count", args) } catch (e) { console.log(e.name) }
        }"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, "TypeError\nTypeError\nTypeError\nTypeError\n");
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn promise_all_runs_tool_calls_concurrently_on_the_host() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (current, highest) = (in_flight.clone(), peak.clone());
    let runtime = builder()
        .tool("slow", ToolDefinition::new("get"), move |args: Value| {
            let (current, highest) = (current.clone(), highest.clone());
            async move {
                let now = current.fetch_add(1, Ordering::SeqCst) + 1;
                highest.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                current.fetch_sub(1, Ordering::SeqCst);
                Ok(json!({ "id": args["id"] }))
            }
        })
        .build()
        .await
        .unwrap();
    let code = r#"
        import { callTool } from "airlock";
        const ids = Array.from({ length: 20 }, (_, i) => i);
        const rows = await Promise.all(ids.map((id) => callTool("slow", "get", { id })));
        console.log(rows.map((r) => r.id).join(","));"#;
    let result = run_js(&runtime, code, &Limits::default()).await;
    assert_ok(&result);
    assert_eq!(result.stdout, format!("{}\n", (0..20).map(|i| i.to_string()).collect::<Vec<_>>().join(",")));
    assert_eq!(result.stats.tool_calls, 20);
    // All twenty were in flight at once: one batch, run concurrently.
    assert_eq!(peak.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn draining_lets_running_executions_finish_and_refuses_new_ones() {
    let entered = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let (on_enter, on_release) = (entered.clone(), release.clone());
    let runtime = builder()
        .tool("gate", ToolDefinition::new("wait"), move |_: Value| {
            let (on_enter, on_release) = (on_enter.clone(), on_release.clone());
            async move {
                on_enter.notify_one();
                on_release.notified().await;
                Ok(json!("released"))
            }
        })
        .build()
        .await
        .unwrap();
    let session = Arc::new(runtime.session().unwrap());
    let running = tokio::spawn({
        let session = session.clone();
        async move {
            let code = r#"import { callTool } from "airlock"; console.log(await callTool("gate", "wait", {}));"#;
            session.execute(code, airlock::Language::JavaScript).await
        }
    });
    entered.notified().await;

    // The drain waits for the running execution; one asked for after it
    // started waits too, and is then refused.
    let mut drain = Box::pin(runtime.drain());
    assert!(futures_poll_once(drain.as_mut()).await.is_none(), "drained while an execution was running");
    let mut late = Box::pin(session.execute("console.log('late')", airlock::Language::JavaScript));
    assert!(futures_poll_once(late.as_mut()).await.is_none(), "a new execution started during the drain");
    release.notify_one();
    drain.await;
    let finished = running.await.unwrap().expect("the running execution finishes");
    assert_ok(&finished);
    assert_eq!(finished.stdout, "released\n");
    assert!(matches!(late.await, Err(airlock::Error::ShuttingDown)));

    // The session counted what it ran.
    let stats = session.stats();
    assert_eq!((stats.executions, stats.failed, stats.tool_calls), (1, 0, 1));
}

/// Polls `future` once: `Some` with its output if it was ready.
async fn futures_poll_once<F: std::future::Future + ?Sized>(future: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match future.as_mut().poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
